//! Incidents as stored: the pure engine (`bulwark-incident`) decides, this module
//! keeps its values and writes every timeline entry to the ledger in the same
//! transaction as the change it records.

use bulwark_incident::{
    apply_playbook, complete_task, decide, reopen_task, schedule, skip_task, AlertRef,
    AutoOpenConfig, ContainmentAction, ContainmentRecord, Decision, Incident, IncidentPatch,
    NewIncident, Phase, PlaybookSet, Role, Task, TimelineEntry,
};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use time::OffsetDateTime;

use bulwark_incident::{IncidentError, PlaybookError, TaskError};

use crate::error::{Result, StoreError};
use crate::writer::WriteCtx;
use crate::{Pending, Store, ValidationErrors};

/// An incident asked for by number that does not exist.
#[derive(Debug, thiserror::Error)]
pub enum IncidentReadError {
    #[error("incident {0} not found")]
    NotFound(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an incident could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenIncidentError {
    /// What was asked for is not a valid incident (empty title, times out of order…).
    #[error(transparent)]
    Invalid(#[from] IncidentError),
    /// A playbook could not be applied to it.
    #[error(transparent)]
    Playbook(#[from] TaskError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a change to an incident (phase, task, note, team, update…) was refused.
#[derive(Debug, thiserror::Error)]
pub enum IncidentChangeError {
    #[error("incident {0} not found")]
    NotFound(u64),
    /// The change is invalid, or not allowed in the incident's phase.
    #[error(transparent)]
    Incident(#[from] IncidentError),
    /// The task change is not allowed in the task's state.
    #[error(transparent)]
    Task(#[from] TaskError),
    #[error("incident {incident} has no task `{key}`")]
    NoSuchTask { incident: u64, key: String },
    #[error("a closed incident is reopened only with a reason")]
    ReopenNeedsReason,
    #[error("invalid input: {0}")]
    Invalid(#[from] ValidationErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<IncidentReadError> for IncidentChangeError {
    fn from(e: IncidentReadError) -> Self {
        match e {
            IncidentReadError::NotFound(id) => IncidentChangeError::NotFound(id),
            IncidentReadError::Store(s) => IncidentChangeError::Store(s),
        }
    }
}

/// Why an alert could not be routed to an incident.
#[derive(Debug, thiserror::Error)]
pub enum AutoOpenError {
    #[error(transparent)]
    Incident(#[from] IncidentError),
    #[error(transparent)]
    Task(#[from] TaskError),
    #[error(transparent)]
    Playbook(#[from] PlaybookError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<IncidentReadError> for AutoOpenError {
    fn from(e: IncidentReadError) -> Self {
        match e {
            IncidentReadError::NotFound(id) => {
                StoreError::corrupt(format!("incident {id} vanished while routing an alert")).into()
            }
            IncidentReadError::Store(s) => AutoOpenError::Store(s),
        }
    }
}

/// Why a containment action failed. It was attempted (and recorded on the
/// incident's timeline) unless the incident does not exist.
#[derive(Debug, thiserror::Error)]
pub enum ContainError {
    #[error("incident {0} not found")]
    NotFound(u64),
    #[error("revoking a key needs the key id as target")]
    MissingTarget,
    #[error("{0}")]
    CannotUndo(&'static str),
    #[error("API key {0} not found")]
    KeyNotFound(String),
    /// The store's webhook did not take the call.
    #[error(transparent)]
    Webhook(#[from] crate::WebhookError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A containment action to run for an incident.
#[derive(Debug, Clone, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Contain {
    pub action: ContainmentAction,
    #[serde(default)]
    pub target: Option<String>,
    /// Undo an earlier action (lockdown off).
    #[serde(default)]
    pub undo: bool,
    pub reason: String,
}

/// What the public updates page shows.
#[derive(Debug, Clone, Serialize)]
pub struct PublicPage {
    pub title: String,
    /// (Unix ms, text), newest first.
    pub updates: Vec<(i64, String)>,
}

/// What happens to a task.
#[derive(Debug, Clone, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum TaskChange {
    Done {
        #[serde(default)]
        note: Option<String>,
    },
    Skip {
        reason: String,
    },
    Reopen {
        reason: String,
    },
}

/// An incident with its timeline and tasks.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IncidentRecord {
    pub incident: Incident,
    pub timeline: Vec<TimelineEntry>,
    pub tasks: Vec<Task>,
}

fn at(ctx: &WriteCtx<'_>) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ctx.now_ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::corrupt(format!("an incident value: {e}")))
}

fn load(c: &Connection, id: u64) -> Result<Incident, IncidentReadError> {
    let body: Option<String> = c
        .query_row(
            "SELECT body FROM incidents WHERE id = ?1",
            [id as i64],
            |r| r.get(0),
        )
        .optional()
        .map_err(StoreError::from)?;
    let body = body.ok_or(IncidentReadError::NotFound(id))?;
    Ok(serde_json::from_str(&body)
        .map_err(|e| StoreError::corrupt(format!("incident {id}: {e}")))?)
}

fn load_tasks(c: &Connection, id: u64) -> Result<Vec<Task>> {
    let mut stmt =
        c.prepare_cached("SELECT body FROM incident_tasks WHERE incident_id = ?1 ORDER BY key")?;
    let rows = stmt.query_map([id as i64], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for r in rows {
        out.push(
            serde_json::from_str(&r?)
                .map_err(|e| StoreError::Corrupt(format!("incident {id} task: {e}")))?,
        );
    }
    Ok(out)
}

fn save(
    ctx: &mut WriteCtx<'_>,
    inc: &Incident,
    tasks: &[Task],
    entries: &[TimelineEntry],
) -> Result<()> {
    let (sev, phase) = (inc.severity.code(), inc.phase.code());
    ctx.main.execute(
        "INSERT INTO incidents (id, phase, severity, title, body, updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET phase = excluded.phase, severity = excluded.severity, title = excluded.title,
                                        body = excluded.body, updated_at_ms = excluded.updated_at_ms",
        params![inc.id as i64, phase, sev, inc.title, json(inc)?, ctx.now_ms],
    )?;
    for t in tasks {
        ctx.main.execute(
            "INSERT INTO incident_tasks (incident_id, key, body) VALUES (?1, ?2, ?3)
             ON CONFLICT (incident_id, key) DO UPDATE SET body = excluded.body",
            params![inc.id as i64, t.key, json(t)?],
        )?;
        crate::board::index_task(ctx.main, t)?;
    }
    crate::board::index_incident(ctx.main, inc.id)?;
    if let Some(run) = inc.drill {
        ctx.main.execute(
            "INSERT OR IGNORE INTO drill_incidents (incident_id, run_id) VALUES (?1, ?2)",
            params![inc.id as i64, run as i64],
        )?;
    }
    for e in entries {
        ctx.main.execute(
            "INSERT INTO incident_timeline (incident_id, body) VALUES (?1, ?2)",
            params![inc.id as i64, json(e)?],
        )?;
        ctx.ledger(
            &e.actor,
            &e.ledger_action(),
            &format!("incident:{}", inc.id),
            e.details.clone(),
        )?;
    }
    Ok(())
}

/// Adds one entry to an incident's timeline, and to the ledger, in the caller's job.
pub(crate) fn append_timeline(
    ctx: &mut WriteCtx<'_>,
    incident: u64,
    entry: &TimelineEntry,
) -> Result<()> {
    ctx.main.execute(
        "INSERT INTO incident_timeline (incident_id, body) VALUES (?1, ?2)",
        params![incident as i64, json(entry)?],
    )?;
    ctx.ledger(
        &entry.actor,
        &entry.ledger_action(),
        &format!("incident:{incident}"),
        entry.details.clone(),
    )?;
    Ok(())
}

pub(crate) fn timestamp(ctx: &WriteCtx<'_>) -> OffsetDateTime {
    at(ctx)
}

impl Store {
    /// Opens an incident and applies the playbooks for its classification.
    pub fn open_incident(
        &self,
        new: NewIncident,
        playbooks: PlaybookSet,
        actor: &str,
    ) -> Pending<u64, OpenIncidentError> {
        let actor = actor.to_owned();
        self.writer().submit(move |ctx| {
            let now = at(ctx);
            let id: i64 = ctx
                .main
                .query_row("SELECT coalesce(max(id), 0) + 1 FROM incidents", [], |r| {
                    r.get(0)
                })
                .map_err(StoreError::from)?;
            let (mut inc, opened) = Incident::open(id as u64, new, &actor, now)?;
            let mut entries = vec![opened];
            let mut tasks: Vec<Task> = Vec::new();
            for pb in playbooks.for_classification(inc.classification) {
                let applied = apply_playbook(&mut inc, pb, &tasks, &actor, now)?;
                tasks.extend(applied.tasks);
                entries.push(applied.entry);
            }
            if let Some(e) = schedule(&inc, &mut tasks, &actor, now)? {
                entries.push(e);
            }
            save(ctx, &inc, &tasks, &entries)?;
            Ok(inc.id)
        })
    }

    /// What an alert does to incidents: attach to the open incident for the same
    /// rule and entity, open one with the matching playbooks, or nothing. Decided
    /// and applied in one writer job, so simultaneous alerts cannot open twins.
    /// Returns the incident the alert now belongs to.
    ///
    /// A drill's alerts (`drill: Some(run)`) only join that run's incidents
    /// and open drill incidents; real alerts never join a drill's.
    pub fn auto_open(
        &self,
        alert: AlertRef,
        playbooks: std::sync::Arc<PlaybookSet>,
        config: AutoOpenConfig,
        drill: Option<u64>,
    ) -> Pending<Option<u64>, AutoOpenError> {
        self.writer().submit(move |ctx| {
            let now = at(ctx);
            let actor = "system:auto-open";
            let open: Vec<Incident> = {
                let ids = open_ids(ctx.main)?;
                let all: Vec<Incident> = ids
                    .into_iter()
                    .map(|id| load(ctx.main, id))
                    .collect::<Result<_, IncidentReadError>>()?;
                all.into_iter().filter(|i| i.drill == drill).collect()
            };
            match decide(&alert, &open, &playbooks, &config) {
                Decision::Ignore { .. } => Ok(None),
                Decision::NeedsTriage { why } => {
                    ctx.ledger(
                        actor,
                        "alert.needs_triage",
                        &alert.id,
                        serde_json::json!({"why": why, "rule": alert.rule_title}),
                    )?;
                    Ok(None)
                }
                Decision::Attach { incident } => {
                    let mut inc = load(ctx.main, incident)?;
                    let entries: Vec<TimelineEntry> =
                        inc.track_alert(&alert, actor, now)?.into_iter().collect();
                    save(ctx, &inc, &[], &entries)?;
                    Ok(Some(incident))
                }
                Decision::Open {
                    mut new,
                    playbooks: chosen,
                } => {
                    new.drill = drill;
                    let id: i64 = ctx
                        .main
                        .query_row("SELECT coalesce(max(id), 0) + 1 FROM incidents", [], |r| {
                            r.get(0)
                        })
                        .map_err(StoreError::from)?;
                    let (mut inc, opened) = Incident::open(id as u64, *new, actor, now)?;
                    let mut entries = vec![opened];
                    let mut tasks: Vec<Task> = Vec::new();
                    for pid in &chosen {
                        let pb = playbooks.get(pid)?;
                        let applied = apply_playbook(&mut inc, pb, &tasks, actor, now)?;
                        tasks.extend(applied.tasks);
                        entries.push(applied.entry);
                    }
                    if let Some(e) = schedule(&inc, &mut tasks, actor, now)? {
                        entries.push(e);
                    }
                    entries.extend(inc.track_alert(&alert, actor, now)?);
                    save(ctx, &inc, &tasks, &entries)?;
                    Ok(Some(inc.id))
                }
            }
        })
    }

    /// Moves an incident to another phase (or reopens a closed one); phase-relative
    /// tasks get their due times.
    pub fn advance_incident(
        &self,
        id: u64,
        to: Phase,
        reason: Option<String>,
        actor: &str,
    ) -> Pending<(), IncidentChangeError> {
        let actor = actor.to_owned();
        self.writer().submit(move |ctx| {
            let now = at(ctx);
            let mut inc = load(ctx.main, id)?;
            let mut tasks = load_tasks(ctx.main, id)?;
            let entry = if inc.phase == Phase::Closed {
                let reason = reason
                    .as_deref()
                    .ok_or(IncidentChangeError::ReopenNeedsReason)?;
                inc.reopen(to, reason, &actor, now)?
            } else {
                inc.advance(to, reason.as_deref(), &actor, now)?
            };
            let mut entries = vec![entry];
            if let Some(e) = schedule(&inc, &mut tasks, &actor, now)? {
                entries.push(e);
            }
            Ok(save(ctx, &inc, &tasks, &entries)?)
        })
    }

    /// Marks a task done (optional note), skipped (reason) or open again (reason).
    pub fn update_task(
        &self,
        id: u64,
        key: String,
        change: TaskChange,
        actor: &str,
    ) -> Pending<(), IncidentChangeError> {
        let actor = actor.to_owned();
        self.writer().submit(move |ctx| {
            let now = at(ctx);
            let inc = load(ctx.main, id)?;
            let mut tasks = load_tasks(ctx.main, id)?;
            let Some(task) = tasks.iter_mut().find(|t| t.key == key) else {
                return Err(IncidentChangeError::NoSuchTask { incident: id, key });
            };
            let entry = match &change {
                TaskChange::Done { note } => complete_task(task, note.as_deref(), &actor, now),
                TaskChange::Skip { reason } => skip_task(task, reason, &actor, now),
                TaskChange::Reopen { reason } => reopen_task(task, reason, &actor, now),
            }?;
            let changed = task.clone();
            Ok(save(ctx, &inc, &[changed], &[entry])?)
        })
    }

    /// Runs a containment action for an incident and records who, when, why and the
    /// result on its timeline (and so in the ledger), failures included. Webhook
    /// actions go through `deliver` (the caller owns the network). Blocking: call it
    /// from a blocking thread.
    pub fn contain_blocking(
        &self,
        id: u64,
        req: Contain,
        actor: &str,
        deliver: &dyn Fn(&str) -> std::result::Result<String, crate::WebhookError>,
    ) -> Result<ContainmentRecord, ContainError> {
        let Contain {
            action,
            target,
            undo,
            reason,
        } = req;
        let rec = self.incident(id).map_err(|e| match e {
            IncidentReadError::NotFound(id) => ContainError::NotFound(id),
            IncidentReadError::Store(s) => ContainError::Store(s),
        })?;
        // A drill rehearses the decision, never the act: a lockdown, a key
        // revocation or a webhook call would hit the real store.
        let outcome: Result<String, ContainError> = match (&action, rec.incident.drill) {
            (ContainmentAction::RevokeApiKey, Some(_)) if target.is_none() => {
                Err(ContainError::MissingTarget)
            }
            (action, Some(run)) => {
                self.record_drill_containment(run, &action.code(), target.clone(), undo)
                    .wait_blocking()?;
                let acted = match (action, target.as_deref()) {
                    (ContainmentAction::RevokeApiKey, Some(t)) if t == format!("drill-{run}") => {
                        format!("the drill's stolen key {t} is refused from now on")
                    }
                    (ContainmentAction::RevokeApiKey, Some(t)) => {
                        format!("{t} is not the drill's key (drill-{run}); nothing refused")
                    }
                    (ContainmentAction::VaultLockdown, _) if undo => {
                        "the drill's vault lockdown is lifted".to_owned()
                    }
                    (ContainmentAction::VaultLockdown, _) => {
                        "the drill's reveals are refused (lockdown)".to_owned()
                    }
                    _ => "rehearsed".to_owned(),
                };
                Ok(format!(
                    "simulated for drill {run}: {acted}; nothing was changed outside the drill"
                ))
            }
            (action, None) => {
                self.contain_for_real(id, action, target.as_deref(), undo, &reason, actor, deliver)
            }
        };
        let record = ContainmentRecord {
            action,
            target,
            reason,
            undo,
            succeeded: outcome.is_ok(),
            result: match &outcome {
                Ok(r) => r.clone(),
                Err(e) => e.to_string(),
            },
            task: None,
        };
        let rec = record.clone();
        let actor_owned = actor.to_owned();
        self.writer()
            .submit(move |ctx| -> Result<(), IncidentChangeError> {
                let inc = load(ctx.main, id)?;
                let entry = rec.entry(id, &actor_owned, at(ctx));
                Ok(save(ctx, &inc, &[], &[entry])?)
            })
            .wait_blocking()
            .map_err(|e| match e {
                IncidentChangeError::NotFound(id) => ContainError::NotFound(id),
                IncidentChangeError::Store(s) => ContainError::Store(s),
                other => StoreError::corrupt(format!("recording containment: {other}")).into(),
            })?;
        outcome.map(|_| record)
    }

    #[allow(clippy::too_many_arguments)]
    fn contain_for_real(
        &self,
        id: u64,
        action: &ContainmentAction,
        target: Option<&str>,
        undo: bool,
        reason: &str,
        actor: &str,
        deliver: &dyn Fn(&str) -> std::result::Result<String, crate::WebhookError>,
    ) -> Result<String, ContainError> {
        match action {
            ContainmentAction::RevokeApiKey => match target {
                None => Err(ContainError::MissingTarget),
                Some(_) if undo => Err(ContainError::CannotUndo(
                    "a revoked key cannot be restored; issue a new one",
                )),
                Some(k) => self
                    .revoke_key(k, actor, Some(format!("incident {id}: {reason}")))
                    .wait_blocking()
                    .map(|_| format!("key {k} revoked"))
                    .map_err(|e| match e {
                        crate::RevokeKeyError::NotFound(k) => ContainError::KeyNotFound(k),
                        crate::RevokeKeyError::Store(s) => ContainError::Store(s),
                    }),
            },
            ContainmentAction::VaultLockdown => self
                .set_lockdown(!undo, actor, Some(format!("incident {id}: {reason}")))
                .wait_blocking()
                .map(|changed| {
                    format!(
                        "lockdown {}{}",
                        if undo { "off" } else { "on" },
                        if changed { "" } else { " (already)" }
                    )
                })
                .map_err(ContainError::from),
            ContainmentAction::RotateDataKey if undo => Err(ContainError::CannotUndo(
                "a rotation is not undone; rotate again",
            )),
            ContainmentAction::RotateDataKey => self
                .rotate_data_key(actor)
                .map(|v| format!("data key version {v} in use; run `bulwark keys rewrap`"))
                .map_err(ContainError::from),
            ContainmentAction::Webhook { event } => deliver(event).map_err(ContainError::from),
        }
    }

    /// Applies a patch (title, severity, times, root cause, review…); tasks are
    /// rescheduled, since their due times hang off `aware_at` and phase starts.
    pub fn update_incident(
        &self,
        id: u64,
        patch: IncidentPatch,
        actor: &str,
    ) -> Pending<(), IncidentChangeError> {
        let actor = actor.to_owned();
        self.writer().submit(move |ctx| {
            let now = at(ctx);
            let mut inc = load(ctx.main, id)?;
            let mut tasks = load_tasks(ctx.main, id)?;
            let mut entries = vec![inc.update(patch, &actor, now)?];
            entries.extend(schedule(&inc, &mut tasks, &actor, now)?);
            Ok(save(ctx, &inc, &tasks, &entries)?)
        })
    }

    /// Puts a person from the team in a role for this incident.
    pub fn assign_incident(
        &self,
        id: u64,
        role: Role,
        person: String,
        actor: &str,
    ) -> Pending<(), IncidentChangeError> {
        let actor = actor.to_owned();
        self.writer().submit(move |ctx| {
            let mut inc = load(ctx.main, id)?;
            let entry = inc.assign(role, &person, &actor, at(ctx))?;
            Ok(save(ctx, &inc, &[], &[entry])?)
        })
    }

    /// Links a detection alert to the incident by hand (from the alerts page);
    /// linking it twice changes nothing.
    pub fn link_alert(
        &self,
        id: u64,
        alert: String,
        actor: &str,
    ) -> Pending<(), IncidentChangeError> {
        let actor = actor.to_owned();
        self.writer().submit(move |ctx| {
            let mut inc = load(ctx.main, id)?;
            match inc.link_alert(&alert, &actor, at(ctx))? {
                Some(entry) => Ok(save(ctx, &inc, &[], &[entry])?),
                None => Ok(()),
            }
        })
    }

    /// Publishes an update on the incident's public page (what customers read).
    pub fn publish_update(
        &self,
        id: u64,
        text: String,
        actor: &str,
    ) -> Pending<i64, IncidentChangeError> {
        let actor = actor.to_owned();
        self.writer().submit(move |ctx| {
            let text = text.trim().to_owned();
            if text.is_empty() || text.len() > 20_000 {
                let mut e = crate::ValidationErrors::default();
                e.push("text", "expected 1 to 20,000 characters");
                return Err(IncidentChangeError::Invalid(e));
            }
            load(ctx.main, id)?;
            ctx.main.execute(
                "INSERT INTO incident_updates (incident_id, at_ms, author, text) VALUES (?1, ?2, ?3, ?4)",
                params![id as i64, ctx.now_ms, actor, text],
            ).map_err(StoreError::from)?;
            let uid = ctx.main.last_insert_rowid();
            let entry = TimelineEntry::new(id, at(ctx), &actor, bulwark_incident::EntryKind::Note, format!("Public update #{uid} published"), serde_json::json!({"update": uid, "public": true}));
            append_timeline(ctx, id, &entry)?;
            Ok(uid)
        })
    }

    /// The public page's content: the incident's title and its updates, newest
    /// first, found by slug. `None` for an unknown slug.
    pub fn public_updates(&self, slug: &str) -> Result<Option<PublicPage>> {
        // Slugs start with the incident number (`7-checkout-skimmer`): one row to
        // load, then the whole slug must match, so guessing numbers finds nothing.
        let Some(id) = slug.split('-').next().and_then(|n| n.parse::<u64>().ok()) else {
            return Ok(None);
        };
        let inc = match self.read_with(|c| load(c, id)) {
            Ok(inc) if inc.slug == slug => inc,
            Ok(_) | Err(IncidentReadError::NotFound(_)) => return Ok(None),
            Err(IncidentReadError::Store(e)) => return Err(e),
        };
        let updates = self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT at_ms, text FROM incident_updates WHERE incident_id = ?1 ORDER BY id DESC",
            )?;
            let rows = stmt.query_map([inc.id as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<(i64, String)>>>()?)
        })?;
        Ok(Some(PublicPage {
            title: inc.title,
            updates,
        }))
    }

    /// Stores a new version of the incident's scope (scope grows as the
    /// investigation goes on); `summary` holds counts and the query, `customers`
    /// the affected customers with their elements. Returns the version.
    pub fn save_scope_snapshot(
        &self,
        id: u64,
        summary: serde_json::Value,
        customers: serde_json::Value,
        actor: &str,
    ) -> Pending<u32, IncidentChangeError> {
        let actor = actor.to_owned();
        self.writer().submit(move |ctx| {
            load(ctx.main, id)?;
            let version: u32 = ctx.main.query_row(
                "SELECT coalesce(max(version), 0) + 1 FROM scope_summaries WHERE incident_id = ?1",
                [id as i64],
                |r| r.get(0),
            )?;
            ctx.main.execute(
                "INSERT INTO scope_snapshots (incident_id, version, at_ms, actor, summary, customers) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id as i64, version, ctx.now_ms, actor, summary.to_string(), customers.to_string()],
            )?;
            ctx.main.execute(
                "INSERT INTO scope_summaries (incident_id, version, summary) VALUES (?1, ?2, ?3)",
                params![id as i64, version, summary.to_string()],
            )?;
            let n = customers.as_array().map(Vec::len).unwrap_or(0);
            let entry = TimelineEntry::new(
                id,
                at(ctx),
                &actor,
                bulwark_incident::EntryKind::Note,
                format!("Scope v{version}: {n} customers affected"),
                serde_json::json!({"scope_version": version, "customers": n, "summary": summary}),
            );
            append_timeline(ctx, id, &entry)?;
            Ok(version)
        })
    }

    /// Every scope version of the incident, newest first: (version, summary).
    pub fn scope_versions(&self, id: u64) -> Result<Vec<(u32, serde_json::Value)>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT version, summary FROM scope_summaries WHERE incident_id = ?1 ORDER BY version DESC",
            )?;
            let rows = stmt.query_map([id as i64], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, String>(1)?)))?;
            let mut out = Vec::new();
            for row in rows {
                let (v, s) = row?;
                out.push((v, serde_json::from_str(&s).unwrap_or(serde_json::Value::Null)));
            }
            Ok(out)
        })
    }

    /// The newest scope snapshot: (version, summary).
    pub fn latest_scope(&self, id: u64) -> Result<Option<(u32, serde_json::Value)>> {
        self.read(|c| {
            let row: Option<(u32, String)> = c
                .query_row(
                    "SELECT version, summary FROM scope_summaries WHERE incident_id = ?1 ORDER BY version DESC LIMIT 1",
                    [id as i64],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            Ok(row.map(|(v, s)| (v, serde_json::from_str(&s).unwrap_or(serde_json::Value::Null))))
        })
    }

    /// Adds tasks (e.g. one per notification obligation) that the incident does not
    /// have yet; open ones with the same key get the new due time. Returns how many were added.
    pub fn upsert_tasks(
        &self,
        id: u64,
        new: Vec<Task>,
        actor: &str,
    ) -> Pending<usize, IncidentChangeError> {
        let actor = actor.to_owned();
        self.writer().submit(move |ctx| {
            let inc = load(ctx.main, id)?;
            let existing = load_tasks(ctx.main, id)?;
            let mut changed = Vec::new();
            let mut added = 0usize;
            for t in new {
                match existing.iter().find(|e| e.key == t.key) {
                    Some(e) if !e.is_open() => {}
                    Some(e) => changed.push(Task {
                        status: e.status.clone(),
                        created_at: e.created_at,
                        ..t
                    }),
                    None => {
                        added += 1;
                        changed.push(t);
                    }
                }
            }
            let entry = TimelineEntry::new(
                id,
                at(ctx),
                &actor,
                bulwark_incident::EntryKind::PlaybookApplied,
                format!(
                    "Notification obligations: {added} task(s) added, {} updated",
                    changed.len() - added
                ),
                serde_json::json!({"added": added, "updated": changed.len() - added}),
            );
            save(ctx, &inc, &changed, &[entry])?;
            Ok(added)
        })
    }

    pub fn note_incident(
        &self,
        id: u64,
        text: String,
        actor: &str,
    ) -> Pending<(), IncidentChangeError> {
        let actor = actor.to_owned();
        self.writer().submit(move |ctx| {
            let inc = load(ctx.main, id)?;
            let entry = inc.note(&text, &actor, at(ctx))?;
            Ok(save(ctx, &inc, &[], &[entry])?)
        })
    }

    pub fn incident(&self, id: u64) -> Result<IncidentRecord, IncidentReadError> {
        self.read_with(|c| {
            let incident = load(c, id)?;
            let tasks = load_tasks(c, id)?;
            let timeline = load_timeline(c, id)?;
            Ok(IncidentRecord {
                incident,
                timeline,
                tasks,
            })
        })
    }

    /// The incident alone (no tasks, no timeline), and the latest timeline
    /// entry that moved its awareness time, if any: what the deadline board
    /// needs to say who started the clock.
    pub fn incident_clock(
        &self,
        id: u64,
    ) -> std::result::Result<(Incident, Option<TimelineEntry>), IncidentReadError> {
        self.read_with(|c| {
            let incident = load(c, id)?;
            let body: Option<String> = c
                .prepare_cached(
                    "SELECT body FROM incident_timeline WHERE incident_id = ?1 AND instr(body, '\"aware_at\"') > 0
                     ORDER BY seq DESC LIMIT 1",
                )?
                .query_row([id as i64], |r| r.get(0))
                .optional()?;
            let entry = match body {
                Some(b) => Some(serde_json::from_str::<TimelineEntry>(&b).map_err(|e| {
                    StoreError::corrupt(format!("incident {id} timeline: {e}"))
                })?),
                None => None,
            };
            Ok((incident, entry))
        })
    }

    /// The law scenario of an incident: its newest scope snapshot (with its
    /// version) and its awareness time; `None` before any scope is computed.
    pub fn incident_scenario(
        &self,
        id: u64,
    ) -> std::result::Result<Option<(u32, bulwark_law::Scenario)>, IncidentReadError> {
        let rec = self.incident(id)?;
        Ok(self.scenario_of(&rec.incident)?)
    }

    /// [`Store::incident_scenario`] for an incident already read.
    pub fn scenario_of(&self, incident: &Incident) -> Result<Option<(u32, bulwark_law::Scenario)>> {
        let id = incident.id;
        let Some((version, summary)) = self.latest_scope(id)? else {
            return Ok(None);
        };
        let flag = |k: &str| summary.get(k).and_then(|v| v.as_bool()).unwrap_or(false);
        let doc = serde_json::json!({
            "aware_at": crate::incidents::rfc3339_of(incident.aware_at),
            "discovered_at": crate::incidents::rfc3339_of(incident.discovered_at),
            "encrypted": flag("encrypted"),
            "key_compromised": flag("key_compromised"),
            "affected": summary.get("affected").cloned().unwrap_or(serde_json::json!([])),
        });
        let scenario = serde_json::from_value(doc).map_err(|e| {
            StoreError::corrupt(format!("incident {id} scope v{version} as a scenario: {e}"))
        })?;
        Ok(Some((version, scenario)))
    }

    pub fn incidents(&self) -> Result<Vec<Incident>> {
        self.read(|c| {
            let mut stmt = c.prepare("SELECT body FROM incidents ORDER BY id")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            let mut out = Vec::new();
            for body in rows {
                out.push(
                    serde_json::from_str(&body?)
                        .map_err(|e| StoreError::corrupt(format!("an incident: {e}")))?,
                );
            }
            Ok(out)
        })
    }
}

pub(crate) fn rfc3339_of(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn open_ids(c: &Connection) -> Result<Vec<u64>> {
    let mut stmt =
        c.prepare_cached("SELECT id FROM incidents WHERE phase != 'closed' ORDER BY id")?;
    let ids = stmt
        .query_map([], |r| r.get::<_, i64>(0))?
        .map(|r| r.map(|id| id as u64))
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

fn load_timeline(c: &Connection, id: u64) -> Result<Vec<TimelineEntry>> {
    let mut stmt =
        c.prepare_cached("SELECT body FROM incident_timeline WHERE incident_id = ?1 ORDER BY seq")?;
    let rows = stmt.query_map([id as i64], |r| r.get::<_, String>(0))?;
    let mut timeline = Vec::new();
    for r in rows {
        timeline.push(
            serde_json::from_str(&r?)
                .map_err(|e| StoreError::corrupt(format!("incident {id} timeline: {e}")))?,
        );
    }
    Ok(timeline)
}

/// One task per notification obligation, owned by legal and due at its
/// deadline (or the recommended target of an undue-delay standard): the
/// countdowns the team works against (`bulwark obligations --incident`).
pub fn obligation_tasks(
    id: u64,
    eval: &bulwark_law::Evaluation,
    aware_at: OffsetDateTime,
    now: OffsetDateTime,
) -> Vec<Task> {
    eval.obligations
        .iter()
        .filter_map(|o| {
            let due = o.deadline.or(o.recommended_target)?;
            let recipient = o.recipient.code();
            Some(Task {
                incident: id,
                key: format!("obligations/{}/{}", o.jurisdiction, recipient),
                playbook: "obligations".into(),
                title: format!(
                    "Notify {} for {} ({})",
                    recipient.replace('_', " "),
                    o.jurisdiction,
                    o.law_name
                ),
                description: format!(
                    "{} — {}. Not legal advice; confirm with counsel.",
                    o.standard, o.citation
                ),
                phase: bulwark_incident::Phase::Notifying,
                role: bulwark_incident::Role::Legal,
                due_rule: bulwark_incident::DueRule {
                    after: due - aware_at,
                    from: bulwark_incident::DueAnchor::AwareAt,
                },
                due_at: Some(due),
                action: None,
                status: bulwark_incident::TaskStatus::Open,
                created_at: now,
            })
        })
        .collect()
}
