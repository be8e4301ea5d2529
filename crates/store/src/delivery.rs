//! What the letters page shows of a notice version: one sample letter per
//! shape (stand-ins for the name and code, never a customer's values) and the
//! delivery of the letters per jurisdiction with the recent send rate.

use std::collections::BTreeMap;

use bulwark_notice::{RenderedLetter, Stencil};
use rusqlite::params;
use serde::Serialize;

use crate::error::Result;
use crate::Store;

/// One letter shape of a version, filled with placeholders.
#[derive(Debug, Clone, Serialize)]
pub struct SampleLetter {
    pub stencil: i64,
    pub jurisdiction: String,
    pub letters: u64,
    pub letter: RenderedLetter,
}

/// Letters of one jurisdiction by delivery state.
#[derive(Debug, Clone, Default, Serialize)]
pub struct JurisdictionDelivery {
    pub jurisdiction: String,
    /// state → count, every version and channel of the incident.
    pub states: BTreeMap<String, u64>,
    /// Letters still to go out: queued, sending, retry.
    pub pending: u64,
    pub delivered: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Delivery {
    pub jurisdictions: Vec<JurisdictionDelivery>,
    /// Letters sent (or printed) in the window before `now`.
    pub sent_recently: u64,
    pub window_ms: i64,
}

impl Store {
    /// A sample of each letter shape of `version`, with `[name]` and `[code]`
    /// where the customer's name and enrolment code go.
    pub fn notice_samples(&self, incident: u64, version: u32) -> Result<Vec<SampleLetter>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT s.stencil, s.jurisdiction, s.language, s.template, s.subject, s.text, s.html,
                        (SELECT count(*) FROM outbox o WHERE o.incident_id = s.incident_id AND o.version = s.version AND o.stencil = s.stencil)
                 FROM notice_stencils s WHERE s.incident_id = ?1 AND s.version = ?2 ORDER BY s.jurisdiction, s.stencil",
            )?;
            let rows = stmt.query_map(params![incident as i64, version], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    RenderedLetter {
                        language: r.get(2)?,
                        template: r.get(3)?,
                        subject: r.get(4)?,
                        text: r.get(5)?,
                        html: r.get(6)?,
                    },
                    r.get::<_, i64>(7)? as u64,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (stencil, jurisdiction, letter, letters) = row?;
                let stencil_letter = Stencil::from_letter(letter.clone());
                // A stencil that does not fill is refused at sending too; show it raw.
                let letter = stencil_letter
                    .fill(Some("[customer name]"), Some("[enrolment code]"))
                    .unwrap_or(letter);
                out.push(SampleLetter {
                    stencil,
                    jurisdiction,
                    letters,
                    letter,
                });
            }
            Ok(out)
        })
    }

    /// The incident's letters per jurisdiction and state, and how many went
    /// out in the `window_ms` before `now_ms` (the current send rate).
    pub fn notice_delivery(&self, incident: u64, now_ms: i64, window_ms: i64) -> Result<Delivery> {
        self.read(|c| {
            let mut by: BTreeMap<String, JurisdictionDelivery> = BTreeMap::new();
            let mut stmt = c.prepare(
                "SELECT jurisdiction, state, count(*) FROM outbox WHERE incident_id = ?1
                 AND state != 'superseded' GROUP BY jurisdiction, state",
            )?;
            let mut rows = stmt.query([incident as i64])?;
            while let Some(r) = rows.next()? {
                let (j, state, n): (String, String, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
                let d = by.entry(j.clone()).or_insert_with(|| JurisdictionDelivery {
                    jurisdiction: j,
                    ..Default::default()
                });
                let n = n as u64;
                match state.as_str() {
                    "queued" | "sending" | "retry" => d.pending += n,
                    "sent" | "printed" => d.delivered += n,
                    _ => {}
                }
                d.states.insert(state, n);
            }
            let sent_recently: i64 = c.query_row(
                "SELECT count(*) FROM outbox WHERE incident_id = ?1 AND state IN ('sent', 'printed') AND sent_ms >= ?2",
                params![incident as i64, now_ms - window_ms],
                |r| r.get(0),
            )?;
            Ok(Delivery {
                jurisdictions: by.into_values().collect(),
                sent_recently: sent_recently as u64,
                window_ms,
            })
        })
    }
}
