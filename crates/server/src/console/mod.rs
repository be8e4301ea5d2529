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

mod auth;
mod pages;
pub(crate) mod session;
mod templates;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use bulwark_access::SessionPolicy;

use crate::AppState;

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
}

impl Console {
    pub fn new(config: ConsoleConfig) -> Arc<Console> {
        Arc::new(Console {
            config,
            templates: templates::Templates::new(),
        })
    }
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
        .route("/sessions/{handle}/end", post(pages::end_session))
        .route(
            "/operators",
            get(pages::operators).post(pages::add_operator),
        )
        .route("/operators/{id}/link", post(pages::new_link))
        .route("/operators/{id}/disable", post(pages::disable))
        .route("/static/console.css", get(templates::css))
        .route("/static/console.js", get(templates::js))
}
