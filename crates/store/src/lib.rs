//! Bulwark's storage shell: SQLite files in a data directory, one group-committing
//! writer, a pool of readers, and the vault operations built on them.
//!
//! - [`Store`] opens a data directory (`bulwark.db`, `keys.db`) and owns the [`Writer`].
//! - `customers` seals, stores, finds, reveals and erases customer records.
//! - `api_keys` issues, authenticates, revokes and reviews least-privilege keys.
//! - `access_log` records every reveal and refusal, in the reveal's own transaction.
//! - `ledger_ops` appends to, checkpoints and verifies the hash-chained ledger.
//! - `rotation` rotates data keys, re-wraps old ciphertexts and changes the passphrase.
#![forbid(unsafe_code)]

mod access_log;
mod access_review;
mod alerts;
mod api_keys;
mod board;
mod compliance;
mod conn;
mod customers;
mod data_dir;
mod delivery;
mod drills;
mod error;
mod evidence;
mod exposure;
mod incidents;
mod init;
mod key_cache;
mod ledger_ops;
mod notice_error;
mod notices;
#[cfg(feature = "openapi")]
mod openapi;
mod operators;
mod outbox;
mod pagewatch;
mod pagewatch_runs;
mod review;
mod rotation;
mod schema;
mod scope;
mod settings;
mod tail;
mod training;
mod validate;
mod webhooks;
mod writer;

use std::path::Path;
use std::sync::{Arc, RwLock};

use bulwark_vault::{Keyring, KeyringRecord, UnlockSecret};
use rusqlite::OptionalExtension;

pub use access_log::{AccessFilter, AccessOutcome, AccessRecord};
pub use access_review::{
    owner_roles, AccountDecision, AccountKind, ReviewItem, SignOffError, SignOffOutcome,
    INACTIVE_DAYS,
};
pub use alerts::{Alert, AlertFilter, AlertQueryError, NewAlert, LEVELS as ALERT_LEVELS};
pub use api_keys::{
    ApiKeyInfo, AuthError, CreateKeyError, KeyReview, NewApiKey, Principal, RevokeKeyError,
    UsageTracker,
};
pub use board::{Board, BoardDrills, BoardFilter, BoardRow, BoardSort};
pub use compliance::{
    Completion, CompletionDocumentError, CompletionError, CompletionRecord, DutyReport,
    LockedDocument,
};
pub use customers::{
    CustomerError, CustomerMeta, CustomerPatch, CustomerWriteError, Denial, LookupBy, LookupError,
    NewCustomer, PendingReveals, RevealError, RevealRequest, Revealed,
};
pub use data_dir::{
    builtin_rules, read_tree, rule_dir, AssetLookupError, DataDir, DataFileError, RuleFiles,
    RulePacks,
};
pub use delivery::{Delivery, JurisdictionDelivery, SampleLetter};
pub use drills::{
    drill_source, DrillAlert, DrillError, DrillMessage, DrillProgress, DrillRun, DrillState,
    FiredInject, Improvement as DrillImprovement, ImprovementError,
};
pub use error::{Result, StoreError};
pub use evidence::{
    verify_bundle, BundleReport, CustodyEvent, EvidenceError, EvidenceItem, LockedItem,
    VerifyBundleError,
};
pub use exposure::{Exposure, Letter as ExposureLetter};
pub use incidents::{
    obligation_tasks, AutoOpenError, Contain, ContainError, IncidentChangeError, IncidentReadError,
    IncidentRecord, OpenIncidentError, PublicPage, TaskChange,
};
pub use init::{init, InitOutcome};
pub use ledger_ops::{LedgerStatus, VerifyLedgerError};
pub use notice_error::{ApproveNoticesError, OutboxError, RenderNoticesError};
pub use notices::{
    ApproveOutcome, Channels, LanguageFallback, LanguageFallbackGroup, NoticeVersion, RefusalGroup,
    RenderNotices, RenderReport,
};
pub use operators::{
    EnrolError, EnrolmentView, LoginError, NewOperator, OperatorError, OperatorInfo,
    OperatorSession, PasswordChangeError, Secret, SessionError, SessionSummary, StepUpError,
    ENROLMENT_LIFETIME,
};
pub use outbox::{Claimed, OutboxStatus, SendOutcome};
pub use pagewatch::{
    NewWatchedPage, UnwatchPageError, WatchPageError, WatchedPage, MIN_EVERY_SECS, WEEKLY_SECS,
};
pub use pagewatch_runs::{
    ApproveScriptError, ApproveWhat, NewPageRun, PageInventory, PageRun, RecordRunError,
    RevokeApprovalError, StoredApproval,
};
pub use review::{LedgerRow, ReviewDecision};
pub use rotation::RewrapProgress;
pub use scope::{AffectedCustomer, ScopeQuery, ScopeQueryError, ScopeResult};
pub use scope::{ScopeBasis, ScopeSnapshot, ScopeSummary, ScopedCustomer};
pub use settings::{SetMinVersionError, Settings};
pub use tail::{TailBatch, TailCheckpoint, TailCheckpointError, TailPosition};
pub use training::{person_hash, AttemptOutcome, PhishingResult, TrainingRow, TrainingWriteError};
pub use validate::{describe_json_error, FieldError, ValidationErrors};
pub use webhooks::{AddWebhookError, Webhook, WebhookError, WebhookTarget};
pub use writer::{Pending, WriteCtx, Writer};

/// An open data directory.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    dir: DataDir,
    writer: Option<Writer>,
    writer_thread: Option<std::thread::JoinHandle<()>>,
    readers: conn::ReaderPool,
    keyring: Option<RwLock<Keyring>>,
    key_cache: key_cache::KeyCache,
    /// argon2id cost for operator passwords and recovery codes.
    password_cost: bulwark_vault::PasswordCost,
    /// A hash to verify against for unknown accounts (same work, no enumeration).
    dummy_password: std::sync::OnceLock<String>,
    /// Held shared for the store's lifetime (see `lock_store`).
    _lock: std::fs::File,
}

impl Drop for Inner {
    /// Closing a store waits until the writer has finished and closed its
    /// connections, so the files are quiet when `drop` returns. The last handle
    /// may be dropped by a job on the writer thread itself; that thread is not joined.
    fn drop(&mut self) {
        self.writer.take();
        if let Some(t) = self.writer_thread.take() {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

impl Store {
    /// Opens an initialised data directory. Without `secret` the store is locked:
    /// keys, access log, lockdown and ledger verification work; customer data does not.
    pub fn open(dir: &Path, secret: Option<&UnlockSecret>) -> Result<Store> {
        let dir = DataDir::new(dir);
        let (main_path, keys_path) = (dir.main_db(), dir.keys_db());
        if !dir.is_initialised() {
            return Err(StoreError::NotInitialised(dir.root().display().to_string()));
        }
        let (lock, alone) = lock_store(&dir.store_lock())?;
        // Versioned steps first (MAIN's indexes may name the columns they
        // add), then the additive changes (new tables, indexes), whose
        // statements are idempotent.
        let migrated = {
            let mut main = conn::open_rw(&main_path, false)?;
            let migrated = schema::migrate(&mut main)?;
            main.execute_batch(schema::MAIN)?;
            board::backfill(&main)?;
            migrated
        };
        conn::open_rw(&keys_path, false)?.execute_batch(schema::KEYS)?;
        let repaired = if alone {
            reconcile(&main_path, &keys_path)?
        } else {
            (0, 0)
        };
        if alone {
            let _ = lock.unlock();
        }
        lock.lock_shared().map_err(|source| StoreError::Io {
            path: dir.store_lock().display().to_string(),
            source,
        })?;
        let main = conn::open_rw(&main_path, false)?;
        let keys = conn::open_rw(&keys_path, false)?;
        let version: Option<String> = main
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let found = version.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        if found != schema::SCHEMA_VERSION {
            return Err(StoreError::SchemaVersion {
                found,
                known: schema::SCHEMA_VERSION,
            });
        }
        let keyring = match secret {
            None => None,
            Some(secret) => {
                let record = load_keyring_record(&keys)?;
                Some(RwLock::new(Keyring::open(&record, secret)?))
            }
        };
        let password_cost = password_cost(&keys)?;
        let (writer, writer_thread) = Writer::start_joinable(main, keys)?;
        let store = Store {
            inner: Arc::new(Inner {
                readers: conn::ReaderPool::new(&main_path, &keys_path),
                writer: Some(writer),
                writer_thread: Some(writer_thread),
                keyring,
                key_cache: key_cache::KeyCache::new(200_000),
                password_cost,
                dummy_password: std::sync::OnceLock::new(),
                _lock: lock,
                dir,
            }),
        };
        store.record_reconcile(repaired)?;
        store.record_migration(migrated)?;
        Ok(store)
    }

    pub fn dir(&self) -> &DataDir {
        &self.inner.dir
    }

    pub fn writer(&self) -> &Writer {
        match &self.inner.writer {
            Some(w) => w,
            None => unreachable!("the writer is only taken when the store is dropped"),
        }
    }

    pub fn is_unlocked(&self) -> bool {
        self.inner.keyring.is_some()
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> Result<T>) -> Result<T> {
        self.inner.readers.with(f)
    }

    /// The unlocked keyring, for changing.
    pub(crate) fn keyring_write(&self) -> Result<std::sync::RwLockWriteGuard<'_, Keyring>> {
        self.keyring()?
            .write()
            .map_err(|_| StoreError::corrupt("the keyring lock is poisoned"))
    }

    /// [`Store::read`] for reads that answer with an operation's own error.
    pub(crate) fn read_with<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.inner.readers.with(f)
    }

    pub(crate) fn password_cost(&self) -> bulwark_vault::PasswordCost {
        self.inner.password_cost
    }

    /// A valid argon2id hash of nothing anyone knows, at the store's cost.
    pub(crate) fn dummy_password_hash(&self) -> &str {
        self.inner.dummy_password.get_or_init(|| {
            bulwark_vault::hash_password(
                "no account has this password",
                self.inner.password_cost,
                &mut rand::rngs::OsRng,
            )
            .unwrap_or_default()
        })
    }

    pub(crate) fn inner_key_cache(&self) -> &key_cache::KeyCache {
        &self.inner.key_cache
    }

    pub(crate) fn keyring(&self) -> Result<&RwLock<Keyring>> {
        self.inner.keyring.as_ref().ok_or(StoreError::Locked)
    }

    /// The unlocked keyring, for reading.
    pub(crate) fn keyring_read(&self) -> Result<std::sync::RwLockReadGuard<'_, Keyring>> {
        self.keyring()?
            .read()
            .map_err(|_| StoreError::corrupt("the keyring lock is poisoned"))
    }

    /// Picks up data-key versions another process (the CLI) added since we unlocked.
    pub(crate) fn refresh_keyring(&self) -> Result<()> {
        let lock = self.keyring()?;
        let record = self.read(|c| load_keyring_record_from(c, "keys.keyring"))?;
        // Unchanged is the common case: compare under the shared lock, so
        // threads sealing at once do not queue on the exclusive one.
        if lock
            .read()
            .map_err(|_| StoreError::corrupt("the keyring lock is poisoned"))?
            .record()
            == &record
        {
            return Ok(());
        }
        let mut kr = lock
            .write()
            .map_err(|_| StoreError::corrupt("the keyring lock is poisoned"))?;
        if kr.record() != &record {
            kr.absorb(&record)?;
        }
        Ok(())
    }

    /// Records in the ledger what start-up reconciliation repaired.
    fn record_migration(&self, migrated: Option<(i64, i64)>) -> Result<()> {
        let Some((from, to)) = migrated else {
            return Ok(());
        };
        self.writer()
            .submit(move |ctx| {
                ctx.ledger(
                    "system",
                    "store.migrated",
                    "store",
                    serde_json::json!({"from_schema_version": from, "schema_version": to}),
                )?;
                Ok(())
            })
            .wait_blocking()
    }

    fn record_reconcile(&self, repaired: (usize, usize)) -> Result<()> {
        if repaired == (0, 0) {
            return Ok(());
        }
        self.writer()
            .submit(move |ctx| {
                ctx.ledger(
                    "system",
                    "store.reconciled",
                    "",
                    serde_json::json!({"orphan_keys_removed": repaired.0, "erasures_completed": repaired.1}),
                )?;
                Ok(())
            })
            .wait_blocking()
    }
}

/// Finishes what a crash between the two databases' commits left half done, for
/// the customers whose keys a job touched (`keys.pending`, cleared once both files
/// committed): keys whose customer never landed (an unacknowledged create) are
/// dropped, and customers whose keys are gone (an interrupted erasure) are erased.
/// Runs only under the exclusive store lock, i.e. with no other process mid-commit.
fn reconcile(main_path: &Path, keys_path: &Path) -> Result<(usize, usize)> {
    let conn = conn::open_rw(main_path, false)?;
    conn.execute("ATTACH DATABASE ?1 AS keys", [keys_path.to_string_lossy()])?;
    let pending: Vec<String> = {
        let mut stmt = conn.prepare("SELECT customer_id FROM keys.pending")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let (mut orphans, mut erased) = (0usize, 0usize);
    for id in &pending {
        let customer: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM customers WHERE id = ?1)",
            [id],
            |r| r.get(0),
        )?;
        let keyless: bool = conn.query_row(
            "SELECT NOT EXISTS (SELECT 1 FROM keys.customer_keys WHERE customer_id = ?1)
                 OR EXISTS (SELECT 1 FROM customer_fields f WHERE f.customer_id = ?1 AND NOT EXISTS
                      (SELECT 1 FROM keys.customer_keys k WHERE k.customer_id = f.customer_id AND k.version = f.key_version))",
            [id],
            |r| r.get(0),
        )?;
        if !customer {
            orphans += conn.execute(
                "DELETE FROM keys.customer_keys WHERE customer_id = ?1",
                [id],
            )?;
        } else if keyless {
            conn.execute(
                "DELETE FROM keys.customer_keys WHERE customer_id = ?1",
                [id],
            )?;
            customers::delete_rows(&conn, id)?;
            erased += 1;
        }
        conn.execute("DELETE FROM keys.pending WHERE customer_id = ?1", [id])?;
    }
    Ok((orphans, erased))
}

/// Every process holds `store.lock` shared while it has the store open; start-up
/// repair takes it exclusively first, so it never runs beside another writer.
fn lock_store(path: &Path) -> Result<(std::fs::File, bool)> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|source| StoreError::Io {
            path: path.display().to_string(),
            source,
        })?;
    let alone = file.try_lock().is_ok();
    Ok((file, alone))
}

/// Operator passwords cost what the data directory's own argon2id costs, capped
/// at OWASP's recommendation: a directory made with a cheap KDF (tests) hashes
/// passwords cheaply too; one unlocked by a key file uses the recommendation.
fn password_cost(keys: &rusqlite::Connection) -> Result<bulwark_vault::PasswordCost> {
    let record = load_keyring_record(keys)?;
    let best = bulwark_vault::PasswordCost::default();
    Ok(match record.unlock {
        bulwark_vault::UnlockMethod::Passphrase { params, .. } => bulwark_vault::PasswordCost {
            memory_kib: params.memory_kib.min(best.memory_kib),
            iterations: params.iterations.clamp(1, best.iterations),
        },
        bulwark_vault::UnlockMethod::KeyFile { .. } => best,
    })
}

pub(crate) fn load_keyring_record(keys: &rusqlite::Connection) -> Result<KeyringRecord> {
    load_keyring_record_from(keys, "keyring")
}

pub(crate) fn load_keyring_record_from(
    conn: &rusqlite::Connection,
    table: &str,
) -> Result<KeyringRecord> {
    let text: String = conn
        .prepare_cached(&format!("SELECT record FROM {table} WHERE id = 1"))?
        .query_row([], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::Corrupt("keys.db holds no keyring".into()))?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("keyring record: {e}")))
}
