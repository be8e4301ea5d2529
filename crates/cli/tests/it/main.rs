//! The CLI's integration tests: the real `bulwark` binary, as a command and as
//! a server, against real data directories (one test binary for the crate).

mod common;

mod access_review;
mod cli;
mod compliance;
mod crash;
mod detection;
mod discover;
mod drill;
mod evidence;
mod hunt;
mod import;
mod incident;
mod incident_e2e;
mod law;
mod ledger;
mod live;
mod logs;
mod notices;
mod pagewatch;
mod plan;
mod scope_asset;
mod scope_db;
mod tail;
mod training;
