//! Alerts: detections stored for people to act on. Repeats of the same rule for
//! the same group (e.g. the same source address) within the de-duplication
//! window extend one alert instead of flooding the list.

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

use crate::error::Result;
use crate::{Pending, Store, StoreError};

/// A detection to record. `group_key` is empty for single-event rules, in which
/// case the de-duplication key is the rule alone.
#[derive(Debug, Clone)]
pub struct NewAlert {
    pub rule_id: String,
    pub rule_title: String,
    pub level: String,
    pub group_key: Vec<(String, String)>,
    /// Event time of the detection (not the wall clock), Unix ms.
    pub seen_ms: i64,
    /// Key fields of the matching event.
    pub fields: Vec<(String, String)>,
    /// Where the event came from: `events` (API), `vault` (reveals), a file name…
    pub source: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Alert {
    pub id: i64,
    pub rule_id: String,
    pub rule_title: String,
    pub level: String,
    /// The correlation group: field → value (empty for single-event rules).
    pub group_key: BTreeMap<String, String>,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub count: i64,
    /// Key fields of the latest matching event.
    pub fields: BTreeMap<String, String>,
    pub source: String,
}

#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// Only alerts at or above this level (informational < low < medium < high < critical).
    pub min_level: Option<String>,
    pub rule_id: Option<String>,
    pub since_ms: Option<i64>,
    pub after_id: Option<i64>,
    pub limit: usize,
    /// Drill runs' alerts too (source `drill:<run>`); hidden by default.
    pub include_drills: bool,
}

pub const LEVELS: [&str; 5] = ["informational", "low", "medium", "high", "critical"];

fn level_rank(level: &str) -> usize {
    LEVELS.iter().position(|l| *l == level).unwrap_or(2)
}

fn pairs_json(p: &[(String, String)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = p
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    serde_json::Value::Object(map).to_string()
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Alert> {
    let parse = |col: usize, s: String| {
        serde_json::from_str::<BTreeMap<String, String>>(&s).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, Box::new(e))
        })
    };
    Ok(Alert {
        id: r.get(0)?,
        rule_id: r.get(1)?,
        rule_title: r.get(2)?,
        level: r.get(3)?,
        group_key: parse(4, r.get(4)?)?,
        first_seen_ms: r.get(5)?,
        last_seen_ms: r.get(6)?,
        count: r.get(7)?,
        fields: parse(8, r.get(8)?)?,
        source: r.get(9)?,
    })
}

/// Why alerts could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum AlertQueryError {
    #[error("invalid input: {0}")]
    Invalid(#[from] crate::ValidationErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Records detections; returns, per detection, its alert id and whether the
    /// alert is new (not folded into an existing one). New alerts go to the ledger.
    pub fn record_alerts(
        &self,
        detections: Vec<NewAlert>,
        window_ms: i64,
    ) -> Pending<Vec<(i64, bool)>> {
        self.writer()
            .submit(move |ctx| insert_alerts(ctx, &detections, window_ms))
    }

    pub fn alerts(&self, f: &AlertFilter) -> Result<Vec<Alert>, AlertQueryError> {
        let min_rank = match &f.min_level {
            Some(l) if !LEVELS.contains(&l.as_str()) => {
                let mut e = crate::ValidationErrors::default();
                e.push(
                    "level",
                    "expected informational, low, medium, high or critical",
                );
                return Err(AlertQueryError::Invalid(e));
            }
            Some(l) => level_rank(l),
            None => 0,
        };
        let levels: Vec<&str> = LEVELS[min_rank..].to_vec();
        let levels = serde_json::to_string(&levels)
            .map_err(|e| StoreError::corrupt(format!("alert levels: {e}")))?;
        self.read_with(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, rule_id, rule_title, level, group_key, first_seen_ms, last_seen_ms, count, fields, source
                 FROM alerts
                 WHERE id > ?1 AND (?2 IS NULL OR rule_id = ?2) AND (?3 IS NULL OR last_seen_ms >= ?3)
                   AND level IN (SELECT value FROM json_each(?4))
                   AND (?6 OR source NOT LIKE 'drill:%')
                 ORDER BY id LIMIT ?5",
            )?;
            let rows = stmt.query_map(
                params![
                    f.after_id.unwrap_or(0),
                    f.rule_id,
                    f.since_ms,
                    levels,
                    f.limit.clamp(1, 10_000) as i64,
                    f.include_drills
                ],
                from_row,
            )?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}

/// Records detections inside a writer job (see [`Store::record_alerts`]); the
/// tail checkpoint job calls it in the same transaction as the checkpoint.
pub(crate) fn insert_alerts(
    ctx: &mut crate::WriteCtx<'_>,
    detections: &[NewAlert],
    window_ms: i64,
) -> Result<Vec<(i64, bool)>> {
    let mut new_ids = Vec::new();
    for d in detections {
        let group = pairs_json(&d.group_key);
        let existing: Option<(i64, i64)> = ctx
            .main
            .prepare_cached(
                // A drill's alerts fold only into the same run's, real ones only into real ones.
                "SELECT id, last_seen_ms FROM alerts WHERE rule_id = ?1 AND group_key = ?2
                   AND CASE WHEN ?3 LIKE 'drill:%' THEN source = ?3 ELSE source NOT LIKE 'drill:%' END
                 ORDER BY last_seen_ms DESC LIMIT 1",
            )?
            .query_row(params![d.rule_id, group, d.source], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match existing {
            Some((id, last)) if (d.seen_ms - last).abs() <= window_ms => {
                new_ids.push((id, false));
                ctx.main.execute(
                    "UPDATE alerts SET count = count + 1,
                         first_seen_ms = min(first_seen_ms, ?2), last_seen_ms = max(last_seen_ms, ?2),
                         fields = ?3
                     WHERE id = ?1",
                    params![id, d.seen_ms, pairs_json(&d.fields)],
                )?;
            }
            _ => {
                ctx.main.execute(
                    "INSERT INTO alerts (rule_id, rule_title, level, group_key, first_seen_ms, last_seen_ms,
                                         count, fields, source, created_at_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5, 1, ?6, ?7, ?8)",
                    params![d.rule_id, d.rule_title, d.level, group, d.seen_ms, pairs_json(&d.fields), d.source, ctx.now_ms],
                )?;
                let id = ctx.main.last_insert_rowid();
                ctx.ledger(
                    "system:detect",
                    "alert.raised",
                    &format!("alert:{id}"),
                    serde_json::json!({"rule_id": d.rule_id, "rule_title": d.rule_title, "level": d.level, "source": d.source}),
                )?;
                new_ids.push((id, true));
            }
        }
    }
    Ok(new_ids)
}
