//! `/v1/access-log` and `/v1/ledger/…`: who read what, and proof nothing was edited.

use bulwark_ledger::Checkpoint;
use bulwark_model::Scope;
use bulwark_store::{AccessFilter, AccessRecord, LedgerStatus, VerifyLedgerError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::S;
use crate::auth::Caller;
use crate::extract::{ApiJson, ApiQuery, Created};
use crate::openapi::{Auth, Failure, Invalid, Missing};
use crate::problem::Problem;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccessQuery {
    /// `key:<id>` or `operator:<name>`.
    principal: Option<String>,
    /// A customer id.
    customer: Option<String>,
    /// RFC 3339, inclusive.
    since: Option<String>,
    /// RFC 3339, exclusive.
    until: Option<String>,
    /// From a previous page's `next_cursor`.
    cursor: Option<i64>,
    /// Page size, 1 to 1000 (default 100).
    limit: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct AccessPage {
    pub items: Vec<AccessRecord>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<i64>,
}

/// Every reveal, lookup and refusal, oldest first.
#[utoipa::path(
    get, path = "/v1/access-log", operation_id = "access_log", tag = "audit",
    description = "Requires scope `audit:read`.",
    security(("bearer" = [])),
    params(AccessQuery),
    responses((status = 200, description = "A page of the access log", body = AccessPage), Invalid, Auth, Failure)
)]
pub async fn access_log(
    s: S,
    caller: Caller,
    ApiQuery(q): ApiQuery<AccessQuery>,
) -> Result<ApiJson<AccessPage>, Problem> {
    caller.require(&s, Scope::AuditRead)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let filter = AccessFilter {
        principal: q.principal,
        customer: q
            .customer
            .as_deref()
            .map(|c| {
                Uuid::parse_str(c).map_err(|_| {
                    Problem::bad_request("bad-parameter", "`customer` is not a customer id")
                })
            })
            .transpose()?,
        since_ms: q
            .since
            .as_deref()
            .map(|t| super::parse_time("since", t))
            .transpose()?,
        until_ms: q
            .until
            .as_deref()
            .map(|t| super::parse_time("until", t))
            .transpose()?,
        after_id: q.cursor,
        limit,
    };
    let items = s.store.access_log(&filter)?;
    let next = if items.len() == limit {
        items.last().map(|r| r.id)
    } else {
        None
    };
    Ok(ApiJson(AccessPage {
        items,
        next_cursor: next,
    }))
}

/// The outcome of a verification: intact with its `status` (what was checked),
/// or not intact with the first `problem`.
#[derive(Serialize, ToSchema)]
pub struct Verification {
    pub intact: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<LedgerStatus>,
    /// When not intact: the first bad entry or checkpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Replays the whole ledger: every hash, every link, every stored checkpoint.
#[utoipa::path(
    get, path = "/v1/ledger/verify", operation_id = "verify_ledger", tag = "audit",
    description = "Requires scope `audit:read`. A tampered ledger is `200` with `intact: false` and the first problem.",
    security(("bearer" = [])),
    responses((status = 200, description = "The verification", body = Verification), Auth, Failure)
)]
pub async fn verify(s: S, caller: Caller) -> Result<ApiJson<Verification>, Problem> {
    caller.require(&s, Scope::AuditRead)?;
    let store = s.store.clone();
    let result = super::blocking(move || store.verify_ledger(None, |_| {})).await?;
    let v = match result {
        Ok(status) => Verification {
            intact: true,
            status: Some(status),
            problem: None,
        },
        Err(
            e @ (VerifyLedgerError::Tampered(_)
            | VerifyLedgerError::ForeignCheckpoint
            | VerifyLedgerError::BadCheckpoint { .. }),
        ) => Verification {
            intact: false,
            status: None,
            problem: Some(match e {
                VerifyLedgerError::Tampered(v) => v.to_string(),
                other => other.to_string(),
            }),
        },
        Err(e) => return Err(e.into()),
    };
    Ok(ApiJson(v))
}

/// Signs the current ledger head into a checkpoint (keep a copy off the machine).
#[utoipa::path(
    post, path = "/v1/ledger/checkpoints", operation_id = "create_checkpoint", tag = "audit",
    description = "Requires scope `audit:read`.",
    security(("bearer" = [])),
    responses((status = 201, description = "The signed checkpoint", body = Checkpoint), Auth, Failure)
)]
pub async fn checkpoint(s: S, caller: Caller) -> Result<Created<Checkpoint>, Problem> {
    caller.require(&s, Scope::AuditRead)?;
    let cp = s.store.checkpoint()?.wait().await?;
    Ok(Created(cp))
}

/// The newest signed checkpoint.
#[utoipa::path(
    get, path = "/v1/ledger/checkpoints", operation_id = "latest_checkpoint", tag = "audit",
    description = "Requires scope `audit:read`.",
    security(("bearer" = [])),
    responses((status = 200, description = "The newest checkpoint", body = Checkpoint), Auth, Missing, Failure)
)]
pub async fn latest_checkpoint(s: S, caller: Caller) -> Result<ApiJson<Checkpoint>, Problem> {
    caller.require(&s, Scope::AuditRead)?;
    match s.store.latest_checkpoint()? {
        Some(cp) => Ok(ApiJson(cp)),
        None => Err(Problem::not_found("no checkpoint yet")),
    }
}
