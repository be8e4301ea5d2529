//! The payment pages in the console (administrators): each watched page with
//! its latest run and how many scripts await authorisation; a page's script
//! inventory (PCI DSS 6.4.3), its runs with their changes, and its
//! approvals, with forms to crawl it now, authorise a script (owner and
//! justification; the operator is the approver) and revoke an approval.
//! Everything a page or a crawl reported is shown as text, never as markup.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use bulwark_model::Scope;
use bulwark_store::{ApproveWhat, WatchedPage};
use serde_json::json;

use super::session::Signed;
use super::{forbidden, not_found, parse_form, unavailable};
use crate::routes::rfc3339;
use crate::AppState;

pub async fn list(State(s): State<AppState>, me: Signed) -> Response {
    if !me.can(Scope::Admin) {
        return forbidden(&s, &me, "The payment pages");
    }
    let store = s.store.clone();
    let r = crate::routes::blocking(move || -> Result<_, bulwark_store::StoreError> {
        let mut rows = Vec::new();
        for p in store.watched_pages()? {
            let last = store.page_runs(&p.name, 1)?.unwrap_or_default();
            let list = crate::routes::pagewatch::script_list(&store, &p)?;
            let waiting = list
                .items
                .iter()
                .filter(|r| r.state == "new" || r.state == "changed")
                .count();
            rows.push(json!({
                "name": p.name, "url": p.url, "every": bulwark_model::format_duration(time::Duration::seconds(p.every_secs)),
                "scripts": list.items.iter().filter(|r| r.state != "removed").count(), "waiting": waiting,
                "last": last.first().map(|r| json!({"at": rfc3339(r.started_ms), "outcome": r.outcome,
                    "changes": r.changes.len(), "error": r.error})),
            }));
        }
        Ok(rows)
    })
    .await;
    let rows = match r {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => return unavailable(&s, &e),
        Err(_) => return unavailable(&s, &"a page task stopped"),
    };
    s.console.templates.page(
        StatusCode::OK,
        "pagewatch.html",
        json!({"me": me.me(), "nav": "pagewatch", "pages": rows}),
    )
}

async fn page_named(s: &AppState, name: &str) -> Result<Option<WatchedPage>, Response> {
    let store = s.store.clone();
    let n = name.to_owned();
    match crate::routes::blocking(move || store.watched_pages()).await {
        Ok(Ok(pages)) => Ok(pages.into_iter().find(|p| p.name == n)),
        Ok(Err(e)) => Err(unavailable(s, &e)),
        Err(_) => Err(unavailable(s, &"a page task stopped")),
    }
}

pub async fn show(State(s): State<AppState>, me: Signed, Path(name): Path<String>) -> Response {
    show_with(&s, me, &name, StatusCode::OK, json!({})).await
}

async fn show_with(
    s: &AppState,
    me: Signed,
    name: &str,
    status: StatusCode,
    extra: serde_json::Value,
) -> Response {
    if !me.can(Scope::Admin) {
        return forbidden(s, &me, "A payment page");
    }
    let page = match page_named(s, name).await {
        Ok(Some(p)) => p,
        Ok(None) => return not_found(s, &me),
        Err(r) => return r,
    };
    let store = s.store.clone();
    let p = page.clone();
    let r = crate::routes::blocking(move || -> Result<_, bulwark_store::StoreError> {
        let list = crate::routes::pagewatch::script_list(&store, &p)?;
        let runs = store.page_runs(&p.name, 20)?.unwrap_or_default();
        let approvals = store.page_approvals(&p.name, true)?.unwrap_or_default();
        Ok((list, runs, approvals))
    })
    .await;
    let (list, runs, approvals) = match r {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => return unavailable(s, &e),
        Err(_) => return unavailable(s, &"a page task stopped"),
    };
    let runs: Vec<_> = runs
        .iter()
        .map(|r| {
            let changes: Vec<String> = r
                .changes
                .iter()
                .map(|c| {
                    serde_json::to_value(c)
                        .ok()
                        .and_then(|v| {
                            let kind = v["change"].as_str()?.to_owned();
                            let what = v["key"]
                                .as_str()
                                .or(v["host"].as_str())
                                .or(v["header"].as_str())
                                .unwrap_or("")
                                .to_owned();
                            Some(format!("{kind} {what}"))
                        })
                        .unwrap_or_default()
                })
                .collect();
            json!({"id": r.id, "at": rfc3339(r.started_ms), "outcome": r.outcome, "error": r.error,
                   "elapsed": r.elapsed_ms, "scripts": r.scripts, "changes": changes,
                   "alerts": r.alerts, "incident": r.incident, "truncated": r.truncated})
        })
        .collect();
    let approvals: Vec<_> = approvals
        .iter()
        .map(|a| {
            json!({"id": a.id, "kind": a.kind,
                   "what": a.script.clone().or(a.origin.clone()).or(a.host.clone()),
                   "owner": a.owner, "justification": a.justification, "approver": a.approver,
                   "at": rfc3339(a.approved_ms), "revoked": a.revoked_ms.map(rfc3339),
                   "reason": a.revoke_reason})
        })
        .collect();
    let mut ctx = json!({
        "me": me.me(), "nav": "pagewatch",
        "page": {"name": page.name, "url": page.url, "token": page.report_token},
        "inventory": list, "runs": runs, "approvals": approvals,
        "live": s.detector.is_some(),
    });
    if let (Some(c), Some(e)) = (ctx.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    s.console.templates.page(status, "pagewatch_page.html", ctx)
}

/// Crawls the page now (waits for the crawl: a few seconds).
pub async fn run(State(s): State<AppState>, me: Signed, Path(name): Path<String>) -> Response {
    if !me.can(Scope::Admin) {
        return forbidden(&s, &me, "Crawling a payment page");
    }
    let page = match page_named(&s, &name).await {
        Ok(Some(p)) => p,
        Ok(None) => return not_found(&s, &me),
        Err(r) => return r,
    };
    let actor = me.session.operator.principal().id;
    match crate::pagewatch_runner::run_page(&s, &page, &actor).await {
        Ok(r) => {
            let note = json!({"flash": format!(
                "Run {} recorded: {} scripts, {} changes, {} alerts{}.",
                r.run, r.scripts, r.changes.len(), r.alerts.len(),
                r.incident.map(|i| format!(", incident {i} with the evidence")).unwrap_or_default()
            )});
            show_with(&s, me, &name, StatusCode::OK, note).await
        }
        Err(e) => {
            let status = match e {
                crate::pagewatch_runner::RunPageError::Crawl(_) => StatusCode::BAD_GATEWAY,
                crate::pagewatch_runner::RunPageError::NoDetection => StatusCode::CONFLICT,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            show_with(&s, me, &name, status, json!({"error": e.to_string()})).await
        }
    }
}

/// Authorises a script of the inventory (its body as last seen).
pub async fn approve(
    State(s): State<AppState>,
    me: Signed,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    if !me.can(Scope::Admin) {
        return forbidden(&s, &me, "Authorising a script");
    }
    let form = parse_form(&body);
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let what = ApproveWhat::Script(bulwark_pagewatch::inventory::ScriptKey(get("script")));
    let (owner, why) = (get("owner"), get("justification"));
    let actor = me.session.operator.principal().id;
    let store = s.store.clone();
    let n = name.clone();
    let r = crate::routes::blocking(move || store.approve_on_page(&n, what, &owner, &why, &actor))
        .await;
    match r {
        Ok(Ok(_)) => Redirect::to(&format!("/pagewatch/{name}")).into_response(),
        Ok(Err(e)) => {
            let status = match e {
                bulwark_store::ApproveScriptError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
                bulwark_store::ApproveScriptError::NoPage(_) => return not_found(&s, &me),
                _ => StatusCode::BAD_REQUEST,
            };
            show_with(&s, me, &name, status, json!({"error": e.to_string()})).await
        }
        Err(_) => unavailable(&s, &"a page task stopped"),
    }
}

/// Revokes an approval, with a reason.
pub async fn revoke(
    State(s): State<AppState>,
    me: Signed,
    Path((name, id)): Path<(String, i64)>,
    body: Bytes,
) -> Response {
    if !me.can(Scope::Admin) {
        return forbidden(&s, &me, "Revoking an approval");
    }
    let reason = parse_form(&body).get("reason").cloned().unwrap_or_default();
    let actor = me.session.operator.principal().id;
    let store = s.store.clone();
    let n = name.clone();
    let r =
        crate::routes::blocking(move || store.revoke_page_approval(&n, id, &reason, &actor)).await;
    match r {
        Ok(Ok(())) => Redirect::to(&format!("/pagewatch/{name}")).into_response(),
        Ok(Err(e)) => {
            show_with(
                &s,
                me,
                &name,
                StatusCode::BAD_REQUEST,
                json!({"error": e.to_string()}),
            )
            .await
        }
        Err(_) => unavailable(&s, &"a page task stopped"),
    }
}
