//! The store's integration tests against real SQLite files (one test binary).

mod access_review;
mod board;
mod common;
mod compliance;
mod training;

mod languages;
mod operators;
mod outbox;
mod pagewatch;
mod scope;
mod tail;
mod vault;
