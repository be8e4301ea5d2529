//! The route table. Every /v1 handler takes a [`Caller`](crate::auth::Caller) and checks a scope.

mod audit;
mod customers;
mod events;
mod incidents;
mod keys;
mod scope;
mod updates;
mod vault;

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::auth::Caller;
use crate::problem::Problem;
use crate::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/updates/{slug}", get(updates::page))
        .route("/v1/openapi.json", get(openapi))
        .route(
            "/v1/customers",
            post(customers::create).get(customers::find_or_list),
        )
        .route(
            "/v1/customers/{id}",
            get(customers::get_one)
                .patch(customers::update)
                .delete(customers::erase),
        )
        .route("/v1/keys", post(keys::create).get(keys::list))
        .route("/v1/keys/review", get(keys::review))
        .route("/v1/keys/{id}", axum::routing::delete(keys::revoke))
        .route("/v1/access-log", get(audit::access_log))
        .route("/v1/ledger/verify", get(audit::verify))
        .route(
            "/v1/ledger/checkpoints",
            post(audit::checkpoint).get(audit::latest_checkpoint),
        )
        .route(
            "/v1/vault/lockdown",
            post(vault::set_lockdown).get(vault::lockdown_status),
        )
        .route(
            "/v1/events",
            post(events::ingest).layer(axum::extract::DefaultBodyLimit::max(events::MAX_BODY)),
        )
        .route("/v1/alerts", get(events::alerts))
        .route("/v1/rules/reload", post(events::reload))
        .route("/v1/incidents", post(incidents::open).get(incidents::list))
        .route("/v1/assets", get(incidents::assets))
        .route(
            "/v1/webhooks",
            post(incidents::add_webhook).get(incidents::list_webhooks),
        )
        .route(
            "/v1/incidents/{id}",
            get(incidents::show).patch(incidents::update),
        )
        .route("/v1/incidents/{id}/team", post(incidents::assign))
        .route("/v1/incidents/{id}/advance", post(incidents::advance))
        .route("/v1/incidents/{id}/notes", post(incidents::note))
        .route("/v1/incidents/{id}/updates", post(incidents::publish))
        .route("/v1/incidents/{id}/containment", post(incidents::contain))
        .route(
            "/v1/incidents/{id}/evidence",
            post(incidents::add_evidence)
                .get(incidents::list_evidence)
                .layer(axum::extract::DefaultBodyLimit::max(256 << 20)),
        )
        .route("/v1/incidents/{id}/tasks/{key}", post(incidents::task))
        .route("/v1/incidents/{id}/report", get(incidents::report))
        .route(
            "/v1/incidents/{id}/scope",
            get(scope::latest).post(scope::compute),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// One line per request: method, route template (never the raw path or query,
/// which can carry PII such as a searched email), status and latency.
async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "<unmatched>".into());
    let started = Instant::now();
    let res = next.run(req).await;
    tracing::info!(
        target: "bulwark::http",
        %method,
        route,
        status = res.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    res
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

async fn openapi(_caller: Caller) -> impl IntoResponse {
    Json(crate::openapi::document())
}

async fn method_not_allowed() -> Problem {
    Problem::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
    )
    .detail("this route does not support that method; see GET /v1/openapi.json")
}

async fn not_found() -> Problem {
    Problem::not_found("no such route; see GET /v1/openapi.json")
}

/// Runs blocking store work (file copies, long verifications, waits on the writer)
/// off the async workers; a panicked task is an internal error.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Problem> {
    tokio::task::spawn_blocking(f).await.map_err(|_| {
        Problem::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
        )
    })
}

/// Parses `?cursor=` style values, naming the parameter when they are wrong.
pub(crate) fn parse_time(name: &str, v: &str) -> Result<i64, Problem> {
    time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| {
            Problem::bad_request(
                "bad-parameter",
                format!("`{name}` must be an RFC 3339 time"),
            )
        })
}
