//! The pages behind sign-in: home (per role), sessions, operators.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use bulwark_access::{OperatorRole, OperatorRoles};
use bulwark_notice::VersionState;
use bulwark_store::{AlertFilter, NewOperator, OperatorError, SessionSummary};
use serde::Serialize;
use serde_json::json;

use super::session::Signed;
use crate::routes::rfc3339;
use crate::AppState;

use super::{forbidden, unavailable};

#[derive(Serialize)]
struct OpenIncident {
    id: u64,
    title: String,
    severity: &'static str,
    phase: &'static str,
    next_due: Option<String>,
    overdue: usize,
}

#[derive(Serialize)]
struct Draft {
    incident: u64,
    version: u32,
    queued: u64,
}

pub async fn home(State(s): State<AppState>, me: Signed) -> Response {
    let s2 = s.clone();
    let roles = me.session.operator.roles.clone();
    let built = crate::routes::blocking(move || -> Result<serde_json::Value, bulwark_store::StoreError> {
        let now_ms = super::now_ms();
        let mut drafts = Vec::new();
        let board = s2.store.incident_board(
            &bulwark_store::BoardFilter {
                limit: 10,
                ..Default::default()
            },
            now_ms,
        )?;
        let open: Vec<OpenIncident> = board
            .rows
            .into_iter()
            .map(|r| OpenIncident {
                id: r.id,
                title: r.title,
                severity: r.severity.code(),
                phase: r.phase.code(),
                next_due: r.next_due_ms.map(rfc3339),
                overdue: r.overdue as usize,
            })
            .collect();
        if roles.has_team(bulwark_model::Role::Legal) {
            for inc in &open {
                for v in s2.store.notice_versions(inc.id)? {
                    if v.state == VersionState::Draft {
                        drafts.push(Draft {
                            incident: inc.id,
                            version: v.version,
                            queued: v.report.queued_email + v.report.queued_print,
                        });
                    }
                }
            }
        }
        // IT/security and the commander see the containment still to run.
        let mut containment = Vec::new();
        if roles.has_team(bulwark_model::Role::SecurityLead)
            || roles.has_team(bulwark_model::Role::IncidentCommander)
        {
            for inc in &open {
                let rec = match s2.store.incident(inc.id) {
                    Ok(r) => r,
                    Err(bulwark_store::IncidentReadError::Store(e)) => return Err(e),
                    Err(bulwark_store::IncidentReadError::NotFound(_)) => continue,
                };
                for t in rec.tasks.iter().filter(|t| t.is_open() && t.action.is_some()) {
                    containment.push(json!({
                        "incident": inc.id, "title": t.title,
                        "action": t.action.as_ref().map(|a| a.code()),
                        "due": t.due_at.map(|d| rfc3339((d.unix_timestamp_nanos() / 1_000_000) as i64)),
                    }));
                }
            }
        }
        let alerts: Vec<serde_json::Value> = s2
            .store
            .alerts(&AlertFilter {
                limit: 1000,
                ..AlertFilter::default()
            })
            .map_err(|e| match e {
                bulwark_store::AlertQueryError::Store(s) => s,
                bulwark_store::AlertQueryError::Invalid(_) => {
                    bulwark_store::StoreError::Corrupt("the default alert filter".into())
                }
            })?
            .into_iter()
            .rev()
            .take(5)
            .map(|a| json!({"level": a.level, "rule_title": a.rule_title, "count": a.count, "last_seen": rfc3339(a.last_seen_ms)}))
            .collect();
        Ok(json!({"open_incidents": open, "drafts": drafts, "alerts": alerts, "containment": containment}))
    })
    .await;
    match built {
        Ok(Ok(mut ctx)) => {
            ctx["me"] = json!(me.me());
            ctx["nav"] = json!("home");
            s.console.templates.page(StatusCode::OK, "home.html", ctx)
        }
        Ok(Err(e)) => unavailable(&s, &e),
        Err(_) => unavailable(&s, &"a page task stopped"),
    }
}

fn session_rows(list: Vec<SessionSummary>) -> Vec<serde_json::Value> {
    list.into_iter()
        .map(|x| {
            json!({
                "handle": x.handle, "operator": x.operator, "kind": x.kind,
                "created": rfc3339(x.created_ms), "last_seen": rfc3339(x.last_seen_ms), "source": x.source,
            })
        })
        .collect()
}

/// The operator's own sessions; an administrator sees everyone's.
pub async fn sessions(State(s): State<AppState>, me: Signed) -> Response {
    let admin = me.session.operator.roles.has(OperatorRole::Admin);
    let store = s.store.clone();
    let id = me.session.operator.id.clone();
    match crate::routes::blocking(move || store.sessions(if admin { None } else { Some(&id) })).await {
        Ok(Ok(list)) => s.console.templates.page(
            StatusCode::OK,
            "sessions.html",
            json!({"me": me.me(), "nav": "sessions", "all": admin, "current": me.session.handle, "sessions": session_rows(list)}),
        ),
        Ok(Err(e)) => unavailable(&s, &e),
        Err(_) => unavailable(&s, &"a page task stopped"),
    }
}

pub async fn end_session(
    State(s): State<AppState>,
    me: Signed,
    Path(handle): Path<String>,
) -> Response {
    let admin = me.session.operator.roles.has(OperatorRole::Admin);
    let store = s.store.clone();
    let (id, actor) = (me.session.operator.id.clone(), me.actor());
    let own = handle == me.session.handle;
    match crate::routes::blocking(move || {
        store.end_session(&handle, if admin { None } else { Some(&id) }, &actor)
    })
    .await
    {
        Ok(Ok(_)) if own => Redirect::to("/login").into_response(),
        Ok(Ok(_)) => Redirect::to("/sessions").into_response(),
        Ok(Err(e)) => unavailable(&s, &e),
        Err(_) => unavailable(&s, &"a page task stopped"),
    }
}

fn roles_list() -> Vec<serde_json::Value> {
    OperatorRole::ALL
        .iter()
        .map(|r| json!({"code": r.code(), "title": r.title()}))
        .collect()
}

fn operators_page(
    s: &AppState,
    me: &Signed,
    status: StatusCode,
    extra: serde_json::Value,
) -> Response {
    match s.store.operators() {
        Ok(ops) => {
            let mut ctx = json!({"me": me.me(), "nav": "operators", "operators": ops, "all_roles": roles_list()});
            if let (Some(m), serde_json::Value::Object(e)) = (ctx.as_object_mut(), extra) {
                m.extend(e);
            }
            s.console.templates.page(status, "operators.html", ctx)
        }
        Err(e) => unavailable(s, &e),
    }
}

fn is_admin(me: &Signed) -> bool {
    me.session.operator.roles.has(OperatorRole::Admin)
}

pub async fn operators(State(s): State<AppState>, me: Signed) -> Response {
    if !is_admin(&me) {
        return forbidden(&s, &me, "Managing operators");
    }
    let s2 = s.clone();
    crate::routes::blocking(move || operators_page(&s2, &me, StatusCode::OK, json!({})))
        .await
        .unwrap_or_else(|_| unavailable(&s, &"a page task stopped"))
}

fn link_url(s: &AppState, token: &str) -> String {
    format!(
        "{}/enrol/{token}",
        s.console.config.public_url.trim_end_matches('/')
    )
}

pub async fn add_operator(State(s): State<AppState>, me: Signed, body: Bytes) -> Response {
    if !is_admin(&me) {
        return forbidden(&s, &me, "Managing operators");
    }
    if let Some(r) = me.step_up_first(&s, "operator-add", "/operators") {
        return r;
    }
    let mut id = String::new();
    let mut name = String::new();
    let mut email = None;
    let mut roles = Vec::new();
    let mut bad_role = None;
    for (k, v) in form_urlencoded::parse(&body) {
        match k.as_ref() {
            "id" => id = v.trim().to_owned(),
            "name" => name = v.trim().to_owned(),
            "email" if !v.trim().is_empty() => email = Some(v.trim().to_owned()),
            "roles" => match v.parse::<OperatorRole>() {
                Ok(r) => roles.push(r),
                Err(e) => bad_role = Some(e.to_string()),
            },
            _ => {}
        }
    }
    let s2 = s.clone();
    crate::routes::blocking(move || {
        if let Some(e) = bad_role {
            return operators_page(&s2, &me, StatusCode::BAD_REQUEST, json!({"error": e}));
        }
        let new = NewOperator {
            id,
            name,
            email,
            roles: OperatorRoles::new(roles),
        };
        match s2.store.create_operator(new, &me.actor()).wait_blocking() {
            Ok((op, link)) => operators_page(
                &s2,
                &me,
                StatusCode::OK,
                json!({"new_link": {"id": op.id, "url": link_url(&s2, link.as_str())}}),
            ),
            Err(OperatorError::Store(e)) => unavailable(&s2, &e),
            Err(e) => operators_page(
                &s2,
                &me,
                StatusCode::BAD_REQUEST,
                json!({"error": e.to_string()}),
            ),
        }
    })
    .await
    .unwrap_or_else(|_| unavailable(&s, &"a page task stopped"))
}

pub async fn new_link(State(s): State<AppState>, me: Signed, Path(id): Path<String>) -> Response {
    if !is_admin(&me) {
        return forbidden(&s, &me, "Managing operators");
    }
    if let Some(r) = me.step_up_first(&s, "operator-link", "/operators") {
        return r;
    }
    let s2 = s.clone();
    crate::routes::blocking(move || {
        match s2.store.reissue_enrolment(&id, &me.actor()).wait_blocking() {
            Ok(link) => operators_page(
                &s2,
                &me,
                StatusCode::OK,
                json!({"new_link": {"id": id, "url": link_url(&s2, link.as_str())}}),
            ),
            Err(OperatorError::Store(e)) => unavailable(&s2, &e),
            Err(e) => operators_page(
                &s2,
                &me,
                StatusCode::BAD_REQUEST,
                json!({"error": e.to_string()}),
            ),
        }
    })
    .await
    .unwrap_or_else(|_| unavailable(&s, &"a page task stopped"))
}

pub async fn disable(State(s): State<AppState>, me: Signed, Path(id): Path<String>) -> Response {
    if !is_admin(&me) {
        return forbidden(&s, &me, "Managing operators");
    }
    if let Some(r) = me.step_up_first(&s, "operator-disable", "/operators") {
        return r;
    }
    let s2 = s.clone();
    crate::routes::blocking(move || {
        // Neither yourself nor the last administrator by one click in the
        // console; the machine owner can still at the shell.
        let refuse = if id == me.session.operator.id {
            Some("You cannot disable your own account; another administrator can.".to_owned())
        } else {
            match s2.store.operators() {
                Ok(ops) => {
                    let admin = |o: &bulwark_store::OperatorInfo| {
                        o.roles.has(OperatorRole::Admin) && !o.disabled && o.enrolled
                    };
                    let target_admin = ops.iter().any(|o| o.id == id && admin(o));
                    let others = ops.iter().filter(|o| o.id != id && admin(o)).count();
                    (target_admin && others == 0).then(|| {
                        "This is the last administrator; add another first, or use `bulwark operators disable` at the server.".to_owned()
                    })
                }
                Err(e) => return unavailable(&s2, &e),
            }
        };
        if let Some(error) = refuse {
            return operators_page(&s2, &me, StatusCode::CONFLICT, json!({"error": error}));
        }
        match s2
            .store
            .disable_operator(&id, None, &me.actor())
            .wait_blocking()
        {
            Ok(n) => operators_page(
                &s2,
                &me,
                StatusCode::OK,
                json!({"flash": format!("{id} is disabled; {n} session(s) ended.")}),
            ),
            Err(OperatorError::Store(e)) => unavailable(&s2, &e),
            Err(e) => operators_page(
                &s2,
                &me,
                StatusCode::BAD_REQUEST,
                json!({"error": e.to_string()}),
            ),
        }
    })
    .await
    .unwrap_or_else(|_| unavailable(&s, &"a page task stopped"))
}

/// The operator's own password change (current password, then the new one).
pub async fn password_page(State(s): State<AppState>, me: Signed) -> Response {
    s.console.templates.page(
        StatusCode::OK,
        "password.html",
        json!({"me": me.me(), "nav": "password"}),
    )
}

pub async fn change_password(State(s): State<AppState>, me: Signed, body: Bytes) -> Response {
    let f = super::parse_form(&body);
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let (current, new, again) = (
        zeroize::Zeroizing::new(get("current")),
        zeroize::Zeroizing::new(get("new")),
        zeroize::Zeroizing::new(get("again")),
    );
    if *new != *again {
        return s.console.templates.page(
            StatusCode::BAD_REQUEST,
            "password.html",
            json!({"me": me.me(), "nav": "password", "error": "the two new passwords differ"}),
        );
    }
    let store = s.store.clone();
    let session = me.session.clone();
    let source = me.source.clone();
    let r = crate::routes::blocking(move || {
        store.change_password(&session, &current, &new, source.as_deref())
    })
    .await;
    match r {
        Ok(Ok(ended)) => s.console.templates.page(
            StatusCode::OK,
            "password.html",
            json!({"me": me.me(), "nav": "password",
                   "flash": format!("Your password is changed; {ended} other session(s) ended.")}),
        ),
        Ok(Err(bulwark_store::PasswordChangeError::Store(e))) => unavailable(&s, &e),
        Ok(Err(e)) => s.console.templates.page(
            StatusCode::BAD_REQUEST,
            "password.html",
            json!({"me": me.me(), "nav": "password", "error": e.to_string()}),
        ),
        Err(_) => unavailable(&s, &"a page task stopped"),
    }
}
