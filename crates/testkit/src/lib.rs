//! What Bulwark's integration tests share, so no crate copies it: data
//! directories initialised with a cheap KDF ([`dir`]), principals with given
//! scopes ([`principal`]), the real `bulwark` binary run as a command or a
//! server ([`process`]), an HTTP client on `ureq` ([`http`]), waits that end at
//! a deadline ([`wait`]), a test store's web server on loopback ([`shop`]), generated customers
//! ([`people`]) and shop databases built from them on the real MariaDB
//! ([`shopdb`]), and the shared reference material beside the repository
//! ([`shared`]).
//!
//! Test code may unwrap: a fixture that cannot be built is a failed test.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod dir;
pub mod http;
pub mod operators;
pub mod people;
pub mod principal;
pub mod process;
pub mod shared;
pub mod shop;
pub mod shopdb;
pub mod wait;

pub use dir::{cheap_kdf, reopen, secret, sqlite, tempdir, StoreFixture, PASS};
pub use http::{http, http_raw, parse_response, Reply};
pub use operators::{enrolled_operator, legal_operator, OPERATOR_PASSWORD};
pub use principal::principal;
pub use process::{
    output_within, read_line_within, stderr, stdout, Bulwark, Server, COMMAND_DEADLINE,
};
pub use shared::shared;
pub use shop::Shop;
pub use wait::wait_until;
