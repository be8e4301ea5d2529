//! The compliance calendar's record: which recurring duty was done when, with
//! what evidence. Each completion is ledgered; the due dates themselves are
//! computed by `bulwark_learn` from the duties' cadences.

use std::collections::HashMap;

use bulwark_learn::{Calendar, Duty, DutyStatus, EvidenceKind};
use rusqlite::params;
use serde::Serialize;
use time::Date;

use crate::error::StoreError;
use crate::Store;

#[derive(Debug, Clone, Serialize)]
pub struct Completion {
    pub duty: String,
    #[serde(serialize_with = "iso_date")]
    pub on: Date,
    pub evidence: EvidenceKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

fn iso_date<S: serde::Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(d)
}

#[derive(Debug, thiserror::Error)]
pub enum CompletionError {
    #[error("no compliance duty `{0}` (see `bulwark compliance status`)")]
    UnknownDuty(String),
    #[error("duty `{duty}` is completed by {expected}, not by `{given}`")]
    WrongEvidence {
        duty: String,
        given: String,
        expected: String,
    },
    #[error("the completion date {on} is after today ({today})")]
    InTheFuture { on: Date, today: Date },
    #[error("the evidence reference must be 1 to 200 printable characters")]
    BadReference,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One duty and where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct DutyReport {
    pub id: String,
    pub title: String,
    pub requirement: String,
    pub cadence: String,
    pub owner: String,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "iso_opt")]
    pub last_completed: Option<Date>,
    #[serde(flatten)]
    pub status: DutyStatus,
}

fn iso_opt<S: serde::Serializer>(d: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.collect_str(d),
        None => s.serialize_none(),
    }
}

fn code(e: EvidenceKind) -> String {
    serde_json::to_value(e)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl Store {
    /// Records that `duty` was done on `on` with `evidence`; durable and
    /// ledgered on return.
    pub fn complete_duty(
        &self,
        calendar: &Calendar,
        completion: Completion,
        today: Date,
        actor: &str,
    ) -> Result<u64, CompletionError> {
        let duty: &Duty = calendar.get(&completion.duty).ok_or_else(|| {
            CompletionError::UnknownDuty(completion.duty.chars().take(64).collect())
        })?;
        if !duty.evidence.contains(&completion.evidence) {
            let expected: Vec<String> = duty
                .evidence
                .iter()
                .map(|e| format!("`{}`", code(*e)))
                .collect();
            return Err(CompletionError::WrongEvidence {
                duty: duty.id.clone(),
                given: code(completion.evidence),
                expected: expected.join(" or "),
            });
        }
        if completion.on > today {
            return Err(CompletionError::InTheFuture {
                on: completion.on,
                today,
            });
        }
        if let Some(r) = &completion.reference {
            if r.trim().is_empty() || r.chars().count() > 200 || r.chars().any(char::is_control) {
                return Err(CompletionError::BadReference);
            }
        }
        let actor = actor.to_owned();
        self.writer()
            .submit(move |ctx| -> Result<u64, CompletionError> {
                let evidence = code(completion.evidence);
                let on = completion.on.to_string();
                ctx.main
                    .execute(
                        "INSERT INTO compliance_completions (duty_id, completed_on, evidence, reference, actor, recorded_ms)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![completion.duty, on, evidence, completion.reference, actor, ctx.now_ms],
                    )
                    .map_err(StoreError::from)?;
                let id = ctx.main.last_insert_rowid() as u64;
                ctx.ledger(
                    &actor,
                    "compliance.completed",
                    &completion.duty,
                    serde_json::json!({"on": on, "evidence": evidence, "reference": completion.reference}),
                )?;
                Ok(id)
            })
            .wait_blocking()
    }

    /// Every duty of `calendar` with its last completion and its status on
    /// `today`, overdue first (most overdue first), then by due date. A duty
    /// never done is due from the day the data directory was created. A
    /// signed-off access review or a finished drill run completes every duty
    /// that accepts one.
    pub fn compliance_status(
        &self,
        calendar: &Calendar,
        today: Date,
    ) -> Result<Vec<DutyReport>, StoreError> {
        let (last, first_ms, review_ms, drill_ms) = self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT duty_id, max(completed_on) FROM compliance_completions GROUP BY duty_id",
            )?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            let mut last = HashMap::new();
            for row in rows {
                let (duty, on) = row?;
                let date = parse_day(&on).ok_or_else(|| {
                    StoreError::corrupt(format!("compliance completion date of {duty}"))
                })?;
                last.insert(duty, date);
            }
            let first_ms: Option<i64> =
                c.query_row("SELECT min(at_ms) FROM ledger", [], |r| r.get(0))?;
            // A signed-off access review is itself the evidence for the duties
            // it completes: no separate `complete` needed.
            let review_ms: Option<i64> = c.query_row(
                "SELECT max(at_ms) FROM ledger WHERE action = 'access_review.signed_off'",
                [],
                |r| r.get(0),
            )?;
            // So is a finished drill run, for the duties a plan test completes.
            let drill_ms: Option<i64> = c.query_row(
                "SELECT max(at_ms) FROM ledger WHERE action = 'drill.completed'",
                [],
                |r| r.get(0),
            )?;
            Ok((last, first_ms, review_ms, drill_ms))
        })?;
        let day_of = |ms: i64| {
            time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
                .ok()
                .map(|t| t.date())
        };
        let reviewed = review_ms.and_then(day_of);
        let drilled = drill_ms.and_then(day_of);
        let trained = self.training_completed_on()?;
        let since = first_ms.and_then(day_of).unwrap_or(today);
        let mut out: Vec<DutyReport> = calendar
            .duties()
            .map(|d| {
                let by_review =
                    reviewed.filter(|_| d.evidence.contains(&EvidenceKind::AccessReview));
                // Training completes a duty that accepts it only when every
                // assigned person has passed (see `training_completed_on`).
                let by_training =
                    trained.filter(|_| d.evidence.contains(&EvidenceKind::TrainingRecord));
                let by_drill = drilled.filter(|_| d.evidence.contains(&EvidenceKind::DrillRun));
                let last_completed = last
                    .get(&d.id)
                    .copied()
                    .max(by_review)
                    .max(by_training)
                    .max(by_drill);
                DutyReport {
                    id: d.id.clone(),
                    title: d.title.clone(),
                    requirement: d.requirement.clone(),
                    cadence: d.cadence.to_string(),
                    owner: d.owner.clone(),
                    last_completed,
                    status: d.status(last_completed, since, today),
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.status
                .days_overdue
                .cmp(&a.status.days_overdue)
                .then(a.status.due.cmp(&b.status.due))
                .then(a.id.cmp(&b.id))
        });
        Ok(out)
    }
}

use bulwark_model::parse_date as parse_day;
