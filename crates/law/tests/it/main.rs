//! law's integration tests (one test binary for the crate).

mod corrections;
mod lint;
mod obligations;
