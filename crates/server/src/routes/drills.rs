//! `/v1/drills`: start a drill run of a scenario, follow it, stop and resume
//! it, and read its after-action report. `serve`'s runner does the running.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bulwark_learn::drill::report::ReportFormat;
use bulwark_model::Scope;
use bulwark_store::{DrillMessage, DrillRun};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::S;
use crate::auth::Caller;
use crate::drill_runner::{current_score, DrillRunError};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::openapi::{Auth, Conflict, Failure, Invalid, Missing};
use crate::problem::Problem;

impl From<bulwark_store::DrillError> for Problem {
    fn from(e: bulwark_store::DrillError) -> Problem {
        match e {
            bulwark_store::DrillError::NotFound(id) => {
                Problem::not_found(format!("drill run {id} not found"))
            }
            e @ bulwark_store::DrillError::State { .. } => {
                Problem::conflict("drill-state", e.to_string())
            }
            bulwark_store::DrillError::Store(s) => s.into(),
        }
    }
}

impl From<DrillRunError> for Problem {
    fn from(e: DrillRunError) -> Problem {
        match e {
            DrillRunError::Drill(d) => d.into(),
            DrillRunError::Store(s) => s.into(),
            DrillRunError::NoDetection => Problem::conflict("no-detection", e.to_string()),
            other => Problem::internal(&other),
        }
    }
}

fn run_id(raw: &str) -> Result<u64, Problem> {
    raw.parse()
        .map_err(|_| Problem::not_found("no such drill run"))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartDrill {
    /// A scenario id (`bulwark drill list`).
    pub scenario: String,
    /// Times faster than scenario time, 1 to 10000 (default: the scenario's `time_scale`).
    #[serde(default)]
    pub speed: Option<u32>,
}

/// A run with what it has produced so far.
#[derive(Serialize, ToSchema)]
pub struct DrillView {
    pub run: DrillRun,
    pub title: String,
    /// Its incidents (all marked as drill).
    pub incidents: Vec<u64>,
    /// Messages its injects sent to operators.
    pub messages: Vec<DrillMessage>,
    /// The score so far (final once finished).
    #[schema(value_type = Object)]
    pub score: serde_json::Value,
}

fn view(s: &crate::AppState, run: DrillRun) -> Result<DrillView, Problem> {
    let now = crate::detection::now_ms();
    let (scenario, score) = current_score(&s.store, &run, now)?;
    Ok(DrillView {
        title: scenario.title.clone(),
        incidents: s.store.drill_incidents(run.id)?,
        messages: s.store.drill_messages(Some(run.id))?,
        score: serde_json::to_value(&score).map_err(|e| Problem::internal(&e))?,
        run,
    })
}

/// Starts a drill: `serve`'s runner sends its injects from now on.
#[utoipa::path(
    post, path = "/v1/drills", operation_id = "start_drill", tag = "drills",
    description = "Requires scope `incidents:write` and live detection. Everything the run creates is marked as drill: its alerts open and join only its own incidents, their containment only simulates, their letters are never sent, and the only customers it reveals are synthetic ones it creates and erases at the end.",
    security(("bearer" = [])),
    request_body = StartDrill,
    responses(
        (status = 201, description = "Started", body = DrillView, links(("show_drill" = (operation_id = "show_drill", parameters(("id" = "$response.body#/run/id")))))),
        Invalid, Auth, Conflict, Failure
    )
)]
pub async fn start(
    s: S,
    caller: Caller,
    ApiJson(req): ApiJson<StartDrill>,
) -> Result<(StatusCode, ApiJson<DrillView>), Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    if s.detector.is_none() {
        return Err(DrillRunError::NoDetection.into());
    }
    let set = s.store.dir().scenarios()?;
    let Some(scenario) = set.get(&req.scenario) else {
        let known: Vec<&str> = set.scenarios().map(|x| x.id.as_str()).collect();
        return Err(Problem::bad_request(
            "unknown-scenario",
            format!(
                "no scenario `{}`; known: {}",
                req.scenario.chars().take(64).collect::<String>(),
                known.join(", ")
            ),
        ));
    };
    let speed = req.speed.unwrap_or(scenario.time_scale);
    if !(1..=10_000).contains(&speed) {
        return Err(Problem::bad_request(
            "bad-speed",
            "`speed` is from 1 to 10000",
        ));
    }
    let text = serde_json::to_string(scenario).map_err(|e| Problem::internal(&e))?;
    let id = s
        .store
        .start_drill(&scenario.id, text, speed, &caller.principal.id)
        .wait()
        .await?;
    let run = s.store.drill_run(id)?;
    Ok((StatusCode::CREATED, ApiJson(view(&s, run)?)))
}

#[derive(Serialize, ToSchema)]
pub struct DrillList {
    pub items: Vec<DrillRun>,
}

/// Drill runs, newest first.
#[utoipa::path(
    get, path = "/v1/drills", operation_id = "list_drills", tag = "drills",
    description = "Requires scope `incidents:read`.",
    security(("bearer" = [])),
    responses((status = 200, description = "Runs", body = DrillList), Auth, Failure)
)]
pub async fn list(s: S, caller: Caller) -> Result<ApiJson<DrillList>, Problem> {
    caller.require(&s, Scope::IncidentsRead)?;
    Ok(ApiJson(DrillList {
        items: s.store.drill_runs(100)?,
    }))
}

/// One run: its clock, injects fired, incidents, messages and score so far.
#[utoipa::path(
    get, path = "/v1/drills/{id}", operation_id = "show_drill", tag = "drills",
    description = "Requires scope `incidents:read`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Run number")),
    responses((status = 200, description = "The run", body = DrillView), Auth, Missing, Failure)
)]
pub async fn show(
    s: S,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> Result<ApiJson<DrillView>, Problem> {
    caller.require(&s, Scope::IncidentsRead)?;
    let run = s.store.drill_run(run_id(&raw)?)?;
    Ok(ApiJson(view(&s, run)?))
}

/// Stops a running drill: nothing more is sent and its clock stands still.
#[utoipa::path(
    post, path = "/v1/drills/{id}/stop", operation_id = "stop_drill", tag = "drills",
    description = "Requires scope `incidents:write`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Run number")),
    responses((status = 200, description = "Stopped", body = DrillView), Auth, Missing, Conflict, Failure)
)]
pub async fn stop(
    s: S,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> Result<ApiJson<DrillView>, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    let run = s
        .store
        .stop_drill(run_id(&raw)?, &caller.principal.id)
        .wait()
        .await?;
    Ok(ApiJson(view(&s, run)?))
}

/// Resumes a stopped drill where it was.
#[utoipa::path(
    post, path = "/v1/drills/{id}/resume", operation_id = "resume_drill", tag = "drills",
    description = "Requires scope `incidents:write`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Run number")),
    responses((status = 200, description = "Resumed", body = DrillView), Auth, Missing, Conflict, Failure)
)]
pub async fn resume(
    s: S,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> Result<ApiJson<DrillView>, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    let run = s
        .store
        .resume_drill(run_id(&raw)?, &caller.principal.id)
        .wait()
        .await?;
    Ok(ApiJson(view(&s, run)?))
}

/// Ends a drill now (running or stopped): what is not done is missed; it is
/// scored and ledgered as a finished run, and its synthetic customers erased.
#[utoipa::path(
    post, path = "/v1/drills/{id}/finish", operation_id = "finish_drill", tag = "drills",
    description = "Requires scope `incidents:write`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Run number")),
    responses((status = 200, description = "Finished and scored", body = DrillView), Auth, Missing, Conflict, Failure)
)]
pub async fn finish(
    s: S,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> Result<ApiJson<DrillView>, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    let id = run_id(&raw)?;
    crate::drill_runner::finish(&s, id, crate::detection::now_ms()).await?;
    Ok(ApiJson(view(&s, s.store.drill_run(id)?)?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DrillReportQuery {
    /// `md` (default) or `html`.
    format: Option<String>,
}

/// The after-action report and improvement plan (so far, while running).
#[utoipa::path(
    get, path = "/v1/drills/{id}/report", operation_id = "drill_report", tag = "drills",
    description = "Requires scope `incidents:read`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Run number"), DrillReportQuery),
    responses(
        (status = 200, description = "The report", content((String = "text/markdown"), (String = "text/html"))),
        Invalid, Auth, Missing, Failure
    )
)]
pub async fn report(
    s: S,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiQuery(q): ApiQuery<DrillReportQuery>,
) -> Result<Response, Problem> {
    caller.require(&s, Scope::IncidentsRead)?;
    let (format, ct) = match q.format.as_deref() {
        None | Some("md") => (ReportFormat::Markdown, "text/markdown; charset=utf-8"),
        Some("html") => (ReportFormat::Html, "text/html; charset=utf-8"),
        Some(_) => {
            return Err(Problem::bad_request(
                "bad-parameter",
                "`format` is md or html",
            ))
        }
    };
    let run = s.store.drill_run(run_id(&raw)?)?;
    let text = crate::drill_runner::report(&s.store, &run, format, crate::detection::now_ms())?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static(ct))], text).into_response())
}

impl From<bulwark_store::ImprovementError> for Problem {
    fn from(e: bulwark_store::ImprovementError) -> Problem {
        match e {
            bulwark_store::ImprovementError::NotFound(id) => {
                Problem::not_found(format!("improvement item {id} not found"))
            }
            e @ bulwark_store::ImprovementError::AlreadyDone(_) => {
                Problem::conflict("already-done", e.to_string())
            }
            e @ bulwark_store::ImprovementError::BadNote => {
                Problem::bad_request("bad-note", e.to_string())
            }
            bulwark_store::ImprovementError::Store(s) => s.into(),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImprovementQuery {
    /// Done items too (default: open ones only).
    all: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct ImprovementPlan {
    /// Open first, by due date.
    pub items: Vec<bulwark_store::DrillImprovement>,
}

/// The improvement plans of finished drills: each item with its owner role and due date.
#[utoipa::path(
    get, path = "/v1/drill-improvements", operation_id = "list_drill_improvements", tag = "drills",
    description = "Requires scope `incidents:read`.",
    security(("bearer" = [])),
    params(ImprovementQuery),
    responses((status = 200, description = "Items", body = ImprovementPlan), Invalid, Auth, Failure)
)]
pub async fn improvements(
    s: S,
    caller: Caller,
    ApiQuery(q): ApiQuery<ImprovementQuery>,
) -> Result<ApiJson<ImprovementPlan>, Problem> {
    caller.require(&s, Scope::IncidentsRead)?;
    Ok(ApiJson(ImprovementPlan {
        items: s.store.drill_improvements(q.all.unwrap_or(false))?,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImprovementDone {
    /// What was changed (the plan, a rule, a playbook, training), 1 to 2000 characters.
    pub note: String,
}

/// Records an improvement item done.
#[utoipa::path(
    post, path = "/v1/drill-improvements/{id}/done", operation_id = "complete_drill_improvement", tag = "drills",
    description = "Requires scope `incidents:write`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Item number")),
    request_body = ImprovementDone,
    responses((status = 204, description = "Recorded"), Invalid, Auth, Missing, Conflict, Failure)
)]
pub async fn improvement_done(
    s: S,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiJson(req): ApiJson<ImprovementDone>,
) -> Result<StatusCode, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    let id: i64 = raw
        .parse()
        .map_err(|_| Problem::not_found("no such improvement item"))?;
    s.store
        .complete_improvement(id, req.note, &caller.principal.id)
        .wait()
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
