//! detect's integration tests (one test binary for the crate).

mod correlations;
mod edge_cases;
mod fast_paths;
mod modifiers;
mod robustness;
mod rule_pack;
mod sigmahq;
mod weblogs;
