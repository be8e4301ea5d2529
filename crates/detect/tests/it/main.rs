//! detect's integration tests (one test binary for the crate).

mod correlations;
mod fast_paths;
mod modifiers;
mod robustness;
mod rule_pack;
mod sigmahq;
