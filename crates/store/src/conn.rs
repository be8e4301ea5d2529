//! Opening SQLite connections with the settings durability depends on.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Result, StoreError};

/// Every acknowledged write is on disk: WAL with `synchronous=FULL` fsyncs the
/// log on each commit. Group commit (see `writer`) keeps that affordable.
/// Savepoint sub-journals (one savepoint per writer job) stay in memory: they
/// only serve rolling back a failed job, and on disk they cost a write per page.
/// A 64 MiB page cache keeps the indexes keyed by random ids (customers,
/// access log, outbox) in memory during bulk writes.
fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL;
         PRAGMA synchronous=FULL;
         PRAGMA foreign_keys=ON;
         PRAGMA secure_delete=ON;
         PRAGMA temp_store=MEMORY;
         PRAGMA cache_size=-65536;",
    )?;
    Ok(())
}

pub(crate) fn open_rw(path: &Path, create: bool) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    configure(&conn)?;
    // The writer caches every statement its jobs run (more than rusqlite's
    // default 16), so none is parsed again per job.
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

/// A read connection that sees `keys.db` as schema `keys`, so one query can
/// fetch a customer's ciphertexts together with its wrapped keys.
pub(crate) fn open_reader(main: &Path, keys: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        main,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // Without the planner stability guarantee, SQLite re-prepares the reveal
    // query on every new bound id (measured: 30% of a reveal's time).
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    // Readers serve reveals: keep the hot pages in memory and read through mmap
    // rather than a pread per page.
    conn.execute_batch(
        "PRAGMA query_only=ON; PRAGMA cache_size=-32768; PRAGMA mmap_size=1073741824;",
    )?;
    conn.execute("ATTACH DATABASE ?1 AS keys", [keys.to_string_lossy()])?;
    Ok(conn)
}

/// A small pool of read connections; SQLite in WAL mode lets them read while the writer commits.
pub(crate) struct ReaderPool {
    idle: Mutex<Vec<Connection>>,
    main: std::path::PathBuf,
    keys: std::path::PathBuf,
}

impl ReaderPool {
    pub(crate) fn new(main: &Path, keys: &Path) -> ReaderPool {
        ReaderPool {
            idle: Mutex::new(Vec::new()),
            main: main.to_owned(),
            keys: keys.to_owned(),
        }
    }

    pub(crate) fn with<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Connection) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let conn = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match conn {
            Some(c) => c,
            None => open_reader(&self.main, &self.keys).map_err(E::from)?,
        };
        let out = f(&conn);
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < 16 {
                idle.push(conn);
            }
        }
        out
    }
}
