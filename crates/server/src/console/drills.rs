//! Drills in the console: the runs (start one), a run with its injects,
//! the messages its injects sent to the roles the operator holds, its
//! incidents and score so far, stop/resume/finish, and the after-action
//! report; the open improvement items of finished runs.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use bulwark_learn::drill::report::ReportFormat;
use bulwark_model::Scope;
use bulwark_store::{DrillError, DrillState};
use serde_json::json;

use super::session::Signed;
use bulwark_learn::drill::report::format_elapsed;

use super::{forbidden, not_found, now_ms, parse_form, unavailable};
use crate::drill_runner::{current_score, DrillRunError};
use crate::routes::rfc3339;
use crate::AppState;

pub async fn list(State(s): State<AppState>, me: Signed) -> Response {
    list_with(&s, me, StatusCode::OK, json!({})).await
}

async fn list_with(
    s: &AppState,
    me: Signed,
    status: StatusCode,
    extra: serde_json::Value,
) -> Response {
    if !me.can(Scope::IncidentsRead) {
        return forbidden(s, &me, "The drills");
    }
    let store = s.store.clone();
    let r = crate::routes::blocking(move || -> Result<_, DrillRunError> {
        let runs = store.drill_runs(100)?;
        let scenarios = store.dir().scenarios()?;
        let improvements = store.drill_improvements(false)?;
        Ok((runs, scenarios, improvements))
    })
    .await;
    let (runs, scenarios, improvements) = match r {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => return unavailable(s, &e),
        Err(_) => return unavailable(s, &"a page task stopped"),
    };
    let now = now_ms();
    let rows: Vec<_> = runs
        .iter()
        .map(|r| {
            let points = r
                .score
                .as_ref()
                .map(|v| format!("{}/{}", v["earned"], v["possible"]));
            json!({"id": r.id, "scenario": r.scenario_id, "state": r.state.code(), "speed": r.speed,
                   "started": rfc3339(r.started_ms), "by": r.started_by, "points": points})
        })
        .collect();
    let options: Vec<_> = scenarios
        .scenarios()
        .map(|x| json!({"id": x.id, "title": x.title, "speed": x.time_scale, "duration": x.duration}))
        .collect();
    let items: Vec<_> = improvements
        .iter()
        .map(|i| {
            json!({"id": i.id, "run": i.run_id, "title": i.title, "owner": i.owner,
                        "due": rfc3339(i.due_ms), "overdue": i.due_ms < now})
        })
        .collect();
    let mut ctx = json!({
        "me": me.me(), "nav": "drills", "runs": rows, "scenarios": options,
        "improvements": items, "can_run": me.can(Scope::IncidentsWrite),
        "live": s.detector.is_some(),
    });
    if let (Some(c), Some(e)) = (ctx.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    s.console.templates.page(status, "drills.html", ctx)
}

/// Starts a run from the form (scenario, speed).
pub async fn start(State(s): State<AppState>, me: Signed, body: Bytes) -> Response {
    if !me.can(Scope::IncidentsWrite) {
        return forbidden(&s, &me, "Starting a drill");
    }
    if s.detector.is_none() {
        let e = json!({"error": "Drills need live detection; this server runs without it (--no-detection)."});
        return list_with(&s, me, StatusCode::CONFLICT, e).await;
    }
    let form = parse_form(&body);
    let id = form.get("scenario").cloned().unwrap_or_default();
    let set = match s.store.dir().scenarios() {
        Ok(x) => x,
        Err(e) => return unavailable(&s, &e),
    };
    let Some(scenario) = set.get(&id) else {
        let e = json!({"error": "Choose one of the scenarios listed."});
        return list_with(&s, me, StatusCode::BAD_REQUEST, e).await;
    };
    let speed = match form
        .get("speed")
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
    {
        None => scenario.time_scale,
        Some(v) => match v.trim_end_matches(['x', 'X']).parse::<u32>() {
            Ok(n) if (1..=10_000).contains(&n) => n,
            _ => {
                let e = json!({"error": "The speed is a number from 1 to 10000 (times faster than the scenario's clock)."});
                return list_with(&s, me, StatusCode::BAD_REQUEST, e).await;
            }
        },
    };
    let text = match serde_json::to_string(scenario) {
        Ok(t) => t,
        Err(e) => return unavailable(&s, &e),
    };
    match s
        .store
        .start_drill(
            &scenario.id,
            text,
            speed,
            &me.session.operator.principal().id,
        )
        .wait()
        .await
    {
        Ok(run) => Redirect::to(&format!("/drills/{run}")).into_response(),
        Err(e) => unavailable(&s, &e),
    }
}

pub async fn show(State(s): State<AppState>, me: Signed, Path(id): Path<u64>) -> Response {
    show_with(&s, me, id, StatusCode::OK, json!({})).await
}

async fn show_with(
    s: &AppState,
    me: Signed,
    id: u64,
    status: StatusCode,
    extra: serde_json::Value,
) -> Response {
    if !me.can(Scope::IncidentsRead) {
        return forbidden(s, &me, "A drill");
    }
    let store = s.store.clone();
    let r = crate::routes::blocking(move || -> Result<_, DrillRunError> {
        let run = store.drill_run(id)?;
        let (scenario, score) = current_score(&store, &run, now_ms())?;
        let incidents = store.drill_incidents(id)?;
        let messages = store.drill_messages(Some(id))?;
        Ok((run, scenario, score, incidents, messages))
    })
    .await;
    let (run, scenario, score, incidents, messages) = match r {
        Ok(Ok(x)) => x,
        Ok(Err(DrillRunError::Drill(DrillError::NotFound(_)))) => return not_found(s, &me),
        Ok(Err(e)) => return unavailable(s, &e),
        Err(_) => return unavailable(s, &"a page task stopped"),
    };
    // Messages for the roles this operator holds (an inject's "to a role").
    let mine: Vec<_> = messages
        .iter()
        .filter(|m| m.operator == me.session.operator.id)
        .map(|m| json!({"subject": m.subject, "body": m.body, "state": m.state, "at": rfc3339(m.created_ms)}))
        .collect();
    let sent: Vec<_> = messages
        .iter()
        .map(|m| json!({"role": m.role, "operator": m.operator, "subject": m.subject, "state": m.state}))
        .collect();
    let fired: Vec<_> = run
        .fired
        .iter()
        .map(|f| {
            let at = scenario
                .injects
                .iter()
                .find(|i| i.id == f.inject)
                .map(|i| i.at.clone());
            json!({"id": f.inject, "at": at, "sent": rfc3339(f.fire_ms)})
        })
        .collect();
    let mut ctx = json!({
        "me": me.me(), "nav": "drills",
        "run": {"id": run.id, "state": run.state.code(), "speed": run.speed, "by": run.started_by,
                "started": rfc3339(run.started_ms), "finished": run.finished_ms.map(rfc3339),
                "running": run.state == DrillState::Running, "stopped": run.state == DrillState::Stopped,
                "finished_state": run.state == DrillState::Finished},
        "scenario": {"id": scenario.id, "title": scenario.title, "summary": scenario.summary,
                     "injects": scenario.injects.len(), "duration": scenario.duration},
        "fired": fired, "incidents": incidents, "mine": mine, "messages": sent,
        "score": score, "can_run": me.can(Scope::IncidentsWrite),
        "times": {"ttd": format_elapsed(score.ttd_ms), "ttd_target": format_elapsed(Some(score.ttd_target_ms)),
                  "ttc": format_elapsed(score.ttc_ms), "ttc_target": format_elapsed(Some(score.ttc_target_ms))},
    });
    if let (Some(c), Some(e)) = (ctx.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    s.console.templates.page(status, "drill.html", ctx)
}

/// Stop, resume or finish, from the run's page.
pub async fn act(
    State(s): State<AppState>,
    me: Signed,
    Path(id): Path<u64>,
    body: Bytes,
) -> Response {
    if !me.can(Scope::IncidentsWrite) {
        return forbidden(&s, &me, "Running a drill");
    }
    let form = parse_form(&body);
    let actor = me.session.operator.principal().id;
    let r: Result<(), DrillRunError> = match form.get("do").map(String::as_str) {
        Some("stop") => s
            .store
            .stop_drill(id, &actor)
            .wait()
            .await
            .map(|_| ())
            .map_err(Into::into),
        Some("resume") => s
            .store
            .resume_drill(id, &actor)
            .wait()
            .await
            .map(|_| ())
            .map_err(Into::into),
        Some("finish") => crate::drill_runner::finish(&s, id, now_ms()).await,
        _ => {
            let e = json!({"error": "Choose stop, resume or finish."});
            return show_with(&s, me, id, StatusCode::BAD_REQUEST, e).await;
        }
    };
    match r {
        Ok(()) => Redirect::to(&format!("/drills/{id}")).into_response(),
        Err(DrillRunError::Drill(DrillError::NotFound(_))) => not_found(&s, &me),
        Err(DrillRunError::Drill(e @ DrillError::State { .. })) => {
            let e = json!({"error": e.to_string()});
            show_with(&s, me, id, StatusCode::CONFLICT, e).await
        }
        Err(e) => unavailable(&s, &e),
    }
}

/// The after-action report in the console (its Markdown).
pub async fn report(State(s): State<AppState>, me: Signed, Path(id): Path<u64>) -> Response {
    if !me.can(Scope::IncidentsRead) {
        return forbidden(&s, &me, "A drill's report");
    }
    let store = s.store.clone();
    let r = crate::routes::blocking(move || -> Result<String, DrillRunError> {
        let run = store.drill_run(id)?;
        crate::drill_runner::report(&store, &run, ReportFormat::Markdown, now_ms())
    })
    .await;
    match r {
        Ok(Ok(text)) => s.console.templates.page(
            StatusCode::OK,
            "drill_report.html",
            json!({"me": me.me(), "nav": "drills", "run": id, "report": text}),
        ),
        Ok(Err(DrillRunError::Drill(DrillError::NotFound(_)))) => not_found(&s, &me),
        Ok(Err(e)) => unavailable(&s, &e),
        Err(_) => unavailable(&s, &"a page task stopped"),
    }
}
