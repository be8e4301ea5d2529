//! law's integration tests (one test binary for the crate).

mod lint;
mod obligations;
