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
