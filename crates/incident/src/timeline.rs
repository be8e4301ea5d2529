//! The incident timeline: one attributed entry per change. The engine only
//! produces entries; the caller persists each one and appends it to the ledger
//! (`TimelineEntry::ledger_action` is the action name to use there).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// What kind of change an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Opened,
    Updated,
    PhaseChanged,
    Reopened,
    Note,
    AlertLinked,
    TeamAssigned,
    PlaybookApplied,
    TaskDue,
    TaskDone,
    TaskSkipped,
    TaskReopened,
    /// A containment action was run (recorded by the shell that ran it).
    Containment,
    /// An evidence item was collected or moved (recorded by the evidence locker).
    Evidence,
    /// A notice was sent or a regulator/card brand was notified.
    Notice,
}

impl EntryKind {
    pub fn code(self) -> &'static str {
        match self {
            EntryKind::Opened => "opened",
            EntryKind::Updated => "updated",
            EntryKind::PhaseChanged => "phase_changed",
            EntryKind::Reopened => "reopened",
            EntryKind::Note => "note",
            EntryKind::AlertLinked => "alert_linked",
            EntryKind::TeamAssigned => "team_assigned",
            EntryKind::PlaybookApplied => "playbook_applied",
            EntryKind::TaskDue => "task_due",
            EntryKind::TaskDone => "task_done",
            EntryKind::TaskSkipped => "task_skipped",
            EntryKind::TaskReopened => "task_reopened",
            EntryKind::Containment => "containment",
            EntryKind::Evidence => "evidence",
            EntryKind::Notice => "notice",
        }
    }
}

/// One attributed, timestamped change to an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineEntry {
    pub incident: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who made the change: an operator, an API key id or `system`.
    pub actor: String,
    pub kind: EntryKind,
    /// One human sentence, shown as-is on the timeline and in the report.
    pub text: String,
    /// Structured facts (phases, task keys, changed fields) for machines.
    pub details: serde_json::Value,
}

impl TimelineEntry {
    pub fn new(
        incident: u64,
        at: OffsetDateTime,
        actor: &str,
        kind: EntryKind,
        text: impl Into<String>,
        details: serde_json::Value,
    ) -> Self {
        TimelineEntry {
            incident,
            at,
            actor: actor.to_owned(),
            kind,
            text: text.into(),
            details,
        }
    }

    /// The ledger action name for this entry, e.g. `incident.phase_changed`.
    pub fn ledger_action(&self) -> String {
        format!("incident.{}", self.kind.code())
    }
}

/// Orders entries by time, keeping the order of equal timestamps (the order in
/// which they were produced), as the report and the console show them.
pub fn sort_timeline(entries: &mut [TimelineEntry]) {
    entries.sort_by_key(|e| e.at);
}
