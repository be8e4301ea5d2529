//! The outbox's state machine. A letter is sent at most once and, barring the
//! one ambiguous case below, exactly once:
//!
//! `queued` → `sending` (committed before the SMTP transaction starts) → `sent`
//! (committed after the server accepted it), or `retry` (transient failure,
//! with back-off) → … → `failed` after the last attempt, or `bounced`
//! (permanent refusal, or a bounce recorded later).
//!
//! A row found in `sending` when a sender starts was in flight when the
//! previous sender died: the server may or may not have accepted it. It
//! becomes `unknown` and is not sent again automatically; an operator checks
//! the mail server's log and releases it (`notices send --retry-unknown`).
//! Only approved versions are ever claimed.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use crate::error::{Result, StoreError};
use crate::notices::{seal_label, Personal};
use crate::Store;

/// One letter claimed for delivery, personal values opened.
#[derive(Debug)]
pub struct Claimed {
    pub id: i64,
    pub incident: u64,
    pub version: u32,
    pub customer: String,
    pub channel: String,
    pub jurisdiction: String,
    pub attempts: u32,
    /// Deterministic per row, so a mail server or archive can spot a duplicate.
    pub message_id: String,
    pub to_name: Option<String>,
    pub to_email: Option<String>,
    pub postal_address: Option<String>,
    pub letter: bulwark_notice::RenderedLetter,
}

struct RawRow {
    id: i64,
    incident: u64,
    version: u32,
    customer: String,
    stencil: i64,
    jurisdiction: String,
    sealed: Vec<u8>,
    attempts: u32,
}

#[derive(Debug, Clone)]
pub enum SendOutcome {
    Sent,
    /// Transient failure; try again at `next_ms`.
    Retry {
        error: String,
        next_ms: i64,
    },
    Failed {
        error: String,
    },
    Bounced {
        error: String,
    },
    Printed,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct OutboxStatus {
    /// (version, channel) → state → count.
    pub counts: BTreeMap<String, BTreeMap<String, u64>>,
    pub total: u64,
    /// Latest failures: (outbox id, jurisdiction, state, error). No addresses.
    pub failures: Vec<(i64, String, String, String)>,
}

impl Store {
    /// Marks letters left in flight by a dead sender as `unknown`. Call once
    /// when a sender starts, while holding the sender lock.
    pub fn outbox_recover(&self) -> Result<usize> {
        self.writer()
            .submit(|ctx| {
                let n = ctx.main.execute(
                    "UPDATE outbox SET state = 'unknown', last_error = 'sender stopped during delivery; check the mail server log' WHERE state = 'sending'",
                    [],
                )?;
                if n > 0 {
                    ctx.ledger("system", "notices.unknown", "outbox", serde_json::json!({"count": n}))?;
                }
                Ok(n)
            })
            .wait_blocking()
    }

    /// Releases `unknown` letters of an incident for another attempt (after the
    /// operator checked they were not delivered).
    pub fn outbox_retry_unknown(&self, incident: u64, actor: &str) -> Result<usize> {
        let actor = actor.to_owned();
        self.writer()
            .submit(move |ctx| {
                let n = ctx.main.execute(
                    "UPDATE outbox SET state = 'retry', next_ms = 0 WHERE incident_id = ?1 AND state = 'unknown'",
                    [incident as i64],
                )?;
                ctx.ledger(&actor, "notices.retry_unknown", &incident.to_string(), serde_json::json!({"count": n}))?;
                Ok(n)
            })
            .wait_blocking()
    }

    /// Claims the next due letter of an approved version on `channel`
    /// (optionally of one incident), durably marking it `sending`.
    pub fn outbox_claim(
        &self,
        channel: &str,
        incident: Option<u64>,
        now_ms: i64,
    ) -> Result<Option<Claimed>> {
        let channel_owned = channel.to_owned();
        let row: Option<RawRow> = self
            .writer()
            .submit(move |ctx| {
                let row = ctx
                    .main
                    .query_row(
                        "SELECT o.id, o.incident_id, o.version, o.customer_id, o.stencil, o.jurisdiction, o.personal, o.attempts
                         FROM outbox o JOIN notice_versions v ON v.incident_id = o.incident_id AND v.version = o.version
                         WHERE o.state IN ('queued', 'retry') AND o.next_ms <= ?1 AND o.channel = ?2
                           AND v.state = 'approved' AND (?3 IS NULL OR o.incident_id = ?3)
                         ORDER BY o.id LIMIT 1",
                        params![now_ms, channel_owned, incident.map(|i| i as i64)],
                        |r| {
                            Ok(RawRow {
                                id: r.get(0)?,
                                incident: r.get::<_, i64>(1)? as u64,
                                version: r.get(2)?,
                                customer: r.get(3)?,
                                stencil: r.get(4)?,
                                jurisdiction: r.get(5)?,
                                sealed: r.get(6)?,
                                attempts: r.get(7)?,
                            })
                        },
                    )
                    .optional()?;
                if let Some(r) = &row {
                    ctx.main.execute(
                        "UPDATE outbox SET state = 'sending', attempts = attempts + 1 WHERE id = ?1",
                        [r.id],
                    )?;
                }
                Ok(row)
            })
            .wait_blocking()?;
        let Some(RawRow {
            id,
            incident: inc,
            version,
            customer,
            stencil,
            jurisdiction,
            sealed,
            attempts,
        }) = row
        else {
            return Ok(None);
        };
        let personal = {
            let kr = self
                .keyring()?
                .read()
                .map_err(|_| StoreError::Corrupt("keyring lock".into()))?;
            let plain = kr.open_secret(&seal_label(inc, version, &customer, channel), &sealed)?;
            let p: Personal = serde_json::from_slice(&plain)
                .map_err(|_| StoreError::Corrupt("outbox row".into()))?;
            p
        };
        let letter = match personal.letter.clone() {
            Some(l) => l,
            None => {
                let stencil = self.stencil(inc, version, stencil)?;
                bulwark_notice::Stencil::from_letter(stencil)
                    .fill(personal.name.as_deref(), personal.code.as_deref())
                    .map_err(|e| StoreError::Corrupt(format!("notice {id}: {e}")))?
            }
        };
        Ok(Some(Claimed {
            id,
            incident: inc,
            version,
            customer,
            channel: channel.to_owned(),
            jurisdiction,
            attempts: attempts + 1,
            message_id: format!("bulwark.{inc}.{version}.{id}"),
            to_name: personal.name,
            to_email: personal.email,
            postal_address: personal.address,
            letter,
        }))
    }

    fn stencil(
        &self,
        incident: u64,
        version: u32,
        stencil: i64,
    ) -> Result<bulwark_notice::RenderedLetter> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT subject, text, html, language, template FROM notice_stencils WHERE incident_id = ?1 AND version = ?2 AND stencil = ?3",
            )?;
            stmt.query_row(params![incident as i64, version, stencil], |r| {
                Ok(bulwark_notice::RenderedLetter {
                    subject: r.get(0)?,
                    text: r.get(1)?,
                    html: r.get(2)?,
                    language: r.get(3)?,
                    template: r.get(4)?,
                })
            })
            .optional()?
            .ok_or_else(|| StoreError::Corrupt("notice stencil missing".into()))
        })
    }

    /// Records what happened to a claimed letter. Durable on return.
    pub fn outbox_mark(
        &self,
        id: i64,
        outcome: SendOutcome,
        message_id: Option<String>,
    ) -> Result<()> {
        self.writer()
            .submit(move |ctx| {
                let (state, error, next): (&str, Option<String>, i64) = match outcome {
                    SendOutcome::Sent => ("sent", None, 0),
                    SendOutcome::Printed => ("printed", None, 0),
                    SendOutcome::Retry { error, next_ms } => ("retry", Some(error), next_ms),
                    SendOutcome::Failed { error } => ("failed", Some(error), 0),
                    SendOutcome::Bounced { error } => ("bounced", Some(error), 0),
                };
                let sent = matches!(state, "sent" | "printed").then_some(ctx.now_ms);
                ctx.main.execute(
                    "UPDATE outbox SET state = ?2, last_error = ?3, next_ms = ?4, sent_ms = coalesce(?5, sent_ms), message_id = coalesce(?6, message_id) WHERE id = ?1",
                    params![id, state, error, next, sent, message_id],
                )?;
                Ok(())
            })
            .wait_blocking()
    }

    /// Records a bounce reported after delivery (a DSN), by outbox id.
    pub fn outbox_bounce(&self, incident: u64, id: i64, reason: &str, actor: &str) -> Result<()> {
        let reason = reason.to_owned();
        let actor = actor.to_owned();
        self.writer()
            .submit(move |ctx| {
                let n = ctx.main.execute(
                    "UPDATE outbox SET state = 'bounced', last_error = ?3 WHERE incident_id = ?1 AND id = ?2 AND state IN ('sent', 'unknown', 'retry', 'queued')",
                    params![incident as i64, id, reason],
                )?;
                if n == 0 {
                    return Err(StoreError::Notice(format!("incident {incident} has no deliverable notice {id}")));
                }
                ctx.ledger(&actor, "notices.bounce", &incident.to_string(), serde_json::json!({"outbox_id": id}))?;
                Ok(())
            })
            .wait_blocking()
    }

    pub fn outbox_status(&self, incident: u64) -> Result<OutboxStatus> {
        self.read(|c| {
            let mut out = OutboxStatus::default();
            let mut stmt = c.prepare(
                "SELECT version, channel, state, count(*) FROM outbox WHERE incident_id = ?1 GROUP BY version, channel, state",
            )?;
            let mut rows = stmt.query([incident as i64])?;
            while let Some(r) = rows.next()? {
                let key = format!("v{} {}", r.get::<_, u32>(0)?, r.get::<_, String>(1)?);
                let n: u64 = r.get::<_, i64>(3)? as u64;
                out.total += n;
                out.counts.entry(key).or_default().insert(r.get(2)?, n);
            }
            let mut stmt = c.prepare(
                "SELECT id, jurisdiction, state, coalesce(last_error, '') FROM outbox
                 WHERE incident_id = ?1 AND state IN ('retry', 'failed', 'bounced', 'unknown') ORDER BY id DESC LIMIT 20",
            )?;
            out.failures = stmt
                .query_map([incident as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(out)
        })
    }

    /// Counts of letters by state for one incident (for tests and progress).
    pub fn outbox_counts(&self, incident: u64) -> Result<HashMap<String, u64>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT state, count(*) FROM outbox WHERE incident_id = ?1 GROUP BY state",
            )?;
            let rows = stmt.query_map([incident as i64], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}
