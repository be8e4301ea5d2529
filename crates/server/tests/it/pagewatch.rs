//! `/v1/pagewatch/pages`: watched payment pages over the API — added with
//! sealed cookies, listed, removed; bad input refused as problems that
//! change nothing; administrators only.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use bulwark_server::{router, AppState};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

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
) -> (StatusCode, serde_json::Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {key}"))
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

#[tokio::test]
async fn pages_are_added_listed_and_removed_by_an_administrator() {
    let (app, f) = setup();
    let key = f.admin_key.clone();
    let before = f.store.ledger_len().unwrap();
    for (body, status) in [
        (
            json!({"url": "javascript:alert(1)"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"url": "https://shop.example/checkout", "every": "30s"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"url": "https://shop.example/checkout", "every": "1m"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"url": "https://shop.example/checkout", "extra": 1}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (s, v) = call(
            &app,
            Method::POST,
            "/v1/pagewatch/pages",
            &key,
            Some(body.clone()),
        )
        .await;
        assert_eq!(s, status, "{body}: {v}");
    }
    assert_eq!(f.store.ledger_len().unwrap(), before, "nothing ledgered");

    let (s, v) = call(
        &app,
        Method::POST,
        "/v1/pagewatch/pages",
        &key,
        Some(
            json!({"url": "https://shop.example/checkout", "every": "6h",
                    "cookies": [{"name": "cart", "value": "abc123def"}]}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["name"], "checkout");
    assert_eq!(v["every_secs"], 6 * 3600);
    assert_eq!(v["cookie_names"], json!(["cart"]));
    assert!(!v.to_string().contains("abc123def"), "{v}");
    let (s, v) = call(
        &app,
        Method::POST,
        "/v1/pagewatch/pages",
        &key,
        Some(json!({"url": "https://shop.example/checkout"})),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");

    let (s, v) = call(&app, Method::GET, "/v1/pagewatch/pages", &key, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert!(!v.to_string().contains("abc123def"), "{v}");

    // A reader is refused: the list carries report tokens.
    let (_, k) = call(
        &app,
        Method::POST,
        "/v1/keys",
        &key,
        Some(json!({"name": "auditor", "scopes": ["audit:read"]})),
    )
    .await;
    let reader = k["key"].as_str().unwrap().to_owned();
    let (s, _) = call(&app, Method::GET, "/v1/pagewatch/pages", &reader, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let (s, _) = call(
        &app,
        Method::DELETE,
        "/v1/pagewatch/pages/checkout",
        &key,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = call(
        &app,
        Method::DELETE,
        "/v1/pagewatch/pages/checkout",
        &key,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
}

async fn report(
    app: &axum::Router,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, serde_json::Value) {
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/v1/csp-reports/{token}"))
        .header("content-type", content_type)
        // As a browser posts it from the store's page: another site.
        .header("origin", "https://shop.example")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(body))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

#[tokio::test]
async fn csp_reports_in_both_formats_raise_alerts_and_bad_ones_change_nothing() {
    let (app, f, token) = std::thread::spawn(|| {
        let f = bulwark_testkit::StoreFixture::new();
        let page = f
            .store
            .watch_page(
                bulwark_store::NewWatchedPage {
                    url: "https://shop.example/checkout".into(),
                    name: None,
                    every_secs: 3600,
                    cookies: Vec::new(),
                },
                "owner:test",
            )
            .unwrap();
        let state =
            AppState::with_detection(f.store.clone(), bulwark_store::RulePacks::default()).unwrap();
        (router(state), f, page.report_token)
    })
    .join()
    .unwrap();
    let alerts = |f: &bulwark_testkit::StoreFixture| {
        f.store
            .alerts(&bulwark_store::AlertFilter::default())
            .unwrap()
            .len()
    };
    let hostile = "<img src=x onerror=alert(1)>";
    let legacy = json!({"csp-report": {
        "document-uri": "https://shop.example/checkout?session=abc",
        "effective-directive": "script-src-elem",
        "violated-directive": "script-src-elem",
        "blocked-uri": "https://cdn.evil.example/skim.js",
        "original-policy": "script-src 'self'",
        "disposition": "enforce",
        "script-sample": hostile,
    }});
    let (s, v) = report(
        &app,
        &token,
        "application/csp-report",
        legacy.to_string().into_bytes(),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["violations"], 1);
    assert_eq!(v["new_alerts"], 1, "{v}");
    let modern = json!([{"type": "csp-violation", "age": 3, "url": "https://shop.example/checkout",
        "user_agent": "Mozilla/5.0", "body": {
            "documentURL": "https://shop.example/checkout", "blockedURL": "wss://collect.evil2.example/c",
            "effectiveDirective": "connect-src", "originalPolicy": "connect-src 'self'",
            "disposition": "report", "sample": ""}},
        {"type": "deprecation", "body": {}}]);
    let (s, v) = report(
        &app,
        &token,
        "application/reports+json",
        modern.to_string().into_bytes(),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["violations"], 1);
    assert_eq!(v["ignored"], 1);
    assert_eq!(v["detections"], 1, "{v}");
    let n = alerts(&f);
    assert!(n >= 1);

    // The sample is kept as text, never as markup, and only as the alert's
    // event says it.
    let listed = serde_json::to_string(
        &f.store
            .alerts(&bulwark_store::AlertFilter::default())
            .unwrap(),
    )
    .unwrap();
    assert!(
        !listed.contains("session=abc"),
        "the query is dropped: {listed}"
    );

    // Refused with a status that says why; nothing recorded.
    let before = f.store.ledger_len().unwrap();
    for (ct, body, status) in [
        (
            "application/csp-report",
            b"{not json".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "application/csp-report",
            b"{\"hello\": 1}".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "text/plain",
            legacy.to_string().into_bytes(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "application/csp-report",
            vec![b' '; 70 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "application/csp-report",
            "[".repeat(5000).into_bytes(),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (s, v) = report(&app, &token, ct, body).await;
        assert_eq!(s, status, "{ct}: {v}");
        assert!(!v.to_string().contains("hello"), "{v}");
    }
    let (s, _) = report(
        &app,
        &"0".repeat(48),
        "application/csp-report",
        legacy.to_string().into_bytes(),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = report(&app, "../../v1/keys", "application/csp-report", Vec::new()).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(alerts(&f), n, "nothing new");
    assert_eq!(f.store.ledger_len().unwrap(), before);
}
