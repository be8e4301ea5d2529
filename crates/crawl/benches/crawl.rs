//! How long one crawl of a checkout page takes (issue 14: < 5 s), against
//! the floor of any browser crawl in the same run: a crawl of an empty page
//! (a browser launched, a page loaded, the browser closed).
//!
//!   cargo bench -p bulwark-crawl --bench crawl            # 10 crawls each
//!   CRAWL_RUNS=30 cargo bench -p bulwark-crawl --bench crawl
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use bulwark_crawl::{crawl, Browser, CrawlRequest};
use bulwark_testkit::Shop;

fn checkout(shop: &Shop) {
    let mut head = String::new();
    for i in 0..12 {
        let body = format!(
            "/* vendor library {i} */\n{}",
            "function f(a, b) { return a + b; }\n".repeat(2000)
        );
        shop.put_js(&format!("/js/lib{i}.js"), &body);
        head.push_str(&format!("<script src=\"/js/lib{i}.js\"></script>\n"));
    }
    shop.put_js(
        "/js/loader.js",
        "var s = document.createElement('script'); s.src = '/js/late.js'; document.head.appendChild(s);",
    );
    shop.put_js(
        "/js/late.js",
        "new Image().src = 'http://cdn.localhost:PORT/p.gif'; fetch('/api/cart');"
            .replace("PORT", &shop.port.to_string())
            .as_str(),
    );
    shop.put("/p.gif", "image/gif", &[], b"GIF89a");
    shop.put("/api/cart", "application/json", &[], b"{}");
    shop.put_html("/frame", &[], "<p>card fields</p>");
    let html = format!(
        "<!doctype html><html><head><title>Checkout</title>{head}<script src=\"/js/loader.js\"></script>\
         <script>window.ready = true;</script></head><body><form><input name=cc_number></form>\
         <iframe src=\"/frame\"></iframe></body></html>"
    );
    shop.put_html(
        "/checkout",
        &[
            (
                "Content-Security-Policy",
                "script-src 'self' 'unsafe-inline'",
            ),
            ("Strict-Transport-Security", "max-age=63072000"),
        ],
        &html,
    );
    shop.put_html("/empty", &[], "<!doctype html><title>x</title>");
}

fn measure(rt: &tokio::runtime::Runtime, url: &str, runs: usize) -> (Vec<Duration>, usize) {
    let browser = Browser::default();
    let mut times = Vec::with_capacity(runs);
    let mut scripts = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let c = rt
            .block_on(crawl(
                &browser,
                &CrawlRequest {
                    url: url.into(),
                    cookies: vec![],
                },
            ))
            .unwrap();
        times.push(t.elapsed());
        scripts = c.scripts.len();
    }
    times.sort();
    (times, scripts)
}

fn stats(t: &[Duration]) -> (f64, f64, f64) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(t[0]), ms(t[t.len() / 2]), ms(t[t.len() - 1]))
}

fn main() {
    let runs: usize = std::env::var("CRAWL_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let shop = Shop::start();
    checkout(&shop);
    // One untimed crawl: the first launch reads chromium from disk.
    let _ = measure(&rt, &shop.url("/empty"), 1);
    let (empty, _) = measure(&rt, &shop.url("/empty"), runs);
    let (full, scripts) = measure(&rt, &shop.url("/checkout"), runs);
    let (e0, e50, e100) = stats(&empty);
    let (f0, f50, f100) = stats(&full);
    println!("crawl of an empty page (baseline): min {e0:.0} ms, median {e50:.0} ms, max {e100:.0} ms ({runs} runs)");
    println!("crawl of the checkout ({scripts} scripts, 1 injected at run time, iframe, beacon): min {f0:.0} ms, median {f50:.0} ms, max {f100:.0} ms");
    println!(
        "checkout / baseline (median): {:.2}x; target: every crawl < 5000 ms: {}",
        f50 / e50,
        if f100 < 5000.0 { "met" } else { "NOT met" }
    );
}
