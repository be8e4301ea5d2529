//! `/v1/vault/lockdown`: containment by freezing reveals.

use bulwark_model::Scope;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::S;
use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::openapi::{Auth, Failure, Invalid};
use crate::problem::Problem;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Lockdown {
    enabled: bool,
    /// Why (recorded in the ledger).
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LockdownState {
    pub enabled: bool,
    /// Whether this request changed it (`false`: it already was).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed: Option<bool>,
}

/// Containment: while on, only `vault:break-glass` keys can reveal.
#[utoipa::path(
    post, path = "/v1/vault/lockdown", operation_id = "set_lockdown", tag = "vault",
    description = "Requires scope `vault:lockdown`.",
    security(("bearer" = [])),
    request_body = Lockdown,
    responses((status = 200, description = "The lockdown state", body = LockdownState), Invalid, Auth, Failure)
)]
pub async fn set_lockdown(
    s: S,
    caller: Caller,
    ApiJson(req): ApiJson<Lockdown>,
) -> Result<ApiJson<LockdownState>, Problem> {
    caller.require(&s, Scope::VaultLockdown)?;
    let changed = s
        .store
        .set_lockdown(req.enabled, &caller.principal.id, req.reason)
        .wait()
        .await?;
    Ok(ApiJson(LockdownState {
        enabled: req.enabled,
        changed: Some(changed),
    }))
}

/// Whether the vault is locked down.
#[utoipa::path(
    get, path = "/v1/vault/lockdown", operation_id = "lockdown_status", tag = "vault",
    description = "Requires scope `vault:read`.",
    security(("bearer" = [])),
    responses((status = 200, description = "The lockdown state", body = LockdownState), Auth, Failure)
)]
pub async fn lockdown_status(s: S, caller: Caller) -> Result<ApiJson<LockdownState>, Problem> {
    caller.require(&s, Scope::VaultRead)?;
    Ok(ApiJson(LockdownState {
        enabled: s.store.settings()?.lockdown,
        changed: None,
    }))
}
