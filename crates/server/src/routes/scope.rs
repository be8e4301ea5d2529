//! `/v1/incidents/{id}/scope`: an incident's breach scope (who was affected, with
//! what), computed from the access log or from a compromised asset and kept as
//! versioned snapshots. Answers carry customer ids, residency, element codes and
//! counts; never a PII value.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use bulwark_model::Scope;
use bulwark_store::{ScopeBasis, ScopeQuery};
use serde::Deserialize;

use super::incidents::{body, id};
use crate::auth::Caller;
use crate::problem::Problem;
use crate::AppState;

/// `{"principals": […], "sources": […], "since": …, "until": …}` (the access
/// log) or `{"asset": "name"}` (a compromised system from the inventory), with
/// `encrypted` / `key_compromised` either way.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewScope {
    #[serde(default)]
    principals: Vec<String>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    until: Option<String>,
    #[serde(default)]
    asset: Option<String>,
    #[serde(default)]
    encrypted: bool,
    #[serde(default)]
    key_compromised: bool,
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
pub async fn compute(
    State(s): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
    b: axum::body::Bytes,
) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::IncidentsWrite)?;
    // Scope from the access log says which customers a principal read: that is
    // audit data, so computing it needs the audit grant too.
    caller.require(&s, Scope::AuditRead)?;
    let id = id(&raw)?;
    let req: NewScope = body(&b)?;
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
                let asset = store.asset(&name)?;
                let r = store.scope_from_asset(&asset)?;
                (ScopeBasis::Asset(asset), r)
            }
        };
        let summary = result.summary(&basis, encrypted, key_compromised);
        let version = store
            .save_scope(id, &result, &summary, &actor)?
            .wait_blocking()?;
        Ok((version, summary))
    })
    .await??;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"incident": id, "version": version, "summary": summary})),
    ))
}

/// The incident's newest scope snapshot.
pub async fn latest(
    State(s): State<AppState>,
    caller: Caller,
    Path(raw): Path<String>,
) -> Result<impl IntoResponse, Problem> {
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
    Ok(Json(snapshot))
}
