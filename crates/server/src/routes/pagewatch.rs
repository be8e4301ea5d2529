//! `/v1/pagewatch`: the payment pages watched for script and security-header
//! changes (PCI DSS 6.4.3, 11.6.1): adding, listing and removing pages, and
//! the public endpoint for their CSP violation reports. The crawl is not
//! built yet.

use bulwark_model::{parse_duration, DurationLimits, Scope, Unit};
use bulwark_store::{NewWatchedPage, WatchedPage};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::S;
use crate::auth::Caller;
use crate::extract::{ApiJson, ApiPath, Body, Created};
use crate::openapi::{Auth, Conflict, Failure, Invalid, Missing, RawBytes, TooLarge};
use crate::problem::Problem;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPage {
    /// The page (http or https, no credentials in it).
    url: String,
    /// 1 to 64 of a-z, 0-9, `-`, `_` (default: from the URL).
    name: Option<String>,
    /// Time between crawls, e.g. `1h`, `1d` (at least `5m`; default `1h`).
    every: Option<String>,
    /// Cookies for a page behind a cart or login; sealed, never shown again.
    #[serde(default)]
    cookies: Vec<PageCookie>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PageCookie {
    name: String,
    value: String,
}

#[derive(Serialize, ToSchema)]
pub struct PageList {
    pub items: Vec<WatchedPage>,
}

/// Starts watching a page.
#[utoipa::path(
    post, path = "/v1/pagewatch/pages", operation_id = "watch_page", tag = "pagewatch",
    description = "Requires scope `admin`. Ledgered as `pagewatch.added` with the cookies' names only. Its CSP reports go to `POST /v1/csp-reports/{report_token}`. The crawl in a headless browser is not built yet: the page is recorded for it.",
    security(("bearer" = [])),
    request_body = NewPage,
    responses((status = 201, description = "Watched", body = WatchedPage), Invalid, Auth, Conflict, Failure)
)]
pub async fn add(
    s: S,
    caller: Caller,
    ApiJson(p): ApiJson<NewPage>,
) -> Result<Created<WatchedPage>, Problem> {
    caller.require(&s, Scope::Admin)?;
    let every = parse_duration(
        p.every.as_deref().unwrap_or("1h"),
        DurationLimits {
            finest: Unit::Minute,
            longest: None,
        },
    )
    .map_err(|e| Problem::bad_request("bad-parameter", format!("`every`: {e}")))?;
    let new = NewWatchedPage {
        url: p.url,
        name: p.name,
        every_secs: every.whole_seconds(),
        cookies: p
            .cookies
            .into_iter()
            .map(|c| (c.name, Zeroizing::new(c.value)))
            .collect(),
    };
    let store = s.store.clone();
    let actor = caller.principal.id.clone();
    let page = super::blocking(move || store.watch_page(new, &actor)).await??;
    Ok(Created(page))
}

/// The watched pages, by name.
#[utoipa::path(
    get, path = "/v1/pagewatch/pages", operation_id = "list_watched_pages", tag = "pagewatch",
    description = "Requires scope `admin` (the list holds each page's CSP report token).",
    security(("bearer" = [])),
    responses((status = 200, description = "The pages", body = PageList), Auth, Failure)
)]
pub async fn list(s: S, caller: Caller) -> Result<ApiJson<PageList>, Problem> {
    caller.require(&s, Scope::Admin)?;
    let store = s.store.clone();
    let items = super::blocking(move || store.watched_pages()).await??;
    Ok(ApiJson(PageList { items }))
}

/// Stops watching a page.
#[utoipa::path(
    delete, path = "/v1/pagewatch/pages/{name}", operation_id = "unwatch_page", tag = "pagewatch",
    description = "Requires scope `admin`. Ledgered as `pagewatch.removed`.",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "The page's name")),
    responses((status = 204, description = "No longer watched"), Auth, Missing, Failure)
)]
pub async fn remove(
    s: S,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<axum::http::StatusCode, Problem> {
    caller.require(&s, Scope::Admin)?;
    let store = s.store.clone();
    let actor = caller.principal.id.clone();
    super::blocking(move || store.unwatch_page(&name, &actor)).await??;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The page type every watched page has for the rules (`bulwark.page.type`):
/// a page is watched because it takes or hosts the payment.
const PAGE_TYPE: &str = "payment";

/// At most this many report requests per watched page per second; more are
/// answered 429 and dropped (the endpoint is public: a flood must not
/// become a flood of alerts or of work).
pub const CSP_REQUESTS_PER_SECOND: u32 = 1000;

/// Per-page one-second windows of accepted report requests.
#[derive(Default)]
pub struct CspLimiter {
    windows: std::sync::Mutex<std::collections::HashMap<i64, (std::time::Instant, u32)>>,
}

impl CspLimiter {
    /// Whether one more request for `page` fits in its current window.
    fn admit(&self, page: i64, now: std::time::Instant) -> bool {
        // A panic while holding it leaves at worst a stale count.
        let mut w = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = w.entry(page).or_insert((now, 0));
        if now.duration_since(slot.0) >= std::time::Duration::from_secs(1) {
            *slot = (now, 0);
        }
        if slot.1 >= CSP_REQUESTS_PER_SECOND {
            return false;
        }
        slot.1 += 1;
        true
    }
}

#[derive(Serialize, ToSchema)]
pub struct CspAck {
    /// Violations read from the body and sent through detection.
    pub violations: usize,
    /// Reports of other types in a Reporting API body, not read.
    pub ignored: usize,
    /// Rule matches they raised.
    pub detections: usize,
    /// New alerts among them (a match of an open alert's rule and page adds to it).
    pub new_alerts: usize,
}

fn csp_problem(e: bulwark_pagewatch::csp::CspError) -> Problem {
    use bulwark_pagewatch::csp::CspError as E;
    match e {
        E::TooLarge { .. } => Problem::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Report too large",
        )
        .detail(e.to_string()),
        E::UnsupportedMediaType => Problem::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Not a CSP report",
        )
        .detail(e.to_string()),
        _ => Problem::bad_request("invalid-report", e.to_string()),
    }
}

/// A browser's CSP violation report for a watched page: the legacy
/// `application/csp-report` body or the Reporting API's
/// `application/reports+json`. Each violation becomes an event for the
/// checkout rules; nothing from it is ever rendered as markup.
#[utoipa::path(
    post, path = "/v1/csp-reports/{token}", operation_id = "csp_report", tag = "pagewatch",
    description = "No API key: the page's unguessable report token is the path (see `GET /v1/pagewatch/pages`; put `report-uri`/`report-to` pointing here in the page's policy). At most 64 KiB and 100 reports a body, 1,000 requests a second per page (429 beyond). Everything in a report is treated as attacker-controlled text.",
    params(("token" = String, Path, description = "The watched page's report token")),
    request_body(content = RawBytes, content_type = "application/csp-report", description = "A CSP violation report (or `application/reports+json`)"),
    responses(
        (status = 202, description = "Read and sent through detection", body = CspAck),
        (status = 415, description = "Not a CSP report media type", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many reports for this page right now", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Detection is not running", body = Problem, content_type = "application/problem+json"),
        Invalid, Missing, TooLarge, Failure
    )
)]
pub async fn csp_report(
    s: S,
    ApiPath(token): ApiPath<String>,
    headers: axum::http::HeaderMap,
    Body(body): Body,
) -> Result<axum::response::Response, Problem> {
    use axum::response::IntoResponse;
    use bulwark_pagewatch::csp;
    let unknown = || Problem::not_found("no watched page has this report token");
    if token.len() != 48 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(unknown());
    }
    let store = s.store.clone();
    let t = token.clone();
    let page = super::blocking(move || store.watched_page_by_token(&t))
        .await??
        .ok_or_else(unknown)?;
    if !s.csp_limiter.admit(page.id, std::time::Instant::now()) {
        let mut res = Problem::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many reports",
        )
        .detail("this page's reports are over their rate; this one was dropped")
        .into_response();
        res.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("1"),
        );
        return Ok(res);
    }
    let d = s.detector.clone().ok_or_else(|| {
        Problem::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "detection-off",
            "Detection is not running",
        )
        .detail("this server was started without detection")
    })?;
    let ct = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = csp::ReportFormat::from_content_type(ct).map_err(csp_problem)?;
    let reports = csp::parse(&body, format).map_err(csp_problem)?;
    let at = time::OffsetDateTime::now_utc();
    let watched = bulwark_pagewatch::event::Page {
        url: page.url.clone(),
        page_type: PAGE_TYPE.into(),
    };
    let logsource = bulwark_detect::Logsource {
        product: Some(bulwark_pagewatch::event::PRODUCT.into()),
        category: None,
        service: Some(bulwark_pagewatch::event::SERVICE_CSP_REPORT.into()),
    };
    let events: Vec<bulwark_detect::Event> = reports
        .violations
        .iter()
        .filter_map(|v| {
            bulwark_detect::Event::from_json(
                v.to_event(&watched, reports.format, at),
                Some(logsource.clone()),
            )
        })
        .collect();
    let d2 = d.clone();
    let detections = super::blocking(move || d2.process(&events)).await?;
    let found = detections.len();
    let new_alerts = if detections.is_empty() {
        0
    } else {
        crate::detection::record_and_route(
            &d,
            &s.store,
            &s.playbooks,
            crate::detection::to_alerts(
                detections,
                &format!("csp:{}", page.name),
                crate::detection::now_ms(),
            ),
            None,
        )
        .await?
        .len()
    };
    Ok(super::reply(
        axum::http::StatusCode::ACCEPTED,
        &CspAck {
            violations: reports.violations.len(),
            ignored: reports.ignored,
            detections: found,
            new_alerts,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn the_limiter_admits_a_second_s_worth_per_page_then_refuses_until_the_next_window() {
        let l = CspLimiter::default();
        let t0 = Instant::now();
        for _ in 0..CSP_REQUESTS_PER_SECOND {
            assert!(l.admit(1, t0));
        }
        assert!(!l.admit(1, t0 + Duration::from_millis(999)));
        // Another page has its own window.
        assert!(l.admit(2, t0));
        // A new window admits again.
        assert!(l.admit(1, t0 + Duration::from_secs(1)));
    }
}
