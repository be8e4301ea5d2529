//! `/v1/compliance`: the calendar of recurring duties (PCI DSS cadences, the
//! plan's quarterly review) — each with its requirement, cadence, owner, last
//! completion and next due date, overdue first — and recording one as done
//! with its evidence.

use bulwark_learn::{Calendar, Duty, DutyState, EvidenceKind};
use bulwark_model::Scope;
use bulwark_store::{Completion, DutyReport};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::S;
use crate::auth::Caller;
use crate::extract::{ApiJson, ApiPath, Created};
use crate::openapi::{Auth, Failure, Invalid, Missing};
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
    /// Where the evidence is (an evidence-locker hash, a report's name, a run
    /// id): 1 to 200 printable characters.
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
    caller.require(&s, Scope::AuditRead)?;
    let on = match req.on.as_deref() {
        Some(v) => Some(bulwark_model::parse_date(v).ok_or_else(|| {
            Problem::bad_request("bad-parameter", "`on` must be a date, YYYY-MM-DD")
        })?),
        None => None,
    };
    let store = s.store.clone();
    let calendar = super::blocking(move || store.dir().compliance()).await??;
    let Some(d) = calendar.get(&duty) else {
        return Err(Problem::not_found(
            "no such compliance duty; see GET /v1/compliance",
        ));
    };
    let roles = caller.operator.as_ref().map(|o| &o.operator.roles);
    if may_complete(roles, d) {
        caller.require_fresh(&s)?;
    } else {
        caller.require(&s, Scope::Admin)?;
    }
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
    let row = rows
        .iter()
        .find(|r| r.id == duty)
        .ok_or_else(|| Problem::internal(&"the completed duty is not on the calendar"))?;
    Ok(Created(CompletionRecorded {
        id: n,
        duty: view(&calendar, row),
    }))
}
