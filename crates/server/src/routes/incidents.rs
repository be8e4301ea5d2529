use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bulwark_incident::{render_report, Format, NewIncident, Phase};
use bulwark_model::Scope;
use serde::Deserialize;

use crate::auth::Caller;
use crate::problem::Problem;
use crate::AppState;

pub(super) fn body<T: serde::de::DeserializeOwned>(b: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice(b).map_err(|e| Problem::malformed_json(&e))
}

pub(super) fn id(raw: &str) -> Result<u64, Problem> {
    raw.parse()
        .map_err(|_| Problem::not_found("no such incident"))
}

/// Opens an incident; the playbooks for its classification become tasks.
pub async fn open(
    State(s): State<AppState>,
    caller: Caller,
    b: axum::body::Bytes,
) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    let new: NewIncident = body(&b)?;
    let id = s
        .store
        .open_incident(new, (*s.playbooks).clone(), &caller.principal.id)
        .wait()
        .await?;
    let rec = s.store.incident(id)?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(rec).unwrap_or_default()),
    ))
}

pub async fn list(State(s): State<AppState>, caller: Caller) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::IncidentsRead)?;
    Ok(Json(serde_json::json!({"items": s.store.incidents()?})))
}

pub async fn show(
    State(s): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::IncidentsRead)?;
    Ok(Json(
        serde_json::to_value(s.store.incident(id(&raw)?)?).unwrap_or_default(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Advance {
    phase: Phase,
    #[serde(default)]
    reason: Option<String>,
}

pub async fn advance(
    State(s): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    b: axum::body::Bytes,
) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    let a: Advance = body(&b)?;
    let id = id(&raw)?;
    s.store
        .advance_incident(id, a.phase, a.reason, &caller.principal.id)
        .wait()
        .await?;
    Ok(Json(
        serde_json::to_value(s.store.incident(id)?).unwrap_or_default(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Note {
    text: String,
}

pub async fn note(
    State(s): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    b: axum::body::Bytes,
) -> Result<StatusCode, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    let n: Note = body(&b)?;
    s.store
        .note_incident(id(&raw)?, n.text, &caller.principal.id)
        .wait()
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct ReportQuery {
    format: Option<String>,
}

/// The post-incident review as Markdown or HTML.
pub async fn report(
    State(s): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, Problem> {
    caller.require(&s, Scope::IncidentsRead)?;
    let rec = s.store.incident(id(&raw)?)?;
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
    let text = render_report(&rec.incident, &rec.timeline, &rec.tasks, None, None, format)
        .map_err(|e| {
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "render",
                "Report could not be rendered",
            )
            .detail(e.to_string())
        })?;
    let mut res = text.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    Ok(res)
}

/// `{"action": "done", "note": …}`, `{"action": "skip", "reason": …}` or `{"action": "reopen", "reason": …}`.
pub async fn task(
    State(s): State<AppState>,
    caller: Caller,
    Path((raw, key)): Path<(String, String)>,
    b: axum::body::Bytes,
) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    let change: bulwark_store::TaskChange = body(&b)?;
    let id = id(&raw)?;
    s.store
        .update_task(id, key, change, &caller.principal.id)
        .wait()
        .await?;
    Ok(Json(
        serde_json::to_value(s.store.incident(id)?).unwrap_or_default(),
    ))
}

/// Runs a containment action (it really acts) and records it on the incident.
/// Needs `incidents:write` and the grant the action itself needs.
pub async fn contain(
    State(s): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    b: axum::body::Bytes,
) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    let c: bulwark_store::Contain = body(&b)?;
    caller.require(&s, c.action.required_scope())?;
    let id = id(&raw)?;
    let store = s.store.clone();
    let actor = caller.principal.id.clone();
    let payload =
        serde_json::json!({"incident": id, "reason": c.reason, "undo": c.undo, "by": actor});
    let record = super::blocking(move || {
        let deliver = |event: &str| {
            let mut p = payload.clone();
            p["event"] = serde_json::json!(event);
            crate::webhook::deliver(&store, event, &p)
        };
        store.contain_blocking(id, c, &actor, &deliver)
    })
    .await??;
    Ok(Json(serde_json::to_value(record).unwrap_or_default()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    event: String,
    url: String,
}

/// Registers a store webhook; the signing secret is in this answer only.
pub async fn add_webhook(
    State(s): State<AppState>,
    caller: Caller,
    b: axum::body::Bytes,
) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::Admin)?;
    let w: NewWebhook = body(&b)?;
    let store = s.store.clone();
    let actor = caller.principal.id.clone();
    let (hook, secret) =
        super::blocking(move || store.add_webhook(&w.event, &w.url, &actor)).await??;
    let mut v = serde_json::to_value(hook).unwrap_or_default();
    v["secret"] = serde_json::json!(secret.as_str());
    Ok((StatusCode::CREATED, Json(v)))
}

pub async fn list_webhooks(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::Admin)?;
    Ok(Json(serde_json::json!({"items": s.store.list_webhooks()?})))
}

#[derive(Deserialize)]
pub struct EvidenceQuery {
    name: String,
    description: Option<String>,
    source: Option<String>,
}

/// Uploads one evidence file (the raw body; `?name=` names it) into the locker.
pub async fn add_evidence(
    State(s): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    Query(q): Query<EvidenceQuery>,
    b: axum::body::Bytes,
) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    let id = id(&raw)?;
    let store = s.store.clone();
    let actor = caller.principal.id.clone();
    let item = super::blocking(move || -> Result<bulwark_store::EvidenceItem, Problem> {
        // Staged under the data directory, then stored by hash; the staging copy goes away.
        let staging = store
            .dir()
            .root
            .join("evidence")
            .join(".incoming")
            .join(uuid::Uuid::new_v4().to_string());
        std::fs::create_dir_all(&staging)
            .map_err(|e| Problem::bad_request("evidence", e.to_string()))?;
        let name: String = q
            .name
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
        let path = staging.join(if name.is_empty() {
            "evidence".into()
        } else {
            name
        });
        std::fs::write(&path, &b).map_err(|e| Problem::bad_request("evidence", e.to_string()))?;
        let out = store.add_evidence(id, &path, q.description, q.source, &actor);
        let _ = std::fs::remove_dir_all(&staging);
        out.map_err(Problem::from)
    })
    .await??;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(item).unwrap_or_default()),
    ))
}

pub async fn list_evidence(
    State(s): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::IncidentsRead)?;
    Ok(Json(
        serde_json::json!({"items": s.store.evidence(id(&raw)?)?}),
    ))
}

pub async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    b: axum::body::Bytes,
) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    let patch: bulwark_incident::IncidentPatch = body(&b)?;
    let id = id(&raw)?;
    s.store
        .update_incident(id, patch, &caller.principal.id)
        .wait()
        .await?;
    Ok(Json(
        serde_json::to_value(s.store.incident(id)?).unwrap_or_default(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    role: bulwark_incident::Role,
    person: String,
}

pub async fn assign(
    State(s): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    b: axum::body::Bytes,
) -> Result<StatusCode, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    let a: Assign = body(&b)?;
    s.store
        .assign_incident(id(&raw)?, a.role, a.person, &caller.principal.id)
        .wait()
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The critical-asset inventory (`assets.json` in the data directory), ranked by
/// sensitivity × customers.
pub async fn assets(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::IncidentsRead)?;
    let path = s.store.dir().root.join("assets.json");
    let assets: Vec<bulwark_incident::Asset> = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| {
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "assets",
                "The asset inventory is not valid",
            )
            .detail(format!(
                "assets.json: {}",
                bulwark_store::describe_json_error(&e)
            ))
        })?,
        Err(_) => Vec::new(),
    };
    Ok(Json(
        serde_json::json!({"items": bulwark_incident::rank_assets(&assets)}),
    ))
}

/// Publishes an update on the incident's public page.
pub async fn publish(
    State(s): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    b: axum::body::Bytes,
) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    let n: Note = body(&b)?;
    let id = id(&raw)?;
    let uid = s
        .store
        .publish_update(id, n.text, &caller.principal.id)
        .wait()
        .await?;
    let slug = s.store.incident(id)?.incident.slug;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"id": uid, "page": format!("/updates/{slug}")})),
    ))
}
