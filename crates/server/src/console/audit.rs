//! Alerts (list, filter, open an incident from one or attach it to one), the
//! audit page (access log, ledger status and verification, operator
//! activity, API keys and the access review with its sign-off) and the
//! incident's review report.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use bulwark_incident::{Classification, NewIncident, Severity};
use bulwark_model::Scope;
use bulwark_store::{
    AccessFilter, AccountDecision, AlertFilter, AlertQueryError, IncidentChangeError,
    ReviewDecision, SignOffError, StoreError,
};
use serde::Deserialize;
use serde_json::json;

use super::session::Signed;
use super::{forbidden, parse_form, unavailable};
use crate::routes::rfc3339;
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct AlertsQuery {
    level: Option<String>,
    rule: Option<String>,
}

pub async fn alerts(
    State(s): State<AppState>,
    me: Signed,
    Query(q): Query<AlertsQuery>,
) -> Response {
    alerts_with(&s, me, q, StatusCode::OK, json!({})).await
}

async fn alerts_with(
    s: &AppState,
    me: Signed,
    q: AlertsQuery,
    status: StatusCode,
    extra: serde_json::Value,
) -> Response {
    if !me.can(Scope::AlertsRead) {
        return forbidden(s, &me, "The alerts");
    }
    let filter = AlertFilter {
        min_level: q.level.clone().filter(|l| !l.is_empty()),
        rule_id: q.rule.clone().filter(|r| !r.is_empty()),
        limit: 200,
        ..AlertFilter::default()
    };
    let store = s.store.clone();
    let r = crate::routes::blocking(move || store.alerts(&filter)).await;
    let list = match r {
        Ok(Ok(l)) => l,
        Ok(Err(AlertQueryError::Invalid(e))) => {
            return s.console.templates.page(
                StatusCode::BAD_REQUEST,
                "alerts.html",
                json!({"me": me.me(), "nav": "alerts", "error": e.to_string(), "alerts": []}),
            )
        }
        Ok(Err(AlertQueryError::Store(e))) => return unavailable(s, &e),
        Err(_) => return unavailable(s, &"a page task stopped"),
    };
    let rows: Vec<_> = list
        .iter()
        .rev()
        .map(|a| {
            json!({"id": a.id, "rule": a.rule_id, "title": a.rule_title, "level": a.level, "count": a.count,
                   "first": rfc3339(a.first_seen_ms), "last": rfc3339(a.last_seen_ms), "group": a.group_key,
                   "source": a.source, "fields": a.fields})
        })
        .collect();
    let mut ctx = json!({"me": me.me(), "nav": "alerts", "alerts": rows,
        "levels": bulwark_store::ALERT_LEVELS, "f": {"level": q.level, "rule": q.rule},
        "can_write": me.can(Scope::IncidentsWrite),
        "classifications": Classification::ALL.iter().map(|c| c.code()).collect::<Vec<_>>()});
    if let (Some(m), serde_json::Value::Object(e)) = (ctx.as_object_mut(), extra) {
        m.extend(e);
    }
    s.console.templates.page(status, "alerts.html", ctx)
}

/// Opens an incident from an alert, or attaches the alert to an incident.
pub async fn act_on_alert(
    State(s): State<AppState>,
    me: Signed,
    Path(alert): Path<i64>,
    body: Bytes,
) -> Response {
    if !me.can(Scope::IncidentsWrite) || !me.can(Scope::AlertsRead) {
        return forbidden(&s, &me, "Acting on an alert");
    }
    let f = parse_form(&body);
    let store = s.store.clone();
    let actor = me.actor();
    let attach_to = f.get("incident").and_then(|v| v.trim().parse::<u64>().ok());
    let classification = f
        .get("classification")
        .and_then(|c| Classification::ALL.iter().copied().find(|x| x.code() == c))
        .unwrap_or(Classification::CredentialTheft);
    let playbooks = s.playbooks.clone();
    let r = crate::routes::blocking(move || -> Result<Result<u64, String>, StoreError> {
        let found = store
            .alerts(&AlertFilter {
                after_id: Some(alert - 1),
                limit: 1,
                ..AlertFilter::default()
            })
            .map_err(|e| match e {
                AlertQueryError::Store(s) => s,
                AlertQueryError::Invalid(v) => StoreError::Corrupt(v.to_string()),
            })?;
        let Some(a) = found.into_iter().find(|a| a.id == alert) else {
            return Ok(Err(format!("no alert {alert}")));
        };
        let key = format!("alert:{}:{}", a.id, a.rule_id);
        match attach_to {
            Some(id) => match store.link_alert(id, key, &actor).wait_blocking() {
                Ok(()) => Ok(Ok(id)),
                Err(IncidentChangeError::Store(e)) => Err(e),
                Err(e) => Ok(Err(e.to_string())),
            },
            None => {
                // Whole milliseconds: the store's clock is, and a time ahead of
                // it by a fraction would be "in the future".
                let now = time::OffsetDateTime::from_unix_timestamp_nanos(
                    i128::from(super::now_ms()) * 1_000_000,
                )
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
                let severity = match a.level.as_str() {
                    "critical" => Severity::Sev1,
                    "high" => Severity::Sev2,
                    "medium" => Severity::Sev3,
                    _ => Severity::Sev4,
                };
                let mut new = NewIncident::new(&a.rule_title, severity, classification, now, now);
                new.alerts = vec![key];
                match store
                    .open_incident(new, (*playbooks).clone(), &actor)
                    .wait_blocking()
                {
                    Ok(id) => Ok(Ok(id)),
                    Err(bulwark_store::OpenIncidentError::Store(e)) => Err(e),
                    Err(e) => Ok(Err(e.to_string())),
                }
            }
        }
    })
    .await;
    match r {
        Ok(Ok(Ok(id))) => Redirect::to(&format!("/incidents/{id}")).into_response(),
        Ok(Ok(Err(e))) => {
            alerts_with(
                &s,
                me,
                AlertsQuery::default(),
                StatusCode::BAD_REQUEST,
                json!({"error": e}),
            )
            .await
        }
        Ok(Err(e)) => unavailable(&s, &e),
        Err(_) => unavailable(&s, &"a page task stopped"),
    }
}

fn is_auditor(me: &Signed) -> bool {
    me.can(Scope::AuditRead)
}

pub async fn audit(State(s): State<AppState>, me: Signed) -> Response {
    audit_with(&s, me, StatusCode::OK, json!({})).await
}

async fn audit_with(
    s: &AppState,
    me: Signed,
    status: StatusCode,
    extra: serde_json::Value,
) -> Response {
    if !is_auditor(&me) {
        return forbidden(s, &me, "The audit page");
    }
    // Key usage is buffered in memory; the review must see the latest.
    if let Err(e) = s.usage.flush(&s.store).wait().await {
        return unavailable(s, &e);
    }
    let store = s.store.clone();
    let r = crate::routes::blocking(move || -> Result<serde_json::Value, StoreError> {
        let access = store.access_log(&AccessFilter {
            limit: 100,
            ..AccessFilter::default()
        })?;
        let activity = store.ledger_recent(Some("operator:"), 100)?;
        let checkpoint = store.latest_checkpoint()?;
        let items = store.access_review()?;
        let reviews = store.ledger_recent(None, 2000)?
            .into_iter()
            .filter(|e| e.action == "access_review.signed_off")
            .take(5)
            .map(|e| json!({"at": rfc3339(e.at_ms), "by": e.actor}))
            .collect::<Vec<_>>();
        Ok(json!({
            "access": access.iter().rev().map(|a| json!({
                "at": a.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                "principal": a.principal, "action": a.action, "purpose": a.purpose,
                "elements": a.elements, "outcome": serde_json::to_value(a.outcome).unwrap_or_default(),
                "count": a.result_count})).collect::<Vec<_>>(),
            "activity": activity.iter().map(|e| json!({"seq": e.seq, "at": rfc3339(e.at_ms), "actor": e.actor,
                "action": e.action, "subject": e.subject})).collect::<Vec<_>>(),
            "checkpoint": checkpoint.map(|c| json!({"seq": c.seq, "at": rfc3339(c.at_ms)})),
            "ledger_len": store.ledger_len()?,
            "items": items.iter().map(|i| json!({"subject": i.subject, "kind": i.kind, "name": i.name,
                "grants": i.grants, "last_used": i.last_used_ms.map(rfc3339), "idle_days": i.idle_days,
                "inactive": i.inactive, "unexercised": i.unexercised})).collect::<Vec<_>>(),
            "inactive_days": bulwark_store::INACTIVE_DAYS,
            "reviews": reviews,
        }))
    })
    .await;
    match r {
        Ok(Ok(mut ctx)) => {
            ctx["me"] = json!(me.me());
            ctx["nav"] = json!("audit");
            if let (Some(m), serde_json::Value::Object(e)) = (ctx.as_object_mut(), extra) {
                m.extend(e);
            }
            s.console.templates.page(status, "audit.html", ctx)
        }
        Ok(Err(e)) => unavailable(s, &e),
        Err(_) => unavailable(s, &"a page task stopped"),
    }
}

/// Verifies the whole ledger now and shows the outcome on the audit page.
pub async fn verify(State(s): State<AppState>, me: Signed) -> Response {
    if !is_auditor(&me) {
        return forbidden(&s, &me, "Verifying the ledger");
    }
    let store = s.store.clone();
    let r = crate::routes::blocking(move || store.verify_ledger(None, |_| {})).await;
    let (status, extra) = match r {
        Ok(Ok(st)) => (
            StatusCode::OK,
            json!({"flash": format!("The ledger verifies: {} entries, {} checkpoints, every hash and signature intact.", st.entries, st.checkpoints_checked)}),
        ),
        Ok(Err(bulwark_store::VerifyLedgerError::Store(e))) => return unavailable(&s, &e),
        Ok(Err(e)) => (
            StatusCode::OK,
            json!({"error": format!("THE LEDGER DOES NOT VERIFY: {e}")}),
        ),
        Err(_) => return unavailable(&s, &"a page task stopped"),
    };
    audit_with(&s, me, status, extra).await
}

/// The access review: every listed key and operator kept or revoked with a
/// reason, signed off after step-up. The store decides who may sign off (the
/// owner roles of the duties the review completes) and refuses an incomplete
/// review; a refusal is shown as it is and writes nothing.
pub async fn sign_off(State(s): State<AppState>, me: Signed, body: Bytes) -> Response {
    if !is_auditor(&me) {
        return forbidden(&s, &me, "Signing off the access review");
    }
    if let Some(r) = me.step_up_first(&s, "access-review", "/audit#review") {
        return r;
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let mut decisions = Vec::new();
    let mut bad = Vec::new();
    for (k, v) in &pairs {
        let Some(subject) = k.strip_prefix("decision:") else {
            continue;
        };
        let decision = match v.as_str() {
            "keep" => ReviewDecision::Keep,
            "revoke" => ReviewDecision::Revoke,
            _ => {
                bad.push(subject.to_owned());
                continue;
            }
        };
        let reason = pairs
            .iter()
            .find(|(rk, _)| rk.strip_prefix("reason:") == Some(subject))
            .map(|(_, r)| r.trim().to_owned())
            .unwrap_or_default();
        decisions.push(AccountDecision {
            subject: subject.to_owned(),
            decision,
            reason,
        });
    }
    if !bad.is_empty() {
        return review_refused(&s, me, "Choose keep or revoke for every account.".into()).await;
    }
    // The reviewer's decisions are about what the review lists now.
    if let Err(e) = s.usage.flush(&s.store).wait().await {
        return unavailable(&s, &e);
    }
    let calendar = match s.store.dir().compliance() {
        Ok(c) => c,
        Err(e) => return unavailable(&s, &e),
    };
    let store = s.store.clone();
    let reviewer = me.session.operator.id.clone();
    let subjects: Vec<String> = decisions.iter().map(|d| d.subject.clone()).collect();
    let r = crate::routes::blocking(move || {
        store
            .sign_off_review(&calendar, decisions, &reviewer)
            .wait_blocking()
    })
    .await;
    match r {
        Ok(Ok(out)) => {
            audit_with(
                &s,
                me,
                StatusCode::OK,
                json!({"flash": format!(
                    "Access review signed off: {} key(s) revoked, {} operator(s) disabled ({} session(s) ended); completes {}.",
                    out.keys_revoked, out.operators_disabled, out.sessions_ended, out.duties.join(", "))}),
            )
            .await
        }
        Ok(Err(SignOffError::Store(e))) => unavailable(&s, &e),
        Ok(Err(SignOffError::NotOwner { duty, owner })) => {
            let text = format!(
                "Not signed off, nothing was changed: signing off needs the owner role `{owner}` of duty `{duty}`, which you do not hold."
            );
            audit_with(&s, me, StatusCode::FORBIDDEN, json!({"error": text})).await
        }
        Ok(Err(SignOffError::Invalid(errors))) => {
            // Name the accounts, not the form's field indexes.
            let named: Vec<String> = errors
                .0
                .iter()
                .map(|f| {
                    let who = f
                        .field
                        .strip_prefix("decisions[")
                        .and_then(|r| r.split(']').next())
                        .and_then(|i| i.parse::<usize>().ok())
                        .and_then(|i| subjects.get(i))
                        .map_or(f.field.as_str(), String::as_str);
                    format!("{who}: {}", f.message)
                })
                .collect();
            review_refused(&s, me, named.join("; ")).await
        }
        Ok(Err(e @ (SignOffError::NoReviewer | SignOffError::Undecided(_)))) => {
            review_refused(&s, me, e.to_string()).await
        }
        Err(_) => unavailable(&s, &"a page task stopped"),
    }
}

async fn review_refused(s: &AppState, me: Signed, why: String) -> Response {
    audit_with(
        s,
        me,
        StatusCode::BAD_REQUEST,
        json!({"error": format!("Not signed off, nothing was changed: {why}")}),
    )
    .await
}
