//! `bulwark pagewatch add|list|remove`: cookies from a file, sealed, never
//! printed.

use crate::common::*;

#[test]
fn pages_are_added_with_cookies_from_a_file_listed_and_removed() {
    let (t, dir) = tempdir();
    init(&dir);
    let d = dir.to_str().unwrap();
    let cookies = t.path().join("cookies.txt");
    std::fs::write(
        &cookies,
        "# the cart session\nsession = sess-9f8e7d6c\n\ncurrency=EUR\n",
    )
    .unwrap();
    let o = run(&[
        "pagewatch",
        "add",
        "--data-dir",
        d,
        "https://shop.example/checkout",
        "--every",
        "2w",
        "--cookies",
        cookies.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("watching `checkout`"), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("with cookies session, currency"),
        "{}",
        stdout(&o)
    );
    assert!(stderr(&o).contains("11.6.1"), "weekly: {}", stderr(&o));
    assert!(
        stdout(&o).contains("bulwark pagewatch run checkout"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("/v1/csp-reports/"), "{}", stdout(&o));
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(!all.contains("sess-9f8e7d6c"), "{all}");

    // A malformed cookie file names the line, not its content.
    std::fs::write(&cookies, "session sess-9f8e7d6c\n").unwrap();
    let o = run(&[
        "pagewatch",
        "add",
        "--data-dir",
        d,
        "https://shop.example/pay",
        "--cookies",
        cookies.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("line 1: expected name=value"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("sess-9f8e7d6c"), "{}", stderr(&o));
    let o = run(&[
        "pagewatch",
        "add",
        "--data-dir",
        d,
        "https://shop.example/pay",
        "--every",
        "1s",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--every"), "{}", stderr(&o));

    let o = run(&["pagewatch", "list", "--data-dir", d, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let pages: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0]["every_secs"], 14 * 24 * 3600);
    assert!(!stdout(&o).contains("sess-9f8e7d6c"));

    let o = run(&["pagewatch", "remove", "--data-dir", d, "checkout"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["pagewatch", "remove", "--data-dir", d, "checkout"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("no watched page is named `checkout`"),
        "{}",
        stderr(&o)
    );
    let o = run(&["pagewatch", "list", "--data-dir", d]);
    assert!(stdout(&o).contains("no watched pages"), "{}", stdout(&o));
}

#[test]
fn pagewatch_run_crawls_the_page_inventories_it_and_approve_clears_what_is_unauthorised() {
    let (_t, dir) = tempdir();
    init(&dir);
    let d = dir.to_str().unwrap();
    let shop = bulwark_testkit::Shop::start();
    shop.put_html(
        "/checkout",
        &[],
        "<script src=\"/app.js\"></script><form><input name=cc_number></form>",
    );
    shop.put_js("/app.js", "window.cart = 1;");
    let url = shop.url("/checkout");
    let o = run(&[
        "pagewatch",
        "add",
        "--data-dir",
        d,
        &url,
        "--name",
        "checkout",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["pagewatch", "run", "--data-dir", d, "checkout"]);
    // Exit 3: the page runs a script nobody authorised yet.
    assert_eq!(o.status.code(), Some(3), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("(baseline)"), "{}", stdout(&o));
    let o = run(&["pagewatch", "scripts", "--data-dir", d, "checkout"]);
    let app = shop.url("/app.js");
    assert!(
        stdout(&o).contains(&app) && stdout(&o).contains("new"),
        "{}",
        stdout(&o)
    );
    let o = run(&[
        "pagewatch",
        "approve",
        "--data-dir",
        d,
        "checkout",
        &app,
        "--owner",
        "web team",
        "--justification",
        "the cart",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["pagewatch", "run", "--data-dir", d, "checkout"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let o = run(&[
        "pagewatch",
        "csp",
        "--data-dir",
        d,
        "checkout",
        "--bulwark-url",
        "https://bulwark.shop.example/",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let header = stdout(&o);
    assert!(
        header.starts_with(
            "Content-Security-Policy-Report-Only: default-src 'self'; script-src 'self' "
        ),
        "{header}"
    );
    assert!(
        header.contains(&format!("http://127.0.0.1:{}", shop.port)),
        "{header}"
    );
    assert!(
        header.contains("report-uri https://bulwark.shop.example/v1/csp-reports/"),
        "{header}"
    );
    let o = run(&["pagewatch", "csp", "--data-dir", d, "checkout", "--enforce"]);
    assert!(
        stdout(&o).starts_with("Content-Security-Policy: "),
        "{}",
        stdout(&o)
    );
    assert!(stderr(&o).contains("no `integrity`"), "{}", stderr(&o));
    // The plan covers the page's alerts (12.10.5).
    let o = run(&["plan", "render", "--data-dir", d]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!("| checkout ({url}) | 1h |")),
        "{}",
        stdout(&o)
    );
    let o = run(&["pagewatch", "approvals", "--data-dir", d, "checkout"]);
    assert!(stdout(&o).contains("the cart"), "{}", stdout(&o));
    let o = run(&[
        "pagewatch",
        "revoke",
        "--data-dir",
        d,
        "checkout",
        "1",
        "--reason",
        "vendor left",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["pagewatch", "run", "--data-dir", d, "checkout"]);
    assert_eq!(o.status.code(), Some(3), "revoked: unauthorised again");
}
