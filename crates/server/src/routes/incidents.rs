//! `/v1/incidents…`, `/v1/assets`, `/v1/webhooks`: working an incident.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bulwark_incident::{
    render_report, ContainmentRecord, Format, Incident, IncidentPatch, NewIncident, Phase,
    RankedAsset, Role,
};
use bulwark_model::Scope;
use bulwark_store::{Contain, EvidenceItem, IncidentRecord, TaskChange, Webhook};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::S;
use crate::auth::Caller;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Body, Created};
use crate::openapi::{Auth, Conflict, Failure, Invalid, Missing, RawBytes, TooLarge};
use crate::problem::Problem;

/// Evidence files up to this size are taken over the API.
pub const MAX_EVIDENCE: usize = 256 << 20;

/// An incident number from the path; anything else is no incident of ours.
pub(crate) fn id(raw: &str) -> Result<u64, Problem> {
    raw.parse()
        .map_err(|_| Problem::not_found("no such incident"))
}

/// Opens an incident; the playbooks for its classification become tasks.
#[utoipa::path(
    post, path = "/v1/incidents", operation_id = "open_incident", tag = "incidents",
    description = "Requires scope `incidents:write`.",
    security(("bearer" = [])),
    request_body = NewIncident,
    responses((status = 201, description = "Opened", body = IncidentRecord, links(("show_incident" = (operation_id = "show_incident", parameters(("id" = "$response.body#/incident/id")))), ("update_incident" = (operation_id = "update_incident", parameters(("id" = "$response.body#/incident/id")))), ("advance_incident" = (operation_id = "advance_incident", parameters(("id" = "$response.body#/incident/id")))), ("note_incident" = (operation_id = "note_incident", parameters(("id" = "$response.body#/incident/id")))), ("incident_report" = (operation_id = "incident_report", parameters(("id" = "$response.body#/incident/id")))), ("assign_incident" = (operation_id = "assign_incident", parameters(("id" = "$response.body#/incident/id")))), ("publish_update" = (operation_id = "publish_update", parameters(("id" = "$response.body#/incident/id")))), ("contain_incident" = (operation_id = "contain_incident", parameters(("id" = "$response.body#/incident/id")))), ("add_evidence" = (operation_id = "add_evidence", parameters(("id" = "$response.body#/incident/id")))), ("list_evidence" = (operation_id = "list_evidence", parameters(("id" = "$response.body#/incident/id")))), ("latest_scope" = (operation_id = "latest_scope", parameters(("id" = "$response.body#/incident/id")))), ("compute_scope" = (operation_id = "compute_scope", parameters(("id" = "$response.body#/incident/id")))), ("change_task" = (operation_id = "change_task", parameters(("id" = "$response.body#/incident/id"), ("key" = "$response.body#/tasks/0/key")))))), Invalid, Auth, Conflict, Failure)
)]
pub async fn open(
    s: S,
    caller: Caller,
    ApiJson(new): ApiJson<NewIncident>,
) -> Result<Created<IncidentRecord>, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    // Declared for a drill: only while that run is on.
    if let Some(run) = new.drill {
        let r = s.store.drill_run(run).map_err(|e| match e {
            bulwark_store::DrillError::NotFound(_) => {
                Problem::bad_request("unknown-drill", format!("no drill run {run}"))
            }
            other => other.into(),
        })?;
        if r.state == bulwark_store::DrillState::Finished {
            return Err(Problem::conflict(
                "drill-state",
                format!("drill run {run} has finished; an incident cannot be declared for it"),
            ));
        }
    }
    let id = s
        .store
        .open_incident(new, (*s.playbooks).clone(), &caller.principal.id)
        .wait()
        .await?;
    Ok(Created(s.store.incident(id)?))
}

#[derive(Serialize, ToSchema)]
pub struct IncidentList {
    pub items: Vec<Incident>,
}

/// Every incident, oldest first.
#[utoipa::path(
    get, path = "/v1/incidents", operation_id = "list_incidents", tag = "incidents",
    description = "Requires scope `incidents:read`.",
    security(("bearer" = [])),
    responses((status = 200, description = "The incidents", body = IncidentList), Auth, Failure)
)]
pub async fn list(s: S, caller: Caller) -> Result<ApiJson<IncidentList>, Problem> {
    caller.require(&s, Scope::IncidentsRead)?;
    Ok(ApiJson(IncidentList {
        items: s.store.incidents()?,
    }))
}

/// An incident with its timeline and tasks.
#[utoipa::path(
    get, path = "/v1/incidents/{id}", operation_id = "show_incident", tag = "incidents",
    description = "Requires scope `incidents:read`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident number")),
    responses((status = 200, description = "The incident", body = IncidentRecord), Auth, Missing, Failure)
)]
pub async fn show(
    s: S,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> Result<ApiJson<IncidentRecord>, Problem> {
    caller.require(&s, Scope::IncidentsRead)?;
    Ok(ApiJson(s.store.incident(id(&raw)?)?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Advance {
    phase: Phase,
    /// Needed to skip the normal order or to reopen a closed incident.
    #[serde(default)]
    reason: Option<String>,
}

/// Moves the incident to another phase (or reopens a closed one).
#[utoipa::path(
    post, path = "/v1/incidents/{id}/advance", operation_id = "advance_incident", tag = "incidents",
    description = "Requires scope `incidents:write`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident number")),
    request_body = Advance,
    responses((status = 200, description = "The incident after the change", body = IncidentRecord), Invalid, Auth, Missing, Conflict, Failure)
)]
pub async fn advance(
    s: S,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiJson(a): ApiJson<Advance>,
) -> Result<ApiJson<IncidentRecord>, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    let id = id(&raw)?;
    s.store
        .advance_incident(id, a.phase, a.reason, &caller.principal.id)
        .wait()
        .await?;
    Ok(ApiJson(s.store.incident(id)?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Note {
    text: String,
}

/// Adds a note to the timeline.
#[utoipa::path(
    post, path = "/v1/incidents/{id}/notes", operation_id = "note_incident", tag = "incidents",
    description = "Requires scope `incidents:write`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident number")),
    request_body = Note,
    responses((status = 204, description = "Noted"), Invalid, Auth, Missing, Failure)
)]
pub async fn note(
    s: S,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiJson(n): ApiJson<Note>,
) -> Result<StatusCode, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    s.store
        .note_incident(id(&raw)?, n.text, &caller.principal.id)
        .wait()
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `md` (default) or `html`.
    format: Option<String>,
}

/// The post-incident review as Markdown or HTML.
#[utoipa::path(
    get, path = "/v1/incidents/{id}/report", operation_id = "incident_report", tag = "incidents",
    description = "Requires scope `incidents:read`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident number"), ReportQuery),
    responses(
        (status = 200, description = "The review", content((String = "text/markdown"), (String = "text/html"))),
        Invalid, Auth, Missing, Failure
    )
)]
pub async fn report(
    s: S,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response, Problem> {
    caller.require(&s, Scope::IncidentsRead)?;
    let (format, ct) = match q.format.as_deref() {
        None | Some("md") => (Format::Markdown, "text/markdown; charset=utf-8"),
        Some("html") => (Format::Html, "text/html; charset=utf-8"),
        Some(_) => {
            return Err(Problem::bad_request(
                "bad-parameter",
                "`format` is md or html",
            ))
        }
    };
    let id = id(&raw)?;
    let store = s.store.clone();
    let (rec, scope, notices) = super::blocking(move || -> Result<_, Problem> {
        let rec = store.incident(id)?;
        let (scope, notices) = store.review_summaries(id)?;
        Ok((rec, scope, notices))
    })
    .await??;
    let text = render_report(
        &rec.incident,
        &rec.timeline,
        &rec.tasks,
        scope.as_ref(),
        notices.as_ref(),
        format,
    )
    .map_err(|e| Problem::internal(&e))?;
    let mut res = text.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    Ok(res)
}

/// Marks a task done, skips it (with a reason) or opens it again (with a reason).
#[utoipa::path(
    post, path = "/v1/incidents/{id}/tasks/{key}", operation_id = "change_task", tag = "incidents",
    description = "Requires scope `incidents:write`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident number"), ("key" = String, Path, description = "Task key")),
    request_body = TaskChange,
    responses((status = 200, description = "The incident after the change", body = IncidentRecord), Invalid, Auth, Missing, Conflict, Failure)
)]
pub async fn task(
    s: S,
    caller: Caller,
    ApiPath((raw, key)): ApiPath<(String, String)>,
    ApiJson(change): ApiJson<TaskChange>,
) -> Result<ApiJson<IncidentRecord>, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    let id = id(&raw)?;
    s.store
        .update_task(id, key, change, &caller.principal.id)
        .wait()
        .await?;
    Ok(ApiJson(s.store.incident(id)?))
}

/// Runs a containment action (it really acts) and records it on the incident.
#[utoipa::path(
    post, path = "/v1/incidents/{id}/containment", operation_id = "contain_incident", tag = "incidents",
    description = "Requires scope `incidents:write` and the grant the action needs (`admin` to revoke a key or rotate the data key, `vault:lockdown` for a lockdown). Failures are recorded on the timeline too.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident number")),
    request_body = Contain,
    responses(
        (status = 200, description = "Done, and recorded", body = ContainmentRecord),
        (status = 502, description = "The store's webhook did not take the call (recorded)", body = Problem, content_type = "application/problem+json"),
        Invalid, Auth, Missing, Conflict, Failure
    )
)]
pub async fn contain(
    s: S,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiJson(c): ApiJson<Contain>,
) -> Result<ApiJson<ContainmentRecord>, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    caller.require(&s, c.action.required_scope())?;
    let id = id(&raw)?;
    let store = s.store.clone();
    let actor = caller.principal.id.clone();
    let payload = WebhookCall {
        incident: id,
        reason: c.reason.clone(),
        undo: c.undo,
        by: actor.clone(),
        event: String::new(),
    };
    let record = super::blocking(move || {
        let deliver = |event: &str| {
            let call = WebhookCall {
                event: event.to_owned(),
                ..payload.clone()
            };
            crate::webhook::deliver(&store, event, &call)
        };
        store.contain_blocking(id, c, &actor, &deliver)
    })
    .await??;
    Ok(ApiJson(record))
}

/// What a containment webhook receives.
#[derive(Clone, Serialize)]
pub struct WebhookCall {
    pub incident: u64,
    pub reason: String,
    pub undo: bool,
    pub by: String,
    pub event: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// The store's event, e.g. `checkout.pause` (a-z, 0-9, `.`, `_`, `-`).
    event: String,
    /// Where to POST it (http or https).
    url: String,
}

/// A new webhook with, this once, its signing secret.
#[derive(Serialize, ToSchema)]
pub struct IssuedWebhook {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// Hex HMAC-SHA256 key for `Bulwark-Signature`; shown only here.
    pub secret: String,
}

/// Registers a store webhook that containment can call.
#[utoipa::path(
    post, path = "/v1/webhooks", operation_id = "add_webhook", tag = "incidents",
    description = "Requires scope `admin`.",
    security(("bearer" = [])),
    request_body = NewWebhook,
    responses((status = 201, description = "Registered", body = IssuedWebhook), Invalid, Auth, Failure)
)]
pub async fn add_webhook(
    s: S,
    caller: Caller,
    ApiJson(w): ApiJson<NewWebhook>,
) -> Result<Created<IssuedWebhook>, Problem> {
    caller.require(&s, Scope::Admin)?;
    let store = s.store.clone();
    let actor = caller.principal.id.clone();
    let (hook, secret) =
        super::blocking(move || store.add_webhook(&w.event, &w.url, &actor)).await??;
    Ok(Created(IssuedWebhook {
        webhook: hook,
        secret: secret.as_str().to_owned(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<Webhook>,
}

/// The registered webhooks (secrets are never shown again).
#[utoipa::path(
    get, path = "/v1/webhooks", operation_id = "list_webhooks", tag = "incidents",
    description = "Requires scope `admin`.",
    security(("bearer" = [])),
    responses((status = 200, description = "The webhooks", body = WebhookList), Auth, Failure)
)]
pub async fn list_webhooks(s: S, caller: Caller) -> Result<ApiJson<WebhookList>, Problem> {
    caller.require(&s, Scope::Admin)?;
    Ok(ApiJson(WebhookList {
        items: s.store.list_webhooks()?,
    }))
}

/// A client-given file name made safe to stage under (and to keep as the
/// item's name): no path, no leading dot, at most 128 characters.
pub(crate) fn staged_name(given: &str, fallback: &str) -> String {
    let name: String = given
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(128)
        .collect();
    if name.is_empty() || name.starts_with('.') {
        format!("{fallback}{name}")
    } else {
        name
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvidenceQuery {
    /// The file's name (kept as evidence metadata; unsafe characters become `_`).
    name: String,
    description: Option<String>,
    /// Where it came from (host, path, tool).
    source: Option<String>,
}

/// Uploads one evidence file (the raw body) into the write-once locker.
#[utoipa::path(
    post, path = "/v1/incidents/{id}/evidence", operation_id = "add_evidence", tag = "incidents",
    description = "Requires scope `incidents:write`. The body is the file, at most 256 MiB.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident number"), EvidenceQuery),
    request_body(content = RawBytes, content_type = "application/octet-stream", description = "The evidence file"),
    responses((status = 201, description = "Collected", body = EvidenceItem), Invalid, Auth, Missing, TooLarge, Failure)
)]
pub async fn add_evidence(
    s: S,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiQuery(q): ApiQuery<EvidenceQuery>,
    Body(b): Body,
) -> Result<Created<EvidenceItem>, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    let id = id(&raw)?;
    let store = s.store.clone();
    let actor = caller.principal.id.clone();
    let item = super::blocking(move || -> Result<EvidenceItem, Problem> {
        // Staged under the data directory, then stored by hash; the staging copy goes away.
        let staging = store.dir().evidence_staging()?;
        let path = staging.join(staged_name(&q.name, "evidence"));
        let written = std::fs::write(&path, &b);
        let out = match written {
            Ok(()) => store
                .add_evidence(id, &path, q.description, q.source, &actor)
                .map_err(Problem::from),
            Err(e) => Err(Problem::internal(&format!(
                "staging evidence in {}: {e}",
                staging.display()
            ))),
        };
        let _ = std::fs::remove_dir_all(&staging);
        out
    })
    .await??;
    Ok(Created(item))
}

#[derive(Serialize, ToSchema)]
pub struct EvidenceList {
    pub items: Vec<EvidenceItem>,
}

/// The incident's evidence, in collection order.
#[utoipa::path(
    get, path = "/v1/incidents/{id}/evidence", operation_id = "list_evidence", tag = "incidents",
    description = "Requires scope `incidents:read`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident number")),
    responses((status = 200, description = "The evidence", body = EvidenceList), Auth, Missing, Failure)
)]
pub async fn list_evidence(
    s: S,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> Result<ApiJson<EvidenceList>, Problem> {
    caller.require(&s, Scope::IncidentsRead)?;
    let id = id(&raw)?;
    Ok(ApiJson(EvidenceList {
        items: s.store.evidence(id)?,
    }))
}

/// Changes title, severity, times, owner, root cause, review…; tasks are rescheduled.
#[utoipa::path(
    patch, path = "/v1/incidents/{id}", operation_id = "update_incident", tag = "incidents",
    description = "Requires scope `incidents:write`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident number")),
    request_body = IncidentPatch,
    responses((status = 200, description = "The incident after the change", body = IncidentRecord), Invalid, Auth, Missing, Conflict, Failure)
)]
pub async fn update(
    s: S,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiJson(patch): ApiJson<IncidentPatch>,
) -> Result<ApiJson<IncidentRecord>, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    let id = id(&raw)?;
    s.store
        .update_incident(id, patch, &caller.principal.id)
        .wait()
        .await?;
    Ok(ApiJson(s.store.incident(id)?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    role: Role,
    /// A team member (see `team.json`).
    person: String,
}

/// Puts a person in a role for this incident.
#[utoipa::path(
    post, path = "/v1/incidents/{id}/team", operation_id = "assign_incident", tag = "incidents",
    description = "Requires scope `incidents:write`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident number")),
    request_body = Assign,
    responses((status = 204, description = "Assigned"), Invalid, Auth, Missing, Conflict, Failure)
)]
pub async fn assign(
    s: S,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiJson(a): ApiJson<Assign>,
) -> Result<StatusCode, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    s.store
        .assign_incident(id(&raw)?, a.role, a.person, &caller.principal.id)
        .wait()
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct AssetList {
    /// Most at risk first (sensitivity × customers).
    pub items: Vec<RankedAsset>,
}

/// The critical-asset inventory (`assets.json` in the data directory), ranked.
#[utoipa::path(
    get, path = "/v1/assets", operation_id = "list_assets", tag = "incidents",
    description = "Requires scope `incidents:read`.",
    security(("bearer" = [])),
    responses((status = 200, description = "The ranked inventory", body = AssetList), Auth, Failure)
)]
pub async fn assets(s: S, caller: Caller) -> Result<ApiJson<AssetList>, Problem> {
    caller.require(&s, Scope::IncidentsRead)?;
    let assets = s.store.dir().assets()?;
    Ok(ApiJson(AssetList {
        items: bulwark_incident::rank_assets(&assets),
    }))
}

/// A published update and where customers read it.
#[derive(Serialize, ToSchema)]
pub struct Published {
    pub id: i64,
    /// The public page, e.g. `/updates/7-checkout-skimmer`.
    pub page: String,
}

/// Publishes an update on the incident's public page.
#[utoipa::path(
    post, path = "/v1/incidents/{id}/updates", operation_id = "publish_update", tag = "incidents",
    description = "Requires scope `incidents:write`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident number")),
    request_body = Note,
    responses((status = 201, description = "Published", body = Published), Invalid, Auth, Missing, Failure)
)]
pub async fn publish(
    s: S,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiJson(n): ApiJson<Note>,
) -> Result<Created<Published>, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    let id = id(&raw)?;
    let uid = s
        .store
        .publish_update(id, n.text, &caller.principal.id)
        .wait()
        .await?;
    let slug = s.store.incident(id)?.incident.slug;
    Ok(Created(Published {
        id: uid,
        page: format!("/updates/{slug}"),
    }))
}
