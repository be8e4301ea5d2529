//! Checkpoints of followed log files (`bulwark tail`, `serve --watch`): how far
//! each path was read, advanced in the same transaction as the alerts its lines
//! raised, so that after a crash the lines past the checkpoint are read again
//! and nothing they raised was committed — every line's alerts exactly once.

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

use crate::alerts::insert_alerts;
use crate::error::Result;
use crate::{NewAlert, Pending, Store, StoreError};

/// Where a followed file was read up to (the tailer's position, as stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TailPosition {
    /// `len:sha256-hex` of the file's first bytes.
    pub fingerprint: String,
    /// `device:inode` when it was read (a hint).
    pub file_id: Option<String>,
    /// Bytes read (of the decompressed text for a gzip'd file).
    pub offset: u64,
    /// Lines read: the next is `line + 1`.
    pub line: u64,
}

/// A followed path's checkpoint and what was read of it in all.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TailCheckpoint {
    pub path: String,
    pub position: TailPosition,
    /// Lines processed, over every file the path has named.
    pub lines_read: u64,
    /// Of those, lines that could not be parsed (or were too long).
    pub malformed: u64,
    /// Detections those lines raised (repeats fold into alerts).
    pub detections: u64,
    pub updated_at_ms: i64,
}

/// One processed batch of a followed file: its detections and the new checkpoint.
#[derive(Debug, Clone)]
pub struct TailBatch {
    /// The followed path (absolute), the checkpoint's key.
    pub path: String,
    /// The checkpoint this batch continues from, as this follower last stored
    /// or read it (`None`: there was none). If the stored one is not this, the
    /// batch is refused: another follower moved it, or an earlier batch failed.
    pub after: Option<TailPosition>,
    pub position: TailPosition,
    pub lines: u64,
    pub malformed: u64,
    pub alerts: Vec<NewAlert>,
}

/// Why a batch's checkpoint was not advanced (and its alerts not recorded).
#[derive(Debug, thiserror::Error)]
pub enum TailCheckpointError {
    #[error("the checkpoint of {path} is not where this follower left it (another process follows it, or an earlier batch failed)")]
    Moved { path: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for TailCheckpointError {
    fn from(e: rusqlite::Error) -> Self {
        TailCheckpointError::Store(StoreError::from(e))
    }
}

const COLUMNS: &str =
    "path, fingerprint, file_id, offset, line, lines_read, malformed, detections, updated_at_ms";

fn from_row(r: &Row<'_>) -> rusqlite::Result<TailCheckpoint> {
    Ok(TailCheckpoint {
        path: r.get(0)?,
        position: TailPosition {
            fingerprint: r.get(1)?,
            file_id: r.get(2)?,
            offset: r.get::<_, i64>(3)? as u64,
            line: r.get::<_, i64>(4)? as u64,
        },
        lines_read: r.get::<_, i64>(5)? as u64,
        malformed: r.get::<_, i64>(6)? as u64,
        detections: r.get::<_, i64>(7)? as u64,
        updated_at_ms: r.get(8)?,
    })
}

fn as_sql(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Store {
    /// The checkpoint of `path`, if it was ever followed.
    pub fn tail_checkpoint(&self, path: &str) -> Result<Option<TailCheckpoint>> {
        self.read_with(|c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM tail_checkpoints WHERE path = ?1"
            ))?
            .query_row([path], from_row)
            .optional()?)
        })
    }

    /// Every followed path's checkpoint, by path.
    pub fn tail_checkpoints(&self) -> Result<Vec<TailCheckpoint>> {
        self.read_with(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM tail_checkpoints ORDER BY path"
            ))?;
            let rows = stmt.query_map([], from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Records a batch's alerts and advances its path's checkpoint, in one
    /// transaction: both or neither. Returns, per alert, its id and whether it is
    /// new (as [`Store::record_alerts`]). Batches of one path must be submitted
    /// in order; each names the checkpoint it follows (`after`), so a batch
    /// behind a failed one is refused rather than skipping the failed one's lines.
    pub fn record_tail_batch(
        &self,
        batch: TailBatch,
        window_ms: i64,
    ) -> Pending<Vec<(i64, bool)>, TailCheckpointError> {
        self.writer().submit(move |ctx| {
            let stored: Option<TailPosition> = ctx
                .main
                .prepare_cached(
                    "SELECT fingerprint, file_id, offset, line FROM tail_checkpoints WHERE path = ?1",
                )?
                .query_row([&batch.path], |r| {
                    Ok(TailPosition {
                        fingerprint: r.get(0)?,
                        file_id: r.get(1)?,
                        offset: r.get::<_, i64>(2)? as u64,
                        line: r.get::<_, i64>(3)? as u64,
                    })
                })
                .optional()?;
            if stored != batch.after {
                return Err(TailCheckpointError::Moved { path: batch.path });
            }
            let ids = insert_alerts(ctx, &batch.alerts, window_ms)?;
            let p = &batch.position;
            ctx.main
                .prepare_cached(
                    "INSERT INTO tail_checkpoints (path, fingerprint, file_id, offset, line,
                                               lines_read, malformed, detections, updated_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (path) DO UPDATE SET
                     fingerprint = excluded.fingerprint, file_id = excluded.file_id,
                     offset = excluded.offset, line = excluded.line,
                     lines_read = lines_read + excluded.lines_read,
                     malformed = malformed + excluded.malformed,
                     detections = detections + excluded.detections,
                     updated_at_ms = excluded.updated_at_ms",
                )?
                .execute(params![
                    batch.path,
                    p.fingerprint,
                    p.file_id,
                    as_sql(p.offset),
                    as_sql(p.line),
                    as_sql(batch.lines),
                    as_sql(batch.malformed),
                    batch.alerts.len() as i64,
                    ctx.now_ms
                ])?;
            Ok(ids)
        })
    }
}
