//! ledger's integration tests (one test binary for the crate).

mod verify;
