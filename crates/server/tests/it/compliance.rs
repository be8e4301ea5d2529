//! `/v1/compliance`: the calendar of recurring duties over the API — an
//! overdue duty shows as overdue and first, a completion moves the next due
//! date one cadence on, and unknown duties or the wrong kind of evidence are
//! refused as problems that change nothing.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use bulwark_learn::Calendar;
use bulwark_server::{router, AppState};
use http_body_util::BodyExt;
use tower::ServiceExt;

const SCAN: &str = "pci-11.3.1-internal-scan";

fn setup() -> (axum::Router, bulwark_testkit::StoreFixture) {
    std::thread::spawn(|| {
        let f = bulwark_testkit::StoreFixture::new();
        (router(AppState::new(f.store.clone()).unwrap()), f)
    })
    .join()
    .unwrap()
}

async fn call(
    app: &axum::Router,
    method: Method,
    uri: &str,
    key: &str,
    body: Option<serde_json::Value>,
) -> (StatusCode, String, serde_json::Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        ct,
        serde_json::from_slice(&bytes).unwrap_or_default(),
    )
}

fn duty<'a>(cal: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    cal["duties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id)
        .unwrap_or_else(|| panic!("{id} in {cal}"))
}

#[tokio::test]
async fn an_overdue_duty_shows_first_and_a_completion_moves_its_next_due_date() {
    let (app, f) = setup();
    let key = f.admin_key.clone();
    let today = time::OffsetDateTime::now_utc().date();

    let (s, _, cal) = call(&app, Method::GET, "/v1/compliance", &key, None).await;
    assert_eq!(s, StatusCode::OK, "{cal}");
    let scan = duty(&cal, SCAN);
    assert_eq!(scan["requirement"], "PCI DSS v4.0.1 11.3.1");
    assert_eq!(scan["cadence"], "quarterly");
    assert_eq!(scan["owner"], "it");
    assert_eq!(scan["evidence"], serde_json::json!(["scan_report"]));
    assert_eq!(scan["last_completed"], serde_json::Value::Null);

    // Last scanned 200 days ago: a quarterly scan is overdue, and listed first.
    let long_ago = today - time::Duration::days(200);
    let uri = format!("/v1/compliance/{SCAN}/completions");
    let (s, _, v) = call(
        &app,
        Method::POST,
        &uri,
        &key,
        Some(serde_json::json!({"evidence": "scan_report", "reference": "asv-q1.pdf", "on": long_ago.to_string()})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["duty"]["overdue"], true, "{v}");
    let (_, _, cal) = call(&app, Method::GET, "/v1/compliance", &key, None).await;
    let scan = duty(&cal, SCAN);
    assert_eq!(scan["state"], "overdue");
    assert_eq!(scan["overdue"], true);
    assert!(scan["days_overdue"].as_i64().unwrap() > 100, "{scan}");
    let first = &cal["duties"][0];
    assert_eq!(first["overdue"], true, "overdue first: {cal}");
    assert!(first["days_overdue"].as_i64() >= scan["days_overdue"].as_i64());

    // Scanned today: due again one quarter on.
    let (s, _, v) = call(
        &app,
        Method::POST,
        &uri,
        &key,
        Some(serde_json::json!({"evidence": "scan_report", "reference": "asv-q3.pdf"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let next = Calendar::builtin()
        .unwrap()
        .get(SCAN)
        .unwrap()
        .cadence
        .next_after(today)
        .unwrap();
    assert_eq!(v["duty"]["next_due"], next.to_string());
    assert_eq!(v["duty"]["last_completed"], today.to_string());
    assert_eq!(v["duty"]["overdue"], false);
    let (_, _, cal) = call(&app, Method::GET, "/v1/compliance", &key, None).await;
    assert_eq!(duty(&cal, SCAN)["next_due"], next.to_string());
}

#[tokio::test]
async fn unknown_duties_wrong_evidence_and_missing_grants_are_refused_and_change_nothing() {
    let (app, f) = setup();
    let key = f.admin_key.clone();
    let before = f.store.ledger_len().unwrap();

    let (s, ct, v) = call(
        &app,
        Method::POST,
        "/v1/compliance/no-such-duty/completions",
        &key,
        Some(serde_json::json!({"evidence": "document"})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(ct, "application/problem+json");

    let uri = format!("/v1/compliance/{SCAN}/completions");
    let (s, ct, v) = call(
        &app,
        Method::POST,
        &uri,
        &key,
        Some(serde_json::json!({"evidence": "document", "reference": "minutes"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(ct, "application/problem+json");
    assert_eq!(v["type"], "urn:bulwark:problem:wrong-evidence");
    assert!(v["detail"].as_str().unwrap().contains("scan_report"), "{v}");

    let tomorrow = time::OffsetDateTime::now_utc().date() + time::Duration::days(1);
    let (s, _, v) = call(
        &app,
        Method::POST,
        &uri,
        &key,
        Some(serde_json::json!({"evidence": "scan_report", "on": tomorrow.to_string()})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    assert_eq!(f.store.ledger_len().unwrap(), before, "nothing ledgered");

    // A reader may see the calendar but not record on it.
    let (s, _, v) = call(
        &app,
        Method::POST,
        "/v1/keys",
        &key,
        Some(serde_json::json!({"name": "auditor", "scopes": ["audit:read"]})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let reader = v["key"].as_str().unwrap().to_owned();
    let before = f.store.ledger_len().unwrap();
    let (s, _, _) = call(&app, Method::GET, "/v1/compliance", &reader, None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, v) = call(
        &app,
        Method::POST,
        &uri,
        &reader,
        Some(serde_json::json!({"evidence": "scan_report"})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");

    assert_eq!(f.store.ledger_len().unwrap(), before, "nothing ledgered");
    let (_, _, cal) = call(&app, Method::GET, "/v1/compliance", &key, None).await;
    assert_eq!(duty(&cal, SCAN)["last_completed"], serde_json::Value::Null);
}
