use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bulwark_detect::{parse_line, LogFormat, Logsource};
use bulwark_model::Scope;
use bulwark_store::AlertFilter;
use serde::Deserialize;

use crate::auth::Caller;
use crate::detection::{now_ms, to_alerts};
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

#[derive(Deserialize)]
pub struct IngestQuery {
    product: Option<String>,
    category: Option<String>,
    service: Option<String>,
}

/// JSON lines in, detections out. Malformed lines are reported by number and
/// skipped; the rest are analysed. When the analysers are all busy the caller
/// gets 503 with Retry-After instead of the server buffering without bound.
pub async fn ingest(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<IngestQuery>,
    body: axum::body::Bytes,
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
    let d2 = d.clone();
    let (accepted, malformed, detections) = super::blocking(move || {
        let _permit = permit;
        let mut events = Vec::new();
        let mut malformed = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match parse_line(LogFormat::JsonLines, line, i as u64 + 1) {
                Ok(ev) => events.push(match &logsource {
                    Some(ls) => ev.with_logsource(ls.clone()),
                    None => ev,
                }),
                Err(m) => {
                    malformed.push(serde_json::json!({"line": m.line_no, "reason": m.reason}))
                }
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
        )
        .await?
    };
    let body = serde_json::json!({"accepted": accepted, "malformed": malformed, "detections": found, "new_alerts": new_alerts});
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

#[derive(Deserialize)]
pub struct AlertQuery {
    level: Option<String>,
    rule: Option<String>,
    since: Option<String>,
    cursor: Option<i64>,
    limit: Option<usize>,
}

pub async fn alerts(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<AlertQuery>,
) -> Result<impl IntoResponse, Problem> {
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
    };
    let items = s.store.alerts(&filter)?;
    let next = if items.len() == limit {
        items.last().map(|a| a.id)
    } else {
        None
    };
    Ok(Json(
        serde_json::json!({"items": items, "next_cursor": next}),
    ))
}

pub async fn reload(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::Admin)?;
    let d = detector(&s)?;
    let report = super::blocking(move || d.reload())
        .await?
        .map_err(|e| Problem::bad_request("rules", e))?;
    Ok(Json(serde_json::to_value(report).unwrap_or_default()))
}
