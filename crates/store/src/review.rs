//! The audit page's reads: recent ledger entries (operator activity), and
//! the access review's decision vocabulary (the review itself is
//! `access_review.rs`).

use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::Store;

/// One ledger entry as the audit page lists it (its details carry no
/// personal value by the ledger's own invariant).
#[derive(Debug, Clone, Serialize)]
pub struct LedgerRow {
    pub seq: u64,
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub subject: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    Keep,
    Revoke,
}

impl Store {
    /// The newest `limit` ledger entries, of actors starting with `actor_prefix`
    /// (e.g. `operator:`) when given.
    pub fn ledger_recent(&self, actor_prefix: Option<&str>, limit: u32) -> Result<Vec<LedgerRow>> {
        let like = actor_prefix.map(|p| format!("{}%", p.replace('%', "")));
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, at_ms, actor, action, subject FROM ledger
                 WHERE ?1 IS NULL OR actor LIKE ?1 ORDER BY seq DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![like, limit], |r| {
                Ok(LedgerRow {
                    seq: r.get::<_, i64>(0)? as u64,
                    at_ms: r.get(1)?,
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    subject: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}
