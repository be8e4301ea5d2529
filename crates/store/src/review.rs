//! The audit page's reads and the access review's sign-off: recent ledger
//! entries (operator activity), and the periodic review of API keys in
//! which each stale grant is kept or revoked with a reason and the whole is
//! signed off by a named operator (PCI DSS 7.2.4), recorded in the ledger.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::validate::ValidationErrors;
use crate::{Pending, Store, StoreError};

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

/// A decision on one key in the review.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyDecision {
    pub key: String,
    pub decision: ReviewDecision,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AccessReviewError {
    #[error("invalid input: {0}")]
    Invalid(#[from] ValidationErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
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

    /// Signs off an access review: keys marked `revoke` are revoked, and the
    /// decisions (each with its reason) are one ledger entry by `actor`.
    /// Returns the number of keys revoked.
    pub fn sign_off_access_review(
        &self,
        decisions: Vec<KeyDecision>,
        actor: &str,
    ) -> Pending<usize, AccessReviewError> {
        let actor = actor.to_owned();
        self.writer().submit(move |ctx| {
            let mut e = ValidationErrors::default();
            if decisions.is_empty() {
                e.push("decisions", "the review has no decision");
            }
            for (i, d) in decisions.iter().enumerate() {
                if d.reason.trim().is_empty() || d.reason.len() > 2000 {
                    e.push(format!("decisions[{i}].reason"), "a reason of 1 to 2,000 characters");
                }
            }
            e.into_result()?;
            let mut revoked = 0;
            for d in decisions.iter().filter(|d| d.decision == ReviewDecision::Revoke) {
                revoked += ctx.main.execute(
                    "UPDATE api_keys SET revoked_at_ms = ?2, revoked_by = ?3 WHERE id = ?1 AND revoked_at_ms IS NULL",
                    params![d.key.trim_start_matches("key:"), ctx.now_ms, actor],
                )?;
            }
            ctx.ledger(
                &actor,
                "access_review.signed_off",
                "api_keys",
                serde_json::json!({"decisions": decisions, "revoked": revoked}),
            )?;
            Ok(revoked)
        })
    }
}
