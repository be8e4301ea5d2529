//! Data directories for tests, initialised with the cheapest KDF the vault
//! accepts (argon2id at its minimum), so a test spends milliseconds, not a
//! second, unlocking.

use std::path::{Path, PathBuf};

use bulwark_store::{init, Store};
use bulwark_vault::{KdfParams, UnlockSecret};
use zeroize::Zeroizing;

/// The passphrase every test data directory is made with.
pub const PASS: &str = "correct horse battery staple";

pub fn cheap_kdf() -> KdfParams {
    KdfParams {
        memory_kib: KdfParams::MIN_MEMORY_KIB,
        iterations: 1,
        lanes: 1,
    }
}

pub fn secret(passphrase: &str) -> UnlockSecret {
    UnlockSecret::passphrase(Zeroizing::new(passphrase.to_owned())).unwrap()
}

/// A fresh temporary directory and the (not yet existing) data directory in it.
pub fn tempdir() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    (t, d)
}

/// An initialised, unlocked store in a temporary directory.
pub struct StoreFixture {
    pub _tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pub store: Store,
    pub admin_key: String,
}

impl StoreFixture {
    pub fn new() -> StoreFixture {
        let (tmp, dir) = tempdir();
        let out = init(&dir, &secret(PASS), cheap_kdf(), "operator:test").unwrap();
        let store = Store::open(&dir, Some(&secret(PASS))).unwrap();
        StoreFixture {
            _tmp: tmp,
            dir,
            store,
            admin_key: out.admin_key.to_string(),
        }
    }
}

impl Default for StoreFixture {
    fn default() -> Self {
        StoreFixture::new()
    }
}

/// Opens a test data directory again (unlocked).
pub fn reopen(dir: &Path) -> Store {
    Store::open(dir, Some(&secret(PASS))).unwrap()
}

/// The SQLite file `file` of a data directory, opened directly (to tamper with it).
pub fn sqlite(dir: &Path, file: &str) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join(file)).unwrap()
}
