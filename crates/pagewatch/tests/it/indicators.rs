//! Skimmer indicators over script bodies.

use bulwark_pagewatch::event::{Page, SERVICE_SCRIPT_MONITOR};
use bulwark_pagewatch::indicators::{
    IndicatorError, IndicatorSet, BUILTIN, MAX_EXCERPT_CHARS, MAX_SCAN_BYTES,
};
use bulwark_pagewatch::inventory::{Digests, ScriptKey};
use time::macros::datetime;

use crate::rules;

const SKIMMER: &[u8] = include_bytes!("fixtures/skimmer_like.js");
const BENIGN: &[u8] = include_bytes!("fixtures/benign_widget.js");

#[test]
fn a_skimmer_like_script_scores_high_with_its_indicators() {
    let set = IndicatorSet::builtin().unwrap();
    let r = set.scan(SKIMMER);
    assert!(r.is_high(), "{r:#?}");
    assert_eq!(r.score, 100);
    let ids = r.ids();
    for want in [
        "card-field-exfiltration",
        "eval-of-decoded-text",
        "dynamic-code",
        "base64-decoding",
        "char-code-obfuscation",
        "luhn-check",
        "devtools-detection",
        "image-beacon-exfiltration",
        "websocket-exfiltration",
        "lookalike-host",
    ] {
        assert!(ids.contains(&want), "missing {want} in {ids:?}");
    }
    for m in &r.matches {
        assert!(!m.reason.is_empty());
        assert!(m
            .excerpts
            .iter()
            .all(|e| e.chars().count() <= MAX_EXCERPT_CHARS));
    }
    // The scan's event raises the pack's skimmer rule.
    let page = Page {
        url: "https://shop.example/checkout".into(),
        page_type: "checkout".into(),
    };
    let e = r.to_event(
        &page,
        &ScriptKey("https://cdn.jquery-cdn.example/jq.min.js".into()),
        &Digests::of(SKIMMER),
        datetime!(2026-12-04 10:00 UTC),
    );
    assert_eq!(e["bulwark.script.score"], 100);
    let excerpt = e["bulwark.script.excerpt"].as_str().unwrap();
    assert!(excerpt.contains("eval(atob("), "{excerpt}");
    assert!(excerpt.len() < SKIMMER.len());
    let mut engine = rules::engine();
    let t = rules::titles(&mut engine, SERVICE_SCRIPT_MONITOR, e);
    assert_eq!(t, vec![rules::SKIMMER.to_string()]);
}

#[test]
fn a_benign_helper_and_pixel_score_low() {
    let set = IndicatorSet::builtin().unwrap();
    let r = set.scan(BENIGN);
    assert!(!r.is_high(), "{r:#?}");
    assert!(r.score <= 10, "{r:#?}");
    assert!(!r.ids().contains(&"card-field-exfiltration"));
    assert!(!r.ids().contains(&"lookalike-host"));
    let page = Page {
        url: "https://shop.example/checkout".into(),
        page_type: "checkout".into(),
    };
    let e = r.to_event(
        &page,
        &ScriptKey("https://shop.example/static/widget.js".into()),
        &Digests::of(BENIGN),
        datetime!(2026-12-04 10:00 UTC),
    );
    let mut engine = rules::engine();
    assert!(rules::titles(&mut engine, SERVICE_SCRIPT_MONITOR, e).is_empty());
}

#[test]
fn official_hosts_are_not_lookalikes() {
    let set = IndicatorSet::builtin().unwrap();
    for body in [
        &b"s.src='https://www.google-analytics.com/analytics.js'"[..],
        b"s.src='https://code.jquery.com/jquery-3.7.1.min.js'",
        b"s.src='https://www.googletagmanager.com/gtag/js?id=G-1'",
        b"s.src='https://js.stripe.com/v3'",
    ] {
        let r = set.scan(body);
        assert!(
            !r.ids().contains(&"lookalike-host"),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    for body in [
        &b"'https://g00gle-analytics.com/c.js'"[..],
        b"'https://jquery-cdn.com/j.js'",
        b"'https://google-analytics.top/c'",
        b"'https://cdn.paypa1.com/x'",
    ] {
        let r = set.scan(body);
        assert!(
            r.ids().contains(&"lookalike-host"),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn work_is_bounded_on_huge_and_binary_bodies() {
    let set = IndicatorSet::builtin().unwrap();
    // Past the cap nothing is looked at.
    let mut body = vec![b' '; MAX_SCAN_BYTES];
    body.extend_from_slice(b"eval(atob('x'))");
    let r = set.scan(&body);
    assert!(r.truncated);
    assert_eq!(r.scanned, MAX_SCAN_BYTES);
    assert_eq!(r.score, 0);
    // Invalid UTF-8 and control characters: excerpts are clean text.
    let r = set.scan(b"\xff\xfeeval(\x1batob(\x00'x'))");
    assert!(r
        .matches
        .iter()
        .all(|m| m.excerpts.iter().all(|e| !e.chars().any(char::is_control))));
    // A pathological-looking input stays fast (linear-time engine).
    let start = std::time::Instant::now();
    let evil = "(".repeat(MAX_SCAN_BYTES / 2) + &"a".repeat(MAX_SCAN_BYTES / 2);
    set.scan(evil.as_bytes());
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn the_file_format_is_checked() {
    assert!(BUILTIN.contains("[[indicator]]"));
    let set = IndicatorSet::from_toml(
        "[[indicator]]\nid = \"my-host\"\ndescription = \"our old CDN\"\nweight = 60\nany = ['old-cdn\\.example']\n",
    )
    .unwrap();
    assert_eq!(set.indicators().len(), 1);
    assert!(set.scan(b"load('https://old-cdn.example/a.js')").is_high());
    let one = |body: &str| IndicatorSet::from_toml(body).unwrap_err();
    assert!(matches!(one("[[indicator]\n"), IndicatorError::Toml(_)));
    assert!(matches!(
        one("[[indicator]]\nid = \"Bad Id\"\ndescription = \"d\"\nweight = 1\nany = ['a']\n"),
        IndicatorError::BadId { index: 0, .. }
    ));
    assert!(matches!(
        one("[[indicator]]\nid = \"a\"\ndescription = \"d\"\nweight = 0\nany = ['a']\n"),
        IndicatorError::BadWeight { .. }
    ));
    assert!(matches!(
        one("[[indicator]]\nid = \"a\"\ndescription = \"d\"\nweight = 5\n"),
        IndicatorError::PatternCount { .. }
    ));
    assert!(matches!(
        one("[[indicator]]\nid = \"a\"\ndescription = \"d\"\nweight = 5\nall = ['(unclosed']\n"),
        IndicatorError::BadPattern {
            index: 0,
            list: "all",
            ..
        }
    ));
    assert!(matches!(
        one("[[indicator]]\nid = \"a\"\ndescription = \"d\"\nweight = 5\nany = ['(a)\\1']\n"),
        IndicatorError::BadPattern { .. }
    ));
    assert!(matches!(
        one(
            "[[indicator]]\nid = \"a\"\ndescription = \"d\"\nweight = 5\nany = ['a{1000}{1000}']\n"
        ),
        IndicatorError::BadPattern { .. }
    ));
    let dup = "[[indicator]]\nid = \"a\"\ndescription = \"d\"\nweight = 5\nany = ['a']\n";
    assert!(matches!(
        one(&format!("{dup}{dup}")),
        IndicatorError::DuplicateId { .. }
    ));
    assert!(matches!(
        one("[[indicator]]\nid = \"a\"\ndescription = \"d\"\nweight = 5\nany = ['a']\nextra = 1\n"),
        IndicatorError::Toml(_)
    ));
}
