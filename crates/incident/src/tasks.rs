//! Tasks created by applying playbooks to an incident, their due times and status.
//!
//! Due times are computed deliberately in two moments:
//! - a task due from `aware_at` gets its absolute due time when the playbook is
//!   applied (the legal clock is already running);
//! - a task due from the start of its phase has no due time until the incident
//!   first enters that phase; `schedule` fills it in then. If the phase was
//!   entered before the playbook was applied, that recorded entry time is used.
//!
//! Re-entering a phase (after `monitoring → contained` or a reopen) does not
//! move due times: the first entry is what the clock was promised from.

use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use crate::containment::ContainmentAction;
use crate::incident::{rfc3339, Incident};
use crate::lifecycle::Phase;
use crate::playbook::{DueAnchor, DueRule, Playbook, TaskTemplate};
use crate::team::Role;
use crate::timeline::{EntryKind, TimelineEntry};

/// Where a task stands, and who put it there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TaskStatus {
    Open,
    Done {
        by: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    Skipped {
        by: String,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        reason: String,
    },
}

/// One task on one incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Task {
    pub incident: u64,
    /// `playbook/task`, unique on the incident.
    pub key: String,
    pub playbook: String,
    pub title: String,
    pub description: String,
    pub phase: Phase,
    pub role: Role,
    pub due_rule: DueRule,
    /// `None` until the anchor is known (phase not yet entered).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub due_at: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<ContainmentAction>,
    pub status: TaskStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl Task {
    pub fn is_open(&self) -> bool {
        self.status == TaskStatus::Open
    }

    /// Open and past its due time at `now`.
    pub fn is_overdue(&self, now: OffsetDateTime) -> bool {
        self.is_open() && self.due_at.is_some_and(|d| now > d)
    }
}

/// A playbook task left out because its conditions do not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Excluded {
    pub key: String,
    pub why: String,
}

/// What applying a playbook produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// New tasks only (ones already on the incident are not repeated).
    pub tasks: Vec<Task>,
    pub excluded: Vec<Excluded>,
    pub entry: TimelineEntry,
}

/// Why a task change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    #[error("task {key} is already done")]
    AlreadyDone { key: String },
    #[error("task {key} was already skipped")]
    AlreadySkipped { key: String },
    #[error("task {key} is open; only a done or skipped task can be reopened")]
    NotClosed { key: String },
    #[error("skipping or reopening task {key} needs a reason")]
    ReasonRequired { key: String },
    #[error("the incident is closed: reopen it before applying playbooks")]
    IncidentClosed,
    #[error("due time for task {key} falls outside the supported date range")]
    DateOutOfRange { key: String },
}

fn due_for(
    incident: &Incident,
    key: &str,
    rule: &DueRule,
    phase: Phase,
) -> Result<Option<OffsetDateTime>, TaskError> {
    let anchor = match rule.from {
        DueAnchor::AwareAt => Some(incident.aware_at),
        DueAnchor::PhaseStart => incident.entered(phase),
    };
    anchor
        .map(|a| {
            a.checked_add(rule.after).ok_or(TaskError::DateOutOfRange {
                key: key.to_owned(),
            })
        })
        .transpose()
}

fn task_from(
    incident: &Incident,
    pb: &Playbook,
    t: &TaskTemplate,
    at: OffsetDateTime,
) -> Result<Task, TaskError> {
    let key = format!("{}/{}", pb.id, t.id);
    Ok(Task {
        incident: incident.id,
        due_at: due_for(incident, &key, &t.due, t.phase)?,
        key,
        playbook: pb.id.clone(),
        title: t.title.clone(),
        description: t.description.clone(),
        phase: t.phase,
        role: t.role,
        due_rule: t.due,
        action: t.action.clone(),
        status: TaskStatus::Open,
        created_at: at,
    })
}

/// Applies a playbook: creates the tasks whose conditions hold and that the
/// incident does not already have (`existing`), and records the playbook on the
/// incident. Applying again after the incident changed (say card data turned
/// up) adds the tasks that now apply, and nothing twice.
pub fn apply_playbook(
    incident: &mut Incident,
    playbook: &Playbook,
    existing: &[Task],
    actor: &str,
    at: OffsetDateTime,
) -> Result<Applied, TaskError> {
    if incident.phase == Phase::Closed {
        return Err(TaskError::IncidentClosed);
    }
    let mut tasks = Vec::new();
    let mut excluded = Vec::new();
    for t in &playbook.tasks {
        let key = format!("{}/{}", playbook.id, t.id);
        if existing.iter().any(|e| e.key == key) {
            continue;
        }
        match t.when.unmet(incident) {
            Some(why) => excluded.push(Excluded { key, why }),
            None => tasks.push(task_from(incident, playbook, t, at)?),
        }
    }
    let again = incident.playbooks.contains(&playbook.id);
    if !again {
        incident.playbooks.push(playbook.id.clone());
    }
    let text = if again {
        format!(
            "Playbook {} re-applied: {} new task(s)",
            playbook.title,
            tasks.len()
        )
    } else {
        format!(
            "Playbook {} applied: {} task(s), {} not applicable",
            playbook.title,
            tasks.len(),
            excluded.len()
        )
    };
    let entry = TimelineEntry::new(
        incident.id,
        at,
        actor,
        EntryKind::PlaybookApplied,
        text,
        json!({
            "playbook": playbook.id,
            "tasks": tasks.iter().map(|t| json!({
                "key": t.key,
                "role": t.role,
                "due_at": t.due_at.map(rfc3339),
            })).collect::<Vec<_>>(),
            "excluded": excluded,
        }),
    );
    Ok(Applied {
        tasks,
        excluded,
        entry,
    })
}

/// Fills in (or corrects) due times from the incident as it now is: call it
/// after every phase change, reopen or `aware_at` update. Returns one entry
/// listing the tasks whose due time changed, or `None` when none did.
pub fn schedule(
    incident: &Incident,
    tasks: &mut [Task],
    actor: &str,
    at: OffsetDateTime,
) -> Result<Option<TimelineEntry>, TaskError> {
    let mut changed = Vec::new();
    for t in tasks
        .iter_mut()
        .filter(|t| t.incident == incident.id && t.is_open())
    {
        let due = due_for(incident, &t.key, &t.due_rule, t.phase)?;
        if due.is_some() && due != t.due_at {
            t.due_at = due;
            changed.push(json!({ "key": t.key, "due_at": due.map(rfc3339) }));
        }
    }
    if changed.is_empty() {
        return Ok(None);
    }
    Ok(Some(TimelineEntry::new(
        incident.id,
        at,
        actor,
        EntryKind::TaskDue,
        format!("Due time set or moved for {} task(s)", changed.len()),
        json!({ "tasks": changed }),
    )))
}

fn clean_text(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(|s| {
        s.chars()
            .filter(|c| !c.is_control() || *c == '\n')
            .collect()
    })
}

/// Marks a task done.
pub fn complete_task(
    task: &mut Task,
    note: Option<&str>,
    actor: &str,
    at: OffsetDateTime,
) -> Result<TimelineEntry, TaskError> {
    match task.status {
        TaskStatus::Done { .. } => {
            return Err(TaskError::AlreadyDone {
                key: task.key.clone(),
            })
        }
        TaskStatus::Skipped { .. } => {
            return Err(TaskError::AlreadySkipped {
                key: task.key.clone(),
            })
        }
        TaskStatus::Open => {}
    }
    let note = clean_text(note);
    let late = task.is_overdue(at);
    task.status = TaskStatus::Done {
        by: actor.to_owned(),
        at,
        note: note.clone(),
    };
    Ok(TimelineEntry::new(
        task.incident,
        at,
        actor,
        EntryKind::TaskDone,
        format!(
            "Task done: {}{}",
            task.title,
            if late { " (late)" } else { "" }
        ),
        json!({ "key": task.key, "note": note, "late": late, "due_at": task.due_at.map(rfc3339) }),
    ))
}

/// Marks a task skipped; why is mandatory, since a skipped step is what a
/// reviewer will ask about.
pub fn skip_task(
    task: &mut Task,
    reason: &str,
    actor: &str,
    at: OffsetDateTime,
) -> Result<TimelineEntry, TaskError> {
    if !task.is_open() {
        return Err(match task.status {
            TaskStatus::Done { .. } => TaskError::AlreadyDone {
                key: task.key.clone(),
            },
            _ => TaskError::AlreadySkipped {
                key: task.key.clone(),
            },
        });
    }
    let reason = clean_text(Some(reason)).ok_or_else(|| TaskError::ReasonRequired {
        key: task.key.clone(),
    })?;
    task.status = TaskStatus::Skipped {
        by: actor.to_owned(),
        at,
        reason: reason.clone(),
    };
    Ok(TimelineEntry::new(
        task.incident,
        at,
        actor,
        EntryKind::TaskSkipped,
        format!("Task skipped: {}: {reason}", task.title),
        json!({ "key": task.key, "reason": reason }),
    ))
}

/// Reopens a done or skipped task, with a reason.
pub fn reopen_task(
    task: &mut Task,
    reason: &str,
    actor: &str,
    at: OffsetDateTime,
) -> Result<TimelineEntry, TaskError> {
    if task.is_open() {
        return Err(TaskError::NotClosed {
            key: task.key.clone(),
        });
    }
    let reason = clean_text(Some(reason)).ok_or_else(|| TaskError::ReasonRequired {
        key: task.key.clone(),
    })?;
    task.status = TaskStatus::Open;
    Ok(TimelineEntry::new(
        task.incident,
        at,
        actor,
        EntryKind::TaskReopened,
        format!("Task reopened: {}: {reason}", task.title),
        json!({ "key": task.key, "reason": reason }),
    ))
}

/// Open tasks past due at `now`, most overdue first.
pub fn overdue(tasks: &[Task], now: OffsetDateTime) -> Vec<&Task> {
    let mut out: Vec<&Task> = tasks.iter().filter(|t| t.is_overdue(now)).collect();
    out.sort_by(|a, b| a.due_at.cmp(&b.due_at).then_with(|| a.key.cmp(&b.key)));
    out
}
