//! Alerts (list, filter, open an incident from one or attach it to one), the
//! audit page (access log, ledger status and verification, operator
//! activity, API keys and the access review with its sign-off) and the
//! incident's review report.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use bulwark_access::OperatorRole;
use bulwark_incident::{Classification, NewIncident, Severity};
use bulwark_model::Scope;
use bulwark_store::{
    AccessFilter, AccessReviewError, AlertFilter, AlertQueryError, IncidentChangeError,
    KeyDecision, ReviewDecision, StoreError,
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
                   "source": a.source})
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
    let store = s.store.clone();
    let r = crate::routes::blocking(move || -> Result<serde_json::Value, StoreError> {
        let access = store.access_log(&AccessFilter {
            limit: 100,
            ..AccessFilter::default()
        })?;
        let activity = store.ledger_recent(Some("operator:"), 100)?;
        let checkpoint = store.latest_checkpoint()?;
        let keys = store.review_keys(90)?;
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
            "keys": keys.iter().map(|k| json!({"id": k.key.id, "name": k.key.name, "idle_days": k.idle_days,
                "never_used": k.never_used, "revoked": k.key.revoked_at_ms.is_some(),
                "unexercised": k.unexercised_scopes.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                "stale": k.idle_days >= 90 || !k.unexercised_scopes.is_empty()})).collect::<Vec<_>>(),
            "reviews": reviews,
        }))
    })
    .await;
    match r {
        Ok(Ok(mut ctx)) => {
            ctx["me"] = json!(me.me());
            ctx["nav"] = json!("audit");
            ctx["can_review"] = json!(me.session.operator.roles.has(OperatorRole::Admin));
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

/// The access review: each listed key kept or revoked with a reason, signed
/// off by the administrator after step-up.
pub async fn sign_off(State(s): State<AppState>, me: Signed, body: Bytes) -> Response {
    if !me.session.operator.roles.has(OperatorRole::Admin) {
        return forbidden(&s, &me, "Signing off the access review");
    }
    if let Some(r) = me.step_up_first(&s, "access-review", "/audit#review") {
        return r;
    }
    let mut decisions = Vec::new();
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    for (k, v) in &pairs {
        if let Some(key) = k.strip_prefix("decision:") {
            let decision = match v.as_str() {
                "keep" => ReviewDecision::Keep,
                "revoke" => ReviewDecision::Revoke,
                _ => continue,
            };
            let reason = pairs
                .iter()
                .find(|(rk, _)| rk == &format!("reason:{key}"))
                .map(|(_, r)| r.trim().to_owned())
                .unwrap_or_default();
            decisions.push(KeyDecision {
                key: key.to_owned(),
                decision,
                reason,
            });
        }
    }
    let store = s.store.clone();
    let actor = me.actor();
    let r = crate::routes::blocking(move || {
        store
            .sign_off_access_review(decisions, &actor)
            .wait_blocking()
    })
    .await;
    match r {
        Ok(Ok(n)) => {
            audit_with(
                &s,
                me,
                StatusCode::OK,
                json!({"flash": format!("Access review signed off; {n} key(s) revoked.")}),
            )
            .await
        }
        Ok(Err(AccessReviewError::Store(e))) => unavailable(&s, &e),
        Ok(Err(e)) => {
            audit_with(
                &s,
                me,
                StatusCode::BAD_REQUEST,
                json!({"error": e.to_string()}),
            )
            .await
        }
        Err(_) => unavailable(&s, &"a page task stopped"),
    }
}
