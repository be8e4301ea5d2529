//! `/v1/incidents/{id}/scope`: an incident's breach scope (who was affected, with
//! what), computed from the access log or from a compromised asset and kept as
//! versioned snapshots. Answers carry customer ids, residency, element codes and
//! counts; never a PII value.

use bulwark_model::Scope;
use bulwark_store::{ScopeBasis, ScopeQuery, ScopeSnapshot, ScopeSummary};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::incidents::id;
use super::S;
use crate::auth::Caller;
use crate::extract::{ApiJson, ApiPath, Created};
use crate::openapi::{Auth, Failure, Invalid, Missing};
use crate::problem::Problem;

/// `{"principals": […], "sources": […], "since": …, "until": …}` (the access
/// log) or `{"asset": "name"}` (a compromised system from the inventory), with
/// `encrypted` / `key_compromised` either way.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScope {
    /// Principals whose reveals count (`key:<id>`, `operator:<name>`).
    #[serde(default)]
    principals: Vec<String>,
    /// Source addresses whose reveals count.
    #[serde(default)]
    sources: Vec<String>,
    /// RFC 3339; required with `principals` or `sources`.
    #[serde(default)]
    since: Option<String>,
    /// RFC 3339; default now.
    #[serde(default)]
    until: Option<String>,
    /// A compromised system from the asset inventory, instead of the access log.
    #[serde(default)]
    asset: Option<String>,
    /// The exposed data was encrypted (safe harbours may apply).
    #[serde(default)]
    encrypted: bool,
    /// …and its key was compromised too.
    #[serde(default)]
    key_compromised: bool,
}

/// A scope snapshot just saved.
#[derive(Serialize, ToSchema)]
pub struct ScopeSaved {
    pub incident: u64,
    pub version: u32,
    pub summary: ScopeSummary,
}

enum Basis {
    AccessLog(ScopeQuery),
    Asset(String),
}

impl NewScope {
    fn basis(self, now_ms: i64) -> Result<Basis, Problem> {
        if let Some(name) = self.asset {
            if !self.principals.is_empty()
                || !self.sources.is_empty()
                || self.since.is_some()
                || self.until.is_some()
            {
                return Err(Problem::bad_request(
                    "bad-parameter",
                    "`asset` cannot be combined with `principals`, `sources`, `since` or `until`",
                ));
            }
            return Ok(Basis::Asset(name));
        }
        let since = match &self.since {
            Some(t) => super::parse_time("since", t)?,
            None => {
                return Err(Problem::bad_request(
                    "bad-parameter",
                    "`since` is required with `principals` or `sources` (or name an `asset`)",
                ))
            }
        };
        let until = match &self.until {
            Some(t) => super::parse_time("until", t)?,
            None => now_ms,
        };
        if until <= since {
            return Err(Problem::bad_request(
                "bad-parameter",
                "`until` must be after `since`",
            ));
        }
        Ok(Basis::AccessLog(ScopeQuery {
            principals: self.principals,
            sources: self.sources,
            since_ms: since,
            until_ms: until,
        }))
    }
}

/// Computes the incident's scope now and saves it as its next snapshot.
#[utoipa::path(
    post, path = "/v1/incidents/{id}/scope", operation_id = "compute_scope", tag = "incidents",
    description = "Requires scopes `incidents:write` and `audit:read` (scope from the access log is audit data). Answers carry counts, element and jurisdiction codes; never a value.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident number")),
    request_body = NewScope,
    responses((status = 201, description = "Saved as the next snapshot", body = ScopeSaved), Invalid, Auth, Missing, Failure)
)]
pub async fn compute(
    s: S,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiJson(req): ApiJson<NewScope>,
) -> Result<Created<ScopeSaved>, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    // Scope from the access log says which customers a principal read: that is
    // audit data, so computing it needs the audit grant too.
    caller.require(&s, Scope::AuditRead)?;
    let id = id(&raw)?;
    let (encrypted, key_compromised) = (req.encrypted, req.key_compromised);
    let now_ms = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let basis = req.basis(now_ms)?;
    let store = s.store.clone();
    let actor = caller.principal.id.clone();
    let (version, summary) = super::blocking(move || -> Result<_, Problem> {
        // A missing incident is a 404 before any scope is computed.
        store.incident(id)?;
        let (basis, result) = match basis {
            Basis::AccessLog(q) => {
                let r = store.scope_from_access_log(&q)?;
                (ScopeBasis::AccessLog(q), r)
            }
            Basis::Asset(name) => {
                let asset = store.dir().asset(&name)?;
                let r = store.scope_from_asset(&asset)?;
                (ScopeBasis::Asset(asset), r)
            }
        };
        let mut result = result;
        // A drill's scope holds only its synthetic customers; a real one never them.
        let drill_customers: std::collections::HashSet<String> =
            match store.drill_of_incident(id)? {
                Some(run) => {
                    let mine: std::collections::HashSet<String> = store
                        .drill_customers(run)?
                        .iter()
                        .map(|u| u.to_string())
                        .collect();
                    result.retain(|c| mine.contains(&c.id));
                    mine
                }
                None => std::collections::HashSet::new(),
            };
        if drill_customers.is_empty() {
            let mut drills = Vec::new();
            for c in &result.customers {
                if uuid::Uuid::parse_str(&c.id)
                    .is_ok_and(|u| store.is_drill_customer(u).unwrap_or(false))
                {
                    drills.push(c.id.clone());
                }
            }
            if !drills.is_empty() {
                result.retain(|c| !drills.contains(&c.id));
            }
        }
        let summary = result.summary(&basis, encrypted, key_compromised);
        let version = store
            .save_scope(id, &result, &summary, &actor)?
            .wait_blocking()?;
        Ok((version, summary))
    })
    .await??;
    Ok(Created(ScopeSaved {
        incident: id,
        version,
        summary,
    }))
}

/// The incident's newest scope snapshot.
#[utoipa::path(
    get, path = "/v1/incidents/{id}/scope", operation_id = "latest_scope", tag = "incidents",
    description = "Requires scope `incidents:read`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident number")),
    responses((status = 200, description = "The newest snapshot", body = ScopeSnapshot), Auth, Missing, Failure)
)]
pub async fn latest(
    s: S,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> Result<ApiJson<ScopeSnapshot>, Problem> {
    caller.require(&s, Scope::IncidentsRead)?;
    let id = id(&raw)?;
    let store = s.store.clone();
    let snapshot = super::blocking(move || -> Result<_, Problem> {
        match store.scope_snapshot(id)? {
            Some(snap) => Ok(snap),
            None => {
                store.incident(id)?;
                Err(Problem::not_found(format!(
                    "incident {id} has no scope yet; POST /v1/incidents/{id}/scope computes one"
                )))
            }
        }
    })
    .await??;
    Ok(ApiJson(snapshot))
}
