//! The compliance calendar's record: which recurring duty was done when, with
//! what evidence. Each completion is ledgered; the due dates themselves are
//! computed by `bulwark_learn` from the duties' cadences.

use std::collections::HashMap;
use std::path::Path;

use bulwark_learn::{Calendar, Duty, DutyStatus, EvidenceKind};
use rusqlite::params;
use serde::Serialize;
use time::Date;

use crate::error::StoreError;
use crate::evidence::{safe_name, EvidenceError};
use crate::Store;

/// A completion's document in the evidence locker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockedDocument {
    pub sha256: String,
    pub name: String,
    pub size: u64,
}

/// A recorded completion, as the history lists it.
#[derive(Debug, Clone, Serialize)]
pub struct CompletionRecord {
    pub id: u64,
    pub duty: String,
    #[serde(serialize_with = "iso_date")]
    pub on: Date,
    pub evidence: EvidenceKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document: Option<LockedDocument>,
    pub actor: String,
    pub recorded_ms: i64,
}

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
    /// A scan report or document is evidence only as the file itself.
    #[error(
        "`{0}` evidence is the document itself: attach the file (it goes into the evidence locker)"
    )]
    DocumentRequired(String),
    #[error("the document could not go into the evidence locker: {0}")]
    Document(#[from] EvidenceError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a completion's document could not be read out.
#[derive(Debug, thiserror::Error)]
pub enum CompletionDocumentError {
    #[error("no compliance completion {0}")]
    NotFound(u64),
    #[error("compliance completion {0} has no document")]
    NoDocument(u64),
    #[error(transparent)]
    Locker(#[from] EvidenceError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Evidence kinds that are a file: recorded only with the file in the locker.
fn needs_document(e: EvidenceKind) -> bool {
    matches!(e, EvidenceKind::ScanReport | EvidenceKind::Document)
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
    /// ledgered on return. Scan reports and documents need their file: see
    /// [`Store::complete_duty_with_document`].
    pub fn complete_duty(
        &self,
        calendar: &Calendar,
        completion: Completion,
        today: Date,
        actor: &str,
    ) -> Result<u64, CompletionError> {
        self.record_completion(calendar, completion, None, today, actor)
    }

    /// As [`Store::complete_duty`], with `document` (a scan report, minutes)
    /// copied into the evidence locker by hash and named in the completion
    /// and its ledger entry. Nothing is recorded if the duty or evidence is
    /// refused; a refused file leaves no completion.
    pub fn complete_duty_with_document(
        &self,
        calendar: &Calendar,
        completion: Completion,
        document: &Path,
        today: Date,
        actor: &str,
    ) -> Result<u64, CompletionError> {
        self.record_completion(calendar, completion, Some(document), today, actor)
    }

    fn record_completion(
        &self,
        calendar: &Calendar,
        completion: Completion,
        document: Option<&Path>,
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
        if document.is_none() && needs_document(completion.evidence) {
            return Err(CompletionError::DocumentRequired(code(completion.evidence)));
        }
        // Into the locker first: a crash between leaves an unreferenced file
        // (content-addressed, harmless), never a completion naming a file
        // that is not there.
        let document = match document {
            Some(path) => {
                let (sha256, size) = self.lock_file(path)?;
                Some(LockedDocument {
                    sha256,
                    name: safe_name(path),
                    size,
                })
            }
            None => None,
        };
        let actor = actor.to_owned();
        self.writer()
            .submit(move |ctx| -> Result<u64, CompletionError> {
                let evidence = code(completion.evidence);
                let on = completion.on.to_string();
                let (sha, name, size) = match &document {
                    Some(d) => (Some(d.sha256.clone()), Some(d.name.clone()), Some(d.size as i64)),
                    None => (None, None, None),
                };
                ctx.main
                    .execute(
                        "INSERT INTO compliance_completions (duty_id, completed_on, evidence, reference, actor, recorded_ms,
                                                             document_sha256, document_name, document_size)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                        params![completion.duty, on, evidence, completion.reference, actor, ctx.now_ms, sha, name, size],
                    )
                    .map_err(StoreError::from)?;
                let id = ctx.main.last_insert_rowid() as u64;
                ctx.ledger(
                    &actor,
                    "compliance.completed",
                    &completion.duty,
                    serde_json::json!({"completion": id, "on": on, "evidence": evidence,
                        "reference": completion.reference, "document": document}),
                )?;
                Ok(id)
            })
            .wait_blocking()
    }

    /// The recorded completions, newest first, of `duty` or of every duty.
    pub fn completions(&self, duty: Option<&str>) -> Result<Vec<CompletionRecord>, StoreError> {
        self.query_completions(duty, None)
    }

    fn query_completions(
        &self,
        duty: Option<&str>,
        id: Option<u64>,
    ) -> Result<Vec<CompletionRecord>, StoreError> {
        let id = id.map(|i| i as i64);
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, duty_id, completed_on, evidence, reference, actor, recorded_ms,
                        document_sha256, document_name, document_size
                 FROM compliance_completions
                 WHERE (?1 IS NULL OR duty_id = ?1) AND (?2 IS NULL OR id = ?2)
                 ORDER BY completed_on DESC, id DESC LIMIT 10000",
            )?;
            let rows = stmt.query_map(params![duty, id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, i64>(6)?,
                    (
                        r.get::<_, Option<String>>(7)?,
                        r.get::<_, Option<String>>(8)?,
                        r.get::<_, Option<i64>>(9)?,
                    ),
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (id, duty, on, evidence, reference, actor, recorded_ms, doc) = row?;
                let bad = || StoreError::corrupt(format!("compliance completion {id}"));
                let on = parse_day(&on).ok_or_else(bad)?;
                let evidence: EvidenceKind =
                    serde_json::from_value(serde_json::Value::String(evidence))
                        .map_err(|_| bad())?;
                let document = match doc {
                    (Some(sha256), Some(name), Some(size)) => Some(LockedDocument {
                        sha256,
                        name,
                        size: size.max(0) as u64,
                    }),
                    _ => None,
                };
                out.push(CompletionRecord {
                    id: id as u64,
                    duty,
                    on,
                    evidence,
                    reference,
                    document,
                    actor,
                    recorded_ms,
                });
            }
            Ok(out)
        })
    }

    /// Copies completion `id`'s document out of the locker to `dest` (a new
    /// file), checking its hash; the access is ledgered.
    pub fn completion_document(
        &self,
        id: u64,
        dest: &Path,
        actor: &str,
    ) -> Result<CompletionRecord, CompletionDocumentError> {
        self.access_document(id, actor, |doc| self.unlock_file(&doc.sha256, dest))
    }

    /// Completion `id`'s document, read from the locker and checked against
    /// its hash (for an HTTP answer); the access is ledgered.
    pub fn completion_document_bytes(
        &self,
        id: u64,
        actor: &str,
    ) -> Result<(CompletionRecord, Vec<u8>), CompletionDocumentError> {
        let mut bytes = Vec::new();
        let record = self.access_document(id, actor, |doc| {
            bytes = self.read_locked(&doc.sha256)?;
            Ok(())
        })?;
        Ok((record, bytes))
    }

    /// Finds completion `id`'s document, hands it to `read`, and ledgers the
    /// access once `read` succeeded.
    fn access_document(
        &self,
        id: u64,
        actor: &str,
        read: impl FnOnce(&LockedDocument) -> Result<(), EvidenceError>,
    ) -> Result<CompletionRecord, CompletionDocumentError> {
        let record = self
            .query_completions(None, Some(id))?
            .into_iter()
            .next()
            .ok_or(CompletionDocumentError::NotFound(id))?;
        let doc = record
            .document
            .clone()
            .ok_or(CompletionDocumentError::NoDocument(id))?;
        read(&doc)?;
        let (actor, duty) = (actor.to_owned(), record.duty.clone());
        self.writer()
            .submit(move |ctx| {
                ctx.ledger(
                    &actor,
                    "compliance.document_accessed",
                    &duty,
                    serde_json::json!({"completion": id, "sha256": doc.sha256}),
                )?;
                Ok::<_, StoreError>(())
            })
            .wait_blocking()?;
        Ok(record)
    }

    /// Every duty of `calendar` with its last completion and its status on
    /// `today`, overdue first (most overdue first), then by due date. A duty
    /// never done is due from the day the data directory was created. A
    /// signed-off access review or a finished drill run completes every duty
    /// that accepts one; so does a successful crawl of every watched payment
    /// page, for the duties that accept a page check.
    pub fn compliance_status(
        &self,
        calendar: &Calendar,
        today: Date,
    ) -> Result<Vec<DutyReport>, StoreError> {
        let (last, first_ms, review_ms, drill_ms, page_ms) = self.read(|c| {
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
            // And the payment pages checked (11.6.1): the day by which every
            // watched page had a successful crawl — the oldest of their latest.
            let pages: i64 =
                c.query_row("SELECT count(*) FROM watched_pages", [], |r| r.get(0))?;
            let checked: (i64, Option<i64>) = c.query_row(
                "SELECT count(*), min(last) FROM (SELECT max(r.started_ms) AS last FROM pagewatch_runs r
                 JOIN watched_pages p ON p.id = r.page_id WHERE r.outcome = 'ok' GROUP BY r.page_id)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let page_ms = (pages > 0 && checked.0 == pages).then_some(checked.1).flatten();
            Ok((last, first_ms, review_ms, drill_ms, page_ms))
        })?;
        let day_of = |ms: i64| {
            time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
                .ok()
                .map(|t| t.date())
        };
        let reviewed = review_ms.and_then(day_of);
        let drilled = drill_ms.and_then(day_of);
        let pages_checked = page_ms.and_then(day_of);
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
                let by_pages =
                    pages_checked.filter(|_| d.evidence.contains(&EvidenceKind::PageCheck));
                let last_completed = last
                    .get(&d.id)
                    .copied()
                    .max(by_review)
                    .max(by_training)
                    .max(by_drill)
                    .max(by_pages);
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
