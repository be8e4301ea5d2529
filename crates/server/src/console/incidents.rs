//! The incident board and the incident page, with what the team does there:
//! phase changes, notes, team assignment, tasks done or skipped with reasons,
//! containment (step-up; it really acts) and public updates (step-up).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use bulwark_incident::{ContainmentAction, Phase, Role, Severity};
use bulwark_model::Scope;
use bulwark_store::{
    BoardFilter, BoardSort, Contain, IncidentChangeError, IncidentReadError, TaskChange,
};
use serde::Deserialize;
use serde_json::json;

use super::session::Signed;
use super::{forbidden, not_found, now_ms, parse_form, unavailable};
use crate::routes::rfc3339;
use crate::AppState;

#[derive(Deserialize, Default)]
pub struct BoardQuery {
    phase: Option<String>,
    severity: Option<String>,
    sort: Option<String>,
    page: Option<u32>,
    closed: Option<String>,
    /// `include` or `only`: drill runs' incidents (hidden by default).
    drills: Option<String>,
}

const PAGE: u32 = 50;

pub async fn board(State(s): State<AppState>, me: Signed, Query(q): Query<BoardQuery>) -> Response {
    if !me.can(Scope::IncidentsRead) {
        return forbidden(&s, &me, "The incident board");
    }
    let phase = q
        .phase
        .as_deref()
        .filter(|p| !p.is_empty())
        .and_then(|p| Phase::ALL.iter().copied().find(|x| x.code() == p));
    let severity = q
        .severity
        .as_deref()
        .filter(|p| !p.is_empty())
        .and_then(|p| Severity::ALL.iter().copied().find(|x| x.code() == p));
    let sort = match q.sort.as_deref() {
        Some("newest") => BoardSort::Newest,
        Some("severity") => BoardSort::Severity,
        _ => BoardSort::Due,
    };
    let page = q.page.unwrap_or(1).clamp(1, 100_000);
    let drills = match q.drills.as_deref() {
        Some("include") => bulwark_store::BoardDrills::Include,
        Some("only") => bulwark_store::BoardDrills::Only,
        _ => bulwark_store::BoardDrills::Hide,
    };
    let filter = BoardFilter {
        include_closed: q.closed.as_deref() == Some("on"),
        drills,
        phase,
        severity,
        sort,
        limit: PAGE,
        offset: (page - 1) * PAGE,
    };
    let store = s.store.clone();
    let now = now_ms();
    let found = crate::routes::blocking(move || store.incident_board(&filter, now)).await;
    let board = match found {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return unavailable(&s, &e),
        Err(_) => return unavailable(&s, &"a page task stopped"),
    };
    let rows: Vec<_> = board
        .rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "title": r.title, "severity": r.severity.code(), "phase": r.phase.code(),
                "owner": r.owner, "opened": rfc3339(r.opened_ms), "open_tasks": r.open_tasks,
                "overdue": r.overdue, "next_due": r.next_due_ms.map(rfc3339),
                "late": r.next_due_ms.is_some_and(|d| d < now),
                "drill": r.drill,
            })
        })
        .collect();
    let pages = board.total.div_ceil(u64::from(PAGE)).max(1);
    let keep = |p: u32| {
        let mut ser = form_urlencoded::Serializer::new(String::new());
        if let Some(x) = phase {
            ser.append_pair("phase", x.code());
        }
        if let Some(x) = severity {
            ser.append_pair("severity", x.code());
        }
        if let Some(x) = &q.sort {
            ser.append_pair("sort", x);
        }
        if filter_closed(&q) {
            ser.append_pair("closed", "on");
        }
        if let Some(d) = q
            .drills
            .as_deref()
            .filter(|d| matches!(*d, "include" | "only"))
        {
            ser.append_pair("drills", d);
        }
        ser.append_pair("page", &p.to_string());
        format!("/incidents?{}", ser.finish())
    };
    s.console.templates.page(
        StatusCode::OK,
        "incidents.html",
        json!({
            "me": me.me(), "nav": "incidents", "rows": rows, "total": board.total,
            "page": page, "pages": pages,
            "prev": (page > 1).then(|| keep(page - 1)),
            "next": (u64::from(page) < pages).then(|| keep(page + 1)),
            "phases": Phase::ALL.iter().map(|p| p.code()).collect::<Vec<_>>(),
            "severities": Severity::ALL.iter().map(|p| p.code()).collect::<Vec<_>>(),
            "f": {"phase": phase.map(|p| p.code()), "severity": severity.map(|p| p.code()),
                  "sort": q.sort.clone().unwrap_or_else(|| "due".into()), "closed": filter_closed(&q),
                  "drills": q.drills.as_deref().filter(|d| matches!(*d, "include" | "only"))},
            "can_open": me.can(Scope::IncidentsWrite),
        }),
    )
}

fn filter_closed(q: &BoardQuery) -> bool {
    q.closed.as_deref() == Some("on")
}

/// The incident page.
pub async fn show(State(s): State<AppState>, me: Signed, Path(id): Path<u64>) -> Response {
    show_with(&s, me, id, StatusCode::OK, json!({})).await
}

pub(crate) async fn show_with(
    s: &AppState,
    me: Signed,
    id: u64,
    status: StatusCode,
    extra: serde_json::Value,
) -> Response {
    if !me.can(Scope::IncidentsRead) {
        return forbidden(s, &me, "An incident");
    }
    let store = s.store.clone();
    let read = crate::routes::blocking(move || {
        let rec = store.incident(id)?;
        let evidence = store.evidence(id).map_err(IncidentReadError::Store)?;
        let scope = store.latest_scope(id).map_err(IncidentReadError::Store)?;
        Ok::<_, IncidentReadError>((rec, evidence, scope))
    })
    .await;
    let (rec, evidence, scope) = match read {
        Ok(Ok(x)) => x,
        Ok(Err(IncidentReadError::NotFound(_))) => return not_found(s, &me),
        Ok(Err(IncidentReadError::Store(e))) => return unavailable(s, &e),
        Err(_) => return unavailable(s, &"a page task stopped"),
    };
    let now = time::OffsetDateTime::now_utc();
    let inc = &rec.incident;
    let tasks: Vec<_> = rec
        .tasks
        .iter()
        .map(|t| {
            json!({
                "key": t.key, "title": t.title, "description": t.description, "phase": t.phase.code(),
                "role": t.role.code(), "role_title": t.role.title(),
                "due": t.due_at.map(|d| rfc3339((d.unix_timestamp_nanos() / 1_000_000) as i64)),
                "overdue": t.is_overdue(now), "open": t.is_open(),
                "status": status_text(&t.status),
                "action": t.action.as_ref().map(|a| a.code()),
            })
        })
        .collect();
    let timeline: Vec<_> = rec
        .timeline
        .iter()
        .rev()
        .map(|e| {
            json!({
                "at": rfc3339((e.at.unix_timestamp_nanos() / 1_000_000) as i64),
                "actor": e.actor, "kind": serde_json::to_value(e.kind).unwrap_or_default(), "text": e.text,
            })
        })
        .collect();
    let team: Vec<_> = Role::ALL
        .iter()
        .map(|r| {
            json!({
                "role": r.code(), "title": r.title(),
                "person": inc.team.iter().find(|a| a.role == *r).map(|a| a.person.clone()),
            })
        })
        .collect();
    let evidence: Vec<_> = evidence
        .iter()
        .map(|e| serde_json::to_value(e).unwrap_or_default())
        .collect();
    let mut ctx = json!({
        "me": me.me(), "nav": "incidents",
        "i": {
            "id": inc.id, "slug": inc.slug, "title": inc.title, "summary": inc.summary,
            "severity": inc.severity.code(), "phase": inc.phase.code(),
            "classification": inc.classification.to_string(),
            "owner": inc.owner, "aware_at": rfc3339((inc.aware_at.unix_timestamp_nanos() / 1_000_000) as i64),
            "opened_by": inc.opened_by, "playbooks": inc.playbooks, "affected_systems": inc.affected_systems,
            "elements": inc.elements.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
            "card_data": inc.card_data,
        },
        "next_phases": inc.phase.allowed_next().iter().map(|p| p.code()).collect::<Vec<_>>(),
        "tasks": tasks, "timeline": timeline, "team": team, "evidence": evidence,
        "scope_elements": scope
            .as_ref()
            .and_then(|(_, sum)| sum["by_element"].as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()))
            .unwrap_or_default(),
        "can_write": me.can(Scope::IncidentsWrite),
        "can_contain": me.can(Scope::IncidentsWrite),
        "can_publish": me.has_team(Role::PrComms) || me.has_team(Role::IncidentCommander),
        "actions": ["vault_lockdown", "revoke_api_key", "rotate_data_key"],
    });
    if let (Some(m), serde_json::Value::Object(e)) = (ctx.as_object_mut(), extra) {
        m.extend(e);
    }
    s.console.templates.page(status, "incident.html", ctx)
}

/// Redirects back to the incident page after a change, or shows it with the
/// error that refused the change (nothing changed).
async fn after_change(
    s: &AppState,
    me: Signed,
    id: u64,
    outcome: Result<Result<(), IncidentChangeError>, ()>,
    anchor: &str,
) -> Response {
    match outcome {
        Ok(Ok(())) => Redirect::to(&format!("/incidents/{id}#{anchor}")).into_response(),
        Ok(Err(IncidentChangeError::NotFound(_))) => not_found(s, &me),
        Ok(Err(IncidentChangeError::Store(e))) => unavailable(s, &e),
        Ok(Err(e)) => {
            show_with(
                s,
                me,
                id,
                StatusCode::BAD_REQUEST,
                json!({"error": e.to_string()}),
            )
            .await
        }
        Err(()) => unavailable(s, &"a page task stopped"),
    }
}

fn field(f: &HashMap<String, String>, k: &str) -> String {
    f.get(k).map(|v| v.trim().to_owned()).unwrap_or_default()
}

fn optional(f: &HashMap<String, String>, k: &str) -> Option<String> {
    Some(field(f, k)).filter(|v| !v.is_empty())
}

pub async fn advance(
    State(s): State<AppState>,
    me: Signed,
    Path(id): Path<u64>,
    body: Bytes,
) -> Response {
    if !me.can(Scope::IncidentsWrite) {
        return forbidden(&s, &me, "Changing an incident");
    }
    let f = parse_form(&body);
    let Some(to) = Phase::ALL
        .iter()
        .copied()
        .find(|p| p.code() == field(&f, "to"))
    else {
        return show_with(
            &s,
            me,
            id,
            StatusCode::BAD_REQUEST,
            json!({"error": "choose the phase to move to"}),
        )
        .await;
    };
    let store = s.store.clone();
    let actor = me.actor();
    let reason = optional(&f, "reason");
    let r = crate::routes::blocking(move || {
        store
            .advance_incident(id, to, reason, &actor)
            .wait_blocking()
    })
    .await
    .map_err(|_| ());
    after_change(&s, me, id, r, "phase").await
}

pub async fn note(
    State(s): State<AppState>,
    me: Signed,
    Path(id): Path<u64>,
    body: Bytes,
) -> Response {
    if !me.can(Scope::IncidentsWrite) {
        return forbidden(&s, &me, "Changing an incident");
    }
    let f = parse_form(&body);
    let store = s.store.clone();
    let actor = me.actor();
    let text = field(&f, "text");
    let r = crate::routes::blocking(move || store.note_incident(id, text, &actor).wait_blocking())
        .await
        .map_err(|_| ());
    after_change(&s, me, id, r.map(|x| x.map(|_| ())), "timeline").await
}

pub async fn assign(
    State(s): State<AppState>,
    me: Signed,
    Path(id): Path<u64>,
    body: Bytes,
) -> Response {
    if !me.can(Scope::IncidentsWrite) {
        return forbidden(&s, &me, "Changing an incident");
    }
    let f = parse_form(&body);
    let Ok(role) = field(&f, "role").parse::<Role>() else {
        return show_with(
            &s,
            me,
            id,
            StatusCode::BAD_REQUEST,
            json!({"error": "choose a team role"}),
        )
        .await;
    };
    let person = field(&f, "person");
    let store = s.store.clone();
    let actor = me.actor();
    let r = crate::routes::blocking(move || {
        store
            .assign_incident(id, role, person, &actor)
            .wait_blocking()
    })
    .await
    .map_err(|_| ());
    after_change(&s, me, id, r, "team").await
}

pub async fn task(
    State(s): State<AppState>,
    me: Signed,
    Path(id): Path<u64>,
    body: Bytes,
) -> Response {
    if !me.can(Scope::IncidentsWrite) {
        return forbidden(&s, &me, "Changing an incident");
    }
    let f = parse_form(&body);
    let key = field(&f, "key");
    let reason = field(&f, "reason");
    let change = match field(&f, "change").as_str() {
        "done" => TaskChange::Done {
            note: Some(reason).filter(|r| !r.is_empty()),
        },
        "skip" => TaskChange::Skip { reason },
        "reopen" => TaskChange::Reopen { reason },
        _ => {
            return show_with(
                &s,
                me,
                id,
                StatusCode::BAD_REQUEST,
                json!({"error": "choose done, skip or reopen"}),
            )
            .await
        }
    };
    let store = s.store.clone();
    let actor = me.actor();
    let r =
        crate::routes::blocking(move || store.update_task(id, key, change, &actor).wait_blocking())
            .await
            .map_err(|_| ());
    after_change(&s, me, id, r, "tasks").await
}

pub async fn contain(
    State(s): State<AppState>,
    me: Signed,
    Path(id): Path<u64>,
    body: Bytes,
) -> Response {
    let f = parse_form(&body);
    let action = match field(&f, "action").as_str() {
        "vault_lockdown" => ContainmentAction::VaultLockdown,
        "revoke_api_key" => ContainmentAction::RevokeApiKey,
        "rotate_data_key" => ContainmentAction::RotateDataKey,
        other => match other.strip_prefix("webhook:") {
            Some(event) if !event.is_empty() => ContainmentAction::Webhook {
                event: event.to_owned(),
            },
            _ => {
                return show_with(
                    &s,
                    me,
                    id,
                    StatusCode::BAD_REQUEST,
                    json!({"error": "choose a containment action"}),
                )
                .await
            }
        },
    };
    if !me.can(Scope::IncidentsWrite) || !me.can(action.required_scope()) {
        return forbidden(&s, &me, "This containment action");
    }
    if let Some(r) = me.step_up_first(&s, "contain", &format!("/incidents/{id}#containment")) {
        return r;
    }
    let req = Contain {
        action,
        target: optional(&f, "target"),
        undo: field(&f, "undo") == "on",
        reason: field(&f, "reason"),
    };
    let store = s.store.clone();
    let actor = me.actor();
    let payload = crate::routes::WebhookCall {
        incident: id,
        reason: req.reason.clone(),
        undo: req.undo,
        by: actor.clone(),
        event: String::new(),
    };
    let r = crate::routes::blocking(move || {
        let deliver = |event: &str| {
            let call = crate::routes::WebhookCall {
                event: event.to_owned(),
                ..payload.clone()
            };
            crate::webhook::deliver(&store, event, &call)
        };
        store.contain_blocking(id, req, &actor, &deliver)
    })
    .await;
    match r {
        Ok(Ok(rec)) => {
            let text = if rec.succeeded {
                format!("{} done: {}", rec.action, rec.result)
            } else {
                format!("{} failed (recorded): {}", rec.action, rec.result)
            };
            let key = if rec.succeeded { "flash" } else { "error" };
            show_with(&s, me, id, StatusCode::OK, json!({ key: text })).await
        }
        Ok(Err(bulwark_store::ContainError::Store(e))) => unavailable(&s, &e),
        Ok(Err(e)) => {
            show_with(
                &s,
                me,
                id,
                StatusCode::BAD_REQUEST,
                json!({"error": e.to_string()}),
            )
            .await
        }
        Err(_) => unavailable(&s, &"a page task stopped"),
    }
}

/// Publishes an update on the incident's public page: communications (or the
/// incident commander), after step-up. The draft is previewed first.
pub async fn publish(
    State(s): State<AppState>,
    me: Signed,
    Path(id): Path<u64>,
    body: Bytes,
) -> Response {
    if !(me.has_team(Role::PrComms) || me.has_team(Role::IncidentCommander)) {
        return forbidden(&s, &me, "Publishing a public update");
    }
    let f = parse_form(&body);
    let text = field(&f, "text");
    if field(&f, "step") != "publish" {
        return show_with(
            &s,
            me,
            id,
            StatusCode::OK,
            json!({"preview": text, "draft": text}),
        )
        .await;
    }
    if let Some(r) = me.step_up_first(&s, "publish", &format!("/incidents/{id}#updates")) {
        return r;
    }
    let store = s.store.clone();
    let actor = me.actor();
    let r = crate::routes::blocking(move || store.publish_update(id, text, &actor).wait_blocking())
        .await
        .map_err(|_| ());
    after_change(&s, me, id, r.map(|x| x.map(|_| ())), "updates").await
}

fn status_text(s: &bulwark_incident::TaskStatus) -> String {
    use bulwark_incident::TaskStatus;
    match s {
        TaskStatus::Open => "open".into(),
        TaskStatus::Done { by, note, .. } => match note {
            Some(n) => format!("done by {by}: {n}"),
            None => format!("done by {by}"),
        },
        TaskStatus::Skipped { by, reason, .. } => format!("skipped by {by}: {reason}"),
    }
}

/// The post-incident review, as the report renders it.
pub async fn report(State(s): State<AppState>, me: Signed, Path(id): Path<u64>) -> Response {
    if !me.can(Scope::IncidentsRead) {
        return forbidden(&s, &me, "An incident");
    }
    let store = s.store.clone();
    let r = crate::routes::blocking(move || {
        let rec = store.incident(id)?;
        let (scope, notices) = store.review_summaries(id)?;
        Ok::<_, IncidentReadError>((rec, scope, notices))
    })
    .await;
    let (rec, scope, notices) = match r {
        Ok(Ok(x)) => x,
        Ok(Err(IncidentReadError::NotFound(_))) => return not_found(&s, &me),
        Ok(Err(IncidentReadError::Store(e))) => return unavailable(&s, &e),
        Err(_) => return unavailable(&s, &"a page task stopped"),
    };
    let text = match bulwark_incident::render_report(
        &rec.incident,
        &rec.timeline,
        &rec.tasks,
        scope.as_ref(),
        notices.as_ref(),
        bulwark_incident::Format::Markdown,
    ) {
        Ok(t) => t,
        Err(e) => return unavailable(&s, &e),
    };
    s.console.templates.page(
        StatusCode::OK,
        "report.html",
        json!({"me": me.me(), "nav": "incidents", "tab": "report",
               "i": {"id": rec.incident.id, "title": rec.incident.title}, "report": text}),
    )
}

/// Hashes the incident's evidence again and shows which items are intact.
pub async fn verify_evidence(
    State(s): State<AppState>,
    me: Signed,
    Path(id): Path<u64>,
) -> Response {
    if !me.can(Scope::IncidentsRead) {
        return forbidden(&s, &me, "An incident");
    }
    let store = s.store.clone();
    let r = crate::routes::blocking(move || store.verify_evidence(id)).await;
    match r {
        Ok(Ok(items)) => {
            let bad: Vec<String> = items
                .iter()
                .filter(|(_, ok)| !ok)
                .map(|(i, _)| format!("#{i}"))
                .collect();
            let extra = if bad.is_empty() {
                json!({"flash": format!("All {} evidence item(s) verify: every file matches its SHA-256.", items.len())})
            } else {
                json!({"error": format!("Evidence NOT intact: {} (missing or altered in the locker).", bad.join(", "))})
            };
            show_with(&s, me, id, StatusCode::OK, extra).await
        }
        Ok(Err(e)) => unavailable(&s, &e),
        Err(_) => unavailable(&s, &"a page task stopped"),
    }
}

/// Seals the incident's evidence into a signed bundle in the data directory's
/// `exports/` (a custody event); the page says where, for `bulwark evidence verify`.
pub async fn export_evidence(
    State(s): State<AppState>,
    me: Signed,
    Path(id): Path<u64>,
) -> Response {
    if !me.can(Scope::IncidentsWrite) {
        return forbidden(&s, &me, "Exporting evidence");
    }
    let store = s.store.clone();
    let actor = me.actor();
    let stamp = super::now_ms();
    let r = crate::routes::blocking(move || {
        let out = store
            .dir()
            .root()
            .join("exports")
            .join(format!("incident-{id}-evidence-{stamp}"));
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                bulwark_store::EvidenceError::Store(bulwark_store::StoreError::Corrupt(format!(
                    "cannot create the exports directory: {e}"
                )))
            })?;
        }
        store.export_evidence(id, &out, &actor).map(|n| (n, out))
    })
    .await;
    match r {
        Ok(Ok((n, out))) => {
            show_with(
                &s,
                me,
                id,
                StatusCode::OK,
                json!({"flash": format!("{n} item(s) sealed into {}; verify it anywhere with `bulwark evidence verify`.", out.display())}),
            )
            .await
        }
        Ok(Err(bulwark_store::EvidenceError::Store(e))) => unavailable(&s, &e),
        Ok(Err(e)) => show_with(&s, me, id, StatusCode::BAD_REQUEST, json!({"error": e.to_string()})).await,
        Err(_) => unavailable(&s, &"a page task stopped"),
    }
}
