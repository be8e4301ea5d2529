//! `/v1/events`, `/v1/alerts`, `/v1/rules/reload`: live detection.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bulwark_detect::{parse_line, LineParser, LogFormat, Logsource};
use bulwark_model::Scope;
use bulwark_store::{Alert, AlertFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::S;
use crate::auth::Caller;
use crate::detection::{now_ms, to_alerts, RulesLoaded};
use crate::extract::{ApiJson, ApiQuery, Body};
use crate::openapi::{Auth, Failure, Invalid, RawBytes, TooLarge};
use crate::problem::Problem;
use crate::AppState;

/// One request carries at most this much JSON-lines text; send more in more requests.
pub const MAX_BODY: usize = 8 << 20;

fn detector(s: &AppState) -> Result<std::sync::Arc<crate::detection::Detector>, Problem> {
    s.detector.clone().ok_or_else(|| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "detection-off",
            "Detection is not running",
        )
        .detail("this server was started without detection")
    })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IngestQuery {
    /// Sigma log source of these events, when the events do not say.
    product: Option<String>,
    category: Option<String>,
    service: Option<String>,
    /// How the lines are written: absent or `jsonl` for JSON objects with ECS
    /// names; else a format of `bulwark formats` (`combined`, `haproxy`,
    /// `caddy`, the data directory's mapping files…), `nginx:<log_format>` or
    /// `apache:<LogFormat>`, or `auto` to tell it from the first lines.
    format: Option<String>,
}

/// A line that could not be read, by number.
#[derive(Serialize, ToSchema)]
pub struct MalformedLine {
    pub line: u64,
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct Ingested {
    /// Events analysed.
    pub accepted: usize,
    /// Lines skipped, with why.
    pub malformed: Vec<MalformedLine>,
    /// Detections raised by these events.
    pub detections: usize,
    /// Ids of alerts these detections opened (repeats extend existing alerts).
    pub new_alerts: Vec<i64>,
}

/// JSON lines in, detections out. Malformed lines are reported by number and
/// skipped; the rest are analysed. When the analysers are all busy the caller
/// gets 503 with Retry-After instead of the server buffering without bound.
#[utoipa::path(
    post, path = "/v1/events", operation_id = "ingest_events", tag = "detection",
    description = "Requires scope `events:write`. One JSON object (ECS field names) per line, or log lines in the `format` given, at most 8 MiB per request.",
    security(("bearer" = [])),
    params(IngestQuery),
    request_body(content = RawBytes, content_type = "application/x-ndjson", description = "JSON lines (one JSON object per line), or lines in the `format` given; UTF-8"),
    responses((status = 202, description = "Analysed", body = Ingested), Invalid, Auth, TooLarge, Failure)
)]
pub async fn ingest(
    s: S,
    caller: Caller,
    ApiQuery(q): ApiQuery<IngestQuery>,
    Body(body): Body,
) -> Result<Response, Problem> {
    caller.require(&s, Scope::EventsWrite)?;
    let d = detector(&s)?;
    let Ok(permit) = d.ingest.clone().try_acquire_owned() else {
        let mut res = Problem::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "Detection is busy")
            .detail("too many event batches in flight; retry shortly")
            .into_response();
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return Ok(res);
    };
    if body.is_empty() {
        return Err(Problem::bad_request(
            "empty-body",
            "the body holds no events: send one JSON object per line",
        ));
    }
    let text = std::str::from_utf8(&body)
        .map_err(|e| {
            Problem::bad_request(
                "bad-encoding",
                format!("body is not UTF-8 (byte {})", e.valid_up_to()),
            )
        })?
        .to_owned();
    let logsource =
        (q.product.is_some() || q.category.is_some() || q.service.is_some()).then_some(Logsource {
            product: q.product,
            category: q.category,
            service: q.service,
        });
    let mut parser = line_parser(&d, q.format.as_deref(), &text)?;
    let d2 = d.clone();
    let (accepted, malformed, detections) = super::blocking(move || {
        let _permit = permit;
        let mut events = Vec::new();
        let mut malformed = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let parsed = match &mut parser {
                None if line.trim().is_empty() => continue,
                None => parse_line(&LogFormat::JsonLines, line, i as u64 + 1).map(Some),
                Some(p) => p.parse(line, i as u64 + 1),
            };
            match parsed {
                Ok(Some(ev)) => events.push(match &logsource {
                    Some(ls) => ev.with_logsource(ls.clone()),
                    None => ev,
                }),
                Ok(None) => {}
                Err(m) => malformed.push(MalformedLine {
                    line: m.line_no,
                    reason: m.reason,
                }),
            }
        }
        let detections = d2.process(&events);
        (events.len(), malformed, detections)
    })
    .await?;
    let found = detections.len();
    let new_alerts = if detections.is_empty() {
        Vec::new()
    } else {
        crate::detection::record_and_route(
            &d,
            &s.store,
            &s.playbooks,
            to_alerts(detections, "events", now_ms()),
            None,
        )
        .await?
    };
    Ok(super::reply(
        StatusCode::ACCEPTED,
        &Ingested {
            accepted,
            malformed,
            detections: found,
            new_alerts,
        },
    ))
}

/// The parser for `?format=` (`None`: ECS JSON lines, the fast default).
fn line_parser(
    d: &crate::detection::Detector,
    format: Option<&str>,
    text: &str,
) -> Result<Option<LineParser>, Problem> {
    let Some(spec) = format.map(str::trim).filter(|f| !f.is_empty()) else {
        return Ok(None);
    };
    if ["jsonl", "json", "ndjson", "ecs"].contains(&spec.to_ascii_lowercase().as_str()) {
        return Ok(None);
    }
    let formats = d.formats();
    let format = if spec.eq_ignore_ascii_case("auto") {
        let head: Vec<&str> = text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .take(50)
            .collect();
        formats
            .detect(&head)
            .ok_or_else(|| {
                Problem::bad_request(
                    "unknown-format",
                    "no known log format reads these lines: name one with ?format= (see `bulwark formats`)",
                )
            })?
            .format
    } else {
        formats
            .get(spec)
            .map_err(|e| Problem::bad_request("unknown-format", e.to_string()))?
    };
    Ok(Some(formats.parser_with_fallback(format)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// Only alerts at or above: informational, low, medium, high, critical.
    level: Option<String>,
    /// Only this rule id.
    rule: Option<String>,
    /// RFC 3339: only alerts seen since.
    since: Option<String>,
    /// From a previous page's `next_cursor`.
    cursor: Option<i64>,
    /// Page size, 1 to 1000 (default 100).
    limit: Option<usize>,
    /// Drill runs' alerts too (source `drill:<run>`); left out by default.
    drills: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct AlertPage {
    pub items: Vec<Alert>,
    pub next_cursor: Option<i64>,
}

/// Alerts raised by live detection, oldest first.
#[utoipa::path(
    get, path = "/v1/alerts", operation_id = "list_alerts", tag = "detection",
    description = "Requires scope `alerts:read`.",
    security(("bearer" = [])),
    params(AlertQuery),
    responses((status = 200, description = "A page of alerts", body = AlertPage), Invalid, Auth, Failure)
)]
pub async fn alerts(
    s: S,
    caller: Caller,
    ApiQuery(q): ApiQuery<AlertQuery>,
) -> Result<ApiJson<AlertPage>, Problem> {
    caller.require(&s, Scope::AlertsRead)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let filter = AlertFilter {
        min_level: q.level,
        rule_id: q.rule,
        since_ms: q
            .since
            .as_deref()
            .map(|t| super::parse_time("since", t))
            .transpose()?,
        after_id: q.cursor,
        limit,
        include_drills: q.drills.unwrap_or(false),
    };
    let items = s.store.alerts(&filter)?;
    let next = if items.len() == limit {
        items.last().map(|a| a.id)
    } else {
        None
    };
    Ok(ApiJson(AlertPage {
        items,
        next_cursor: next,
    }))
}

/// Re-reads the data directory's rules and log-format mapping files and swaps them in; correlation state carries over.
#[utoipa::path(
    post, path = "/v1/rules/reload", operation_id = "reload_rules", tag = "detection",
    description = "Requires scope `admin`.",
    security(("bearer" = [])),
    responses((status = 200, description = "What loaded", body = RulesLoaded), (status = 422, description = "The rules could not be read; the running set stays", body = Problem, content_type = "application/problem+json"), Auth, Failure)
)]
pub async fn reload(s: S, caller: Caller) -> Result<ApiJson<RulesLoaded>, Problem> {
    caller.require(&s, Scope::Admin)?;
    let d = detector(&s)?;
    let report = super::blocking(move || d.reload()).await??;
    Ok(ApiJson(report))
}
