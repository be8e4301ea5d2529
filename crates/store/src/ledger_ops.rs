//! The ledger as stored in `bulwark.db`: checkpoints signed with the keyring's
//! key, and verification that streams the table through the pure verifier.

use bulwark_ledger::{verify_with_progress, Checkpoint, Entry, Hash, VerifyError};
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::error::{Result, StoreError};
use crate::{Pending, Store};

/// The outcome of a successful verification.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LedgerStatus {
    pub entries: u64,
    pub head_seq: u64,
    pub head_hash: String,
    pub checkpoints_checked: usize,
    pub against_external: bool,
}

fn to_hash(bytes: Vec<u8>, seq: i64) -> rusqlite::Result<Hash> {
    let arr: [u8; 32] = bytes.try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            7,
            rusqlite::types::Type::Blob,
            format!("ledger entry {seq}: hash is not 32 bytes").into(),
        )
    })?;
    Ok(Hash(arr))
}

/// Why the ledger did not verify. `Tampered` is the finding an auditor needs:
/// the chain (or a checkpoint) does not hold; the rest are failures to check.
#[derive(Debug, thiserror::Error)]
pub enum VerifyLedgerError {
    #[error("the ledger does not verify: {0}")]
    Tampered(#[source] VerifyError<rusqlite::Error>),
    #[error("the external checkpoint was signed by a different key than this ledger's: the keyring's public key was replaced, or the checkpoint belongs to another data directory")]
    ForeignCheckpoint,
    #[error("stored checkpoint at entry {seq} is unreadable: {source}")]
    BadCheckpoint {
        seq: i64,
        source: bulwark_ledger::CheckpointParseError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn read_checkpoints(c: &Connection) -> Result<Vec<Checkpoint>, VerifyLedgerError> {
    let rows: Vec<(i64, String)> = (|| -> rusqlite::Result<_> {
        let mut stmt = c.prepare("SELECT seq, checkpoint FROM ledger_checkpoints ORDER BY seq")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
        rows.collect()
    })()
    .map_err(StoreError::from)?;
    let mut out = Vec::new();
    for (seq, text) in rows {
        out.push(
            Checkpoint::from_json(&text)
                .map_err(|source| VerifyLedgerError::BadCheckpoint { seq, source })?,
        );
    }
    Ok(out)
}

/// The ledger's public key as recorded in `keys.db` (readable without unlocking).
fn public_key(c: &Connection) -> Result<[u8; 32]> {
    let record = crate::load_keyring_record_from(c, "keys.keyring")?;
    let bytes = hex::decode(&record.signing_public)
        .map_err(|_| StoreError::corrupt("the keyring's public key is not hex"))?;
    bytes
        .try_into()
        .map_err(|_| StoreError::corrupt("the keyring's public key is not 32 bytes"))
}

impl Store {
    /// Records an operator event (a plan rendered, a review held) in the ledger.
    pub fn record_event(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        details: serde_json::Value,
    ) -> Pending<u64> {
        let (actor, action, subject) = (actor.to_owned(), action.to_owned(), subject.to_owned());
        self.writer()
            .submit(move |ctx| ctx.ledger(&actor, &action, &subject, details))
    }

    /// Signs the current head with the keyring's ledger key and stores the checkpoint.
    pub fn checkpoint(&self) -> Result<Pending<Checkpoint>> {
        let store = self.clone();
        self.keyring()?;
        Ok(self.writer().submit(move |ctx| {
            let head = *ctx.ledger_head();
            let kr = store.keyring_read()?;
            let cp = Checkpoint::sign(&head, ctx.now_ms, kr.signing_key());
            ctx.main.execute(
                "INSERT INTO ledger_checkpoints (seq, checkpoint) VALUES (?1, ?2)
                 ON CONFLICT (seq) DO UPDATE SET checkpoint = excluded.checkpoint",
                rusqlite::params![head.seq as i64, cp.to_json_pretty()],
            )?;
            Ok(cp)
        }))
    }

    pub fn latest_checkpoint(&self) -> Result<Option<Checkpoint>> {
        self.read(|c| {
            let text: Option<String> = c
                .query_row(
                    "SELECT checkpoint FROM ledger_checkpoints ORDER BY seq DESC LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            text.map(|t| {
                Checkpoint::from_json(&t)
                    .map_err(|e| StoreError::corrupt(format!("the newest ledger checkpoint: {e}")))
            })
            .transpose()
        })
    }

    /// Ledger head (seq) without verifying.
    pub fn ledger_len(&self) -> Result<u64> {
        self.read(|c| {
            Ok(
                c.query_row("SELECT coalesce(max(seq), 0) FROM ledger", [], |r| {
                    r.get::<_, i64>(0)
                })? as u64,
            )
        })
    }

    /// Replays the whole ledger: every hash, every link, every stored checkpoint,
    /// and `external` (an off-box checkpoint) if given. A tampered ledger is
    /// [`VerifyLedgerError::Tampered`] naming the first bad entry.
    pub fn verify_ledger(
        &self,
        external: Option<&Checkpoint>,
        progress: impl FnMut(u64),
    ) -> Result<LedgerStatus, VerifyLedgerError> {
        self.read_with(|c| {
            let key = public_key(c)?;
            let mut checkpoints = read_checkpoints(c)?;
            if let Some(ext) = external {
                if ext.public_key != key {
                    return Err(VerifyLedgerError::ForeignCheckpoint);
                }
                checkpoints.push(ext.clone());
            }
            let mut stmt = c.prepare(
                "SELECT seq, at_ms, actor, action, subject, details, prev_hash, hash FROM ledger ORDER BY seq",
            ).map_err(StoreError::from)?;
            let rows = stmt.query_map([], |r| {
                let seq: i64 = r.get(0)?;
                Ok(Entry {
                    seq: seq as u64,
                    at_ms: r.get(1)?,
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    subject: r.get(4)?,
                    details: r.get(5)?,
                    prev_hash: to_hash(r.get(6)?, seq)?,
                    hash: to_hash(r.get(7)?, seq)?,
                })
            }).map_err(StoreError::from)?;
            match verify_with_progress(rows, &checkpoints, Some(&key), progress) {
                Ok(report) => Ok(LedgerStatus {
                    entries: report.entries_checked,
                    head_seq: report.last_seq,
                    head_hash: report.head_hash.to_string(),
                    checkpoints_checked: report.checkpoints_checked,
                    against_external: external.is_some(),
                }),
                Err(VerifyError::Read { source, .. }) => Err(StoreError::Sqlite(source).into()),
                Err(tamper) => Err(VerifyLedgerError::Tampered(tamper)),
            }
        })
    }
}
