use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use bulwark_model::Scope;
use bulwark_store::AccessFilter;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::Caller;
use crate::problem::Problem;
use crate::AppState;

#[derive(Deserialize)]
pub struct AccessQuery {
    principal: Option<String>,
    customer: Option<String>,
    since: Option<String>,
    until: Option<String>,
    cursor: Option<i64>,
    limit: Option<usize>,
}

pub async fn access_log(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<AccessQuery>,
) -> Result<impl IntoResponse, Problem> {
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
    Ok(Json(
        serde_json::json!({"items": items, "next_cursor": next}),
    ))
}

pub async fn verify(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::AuditRead)?;
    let store = s.store.clone();
    let result = super::blocking(move || store.verify_ledger(None, |_| {})).await?;
    match result {
        Ok(status) => Ok(Json(serde_json::json!({"intact": true, "status": status}))),
        Err(bulwark_store::StoreError::Ledger(why)) => {
            Ok(Json(serde_json::json!({"intact": false, "problem": why})))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn checkpoint(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::AuditRead)?;
    let cp = s.store.checkpoint()?.wait().await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::to_value(&cp).unwrap_or_default()),
    ))
}

pub async fn latest_checkpoint(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::AuditRead)?;
    match s.store.latest_checkpoint()? {
        Some(cp) => Ok(Json(serde_json::to_value(&cp).unwrap_or_default())),
        None => Err(Problem::not_found("no checkpoint yet")),
    }
}
