//! notice's integration tests (one test binary for the crate).

mod plan;
mod render;
