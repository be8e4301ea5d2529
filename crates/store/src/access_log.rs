//! The access log: who revealed or looked up what, when, why, from where, and
//! whether it was allowed. Written in the reveal's own transaction.

use rusqlite::{params, Row};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::Result;
use crate::writer::WriteCtx;
use crate::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AccessOutcome {
    Allowed,
    Denied,
    NotFound,
}

impl AccessOutcome {
    fn as_str(self) -> &'static str {
        match self {
            AccessOutcome::Allowed => "allowed",
            AccessOutcome::Denied => "denied",
            AccessOutcome::NotFound => "not_found",
        }
    }
    fn parse(s: &str) -> AccessOutcome {
        match s {
            "allowed" => AccessOutcome::Allowed,
            "not_found" => AccessOutcome::NotFound,
            _ => AccessOutcome::Denied,
        }
    }
}

pub(crate) struct NewAccess {
    pub principal: String,
    pub action: &'static str,
    pub purpose: Option<String>,
    pub customer: Option<Uuid>,
    pub elements: String,
    pub outcome: AccessOutcome,
    pub reason: Option<String>,
    pub source: Option<String>,
    pub result_count: Option<i64>,
}

/// One line of the access log.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessRecord {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub principal: String,
    pub action: String,
    pub purpose: Option<String>,
    pub customer_id: Option<String>,
    pub elements: Vec<String>,
    pub outcome: AccessOutcome,
    pub reason: Option<String>,
    pub source: Option<String>,
    pub result_count: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct AccessFilter {
    pub principal: Option<String>,
    pub customer: Option<Uuid>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// Return records with id greater than this (cursor pagination).
    pub after_id: Option<i64>,
    pub limit: usize,
}

pub(crate) fn record(ctx: &mut WriteCtx<'_>, a: &NewAccess) -> Result<i64> {
    let mut stmt = ctx.main.prepare_cached(
        "INSERT INTO access_log (at_ms, principal, action, purpose, customer_id, elements, outcome, reason, source, result_count)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    stmt.execute(params![
        ctx.now_ms,
        a.principal,
        a.action,
        a.purpose,
        a.customer.map(|c| c.to_string()),
        a.elements,
        a.outcome.as_str(),
        a.reason,
        a.source,
        a.result_count
    ])?;
    Ok(ctx.main.last_insert_rowid())
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<AccessRecord> {
    let at_ms: i64 = r.get(1)?;
    let elements: String = r.get(6)?;
    Ok(AccessRecord {
        id: r.get(0)?,
        at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        principal: r.get(2)?,
        action: r.get(3)?,
        purpose: r.get(4)?,
        customer_id: r.get(5)?,
        elements: elements
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        outcome: AccessOutcome::parse(&r.get::<_, String>(7)?),
        reason: r.get(8)?,
        source: r.get(9)?,
        result_count: r.get(10)?,
    })
}

impl Store {
    /// Access-log records matching `f`, oldest first.
    pub fn access_log(&self, f: &AccessFilter) -> Result<Vec<AccessRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, at_ms, principal, action, purpose, customer_id, elements, outcome, reason, source, result_count
                 FROM access_log
                 WHERE (?1 IS NULL OR principal = ?1)
                   AND (?2 IS NULL OR customer_id = ?2)
                   AND (?3 IS NULL OR at_ms >= ?3)
                   AND (?4 IS NULL OR at_ms < ?4)
                   AND id > ?5
                 ORDER BY id LIMIT ?6",
            )?;
            let rows = stmt.query_map(
                params![
                    f.principal,
                    f.customer.map(|c| c.to_string()),
                    f.since_ms,
                    f.until_ms,
                    f.after_id.unwrap_or(0),
                    f.limit.clamp(1, 10_000) as i64
                ],
                from_row,
            )?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}
