//! Recurring duties as data (`compliance/*.toml`) and when each falls due.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::cadence::Cadence;

/// What shows that a duty was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// A scored drill run (the plan test of PCI DSS 12.10.2).
    DrillRun,
    /// A signed-off access review.
    AccessReview,
    /// Training completions and policy acknowledgements.
    TrainingRecord,
    /// A vulnerability scan report in the evidence locker.
    ScanReport,
    /// The day's security events reviewed (alerts triaged).
    LogReview,
    /// A payment-page integrity check.
    PageCheck,
    /// Any other document in the evidence locker (minutes, a signed review).
    Document,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Duty {
    /// Stable id, unique across the files (`pci-12.10.2-plan-test`).
    pub id: String,
    pub title: String,
    /// The requirement it comes from, e.g. "PCI DSS v4.0.1 12.10.2".
    pub requirement: String,
    pub cadence: Cadence,
    /// The team role that owns it (`it`, `legal`, `management`…).
    pub owner: String,
    /// Any of these completes it.
    pub evidence: Vec<EvidenceKind>,
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    duties: Vec<Duty>,
}

/// Where a duty stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DutyState {
    Upcoming,
    /// Due within [`DUE_SOON_DAYS`].
    DueSoon,
    Overdue,
}

fn iso_date<S: serde::Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(d)
}

/// The window in which a duty shows as due soon.
pub const DUE_SOON_DAYS: i64 = 14;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DutyStatus {
    #[serde(serialize_with = "iso_date")]
    pub due: Date,
    pub state: DutyState,
    /// Days past the due date (0 unless overdue).
    pub days_overdue: i64,
}

impl Duty {
    /// Where the duty stands on `today`: due one cadence after it was last
    /// completed, or on `since` (when the store began tracking it) if it never
    /// was. A due date beyond the calendar's range counts as far away.
    pub fn status(&self, last_completed: Option<Date>, since: Date, today: Date) -> DutyStatus {
        let due = match last_completed {
            Some(done) => self.cadence.next_after(done).unwrap_or(Date::MAX),
            None => since,
        };
        let until = (due - today).whole_days();
        let (state, days_overdue) = if until < 0 {
            (DutyState::Overdue, -until)
        } else if until <= DUE_SOON_DAYS {
            (DutyState::DueSoon, 0)
        } else {
            (DutyState::Upcoming, 0)
        };
        DutyStatus {
            due,
            state,
            days_overdue,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// TOML syntax, an unknown key, a bad cadence or evidence kind; the
    /// message carries the line and column.
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: duty `{id}` is also defined in {other}")]
    Duplicate {
        path: String,
        id: String,
        other: String,
    },
    #[error("{path}: duty `{id}`: {problem}")]
    Invalid {
        path: String,
        id: String,
        problem: &'static str,
    },
}

/// Every duty, by id.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    duties: BTreeMap<String, (String, Duty)>,
}

impl Calendar {
    /// Duties from `(path, text)` pairs; a duty id defined twice is an error.
    pub fn load<P: AsRef<str>, T: AsRef<str>>(files: &[(P, T)]) -> Result<Calendar, CalendarError> {
        let mut c = Calendar::default();
        for (path, text) in files {
            for duty in parse(path.as_ref(), text.as_ref())? {
                if let Some((other, _)) = c.duties.get(&duty.id) {
                    return Err(CalendarError::Duplicate {
                        path: path.as_ref().to_owned(),
                        id: duty.id,
                        other: other.clone(),
                    });
                }
                c.duties
                    .insert(duty.id.clone(), (path.as_ref().to_owned(), duty));
            }
        }
        Ok(c)
    }

    pub fn builtin() -> Result<Calendar, CalendarError> {
        Calendar::load(crate::BUILTIN_FILES)
    }

    /// The shipped duties with a data directory's files on top: a duty with
    /// the same id replaces the shipped one, new ids are added.
    pub fn with_overrides<P: AsRef<str>, T: AsRef<str>>(
        files: &[(P, T)],
    ) -> Result<Calendar, CalendarError> {
        let mut c = Calendar::builtin()?;
        let local = Calendar::load(files)?;
        c.duties.extend(local.duties);
        Ok(c)
    }

    pub fn get(&self, id: &str) -> Option<&Duty> {
        self.duties.get(id).map(|(_, d)| d)
    }

    /// Sorted by id.
    pub fn duties(&self) -> impl Iterator<Item = &Duty> {
        self.duties.values().map(|(_, d)| d)
    }
}

fn parse(path: &str, text: &str) -> Result<Vec<Duty>, CalendarError> {
    let file: File = toml::from_str(text).map_err(|e| CalendarError::Parse {
        path: path.to_owned(),
        message: e.to_string().trim_end().to_owned(),
    })?;
    for d in &file.duties {
        let invalid = |problem| CalendarError::Invalid {
            path: path.to_owned(),
            id: d.id.chars().take(64).collect(),
            problem,
        };
        let id_ok = !d.id.is_empty()
            && d.id.len() <= 64
            && d.id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
        if !id_ok {
            return Err(invalid("ids are 1 to 64 letters, digits, `-`, `.` or `_`"));
        }
        if d.title.trim().is_empty() || d.requirement.trim().is_empty() || d.owner.trim().is_empty()
        {
            return Err(invalid("title, requirement and owner must not be empty"));
        }
        if d.evidence.is_empty() {
            return Err(invalid(
                "list at least one kind of evidence that completes it",
            ));
        }
    }
    Ok(file.duties)
}
