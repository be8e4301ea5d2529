//! The compliance calendar: every recurring duty with its requirement,
//! cadence, owner, last completion and next due date, overdue first, and a
//! form to record one as done (an administrator or the duty's owner).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::Response;
use bulwark_learn::EvidenceKind;
use bulwark_model::Scope;
use bulwark_store::{Completion, CompletionDocumentError, CompletionError};
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
        let done = store.completions(None).map_err(|e| e.to_string())?;
        let assets = store.dir().assets().map_err(|e| e.to_string())?;
        Ok((
            calendar,
            rows,
            done,
            bulwark_incident::finding_tasks(&assets, today()),
        ))
    })
    .await;
    let (calendar, rows, done, findings) = match r {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => return unavailable(s, &e),
        Err(_) => return unavailable(s, &"a page task stopped"),
    };
    let completions: Vec<_> = done
        .into_iter()
        .take(50)
        .map(|c| {
            serde_json::to_value(crate::routes::compliance::CompletionView::from(c))
                .unwrap_or_default()
        })
        .collect();
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
        .count()
        + findings.iter().filter(|f| f.days_overdue > 0).count();
    let mut ctx = json!({"me": me.me(), "nav": "compliance", "duties": duties, "findings": findings,
        "overdue": overdue, "today": today().to_string(), "completions": completions});
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

/// What the page's form sent: its text fields and, from a multipart form,
/// the attached file (name and bytes; bounded by the route's body limit).
struct Submitted {
    fields: HashMap<String, String>,
    document: Option<(String, Bytes)>,
}

async fn read_form(req: Request) -> Result<Submitted, String> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let body = Bytes::from_request(req, &())
            .await
            .map_err(|e| format!("the form could not be read: {e}"))?;
        return Ok(Submitted {
            fields: parse_form(&body),
            document: None,
        });
    }
    let mut form = Multipart::from_request(req, &())
        .await
        .map_err(|e| format!("the form could not be read: {e}"))?;
    let mut out = Submitted {
        fields: HashMap::new(),
        document: None,
    };
    let bad =
        |e: axum::extract::multipart::MultipartError| format!("the form could not be read: {e}");
    while let Some(field) = form.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "document" {
            let file = field.file_name().unwrap_or_default().to_owned();
            let bytes = field.bytes().await.map_err(bad)?;
            // A form sent without choosing a file has an empty, unnamed part.
            if !bytes.is_empty() {
                out.document = Some((file, bytes));
            }
        } else if out.fields.len() < 16 {
            let text = field.text().await.map_err(bad)?;
            out.fields.insert(name, text.chars().take(4096).collect());
        }
    }
    Ok(out)
}

/// Records a duty as done from the page's form, with the attached scan
/// report or document into the evidence locker.
pub async fn complete(
    State(s): State<AppState>,
    me: Signed,
    Path(duty): Path<String>,
    req: Request,
) -> Response {
    if !me.can(Scope::AuditRead) {
        return forbidden(&s, &me, "Recording a compliance duty");
    }
    let Submitted {
        fields: f,
        document,
    } = match read_form(req).await {
        Ok(x) => x,
        Err(e) => {
            return page_with(
                &s,
                me,
                StatusCode::BAD_REQUEST,
                json!({"error": format!("Not recorded: {e}.")}),
            )
            .await
        }
    };
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
        let completion = Completion {
            duty: id.clone(),
            on,
            evidence,
            reference,
        };
        let done = match document {
            None => store.complete_duty(&calendar, completion, today(), &actor),
            Some((name, bytes)) => {
                let staging = store.dir().evidence_staging().map_err(|e| e.to_string())?;
                let path = staging.join(crate::routes::incidents::staged_name(&name, "document"));
                let done = std::fs::write(&path, &bytes)
                    .map_err(|e| format!("staging the document: {e}"))
                    .map(|()| {
                        store.complete_duty_with_document(
                            &calendar,
                            completion,
                            &path,
                            today(),
                            &actor,
                        )
                    });
                let _ = std::fs::remove_dir_all(&staging);
                done?
            }
        };
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

/// A completion's document out of the evidence locker (hash checked, the
/// access ledgered), as a download: never rendered in the page.
pub async fn document(State(s): State<AppState>, me: Signed, Path(raw): Path<String>) -> Response {
    if !me.can(Scope::AuditRead) {
        return forbidden(&s, &me, "A compliance document");
    }
    let Ok(id) = raw.parse::<u64>() else {
        return super::not_found(&s, &me);
    };
    let store = s.store.clone();
    let actor = me.actor();
    let r = crate::routes::blocking(move || store.completion_document_bytes(id, &actor)).await;
    match r {
        Ok(Ok((record, bytes))) => crate::routes::compliance::attachment(record, bytes),
        Ok(Err(CompletionDocumentError::NotFound(_) | CompletionDocumentError::NoDocument(_))) => {
            super::not_found(&s, &me)
        }
        Ok(Err(e)) => unavailable(&s, &e),
        Err(_) => unavailable(&s, &"a page task stopped"),
    }
}
