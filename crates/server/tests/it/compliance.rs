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

/// POSTs `body` raw (a document upload); the JSON answer and raw bytes.
async fn send(
    app: &axum::Router,
    method: Method,
    uri: &str,
    key: &str,
    body: &[u8],
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/octet-stream")
        .body(Body::from(body.to_vec()))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, headers, bytes.to_vec())
}

fn json(b: &[u8]) -> serde_json::Value {
    serde_json::from_slice(b).unwrap_or_default()
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

    // A scan report is evidence only as the report itself.
    let uri = format!("/v1/compliance/{SCAN}/completions");
    let (s, _, v) = call(
        &app,
        Method::POST,
        &uri,
        &key,
        Some(serde_json::json!({"evidence": "scan_report", "reference": "asv-q1.pdf"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["type"], "urn:bulwark:problem:document-required", "{v}");

    // Last scanned 200 days ago: a quarterly scan is overdue, and listed first.
    let long_ago = today - time::Duration::days(200);
    let q1 = b"%PDF-1.7 ASV scan, Q1: 0 failing findings".to_vec();
    let (s, _, v) = send(
        &app,
        Method::POST,
        &format!(
            "/v1/compliance/{SCAN}/reports?name=asv%20q1.pdf&reference=Acme%20ASV&on={long_ago}"
        ),
        &key,
        &q1,
    )
    .await;
    let v = json(&v);
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
    let q3 = b"%PDF-1.7 ASV scan, Q3: passing".to_vec();
    let (s, _, v) = send(
        &app,
        Method::POST,
        &format!("/v1/compliance/{SCAN}/reports?name=asv-q3.pdf"),
        &key,
        &q3,
    )
    .await;
    let v = json(&v);
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let q3_completion = v["id"].as_u64().unwrap();
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

    // The history lists both, newest first, each with its report's hash.
    let (s, _, h) = call(
        &app,
        Method::GET,
        &format!("/v1/compliance/completions?duty={SCAN}"),
        &key,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{h}");
    let items = h["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{h}");
    assert_eq!(items[0]["id"], q3_completion);
    let sha = |b: &[u8]| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(b))
    };
    assert_eq!(items[0]["document"]["sha256"], sha(&q3));
    assert_eq!(items[1]["document"]["sha256"], sha(&q1));
    assert_eq!(items[1]["document"]["name"], "asv_q1.pdf");
    assert_eq!(items[1]["reference"], "Acme ASV");
    assert_eq!(items[1]["on"], long_ago.to_string());
    // The report is in the locker, stored by its hash, and comes back intact;
    // the read is in the ledger.
    let locker = f.dir.join("evidence").join(sha(&q3));
    assert_eq!(std::fs::read(&locker).unwrap(), q3);
    let before = f.store.ledger_len().unwrap();
    let (s, headers, body) = send(
        &app,
        Method::GET,
        &format!("/v1/compliance/completions/{q3_completion}/document"),
        &key,
        b"",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body, q3);
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("asv-q3.pdf"));
    assert_eq!(f.store.ledger_len().unwrap(), before + 1);
    // A tampered locker file is refused, not served.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locker, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    std::fs::write(&locker, b"%PDF-1.7 ASV scan, Q3: 12 failing findings").unwrap();
    let (s, _, body) = send(
        &app,
        Method::GET,
        &format!("/v1/compliance/completions/{q3_completion}/document"),
        &key,
        b"",
    )
    .await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        json(&body)["type"],
        "urn:bulwark:problem:integrity",
        "{}",
        json(&body)
    );
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
    // An empty upload, an evidence kind no file is, and a document for a
    // duty that takes a drill are refused too.
    for (uri, body) in [
        (
            format!("/v1/compliance/{SCAN}/reports?name=r.pdf"),
            &b""[..],
        ),
        (
            format!("/v1/compliance/{SCAN}/reports?name=r.pdf&evidence=drill_run"),
            &b"x"[..],
        ),
        (
            "/v1/compliance/pci-12.10.2-plan-test/reports?name=r.pdf".to_owned(),
            &b"x"[..],
        ),
    ] {
        let (s, _, v) = send(&app, Method::POST, &uri, &key, body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}: {}", json(&v));
    }
    assert!(
        !f.dir
            .join("evidence")
            .join("2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881")
            .exists(),
        "a refused document is not kept"
    );

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
