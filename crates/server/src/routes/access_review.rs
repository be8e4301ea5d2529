//! `/v1/access-review`: the periodic review of every API key and operator
//! (PCI DSS 7.2.4, 8.2.6), listed inactive first, signed off by an operator
//! holding the owner role of the duties it completes.

use bulwark_model::Scope;
use bulwark_store::{AccountDecision, ReviewItem, SignOffOutcome};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::S;
use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::openapi::{Auth, Failure, Invalid};
use crate::problem::Problem;

#[derive(Serialize, ToSchema)]
pub struct AccessReview {
    /// Live keys and operators not disabled; 90-day-inactive first.
    pub items: Vec<ReviewItem>,
    /// Days of non-use after which an account is inactive (PCI DSS 8.2.6).
    pub inactive_days: i64,
}

/// The accounts to review, with grants and last use.
#[utoipa::path(
    get, path = "/v1/access-review", operation_id = "access_review", tag = "keys",
    description = "Requires scope `audit:read`.",
    security(("bearer" = [])),
    responses((status = 200, description = "Accounts to review", body = AccessReview), Auth, Failure)
)]
pub async fn list(s: S, caller: Caller) -> Result<ApiJson<AccessReview>, Problem> {
    caller.require(&s, Scope::AuditRead)?;
    // Usage is buffered in memory; a review must see the latest.
    s.usage.flush(&s.store).wait().await?;
    let store = s.store.clone();
    let items = super::blocking(move || store.access_review()).await??;
    Ok(ApiJson(AccessReview {
        items,
        inactive_days: bulwark_store::INACTIVE_DAYS,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignOff {
    /// One decision per listed account.
    pub decisions: Vec<AccountDecision>,
}

/// Signs off the review: revoked keys stop working, revoked operators are
/// disabled; completes the calendar's access-review duties.
#[utoipa::path(
    post, path = "/v1/access-review/sign-off", operation_id = "sign_off_access_review", tag = "keys",
    description = "Requires an operator's session (not an API key) with the second factor within the step-up window, holding the owner role of every duty an access review completes (PCI DSS 7.2.4: `management`, held by the executive sponsor; 8.2.6: `it`, the security lead or an administrator). Every listed account needs a decision with a reason.",
    security(("bearer" = [])),
    request_body = SignOff,
    responses((status = 200, description = "Signed off", body = SignOffOutcome), Invalid, Auth, Failure)
)]
pub async fn sign_off(
    s: S,
    caller: Caller,
    ApiJson(req): ApiJson<SignOff>,
) -> Result<ApiJson<SignOffOutcome>, Problem> {
    let op = caller.require_person(&s)?.operator.id.clone();
    s.usage.flush(&s.store).wait().await?;
    let calendar = s.store.dir().compliance()?;
    let outcome = s
        .store
        .sign_off_review(&calendar, req.decisions, &op)
        .wait()
        .await?;
    Ok(ApiJson(outcome))
}
