//! Training records: who must take which module (assignments, on hire and
//! then every validity period), quiz attempts with their score, policy
//! acknowledgements, and phishing-simulation outcomes. Every change is
//! ledgered; the modules and their grading are `bulwark_learn`'s.

use std::collections::HashMap;

use bulwark_learn::{Grade, Module, PhishingEvent, TrainingSet, TrainingStatus};
use bulwark_model::Role;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::Date;

use crate::error::StoreError;
use crate::Store;

#[derive(Debug, thiserror::Error)]
pub enum TrainingWriteError {
    #[error("no training module `{0}` (see `bulwark training status`)")]
    UnknownModule(String),
    #[error("no operator `{0}`")]
    UnknownOperator(String),
    #[error("module `{module}` is not for the role `{role}`")]
    NotForRole { module: String, role: String },
    #[error("no operator holds the role `{0}`")]
    NobodyInRole(String),
    #[error("`{person}` is not assigned `{module}` (assign it first)")]
    NotAssigned { person: String, module: String },
    #[error("`{module}` allows {max} attempts; ask for it to be reassigned")]
    TooManyAttempts { module: String, max: u32 },
    #[error("the assignment date {on} is after today ({today})")]
    InTheFuture { on: Date, today: Date },
    #[error("a campaign id is 1 to 64 printable characters")]
    BadCampaign,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One person's assignment and where it stands.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrainingRow {
    /// The operator's id.
    pub person: String,
    pub module: String,
    pub title: String,
    pub version: u32,
    pub requirement: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    #[serde(serialize_with = "iso_date")]
    pub assigned_on: Date,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    #[serde(serialize_with = "iso_opt")]
    pub last_passed: Option<Date>,
    /// Failed attempts since the last pass (or the assignment).
    pub failed_attempts: u32,
    /// Whether the module's current version is acknowledged.
    pub acknowledged: bool,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    #[serde(serialize_with = "iso_date")]
    pub due: Date,
    /// `current`, `due_soon` or `overdue`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub state: bulwark_learn::TrainingState,
    pub days_overdue: i64,
}

fn iso_date<S: serde::Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(d)
}

fn iso_opt<S: serde::Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.collect_str(d),
        None => s.serialize_none(),
    }
}

/// The outcome of a recorded attempt.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttemptOutcome {
    pub correct: usize,
    pub total: usize,
    pub score: u8,
    pub passed: bool,
    pub pass_mark: u8,
    /// Attempts left before reassignment (after this one).
    pub attempts_left: u32,
}

/// Hex SHA-256 of a lower-cased, trimmed e-mail address: how phishing results
/// name a person without storing the address.
pub fn person_hash(email: &str) -> String {
    hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()))
}

fn module<'a>(set: &'a TrainingSet, id: &str) -> Result<&'a Module, TrainingWriteError> {
    set.get(id)
        .ok_or_else(|| TrainingWriteError::UnknownModule(id.chars().take(64).collect()))
}

impl Store {
    /// Assigns `module` (or every module for the role) to every operator
    /// holding team role `role`, from `on`. Returns how many assignments
    /// are new; existing ones are kept (their dates do not move).
    pub fn assign_training_to_role(
        &self,
        set: &TrainingSet,
        role: Role,
        module_id: Option<&str>,
        on: Date,
        today: Date,
        actor: &str,
    ) -> Result<usize, TrainingWriteError> {
        let people: Vec<String> = self
            .operators()?
            .into_iter()
            .filter(|o| !o.disabled && o.roles.has_team(role))
            .map(|o| o.id)
            .collect();
        if people.is_empty() {
            return Err(TrainingWriteError::NobodyInRole(role.code().into()));
        }
        let modules: Vec<&Module> = match module_id {
            Some(id) => {
                let m = module(set, id)?;
                if !m.is_for(role.code()) {
                    return Err(TrainingWriteError::NotForRole {
                        module: m.id.clone(),
                        role: role.code().into(),
                    });
                }
                vec![m]
            }
            None => set.modules().filter(|m| m.is_for(role.code())).collect(),
        };
        let pairs = people
            .iter()
            .flat_map(|p| modules.iter().map(move |m| (p.clone(), *m)))
            .collect();
        self.insert_assignments(pairs, Some(role.code()), on, today, actor)
    }

    /// Assigns `module` (or every module for `all`) to one operator.
    pub fn assign_training_to_operator(
        &self,
        set: &TrainingSet,
        operator: &str,
        module_id: Option<&str>,
        on: Date,
        today: Date,
        actor: &str,
    ) -> Result<usize, TrainingWriteError> {
        let op = self.operator(operator)?.ok_or_else(|| {
            TrainingWriteError::UnknownOperator(operator.chars().take(64).collect())
        })?;
        let modules: Vec<&Module> = match module_id {
            Some(id) => vec![module(set, id)?],
            None => set
                .modules()
                .filter(|m| {
                    m.roles.iter().any(|r| r == "all")
                        || Role::ALL
                            .iter()
                            .any(|r| op.roles.has_team(*r) && m.is_for(r.code()))
                })
                .collect(),
        };
        let pairs = modules.into_iter().map(|m| (op.id.clone(), m)).collect();
        self.insert_assignments(pairs, None, on, today, actor)
    }

    fn insert_assignments(
        &self,
        pairs: Vec<(String, &Module)>,
        role: Option<&str>,
        on: Date,
        today: Date,
        actor: &str,
    ) -> Result<usize, TrainingWriteError> {
        if on > today {
            return Err(TrainingWriteError::InTheFuture { on, today });
        }
        let rows: Vec<(String, String, u32, String)> = pairs
            .into_iter()
            .map(|(p, m)| {
                let due = m.status(on, None, on).due.to_string();
                (p, m.id.clone(), m.version, due)
            })
            .collect();
        let role = role.map(str::to_owned);
        let actor = actor.to_owned();
        self.writer()
            .submit(move |ctx| -> Result<usize, TrainingWriteError> {
                let mut added = 0;
                let on = on.to_string();
                for (person, module, version, due) in rows {
                    let n = ctx
                        .main
                        .execute(
                            "INSERT OR IGNORE INTO training_assignments
                             (person, module, version, role, assigned_on, due_on, actor, recorded_ms)
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                            params![person, module, version, role, on, due, actor, ctx.now_ms],
                        )
                        .map_err(StoreError::from)?;
                    if n > 0 {
                        added += 1;
                        ctx.ledger(
                            &actor,
                            "training.assigned",
                            &format!("operator:{person}"),
                            serde_json::json!({"module": module, "version": version, "role": role, "on": on, "due": due}),
                        )?;
                    }
                }
                Ok(added)
            })
            .wait_blocking()
    }

    /// Grades `answers` for `person` and records the attempt (and, when
    /// `acknowledged`, the acknowledgement of the module's version). A pass is
    /// ledgered as `training.passed`.
    pub fn record_training_attempt(
        &self,
        set: &TrainingSet,
        person: &str,
        module_id: &str,
        answers: &[usize],
        acknowledged: bool,
        today: Date,
    ) -> Result<AttemptOutcome, TrainingWriteError> {
        let m = module(set, module_id)?.clone();
        let grade: Grade = m.grade(answers);
        let person = person.to_owned();
        self.writer()
            .submit(move |ctx| -> Result<AttemptOutcome, TrainingWriteError> {
                let assigned: Option<String> = ctx
                    .main
                    .query_row(
                        "SELECT assigned_on FROM training_assignments WHERE person = ?1 AND module = ?2",
                        params![person, m.id],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(StoreError::from)?;
                let Some(assigned) = assigned else {
                    return Err(TrainingWriteError::NotAssigned {
                        person: person.chars().take(64).collect(),
                        module: m.id.clone(),
                    });
                };
                let failed = failed_since_pass(ctx.main, &person, &m.id, &assigned)?;
                if failed >= m.max_attempts {
                    return Err(TrainingWriteError::TooManyAttempts {
                        module: m.id.clone(),
                        max: m.max_attempts,
                    });
                }
                let day = today.to_string();
                ctx.main
                    .execute(
                        "INSERT INTO training_attempts (person, module, version, score, passed, on_day, at_ms)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        params![person, m.id, m.version, grade.score, grade.passed, day, ctx.now_ms],
                    )
                    .map_err(StoreError::from)?;
                let subject = format!("operator:{person}");
                ctx.ledger(
                    &subject,
                    if grade.passed { "training.passed" } else { "training.failed" },
                    &subject,
                    serde_json::json!({"module": m.id, "version": m.version, "score": grade.score, "on": day}),
                )?;
                if acknowledged {
                    ctx.main
                        .execute(
                            "INSERT INTO training_acknowledgements (person, module, version, at_ms) VALUES (?1, ?2, ?3, ?4)",
                            params![person, m.id, m.version, ctx.now_ms],
                        )
                        .map_err(StoreError::from)?;
                    ctx.ledger(
                        &subject,
                        "training.acknowledged",
                        &subject,
                        serde_json::json!({"module": m.id, "version": m.version}),
                    )?;
                }
                let used = if grade.passed { 0 } else { failed + 1 };
                Ok(AttemptOutcome {
                    correct: grade.correct,
                    total: grade.total,
                    score: grade.score,
                    passed: grade.passed,
                    pass_mark: m.pass_mark,
                    attempts_left: m.max_attempts.saturating_sub(used),
                })
            })
            .wait_blocking()
    }

    /// Every assignment with its status on `today`, overdue first (most
    /// overdue first), then by due date. Assignments of modules no longer
    /// in `set` are left out.
    pub fn training_status(
        &self,
        set: &TrainingSet,
        today: Date,
    ) -> Result<Vec<TrainingRow>, StoreError> {
        type Raw = (
            String,
            String,
            Option<String>,
            String,
            Option<String>,
            u32,
            bool,
        );
        let raw: Vec<Raw> = self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT a.person, a.module, a.role, a.assigned_on,
                        (SELECT max(on_day) FROM training_attempts t
                          WHERE t.person = a.person AND t.module = a.module AND t.passed = 1),
                        0, 0
                 FROM training_assignments a ORDER BY a.person, a.module",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get::<_, i64>(6)? != 0,
                ))
            })?;
            let mut out: Vec<Raw> = rows.collect::<rusqlite::Result<_>>()?;
            for row in &mut out {
                row.5 = failed_since_pass(c, &row.0, &row.1, &row.3)?;
            }
            Ok(out)
        })?;
        let acks: HashMap<(String, String), u32> = self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT person, module, max(version) FROM training_acknowledgements GROUP BY person, module",
            )?;
            let rows = stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })?;
        let day = |s: &str, what: &str| {
            bulwark_model::parse_date(s)
                .ok_or_else(|| StoreError::corrupt(format!("training {what} date")))
        };
        let mut out = Vec::new();
        for (person, module_id, role, assigned, passed, failed, _) in raw {
            let Some(m) = set.get(&module_id) else {
                continue;
            };
            let assigned_on = day(&assigned, "assignment")?;
            let last_passed = passed.as_deref().map(|p| day(p, "attempt")).transpose()?;
            let status: TrainingStatus = m.status(assigned_on, last_passed, today);
            let acknowledged = acks
                .get(&(person.clone(), module_id.clone()))
                .is_some_and(|v| *v >= m.version);
            out.push(TrainingRow {
                person,
                module: module_id,
                title: m.title.clone(),
                version: m.version,
                requirement: m.requirement.clone(),
                role,
                assigned_on,
                last_passed,
                failed_attempts: failed,
                acknowledged,
                due: status.due,
                state: status.state,
                days_overdue: status.days_overdue,
            });
        }
        out.sort_by(|a, b| {
            b.days_overdue
                .cmp(&a.days_overdue)
                .then(a.due.cmp(&b.due))
                .then(a.person.cmp(&b.person))
                .then(a.module.cmp(&b.module))
        });
        Ok(out)
    }

    /// The day the training record last completed the training duties, by
    /// this rule: when every assignment has been passed, the record counts as
    /// done on the oldest of those latest passes (so the duty falls due a
    /// validity period after the first person's training lapses); while any
    /// assigned person has never passed, training completes nothing.
    pub(crate) fn training_completed_on(&self) -> Result<Option<Date>, StoreError> {
        let (unpassed, oldest): (i64, Option<String>) = self.read(|c| {
            Ok(c.query_row(
                "WITH latest AS (
                   SELECT (SELECT max(on_day) FROM training_attempts t
                            WHERE t.person = a.person AND t.module = a.module AND t.passed = 1) AS p
                   FROM training_assignments a)
                 SELECT coalesce(sum(p IS NULL), 0), min(p) FROM latest",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })?;
        if unpassed > 0 {
            return Ok(None);
        }
        Ok(oldest.as_deref().and_then(bulwark_model::parse_date))
    }

    /// Records one phishing-simulation outcome: the campaign, a hash of the
    /// recipient's address (linked to the operator with that address, if
    /// any) and what happened. Nothing else of the event is kept.
    pub fn record_phishing_result(
        &self,
        campaign_id: &str,
        email: &str,
        event: PhishingEvent,
    ) -> Result<(), TrainingWriteError> {
        if campaign_id.is_empty()
            || campaign_id.chars().count() > 64
            || campaign_id.chars().any(char::is_control)
        {
            return Err(TrainingWriteError::BadCampaign);
        }
        let hash = person_hash(email);
        let operator = self
            .operators()?
            .into_iter()
            .find(|o| o.email.as_deref().is_some_and(|e| person_hash(e) == hash))
            .map(|o| o.id);
        let campaign = campaign_id.to_owned();
        self.writer()
            .submit(move |ctx| -> Result<(), TrainingWriteError> {
                ctx.main
                    .execute(
                        "INSERT INTO phishing_results (campaign_id, person_hash, operator, event, at_ms)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![campaign, hash, operator, event.code(), ctx.now_ms],
                    )
                    .map_err(StoreError::from)?;
                ctx.ledger(
                    "gophish",
                    "training.phishing_result",
                    &format!("campaign:{campaign}"),
                    serde_json::json!({"person_hash": hash, "operator": operator, "event": event.code()}),
                )?;
                Ok(())
            })
            .wait_blocking()
    }

    /// Phishing outcomes, oldest first.
    pub fn phishing_results(&self) -> Result<Vec<PhishingResult>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT campaign_id, person_hash, operator, event FROM phishing_results ORDER BY id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(PhishingResult {
                    campaign: r.get(0)?,
                    person_hash: r.get(1)?,
                    operator: r.get(2)?,
                    event: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}

/// One phishing-simulation outcome as stored.
#[derive(Debug, Clone, Serialize)]
pub struct PhishingResult {
    pub campaign: String,
    /// [`person_hash`] of the recipient's address.
    pub person_hash: String,
    pub operator: Option<String>,
    pub event: String,
}

/// Failed attempts since the later of the last pass and the assignment.
fn failed_since_pass(
    c: &rusqlite::Connection,
    person: &str,
    module: &str,
    assigned_on: &str,
) -> Result<u32, StoreError> {
    let n: i64 = c.query_row(
        "SELECT count(*) FROM training_attempts
         WHERE person = ?1 AND module = ?2 AND passed = 0 AND on_day >= ?3
           AND id > coalesce((SELECT max(id) FROM training_attempts
                              WHERE person = ?1 AND module = ?2 AND passed = 1), 0)",
        params![person, module, assigned_on],
        |r| r.get(0),
    )?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}
