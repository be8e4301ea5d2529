//! `/v1/keys`: least-privilege API keys and the access review.

use axum::http::StatusCode;
use bulwark_model::{Scope, Scopes};
use bulwark_store::{ApiKeyInfo, KeyReview, NewApiKey};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::S;
use crate::auth::Caller;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Created};
use crate::openapi::{Auth, Failure, Invalid, Missing};
use crate::problem::Problem;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    /// What the key is for (1 to 128 printable characters).
    name: String,
    /// The grants, e.g. `vault:write`, `vault:reveal:email`.
    scopes: Vec<String>,
    /// RFC 3339; the key stops working then.
    #[serde(default)]
    expires_at: Option<String>,
}

/// A new key: its description and, this once, the secret.
#[derive(Serialize, ToSchema)]
pub struct IssuedKey {
    #[serde(flatten)]
    pub info: ApiKeyInfo,
    /// `bwk_<id>_<secret>`: shown only in this answer; store it now.
    pub key: String,
}

/// Issues a key. The answer holds the only copy of its secret.
#[utoipa::path(
    post, path = "/v1/keys", operation_id = "create_key", tag = "keys",
    description = "Requires scope `admin`.",
    security(("bearer" = [])),
    request_body = CreateKey,
    responses((status = 201, description = "Issued", body = IssuedKey, links(("revoke_key" = (operation_id = "revoke_key", parameters(("id" = "$response.body#/id")))))), Invalid, Auth, Failure)
)]
pub async fn create(
    s: S,
    caller: Caller,
    ApiJson(req): ApiJson<CreateKey>,
) -> Result<Created<IssuedKey>, Problem> {
    caller.require(&s, Scope::Admin)?;
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
    Ok(Created(IssuedKey {
        info,
        key: token.as_str().to_owned(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct KeyList {
    pub items: Vec<ApiKeyInfo>,
}

/// Every key, revoked ones included (secrets are never shown again).
#[utoipa::path(
    get, path = "/v1/keys", operation_id = "list_keys", tag = "keys",
    description = "Requires scope `admin`.",
    security(("bearer" = [])),
    responses((status = 200, description = "The keys", body = KeyList), Auth, Failure)
)]
pub async fn list(s: S, caller: Caller) -> Result<ApiJson<KeyList>, Problem> {
    caller.require(&s, Scope::Admin)?;
    Ok(ApiJson(KeyList {
        items: s.store.list_keys()?,
    }))
}

/// Revokes a key; its very next request fails.
#[utoipa::path(
    delete, path = "/v1/keys/{id}", operation_id = "revoke_key", tag = "keys",
    description = "Requires scope `admin`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Key id (the part after `bwk_`), with or without `key:`")),
    responses((status = 204, description = "Revoked (or already revoked)"), Auth, Missing, Failure)
)]
pub async fn revoke(
    s: S,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, Problem> {
    caller.require(&s, Scope::Admin)?;
    s.store
        .revoke_key(&id, &caller.principal.id, None)
        .wait()
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewQuery {
    /// Keys unused for at least this many days are listed (default 90).
    idle_days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct KeyReviewList {
    pub items: Vec<KeyReview>,
}

/// The access review: idle keys, and grants never exercised.
#[utoipa::path(
    get, path = "/v1/keys/review", operation_id = "review_keys", tag = "keys",
    description = "Requires scope `admin`.",
    security(("bearer" = [])),
    params(ReviewQuery),
    responses((status = 200, description = "Keys to review", body = KeyReviewList), Invalid, Auth, Failure)
)]
pub async fn review(
    s: S,
    caller: Caller,
    ApiQuery(q): ApiQuery<ReviewQuery>,
) -> Result<ApiJson<KeyReviewList>, Problem> {
    caller.require(&s, Scope::Admin)?;
    // Usage is buffered in memory; a review must see the latest.
    s.usage.flush(&s.store).wait().await?;
    Ok(ApiJson(KeyReviewList {
        items: s.store.review_keys(q.idle_days.unwrap_or(90))?,
    }))
}
