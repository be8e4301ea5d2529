//! "Was I affected?": for customers found by a lookup, the incidents whose
//! newest scope names them, which of their elements were exposed, and the
//! letters they were sent. No personal value: ids, elements, states, times.

use rusqlite::params;
use serde::Serialize;
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::Store;

#[derive(Debug, Clone, Serialize)]
pub struct Letter {
    pub version: u32,
    pub channel: String,
    pub state: String,
    pub sent_ms: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Exposure {
    pub customer: Uuid,
    pub incident: u64,
    pub title: String,
    pub scope_version: u32,
    pub elements: Vec<String>,
    pub letters: Vec<Letter>,
}

impl Store {
    /// Where `customers` were exposed, newest incident first.
    pub fn exposure(&self, customers: &[Uuid]) -> Result<Vec<Exposure>> {
        self.read(|c| {
            let mut out = Vec::new();
            // The newest snapshot per incident; a text match first so only
            // snapshots that can name the customer are parsed.
            let mut snaps = c.prepare_cached(
                "SELECT s.incident_id, s.version, s.customers, i.title FROM scope_snapshots s
                 JOIN incidents i ON i.id = s.incident_id
                 WHERE s.version = (SELECT max(version) FROM scope_summaries x WHERE x.incident_id = s.incident_id)
                   AND instr(s.customers, ?1) > 0
                 ORDER BY s.incident_id DESC",
            )?;
            let mut letters = c.prepare_cached(
                "SELECT o.version, o.channel,
                        CASE WHEN v.state = 'approved' THEN o.state ELSE 'awaiting approval' END, o.sent_ms
                 FROM outbox o JOIN notice_versions v ON v.incident_id = o.incident_id AND v.version = o.version
                 WHERE o.customer_id = ?1 AND o.incident_id = ?2 AND v.state IN ('draft', 'approved')
                 ORDER BY o.version, o.channel",
            )?;
            for id in customers {
                let key = id.to_string();
                let rows = snaps.query_map([&key], |r| {
                    Ok((
                        r.get::<_, i64>(0)? as u64,
                        r.get::<_, u32>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                })?;
                for row in rows {
                    let (incident, version, body, title) = row?;
                    let list: Vec<serde_json::Value> = serde_json::from_str(&body)
                        .map_err(|e| StoreError::corrupt(format!("incident {incident} scope: {e}")))?;
                    let Some(entry) = list.iter().find(|e| e["id"] == key.as_str()) else {
                        continue;
                    };
                    let elements = entry["elements"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|e| e.as_str().map(str::to_owned))
                        .collect();
                    let sent = letters
                        .query_map(params![key, incident as i64], |r| {
                            Ok(Letter {
                                version: r.get(0)?,
                                channel: r.get(1)?,
                                state: r.get(2)?,
                                sent_ms: r.get(3)?,
                            })
                        })?
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    out.push(Exposure {
                        customer: *id,
                        incident,
                        title,
                        scope_version: version,
                        elements,
                        letters: sent,
                    });
                }
            }
            Ok(out)
        })
    }
}
