//! incident's integration tests (one test binary for the crate).

mod common;

mod autoopen;
mod investigate;
mod lifecycle;
mod playbooks;
mod review;
