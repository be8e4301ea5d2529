//! Principals as the store sees an authenticated caller.

use bulwark_model::{Scope, Scopes};
use bulwark_store::Principal;

/// `key:test` holding exactly `scopes` (grant text as in the API: `vault:reveal:email`).
pub fn principal(scopes: &[&str]) -> Principal {
    Principal {
        id: "key:test".into(),
        name: "test".into(),
        key_id: None,
        scopes: Scopes::new(scopes.iter().map(|s| s.parse::<Scope>().unwrap())),
    }
}
