//! Detection semantics, one test per modifier and condition form: events that
//! must match and events that must not.

use bulwark_detect::{CompileOptions, Event, RuleSet, UnresolvedPlaceholders};
use serde_json::json;

/// Builds a one-rule engine from a `detection:` body (indented 4 spaces in YAML).
fn engine_with(detection: &str, opts: CompileOptions) -> bulwark_detect::Engine {
    let text = format!("title: test\nid: t1\nlogsource:\n  product: test\ndetection:\n{detection}");
    let (set, reports) = RuleSet::load(&[("t.yml".into(), text)], opts);
    assert!(reports.iter().all(|r| r.is_loaded()), "{reports:#?}");
    set.compile()
}

fn engine(detection: &str) -> bulwark_detect::Engine {
    engine_with(detection, CompileOptions::ecs())
}

fn rejects(detection: &str) -> String {
    let text = format!("title: test\nlogsource:\n  product: test\ndetection:\n{detection}");
    let (_, reports) = RuleSet::load(&[("t.yml".into(), text)], CompileOptions::ecs());
    match &reports[0].outcome {
        bulwark_detect::Outcome::Rejected(r) => r.clone(),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn hit(e: &mut bulwark_detect::Engine, v: serde_json::Value) -> bool {
    !e.process(&Event::from_json(v, None).unwrap()).is_empty()
}

#[test]
fn maps_are_and_lists_are_or() {
    let mut e = engine("  sel:\n    a: x\n    b:\n      - y\n      - z\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "x", "b": "z"})));
    assert!(!hit(&mut e, json!({"a": "x", "b": "w"})));
    assert!(!hit(&mut e, json!({"b": "y"})));
    let mut e = engine("  sel:\n    - a: x\n    - b: y\n  condition: sel\n");
    assert!(hit(&mut e, json!({"b": "y"})));
    assert!(!hit(&mut e, json!({"a": "y"})));
}

#[test]
fn case_insensitive_by_default_and_cased() {
    let mut e = engine("  sel:\n    a: HeLLo\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "hello"})));
    assert!(hit(&mut e, json!({"a": "HELLO"})));
    assert!(
        !hit(&mut e, json!({"a": "hello!"})),
        "plain values are exact"
    );
    let mut e = engine("  sel:\n    a|cased: HeLLo\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "HeLLo"})));
    assert!(!hit(&mut e, json!({"a": "hello"})));
    let mut e = engine("  sel:\n    a|contains|cased: Ab\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "xAbx"})));
    assert!(!hit(&mut e, json!({"a": "xabx"})));
    let mut e = engine("  sel:\n    a: 'ÉCOLE'\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "école"})));
}

#[test]
fn contains_startswith_endswith_all() {
    let mut e = engine("  sel:\n    a|contains: mid\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "xxMIDxx"})));
    assert!(!hit(&mut e, json!({"a": "mi d"})));
    let mut e = engine("  sel:\n    a|startswith: pre\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "prefix"})));
    assert!(!hit(&mut e, json!({"a": "apre"})));
    let mut e = engine("  sel:\n    a|endswith: '\\cmd.exe'\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "C:\\Windows\\cmd.exe"})));
    assert!(!hit(&mut e, json!({"a": "C:\\Windows\\xcmd.exe"})));
    let mut e = engine("  sel:\n    a|contains|all:\n      - one\n      - two\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "two and one"})));
    assert!(!hit(&mut e, json!({"a": "only one"})));
}

#[test]
fn wildcards_and_escaping() {
    let mut e = engine("  sel:\n    a: 'prog?.exe'\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "progA.exe"})));
    assert!(!hit(&mut e, json!({"a": "prog.exe"})));
    let mut e = engine("  sel:\n    a: 'anti*.exe'\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "antivirus_V21.2.1.exe"})));
    assert!(!hit(&mut e, json!({"a": "antivirus.dll"})));
    // Escaped wildcard: a literal star.
    let mut e = engine("  sel:\n    a: 'a\\*b'\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "a*b"})));
    assert!(!hit(&mut e, json!({"a": "axxb"})));
    // Escaped backslash before a wildcard: backslash then anything.
    let mut e = engine("  sel:\n    a: 'dir\\\\*'\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "dir\\file"})));
    assert!(!hit(&mut e, json!({"a": "dirfile"})));
    // Three backslashes: a literal backslash and a literal star.
    let mut e = engine("  sel:\n    a: 'x\\\\\\*'\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "x\\*"})));
    assert!(!hit(&mut e, json!({"a": "x\\y"})));
    // A plain backslash needs no escaping.
    let mut e = engine("  sel:\n    a: 'C:\\Windows'\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "c:\\windows"})));
}

#[test]
fn null_empty_absent_and_exists() {
    let mut e = engine("  sel:\n    a: x\n  filter:\n    b: null\n  condition: sel and filter\n");
    assert!(hit(&mut e, json!({"a": "x"})), "absent counts as null");
    assert!(hit(&mut e, json!({"a": "x", "b": null})));
    assert!(!hit(&mut e, json!({"a": "x", "b": ""})));
    let mut e = engine("  sel:\n    b: ''\n  condition: sel\n");
    assert!(hit(&mut e, json!({"b": ""})));
    assert!(!hit(&mut e, json!({})));
    assert!(!hit(&mut e, json!({"b": null})));
    let mut e = engine("  sel:\n    b|exists: true\n  condition: sel\n");
    assert!(hit(&mut e, json!({"b": null})), "exists ignores the value");
    assert!(hit(&mut e, json!({"b": ""})));
    assert!(!hit(&mut e, json!({"c": 1})));
    let mut e = engine("  sel:\n    b|exists: false\n  condition: sel\n");
    assert!(hit(&mut e, json!({"c": 1})));
    assert!(!hit(&mut e, json!({"b": 1})));
    assert!(
        rejects("  sel:\n    b:\n      - ''\n      - null\n  condition: sel\n").contains("null")
    );
}

#[test]
fn keywords() {
    let mut e = engine(
        "  keywords:\n    - 'EVILSERVICE'\n    - 'svchost.exe -n evil'\n  condition: keywords\n",
    );
    assert!(hit(&mut e, json!({"msg": "started evilservice now"})));
    assert!(hit(&mut e, json!({"deep": {"x": ["svchost.exe -n evil"]}})));
    assert!(!hit(&mut e, json!({"msg": "benign"})));
    let mut e = engine("  keywords:\n    '|all':\n      - 'OabVirtualDirectory'\n      - ' -ExternalUrl '\n  condition: keywords\n");
    assert!(hit(
        &mut e,
        json!({"m": "Set-OabVirtualDirectory -ExternalUrl x"})
    ));
    assert!(!hit(&mut e, json!({"m": "Set-OabVirtualDirectory"})));
}

#[test]
fn regex_and_sub_modifiers() {
    let mut e = engine("  sel:\n    a|re: '^ab+c$'\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "abbbc"})));
    assert!(
        !hit(&mut e, json!({"a": "ABC"})),
        "re is case-sensitive by default"
    );
    let mut e = engine("  sel:\n    a|re|i: '^ab+c$'\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "ABC"})));
    let mut e = engine("  sel:\n    a|re|m: '^second$'\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "first\nsecond"})));
    let mut e = engine("  sel:\n    a|re: '^second$'\n  condition: sel\n");
    assert!(!hit(&mut e, json!({"a": "first\nsecond"})));
    let mut e = engine("  sel:\n    a|re|s: 'a.b'\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "a\nb"})));
    let mut e = engine("  sel:\n    a|re: 'a.b'\n  condition: sel\n");
    assert!(!hit(&mut e, json!({"a": "a\nb"})));
    assert!(
        rejects("  sel:\n    a|re: '(unclosed'\n  condition: sel\n").contains("regular expression")
    );
    assert!(rejects("  sel:\n    a|i: 'x'\n  condition: sel\n").contains("need 're'"));
}

#[test]
fn base64_and_base64offset() {
    // base64("/bin/bash") = L2Jpbi9iYXNo
    let mut e = engine("  sel:\n    a|base64: '/bin/bash'\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "L2Jpbi9iYXNo"})));
    assert!(
        !hit(&mut e, json!({"a": "l2jpbi9iyxno"})),
        "base64 is case-significant"
    );
    let mut e = engine("  sel:\n    a|base64offset|contains: '/bin/bash'\n  condition: sel\n");
    // The value at offsets 0, 1 and 2 inside longer base64 text.
    for prefix in ["", "x", "xy"] {
        let enc = base64_encode(format!("{prefix}/bin/bash -c id").as_bytes());
        assert!(
            hit(&mut e, json!({ "a": format!("echo {enc} | base64 -d") })),
            "offset {}",
            prefix.len()
        );
    }
    assert!(!hit(&mut e, json!({"a": base64_encode(b"/bin/sh -c id")})));
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[test]
fn utf16_encodings_with_base64() {
    let mut e = engine("  sel:\n    a|wide|base64offset|contains: 'ping'\n  condition: sel\n");
    let encoded: Vec<u8> = "powershell ping x"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    assert!(hit(&mut e, json!({ "a": base64_encode(&encoded) })));
    assert!(!hit(
        &mut e,
        json!({ "a": base64_encode(b"powershell ping x") })
    ));
    let mut e = engine("  sel:\n    a|utf16be|base64: 'cmd'\n  condition: sel\n");
    assert!(hit(
        &mut e,
        json!({ "a": base64_encode(&[0, 0x63, 0, 0x6d, 0, 0x64]) })
    ));
    let mut e = engine("  sel:\n    a|utf16|base64: 'cmd'\n  condition: sel\n");
    assert!(hit(
        &mut e,
        json!({ "a": base64_encode(&[0xFF, 0xFE, 0x63, 0, 0x6d, 0, 0x64, 0]) })
    ));
}

#[test]
fn windash() {
    let mut e = engine("  sel:\n    a|windash|contains: ' -exec '\n  condition: sel\n");
    for dash in ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"] {
        assert!(
            hit(&mut e, json!({ "a": format!("x {dash}exec y") })),
            "{dash}"
        );
    }
    assert!(!hit(&mut e, json!({"a": "x +exec y"})));
    // Several dashes vary independently.
    let mut e = engine("  sel:\n    a|windash|contains: '-a -b'\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "/a \u{2014}b"})));
}

#[test]
fn cidr() {
    let mut e =
        engine("  sel:\n    ip|cidr:\n      - 10.0.0.0/8\n      - 'fe80::/10'\n  condition: sel\n");
    assert!(hit(&mut e, json!({"ip": "10.1.2.3"})));
    assert!(hit(&mut e, json!({"ip": "fe80::1"})));
    assert!(!hit(&mut e, json!({"ip": "11.0.0.1"})));
    assert!(!hit(&mut e, json!({"ip": "not an ip"})));
    let mut e = engine("  sel:\n    ip|cidr: 192.168.1.0/24\n  condition: not sel\n");
    assert!(hit(&mut e, json!({"ip": "192.168.2.1"})));
    assert!(!hit(&mut e, json!({"ip": "192.168.1.200"})));
    assert!(rejects("  sel:\n    ip|cidr: 10.0.0.0/40\n  condition: sel\n").contains("CIDR"));
}

#[test]
fn numeric_comparisons_and_neq() {
    let mut e = engine("  sel:\n    n|gt: 10\n    n|lte: 20\n  condition: sel\n");
    assert!(hit(&mut e, json!({"n": 11})));
    assert!(hit(&mut e, json!({"n": "20"})));
    assert!(!hit(&mut e, json!({"n": 10})));
    assert!(!hit(&mut e, json!({"n": 21})));
    assert!(!hit(&mut e, json!({"n": "abc"})));
    let mut e = engine("  sel:\n    n|lt: 0.5\n  condition: sel\n");
    assert!(hit(&mut e, json!({"n": 0.25})));
    let mut e = engine("  sel:\n    n|gte: 5\n  condition: sel\n");
    assert!(hit(&mut e, json!({"n": 5})));
    let mut e = engine("  sel:\n    s|neq:\n      - a\n      - b\n  condition: sel\n");
    assert!(hit(&mut e, json!({"s": "c"})));
    assert!(!hit(&mut e, json!({"s": "A"})));
    assert!(!hit(&mut e, json!({})), "neq needs a value to compare");
    let mut e = engine("  sel:\n    n: 4624\n  condition: sel\n");
    assert!(hit(&mut e, json!({"n": 4624})));
    assert!(hit(&mut e, json!({"n": "4624"})));
    let mut e = engine("  sel:\n    n: 0x17\n  condition: sel\n");
    assert!(
        hit(&mut e, json!({"n": "0x17"})),
        "hex-looking values stay text"
    );
}

#[test]
fn time_modifiers() {
    let mut e = engine("  sel:\n    '@timestamp|hour|gte': 22\n  condition: sel\n");
    assert!(hit(&mut e, json!({"@timestamp": "2024-05-01T23:10:00Z"})));
    assert!(!hit(&mut e, json!({"@timestamp": "2024-05-01T08:10:00Z"})));
    let mut e = engine("  sel:\n    t|month: 5\n    t|year: 2024\n  condition: sel\n");
    assert!(hit(&mut e, json!({"t": "2024-05-01T00:00:00Z"})));
    assert!(!hit(&mut e, json!({"t": "2023-05-01T00:00:00Z"})));
}

#[test]
fn fieldref() {
    let mut e = engine("  sel:\n    a|fieldref: b\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "Same", "b": "same"})));
    assert!(!hit(&mut e, json!({"a": "x", "b": "y"})));
    assert!(!hit(&mut e, json!({"a": "x"})));
    let mut e = engine("  sel:\n    a|fieldref|neq: b\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "x", "b": "y"})));
    assert!(!hit(&mut e, json!({"a": "x", "b": "x"})));
    let mut e = engine("  sel:\n    a|fieldref|startswith: b\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "prefix-rest", "b": "prefix"})));
}

#[test]
fn expand_placeholders() {
    let mut opts = CompileOptions::ecs();
    opts.placeholders
        .insert("Administrators".into(), vec!["root".into(), "adm_*".into()]);
    let mut e = engine_with(
        "  sel:\n    user|expand: '%Administrators%'\n  condition: sel\n",
        opts,
    );
    assert!(hit(&mut e, json!({"user": "root"})));
    assert!(hit(&mut e, json!({"user": "adm_bob"})));
    assert!(!hit(&mut e, json!({"user": "bob"})));
    // Without `expand` a placeholder is literal text.
    let mut e = engine("  sel:\n    user: '%Administrators%'\n  condition: sel\n");
    assert!(hit(&mut e, json!({"user": "%administrators%"})));
    // Unresolved: rejected by default, wildcard on request.
    assert!(rejects("  sel:\n    user|expand: '%Nope%'\n  condition: sel\n").contains("%Nope%"));
    let opts = CompileOptions {
        unresolved_placeholders: UnresolvedPlaceholders::Wildcard,
        ..CompileOptions::ecs()
    };
    let mut e = engine_with(
        "  sel:\n    user|expand: '%Nope%'\n  condition: sel\n",
        opts,
    );
    assert!(hit(&mut e, json!({"user": "anyone"})));
}

#[test]
fn condition_forms() {
    let det = "  selection_a:\n    a: 1\n  selection_b:\n    b: 1\n  filter_x:\n    x: 1\n  _hidden:\n    h: 1\n";
    let cases: &[(&str, serde_json::Value, bool)] = &[
        ("selection_a and not filter_x", json!({"a": 1}), true),
        (
            "selection_a and not filter_x",
            json!({"a": 1, "x": 1}),
            false,
        ),
        ("selection_a or selection_b", json!({"b": 1}), true),
        (
            "(selection_a or selection_b) and filter_x",
            json!({"b": 1}),
            false,
        ),
        ("1 of selection_*", json!({"b": 1}), true),
        ("all of selection_*", json!({"b": 1}), false),
        ("all of selection_*", json!({"a": 1, "b": 1}), true),
        ("all of them", json!({"a": 1, "b": 1, "x": 1}), true),
        ("all of them", json!({"a": 1, "b": 1}), false),
        ("1 of them", json!({"h": 1}), false),
        ("1 of them", json!({"x": 1}), true),
        ("2 of them", json!({"x": 1, "a": 1}), true),
        ("2 of them", json!({"x": 1}), false),
        (
            "1 of selection_* and not 1 of filter*",
            json!({"a": 1, "x": 1}),
            false,
        ),
        ("not selection_a", json!({}), true),
        ("_hidden", json!({"h": 1}), true),
    ];
    for (cond, ev, want) in cases {
        let mut e = engine(&format!("{det}  condition: {cond}\n"));
        assert_eq!(hit(&mut e, ev.clone()), *want, "{cond} on {ev}");
    }
    // A list of conditions is OR-ed.
    let mut e = engine(&format!(
        "{det}  condition:\n    - selection_a\n    - selection_b\n"
    ));
    assert!(hit(&mut e, json!({"b": 1})));
    assert!(rejects(&format!("{det}  condition: 1 of nomatch*\n"))
        .contains("matches no search identifier"));
    assert!(rejects(&format!("{det}  condition: missing\n")).contains("unknown search identifier"));
}

#[test]
fn arrays_match_any_element() {
    let mut e = engine("  sel:\n    tags: admin\n  condition: sel\n");
    assert!(hit(&mut e, json!({"tags": ["user", "admin"]})));
    assert!(!hit(&mut e, json!({"tags": ["user"]})));
}

#[test]
fn logsource_gates_rules() {
    let mut e = engine("  sel:\n    a: x\n  condition: sel\n");
    let ls = |p: &str| Some(bulwark_detect::Logsource::new(Some(p), None, None));
    let ev = |l| Event::new(json!({"a": "x"}).as_object().unwrap().clone(), l);
    assert_eq!(e.process(&ev(ls("test"))).len(), 1);
    assert_eq!(e.process(&ev(ls("other"))).len(), 0);
    assert_eq!(
        e.process(&ev(None)).len(),
        1,
        "unknown log source sees every rule"
    );
}

#[test]
fn field_mapping_web_names() {
    let text = "title: web\nlogsource:\n  category: webserver\ndetection:\n  sel:\n    cs-uri-query|contains: 'union select'\n    c-ip: 1.2.3.4\n  condition: sel\n";
    let (set, _) = RuleSet::load(&[("w.yml".into(), text.into())], CompileOptions::ecs());
    let mut e = set.compile();
    assert!(hit(
        &mut e,
        json!({"url": {"query": "id=1 UNION SELECT pw"}, "source.ip": "1.2.3.4"})
    ));
    // Events that already use the Sigma names still match.
    assert!(hit(
        &mut e,
        json!({"cs-uri-query": "id=1 union select", "c-ip": "1.2.3.4"})
    ));
    assert!(!hit(
        &mut e,
        json!({"url.query": "id=1", "source.ip": "1.2.3.4"})
    ));
}

#[test]
fn logsource_triple_parsing() {
    use bulwark_detect::Logsource;
    assert_eq!(
        Logsource::parse_triple("nginx/webserver/"),
        Logsource::new(Some("nginx"), Some("webserver"), None)
    );
    assert_eq!(
        Logsource::parse_triple("/webserver"),
        Logsource::new(None, Some("webserver"), None)
    );
    assert_eq!(
        Logsource::parse_triple("Bulwark//Vault"),
        Logsource::new(Some("bulwark"), None, Some("vault"))
    );
}

#[test]
fn lint_lines_name_the_problem_and_place() {
    let bad = "title: Bad\nlogsource: {product: x}\ndetection:\n  sel:\n    a|frob: 1\n  condition: sel\n";
    let (_, reports) = RuleSet::load(&[("bad.yml".into(), bad.into())], CompileOptions::ecs());
    let line = reports[0].to_string();
    // file:line:col of the offending key, then the finding.
    assert!(line.starts_with("bad.yml:5:5: error: "), "{line}");
    assert!(
        line.contains("rejected") && line.contains("'frob'"),
        "{line}"
    );
    assert_eq!(reports[0].diagnostics()[0].to_string(), line);
    let yaml = "title: [oops\n";
    let (_, reports) = RuleSet::load(&[("y.yml".into(), yaml.into())], CompileOptions::ecs());
    let line = reports[0].to_string();
    assert!(line.starts_with("y.yml:2:1: error: "), "{line}");
    assert!(line.contains("YAML syntax error"), "{line}");
}

#[test]
fn logsource_literal_is_compared_case_insensitively() {
    let mut e = engine("  sel:\n    a: x\n  condition: sel\n");
    let ls = bulwark_detect::Logsource {
        product: Some("TEST".into()),
        category: None,
        service: None,
    };
    let ev = Event::new(json!({"a": "x"}).as_object().unwrap().clone(), Some(ls));
    assert_eq!(e.process(&ev).len(), 1);
}
