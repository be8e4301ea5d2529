//! Sign-in (password, then second factor, then a fresh session), enrolment
//! from a one-time link, sign-out and step-up. Wrong accounts and passwords
//! get one answer; too many failures get a wait, never a lockout.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use bulwark_store::{EnrolError, LoginError, StepUpError};
use serde::Deserialize;
use serde_json::json;

use super::session::{clear_cookie, set_cookie, token_of, Signed, Source};
use crate::AppState;

/// A form body; anything that is not one is answered as a bad request.
fn form<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, Response> {
    serde_urlencoded::from_bytes(body).map_err(|_| {
        (
            StatusCode::BAD_REQUEST,
            "The form was not filled in as expected.",
        )
            .into_response()
    })
}

#[derive(Deserialize)]
pub struct LoginQuery {
    ended: Option<String>,
}

pub async fn login_page(State(s): State<AppState>, Query(q): Query<LoginQuery>) -> Response {
    // A reason code, never text from the address bar: the page says only
    // what the server would.
    let policy = s.console.config.policy;
    let why = match q.ended.as_deref() {
        Some("idle") => Some(format!(
            "Your session ended after {} without activity; sign in again.",
            crate::console::session::span(policy.idle)
        )),
        Some("absolute") => Some(format!(
            "Your session reached its maximum length of {}; sign in again.",
            crate::console::session::span(policy.absolute)
        )),
        Some("disabled") => Some("The account is disabled.".to_owned()),
        _ => None,
    };
    s.console
        .templates
        .page(StatusCode::OK, "login.html", json!({"error": why}))
}

#[derive(Deserialize)]
struct LoginForm {
    account: String,
    password: String,
}

pub async fn login(State(s): State<AppState>, Source(src): Source, body: Bytes) -> Response {
    let f: LoginForm = match form(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let store = s.store.clone();
    let account = f.account.clone();
    let outcome = crate::routes::blocking(move || {
        store.login_password(&account, &f.password, src.as_deref())
    })
    .await;
    let account: String = f.account.chars().take(254).collect();
    match outcome {
        Ok(Ok(ticket)) => s.console.templates.page(
            StatusCode::OK,
            "second_factor.html",
            json!({"ticket": ticket.as_str()}),
        ),
        Ok(Err(e @ LoginError::Throttled { .. })) => {
            let mut r = s.console.templates.page(
                StatusCode::TOO_MANY_REQUESTS,
                "login.html",
                json!({"error": e.to_string(), "account": account}),
            );
            if let LoginError::Throttled { retry_after_secs } = e {
                if let Ok(v) = retry_after_secs.to_string().parse() {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            r
        }
        Ok(Err(LoginError::Store(e))) => unavailable(&s, &e),
        Ok(Err(e)) => s.console.templates.page(
            StatusCode::UNAUTHORIZED,
            "login.html",
            json!({"error": e.to_string(), "account": account}),
        ),
        Err(_) => unavailable(&s, &"a sign-in task stopped"),
    }
}

fn unavailable(s: &AppState, e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "console sign-in");
    s.console.templates.page(
        StatusCode::SERVICE_UNAVAILABLE,
        "message.html",
        json!({"heading": "Try again shortly", "text": "The sign-in could not be completed; nothing was changed."}),
    )
}

#[derive(Deserialize)]
struct SecondFactorForm {
    ticket: String,
    code: String,
}

pub async fn second_factor(
    State(s): State<AppState>,
    Source(src): Source,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f: SecondFactorForm = match form(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let tls = s.console.config.tls;
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let previous = token_of(&headers, tls);
    let store = s.store.clone();
    let ticket = f.ticket.clone();
    let outcome = crate::routes::blocking(move || {
        // A session already in this browser ends: the new one has a new id.
        if let Some(old) = previous {
            let _ = store.logout(&old);
        }
        store.login_second_factor(
            &ticket,
            &f.code,
            src.as_deref(),
            agent.as_deref(),
            "browser",
        )
    })
    .await;
    match outcome {
        Ok(Ok((token, _))) => {
            let mut r = Redirect::to("/").into_response();
            r.headers_mut()
                .insert(header::SET_COOKIE, set_cookie(tls, token.as_str()));
            r
        }
        Ok(Err(LoginError::TicketExpired)) => s.console.templates.page(
            StatusCode::UNAUTHORIZED,
            "login.html",
            json!({"error": LoginError::TicketExpired.to_string()}),
        ),
        Ok(Err(LoginError::Store(e))) => unavailable(&s, &e),
        Ok(Err(e)) => {
            let status = if matches!(e, LoginError::Throttled { .. }) {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::UNAUTHORIZED
            };
            s.console.templates.page(
                status,
                "second_factor.html",
                json!({"ticket": f.ticket, "error": e.to_string()}),
            )
        }
        Err(_) => unavailable(&s, &"a sign-in task stopped"),
    }
}

pub async fn logout(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let tls = s.console.config.tls;
    if let Some(token) = token_of(&headers, tls) {
        let store = s.store.clone();
        let _ = crate::routes::blocking(move || store.logout(&token)).await;
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, clear_cookie(tls));
    r
}

fn qr_svg(uri: &str) -> String {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(220, 220)
                .quiet_zone(true)
                .build();
            let start = svg.find("<svg").unwrap_or(0);
            svg[start..].replacen(
                "<svg",
                "<svg role=\"img\" aria-label=\"QR code of your authenticator set-up key\"",
                1,
            )
        }
        Err(_) => String::new(),
    }
}

fn enrol_error_page(s: &AppState, e: &EnrolError) -> Response {
    let (status, heading) = match e {
        EnrolError::Used | EnrolError::Expired => (StatusCode::GONE, "This link no longer works"),
        EnrolError::UnknownLink => (StatusCode::NOT_FOUND, "This link is not valid"),
        EnrolError::Disabled => (StatusCode::FORBIDDEN, "This account is disabled"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "Try again shortly"),
    };
    s.console.templates.page(
        status,
        "message.html",
        json!({"heading": heading, "text": e.to_string()}),
    )
}

fn enrol_view(s: &AppState, link: &str, error: Option<String>) -> Response {
    match s.store.enrolment(link) {
        Ok(view) => {
            let expires = crate::routes::rfc3339(view.expires_ms);
            s.console.templates.page(
                if error.is_some() {
                    StatusCode::BAD_REQUEST
                } else {
                    StatusCode::OK
                },
                "enrol.html",
                json!({
                    "operator": view.operator,
                    "link": link,
                    "expires": expires,
                    "qr_svg": qr_svg(&view.otpauth_uri),
                    "secret": view.secret_base32.as_str(),
                    "error": error,
                }),
            )
        }
        Err(e) => enrol_error_page(s, &e),
    }
}

pub async fn enrol_page(State(s): State<AppState>, Path(link): Path<String>) -> Response {
    let s2 = s.clone();
    crate::routes::blocking(move || enrol_view(&s2, &link, None))
        .await
        .unwrap_or_else(|_| unavailable(&s, &"an enrolment task stopped"))
}

#[derive(Deserialize)]
struct EnrolForm {
    password: String,
    code: String,
}

pub async fn enrol(State(s): State<AppState>, Path(link): Path<String>, body: Bytes) -> Response {
    let f: EnrolForm = match form(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let s2 = s.clone();
    crate::routes::blocking(move || {
        match s2.store.complete_enrolment(&link, &f.password, &f.code) {
            Ok((_, codes)) => {
                let codes: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
                s2.console
                    .templates
                    .page(StatusCode::OK, "enrolled.html", json!({"codes": codes}))
            }
            Err(e @ (EnrolError::Password(_) | EnrolError::Totp(_))) => {
                enrol_view(&s2, &link, Some(e.to_string()))
            }
            Err(e) => enrol_error_page(&s2, &e),
        }
    })
    .await
    .unwrap_or_else(|_| unavailable(&s, &"an enrolment task stopped"))
}

#[derive(Deserialize)]
pub struct StepUpQuery {
    next: Option<String>,
    why: Option<String>,
}

/// Only a path of this site is a place to return to: printable ASCII with no
/// space (browsers drop tabs and newlines, so `/\t/evil` would be `//evil`),
/// not `//` (another host) and no backslash (read as `/` by browsers).
pub(crate) fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p)
            if p.len() <= 500
                && p.starts_with('/')
                && !p.starts_with("//")
                && p.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            p.to_owned()
        }
        _ => "/".into(),
    }
}

pub async fn step_up_page(
    State(s): State<AppState>,
    me: Signed,
    Query(q): Query<StepUpQuery>,
) -> Response {
    s.console.templates.page(
        StatusCode::OK,
        "step_up.html",
        json!({
            "me": me.me(),
            "next": local_path(q.next.as_deref()),
            "why": crate::console::session::action_title(q.why.as_deref()),
            "action": q.why,
            "window": crate::console::session::span(s.console.config.policy.step_up),
        }),
    )
}

#[derive(Deserialize)]
struct StepUpForm {
    code: String,
    next: Option<String>,
    action: Option<String>,
}

pub async fn step_up(State(s): State<AppState>, me: Signed, body: Bytes) -> Response {
    let f: StepUpForm = match form(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let tls = s.console.config.tls;
    let policy = s.console.config.policy;
    let store = s.store.clone();
    let (token, src) = (me.token.clone(), me.source.clone());
    let code = f.code.clone();
    let outcome =
        crate::routes::blocking(move || store.step_up(&token, &code, &policy, src.as_deref()))
            .await;
    let next = local_path(f.next.as_deref());
    match outcome {
        Ok(Ok(fresh)) => {
            let mut r = Redirect::to(&next).into_response();
            r.headers_mut()
                .insert(header::SET_COOKIE, set_cookie(tls, fresh.as_str()));
            r
        }
        Ok(Err(StepUpError::Store(e))) => unavailable(&s, &e),
        Ok(Err(StepUpError::Session(_))) => Redirect::to("/login").into_response(),
        Ok(Err(e)) => s.console.templates.page(
            StatusCode::UNAUTHORIZED,
            "step_up.html",
            json!({"me": me.me(), "next": next, "why": crate::console::session::action_title(f.action.as_deref()), "action": f.action, "error": e.to_string(), "window": crate::console::session::span(s.console.config.policy.step_up)}),
        ),
        Err(_) => unavailable(&s, &"a step-up task stopped"),
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_a_plain_path_of_this_site_is_returned_to() {
        assert_eq!(local_path(Some("/operators")), "/operators");
        assert_eq!(
            local_path(Some("/incidents/7?tab=letters")),
            "/incidents/7?tab=letters"
        );
        for hostile in [
            "//evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\\evil.example",
            "https://evil.example",
            "/ /x",
            "",
        ] {
            assert_eq!(local_path(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(local_path(None), "/");
    }
}
