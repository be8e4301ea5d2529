//! Watched payment pages: validated, named, with a report token each, their
//! cookies sealed (never in the database in clear, never ledgered).

use bulwark_store::{NewWatchedPage, UnwatchPageError, WatchPageError};
use zeroize::Zeroizing;

use crate::common::*;

fn page(url: &str, name: Option<&str>, every: i64) -> NewWatchedPage {
    NewWatchedPage {
        url: url.into(),
        name: name.map(str::to_owned),
        every_secs: every,
        cookies: Vec::new(),
    }
}

fn fields(e: WatchPageError) -> Vec<String> {
    match e {
        WatchPageError::Invalid(v) => v.0.iter().map(|f| f.field.clone()).collect(),
        other => panic!("not a validation error: {other}"),
    }
}

#[test]
fn a_watched_page_is_validated_and_its_cookies_are_sealed() {
    let f = fixture();
    let before = f.store.ledger_len().unwrap();
    // Refused, each naming its field, nothing written.
    for (new, field) in [
        (page("ftp://shop.example/checkout", None, 3600), "url"),
        (page("not a url", None, 3600), "url"),
        (
            page("https://admin:hunter2@shop.example/checkout", None, 3600),
            "url",
        ),
        (
            page("https://shop.example/checkout", Some("Check Out"), 3600),
            "name",
        ),
        (page("https://shop.example/checkout", None, 60), "every"),
    ] {
        let e = f.store.watch_page(new, "owner:test").unwrap_err();
        let text = e.to_string();
        assert!(!text.contains("hunter2"), "{text}");
        assert_eq!(fields(e), [field]);
    }
    let mut bad_cookie = page("https://shop.example/checkout", None, 3600);
    bad_cookie.cookies = vec![("session".into(), Zeroizing::new("s3cr3t;evil".into()))];
    let e = f.store.watch_page(bad_cookie, "owner:test").unwrap_err();
    assert!(e.to_string().contains("`session`"), "{e}");
    assert!(!e.to_string().contains("s3cr3t"), "{e}");
    assert_eq!(f.store.ledger_len().unwrap(), before);

    // Named from the URL; the cookie is sealed.
    let mut checkout = page("https://shop.example/checkout/", None, 3600);
    checkout.cookies = vec![("session".into(), Zeroizing::new("c4rt-s3ss10n".into()))];
    let p = f.store.watch_page(checkout, "owner:test").unwrap();
    assert_eq!(p.name, "checkout");
    assert_eq!(p.cookie_names, ["session"]);
    assert_eq!(p.report_token.len(), 48);
    let iframe = f
        .store
        .watch_page(page("https://pay.shop.example/", None, 86400), "owner:test")
        .unwrap();
    assert_eq!(iframe.name, "pay-shop-example");
    assert_ne!(iframe.report_token, p.report_token);
    let again = f
        .store
        .watch_page(
            page("https://shop.example/other", Some("checkout"), 3600),
            "owner:test",
        )
        .unwrap_err();
    assert!(matches!(again, WatchPageError::NameTaken(_)), "{again}");

    let listed = f.store.watched_pages().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0], p);
    assert_eq!(
        f.store
            .watched_page_by_token(&p.report_token)
            .unwrap()
            .unwrap()
            .name,
        "checkout"
    );
    assert!(f.store.watched_page_by_token("nope").unwrap().is_none());
    let cookies = f.store.watched_page_cookies("checkout").unwrap();
    assert_eq!(cookies.len(), 1);
    assert_eq!(cookies[0].1.as_str(), "c4rt-s3ss10n");
    assert!(f
        .store
        .watched_page_cookies("pay-shop-example")
        .unwrap()
        .is_empty());

    // Not in the database files in clear, not in the ledger at all.
    for file in ["bulwark.db", "bulwark.db-wal", "keys.db", "keys.db-wal"] {
        let raw = std::fs::read(f.dir.join(file)).unwrap_or_default();
        assert!(!raw.windows(12).any(|w| w == b"c4rt-s3ss10n"), "{file}");
    }
    let db = sqlite(&f.dir, "bulwark.db");
    let details: Vec<String> = db
        .prepare("SELECT details FROM ledger WHERE action LIKE 'pagewatch.%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(details.len(), 2);
    assert!(details.iter().all(|d| !d.contains("c4rt")), "{details:?}");

    f.store.unwatch_page("checkout", "owner:test").unwrap();
    assert!(matches!(
        f.store.unwatch_page("checkout", "owner:test"),
        Err(UnwatchPageError::NotFound(_))
    ));
    assert_eq!(f.store.watched_pages().unwrap().len(), 1);
    f.store.verify_ledger(None, |_| {}).unwrap();
}
