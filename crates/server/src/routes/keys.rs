use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use bulwark_model::{Scope, Scopes};
use bulwark_store::NewApiKey;
use serde::Deserialize;

use crate::auth::Caller;
use crate::problem::Problem;
use crate::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    name: String,
    scopes: Vec<String>,
    #[serde(default)]
    expires_at: Option<String>,
}

pub async fn create(
    State(s): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::Admin)?;
    let req: CreateKey = serde_json::from_slice(&body).map_err(|e| Problem::malformed_json(&e))?;
    let mut scopes = Vec::new();
    for raw in &req.scopes {
        scopes.push(
            raw.parse::<Scope>()
                .map_err(|e| Problem::bad_request("bad-scope", e.to_string()))?,
        );
    }
    let expires_at_ms = req
        .expires_at
        .as_deref()
        .map(|t| super::parse_time("expires_at", t))
        .transpose()?;
    let (info, token) = s
        .store
        .create_key(
            NewApiKey {
                name: req.name,
                scopes: Scopes::new(scopes),
                expires_at_ms,
            },
            &caller.principal.id,
        )
        .wait()
        .await?;
    let mut body = serde_json::to_value(&info).unwrap_or_default();
    body["key"] = serde_json::json!(token.as_str());
    Ok((StatusCode::CREATED, Json(body)))
}

pub async fn list(State(s): State<AppState>, caller: Caller) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::Admin)?;
    Ok(Json(serde_json::json!({"items": s.store.list_keys()?})))
}

pub async fn revoke(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    caller.require(&s, Scope::Admin)?;
    s.store
        .revoke_key(&id, &caller.principal.id, None)
        .wait()
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct ReviewQuery {
    idle_days: Option<i64>,
}

pub async fn review(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<ReviewQuery>,
) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::Admin)?;
    // Usage is buffered in memory; a review must see the latest.
    s.usage.flush(&s.store).wait().await?;
    Ok(Json(
        serde_json::json!({"items": s.store.review_keys(q.idle_days.unwrap_or(90))?}),
    ))
}
