#![allow(dead_code)]

use std::path::{Path, PathBuf};

use bulwark_model::{Scope, Scopes};
use bulwark_store::{init, NewCustomer, Principal, Store};
use bulwark_vault::{KdfParams, UnlockSecret};
use zeroize::Zeroizing;

pub const PASS: &str = "correct horse battery staple";

pub fn cheap_kdf() -> KdfParams {
    KdfParams {
        memory_kib: KdfParams::MIN_MEMORY_KIB,
        iterations: 1,
        lanes: 1,
    }
}

pub fn secret(p: &str) -> UnlockSecret {
    UnlockSecret::passphrase(Zeroizing::new(p.to_owned())).unwrap()
}

pub struct Fixture {
    pub _tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pub store: Store,
    pub admin_key: String,
}

pub fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let out = init(&dir, &secret(PASS), cheap_kdf(), "operator:test").unwrap();
    let store = Store::open(&dir, Some(&secret(PASS))).unwrap();
    Fixture {
        _tmp: tmp,
        dir,
        store,
        admin_key: out.admin_key.to_string(),
    }
}

pub fn reopen(dir: &Path) -> Store {
    Store::open(dir, Some(&secret(PASS))).unwrap()
}

pub fn principal(scopes: &[&str]) -> Principal {
    Principal {
        id: "key:test".into(),
        name: "test".into(),
        key_id: None,
        scopes: Scopes::new(scopes.iter().map(|s| s.parse::<Scope>().unwrap())),
    }
}

pub fn customer(json: serde_json::Value) -> NewCustomer {
    serde_json::from_value(json).unwrap()
}

pub fn sqlite(dir: &Path, file: &str) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join(file)).unwrap()
}
