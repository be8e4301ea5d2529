//! `/v1/operators`: the incident team's accounts (people, not API keys).
//! Administrators add them (each gets a one-time enrolment link), change
//! their roles, disable them (their sessions end at once) and end sessions.
//! An operator's own session doing this must have given the second factor
//! within the step-up window.

use axum::http::StatusCode;
use bulwark_access::{OperatorRole, OperatorRoles};
use bulwark_model::Scope;
use bulwark_store::{NewOperator, OperatorInfo, SessionSummary};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::S;
use crate::auth::Caller;
use crate::extract::{ApiJson, ApiPath, Created};
use crate::openapi::{Auth, Failure, Invalid, Missing};
use crate::problem::Problem;

fn admin(s: &S, caller: &Caller) -> Result<(), Problem> {
    caller.require(s, Scope::Admin)?;
    caller.require_fresh(s)
}

fn roles(codes: &[String]) -> Result<OperatorRoles, Problem> {
    let mut out = Vec::new();
    for c in codes {
        out.push(
            c.parse::<OperatorRole>()
                .map_err(|e| Problem::bad_request("bad-role", e.to_string()))?,
        );
    }
    Ok(OperatorRoles::new(out))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddOperator {
    /// Short id: a-z, 0-9, `-` and `_` (as in team.json).
    id: String,
    name: String,
    #[serde(default)]
    email: Option<String>,
    /// incident_commander, security_lead, legal, pr_comms, customer_service,
    /// executive_sponsor, admin.
    roles: Vec<String>,
}

/// A new operator and their one-time enrolment link (24 hours; shown once).
#[derive(Serialize, ToSchema)]
pub struct AddedOperator {
    pub operator: OperatorInfo,
    pub enrolment_url: String,
}

fn link_url(s: &S, token: &str) -> String {
    format!(
        "{}/enrol/{token}",
        s.console.config.public_url.trim_end_matches('/')
    )
}

/// Adds an operator. The answer holds the only copy of the enrolment link.
#[utoipa::path(
    post, path = "/v1/operators", operation_id = "add_operator", tag = "operators",
    description = "Requires scope `admin` (an operator's session: the second factor within the step-up window).",
    security(("bearer" = [])),
    request_body = AddOperator,
    responses((status = 201, description = "Added", body = AddedOperator, links(("show_operator" = (operation_id = "show_operator", parameters(("id" = "$response.body#/operator/id")))))), Invalid, Auth, Failure,
        (status = 409, description = "The id or e-mail is taken", body = Problem, content_type = "application/problem+json"))
)]
pub async fn add(
    s: S,
    caller: Caller,
    ApiJson(req): ApiJson<AddOperator>,
) -> Result<Created<AddedOperator>, Problem> {
    admin(&s, &caller)?;
    let new = NewOperator {
        id: req.id,
        name: req.name,
        email: req.email,
        roles: roles(&req.roles)?,
    };
    let (operator, link) = s
        .store
        .create_operator(new, &caller.principal.id)
        .wait()
        .await?;
    Ok(Created(AddedOperator {
        operator,
        enrolment_url: link_url(&s, link.as_str()),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct OperatorList {
    pub items: Vec<OperatorInfo>,
}

/// Every operator, disabled ones included (never a secret).
#[utoipa::path(
    get, path = "/v1/operators", operation_id = "list_operators", tag = "operators",
    description = "Requires scope `admin`.",
    security(("bearer" = [])),
    responses((status = 200, description = "The operators", body = OperatorList), Auth, Failure)
)]
pub async fn list(s: S, caller: Caller) -> Result<ApiJson<OperatorList>, Problem> {
    caller.require(&s, Scope::Admin)?;
    let store = s.store.clone();
    Ok(ApiJson(OperatorList {
        items: super::blocking(move || store.operators()).await??,
    }))
}

/// One operator.
#[utoipa::path(
    get, path = "/v1/operators/{id}", operation_id = "show_operator", tag = "operators",
    description = "Requires scope `admin`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Operator id")),
    responses((status = 200, description = "The operator", body = OperatorInfo), Auth, Missing, Failure)
)]
pub async fn show(
    s: S,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<ApiJson<OperatorInfo>, Problem> {
    caller.require(&s, Scope::Admin)?;
    let store = s.store.clone();
    let found = super::blocking(move || store.operator(&id).map(|o| (o, id))).await??;
    match found {
        (Some(op), _) => Ok(ApiJson(op)),
        (None, id) => Err(Problem::not_found(format!("no operator `{id}`"))),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRoles {
    roles: Vec<String>,
}

/// Replaces an operator's roles.
#[utoipa::path(
    put, path = "/v1/operators/{id}/roles", operation_id = "set_operator_roles", tag = "operators",
    description = "Requires scope `admin` (an operator's session: the second factor within the step-up window).",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Operator id")),
    request_body = SetRoles,
    responses((status = 200, description = "Changed", body = OperatorInfo), Invalid, Auth, Missing, Failure)
)]
pub async fn set_roles(
    s: S,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<SetRoles>,
) -> Result<ApiJson<OperatorInfo>, Problem> {
    admin(&s, &caller)?;
    let r = roles(&req.roles)?;
    Ok(ApiJson(
        s.store
            .set_operator_roles(&id, r, &caller.principal.id)
            .wait()
            .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Disable {
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Disabled {
    pub sessions_ended: usize,
}

/// Disables an operator: the account cannot sign in and every session ends now.
#[utoipa::path(
    post, path = "/v1/operators/{id}/disable", operation_id = "disable_operator", tag = "operators",
    description = "Requires scope `admin` (an operator's session: the second factor within the step-up window).",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Operator id")),
    request_body = Disable,
    responses((status = 200, description = "Disabled", body = Disabled), Invalid, Auth, Missing, Failure)
)]
pub async fn disable(
    s: S,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<Disable>,
) -> Result<ApiJson<Disabled>, Problem> {
    admin(&s, &caller)?;
    if req.reason.as_deref().is_some_and(|r| r.len() > 2000) {
        return Err(Problem::bad_request(
            "bad-reason",
            "the reason is longer than 2,000 characters",
        ));
    }
    let n = s
        .store
        .disable_operator(&id, req.reason, &caller.principal.id)
        .wait()
        .await?;
    Ok(ApiJson(Disabled { sessions_ended: n }))
}

#[derive(Serialize, ToSchema)]
pub struct EnrolmentLink {
    pub enrolment_url: String,
}

/// A new one-time enrolment link (lost device, expired link); using it
/// replaces the operator's password and second factor.
#[utoipa::path(
    post, path = "/v1/operators/{id}/enrolment", operation_id = "reissue_enrolment", tag = "operators",
    description = "Requires scope `admin` (an operator's session: the second factor within the step-up window).",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Operator id")),
    responses((status = 201, description = "Issued", body = EnrolmentLink), Auth, Missing, Failure,
        (status = 409, description = "The operator is disabled", body = Problem, content_type = "application/problem+json"))
)]
pub async fn reissue(
    s: S,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Created<EnrolmentLink>, Problem> {
    admin(&s, &caller)?;
    let link = s
        .store
        .reissue_enrolment(&id, &caller.principal.id)
        .wait()
        .await?;
    Ok(Created(EnrolmentLink {
        enrolment_url: link_url(&s, link.as_str()),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct SessionList {
    pub items: Vec<SessionSummary>,
}

/// Signed-in sessions: an administrator sees everyone's, an operator their own.
#[utoipa::path(
    get, path = "/v1/sessions", operation_id = "list_sessions", tag = "operators",
    description = "An operator's session sees its own operator's; scope `admin` sees all.",
    security(("bearer" = [])),
    responses((status = 200, description = "The sessions", body = SessionList), Auth, Failure)
)]
pub async fn sessions(s: S, caller: Caller) -> Result<ApiJson<SessionList>, Problem> {
    let all = caller.principal.scopes.allows(Scope::Admin);
    let own = caller.operator.as_ref().map(|o| o.operator.id.clone());
    if !all && own.is_none() {
        return Err(Problem::forbidden_scope("admin"));
    }
    let store = s.store.clone();
    let items =
        super::blocking(move || store.sessions(if all { None } else { own.as_deref() })).await??;
    Ok(ApiJson(SessionList { items }))
}

/// Ends a session (by its handle from the list).
#[utoipa::path(
    delete, path = "/v1/sessions/{handle}", operation_id = "end_session", tag = "operators",
    description = "An operator ends their own sessions; scope `admin` ends anyone's.",
    security(("bearer" = [])),
    params(("handle" = String, Path, description = "The session's handle")),
    responses((status = 204, description = "Ended"), Auth, Missing, Failure)
)]
pub async fn end_session(
    s: S,
    caller: Caller,
    ApiPath(handle): ApiPath<String>,
) -> Result<StatusCode, Problem> {
    let all = caller.principal.scopes.allows(Scope::Admin);
    let own = caller.operator.as_ref().map(|o| o.operator.id.clone());
    if !all && own.is_none() {
        return Err(Problem::forbidden_scope("admin"));
    }
    let store = s.store.clone();
    let actor = caller.principal.id.clone();
    let h = handle.clone();
    let ended = super::blocking(move || {
        store.end_session(&h, if all { None } else { own.as_deref() }, &actor)
    })
    .await??;
    if ended {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Problem::not_found(format!("no session `{handle}`")))
    }
}
