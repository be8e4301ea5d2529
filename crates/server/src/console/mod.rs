//! The console: server-rendered HTML for the incident team, behind operator
//! sign-in. Pages are minijinja templates compiled into the binary
//! (`templates/console/`), with one stylesheet and one small script of our own
//! (`static/`); no inline script, no framework, no Node toolchain.
//!
//! - `session`: the session cookie, the `Signed` extractor (a page without a
//!   valid session redirects to sign-in), step-up, and the CSRF guard every
//!   state-changing request passes.
//! - `auth`: sign-in (password, then second factor), enrolment, sign-out, step-up.
//! - `pages`: home per role, sessions, operators.

mod audit;
mod auth;
mod compliance;
mod drills;
mod incidents;
mod lookup;
mod notify;
mod pages;
mod pagewatch;
pub(crate) mod session;
mod templates;

use std::sync::Arc;

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use bulwark_access::SessionPolicy;
use serde_json::json;

use crate::AppState;

pub(crate) use notify::catalogue;
pub use session::csrf_guard;

/// How the console runs.
#[derive(Clone)]
pub struct ConsoleConfig {
    pub policy: SessionPolicy,
    /// Served over TLS: the cookie is `__Host-` prefixed and `Secure`.
    pub tls: bool,
    /// Where operators reach the server, for enrolment links
    /// (`https://bulwark.shop.example`).
    pub public_url: String,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            policy: SessionPolicy::default(),
            tls: false,
            public_url: "http://127.0.0.1:8080".into(),
        }
    }
}

pub(crate) struct Console {
    pub config: ConsoleConfig,
    pub templates: templates::Templates,
    /// The data directory's law catalogue, read on first use.
    pub laws: std::sync::OnceLock<Arc<bulwark_law::Catalogue>>,
}

impl Console {
    pub fn new(config: ConsoleConfig) -> Arc<Console> {
        Arc::new(Console {
            config,
            templates: templates::Templates::new(),
            laws: std::sync::OnceLock::new(),
        })
    }
}

pub(crate) fn unavailable(s: &AppState, e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "console page");
    s.console.templates.page(
        StatusCode::SERVICE_UNAVAILABLE,
        "message.html",
        json!({"heading": "Try again shortly", "text": "The page could not be shown; nothing was changed."}),
    )
}

pub(crate) fn forbidden(s: &AppState, me: &session::Signed, what: &str) -> Response {
    s.console.templates.page(
        StatusCode::FORBIDDEN,
        "message.html",
        json!({"me": me.me(), "heading": "Not for your role", "text": format!("{what} needs a role you do not hold.")}),
    )
}

pub(crate) fn not_found(s: &AppState, me: &session::Signed) -> Response {
    s.console.templates.page(
        StatusCode::NOT_FOUND,
        "message.html",
        json!({"me": me.me(), "heading": "Not found", "text": "There is nothing here; it may have been removed, or the address is mistyped."}),
    )
}

pub(crate) fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// A form body as a map (the last value of a repeated field wins).
pub(crate) fn parse_form(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// The console's routes (HTML; not part of the API document).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/login/second-factor", post(auth::second_factor))
        .route("/logout", post(auth::logout))
        .route("/enrol/{link}", get(auth::enrol_page).post(auth::enrol))
        .route("/step-up", get(auth::step_up_page).post(auth::step_up))
        .route("/sessions", get(pages::sessions))
        .route(
            "/password",
            get(pages::password_page).post(pages::change_password),
        )
        .route("/sessions/{handle}/end", post(pages::end_session))
        .route(
            "/operators",
            get(pages::operators).post(pages::add_operator),
        )
        .route("/operators/{id}/link", post(pages::new_link))
        .route("/operators/{id}/disable", post(pages::disable))
        .route("/incidents", get(incidents::board))
        .route("/incidents/{id}", get(incidents::show))
        .route("/incidents/{id}/advance", post(incidents::advance))
        .route("/incidents/{id}/note", post(incidents::note))
        .route("/incidents/{id}/assign", post(incidents::assign))
        .route("/incidents/{id}/task", post(incidents::task))
        .route("/incidents/{id}/contain", post(incidents::contain))
        .route("/incidents/{id}/publish", post(incidents::publish))
        .route("/incidents/{id}/deadlines", get(notify::deadlines))
        .route("/incidents/{id}/scope", get(notify::scope))
        .route(
            "/incidents/{id}/letters",
            get(notify::letters).post(notify::render),
        )
        .route(
            "/incidents/{id}/letters/{version}/approve",
            post(notify::approve),
        )
        .route("/incidents/{id}/report", get(incidents::report))
        .route(
            "/incidents/{id}/evidence/verify",
            post(incidents::verify_evidence),
        )
        .route(
            "/incidents/{id}/evidence/export",
            post(incidents::export_evidence),
        )
        .route("/drills", get(drills::list).post(drills::start))
        .route("/drills/{id}", get(drills::show).post(drills::act))
        .route("/drills/{id}/report", get(drills::report))
        .route("/lookup", get(lookup::page).post(lookup::lookup))
        .route("/alerts", get(audit::alerts))
        .route("/alerts/{id}", post(audit::act_on_alert))
        .route("/audit", get(audit::audit))
        .route("/audit/verify", post(audit::verify))
        .route("/audit/review", post(audit::sign_off))
        .route("/compliance", get(compliance::page))
        .route("/pagewatch", get(pagewatch::list))
        .route("/pagewatch/{name}", get(pagewatch::show))
        .route("/pagewatch/{name}/run", post(pagewatch::run))
        .route("/pagewatch/{name}/approve", post(pagewatch::approve))
        .route(
            "/pagewatch/{name}/approvals/{id}/revoke",
            post(pagewatch::revoke),
        )
        .route(
            "/compliance/{duty}",
            post(compliance::complete).layer(axum::extract::DefaultBodyLimit::max(
                crate::routes::compliance::MAX_DOCUMENT,
            )),
        )
        .route(
            "/compliance/completions/{id}/document",
            get(compliance::document),
        )
        .route("/static/console.css", get(templates::css))
        .route("/static/console.js", get(templates::js))
}
