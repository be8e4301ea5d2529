//! pagewatch's integration tests (one test binary for the crate).

mod csp;
mod fuzz;
mod indicators;
mod inventory;
mod rules;
