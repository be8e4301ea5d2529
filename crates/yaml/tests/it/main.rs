//! yaml's integration tests (one test binary for the crate).

mod tree;
