//! `/v1/incidents/{id}/notices`: the letters of an incident over HTTP —
//! versions and delivery, rendering a version, and legal approval, which
//! only a signed-in legal operator (a `bws_` session, second factor within
//! the step-up window) can give: an API key is a machine, never a person.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use bulwark_incident::Role;
use bulwark_law::evaluate;
use bulwark_model::{Scope, Scopes};
use bulwark_notice::NoticeFacts;
use bulwark_store::{
    ApproveOutcome, Channels, NoticeVersion, Principal, RenderNotices, StoreError,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::S;
use crate::auth::Caller;
use crate::extract::{ApiJson, ApiPath, Created};
use crate::openapi::{Auth, Conflict, Failure, Invalid, Missing};
use crate::problem::Problem;

/// One notice version (no personal data).
#[derive(Serialize, ToSchema)]
pub struct VersionView {
    pub version: u32,
    /// rendering, draft, approved, superseded.
    pub state: String,
    pub created_ms: i64,
    pub created_by: String,
    pub scope_version: u32,
    pub notice_date: String,
    /// SHA-256 of the templates used.
    pub digest: String,
    pub approved_by: Option<String>,
    pub approved_ms: Option<i64>,
    pub customers: u64,
    pub queued_email: u64,
    pub queued_print: u64,
    pub refused_total: u64,
    pub refused: Vec<RefusedView>,
    pub already_notified: u64,
    pub erased: u64,
    pub no_contact: u64,
    /// Distinct letter shapes.
    pub stencils: u64,
}

#[derive(Serialize, ToSchema)]
pub struct RefusedView {
    pub jurisdiction: String,
    pub count: u64,
    pub problems: Vec<String>,
}

fn view(v: &NoticeVersion) -> VersionView {
    VersionView {
        version: v.version,
        state: v.state.as_str().to_owned(),
        created_ms: v.created_ms,
        created_by: v.created_by.clone(),
        scope_version: v.scope_version,
        notice_date: v.notice_date.clone(),
        digest: v.digest.clone(),
        approved_by: v.approved_by.clone(),
        approved_ms: v.approved_ms,
        customers: v.report.customers,
        queued_email: v.report.queued_email,
        queued_print: v.report.queued_print,
        refused_total: v.report.refused_total,
        refused: v
            .report
            .refused
            .iter()
            .map(|r| RefusedView {
                jurisdiction: r.jurisdiction.clone(),
                count: r.count,
                problems: r.problems.clone(),
            })
            .collect(),
        already_notified: v.report.already_notified,
        erased: v.report.erased,
        no_contact: v.report.no_contact,
        stencils: v.report.stencils,
    }
}

/// Letters of one jurisdiction by delivery state.
#[derive(Serialize, ToSchema)]
pub struct JurisdictionView {
    pub jurisdiction: String,
    pub states: BTreeMap<String, u64>,
    /// Queued, sending or waiting for a retry.
    pub pending: u64,
    /// Sent or printed.
    pub delivered: u64,
}

#[derive(Serialize, ToSchema)]
pub struct NoticesView {
    pub versions: Vec<VersionView>,
    pub delivery: Vec<JurisdictionView>,
    /// Letters delivered in the last ten minutes (the current rate).
    pub delivered_last_10_min: u64,
}

/// The incident's notice versions and the delivery of its letters.
#[utoipa::path(
    get, path = "/v1/incidents/{id}/notices", operation_id = "list_notices", tag = "notices",
    description = "Requires scope `incidents:read`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident number")),
    responses((status = 200, description = "Versions and delivery", body = NoticesView), Invalid, Auth, Missing, Failure)
)]
pub async fn list(
    s: S,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> Result<ApiJson<NoticesView>, Problem> {
    caller.require(&s, Scope::IncidentsRead)?;
    let id = super::incidents::id(&raw)?;
    let store = s.store.clone();
    let (versions, delivery) = super::blocking(move || -> Result<_, Problem> {
        store.incident(id)?;
        let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
        Ok((
            store.notice_versions(id)?,
            store.notice_delivery(id, now, 10 * 60 * 1000)?,
        ))
    })
    .await??;
    Ok(ApiJson(NoticesView {
        versions: versions.iter().map(view).collect(),
        delivery: delivery
            .jurisdictions
            .into_iter()
            .map(|d| JurisdictionView {
                jurisdiction: d.jurisdiction,
                states: d.states,
                pending: d.pending,
                delivered: d.delivered,
            })
            .collect(),
        delivered_last_10_min: delivery.sent_recently,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderRequest {
    /// The notice facts as TOML (see templates/notices/README.md).
    facts: String,
    /// `email` (print for customers without one), `print` or `both`.
    #[serde(default)]
    channel: Option<String>,
    /// YYYY-MM-DD printed on the letters (default today).
    #[serde(default)]
    notice_date: Option<String>,
    /// Letter customers already notified under an approved version again.
    #[serde(default)]
    reissue: bool,
}

/// Renders the incident's letters (from its newest scope) as a new version
/// awaiting legal approval. Names and addresses are revealed through the
/// access log as the caller's reads: an API key needs `vault:reveal:*`; an
/// operator's session needs the legal or incident-commander role.
#[utoipa::path(
    post, path = "/v1/incidents/{id}/notices", operation_id = "render_notices", tag = "notices",
    description = "Requires scope `incidents:write` and, for an API key, `vault:reveal:*`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident number")),
    request_body = RenderRequest,
    responses((status = 201, description = "Rendered, awaiting approval", body = VersionView), Invalid, Auth, Missing, Conflict, Failure)
)]
pub async fn render(
    s: S,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiJson(req): ApiJson<RenderRequest>,
) -> Result<Created<VersionView>, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    let actor = match &caller.operator {
        Some(op) => {
            let roles = &op.operator.roles;
            if !(roles.has_team(Role::Legal) || roles.has_team(Role::IncidentCommander)) {
                return Err(Problem::new(
                    StatusCode::FORBIDDEN,
                    "role-required",
                    "Rendering letters needs the legal or incident-commander role",
                ));
            }
            Principal {
                scopes: Scopes::new([Scope::VaultRevealAll]),
                ..caller.principal.clone()
            }
        }
        None => {
            caller.require(&s, Scope::VaultRevealAll)?;
            caller.principal.clone()
        }
    };
    let id = super::incidents::id(&raw)?;
    let facts = NoticeFacts::from_toml(&req.facts)
        .map_err(|e| Problem::bad_request("bad-facts", format!("the notice facts: {e}")))?;
    let channels = match req.channel.as_deref() {
        None | Some("email") => Channels::Email,
        Some("print") => Channels::Print,
        Some("both") => Channels::Both,
        Some(_) => {
            return Err(Problem::bad_request(
                "bad-channel",
                "`channel` is email, print or both",
            ))
        }
    };
    let notice_date = match req.notice_date {
        Some(d) => {
            time::Date::parse(
                &d,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map_err(|_| Problem::bad_request("bad-date", "`notice_date` is YYYY-MM-DD"))?;
            d
        }
        None => time::OffsetDateTime::now_utc().date().to_string(),
    };
    let s2 = s.clone();
    let version = super::blocking(move || -> Result<u32, Problem> {
        let Some((_, scenario)) = s2.store.incident_scenario(id)? else {
            return Err(Problem::conflict(
                "no-scope",
                format!("incident {id} has no scope yet; compute it first"),
            ));
        };
        let catalogue = crate::console::catalogue(&s2)?;
        let evaluation =
            evaluate(&catalogue, &scenario).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let report = s2.store.render_notices(&RenderNotices {
            incident: id,
            facts,
            templates: s2.store.dir().templates()?,
            evaluation,
            notice_date,
            channels,
            actor,
            reissue: req.reissue,
        })?;
        Ok(report.version)
    })
    .await??;
    let store = s.store.clone();
    let versions = super::blocking(move || store.notice_versions(id)).await??;
    let v = versions
        .iter()
        .find(|v| v.version == version)
        .ok_or_else(|| Problem::internal(&"the rendered version vanished"))?;
    Ok(Created(view(v)))
}

/// Legal approval of a draft: only a signed-in operator with the legal role
/// who is assigned legal on the incident, with the second factor within the
/// step-up window. Nothing of a version is sent before this.
#[utoipa::path(
    post, path = "/v1/incidents/{id}/notices/{version}/approve", operation_id = "approve_notices", tag = "notices",
    description = "Requires an operator's session (not an API key): the legal role, assigned legal on the incident, second factor within the step-up window.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident number"), ("version" = u32, Path, description = "Notice version")),
    responses((status = 200, description = "Approved, or this approval recorded while a second legal operator's is awaited", body = Approval), Invalid, Auth, Missing, Conflict, Failure)
)]
pub async fn approve(
    s: S,
    caller: Caller,
    ApiPath((raw, version)): ApiPath<(String, u32)>,
) -> Result<ApiJson<Approval>, Problem> {
    let op = caller.require_person(&s)?.operator.id.clone();
    let id = super::incidents::id(&raw)?;
    let store = s.store.clone();
    let outcome = super::blocking(move || store.approve_notices(id, version, &op)).await??;
    Ok(ApiJson(match outcome {
        ApproveOutcome::Approved => Approval {
            approved: true,
            approvals: None,
            required: None,
        },
        ApproveOutcome::Awaiting { have, need } => Approval {
            approved: false,
            approvals: Some(have),
            required: Some(need),
        },
    }))
}

/// What an approval did.
#[derive(Serialize, ToSchema)]
pub struct Approval {
    /// The version is approved and delivery may start.
    pub approved: bool,
    /// When not yet: approvals given and required (two distinct legal operators).
    pub approvals: Option<u32>,
    pub required: Option<u32>,
}
