//! notice's integration tests (one test binary for the crate).

mod languages;
mod pdf;
mod plan;
mod render;
