//! CSP violation reports: both formats, and hostile bodies.

use bulwark_pagewatch::csp::{
    parse, Blocked, CspError, Disposition, Keyword, ReportFormat, MAX_BODY_BYTES, MAX_DEPTH,
    MAX_REPORTS, MAX_SAMPLE_CHARS,
};
use bulwark_pagewatch::event::{Page, SERVICE_CSP_REPORT};
use serde_json::json;
use time::macros::datetime;

use crate::rules;

fn legacy() -> serde_json::Value {
    json!({"csp-report": {
        "document-uri": "https://shop.example/checkout?session=secret#x",
        "referrer": "https://shop.example/cart?id=9",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "original-policy": "script-src 'self' https://js.stripe.com; report-uri /csp",
        "disposition": "enforce",
        "blocked-uri": "https://cdn.jquery-cdn.example/lib/jq.js?v=1",
        "line-number": 12,
        "column-number": 7,
        "source-file": "https://shop.example/static/app.js?build=3",
        "status-code": 200,
        "script-sample": ""
    }})
}

fn reporting() -> serde_json::Value {
    json!([
        {"type": "deprecation", "age": 1, "url": "https://shop.example/", "user_agent": "UA", "body": {}},
        {"type": "csp-violation", "age": 53, "url": "https://shop.example/checkout",
         "user_agent": "Mozilla/5.0 Test",
         "body": {
            "documentURL": "https://shop.example/checkout?session=secret#x",
            "referrer": "https://shop.example/cart?id=9",
            "blockedURL": "https://cdn.jquery-cdn.example/lib/jq.js?v=1",
            "effectiveDirective": "script-src-elem",
            "originalPolicy": "script-src 'self' https://js.stripe.com; report-uri /csp",
            "sourceFile": "https://shop.example/static/app.js?build=3",
            "sample": "",
            "disposition": "enforce",
            "statusCode": 200,
            "lineNumber": 12,
            "columnNumber": 7
        }}
    ])
}

fn bytes(v: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

#[test]
fn both_formats_give_the_same_violation() {
    let a = parse(&bytes(&legacy()), Some(ReportFormat::Legacy)).unwrap();
    let b = parse(&bytes(&reporting()), Some(ReportFormat::ReportingApi)).unwrap();
    assert_eq!(a.format, ReportFormat::Legacy);
    assert_eq!(b.format, ReportFormat::ReportingApi);
    assert_eq!((a.ignored, b.ignored), (0, 1));
    assert_eq!((a.violations.len(), b.violations.len()), (1, 1));
    let mut rb = b.violations[0].clone();
    assert_eq!(rb.age_ms, Some(53));
    assert_eq!(rb.user_agent.as_deref(), Some("Mozilla/5.0 Test"));
    rb.age_ms = None;
    rb.user_agent = None;
    let v = &a.violations[0];
    assert_eq!(v, &rb);
    // Queries, fragments and paths of the referrer are gone.
    assert_eq!(
        v.document_url.as_deref(),
        Some("https://shop.example/checkout")
    );
    assert_eq!(v.referrer_origin.as_deref(), Some("https://shop.example"));
    assert_eq!(
        v.source_file.as_deref(),
        Some("https://shop.example/static/app.js")
    );
    assert_eq!(
        v.blocked,
        Blocked::Host {
            origin: "https://cdn.jquery-cdn.example".into(),
            host: "cdn.jquery-cdn.example".into()
        }
    );
    assert_eq!(v.disposition, Disposition::Enforce);
    assert_eq!(
        (v.line, v.column, v.status_code),
        (Some(12), Some(7), Some(200))
    );
    assert_eq!(v.sample, None);
    // The shape decides when the media type does not.
    assert_eq!(parse(&bytes(&legacy()), None).unwrap(), a);
    assert_eq!(parse(&bytes(&reporting()), None).unwrap(), b);
}

#[test]
fn media_types() {
    let f = ReportFormat::from_content_type;
    assert_eq!(f("application/csp-report"), Ok(Some(ReportFormat::Legacy)));
    assert_eq!(
        f("Application/Reports+JSON; charset=utf-8"),
        Ok(Some(ReportFormat::ReportingApi))
    );
    assert_eq!(f("application/json"), Ok(None));
    assert_eq!(f("text/html"), Err(CspError::UnsupportedMediaType));
}

#[test]
fn keywords_stay_keywords() {
    for (raw, kw) in [
        ("inline", Keyword::Inline),
        ("eval", Keyword::Eval),
        ("wasm-eval", Keyword::WasmEval),
        ("data", Keyword::Data),
        ("data:text/javascript;base64,YWxlcnQoMSk=", Keyword::Data),
        ("blob", Keyword::Blob),
        ("blob:https://shop.example/1b2c", Keyword::Blob),
    ] {
        let mut r = legacy();
        r["csp-report"]["blocked-uri"] = json!(raw);
        let got = parse(&bytes(&r), None)
            .unwrap()
            .violations
            .remove(0)
            .blocked;
        assert_eq!(got, Blocked::Keyword { keyword: kw }, "{raw}");
    }
    let mut r = legacy();
    r["csp-report"]["blocked-uri"] = json!("not a url at all");
    let got = parse(&bytes(&r), None)
        .unwrap()
        .violations
        .remove(0)
        .blocked;
    assert_eq!(got, Blocked::Unreadable);
}

#[test]
fn old_browsers_full_violated_directive_is_read() {
    let mut r = legacy();
    let o = r["csp-report"].as_object_mut().unwrap();
    o.remove("effective-directive");
    o.insert(
        "violated-directive".into(),
        json!("Script-Src 'self' https://a.example"),
    );
    let v = parse(&bytes(&r), None).unwrap().violations.remove(0);
    assert_eq!(v.effective_directive, "script-src");
}

#[test]
fn oversized_bodies_are_refused_before_parsing() {
    // A 1 MB string: refused on size, whatever it holds.
    let mut r = legacy();
    r["csp-report"]["script-sample"] = json!("A".repeat(1 << 20));
    let body = bytes(&r);
    assert_eq!(
        parse(&body, None),
        Err(CspError::TooLarge {
            size: body.len(),
            limit: MAX_BODY_BYTES
        })
    );
    // Not even JSON, but too large: still TooLarge.
    assert!(matches!(
        parse(&vec![b'{'; MAX_BODY_BYTES + 1], None),
        Err(CspError::TooLarge { .. })
    ));
}

#[test]
fn malformed_and_wrong_shapes_name_the_problem() {
    assert_eq!(parse(b"", None), Err(CspError::Empty));
    assert_eq!(parse(b"  \n", None), Err(CspError::Empty));
    match parse(b"{\"csp-report\": {\n  \"blocked-uri\": ,}}", None) {
        Err(CspError::NotJson { line, column, kind }) => {
            assert_eq!((line, kind), (2, "syntax error"));
            assert!(column > 0);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse(b"[1, 2", None),
        Err(CspError::NotJson {
            kind: "unexpected end",
            ..
        })
    ));
    for body in [
        &b"42"[..],
        b"\"x\"",
        b"{}",
        b"{\"csp-report\": []}",
        b"null",
    ] {
        assert!(
            matches!(parse(body, None), Err(CspError::NotACspReport { .. })),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    // A legacy body sent as reports+json, and the reverse.
    assert!(matches!(
        parse(&bytes(&legacy()), Some(ReportFormat::ReportingApi)),
        Err(CspError::NotACspReport { .. })
    ));
    assert!(matches!(
        parse(&bytes(&reporting()), Some(ReportFormat::Legacy)),
        Err(CspError::NotACspReport { .. })
    ));
    // No directive: not a violation.
    let mut r = legacy();
    let o = r["csp-report"].as_object_mut().unwrap();
    o.remove("effective-directive");
    o.remove("violated-directive");
    assert!(matches!(
        parse(&bytes(&r), None),
        Err(CspError::NotACspReport { .. })
    ));
    // One bad report refuses the whole batch (nothing is half-kept).
    let body = json!([reporting()[1], {"type": "csp-violation"}]);
    assert_eq!(
        parse(&bytes(&body), None),
        Err(CspError::BadReport {
            index: 1,
            reason: "a csp-violation report has no body object"
        })
    );
    let body = json!([{"no": "type"}]);
    assert!(matches!(
        parse(&bytes(&body), None),
        Err(CspError::BadReport { index: 0, .. })
    ));
    // Errors never quote the body.
    let e = parse(b"{\"csp-report\": \"<script>secret</script>\"}", None).unwrap_err();
    assert!(!e.to_string().contains("secret"), "{e}");
}

#[test]
fn deep_nesting_and_many_reports_are_refused() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(
        parse(deep.as_bytes(), None),
        Err(CspError::TooDeep { limit: MAX_DEPTH })
    );
    // Brackets inside strings do not count.
    let mut r = legacy();
    r["csp-report"]["script-sample"] = json!("[[[[[[[[[[[[{{{{{{{{{{\\\"");
    assert!(parse(&bytes(&r), None).is_ok());
    let many: Vec<_> = (0..=MAX_REPORTS).map(|_| reporting()[1].clone()).collect();
    let body = bytes(&json!(many));
    assert!(body.len() < MAX_BODY_BYTES);
    assert_eq!(
        parse(&body, None),
        Err(CspError::TooManyReports {
            count: MAX_REPORTS + 1,
            limit: MAX_REPORTS
        })
    );
}

#[test]
fn hostile_strings_are_bounded_and_stay_plain_text() {
    let mut r = legacy();
    let sample = format!(
        "<script>alert('x')</script>\u{0}\u{1b}[31m\r\nforged log line\u{202e}{}",
        "B".repeat(20_000)
    );
    r["csp-report"]["script-sample"] = json!(sample);
    r["csp-report"]["original-policy"] = json!("p".repeat(10_000));
    r["csp-report"]["document-uri"] = json!(format!("https://shop.example/{}", "x".repeat(5_000)));
    r["csp-report"]["line-number"] = json!(u64::MAX);
    r["csp-report"]["status-code"] = json!("99999");
    let v = parse(&bytes(&r), None).unwrap().violations.remove(0);
    let s = v.sample.clone().unwrap();
    assert_eq!(s.chars().count(), MAX_SAMPLE_CHARS);
    assert!(
        s.starts_with("<script>alert('x')</script>[31mforged log line"),
        "{s}"
    );
    assert!(!s.chars().any(|c| c.is_control() || c == '\u{202e}'));
    assert!(v.original_policy.as_ref().unwrap().chars().count() <= 4096);
    assert!(v.document_url.as_ref().unwrap().chars().count() <= 2048);
    assert_eq!((v.line, v.status_code), (None, None));
    // The event carries the sample as a plain JSON string, as received (cut, cleaned).
    let page = Page {
        url: "https://shop.example/checkout".into(),
        page_type: "checkout".into(),
    };
    let e = v.to_event(&page, ReportFormat::Legacy, datetime!(2026-12-04 10:00 UTC));
    assert_eq!(e["bulwark.csp.sample"], json!(s));
}

#[test]
fn a_violation_blocking_a_host_on_the_checkout_raises_the_csp_rule() {
    let mut engine = rules::engine();
    let page = Page {
        url: "https://shop.example/checkout".into(),
        page_type: "checkout".into(),
    };
    let at = datetime!(2026-12-04 10:00 UTC);
    let parsed = parse(&bytes(&reporting()), None).unwrap();
    let e = parsed.violations[0].to_event(&page, parsed.format, at);
    assert_eq!(e["event.action"], "csp.violation");
    assert_eq!(e["bulwark.csp.blocked.host"], "cdn.jquery-cdn.example");
    assert_eq!(e["@timestamp"], "2026-12-04T10:00:00Z");
    let t = rules::titles(&mut engine, SERVICE_CSP_REPORT, e);
    assert_eq!(t, vec![rules::CSP_HOST.to_string()]);
    // An inline violation is no host: the rule stays quiet.
    let mut r = legacy();
    r["csp-report"]["blocked-uri"] = json!("inline");
    let v = parse(&bytes(&r), None).unwrap().violations.remove(0);
    let e = v.to_event(&page, ReportFormat::Legacy, at);
    assert!(rules::titles(&mut engine, SERVICE_CSP_REPORT, e).is_empty());
}
