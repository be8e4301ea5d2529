//! The route table. Every /v1 handler takes a [`Caller`](crate::auth::Caller)
//! and checks a scope; every handler is annotated with `#[utoipa::path]` and
//! registered through `routes!`, which puts it in the OpenAPI document too.

mod access_review;
mod audit;
pub(crate) mod compliance;
mod customers;
mod drills;
mod events;
pub(crate) mod incidents;
pub(crate) use incidents::WebhookCall;
mod keys;
mod notices;
mod operators;
pub(crate) mod pagewatch;
mod scope;
mod training;
mod updates;
mod vault;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::auth::Caller;
use crate::extract::ApiJson;
use crate::openapi::{ApiDoc, Auth, Failure};
use crate::problem::Problem;
use crate::AppState;

/// The API document as JSON, built once with the router (`None` if it could
/// not be serialised, answered as a 500 problem).
#[derive(Clone)]
pub(crate) struct Document(Arc<Option<serde_json::Value>>);

/// The router and the OpenAPI document generated from it.
pub fn router_and_document(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    use utoipa::OpenApi as _;
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(openapi_document))
        .routes(routes!(updates::page))
        .routes(routes!(customers::create, customers::find_or_list))
        .routes(routes!(
            customers::get_one,
            customers::update,
            customers::erase
        ))
        .routes(routes!(keys::create, keys::list))
        .routes(routes!(keys::review))
        .routes(routes!(keys::revoke))
        .routes(routes!(access_review::list))
        .routes(routes!(access_review::sign_off))
        .routes(routes!(operators::add, operators::list))
        .routes(routes!(operators::show))
        .routes(routes!(operators::set_roles))
        .routes(routes!(operators::disable))
        .routes(routes!(operators::reissue))
        .routes(routes!(operators::sessions))
        .routes(routes!(operators::end_session))
        .routes(routes!(audit::access_log))
        .routes(routes!(audit::verify))
        .routes(routes!(audit::checkpoint, audit::latest_checkpoint))
        .routes(routes!(vault::set_lockdown, vault::lockdown_status))
        .routes(routes!(events::ingest).layer(DefaultBodyLimit::max(events::MAX_BODY)))
        .routes(routes!(events::alerts))
        .routes(routes!(events::reload))
        .routes(routes!(incidents::open, incidents::list))
        .routes(routes!(incidents::assets))
        .routes(routes!(incidents::add_webhook, incidents::list_webhooks))
        .routes(routes!(incidents::show, incidents::update))
        .routes(routes!(incidents::assign))
        .routes(routes!(incidents::advance))
        .routes(routes!(incidents::note))
        .routes(routes!(incidents::publish))
        .routes(routes!(incidents::contain))
        .routes(
            routes!(incidents::add_evidence, incidents::list_evidence)
                .layer(DefaultBodyLimit::max(incidents::MAX_EVIDENCE)),
        )
        .routes(routes!(incidents::task))
        .routes(routes!(incidents::report))
        .routes(routes!(scope::latest, scope::compute))
        .routes(routes!(notices::list, notices::render))
        .routes(routes!(notices::approve))
        .routes(routes!(drills::start, drills::list))
        .routes(routes!(drills::show))
        .routes(routes!(drills::stop))
        .routes(routes!(drills::resume))
        .routes(routes!(drills::finish))
        .routes(routes!(drills::improvements))
        .routes(routes!(drills::improvement_done))
        .routes(routes!(drills::report))
        .routes(routes!(compliance::calendar))
        .routes(routes!(compliance::complete))
        .routes(
            routes!(compliance::complete_with_document)
                .layer(DefaultBodyLimit::max(compliance::MAX_DOCUMENT)),
        )
        .routes(routes!(compliance::completions))
        .routes(routes!(pagewatch::add, pagewatch::list))
        .routes(routes!(pagewatch::remove))
        .routes(routes!(pagewatch::run, pagewatch::runs))
        .routes(routes!(pagewatch::scripts))
        .routes(routes!(pagewatch::csp_proposal))
        .routes(routes!(pagewatch::approve, pagewatch::approvals))
        .routes(routes!(pagewatch::revoke))
        .routes(routes!(pagewatch::csp_report).layer(DefaultBodyLimit::max(
            bulwark_pagewatch::csp::MAX_BODY_BYTES,
        )))
        .routes(routes!(compliance::document))
        .routes(routes!(training::status))
        .routes(routes!(training::assign))
        .routes(routes!(training::attempt))
        .routes(routes!(training::gophish).layer(DefaultBodyLimit::max(training::MAX_WEBHOOK_BODY)))
        .split_for_parts();
    let mut doc = doc;
    crate::openapi::mark_public(&mut doc);
    let json = match crate::openapi::to_json(&doc) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::error!(error = %e, "the OpenAPI document could not be serialised");
            None
        }
    };
    let tls = state.console.config.tls;
    let router = router
        .merge(crate::console::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::Extension(Document(Arc::new(json))))
        .layer(middleware::from_fn(crate::console::csrf_guard))
        .layer(middleware::from_fn_with_state(
            tls,
            crate::security::headers,
        ))
        .layer(middleware::from_fn(log_request))
        .with_state(state);
    (router, doc)
}

pub fn router(state: AppState) -> Router {
    router_and_document(state).0
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

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` while the server answers.
    status: &'static str,
}

/// Liveness: answers while the server runs. No authentication.
#[utoipa::path(get, path = "/healthz", operation_id = "healthz", tag = "public", responses((status = 200, body = Health)))]
async fn healthz() -> ApiJson<Health> {
    ApiJson(Health { status: "ok" })
}

/// This document.
#[utoipa::path(
    get, path = "/v1/openapi.json", operation_id = "openapi_document", tag = "public",
    description = "The OpenAPI 3.1 document of this API. Requires any valid API key.",
    security(("bearer" = [])),
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object), Auth, Failure)
)]
async fn openapi_document(
    _caller: Caller,
    axum::Extension(doc): axum::Extension<Document>,
) -> Response {
    match doc.0.as_ref() {
        Some(v) => reply(axum::http::StatusCode::OK, v),
        None => Problem::internal(&"the OpenAPI document is not available").into_response(),
    }
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
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Problem::internal(&e))
}

/// Unix milliseconds as RFC 3339 (UTC), for pages; the number itself if it is
/// out of range.
pub(crate) fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

/// Parses RFC 3339 times in parameters, naming the parameter when they are wrong.
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

/// An answer as JSON with a status. Serialisation of our own types cannot fail
/// in practice; if it ever does, the caller gets a 500 problem, never `200 null`.
pub(crate) fn reply<T: Serialize>(status: axum::http::StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        Err(e) => {
            Problem::internal(&format!("a response could not be serialised: {e}")).into_response()
        }
    }
}

/// `State` re-exported for the handlers.
pub(crate) type S = State<AppState>;

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use http_body_util::BodyExt;
    use serde::ser::Error as _;

    use crate::extract::{ApiJson, Created};

    /// A value whose serialisation fails, as a bug or a poisoned value would.
    struct Unserialisable;

    impl serde::Serialize for Unserialisable {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(S::Error::custom("refused"))
        }
    }

    async fn answer(res: axum::response::Response) -> (StatusCode, String, serde_json::Value) {
        let status = res.status();
        let ct = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, ct, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn a_response_that_cannot_be_serialised_is_a_500_problem_not_200_null() {
        for res in [
            ApiJson(Unserialisable).into_response(),
            Created(Unserialisable).into_response(),
            super::reply(StatusCode::ACCEPTED, &Unserialisable),
        ] {
            let (status, ct, body) = answer(res).await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(ct, "application/problem+json");
            assert_eq!(body["type"], "urn:bulwark:problem:internal");
            assert_eq!(body["status"], 500);
        }
    }
}
