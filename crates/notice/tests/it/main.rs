//! notice's integration tests (one test binary for the crate).

mod pdf;
mod plan;
mod render;
