//! Drill runs as the store keeps them: the scenario as it was run, its clock
//! (start, speed, pauses), which injects have fired, and, at the end, the
//! score. Everything a run creates is tied to it — its incidents
//! (`drill_incidents`), the synthetic customers it made (`drill_customers`),
//! the messages to operators its injects sent (`drill_messages`) and its alerts
//! (source `drill:<run>`) — so that real boards, counts and the outbox leave
//! them out. The server's runner drives a run; the CLI and the API start,
//! stop and read them through here, from any process on the data directory.

use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Result;
use crate::{Pending, Store, StoreError};

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DrillState {
    Running,
    /// Stopped by someone; its clock stands still until resumed.
    Stopped,
    /// Ran to its end and was scored.
    Finished,
}

impl DrillState {
    pub fn code(self) -> &'static str {
        match self {
            DrillState::Running => "running",
            DrillState::Stopped => "stopped",
            DrillState::Finished => "finished",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "running" => Some(DrillState::Running),
            "stopped" => Some(DrillState::Stopped),
            "finished" => Some(DrillState::Finished),
            _ => None,
        }
    }
}

/// One inject that has fired, and when (real time; moved on by a pause that
/// came before all its events were sent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FiredInject {
    pub inject: String,
    pub fire_ms: i64,
}

/// A drill run.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrillRun {
    pub id: u64,
    pub scenario_id: String,
    /// The scenario as it was run (JSON), so a changed file does not change a
    /// past run's score.
    #[serde(skip)]
    pub scenario: String,
    pub speed: u32,
    pub state: DrillState,
    pub started_ms: i64,
    pub started_by: String,
    /// Real-time intervals the run was stopped; the last may still be open.
    pub pauses: Vec<(i64, Option<i64>)>,
    pub fired: Vec<FiredInject>,
    /// Real time the first attack event was sent.
    pub first_attack_ms: Option<i64>,
    /// Real time up to which the runner has sent the fired injects' events.
    pub sent_through_ms: i64,
    /// The last time a runner worked on it: a running drill with an old
    /// heartbeat has no `serve` driving it.
    pub heartbeat_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    /// The score at the end (see `bulwark_learn::drill::score::Score`).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub score: Option<serde_json::Value>,
}

/// Why a drill could not be changed or read.
#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    #[error("drill run {0} not found")]
    NotFound(u64),
    #[error("drill run {id} is {state}, not {wanted}")]
    State {
        id: u64,
        state: &'static str,
        wanted: &'static str,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for DrillError {
    fn from(e: rusqlite::Error) -> Self {
        DrillError::Store(e.into())
    }
}

/// A message an inject sends to one operator.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrillMessage {
    pub id: i64,
    pub run_id: u64,
    pub inject: String,
    pub role: String,
    pub operator: String,
    /// The operator's address (never a customer's).
    #[serde(skip)]
    pub email: String,
    pub subject: String,
    pub body: String,
    /// `pending` (no SMTP configured yet, or not yet sent), `sent` or `failed`.
    pub state: String,
    pub created_ms: i64,
    pub sent_ms: Option<i64>,
}

/// An alert the run raised, as scoring needs it.
#[derive(Debug, Clone, Serialize)]
pub struct DrillAlert {
    pub rule_id: String,
    pub rule_title: String,
    /// When it was raised (real time).
    pub created_ms: i64,
}

const COLS: &str = "id, scenario_id, scenario, speed, state, started_ms, started_by, pauses, fired,
                    first_attack_ms, sent_through_ms, heartbeat_ms, finished_ms, score";

fn corrupt(what: &str, e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("drill run {what}: {e}").into(),
    )
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<DrillRun> {
    let state: String = r.get(4)?;
    let pauses: String = r.get(7)?;
    let fired: String = r.get(8)?;
    let score: Option<String> = r.get(13)?;
    Ok(DrillRun {
        id: r.get::<_, i64>(0)? as u64,
        scenario_id: r.get(1)?,
        scenario: r.get(2)?,
        speed: r.get::<_, i64>(3)?.clamp(1, i64::from(u32::MAX)) as u32,
        state: DrillState::parse(&state).ok_or_else(|| corrupt("state", &state))?,
        started_ms: r.get(5)?,
        started_by: r.get(6)?,
        pauses: serde_json::from_str(&pauses).map_err(|e| corrupt("pauses", e))?,
        fired: serde_json::from_str(&fired).map_err(|e| corrupt("injects", e))?,
        first_attack_ms: r.get(9)?,
        sent_through_ms: r.get(10)?,
        heartbeat_ms: r.get(11)?,
        finished_ms: r.get(12)?,
        score: match score {
            Some(s) => Some(serde_json::from_str(&s).map_err(|e| corrupt("score", e))?),
            None => None,
        },
    })
}

fn load(c: &rusqlite::Connection, id: u64) -> std::result::Result<DrillRun, DrillError> {
    c.prepare_cached(&format!("SELECT {COLS} FROM drill_runs WHERE id = ?1"))?
        .query_row([id as i64], from_row)
        .optional()?
        .ok_or(DrillError::NotFound(id))
}

fn json(v: &impl Serialize) -> std::result::Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::corrupt(format!("a drill run: {e}")))
}

/// The source of a run's alerts.
pub fn drill_source(run: u64) -> String {
    format!("drill:{run}")
}

/// What the runner reports after a tick.
#[derive(Debug, Clone, Default)]
pub struct DrillProgress {
    pub fired: Vec<FiredInject>,
    pub first_attack_ms: Option<i64>,
    pub sent_through_ms: i64,
}

impl Store {
    /// Starts a run of `scenario` (its id and JSON) at `speed`; ledgered.
    pub fn start_drill(
        &self,
        scenario_id: &str,
        scenario: String,
        speed: u32,
        actor: &str,
    ) -> Pending<u64> {
        let (scenario_id, actor) = (scenario_id.to_owned(), actor.to_owned());
        self.writer().submit(move |ctx| {
            ctx.main.execute(
                "INSERT INTO drill_runs (scenario_id, scenario, speed, state, started_ms, started_by,
                                         pauses, fired, sent_through_ms)
                 VALUES (?1, ?2, ?3, 'running', ?4, ?5, '[]', '[]', ?4 - 1)",
                params![scenario_id, scenario, i64::from(speed), ctx.now_ms, actor],
            )?;
            let id = ctx.main.last_insert_rowid() as u64;
            ctx.ledger(
                &actor,
                "drill.started",
                &format!("drill:{id}"),
                serde_json::json!({"scenario": scenario_id, "speed": speed}),
            )?;
            Ok(id)
        })
    }

    pub fn drill_run(&self, id: u64) -> std::result::Result<DrillRun, DrillError> {
        self.read_with(|c| load(c, id))
    }

    /// Runs, newest first.
    pub fn drill_runs(&self, limit: usize) -> Result<Vec<DrillRun>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLS} FROM drill_runs ORDER BY id DESC LIMIT ?1"
            ))?;
            let rows = stmt.query_map([limit.clamp(1, 1000) as i64], from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// The runs a runner must drive (running ones).
    pub fn running_drills(&self) -> Result<Vec<DrillRun>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLS} FROM drill_runs WHERE state = 'running' ORDER BY id"
            ))?;
            let rows = stmt.query_map([], from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Stops a running drill: its clock stands still, nothing more is sent.
    pub fn stop_drill(&self, id: u64, actor: &str) -> Pending<DrillRun, DrillError> {
        self.change_drill(id, actor, DrillState::Running, DrillState::Stopped)
    }

    /// Resumes a stopped drill where it was.
    pub fn resume_drill(&self, id: u64, actor: &str) -> Pending<DrillRun, DrillError> {
        self.change_drill(id, actor, DrillState::Stopped, DrillState::Running)
    }

    fn change_drill(
        &self,
        id: u64,
        actor: &str,
        from: DrillState,
        to: DrillState,
    ) -> Pending<DrillRun, DrillError> {
        let actor = actor.to_owned();
        self.writer().submit(move |ctx| {
            let mut run = load(ctx.main, id)?;
            if run.state != from {
                return Err(DrillError::State {
                    id,
                    state: run.state.code(),
                    wanted: from.code(),
                });
            }
            let now = ctx.now_ms;
            match to {
                DrillState::Stopped => run.pauses.push((now, None)),
                _ => {
                    let paused = match run.pauses.last_mut() {
                        Some((from, to @ None)) => {
                            *to = Some(now);
                            now - *from
                        }
                        _ => 0,
                    };
                    // Events of injects fired before the stop land after it, as
                    // if the stop never happened.
                    for f in &mut run.fired {
                        if f.fire_ms + paused > run.sent_through_ms {
                            f.fire_ms += paused;
                        }
                    }
                    run.sent_through_ms = run.sent_through_ms.max(now);
                }
            }
            run.state = to;
            ctx.main.execute(
                "UPDATE drill_runs SET state = ?2, pauses = ?3, fired = ?4, sent_through_ms = ?5 WHERE id = ?1",
                params![id as i64, to.code(), json(&run.pauses)?, json(&run.fired)?, run.sent_through_ms],
            )?;
            let action = if to == DrillState::Stopped {
                "drill.stopped"
            } else {
                "drill.resumed"
            };
            ctx.ledger(
                &actor,
                action,
                &format!("drill:{id}"),
                serde_json::json!({}),
            )?;
            Ok(run)
        })
    }

    /// Adds a stretch `(from, to)` during which the run's clock stood still
    /// (the runner preparing it); what was sent before moves on with it.
    pub fn pause_drill_clock(&self, id: u64, from: i64, to: i64) -> Pending<(), DrillError> {
        self.writer().submit(move |ctx| {
            let mut run = load(ctx.main, id)?;
            run.pauses.push((from, Some(to.max(from))));
            ctx.main.execute(
                "UPDATE drill_runs SET pauses = ?2, sent_through_ms = max(sent_through_ms, ?3), heartbeat_ms = ?4 WHERE id = ?1",
                params![id as i64, json(&run.pauses)?, to - 1, ctx.now_ms],
            )?;
            Ok(())
        })
    }

    /// Records containment run on one of a run's incidents, which acts on the
    /// drill alone.
    pub fn record_drill_containment(
        &self,
        run: u64,
        action: &str,
        target: Option<String>,
        undo: bool,
    ) -> Pending<()> {
        let action = action.to_owned();
        self.writer().submit(move |ctx| {
            ctx.main.execute(
                "INSERT INTO drill_containment (run_id, action, target, undo, at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![run as i64, action, target, undo, ctx.now_ms],
            )?;
            Ok(())
        })
    }

    /// Whether the run's stolen key is refused now: revoked on one of its
    /// incidents, or the drill's vault locked down (and not undone).
    pub fn drill_key_refused(&self, run: u64) -> Result<bool> {
        self.read(|c| {
            let revoked: bool = c.query_row(
                "SELECT EXISTS (SELECT 1 FROM drill_containment WHERE run_id = ?1 AND action = 'revoke_api_key' AND target = ?2)",
                params![run as i64, format!("drill-{run}")],
                |r| r.get(0),
            )?;
            let locked: Option<bool> = c
                .query_row(
                    "SELECT NOT undo FROM drill_containment WHERE run_id = ?1 AND action = 'vault_lockdown' ORDER BY rowid DESC LIMIT 1",
                    [run as i64],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(revoked || locked.unwrap_or(false))
        })
    }

    /// Records a runner's progress on a running drill; a drill stopped in the
    /// meantime keeps its state (the next tick sees it).
    pub fn record_drill_progress(&self, id: u64, p: DrillProgress) -> Pending<bool, DrillError> {
        self.writer().submit(move |ctx| {
            let n = ctx.main.execute(
                "UPDATE drill_runs SET fired = ?2, first_attack_ms = coalesce(first_attack_ms, ?3),
                        sent_through_ms = max(sent_through_ms, ?4), heartbeat_ms = ?5
                 WHERE id = ?1 AND state = 'running'",
                params![
                    id as i64,
                    json(&p.fired)?,
                    p.first_attack_ms,
                    p.sent_through_ms,
                    ctx.now_ms
                ],
            )?;
            Ok(n == 1)
        })
    }

    /// Ends a run with its score and the facts the ledger keeps of it (time
    /// to detect and contain, points): `drill.completed` is the evidence of
    /// the plan test (PCI DSS 12.10.2) the compliance calendar counts.
    ///
    /// `improvements` (title, objective, owner role) become the run's
    /// improvement plan, due `due_after_ms` after the end.
    pub fn finish_drill(
        &self,
        id: u64,
        score: serde_json::Value,
        summary: serde_json::Value,
        improvements: Vec<(String, String, String)>,
        due_after_ms: i64,
    ) -> Pending<(), DrillError> {
        self.writer().submit(move |ctx| {
            let run = load(ctx.main, id)?;
            if run.state == DrillState::Finished {
                return Err(DrillError::State {
                    id,
                    state: run.state.code(),
                    wanted: DrillState::Running.code(),
                });
            }
            ctx.main.execute(
                "UPDATE drill_runs SET state = 'finished', finished_ms = ?2, score = ?3 WHERE id = ?1",
                params![id as i64, ctx.now_ms, json(&score)?],
            )?;
            for (title, objective, owner) in &improvements {
                ctx.main.execute(
                    "INSERT INTO drill_improvements (run_id, title, objective, owner, due_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![id as i64, title, objective, owner, ctx.now_ms + due_after_ms],
                )?;
            }
            let mut details = summary;
            details["scenario"] = serde_json::json!(run.scenario_id);
            details["improvements"] = serde_json::json!(improvements.len());
            ctx.ledger(
                "system:drill",
                "drill.completed",
                &format!("drill:{id}"),
                details,
            )?;
            Ok(())
        })
    }

    /// The incidents a run opened (or that were declared for it).
    pub fn drill_incidents(&self, run: u64) -> Result<Vec<u64>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT incident_id FROM drill_incidents WHERE run_id = ?1 ORDER BY incident_id",
            )?;
            let rows = stmt.query_map([run as i64], |r| r.get::<_, i64>(0))?;
            Ok(rows
                .map(|r| r.map(|v| v as u64))
                .collect::<rusqlite::Result<_>>()?)
        })
    }

    /// The run an incident belongs to, if it is a drill's.
    pub fn drill_of_incident(&self, incident: u64) -> Result<Option<u64>> {
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT run_id FROM drill_incidents WHERE incident_id = ?1")?
                    .query_row([incident as i64], |r| r.get::<_, i64>(0))
                    .optional()?
                    .map(|v| v as u64),
            )
        })
    }

    /// The alerts a run raised, first raised first.
    pub fn drill_alerts(&self, run: u64) -> Result<Vec<DrillAlert>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT rule_id, rule_title, created_at_ms FROM alerts WHERE source = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([drill_source(run)], |r| {
                Ok(DrillAlert {
                    rule_id: r.get(0)?,
                    rule_title: r.get(1)?,
                    created_ms: r.get(2)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Marks a customer as a run's synthetic one (created by the runner,
    /// erased at the end).
    pub fn add_drill_customer(&self, run: u64, customer: Uuid) -> Pending<()> {
        self.writer().submit(move |ctx| {
            ctx.main.execute(
                "INSERT OR IGNORE INTO drill_customers (customer_id, run_id) VALUES (?1, ?2)",
                params![customer.to_string(), run as i64],
            )?;
            Ok(())
        })
    }

    /// A run's synthetic customers.
    pub fn drill_customers(&self, run: u64) -> Result<Vec<Uuid>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT customer_id FROM drill_customers WHERE run_id = ?1 ORDER BY customer_id",
            )?;
            let rows = stmt.query_map([run as i64], |r| r.get::<_, String>(0))?;
            let mut out = Vec::new();
            for r in rows {
                let s = r?;
                out.push(
                    Uuid::parse_str(&s)
                        .map_err(|e| StoreError::corrupt(format!("drill customer id: {e}")))?,
                );
            }
            Ok(out)
        })
    }

    /// Whether a customer is a drill's synthetic one.
    pub fn is_drill_customer(&self, customer: Uuid) -> Result<bool> {
        self.read(|c| {
            Ok(
                c.prepare_cached("SELECT 1 FROM drill_customers WHERE customer_id = ?1")?
                    .query_row([customer.to_string()], |_| Ok(()))
                    .optional()?
                    .is_some(),
            )
        })
    }

    /// Queues an inject's message to each operator holding its role.
    pub fn queue_drill_messages(
        &self,
        run: u64,
        inject: &str,
        role: &str,
        to: Vec<(String, String)>,
        subject: String,
        body: String,
    ) -> Pending<usize> {
        let (inject, role) = (inject.to_owned(), role.to_owned());
        self.writer().submit(move |ctx| {
            for (operator, email) in &to {
                ctx.main.execute(
                    "INSERT INTO drill_messages (run_id, inject, role, operator, email, subject, body, state, created_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8)",
                    params![run as i64, inject, role, operator, email, subject, body, ctx.now_ms],
                )?;
            }
            ctx.ledger(
                "system:drill",
                "drill.message",
                &format!("drill:{run}"),
                serde_json::json!({"inject": inject, "role": role, "operators": to.iter().map(|(o, _)| o).collect::<Vec<_>>()}),
            )?;
            Ok(to.len())
        })
    }

    /// A run's messages (all runs: `None`), oldest first.
    pub fn drill_messages(&self, run: Option<u64>) -> Result<Vec<DrillMessage>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, run_id, inject, role, operator, email, subject, body, state, created_ms, sent_ms
                 FROM drill_messages WHERE ?1 IS NULL OR run_id = ?1 ORDER BY id LIMIT 10000",
            )?;
            let rows = stmt.query_map([run.map(|r| r as i64)], |r| {
                Ok(DrillMessage {
                    id: r.get(0)?,
                    run_id: r.get::<_, i64>(1)? as u64,
                    inject: r.get(2)?,
                    role: r.get(3)?,
                    operator: r.get(4)?,
                    email: r.get(5)?,
                    subject: r.get(6)?,
                    body: r.get(7)?,
                    state: r.get(8)?,
                    created_ms: r.get(9)?,
                    sent_ms: r.get(10)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Records whether a message went out.
    pub fn mark_drill_message(&self, id: i64, sent: bool) -> Pending<()> {
        self.writer().submit(move |ctx| {
            ctx.main.execute(
                "UPDATE drill_messages SET state = ?2, sent_ms = ?3 WHERE id = ?1 AND state = 'pending'",
                params![id, if sent { "sent" } else { "failed" }, ctx.now_ms],
            )?;
            Ok(())
        })
    }
}

/// One item of a run's improvement plan: a task with an owner role and a due
/// date, open until someone records it done (PCI DSS 12.10.6: lessons
/// learned folded back into the plan).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Improvement {
    pub id: i64,
    pub run_id: u64,
    pub title: String,
    pub objective: String,
    /// The team role that owns it.
    pub owner: String,
    pub due_ms: i64,
    pub done_ms: Option<i64>,
    pub done_by: Option<String>,
    pub note: Option<String>,
}

/// Why an improvement item could not be closed.
#[derive(Debug, thiserror::Error)]
pub enum ImprovementError {
    #[error("improvement item {0} not found")]
    NotFound(i64),
    #[error("improvement item {0} is already done")]
    AlreadyDone(i64),
    #[error("the note must be 1 to 2000 characters")]
    BadNote,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for ImprovementError {
    fn from(e: rusqlite::Error) -> Self {
        ImprovementError::Store(e.into())
    }
}

impl Store {
    /// Improvement items, open ones first by due date (all: done ones too).
    pub fn drill_improvements(&self, all: bool) -> Result<Vec<Improvement>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, run_id, title, objective, owner, due_ms, done_ms, done_by, note
                 FROM drill_improvements WHERE ?1 OR done_ms IS NULL
                 ORDER BY done_ms IS NOT NULL, due_ms, id LIMIT 10000",
            )?;
            let rows = stmt.query_map([all], |r| {
                Ok(Improvement {
                    id: r.get(0)?,
                    run_id: r.get::<_, i64>(1)? as u64,
                    title: r.get(2)?,
                    objective: r.get(3)?,
                    owner: r.get(4)?,
                    due_ms: r.get(5)?,
                    done_ms: r.get(6)?,
                    done_by: r.get(7)?,
                    note: r.get(8)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Records an improvement item done, with what was changed; ledgered.
    pub fn complete_improvement(
        &self,
        id: i64,
        note: String,
        actor: &str,
    ) -> Pending<(), ImprovementError> {
        let actor = actor.to_owned();
        self.writer().submit(move |ctx| {
            let n = note.trim();
            if n.is_empty() || n.chars().count() > 2000 {
                return Err(ImprovementError::BadNote);
            }
            let done: Option<Option<i64>> = ctx
                .main
                .query_row(
                    "SELECT done_ms FROM drill_improvements WHERE id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .optional()?;
            match done {
                None => return Err(ImprovementError::NotFound(id)),
                Some(Some(_)) => return Err(ImprovementError::AlreadyDone(id)),
                Some(None) => {}
            }
            ctx.main.execute(
                "UPDATE drill_improvements SET done_ms = ?2, done_by = ?3, note = ?4 WHERE id = ?1",
                params![id, ctx.now_ms, actor, n],
            )?;
            ctx.ledger(
                &actor,
                "drill.improvement_done",
                &format!("improvement:{id}"),
                serde_json::json!({}),
            )?;
            Ok(())
        })
    }
}
