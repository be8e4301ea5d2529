//! The notify side of an incident: the deadline board (every obligation with
//! its clock), the scope, and the letters (render, sample per shape with the
//! required-content checklist, approval by legal after step-up, delivery
//! against the deadlines).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use bulwark_incident::{EntryKind, Role};
use bulwark_law::{evaluate, Catalogue, Recipient};
use bulwark_model::{Scope, Scopes};
use bulwark_notice::{NoticeFacts, VersionState};
use bulwark_store::{
    ApproveNoticesError, Channels, IncidentReadError, Principal, RenderNotices, RenderNoticesError,
    StoreError,
};
use serde_json::json;

use super::session::Signed;
use super::{forbidden, not_found, now_ms, parse_form, unavailable};
use crate::routes::rfc3339;
use crate::AppState;

fn ms(t: time::OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The law catalogue of the data directory, read once per process.
pub(crate) fn catalogue(s: &AppState) -> Result<Arc<Catalogue>, StoreError> {
    if let Some(c) = s.console.laws.get() {
        return Ok(c.clone());
    }
    let c = Arc::new(s.store.dir().laws()?);
    Ok(s.console.laws.get_or_init(|| c).clone())
}

enum Loaded {
    Page(serde_json::Value),
    NotFound,
}

/// What the three pages share: the incident, its scope and its obligations.
fn load(s: &AppState, id: u64, with_eval: bool) -> Result<Loaded, StoreError> {
    let (inc, clock) = match s.store.incident_clock(id) {
        Ok(r) => r,
        Err(IncidentReadError::NotFound(_)) => return Ok(Loaded::NotFound),
        Err(IncidentReadError::Store(e)) => return Err(e),
    };
    let scenario = s.store.scenario_of(&inc)?;
    let inc = &inc;
    // Who set the clock: the last change of aware_at, else the opening.
    let clock = clock
        .filter(|e| {
            e.kind == EntryKind::Updated
                && e.details["changed"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|f| f == "aware_at"))
        })
        .map(|e| json!({"by": e.actor, "at": rfc3339(ms(e.at)), "text": e.text}))
        .unwrap_or_else(|| {
            json!({"by": inc.opened_by, "at": rfc3339(ms(inc.opened_at)), "text": "set when the incident was opened"})
        });
    let mut ctx = json!({
        "i": {"id": inc.id, "title": inc.title, "phase": inc.phase.code(), "severity": inc.severity.code(),
              "aware_at": rfc3339(ms(inc.aware_at))},
        "clock": clock,
    });
    let Some((scope_version, scenario)) = scenario else {
        ctx["no_scope"] = json!(true);
        return Ok(Loaded::Page(ctx));
    };
    let cat = catalogue(s)?;
    let eval = evaluate(&cat, &scenario).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let now = now_ms();
    let obligations: Vec<_> = eval
        .obligations
        .iter()
        .map(|o| {
            let due = o.deadline.or(o.recommended_target).map(ms);
            json!({
                "jurisdiction": o.jurisdiction, "law": o.law, "law_name": o.law_name,
                "recipient": o.recipient.code(), "body": o.body, "count": o.count,
                "deadline": o.deadline.map(ms).map(rfc3339),
                "target": o.recommended_target.map(ms).map(rfc3339),
                "due": due.map(rfc3339), "late": due.is_some_and(|d| d < now),
                "standard": o.standard, "basis": o.deadline_basis, "citation": o.citation,
                "why": o.why, "required_content": o.required_content,
                "confidence": serde_json::to_value(o.confidence).unwrap_or_default(),
            })
        })
        .collect();
    ctx["scope_version"] = json!(scope_version);
    ctx["affected"] = serde_json::to_value(&scenario.affected).unwrap_or_default();
    ctx["total"] = json!(scenario.affected.iter().map(|g| g.count).sum::<u64>());
    ctx["obligations"] = json!(obligations);
    ctx["not_triggered"] = serde_json::to_value(&eval.not_triggered).unwrap_or_default();
    ctx["disclaimer"] = json!(eval.disclaimer);
    if with_eval {
        ctx["eval"] = serde_json::to_value(&eval).unwrap_or_default();
    }
    Ok(Loaded::Page(ctx))
}

async fn page(s: AppState, me: Signed, id: u64, template: &'static str, nav_tab: &str) -> Response {
    if !me.can(Scope::IncidentsRead) {
        return forbidden(&s, &me, "An incident");
    }
    let s2 = s.clone();
    let tab = nav_tab.to_owned();
    let is_legal = me.has_team(Role::Legal);
    let r = crate::routes::blocking(move || -> Result<Loaded, StoreError> {
        let mut loaded = load(&s2, id, tab == "letters")?;
        if let Loaded::Page(ctx) = &mut loaded {
            if tab == "letters" {
                letters_context(&s2, id, ctx)?;
            }
            if tab == "scope" {
                ctx["versions"] = json!(s2
                    .store
                    .scope_versions(id)?
                    .into_iter()
                    .map(
                        |(v, sum)| json!({"version": v, "customers": sum["customers"],
                        "source": sum["source"], "by_element": sum["by_element"]})
                    )
                    .collect::<Vec<_>>());
            }
            ctx["is_legal"] = json!(is_legal);
        }
        Ok(loaded)
    })
    .await;
    match r {
        Ok(Ok(Loaded::Page(mut ctx))) => {
            ctx["me"] = json!(me.me());
            ctx["nav"] = json!("incidents");
            ctx["tab"] = json!(nav_tab);
            if let Some(e) = ctx.as_object_mut() {
                e.remove("eval");
            }
            s.console.templates.page(StatusCode::OK, template, ctx)
        }
        Ok(Ok(Loaded::NotFound)) => not_found(&s, &me),
        Ok(Err(e)) => unavailable(&s, &e),
        Err(_) => unavailable(&s, &"a page task stopped"),
    }
}

pub async fn deadlines(State(s): State<AppState>, me: Signed, Path(id): Path<u64>) -> Response {
    page(s, me, id, "deadlines.html", "deadlines").await
}

pub async fn scope(State(s): State<AppState>, me: Signed, Path(id): Path<u64>) -> Response {
    page(s, me, id, "scope.html", "scope").await
}

pub async fn letters(State(s): State<AppState>, me: Signed, Path(id): Path<u64>) -> Response {
    page(s, me, id, "letters.html", "letters").await
}

/// Versions, the newest version's samples with each jurisdiction's
/// required content, and the delivery against each jurisdiction's deadline.
fn letters_context(s: &AppState, id: u64, ctx: &mut serde_json::Value) -> Result<(), StoreError> {
    let versions = s.store.notice_versions(id)?;
    let scope_version = ctx["scope_version"].as_u64();
    let newest_rendered = versions
        .iter()
        .filter(|v| v.state != VersionState::Rendering)
        .map(|v| v.scope_version)
        .max();
    ctx["scope_grew"] =
        json!(matches!((scope_version, newest_rendered), (Some(s), Some(r)) if s > u64::from(r)));
    ctx["versions"] = json!(versions
        .iter()
        .rev()
        .map(|v| json!({
            "version": v.version, "state": v.state.as_str(), "created": rfc3339(v.created_ms), "by": v.created_by,
            "scope_version": v.scope_version, "email": v.report.queued_email, "print": v.report.queued_print,
            "refused": v.report.refused_total, "refusals": v.report.refused, "approved_by": v.approved_by,
            "approved": v.approved_ms.map(rfc3339), "draft": v.state == VersionState::Draft,
            "shapes": v.report.stencils,
        }))
        .collect::<Vec<_>>());
    let sample_of = versions
        .iter()
        .rev()
        .find(|v| matches!(v.state, VersionState::Draft | VersionState::Approved));
    let obligations = ctx["eval"]["obligations"].clone();
    let individuals = |j: &str| -> (Vec<String>, Option<String>) {
        let mut content = Vec::new();
        let mut due: Option<String> = None;
        for o in obligations.as_array().into_iter().flatten() {
            if o["jurisdiction"] == j && o["recipient"] == Recipient::Individuals.code() {
                for c in o["required_content"].as_array().into_iter().flatten() {
                    if let Some(c) = c.as_str() {
                        if !content.iter().any(|x| x == c) {
                            content.push(c.to_owned());
                        }
                    }
                }
                let d = o["deadline"].as_str().or(o["recommended_target"].as_str());
                if let Some(d) = d {
                    if due.as_deref().is_none_or(|x| d < x) {
                        due = Some(d.to_owned());
                    }
                }
            }
        }
        (content, due)
    };
    if let Some(v) = sample_of {
        let samples = s.store.notice_samples(id, v.version)?;
        ctx["sample_version"] = json!(v.version);
        ctx["samples"] = json!(samples
            .iter()
            .map(|x| {
                let (content, _) = individuals(&x.jurisdiction);
                json!({"jurisdiction": x.jurisdiction, "letters": x.letters, "language": x.letter.language,
                       "template": x.letter.template, "subject": x.letter.subject, "text": x.letter.text,
                       "checklist": content})
            })
            .collect::<Vec<_>>());
    }
    let now = now_ms();
    let window = 10 * 60 * 1000;
    let delivery = s.store.notice_delivery(id, now, window)?;
    let per_ms = delivery.sent_recently as f64 / window as f64;
    ctx["rate_per_min"] = json!((per_ms * 60_000.0 * 10.0).round() / 10.0);
    let mut pending_total = 0u64;
    let rows: Vec<_> = delivery
        .jurisdictions
        .iter()
        .map(|d| {
            pending_total += d.pending;
            let (_, due) = individuals(&d.jurisdiction);
            json!({"jurisdiction": d.jurisdiction, "states": d.states, "pending": d.pending,
                   "delivered": d.delivered, "due": due})
        })
        .collect();
    // At the current rate, when the last pending letter goes out (the sender
    // works through the outbox in order, so the whole backlog is the measure).
    let eta =
        (pending_total > 0 && per_ms > 0.0).then(|| now + (pending_total as f64 / per_ms) as i64);
    let rows: Vec<_> = rows
        .into_iter()
        .map(|mut r| {
            let due = r["due"]
                .as_str()
                .and_then(|d| {
                    time::OffsetDateTime::parse(d, &time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .map(ms);
            let pending = r["pending"].as_u64().unwrap_or(0);
            r["projection"] = json!(match (pending, eta, due) {
                (0, _, _) => "done",
                (_, None, _) => "not sending",
                (_, Some(_), None) => "no deadline",
                (_, Some(e), Some(d)) if e <= d => "in time",
                _ => "late at this rate",
            });
            r
        })
        .collect();
    ctx["delivery"] = json!(rows);
    ctx["pending_total"] = json!(pending_total);
    ctx["eta"] = json!(eta.map(rfc3339));
    Ok(())
}

/// Renders a new notice version from the facts typed on the page. Names and
/// addresses are revealed through the access log as this operator's reads.
pub async fn render(
    State(s): State<AppState>,
    me: Signed,
    Path(id): Path<u64>,
    body: Bytes,
) -> Response {
    if !(me.has_team(Role::Legal) || me.has_team(Role::IncidentCommander)) {
        return forbidden(&s, &me, "Rendering letters");
    }
    let f = parse_form(&body);
    let facts_text = f.get("facts").cloned().unwrap_or_default();
    let facts = match NoticeFacts::from_toml(&facts_text) {
        Ok(x) => x,
        Err(e) => return letters_error(&s, me, id, format!("the notice facts: {e}")).await,
    };
    let channels = match f.get("channel").map(String::as_str) {
        Some("print") => Channels::Print,
        Some("both") => Channels::Both,
        _ => Channels::Email,
    };
    let notice_date = f
        .get("notice_date")
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| time::OffsetDateTime::now_utc().date().to_string());
    let op = &me.session.operator;
    let actor = Principal {
        id: format!("operator:{}", op.id),
        name: op.name.clone(),
        key_id: None,
        scopes: Scopes::new([Scope::VaultRevealAll]),
    };
    let s2 = s.clone();
    let reissue = f.get("reissue").is_some_and(|v| v == "on");
    let r = crate::routes::blocking(move || -> Result<Result<u32, String>, StoreError> {
        let Some((_, scenario)) = s2.store.incident_scenario(id).map_err(|e| match e {
            IncidentReadError::Store(e) => e,
            IncidentReadError::NotFound(i) => StoreError::Corrupt(format!("incident {i} vanished")),
        })?
        else {
            return Ok(Err(
                "compute the scope first: letters go to the customers in it".into(),
            ));
        };
        let evaluation = evaluate(&*catalogue(&s2)?, &scenario)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let templates = s2.store.dir().templates()?;
        match s2.store.render_notices(&RenderNotices {
            incident: id,
            facts,
            templates,
            evaluation,
            notice_date,
            channels,
            actor,
            reissue,
        }) {
            Ok(report) => Ok(Ok(report.version)),
            Err(RenderNoticesError::Store(e)) => Err(e),
            Err(e) => Ok(Err(e.to_string())),
        }
    })
    .await;
    match r {
        Ok(Ok(Ok(_))) => Redirect::to(&format!("/incidents/{id}/letters")).into_response(),
        Ok(Ok(Err(e))) => letters_error(&s, me, id, e).await,
        Ok(Err(e)) => unavailable(&s, &e),
        Err(_) => unavailable(&s, &"a page task stopped"),
    }
}

async fn letters_error(s: &AppState, me: Signed, id: u64, error: String) -> Response {
    letters_with(s, me, id, error, "error", "alert", StatusCode::BAD_REQUEST).await
}

async fn letters_flash(s: &AppState, me: Signed, id: u64, text: String) -> Response {
    letters_with(s, me, id, text, "flash", "status", StatusCode::OK).await
}

async fn letters_with(
    s: &AppState,
    me: Signed,
    id: u64,
    error: String,
    class: &str,
    role: &str,
    status: StatusCode,
) -> Response {
    let mut res = letters(State(s.clone()), me, Path(id)).await;
    // The page, with the error that refused the action; nothing changed.
    if res.status() == StatusCode::OK {
        let body = axum::body::to_bytes(std::mem::take(res.body_mut()), 4 << 20)
            .await
            .unwrap_or_default();
        let html = String::from_utf8_lossy(&body).replacen(
            "<main id=\"main\">",
            &format!(
                "<main id=\"main\">\n<p class=\"{class}\" role=\"{role}\">{}</p>",
                minijinja::HtmlEscape(&error)
            ),
            1,
        );
        return super::templates::html_response(status, html);
    }
    res
}

/// Legal approval: the signed-in operator, legal on the account and on the
/// incident, after step-up.
pub async fn approve(
    State(s): State<AppState>,
    me: Signed,
    Path((id, version)): Path<(u64, u32)>,
) -> Response {
    if !me.has_team(Role::Legal) {
        return forbidden(&s, &me, "Approving letters");
    }
    if let Some(r) = me.step_up_first(&s, "letters-approve", &format!("/incidents/{id}/letters")) {
        return r;
    }
    let store = s.store.clone();
    let op = me.session.operator.id.clone();
    let r = crate::routes::blocking(move || store.approve_notices(id, version, &op)).await;
    match r {
        Ok(Ok(bulwark_store::ApproveOutcome::Approved)) => {
            Redirect::to(&format!("/incidents/{id}/letters")).into_response()
        }
        Ok(Ok(bulwark_store::ApproveOutcome::Awaiting { have, need })) => {
            letters_flash(
                &s,
                me,
                id,
                format!("Your approval is recorded ({have} of {need}); a second legal operator must approve before anything is sent."),
            )
            .await
        }
        Ok(Err(ApproveNoticesError::Store(e))) => unavailable(&s, &e),
        Ok(Err(e)) => letters_error(&s, me, id, e.to_string()).await,
        Err(_) => unavailable(&s, &"a page task stopped"),
    }
}
