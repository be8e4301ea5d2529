//! The session cookie, who is signed in, step-up, and the CSRF guard.
//!
//! The cookie holds only the random session token; the session itself lives in
//! the store. Over TLS it is `__Host-bulwark`, `Secure`; on plain loopback
//! HTTP (no `Secure` possible) `bulwark`. Always `HttpOnly`, `SameSite=Strict`,
//! `Path=/`, no `Domain`.

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use bulwark_store::{OperatorSession, SessionError};
use serde::Serialize;

use crate::AppState;

pub(crate) fn cookie_name(tls: bool) -> &'static str {
    if tls {
        "__Host-bulwark"
    } else {
        "bulwark"
    }
}

/// The `Set-Cookie` value that gives the browser `token`.
pub(crate) fn set_cookie(tls: bool, token: &str) -> HeaderValue {
    let secure = if tls { "; Secure" } else { "" };
    // Session tokens are base64url: always a valid header value.
    HeaderValue::from_str(&format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict{secure}",
        cookie_name(tls)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The `Set-Cookie` value that removes it.
pub(crate) fn clear_cookie(tls: bool) -> HeaderValue {
    let secure = if tls { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}",
        cookie_name(tls)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The session token the request carries, if any.
pub(crate) fn token_of(headers: &HeaderMap, tls: bool) -> Option<String> {
    let name = cookie_name(tls);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| v.starts_with("bws_") && v.len() < 100)
}

/// A signed-in operator (the extractor of every console page but sign-in).
/// Without a valid session, a page redirects to `/login`.
pub(crate) struct Signed {
    pub session: OperatorSession,
    pub token: String,
    pub source: Option<String>,
}

/// What every page's layout shows of the operator.
#[derive(Serialize)]
pub(crate) struct Me {
    pub id: String,
    pub name: String,
    pub roles: Vec<&'static str>,
    pub role_titles: Vec<&'static str>,
    /// Which parts of the console the roles open (the nav shows only those).
    pub can: Can,
}

#[derive(Serialize)]
pub(crate) struct Can {
    pub incidents: bool,
    pub alerts: bool,
    pub lookup: bool,
    pub audit: bool,
}

impl Signed {
    pub fn me(&self) -> Me {
        let op = &self.session.operator;
        Me {
            id: op.id.clone(),
            name: op.name.clone(),
            roles: op.roles.codes(),
            role_titles: op.roles.0.iter().map(|r| r.title()).collect(),
            can: Can {
                incidents: self.can(bulwark_model::Scope::IncidentsRead),
                alerts: self.can(bulwark_model::Scope::AlertsRead),
                lookup: self.can(bulwark_model::Scope::VaultLookup),
                audit: self.can(bulwark_model::Scope::AuditRead),
            },
        }
    }

    /// Whether the operator's roles grant `scope`.
    pub fn can(&self, scope: bulwark_model::Scope) -> bool {
        self.session.operator.roles.scopes().allows(scope)
    }

    /// Whether the operator holds team role `role` (an administrator holds none
    /// by being one).
    pub fn has_team(&self, role: bulwark_model::Role) -> bool {
        self.session.operator.roles.has_team(role)
    }

    pub fn actor(&self) -> String {
        format!("operator:{}", self.session.operator.id)
    }

    /// `Some(redirect)` when `action` (a code of [`STEP_UP_ACTIONS`]) needs the
    /// second factor again first.
    pub fn step_up_first(
        &self,
        state: &AppState,
        action: &'static str,
        back_to: &str,
    ) -> Option<Response> {
        let why = action;
        let policy = state.console.config.policy;
        if policy.needs_step_up(&self.session.times, self.session.times.last_seen_ms) {
            let q = form_urlencoded::Serializer::new(String::new())
                .append_pair("next", back_to)
                .append_pair("why", why)
                .finish();
            Some(Redirect::to(&format!("/step-up?{q}")).into_response())
        } else {
            None
        }
    }
}

/// What a step-up is for: a code in the address, the text shown for it. Only
/// these texts are ever shown, whatever the address says.
pub(crate) const STEP_UP_ACTIONS: &[(&str, &str)] = &[
    ("operator-add", "Adding an operator"),
    ("operator-link", "Issuing an enrolment link"),
    ("operator-disable", "Disabling an operator"),
    ("operator-roles", "Changing an operator's roles"),
    ("letters-approve", "Approving letters"),
    ("contain", "A containment action"),
    ("publish", "Publishing a public update"),
    ("reveal", "Revealing customer data"),
    ("access-review", "Signing off the access review"),
    ("keys", "Managing API keys"),
];

pub(crate) fn action_title(code: Option<&str>) -> &'static str {
    code.and_then(|c| STEP_UP_ACTIONS.iter().find(|(k, _)| *k == c))
        .map(|(_, t)| *t)
        .unwrap_or("This action")
}

pub(crate) use bulwark_access::span;

/// The caller's address (for throttling and the session list).
pub(crate) struct Source(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Source(source_of(parts)))
    }
}

pub(crate) fn source_of(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|ci| ci.0.ip().to_string())
}

/// Why a page could not be shown to this request.
pub(crate) enum NotSigned {
    /// Sign in (again), with the code of why a session ended.
    SignIn(Option<&'static str>),
    Unavailable,
}

impl IntoResponse for NotSigned {
    fn into_response(self) -> Response {
        match self {
            NotSigned::SignIn(None) => Redirect::to("/login").into_response(),
            NotSigned::SignIn(Some(why)) => {
                Redirect::to(&format!("/login?ended={why}")).into_response()
            }
            NotSigned::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "The console is unavailable; try again shortly.",
            )
                .into_response(),
        }
    }
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = NotSigned;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, NotSigned> {
        let tls = state.console.config.tls;
        let Some(token) = token_of(&parts.headers, tls) else {
            return Err(NotSigned::SignIn(None));
        };
        let store = state.store.clone();
        let policy = state.console.config.policy;
        let t = token.clone();
        let found = crate::routes::blocking(move || store.session(&t, &policy))
            .await
            .map_err(|_| NotSigned::Unavailable)?;
        match found {
            Ok(session) => Ok(Signed {
                session,
                token,
                source: source_of(parts),
            }),
            Err(SessionError::Store(e)) => {
                tracing::error!(error = %e, "session lookup");
                Err(NotSigned::Unavailable)
            }
            Err(SessionError::Unknown) => Err(NotSigned::SignIn(None)),
            Err(SessionError::Idle(_)) => Err(NotSigned::SignIn(Some("idle"))),
            Err(SessionError::Absolute(_)) => Err(NotSigned::SignIn(Some("absolute"))),
            Err(SessionError::Disabled) => Err(NotSigned::SignIn(Some("disabled"))),
        }
    }
}

/// Refuses a state-changing request that a browser sent from another site
/// (CSRF). Browsers say where a request comes from in `Sec-Fetch-Site`; older
/// ones send `Origin` on every POST. A request carrying a bearer key has no
/// ambient credential and is not checked, nor is one that carries neither a
/// cookie nor any browser provenance header (curl, scripts: the key check
/// decides). Safe methods change nothing and pass.
pub async fn csrf_guard(req: Request, next: Next) -> Response {
    let m = req.method();
    let safe = m == Method::GET || m == Method::HEAD || m == Method::OPTIONS;
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer "));
    // Browsers post CSP violation reports from the store's own pages, which
    // are another site by nature; the endpoint uses no ambient credential
    // (its token is the path), so there is nothing to forge.
    let csp_report = req.uri().path().starts_with("/v1/csp-reports/");
    if safe || bearer || csp_report || not_from_a_browser(req.headers()) || same_site(req.headers())
    {
        return next.run(req).await;
    }
    tracing::warn!(target: "bulwark::http", method = %req.method(), "cross-site request refused");
    crate::problem::Problem::new(
        StatusCode::FORBIDDEN,
        "cross-site-request",
        "Cross-site request refused",
    )
    .detail("this request did not come from a page of this site")
    .into_response()
}

/// No cookie, so nothing ambient to abuse, and no header a browser always
/// sends on a POST: a login form posted cross-site still carries `Origin`.
fn not_from_a_browser(h: &HeaderMap) -> bool {
    !h.contains_key(header::COOKIE)
        && !h.contains_key(header::ORIGIN)
        && !h.contains_key("sec-fetch-site")
}

fn same_site(h: &HeaderMap) -> bool {
    if let Some(site) = h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin" || site == "none";
    }
    let host = h.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin = h.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    match (origin, host) {
        (Some(o), Some(host)) => o
            .strip_prefix("https://")
            .or_else(|| o.strip_prefix("http://"))
            .is_some_and(|rest| rest == host),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn fetch_metadata_first_then_origin() {
        assert!(same_site(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(same_site(&headers(&[("sec-fetch-site", "none")])));
        assert!(!same_site(&headers(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://h"),
            ("host", "h")
        ])));
        assert!(!same_site(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(same_site(&headers(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080")
        ])));
        assert!(!same_site(&headers(&[
            ("origin", "https://evil.example"),
            ("host", "127.0.0.1:8080")
        ])));
        assert!(
            !same_site(&headers(&[("host", "127.0.0.1:8080")])),
            "neither header: refused"
        );
    }

    #[test]
    fn only_requests_a_browser_could_forge_are_checked() {
        assert!(not_from_a_browser(&headers(&[("host", "h")])));
        assert!(!not_from_a_browser(&headers(&[(
            "cookie",
            "bulwark=bws_x"
        )])));
        assert!(!not_from_a_browser(&headers(&[(
            "origin",
            "https://evil.example"
        )])));
        assert!(!not_from_a_browser(&headers(&[(
            "sec-fetch-site",
            "cross-site"
        )])));
    }

    #[test]
    fn the_cookie_is_found_by_its_name_only() {
        let h = headers(&[("cookie", "other=x; bulwark=bws_abc; __Host-bulwark=bws_tls")]);
        assert_eq!(token_of(&h, false).as_deref(), Some("bws_abc"));
        assert_eq!(token_of(&h, true).as_deref(), Some("bws_tls"));
        let h = headers(&[("cookie", "bulwark=not-a-token")]);
        assert_eq!(token_of(&h, false), None);
    }

    #[test]
    fn cookie_flags() {
        let c = set_cookie(true, "bws_x");
        assert_eq!(
            c.to_str().unwrap(),
            "__Host-bulwark=bws_x; Path=/; HttpOnly; SameSite=Strict; Secure"
        );
        assert!(clear_cookie(false).to_str().unwrap().contains("Max-Age=0"));
    }
}
