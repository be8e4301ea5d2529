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
                "SELECT o.jurisdiction, o.state, count(*) FROM outbox o
                 JOIN notice_versions v ON v.incident_id = o.incident_id AND v.version = o.version
                 WHERE o.incident_id = ?1 AND v.state = 'approved' AND o.state != 'superseded'
                 GROUP BY o.jurisdiction, o.state",
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

impl Store {
    /// What the review report needs beyond the incident: the newest scope as
    /// figures, and each obligation with where its notices stand (letters to
    /// individuals from the outbox; other recipients as pending, since their
    /// notices are sent outside Bulwark).
    pub fn review_summaries(
        &self,
        id: u64,
    ) -> std::result::Result<
        (
            Option<bulwark_incident::ScopeSummary>,
            Option<bulwark_incident::NotificationSummary>,
        ),
        crate::IncidentReadError,
    > {
        let Some((_, summary)) = self.latest_scope(id)? else {
            return Ok((None, None));
        };
        let counts = |k: &str| -> BTreeMap<String, u64> {
            summary[k]
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)))
                        .collect()
                })
                .unwrap_or_default()
        };
        let by_element = counts("by_element")
            .into_iter()
            .filter_map(|(k, v)| Some((k.parse().ok()?, v)))
            .collect();
        let basis = match summary["source"].as_str() {
            Some("access_log") => "vault access log (exact)",
            Some("asset") => "asset inventory (estimate)",
            Some("database") => "the compromised system's own database (exact)",
            Some("import") => "imported list",
            _ => "scope snapshot",
        };
        let scope = bulwark_incident::ScopeSummary {
            customers: summary["customers"].as_u64().unwrap_or_else(|| {
                summary["affected"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|g| g["count"].as_u64()).sum())
                    .unwrap_or(0)
            }),
            by_element,
            by_jurisdiction: counts("by_jurisdiction"),
            basis: basis.to_owned(),
        };
        let Some((_, scenario)) = self.incident_scenario(id)? else {
            return Ok((Some(scope), None));
        };
        let catalogue = self.dir().laws().map_err(crate::StoreError::from)?;
        let Ok(eval) = bulwark_law::evaluate(&catalogue, &scenario) else {
            return Ok((Some(scope), None));
        };
        let now = crate::writer::now_ms();
        let delivery = self.notice_delivery(id, now, 0)?;
        let rows = eval
            .obligations
            .iter()
            .map(|o| {
                let status = if o.recipient == bulwark_law::Recipient::Individuals {
                    match delivery
                        .jurisdictions
                        .iter()
                        .find(|d| d.jurisdiction == o.jurisdiction)
                    {
                        Some(d) if d.pending == 0 && d.delivered > 0 => {
                            format!("sent ({} letters)", d.delivered)
                        }
                        Some(d) => format!(
                            "{} of {} letters sent",
                            d.delivered,
                            d.delivered + d.pending
                        ),
                        None => "not started".to_owned(),
                    }
                } else {
                    "pending (sent outside Bulwark)".to_owned()
                };
                bulwark_incident::NotificationRow {
                    recipient: o.recipient.code().replace('_', " "),
                    jurisdiction: o.jurisdiction.clone(),
                    citation: o.citation.clone(),
                    deadline: o.deadline.or(o.recommended_target),
                    status,
                    done_at: None,
                }
            })
            .collect();
        Ok((
            Some(scope),
            Some(bulwark_incident::NotificationSummary { rows }),
        ))
    }
}
