//! The post-incident review: timeline, root cause, scope and notification
//! summary (when the caller has them), actions taken, time to detect and to
//! contain, what worked and what follows. Pure: the caller passes the incident
//! snapshot and everything recorded about it.

use std::collections::BTreeMap;

use bulwark_model::DataElement;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::incident::Incident;
use crate::lifecycle::Phase;
use crate::render::{format_span, format_time, render, Format, RenderError};
use crate::tasks::{Task, TaskStatus};
use crate::timeline::{EntryKind, TimelineEntry};

/// Who was affected and what was exposed (from the scope engine).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeSummary {
    pub customers: u64,
    pub by_element: BTreeMap<DataElement, u64>,
    pub by_jurisdiction: BTreeMap<String, u64>,
    /// How it was established: `vault access log (exact)`, `inventory estimate`…
    pub basis: String,
}

/// One notification obligation and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRow {
    /// `individuals`, `regulator: ICO`, `card brands`…
    pub recipient: String,
    pub jurisdiction: String,
    pub citation: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub deadline: Option<OffsetDateTime>,
    /// `pending`, `sent`, `not required`…
    pub status: String,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub done_at: Option<OffsetDateTime>,
}

/// The notification summary (from obligations and the outbox).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationSummary {
    pub rows: Vec<NotificationRow>,
}

/// What time to detect was measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectBasis {
    /// `aware_at − first malicious activity` (investigation found the start).
    FirstMaliciousActivity,
    /// `aware_at − discovered_at` (the start of the attack is not known).
    Discovered,
}

/// The review's headline numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub time_to_detect: Duration,
    pub detect_basis: DetectBasis,
    /// First entry into `contained` − `aware_at`; `None` when never contained.
    pub time_to_contain: Option<Duration>,
}

/// Time to detect and to contain for an incident.
pub fn figures(incident: &Incident) -> Figures {
    let (start, basis) = match incident.first_malicious_activity {
        Some(t) => (t, DetectBasis::FirstMaliciousActivity),
        None => (incident.discovered_at, DetectBasis::Discovered),
    };
    Figures {
        time_to_detect: incident.aware_at - start,
        detect_basis: basis,
        time_to_contain: incident
            .entered(Phase::Contained)
            .map(|c| c - incident.aware_at),
    }
}

#[derive(Serialize)]
struct Row {
    at: String,
    actor: String,
    text: String,
}

#[derive(Serialize)]
struct TaskRow {
    key: String,
    title: String,
    role: &'static str,
    phase: Phase,
    due: String,
    by: String,
    at: String,
    note: String,
    late: bool,
}

#[derive(Serialize)]
struct Count {
    name: String,
    count: u64,
}

#[derive(Serialize)]
struct ScopeView {
    customers: u64,
    basis: String,
    elements: Vec<Count>,
    jurisdictions: Vec<Count>,
}

#[derive(Serialize)]
struct NoticeView {
    recipient: String,
    jurisdiction: String,
    citation: String,
    deadline: String,
    status: String,
    done_at: String,
    late: bool,
}

#[derive(Serialize)]
struct ReportView {
    reference: String,
    title: String,
    summary: String,
    severity: String,
    classification: String,
    phase: Phase,
    owner: String,
    discovered_at: String,
    aware_at: String,
    first_malicious_activity: String,
    contained_at: String,
    closed_at: String,
    time_to_detect: String,
    detect_basis: &'static str,
    time_to_contain: String,
    affected_systems: Vec<String>,
    alerts: Vec<String>,
    elements: Vec<&'static str>,
    jurisdictions: Vec<String>,
    card_data: bool,
    team: Vec<(String, String)>,
    playbooks: Vec<String>,
    root_cause: String,
    what_worked: Vec<String>,
    what_to_improve: Vec<String>,
    follow_ups: Vec<String>,
    phases: Vec<Row>,
    actions: Vec<Row>,
    skipped: Vec<TaskRow>,
    outstanding: Vec<TaskRow>,
    timeline: Vec<Row>,
    scope: Option<ScopeView>,
    notifications: Option<Vec<NoticeView>>,
}

fn opt_time(t: Option<OffsetDateTime>) -> String {
    t.map(format_time).unwrap_or_default()
}

fn task_row(t: &Task) -> TaskRow {
    let (by, at, note) = match &t.status {
        TaskStatus::Open => (String::new(), String::new(), String::new()),
        TaskStatus::Done { by, at, note } => (
            by.clone(),
            format_time(*at),
            note.clone().unwrap_or_default(),
        ),
        TaskStatus::Skipped { by, at, reason } => (by.clone(), format_time(*at), reason.clone()),
    };
    let late = match &t.status {
        TaskStatus::Done { at, .. } | TaskStatus::Skipped { at, .. } => {
            t.due_at.is_some_and(|d| *at > d)
        }
        TaskStatus::Open => false,
    };
    TaskRow {
        key: t.key.clone(),
        title: t.title.clone(),
        role: t.role.title(),
        phase: t.phase,
        due: t
            .due_at
            .map(format_time)
            .unwrap_or_else(|| format!("when {} starts", t.phase)),
        by,
        at,
        note,
        late,
    }
}

/// Renders the post-incident review.
pub fn render_report(
    incident: &Incident,
    timeline: &[TimelineEntry],
    tasks: &[Task],
    scope: Option<&ScopeSummary>,
    notifications: Option<&NotificationSummary>,
    format: Format,
) -> Result<String, RenderError> {
    let fig = figures(incident);
    let mut entries: Vec<&TimelineEntry> = timeline
        .iter()
        .filter(|e| e.incident == incident.id)
        .collect();
    entries.sort_by_key(|e| e.at);
    let tasks: Vec<&Task> = tasks.iter().filter(|t| t.incident == incident.id).collect();

    // Actions taken: containment actions as recorded, and completed tasks.
    let mut actions: Vec<(OffsetDateTime, Row)> = entries
        .iter()
        .filter(|e| e.kind == EntryKind::Containment)
        .map(|e| {
            (
                e.at,
                Row {
                    at: format_time(e.at),
                    actor: e.actor.clone(),
                    text: e.text.clone(),
                },
            )
        })
        .collect();
    for t in &tasks {
        if let TaskStatus::Done { by, at, .. } = &t.status {
            actions.push((
                *at,
                Row {
                    at: format_time(*at),
                    actor: by.clone(),
                    text: t.title.clone(),
                },
            ));
        }
    }
    actions.sort_by_key(|(at, _)| *at);

    let mut outstanding: Vec<&Task> = tasks.iter().copied().filter(|t| t.is_open()).collect();
    outstanding.sort_by(|a, b| (a.phase, a.due_at, &a.key).cmp(&(b.phase, b.due_at, &b.key)));

    let view = ReportView {
        reference: incident.reference(),
        title: incident.title.clone(),
        summary: incident.summary.clone(),
        severity: incident.severity.to_string(),
        classification: incident.classification.to_string(),
        phase: incident.phase,
        owner: incident.owner.clone().unwrap_or_default(),
        discovered_at: format_time(incident.discovered_at),
        aware_at: format_time(incident.aware_at),
        first_malicious_activity: opt_time(incident.first_malicious_activity),
        contained_at: opt_time(incident.entered(Phase::Contained)),
        closed_at: opt_time((incident.phase == Phase::Closed).then(|| incident.phase_started())),
        time_to_detect: format_span(fig.time_to_detect),
        detect_basis: match fig.detect_basis {
            DetectBasis::FirstMaliciousActivity => {
                "measured from the first malicious activity found"
            }
            DetectBasis::Discovered => {
                "measured from discovery; the start of the attack is not known"
            }
        },
        time_to_contain: fig.time_to_contain.map(format_span).unwrap_or_default(),
        affected_systems: incident.affected_systems.clone(),
        alerts: incident.alerts.clone(),
        elements: incident.elements.iter().map(|e| e.code()).collect(),
        jurisdictions: incident.jurisdictions.iter().cloned().collect(),
        card_data: incident.has_card_data(),
        team: incident
            .team
            .iter()
            .map(|a| (a.role.title().to_owned(), a.person.clone()))
            .collect(),
        playbooks: incident.playbooks.clone(),
        root_cause: incident.root_cause.clone().unwrap_or_default(),
        what_worked: incident.review.what_worked.clone(),
        what_to_improve: incident.review.what_to_improve.clone(),
        follow_ups: incident.review.follow_ups.clone(),
        phases: incident
            .phase_history
            .iter()
            .map(|c| Row {
                at: format_time(c.at),
                actor: c.actor.clone(),
                text: match &c.reason {
                    Some(r) => format!("{} ({r})", c.phase),
                    None => c.phase.to_string(),
                },
            })
            .collect(),
        actions: actions.into_iter().map(|(_, r)| r).collect(),
        skipped: tasks
            .iter()
            .filter(|t| matches!(t.status, TaskStatus::Skipped { .. }))
            .map(|t| task_row(t))
            .collect(),
        outstanding: outstanding.into_iter().map(task_row).collect(),
        timeline: entries
            .iter()
            .map(|e| Row {
                at: format_time(e.at),
                actor: e.actor.clone(),
                text: e.text.clone(),
            })
            .collect(),
        scope: scope.map(|s| ScopeView {
            customers: s.customers,
            basis: s.basis.clone(),
            elements: s
                .by_element
                .iter()
                .map(|(e, c)| Count {
                    name: e.code().to_owned(),
                    count: *c,
                })
                .collect(),
            jurisdictions: s
                .by_jurisdiction
                .iter()
                .map(|(j, c)| Count {
                    name: j.clone(),
                    count: *c,
                })
                .collect(),
        }),
        notifications: notifications.map(|n| {
            n.rows
                .iter()
                .map(|r| NoticeView {
                    recipient: r.recipient.clone(),
                    jurisdiction: r.jurisdiction.clone(),
                    citation: r.citation.clone(),
                    deadline: opt_time(r.deadline),
                    status: r.status.clone(),
                    done_at: opt_time(r.done_at),
                    late: matches!((r.deadline, r.done_at), (Some(d), Some(x)) if x > d),
                })
                .collect()
        }),
    };
    render("report", format, &view)
}
