//! The store's fixtures: the shared kit, and a customer document.

use bulwark_store::NewCustomer;
pub use bulwark_testkit::{
    cheap_kdf, principal, reopen, secret, sqlite, StoreFixture as Fixture, PASS,
};

/// An initialised, unlocked store in a temporary directory.
pub fn fixture() -> Fixture {
    Fixture::new()
}

pub fn customer(json: serde_json::Value) -> NewCustomer {
    serde_json::from_value(json).unwrap()
}
