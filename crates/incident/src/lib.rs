//! Incident response engine: the incident lifecycle, the response team,
//! playbooks and the tasks they create, investigation helpers, and the
//! rendered post-incident review and response plan.
//!
//! Pure: no I/O, no clock, no global state. Time comes in as
//! `OffsetDateTime` parameters; playbook files come in as `(path, text)`
//! pairs (the shipped set is compiled in). Every change returns the
//! `TimelineEntry` recording it, which the caller persists and appends to the
//! ledger (`TimelineEntry::ledger_action`).
//!
//! Module map:
//! - `incident`: the `Incident` record, severity, classification, open/update/note/assign.
//! - `lifecycle`: phases and the graph of allowed moves (why each skip is allowed).
//! - `timeline`: `TimelineEntry`, one per change.
//! - `autoopen`: what a new alert does: ignore, attach to an open incident, or open one.
//! - `team`: people, roles, deputies, escalation order, staffing gaps.
//! - `playbook`: the YAML playbook format (read with `bulwark-yaml`), conditions,
//!   loading and overrides.
//! - `builtin`: the shipped playbooks, compiled in from `playbooks/`.
//! - `lint`: playbook lint with file/line/column diagnostics.
//! - `tasks`: applying playbooks, due times, done/skipped, overdue.
//! - `containment`: the containment actions tasks suggest.
//! - `investigate`: first/last activity and dwell time for a subject.
//! - `assets`: asset inventory input and sensitivity × volume ranking.
//! - `report`: the post-incident review (time to detect/contain).
//! - `plan`: the living response plan and its version hash.
//! - `render`: shared template environment, Markdown/HTML escaping.

mod assets;
mod autoopen;
mod builtin;
mod containment;
mod incident;
mod investigate;
mod lifecycle;
mod lint;
mod plan;
mod playbook;
mod render;
mod report;
mod tasks;
mod team;
mod timeline;

pub use assets::{
    facts_changes, finding_grace_days, finding_tasks, rank_assets, sensitivity, sensitivity_weight,
    Asset, AssetFacts, FactColumn, FactFinding, FindingTask, JurisdictionFacts, RankedAsset,
};
pub use autoopen::{decide, default_routes, AlertLevel, AlertRef, AutoOpenConfig, Decision, Route};
pub use builtin::FILES as BUILTIN_PLAYBOOKS;
pub use containment::{
    is_known_event, is_valid_event_name, ContainmentAction, ContainmentRecord, KNOWN_WEBHOOK_EVENTS,
};
pub use incident::{
    jurisdiction_of, normalize_jurisdiction, AlertKey, Assignment, Classification, Incident,
    IncidentError, IncidentPatch, NewIncident, PhaseChange, Review, Severity, DRILL_PREFIX,
};
pub use investigate::{dwell, Activity, Dwell, Subject, Window};
pub use lifecycle::{Phase, TransitionError, UnknownPhase};
pub use lint::{lint, Diagnostic, Severity as LintSeverity};
pub use plan::{
    plan_hash, render_plan, NotificationOverviewRow, PlanUpkeep, RenderedPlan, UpkeepDuty,
    UpkeepImprovement, UpkeepPage,
};
pub use playbook::{
    parse_playbook, Conditions, DueAnchor, DueRule, Playbook, PlaybookError, PlaybookSet,
    TaskTemplate, OFFSET_LIMITS,
};
pub use render::{escape_markdown, format_span, format_time, Format, RenderError};
pub use report::{
    figures, render_report, DetectBasis, Figures, NotificationRow, NotificationSummary,
    ScopeSummary,
};
pub use tasks::{
    apply_playbook, complete_task, overdue, reopen_task, schedule, skip_task, Applied, Excluded,
    Task, TaskError, TaskStatus,
};
pub use team::{Person, Role, Staffing, StaffingGap, Team, TeamError, UnknownRole};
pub use timeline::{sort_timeline, EntryKind, TimelineEntry};
