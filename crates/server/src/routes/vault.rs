use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use bulwark_model::Scope;
use serde::Deserialize;

use crate::auth::Caller;
use crate::problem::Problem;
use crate::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lockdown {
    enabled: bool,
    #[serde(default)]
    reason: Option<String>,
}

/// Containment: while on, only `vault:break-glass` keys can reveal.
pub async fn set_lockdown(
    State(s): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::VaultLockdown)?;
    let req: Lockdown = serde_json::from_slice(&body).map_err(|e| Problem::malformed_json(&e))?;
    let changed = s
        .store
        .set_lockdown(req.enabled, &caller.principal.id, req.reason)
        .wait()
        .await?;
    Ok(Json(
        serde_json::json!({"enabled": req.enabled, "changed": changed}),
    ))
}

pub async fn lockdown_status(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::VaultRead)?;
    Ok(Json(
        serde_json::json!({"enabled": s.store.settings()?.lockdown}),
    ))
}
