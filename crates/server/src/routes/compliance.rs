//! `/v1/compliance`: the calendar of recurring duties (PCI DSS cadences, the
//! plan's quarterly review) — each with its requirement, cadence, owner, last
//! completion and next due date, overdue first — and recording one as done
//! with its evidence.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use bulwark_learn::{Calendar, Duty, DutyState, EvidenceKind};
use bulwark_model::Scope;
use bulwark_store::{Completion, CompletionRecord, DutyReport};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::S;
use crate::auth::Caller;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Body, Created};
use crate::openapi::{Auth, Failure, Invalid, Missing, RawBytes, TooLarge};
use crate::problem::Problem;

/// One duty and where it stands today.
#[derive(Serialize, ToSchema)]
pub struct DutyView {
    pub id: String,
    pub title: String,
    /// The requirement it comes from, e.g. "PCI DSS v4.0.1 11.3.1".
    pub requirement: String,
    /// `daily`, `weekly`, `quarterly`, `every 90 days`, `yearly`…
    pub cadence: String,
    /// The role that owns it (`it`, `management`, `legal`…).
    pub owner: String,
    /// The kinds of evidence that complete it.
    pub evidence: Vec<String>,
    /// The day it was last done, if ever (YYYY-MM-DD).
    #[schema(format = Date)]
    pub last_completed: Option<String>,
    /// When it is next due (YYYY-MM-DD).
    #[schema(format = Date)]
    pub next_due: String,
    /// `upcoming`, `due_soon` (within 14 days) or `overdue`.
    pub state: String,
    pub overdue: bool,
    pub days_overdue: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ComplianceCalendar {
    /// The day the states are measured at (UTC, YYYY-MM-DD).
    #[schema(format = Date)]
    pub today: String,
    /// Overdue first (most overdue first), then by due date.
    pub duties: Vec<DutyView>,
}

fn code<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

pub(crate) fn view(calendar: &Calendar, r: &DutyReport) -> DutyView {
    DutyView {
        id: r.id.clone(),
        title: r.title.clone(),
        requirement: r.requirement.clone(),
        cadence: r.cadence.clone(),
        owner: r.owner.clone(),
        evidence: calendar
            .get(&r.id)
            .map(|d| d.evidence.iter().map(code).collect())
            .unwrap_or_default(),
        last_completed: r.last_completed.map(|d| d.to_string()),
        next_due: r.status.due.to_string(),
        state: code(&r.status.state),
        overdue: r.status.state == DutyState::Overdue,
        days_overdue: r.status.days_overdue,
    }
}

pub(crate) fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// Whether `caller` may record `duty` as done: an administrator (key or
/// operator), or an operator holding the duty's owner role.
pub(crate) fn may_complete(roles: Option<&bulwark_access::OperatorRoles>, duty: &Duty) -> bool {
    roles.is_some_and(|roles| {
        bulwark_store::owner_roles(&duty.owner)
            .into_iter()
            .any(|r| roles.has(r))
    })
}

/// Every duty with its last completion and next due date, overdue first.
#[utoipa::path(
    get, path = "/v1/compliance", operation_id = "compliance_calendar", tag = "compliance",
    description = "Requires scope `audit:read`. A duty never done is due from the day the data directory was created; a signed-off access review and completed training count as their duties' evidence. Not legal or assessor advice.",
    security(("bearer" = [])),
    responses((status = 200, description = "The calendar", body = ComplianceCalendar), Auth, Failure)
)]
pub async fn calendar(s: S, caller: Caller) -> Result<ApiJson<ComplianceCalendar>, Problem> {
    caller.require(&s, Scope::AuditRead)?;
    let store = s.store.clone();
    let (calendar, rows) = super::blocking(move || -> Result<_, Problem> {
        let calendar = store.dir().compliance()?;
        let rows = store.compliance_status(&calendar, today())?;
        Ok((calendar, rows))
    })
    .await??;
    Ok(ApiJson(ComplianceCalendar {
        today: today().to_string(),
        duties: rows.iter().map(|r| view(&calendar, r)).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCompletion {
    /// What shows it was done: `drill_run`, `access_review`,
    /// `training_record`, `scan_report`, `log_review`, `page_check` or
    /// `document`; the duty names the kinds it accepts.
    #[schema(value_type = String)]
    pub evidence: EvidenceKind,
    /// A note on the evidence (a run id, the meeting, the vendor): 1 to 200
    /// printable characters. A scan report or document is the file itself:
    /// send it to `POST /v1/compliance/{duty}/reports`.
    pub reference: Option<String>,
    /// The day it was done (YYYY-MM-DD, default today, UTC); not in the future.
    #[schema(format = Date)]
    pub on: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CompletionRecorded {
    /// The completion's number.
    pub id: u64,
    /// The duty with its new next due date.
    pub duty: DutyView,
}

/// Records a duty as done, with its evidence; the next due date moves one
/// cadence on from the day it was done.
#[utoipa::path(
    post, path = "/v1/compliance/{duty}/completions", operation_id = "complete_duty", tag = "compliance",
    description = "Requires scope `admin`, or an operator's session (second factor within the step-up window) holding the duty's owner role (`it`: the security lead or an administrator; `management`: the executive sponsor). Ledgered as `compliance.completed`.",
    security(("bearer" = [])),
    params(("duty" = String, Path, description = "The duty's id, as `GET /v1/compliance` lists it")),
    request_body = NewCompletion,
    responses((status = 201, description = "Recorded", body = CompletionRecorded), Invalid, Auth, Missing, Failure)
)]
pub async fn complete(
    s: S,
    caller: Caller,
    ApiPath(duty): ApiPath<String>,
    ApiJson(req): ApiJson<NewCompletion>,
) -> Result<Created<CompletionRecorded>, Problem> {
    let on = parse_on(req.on.as_deref())?;
    let calendar = authorize(&s, &caller, &duty).await?;
    let actor = caller.principal.id.clone();
    let store = s.store.clone();
    let id = duty.clone();
    let (n, rows, calendar) = super::blocking(move || -> Result<_, Problem> {
        let day = today();
        let n = store.complete_duty(
            &calendar,
            Completion {
                duty: id,
                on: on.unwrap_or(day),
                evidence: req.evidence,
                reference: req.reference,
            },
            day,
            &actor,
        )?;
        let rows = store.compliance_status(&calendar, day)?;
        Ok((n, rows, calendar))
    })
    .await??;
    recorded(n, &duty, &rows, &calendar)
}

fn recorded(
    n: u64,
    duty: &str,
    rows: &[DutyReport],
    calendar: &Calendar,
) -> Result<Created<CompletionRecorded>, Problem> {
    let row = rows
        .iter()
        .find(|r| r.id == duty)
        .ok_or_else(|| Problem::internal(&"the completed duty is not on the calendar"))?;
    Ok(Created(CompletionRecorded {
        id: n,
        duty: view(calendar, row),
    }))
}

fn parse_on(on: Option<&str>) -> Result<Option<time::Date>, Problem> {
    match on {
        Some(v) => Ok(Some(bulwark_model::parse_date(v).ok_or_else(|| {
            Problem::bad_request("bad-parameter", "`on` must be a date, YYYY-MM-DD")
        })?)),
        None => Ok(None),
    }
}

/// The calendar, once `caller` may record `duty`: an administrator, or an
/// operator holding its owner role with a fresh second factor.
async fn authorize(s: &S, caller: &Caller, duty: &str) -> Result<Calendar, Problem> {
    caller.require(s, Scope::AuditRead)?;
    let store = s.store.clone();
    let calendar = super::blocking(move || store.dir().compliance()).await??;
    let Some(d) = calendar.get(duty) else {
        return Err(Problem::not_found(
            "no such compliance duty; see GET /v1/compliance",
        ));
    };
    let roles = caller.operator.as_ref().map(|o| &o.operator.roles);
    if may_complete(roles, d) {
        caller.require_fresh(s)?;
    } else {
        caller.require(s, Scope::Admin)?;
    }
    Ok(calendar)
}

/// The largest document a completion takes (a scan report with its appendices).
pub const MAX_DOCUMENT: usize = 64 << 20;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentQuery {
    /// The file's name as kept with it (unsafe characters become `_`), e.g. `asv-2026-q4.pdf`.
    name: String,
    /// `scan_report` (default) or `document`; the duty names the kinds it accepts.
    evidence: Option<String>,
    /// A note on where it came from (the scanning vendor, the meeting): 1 to 200 printable characters.
    reference: Option<String>,
    /// The day it was done (YYYY-MM-DD, default today, UTC); not in the future.
    on: Option<String>,
}

/// Records a duty as done with its document (a scan report, the review's
/// minutes): the body is the file, kept in the evidence locker by SHA-256.
#[utoipa::path(
    post, path = "/v1/compliance/{duty}/reports", operation_id = "complete_duty_with_document", tag = "compliance",
    description = "Requires scope `admin`, or an operator's session (second factor within the step-up window) holding the duty's owner role. The body is the file, at most 64 MiB; it is stored write-once by hash and named in the completion and its `compliance.completed` ledger entry.",
    security(("bearer" = [])),
    params(("duty" = String, Path, description = "The duty's id, as `GET /v1/compliance` lists it"), DocumentQuery),
    request_body(content = RawBytes, content_type = "application/octet-stream", description = "The document"),
    responses((status = 201, description = "Recorded", body = CompletionRecorded), Invalid, Auth, Missing, TooLarge, Failure)
)]
pub async fn complete_with_document(
    s: S,
    caller: Caller,
    ApiPath(duty): ApiPath<String>,
    ApiQuery(q): ApiQuery<DocumentQuery>,
    Body(body): Body,
) -> Result<Created<CompletionRecorded>, Problem> {
    let on = parse_on(q.on.as_deref())?;
    let evidence = match q.evidence.as_deref().unwrap_or("scan_report") {
        "scan_report" => EvidenceKind::ScanReport,
        "document" => EvidenceKind::Document,
        _ => {
            return Err(Problem::bad_request(
                "bad-parameter",
                "`evidence` must be `scan_report` or `document` for an uploaded file",
            ))
        }
    };
    if body.is_empty() {
        return Err(Problem::bad_request(
            "empty-document",
            "the body is empty: send the document itself",
        ));
    }
    let calendar = authorize(&s, &caller, &duty).await?;
    let actor = caller.principal.id.clone();
    let store = s.store.clone();
    let id = duty.clone();
    let (n, rows, calendar) = super::blocking(move || -> Result<_, Problem> {
        let day = today();
        let staging = store.dir().evidence_staging()?;
        let path = staging.join(super::incidents::staged_name(&q.name, "document"));
        let out = match std::fs::write(&path, &body) {
            Ok(()) => store
                .complete_duty_with_document(
                    &calendar,
                    Completion {
                        duty: id,
                        on: on.unwrap_or(day),
                        evidence,
                        reference: q.reference,
                    },
                    &path,
                    day,
                    &actor,
                )
                .map_err(Problem::from),
            Err(e) => Err(Problem::internal(&format!(
                "staging the document in {}: {e}",
                staging.display()
            ))),
        };
        let _ = std::fs::remove_dir_all(&staging);
        let n = out?;
        let rows = store.compliance_status(&calendar, day)?;
        Ok((n, rows, calendar))
    })
    .await??;
    recorded(n, &duty, &rows, &calendar)
}

#[derive(Serialize, ToSchema)]
pub struct CompletionList {
    /// Newest first.
    pub items: Vec<CompletionView>,
}

#[derive(Serialize, ToSchema)]
pub struct CompletionView {
    pub id: u64,
    pub duty: String,
    /// The day it was done (YYYY-MM-DD).
    #[schema(format = Date)]
    pub on: String,
    pub evidence: String,
    pub reference: Option<String>,
    /// The document in the evidence locker, if any.
    pub document: Option<DocumentView>,
    /// Who recorded it.
    pub actor: String,
    /// When it was recorded (ms since the epoch).
    pub recorded_ms: i64,
}

#[derive(Serialize, ToSchema)]
pub struct DocumentView {
    /// Its SHA-256, hex: the name it is kept under in the locker.
    pub sha256: String,
    pub name: String,
    pub size: u64,
}

impl From<CompletionRecord> for CompletionView {
    fn from(c: CompletionRecord) -> Self {
        CompletionView {
            id: c.id,
            duty: c.duty,
            on: c.on.to_string(),
            evidence: code(&c.evidence),
            reference: c.reference,
            document: c.document.map(|d| DocumentView {
                sha256: d.sha256,
                name: d.name,
                size: d.size,
            }),
            actor: c.actor,
            recorded_ms: c.recorded_ms,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Only this duty's completions.
    duty: Option<String>,
}

/// What was recorded as done, newest first: the auditor's view.
#[utoipa::path(
    get, path = "/v1/compliance/completions", operation_id = "list_completions", tag = "compliance",
    description = "Requires scope `audit:read`. Drills, access reviews and training count for their duties without a row here (see `GET /v1/compliance`).",
    security(("bearer" = [])),
    params(HistoryQuery),
    responses((status = 200, description = "The completions", body = CompletionList), Invalid, Auth, Failure)
)]
pub async fn completions(
    s: S,
    caller: Caller,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> Result<ApiJson<CompletionList>, Problem> {
    caller.require(&s, Scope::AuditRead)?;
    let store = s.store.clone();
    let items = super::blocking(move || store.completions(q.duty.as_deref())).await??;
    Ok(ApiJson(CompletionList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// A completion's document, out of the locker after its hash is checked; the
/// access is ledgered as `compliance.document_accessed`.
#[utoipa::path(
    get, path = "/v1/compliance/completions/{id}/document", operation_id = "completion_document", tag = "compliance",
    description = "Requires scope `audit:read`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The completion's number")),
    responses((status = 200, description = "The document", content_type = "application/octet-stream", body = RawBytes), Invalid, Auth, Missing, Failure)
)]
pub async fn document(
    s: S,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> Result<Response, Problem> {
    caller.require(&s, Scope::AuditRead)?;
    let id: u64 = raw.parse().map_err(|_| {
        Problem::bad_request("bad-id", "the completion number must be a positive integer")
    })?;
    let store = s.store.clone();
    let actor = caller.principal.id.clone();
    let (record, bytes) =
        super::blocking(move || store.completion_document_bytes(id, &actor)).await??;
    Ok(attachment(record, bytes))
}

/// A completion's document as a download (never shown inline).
pub(crate) fn attachment(record: CompletionRecord, bytes: Vec<u8>) -> Response {
    let name = record
        .document
        .map(|d| d.name)
        .unwrap_or_else(|| "document".into());
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}
