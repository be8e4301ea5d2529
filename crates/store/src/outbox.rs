//! The outbox: letters of approved versions claimed, delivered and recorded.
//! A letter is sent at most once and, barring the one ambiguous case below,
//! exactly once. The lifecycle is [`bulwark_notice::DeliveryState`]: every
//! change here is asked of its `transition` inside the writer job, against the
//! row's state as the job reads it, and written to the ledger in the same job.
//!
//! `queued` → `sending` is committed before the SMTP transaction starts and
//! `sent` after the server accepted it. A row found in `sending` when a sender
//! starts was in flight when the previous sender died: the server may or may
//! not have accepted it. It becomes `unknown` and is not sent again
//! automatically; an operator checks the mail server's log and releases it
//! (`notices send --retry-unknown`). Only approved versions are ever claimed.

use std::collections::{BTreeMap, HashMap};

use bulwark_notice::{DeliveryEvent, DeliveryState, VersionState};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::error::{Result, StoreError};
use crate::notice_error::OutboxError;
use crate::notices::{seal_label, Personal};
use crate::{Store, WriteCtx};

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

/// What the ledger records of a letter: no personal value.
struct LetterRef {
    id: i64,
    incident: u64,
    version: u32,
    channel: String,
    jurisdiction: String,
    attempts: u32,
    state: DeliveryState,
}

const LETTER_COLUMNS: &str = "id, incident_id, version, channel, jurisdiction, attempts, state";

fn letter_ref(r: &rusqlite::Row<'_>) -> rusqlite::Result<(LetterRef, String)> {
    Ok((
        LetterRef {
            id: r.get(0)?,
            incident: r.get::<_, i64>(1)? as u64,
            version: r.get(2)?,
            channel: r.get(3)?,
            jurisdiction: r.get(4)?,
            attempts: r.get(5)?,
            state: DeliveryState::Queued,
        },
        r.get(6)?,
    ))
}

fn parse_state(id: i64, state: &str) -> Result<DeliveryState> {
    DeliveryState::parse(state)
        .ok_or_else(|| StoreError::Corrupt(format!("notice {id} has an unknown state")))
}

fn load_letter(main: &Connection, id: i64) -> Result<Option<LetterRef>> {
    let row = main
        .query_row(
            &format!("SELECT {LETTER_COLUMNS} FROM outbox WHERE id = ?1"),
            [id],
            letter_ref,
        )
        .optional()?;
    row.map(|(mut l, state)| {
        l.state = parse_state(l.id, &state)?;
        Ok(l)
    })
    .transpose()
}

/// Letters in `state`, optionally of one incident.
fn letters_in(
    main: &Connection,
    state: DeliveryState,
    incident: Option<u64>,
) -> Result<Vec<LetterRef>> {
    let mut stmt = main.prepare(&format!(
        "SELECT {LETTER_COLUMNS} FROM outbox WHERE state = ?1 AND (?2 IS NULL OR incident_id = ?2) ORDER BY id"
    ))?;
    let rows = stmt.query_map(
        params![state.as_str(), incident.map(|i| i as i64)],
        letter_ref,
    )?;
    rows.map(|r| {
        let (mut l, _) = r?;
        l.state = state;
        Ok(l)
    })
    .collect::<Result<Vec<_>>>()
}

/// The ledger entry for one letter's change from `l.state` to `to`.
fn ledger_change(
    ctx: &mut WriteCtx<'_>,
    actor: &str,
    action: &str,
    l: &LetterRef,
    to: DeliveryState,
    mut extra: serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let mut details = serde_json::json!({
        "outbox_id": l.id,
        "incident": l.incident,
        "version": l.version,
        "channel": l.channel,
        "jurisdiction": l.jurisdiction,
        "attempt": l.attempts,
        "from": l.state,
        "state": to,
    });
    if let Some(d) = details.as_object_mut() {
        d.append(&mut extra);
    }
    ctx.ledger(actor, action, &l.incident.to_string(), details)?;
    Ok(())
}

/// `'queued', 'retry'`: the states an event leaves, for a `state IN (…)`.
/// The names are the lifecycle's own identifiers, never input.
fn sql_states(moves: &[(DeliveryState, DeliveryState)]) -> String {
    moves
        .iter()
        .map(|(from, _)| format!("'{}'", from.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Who records the sender's own changes (no operator is asked for them).
const SENDER: &str = "system";

impl Store {
    /// Marks letters left in flight by a dead sender as `unknown`. Call once
    /// when a sender starts, while holding the sender lock.
    pub fn outbox_recover(&self) -> Result<usize, OutboxError> {
        let moves = DeliveryState::moves(DeliveryEvent::SenderLost);
        let n = self
            .writer()
            .submit(move |ctx| -> crate::error::Result<_> {
                let mut n = 0;
                for &(from, to) in &moves {
                    for l in letters_in(ctx.main, from, None)? {
                        ctx.main.execute(
                            "UPDATE outbox SET state = ?2, last_error = 'sender stopped during delivery; check the mail server log' WHERE id = ?1 AND state = ?3",
                            params![l.id, to.as_str(), from.as_str()],
                        )?;
                        ledger_change(ctx, SENDER, "notices.unknown", &l, to, Default::default())?;
                        n += 1;
                    }
                }
                Ok(n)
            })
            .wait_blocking()?;
        Ok(n)
    }

    /// Releases `unknown` letters of an incident for another attempt (after the
    /// operator checked they were not delivered).
    pub fn outbox_retry_unknown(&self, incident: u64, actor: &str) -> Result<usize, OutboxError> {
        let actor = actor.to_owned();
        let moves = DeliveryState::moves(DeliveryEvent::Released);
        let n = self
            .writer()
            .submit(move |ctx| -> crate::error::Result<_> {
                let mut n = 0;
                for &(from, to) in &moves {
                    for l in letters_in(ctx.main, from, Some(incident))? {
                        ctx.main.execute(
                            "UPDATE outbox SET state = ?2, next_ms = 0 WHERE id = ?1 AND state = ?3",
                            params![l.id, to.as_str(), from.as_str()],
                        )?;
                        ledger_change(ctx, &actor, "notices.released", &l, to, Default::default())?;
                        n += 1;
                    }
                }
                ctx.ledger(&actor, "notices.retry_unknown", &incident.to_string(), serde_json::json!({"count": n}))?;
                Ok(n)
            })
            .wait_blocking()?;
        Ok(n)
    }

    /// Claims the next due letter of an approved version on `channel`
    /// (optionally of one incident), durably marking it `sending`.
    pub fn outbox_claim(
        &self,
        channel: &str,
        incident: Option<u64>,
        now_ms: i64,
    ) -> Result<Option<Claimed>, OutboxError> {
        let channel_owned = channel.to_owned();
        let claimable = sql_states(&DeliveryState::moves(DeliveryEvent::Claim));
        let row: Option<RawRow> = self
            .writer()
            .submit(move |ctx| -> Result<_> {
                let row = ctx
                    .main
                    .query_row(
                        &format!(
                            "SELECT o.id, o.incident_id, o.version, o.customer_id, o.stencil, o.jurisdiction, o.personal, o.attempts, o.state
                             FROM outbox o JOIN notice_versions v ON v.incident_id = o.incident_id AND v.version = o.version
                             WHERE o.state IN ({claimable}) AND o.next_ms <= ?1 AND o.channel = ?2
                               AND v.state = ?4 AND (?3 IS NULL OR o.incident_id = ?3)
                               AND NOT EXISTS (SELECT 1 FROM drill_incidents x WHERE x.incident_id = o.incident_id)
                             ORDER BY o.id LIMIT 1"
                        ),
                        params![now_ms, channel_owned, incident.map(|i| i as i64), VersionState::Approved.as_str()],
                        |r| {
                            Ok((
                                RawRow {
                                    id: r.get(0)?,
                                    incident: r.get::<_, i64>(1)? as u64,
                                    version: r.get(2)?,
                                    customer: r.get(3)?,
                                    stencil: r.get(4)?,
                                    jurisdiction: r.get(5)?,
                                    sealed: r.get(6)?,
                                    attempts: r.get(7)?,
                                },
                                r.get::<_, String>(8)?,
                            ))
                        },
                    )
                    .optional()?;
                let Some((row, state)) = row else {
                    return Ok(Ok(None));
                };
                let from = parse_state(row.id, &state)?;
                let to = match from.transition(DeliveryEvent::Claim) {
                    Ok(to) => to,
                    Err(source) => return Ok(Err(OutboxError::Transition { id: row.id, source })),
                };
                ctx.main.execute(
                    "UPDATE outbox SET state = ?2, attempts = attempts + 1 WHERE id = ?1 AND state = ?3",
                    params![row.id, to.as_str(), from.as_str()],
                )?;
                Ok(Ok(Some(row)))
            })
            .wait_blocking()??;
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
            let kr = self.keyring_read()?;
            let plain = kr
                .open_secret(&seal_label(inc, version, &customer, channel), &sealed)
                .map_err(StoreError::from)?;
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
                    .map_err(|source| OutboxError::Letter { id, source })?
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

    /// Records what happened to a claimed letter. Durable on return. A letter
    /// that is not `sending` (another sender or an operator changed it) is
    /// refused and left as it is.
    pub fn outbox_mark(
        &self,
        id: i64,
        outcome: SendOutcome,
        message_id: Option<String>,
    ) -> Result<(), OutboxError> {
        self.writer()
            .submit(move |ctx| -> crate::error::Result<_> {
                let Some(l) = load_letter(ctx.main, id)? else {
                    return Ok(Err(OutboxError::NoSuchNotice { incident: None, id }));
                };
                let (event, error, next): (DeliveryEvent, Option<String>, i64) = match outcome {
                    SendOutcome::Sent => (DeliveryEvent::Accepted, None, 0),
                    SendOutcome::Printed => (DeliveryEvent::Printed, None, 0),
                    SendOutcome::Retry { error, next_ms } => (DeliveryEvent::Deferred, Some(error), next_ms),
                    SendOutcome::Failed { error } => (DeliveryEvent::GaveUp, Some(error), 0),
                    SendOutcome::Bounced { error } => (DeliveryEvent::Refused, Some(error), 0),
                };
                let to = match l.state.transition(event) {
                    Ok(to) => to,
                    Err(source) => return Ok(Err(OutboxError::Transition { id, source })),
                };
                let sent = matches!(to, DeliveryState::Sent | DeliveryState::Printed).then_some(ctx.now_ms);
                ctx.main.execute(
                    "UPDATE outbox SET state = ?2, last_error = ?3, next_ms = ?4, sent_ms = coalesce(?5, sent_ms), message_id = coalesce(?6, message_id) WHERE id = ?1 AND state = ?7",
                    params![id, to.as_str(), error, next, sent, message_id, l.state.as_str()],
                )?;
                // The server's reply stays out of the ledger: it may quote the recipient.
                let mut extra = serde_json::Map::new();
                if to == DeliveryState::Retry {
                    extra.insert("next_ms".into(), next.into());
                }
                let action = format!("notices.{to}");
                ledger_change(ctx, SENDER, &action, &l, to, extra)?;
                Ok(Ok(()))
            })
            .wait_blocking()?
    }

    /// Records a bounce reported after delivery (a DSN), by outbox id.
    pub fn outbox_bounce(
        &self,
        incident: u64,
        id: i64,
        reason: &str,
        actor: &str,
    ) -> Result<(), OutboxError> {
        let reason = reason.to_owned();
        let actor = actor.to_owned();
        self.writer()
            .submit(move |ctx| -> crate::error::Result<_> {
                let Some(l) = load_letter(ctx.main, id)?.filter(|l| l.incident == incident) else {
                    return Ok(Err(OutboxError::NoSuchNotice {
                        incident: Some(incident),
                        id,
                    }));
                };
                let to = match l.state.transition(DeliveryEvent::BounceReported) {
                    Ok(to) => to,
                    Err(source) => return Ok(Err(OutboxError::Transition { id, source })),
                };
                ctx.main.execute(
                    "UPDATE outbox SET state = ?2, last_error = ?3 WHERE id = ?1 AND state = ?4",
                    params![id, to.as_str(), reason, l.state.as_str()],
                )?;
                // The reason stays out of the ledger: a DSN may quote the recipient.
                let mut extra = serde_json::Map::new();
                extra.insert("reported".into(), true.into());
                ledger_change(ctx, &actor, "notices.bounced", &l, to, extra)?;
                Ok(Ok(()))
            })
            .wait_blocking()?
    }

    pub fn outbox_status(&self, incident: u64) -> Result<OutboxStatus> {
        let failing = [
            DeliveryState::Retry,
            DeliveryState::Failed,
            DeliveryState::Bounced,
            DeliveryState::Unknown,
        ];
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
                 WHERE incident_id = ?1 AND state IN (?2, ?3, ?4, ?5) ORDER BY id DESC LIMIT 20",
            )?;
            out.failures = stmt
                .query_map(
                    params![
                        incident as i64,
                        failing[0].as_str(),
                        failing[1].as_str(),
                        failing[2].as_str(),
                        failing[3].as_str()
                    ],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )?
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
