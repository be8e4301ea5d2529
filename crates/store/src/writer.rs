//! The single writer with group commit.
//!
//! All writes go through one thread that owns the write connections. It takes
//! every job waiting in its queue, runs each inside its own savepoint (a failing
//! job rolls back alone), commits once, and only then answers the callers. One
//! fsync thus acknowledges a whole batch: durable writes at the rate of many
//! concurrent callers, not at the rate of the disk's fsync latency.
//!
//! Order of commits: `keys.db` first, then `bulwark.db`. A crash between the two
//! leaves only an unreferenced customer key (cleaned at start-up) or, for an
//! erasure, a customer whose key is already gone (the erasure is completed at
//! start-up). Jobs must keep that invariant (see `rewrap`).

use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{SystemTime, UNIX_EPOCH};

use bulwark_ledger::{EntryDraft, Head};
use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::oneshot;

use crate::error::{Result, StoreError};
use crate::Settings;

const MAX_BATCH: usize = 1024;

/// What a job sees: both write transactions, the batch's clock and the ledger.
pub struct WriteCtx<'a> {
    pub main: &'a Connection,
    pub keys: &'a Connection,
    pub now_ms: i64,
    head: Head,
    settings: Option<Settings>,
    shred_wal: bool,
    touched: Vec<String>,
}

impl WriteCtx<'_> {
    /// Appends an entry to the hash-chained ledger in this transaction.
    pub fn ledger(
        &mut self,
        actor: &str,
        action: &str,
        subject: &str,
        details: serde_json::Value,
    ) -> Result<u64> {
        let entry = self.head.append(EntryDraft {
            at_ms: self.now_ms,
            actor: actor.to_owned(),
            action: action.to_owned(),
            subject: subject.to_owned(),
            details: details.to_string(),
        });
        // Cached: every write appends here, and parsing the SQL each time showed in profiles.
        self.main
            .prepare_cached(
                "INSERT INTO ledger (seq, at_ms, actor, action, subject, details, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                entry.seq as i64,
                entry.at_ms,
                entry.actor,
                entry.action,
                entry.subject,
                entry.details,
                &entry.prev_hash.as_bytes()[..],
                &entry.hash.as_bytes()[..]
            ])?;
        Ok(entry.seq)
    }

    pub fn ledger_head(&self) -> &Head {
        &self.head
    }

    /// Vault settings as of this batch (read once, under the write lock).
    pub fn settings(&mut self) -> Result<Settings> {
        match self.settings {
            Some(s) => Ok(s),
            None => {
                let s = Settings::load(self.main)?;
                self.settings = Some(s);
                Ok(s)
            }
        }
    }

    /// Jobs that change settings call this so later jobs in the batch see the change.
    pub fn forget_settings(&mut self) {
        self.settings = None;
    }

    /// Marks a customer whose keys this job creates or destroys, so that a crash
    /// between the two files' commits is repaired at the next start.
    pub fn touch_keys(&mut self, customer: &str) -> Result<()> {
        self.keys
            .prepare_cached("INSERT OR IGNORE INTO pending (customer_id) VALUES (?1)")?
            .execute([customer])?;
        self.touched.push(customer.to_owned());
        Ok(())
    }

    /// Asks for `keys.db`'s write-ahead log to be emptied after commit, so
    /// destroyed customer keys do not linger in it.
    pub fn shred_keys_wal(&mut self) {
        self.shred_wal = true;
    }
}

type Completion = Box<dyn FnOnce(Option<&Arc<StoreError>>) + Send>;

/// One statement from the connection's statement cache: the savepoints
/// around every job would otherwise be parsed again each time.
fn run_cached(c: &rusqlite::Connection, sql: &str) -> rusqlite::Result<()> {
    c.prepare_cached(sql)?.execute([]).map(|_| ())
}
/// A job runs inside the batch transaction, or is told why there is none.
type Job =
    Box<dyn FnOnce(std::result::Result<&mut WriteCtx<'_>, &Arc<StoreError>>) -> Completion + Send>;

/// Handle to the writer thread; the thread stops when the handle is dropped.
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

/// A submitted write; resolves once its batch is durable (or failed). `E` is
/// the operation's own error type; infrastructure failures arrive through its
/// `From<StoreError>`.
pub struct Pending<T, E = StoreError>(oneshot::Receiver<std::result::Result<T, E>>);

impl<T, E: From<StoreError>> Pending<T, E> {
    pub async fn wait(self) -> std::result::Result<T, E> {
        self.0
            .await
            .unwrap_or_else(|_| Err(E::from(StoreError::WriterGone)))
    }

    pub fn wait_blocking(self) -> std::result::Result<T, E> {
        self.0
            .blocking_recv()
            .unwrap_or_else(|_| Err(E::from(StoreError::WriterGone)))
    }

    /// An already-decided result (nothing to write).
    pub fn ready(result: std::result::Result<T, E>) -> Pending<T, E> {
        let (tx, rx) = oneshot::channel();
        let _ = tx.send(result);
        Pending(rx)
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Writer {
    /// Also returns the thread, which ends (closing the connections) once every handle is dropped.
    pub(crate) fn start_joinable(
        main: Connection,
        keys: Connection,
    ) -> Result<(Writer, thread::JoinHandle<()>)> {
        let (tx, rx) = mpsc::channel::<Job>();
        let handle = thread::Builder::new()
            .name("bulwark-writer".into())
            .spawn(move || run(main, keys, rx))
            .map_err(StoreError::WriterStart)?;
        Ok((Writer { tx }, handle))
    }

    /// Queues `job`; it runs in the next batch and is acknowledged after commit.
    /// A job that fails rolls back alone (its savepoint) and is answered with its
    /// error; the rest of the batch commits.
    pub fn submit<T, E, F>(&self, job: F) -> Pending<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut WriteCtx<'_>) -> std::result::Result<T, E> + Send + 'static,
    {
        let (done, rx) = oneshot::channel();
        let boxed: Job = Box::new(move |ctx| {
            let ctx = match ctx {
                Ok(ctx) => ctx,
                Err(e) => {
                    let err = E::from(StoreError::Unavailable(e.clone()));
                    return Box::new(move |_: Option<&Arc<StoreError>>| {
                        let _ = done.send(Err(err));
                    }) as Completion;
                }
            };
            let head_before = ctx.head;
            let savepoint = run_cached(ctx.main, "SAVEPOINT job")
                .and_then(|_| run_cached(ctx.keys, "SAVEPOINT job"));
            if let Err(e) = savepoint {
                let err = E::from(StoreError::from(e));
                return Box::new(move |_: Option<&Arc<StoreError>>| {
                    let _ = done.send(Err(err));
                }) as Completion;
            }
            match job(ctx) {
                Ok(value) => {
                    let released = run_cached(ctx.main, "RELEASE job")
                        .and_then(|_| run_cached(ctx.keys, "RELEASE job"));
                    match released {
                        Ok(()) => Box::new(move |commit_err: Option<&Arc<StoreError>>| {
                            let _ = done.send(match commit_err {
                                None => Ok(value),
                                Some(e) => Err(E::from(StoreError::Unavailable(e.clone()))),
                            });
                        }),
                        Err(e) => {
                            let err = E::from(StoreError::from(e));
                            Box::new(move |_: Option<&Arc<StoreError>>| {
                                let _ = done.send(Err(err));
                            })
                        }
                    }
                }
                Err(err) => {
                    let _ = ctx
                        .main
                        .execute_batch("ROLLBACK TO job; RELEASE job")
                        .and_then(|_| ctx.keys.execute_batch("ROLLBACK TO job; RELEASE job"));
                    ctx.head = head_before;
                    Box::new(move |_: Option<&Arc<StoreError>>| {
                        let _ = done.send(Err(err));
                    })
                }
            }
        });
        let (fallback_tx, fallback_rx) = oneshot::channel();
        match self.tx.send(boxed) {
            Ok(()) => Pending(rx),
            Err(_) => {
                let _ = fallback_tx.send(Err(E::from(StoreError::WriterGone)));
                Pending(fallback_rx)
            }
        }
    }
}

fn read_head(main: &Connection) -> Result<Head> {
    let row = main
        .query_row(
            "SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)),
        )
        .optional()?;
    match row {
        None => Ok(Head::genesis()),
        Some((seq, hash)) => {
            let hash: [u8; 32] = hash
                .try_into()
                .map_err(|_| StoreError::Corrupt(format!("ledger entry {seq} has a bad hash")))?;
            Ok(Head {
                seq: seq as u64,
                hash: bulwark_ledger::Hash(hash),
            })
        }
    }
}

fn run(main: Connection, keys: Connection, rx: mpsc::Receiver<Job>) {
    // Customers whose cross-file writes both committed: their `pending` marks are
    // removed in the next batch (or when the writer stops).
    let mut settled: Vec<String> = Vec::new();
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        settled = run_batch(&main, &keys, batch, std::mem::take(&mut settled));
    }
    if !settled.is_empty() {
        let _ = clear_pending(&keys, &settled);
    }
}

fn clear_pending(keys: &Connection, ids: &[String]) -> rusqlite::Result<()> {
    let mut stmt = keys.prepare_cached("DELETE FROM pending WHERE customer_id = ?1")?;
    for id in ids {
        stmt.execute([id])?;
    }
    Ok(())
}

fn run_batch(
    main: &Connection,
    keys: &Connection,
    batch: Vec<Job>,
    settled: Vec<String>,
) -> Vec<String> {
    // Another process (the CLI) may have appended to the ledger: the head is read
    // under the write lock, never cached across batches.
    let begun = keys
        .execute_batch("BEGIN IMMEDIATE")
        .map_err(StoreError::from)
        .and_then(|_| {
            main.execute_batch("BEGIN IMMEDIATE").map_err(|e| {
                let _ = keys.execute_batch("ROLLBACK");
                StoreError::from(e)
            })
        })
        .and_then(|_| read_head(main));
    let head = match begun.map_err(Arc::new) {
        Ok(h) => h,
        Err(e) => {
            let _ = main.execute_batch("ROLLBACK");
            let _ = keys.execute_batch("ROLLBACK");
            // Jobs never run outside a transaction: each is answered with the error.
            for job in batch {
                job(Err(&e))(Some(&e));
            }
            return settled;
        }
    };
    // Clearing marks of the previous batch rides on this batch's keys transaction;
    // if it fails the marks stay, which only makes the next start-up check more.
    let cleared = clear_pending(keys, &settled).is_ok();
    let mut ctx = WriteCtx {
        main,
        keys,
        now_ms: now_ms(),
        head,
        settings: None,
        shred_wal: false,
        touched: Vec::new(),
    };
    let completions: Vec<Completion> = batch.into_iter().map(|job| job(Ok(&mut ctx))).collect();
    let committed = keys
        .execute_batch("COMMIT")
        .and_then(|_| main.execute_batch("COMMIT"))
        .map_err(|e| Arc::new(StoreError::from(e)));
    if committed.is_err() {
        let _ = keys.execute_batch("ROLLBACK");
        let _ = main.execute_batch("ROLLBACK");
    }
    let err = committed.err();
    if ctx.shred_wal && err.is_none() {
        let _ = keys.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    for c in completions {
        c(err.as_ref());
    }
    match err {
        None if cleared => ctx.touched,
        None => [settled, ctx.touched].concat(),
        // Nothing of this batch landed; keep the previous marks for the next try.
        Some(_) => settled,
    }
}
