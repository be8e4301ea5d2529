//! The compliance calendar: every recurring duty with its requirement,
//! cadence, owner, last completion and next due date, overdue first, and a
//! form to record one as done (an administrator or the duty's owner).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use bulwark_learn::EvidenceKind;
use bulwark_model::Scope;
use bulwark_store::{Completion, CompletionError};
use serde_json::json;

use super::session::Signed;
use super::{forbidden, parse_form, unavailable};
use crate::routes::compliance::{may_complete, today, view};
use crate::AppState;

pub async fn page(State(s): State<AppState>, me: Signed) -> Response {
    page_with(&s, me, StatusCode::OK, json!({})).await
}

async fn page_with(
    s: &AppState,
    me: Signed,
    status: StatusCode,
    extra: serde_json::Value,
) -> Response {
    if !me.can(Scope::AuditRead) {
        return forbidden(s, &me, "The compliance calendar");
    }
    let store = s.store.clone();
    let r = crate::routes::blocking(move || -> Result<_, String> {
        let calendar = store.dir().compliance().map_err(|e| e.to_string())?;
        let rows = store
            .compliance_status(&calendar, today())
            .map_err(|e| e.to_string())?;
        Ok((calendar, rows))
    })
    .await;
    let (calendar, rows) = match r {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => return unavailable(s, &e),
        Err(_) => return unavailable(s, &"a page task stopped"),
    };
    let admin = me.can(Scope::Admin);
    let roles = &me.session.operator.roles;
    let duties: Vec<_> = rows
        .iter()
        .map(|r| {
            let may = admin
                || calendar
                    .get(&r.id)
                    .is_some_and(|d| may_complete(Some(roles), d));
            let mut v = serde_json::to_value(view(&calendar, r)).unwrap_or_default();
            v["may_complete"] = json!(may);
            v
        })
        .collect();
    let overdue = rows
        .iter()
        .filter(|r| r.status.state == bulwark_learn::DutyState::Overdue)
        .count();
    let mut ctx = json!({"me": me.me(), "nav": "compliance", "duties": duties,
        "overdue": overdue, "today": today().to_string()});
    if let (Some(m), serde_json::Value::Object(e)) = (ctx.as_object_mut(), extra) {
        m.extend(e);
    }
    s.console.templates.page(status, "compliance.html", ctx)
}

enum Outcome {
    /// Recorded; the next due date.
    Done(String),
    /// The operator neither administers nor owns the duty (its owner).
    NotOwner(String),
    Refused(CompletionError),
}

/// Records a duty as done from the page's form.
pub async fn complete(
    State(s): State<AppState>,
    me: Signed,
    Path(duty): Path<String>,
    body: Bytes,
) -> Response {
    if !me.can(Scope::AuditRead) {
        return forbidden(&s, &me, "Recording a compliance duty");
    }
    let f = parse_form(&body);
    let evidence = f
        .get("evidence")
        .and_then(|e| serde_json::from_value::<EvidenceKind>(json!(e)).ok());
    let Some(evidence) = evidence else {
        return page_with(
            &s,
            me,
            StatusCode::BAD_REQUEST,
            json!({"error": "Not recorded: choose the kind of evidence."}),
        )
        .await;
    };
    let on = match f.get("on").map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => today(),
        Some(v) => match bulwark_model::parse_date(v) {
            Some(d) => d,
            None => {
                return page_with(
                    &s,
                    me,
                    StatusCode::BAD_REQUEST,
                    json!({"error": "Not recorded: the date must be YYYY-MM-DD."}),
                )
                .await
            }
        },
    };
    let reference = f
        .get("reference")
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    let store = s.store.clone();
    let admin = me.can(Scope::Admin);
    let roles = me.session.operator.roles.clone();
    let actor = me.actor();
    let id = duty.clone();
    let r = crate::routes::blocking(move || -> Result<Outcome, String> {
        let calendar = store.dir().compliance().map_err(|e| e.to_string())?;
        if let Some(d) = calendar.get(&id) {
            if !admin && !may_complete(Some(&roles), d) {
                return Ok(Outcome::NotOwner(d.owner.clone()));
            }
        }
        let done = store.complete_duty(
            &calendar,
            Completion {
                duty: id.clone(),
                on,
                evidence,
                reference,
            },
            today(),
            &actor,
        );
        Ok(match done {
            Ok(_) => Outcome::Done(
                calendar
                    .get(&id)
                    .and_then(|d| d.cadence.next_after(on))
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            ),
            Err(e) => Outcome::Refused(e),
        })
    })
    .await;
    match r {
        Ok(Ok(Outcome::Done(next))) => {
            let msg = format!("{duty} recorded as done on {on}; next due {next}.");
            page_with(&s, me, StatusCode::OK, json!({"flash": msg})).await
        }
        Ok(Ok(Outcome::NotOwner(owner))) => {
            let msg = format!(
                "Not recorded: only the duty's owner (`{owner}`) or an administrator may record it."
            );
            page_with(&s, me, StatusCode::FORBIDDEN, json!({"error": msg})).await
        }
        Ok(Ok(Outcome::Refused(CompletionError::Store(e)))) => unavailable(&s, &e),
        Ok(Ok(Outcome::Refused(CompletionError::UnknownDuty(_)))) => super::not_found(&s, &me),
        Ok(Ok(Outcome::Refused(e))) => {
            let msg = format!("Not recorded: {e}.");
            page_with(&s, me, StatusCode::BAD_REQUEST, json!({"error": msg})).await
        }
        Ok(Err(e)) => unavailable(&s, &e),
        Err(_) => unavailable(&s, &"a page task stopped"),
    }
}
