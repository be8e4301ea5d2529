//! The GoPhish webhook: signed events are recorded as outcomes only; a bad or
//! missing signature is refused and changes nothing.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use bulwark_server::{router, AppState};
use hmac::{Hmac, Mac};
use http_body_util::BodyExt;
use sha2::Sha256;
use tower::ServiceExt;

const SECRET: &[u8] = b"gophish-test-secret";

fn setup() -> (axum::Router, bulwark_testkit::StoreFixture) {
    std::thread::spawn(|| {
        let f = bulwark_testkit::StoreFixture::new();
        let app = router(
            AppState::new(f.store.clone())
                .unwrap()
                .with_gophish_secret(SECRET),
        );
        (app, f)
    })
    .join()
    .unwrap()
}

fn sign(key: &[u8], body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn post(
    app: &axum::Router,
    body: &str,
    sig: Option<&str>,
) -> (StatusCode, serde_json::Value) {
    let mut req = Request::post("/v1/webhooks/gophish").header("content-type", "application/json");
    if let Some(s) = sig {
        req = req.header("X-Gophish-Signature", s);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or_default())
}

const EVENT: &str = r#"{"campaign_id":4,"email":"ana@shop.example","time":"2026-12-02T17:33:55Z","message":"Submitted Data","details":"{\"payload\":{\"password\":[\"hunter2\"]}}"}"#;

fn ledger_len(f: &bulwark_testkit::StoreFixture) -> u64 {
    f.store.ledger_len().unwrap()
}

#[tokio::test]
async fn a_gophish_webhook_with_a_bad_signature_is_refused_and_changes_nothing() {
    let (app, f) = setup();
    let before = ledger_len(&f);
    for sig in [
        Some(sign(b"another-secret", EVENT)),
        Some(sign(SECRET, "{}")),
        Some("sha256=zz".to_owned()),
        Some(sign(SECRET, EVENT).replace("sha256=", "sha1=")),
        None,
    ] {
        let (status, body) = post(&app, EVENT, sig.as_deref()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{sig:?}");
        assert!(!body.to_string().contains("ana@"), "{body}");
    }
    assert!(f.store.phishing_results().unwrap().is_empty());
    assert_eq!(ledger_len(&f), before);
}

#[tokio::test]
async fn a_signed_gophish_event_is_recorded_as_an_outcome_only() {
    let (app, f) = setup();
    let (status, body) = post(&app, EVENT, Some(&sign(SECRET, EVENT))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["recorded"], true);
    assert_eq!(body["event"], "submitted_data");
    let rows = f.store.phishing_results().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].campaign, "4");
    assert_eq!(rows[0].event, "submitted_data");
    assert_eq!(
        rows[0].person_hash,
        bulwark_store::person_hash("ana@shop.example")
    );
    // Neither the address nor what was typed into the page is kept anywhere.
    let dump = format!("{rows:?}");
    assert!(!dump.contains("ana@") && !dump.contains("hunter2"));

    // A campaign event that names no recipient is accepted and not recorded.
    let created = r#"{"campaign_id":4,"email":"","message":"Campaign Created"}"#;
    let (status, body) = post(&app, created, Some(&sign(SECRET, created))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["recorded"], false);
    assert_eq!(f.store.phishing_results().unwrap().len(), 1);
}
