//! `/v1/pagewatch`: the payment pages watched for script and security-header
//! changes (PCI DSS 6.4.3, 11.6.1): adding, listing and removing pages, and
//! the public endpoint for their CSP violation reports, crawls on demand,
//! the script inventory, and its approvals.

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
    description = "Requires scope `admin`. Ledgered as `pagewatch.added` with the cookies' names only. Its CSP reports go to `POST /v1/csp-reports/{report_token}`. `serve` crawls it every `every` (and `POST /v1/pagewatch/pages/{name}/runs` now).",
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
const PAGE_TYPE: &str = crate::pagewatch_runner::PAGE_TYPE;

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

async fn page_named(s: &crate::AppState, name: String) -> Result<WatchedPage, Problem> {
    let store = s.store.clone();
    let n = name.clone();
    super::blocking(move || store.watched_pages())
        .await??
        .into_iter()
        .find(|p| p.name == n)
        .ok_or_else(|| {
            Problem::not_found(format!(
                "no watched page is named `{}`",
                name.chars().take(64).collect::<String>()
            ))
        })
}

/// Crawls a watched page now, in the headless browser, and records what it found.
#[utoipa::path(
    post, path = "/v1/pagewatch/pages/{name}/runs", operation_id = "run_page", tag = "pagewatch",
    description = "Requires scope `admin`. Crawls the page in Debian's chromium (one crawl at a time per server), puts the rendered page, the document as served, a manifest and every script body into the evidence locker, diffs the scripts, headers, frames and outbound hosts against the inventory and the approvals, and sends the changes through detection: a new or changed unapproved script raises an alert that can open a `web_skimmer` incident, with the run's evidence attached. The first run is the baseline: scripts are inventoried as `new` and only skimmer indicators raise alerts. Ledgered as `pagewatch.run`. A crawl that fails answers 502 and changes nothing but the run list.",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "The page's name")),
    responses(
        (status = 201, description = "Crawled and recorded", body = crate::pagewatch_runner::RunReport),
        (status = 502, description = "The page or the browser failed", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Detection is not running", body = Problem, content_type = "application/problem+json"),
        Auth, Missing, Conflict, Failure
    )
)]
pub async fn run(
    s: S,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<Created<crate::pagewatch_runner::RunReport>, Problem> {
    caller.require(&s, Scope::Admin)?;
    let page = page_named(&s, name).await?;
    let report = crate::pagewatch_runner::run_page(&s, &page, &caller.principal.id).await?;
    Ok(Created(report))
}

#[derive(Serialize, ToSchema)]
pub struct RunList {
    pub items: Vec<bulwark_store::PageRun>,
}

/// The latest runs of a page, newest first.
#[utoipa::path(
    get, path = "/v1/pagewatch/pages/{name}/runs", operation_id = "list_page_runs", tag = "pagewatch",
    description = "Requires scope `admin`. At most 100 runs.",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "The page's name")),
    responses((status = 200, description = "The runs", body = RunList), Auth, Missing, Failure)
)]
pub async fn runs(
    s: S,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<ApiJson<RunList>, Problem> {
    caller.require(&s, Scope::Admin)?;
    let page = page_named(&s, name).await?;
    let store = s.store.clone();
    let items = super::blocking(move || store.page_runs(&page.name, 100))
        .await??
        .unwrap_or_default();
    Ok(ApiJson(RunList { items }))
}

/// One script of a page's inventory (PCI DSS 6.4.3).
#[derive(Serialize, ToSchema)]
pub struct ScriptRow {
    /// Its identity: the URL, or `inline:sha256-…` (likewise `eval:`, `data:`, `blob:`).
    pub script: String,
    /// `url`, `inline`, `eval`, `data` or `blob`.
    pub kind: String,
    /// `new`, `authorised`, `changed` (authorisation reset) or `removed`.
    pub state: String,
    pub sha256: String,
    pub sha384: String,
    pub size: u64,
    pub sri: bool,
    pub initiator: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
    /// The approvals in force covering its current body.
    pub approvals: Vec<i64>,
    /// Its skimmer score (0–100) and matched indicators, once scanned.
    pub score: Option<u32>,
    pub indicators: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ScriptList {
    /// The run the inventory is from (`null` before the first).
    pub run: Option<i64>,
    pub items: Vec<ScriptRow>,
    /// Outbound hosts seen so far.
    pub hosts: Vec<String>,
    pub iframes: Vec<String>,
}

/// Builds the inventory listing of a page (shared with the CLI).
pub fn script_list(
    store: &bulwark_store::Store,
    page: &WatchedPage,
) -> Result<ScriptList, bulwark_store::StoreError> {
    let inv = store.page_inventory(page.id)?;
    let approvals = store.page_approvals(&page.name, false)?.unwrap_or_default();
    let fmt = |t: time::OffsetDateTime| {
        t.replace_nanosecond(0)
            .unwrap_or(t)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    let items = inv
        .inventory
        .scripts
        .iter()
        .map(|(k, e)| {
            let seen = e.observed();
            let covering = approvals
                .iter()
                .filter(|a| {
                    bulwark_pagewatch::inventory::Approvals(vec![a.to_approval()])
                        .covering(k, &seen)
                        .is_some()
                })
                .map(|a| a.id)
                .collect();
            ScriptRow {
                script: k.0.clone(),
                kind: e.source.kind().into(),
                state: e.state.as_str().into(),
                sha256: e.digests.sha256.clone(),
                sha384: e.digests.sha384.clone(),
                size: e.size,
                sri: e.has_sri,
                initiator: e.initiator.clone(),
                first_seen: fmt(e.first_seen),
                last_seen: fmt(e.last_seen),
                approvals: covering,
                score: e.scan.as_ref().map(|s| s.score),
                indicators: e
                    .scan
                    .as_ref()
                    .map(|s| s.indicators.clone())
                    .unwrap_or_default(),
            }
        })
        .collect();
    Ok(ScriptList {
        run: inv.run,
        items,
        hosts: inv.inventory.hosts.into_iter().collect(),
        iframes: inv.inventory.iframes.into_iter().collect(),
    })
}

/// The page's script inventory after its latest run.
#[utoipa::path(
    get, path = "/v1/pagewatch/pages/{name}/scripts", operation_id = "list_page_scripts", tag = "pagewatch",
    description = "Requires scope `admin`.",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "The page's name")),
    responses((status = 200, description = "The inventory", body = ScriptList), Auth, Missing, Failure)
)]
pub async fn scripts(
    s: S,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<ApiJson<ScriptList>, Problem> {
    caller.require(&s, Scope::Admin)?;
    let page = page_named(&s, name).await?;
    let store = s.store.clone();
    Ok(ApiJson(
        super::blocking(move || script_list(&store, &page)).await??,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApproval {
    /// A script of the inventory (its URL or `inline:sha256-…`): its current body is approved.
    script: Option<String>,
    /// Or a vendor origin whose scripts may change (`https://js.vendor.example`) …
    dynamic_origin: Option<String>,
    /// … and the hosts its scripts may reach.
    #[serde(default)]
    allowed_hosts: Vec<String>,
    /// Or an outbound host the page may reach.
    host: Option<String>,
    /// Who owns it (a team, a vendor).
    owner: String,
    /// Why the page needs it (PCI DSS 6.4.3).
    justification: String,
}

#[derive(Serialize, ToSchema)]
pub struct ApprovalList {
    pub items: Vec<bulwark_store::StoredApproval>,
}

/// Authorises a script, a vendor origin (`dynamic`) or an outbound host on a page.
#[utoipa::path(
    post, path = "/v1/pagewatch/pages/{name}/approvals", operation_id = "approve_on_page", tag = "pagewatch",
    description = "Requires scope `admin`; the caller is the approver. Give exactly one of `script`, `dynamic_origin` or `host`. A script is approved with the body the latest run saw and is `authorised` at once; a later change of its body resets that. Ledgered as `pagewatch.approved`.",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "The page's name")),
    request_body = NewApproval,
    responses((status = 201, description = "Approved", body = bulwark_store::StoredApproval), Invalid, Auth, Missing, Conflict, Failure)
)]
pub async fn approve(
    s: S,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(a): ApiJson<NewApproval>,
) -> Result<Created<bulwark_store::StoredApproval>, Problem> {
    use bulwark_store::ApproveWhat;
    caller.require(&s, Scope::Admin)?;
    let what = match (a.script, a.dynamic_origin, a.host) {
        (Some(k), None, None) => ApproveWhat::Script(bulwark_pagewatch::inventory::ScriptKey(k)),
        (None, Some(origin), None) => ApproveWhat::Dynamic {
            origin,
            allowed_hosts: a.allowed_hosts,
        },
        (None, None, Some(h)) => ApproveWhat::Host(h),
        _ => {
            return Err(Problem::bad_request(
                "bad-parameter",
                "give exactly one of `script`, `dynamic_origin` or `host`",
            ))
        }
    };
    let store = s.store.clone();
    let actor = caller.principal.id.clone();
    let approved = super::blocking(move || {
        store.approve_on_page(&name, what, &a.owner, &a.justification, &actor)
    })
    .await??;
    Ok(Created(approved))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ApprovalsQuery {
    /// Revoked approvals too.
    #[serde(default)]
    all: bool,
}

/// The approvals of a page.
#[utoipa::path(
    get, path = "/v1/pagewatch/pages/{name}/approvals", operation_id = "list_page_approvals", tag = "pagewatch",
    description = "Requires scope `admin`. Those in force, or all with `all=true`.",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "The page's name"), ApprovalsQuery),
    responses((status = 200, description = "The approvals", body = ApprovalList), Auth, Missing, Failure)
)]
pub async fn approvals(
    s: S,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    axum::extract::Query(q): axum::extract::Query<ApprovalsQuery>,
) -> Result<ApiJson<ApprovalList>, Problem> {
    caller.require(&s, Scope::Admin)?;
    let store = s.store.clone();
    let n = name.clone();
    let items = super::blocking(move || store.page_approvals(&n, q.all))
        .await??
        .ok_or_else(|| Problem::not_found("no watched page has this name"))?;
    Ok(ApiJson(ApprovalList { items }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    /// Why it is no longer authorised.
    reason: String,
}

/// Revokes an approval.
#[utoipa::path(
    post, path = "/v1/pagewatch/pages/{name}/approvals/{id}/revoke", operation_id = "revoke_page_approval", tag = "pagewatch",
    description = "Requires scope `admin`. What it covered is unauthorised from now on. Ledgered as `pagewatch.revoked`.",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "The page's name"), ("id" = i64, Path, description = "The approval")),
    request_body = Revocation,
    responses((status = 204, description = "Revoked"), Invalid, Auth, Missing, Failure)
)]
pub async fn revoke(
    s: S,
    caller: Caller,
    ApiPath((name, id)): ApiPath<(String, i64)>,
    ApiJson(r): ApiJson<Revocation>,
) -> Result<axum::http::StatusCode, Problem> {
    caller.require(&s, Scope::Admin)?;
    let store = s.store.clone();
    let actor = caller.principal.id.clone();
    super::blocking(move || store.revoke_page_approval(&name, id, &r.reason, &actor)).await??;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CspQuery {
    /// The enforcing policy (pinned by hash) instead of the report-only one.
    #[serde(default)]
    enforce: bool,
}

/// Proposes a Content-Security-Policy from the page's inventory.
#[utoipa::path(
    get, path = "/v1/pagewatch/pages/{name}/csp", operation_id = "propose_page_csp", tag = "pagewatch",
    description = "Requires scope `admin`. Report-Only by origin first, enforcing with hashes (`enforce=true`) once the reports are quiet; only authorised scripts, hosts and the page's frames go in, and the report-uri is this server's CSP endpoint for the page (from its public URL). 409 before the page's first run.",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "The page's name"), CspQuery),
    responses((status = 200, description = "The proposal", body = CspProposal), Auth, Missing, Conflict, Failure)
)]
pub async fn csp_proposal(
    s: S,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    axum::extract::Query(q): axum::extract::Query<CspQuery>,
) -> Result<ApiJson<CspProposal>, Problem> {
    use bulwark_pagewatch::policy::{propose, Stage};
    caller.require(&s, Scope::Admin)?;
    let page = page_named(&s, name).await?;
    let store = s.store.clone();
    let pid = page.id;
    let (inv, approvals) = super::blocking(move || {
        Ok::<_, bulwark_store::StoreError>((
            store.page_inventory(pid)?,
            store.page_approvals_in_force(pid)?,
        ))
    })
    .await??;
    if inv.run.is_none() {
        return Err(Problem::conflict(
            "not-crawled",
            "the page has not been crawled yet: run it first",
        ));
    }
    let report = format!(
        "{}/v1/csp-reports/{}",
        s.console.config.public_url.trim_end_matches('/'),
        page.report_token
    );
    let stage = if q.enforce {
        Stage::Enforce
    } else {
        Stage::ReportOnly
    };
    let p = propose(&inv.inventory, &approvals, Some(&report), stage);
    Ok(ApiJson(CspProposal {
        header: p.header.into(),
        value: p.value,
        warnings: p.warnings,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct CspProposal {
    /// `Content-Security-Policy-Report-Only` or `Content-Security-Policy`.
    pub header: String,
    pub value: String,
    /// What to look at before deploying it.
    pub warnings: Vec<String>,
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
