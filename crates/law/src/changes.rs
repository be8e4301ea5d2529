//! What changed in the catalogue since a date, for counsel to read: the
//! amendments that took effect, what reviews changed in the files, and which
//! files were reviewed. Read from the files themselves (`amendments`,
//! `changelog`, `last_reviewed`), so it works on any data directory's
//! overrides and needs no version control.

use serde::Serialize;
use time::Date;

use crate::schema::Law;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// The law itself changed (an act took effect).
    Amendment,
    /// A review changed what the file encodes.
    Catalogue,
    /// The file was reviewed against its sources.
    Review,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    #[serde(serialize_with = "iso_date")]
    pub date: Date,
    pub law: String,
    pub kind: ChangeKind,
    /// For an amendment, the act.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub act: Option<String>,
    pub summary: String,
}

fn iso_date<S: serde::Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(d)
}

use bulwark_model::parse_date as day;

/// Everything dated `since` or later, oldest first (then by law). Entries with
/// a malformed date are skipped: `laws lint` reports them.
pub fn changes<'a>(laws: impl IntoIterator<Item = &'a Law>, since: Date) -> Vec<Change> {
    let mut out = Vec::new();
    for law in laws {
        for a in &law.amendments {
            if let Some(d) = day(&a.effective).filter(|d| *d >= since) {
                out.push(Change {
                    date: d,
                    law: law.id.clone(),
                    kind: ChangeKind::Amendment,
                    act: Some(a.act.clone()),
                    summary: a.summary.clone(),
                });
            }
        }
        for r in &law.changelog {
            if let Some(d) = day(&r.date).filter(|d| *d >= since) {
                out.push(Change {
                    date: d,
                    law: law.id.clone(),
                    kind: ChangeKind::Catalogue,
                    act: None,
                    summary: r.summary.clone(),
                });
            }
        }
        if let Some(d) = day(&law.last_reviewed).filter(|d| *d >= since) {
            out.push(Change {
                date: d,
                law: law.id.clone(),
                kind: ChangeKind::Review,
                act: None,
                summary: law
                    .review_notes
                    .clone()
                    .unwrap_or_else(|| "reviewed (no notes)".into()),
            });
        }
    }
    out.sort_by(|a, b| (a.date, &a.law, a.kind).cmp(&(b.date, &b.law, b.kind)));
    out
}
