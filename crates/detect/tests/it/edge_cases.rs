//! Edge cases where Sigma implementations disagree. Each test pins the choice the
//! crate documents under "Where Sigma implementations disagree" (lib.rs): the
//! specification where it speaks, else pySigma, the reference implementation.
//! A test fails if the choice changes.

use base64::Engine as _;
use bulwark_detect::{CompileOptions, Engine, Event, Outcome, RuleSet};
use serde_json::json;

fn rule(detection: &str) -> String {
    format!("title: edge\nid: edge\nlogsource:\n  product: test\ndetection:\n{detection}")
}

fn engine(detection: &str) -> Engine {
    let (set, reports) = RuleSet::load(
        &[("edge.yml".into(), rule(detection))],
        CompileOptions::ecs(),
    );
    assert!(reports.iter().all(|r| r.is_loaded()), "{reports:#?}");
    set.compile()
}

/// The rejection message of a one-rule file.
fn rejection(detection: &str) -> String {
    let (_, reports) = RuleSet::load(
        &[("edge.yml".into(), rule(detection))],
        CompileOptions::ecs(),
    );
    match &reports[0].outcome {
        Outcome::Rejected(r) => r.clone(),
        Outcome::Loaded => panic!("expected a rejection of:\n{detection}"),
    }
}

fn hit(e: &mut Engine, v: serde_json::Value) -> bool {
    !e.process(&Event::from_json(v, None).unwrap()).is_empty()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

/// Specification (modifiers appendix, `all`): "Single item values are not allowed
/// to have an `all` modifier". pySigma itself accepts it (an AND of one).
#[test]
fn all_on_a_single_value_is_rejected() {
    const MSG: &str = "'all' needs a list of two or more values";
    for detection in [
        "  sel:\n    a|contains|all: one\n  condition: sel\n",
        "  sel:\n    a|contains|all:\n      - one\n  condition: sel\n",
        "  kw:\n    '|all':\n      - one\n  condition: kw\n",
    ] {
        let msg = rejection(detection);
        assert!(msg.contains(MSG), "{msg}");
        assert!(msg.contains("specification"), "{msg}");
    }
    // Two or more values: all of them must match.
    let mut e = engine("  sel:\n    a|contains|all:\n      - one\n      - two\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "two and one"})));
    assert!(!hit(&mut e, json!({"a": "one only"})));
}

/// Specification: silent ("handled as a CIDR network range specification").
/// pySigma parses with Python's strict `ipaddress.ip_network`, which refuses host
/// bits; so does bulwark, naming the network that was probably meant.
#[test]
fn cidr_with_host_bits_is_rejected() {
    let msg = rejection("  sel:\n    ip|cidr: 10.1.2.3/8\n  condition: sel\n");
    assert!(
        msg.contains("'10.1.2.3/8' has host bits set; the network is 10.0.0.0/8"),
        "{msg}"
    );
    let msg = rejection("  sel:\n    ip|cidr: 'fe80::1/10'\n  condition: sel\n");
    assert!(msg.contains("the network is fe80::/10"), "{msg}");
    // In a list, one bad range rejects the rule.
    let msg = rejection(
        "  sel:\n    ip|cidr:\n      - 10.0.0.0/8\n      - 192.168.1.1/24\n  condition: sel\n",
    );
    assert!(msg.contains("192.168.1.0/24"), "{msg}");
    // Network addresses and bare addresses (a full-length prefix) load.
    let mut e =
        engine("  sel:\n    ip|cidr:\n      - 10.0.0.0/8\n      - 192.168.1.7\n  condition: sel\n");
    assert!(hit(&mut e, json!({"ip": "10.200.0.1"})));
    assert!(hit(&mut e, json!({"ip": "192.168.1.7"})));
    assert!(!hit(&mut e, json!({"ip": "192.168.1.8"})));
}

/// Specification: silent. pySigma: "Base64 encoding of strings with wildcards is
/// not allowed" (the encoding of an unknown part is unknown), and it applies
/// modifiers in order, so `contains` before the encoding is refused too.
#[test]
fn base64offset_with_wildcards_is_rejected() {
    const MSG: &str = "base64 encoding of a value with wildcards is not allowed";
    for detection in [
        "  sel:\n    a|base64offset|contains: 'foo*bar'\n  condition: sel\n",
        "  sel:\n    a|base64offset|contains: 'fo?'\n  condition: sel\n",
        "  sel:\n    a|base64: 'x*'\n  condition: sel\n",
        "  sel:\n    a|wide|base64offset|contains: '*ping'\n  condition: sel\n",
    ] {
        let msg = rejection(detection);
        assert!(msg.contains(MSG), "{detection}: {msg}");
    }
    let msg = rejection("  sel:\n    a|contains|base64offset: ping\n  condition: sel\n");
    assert!(
        msg.contains("before base64 or base64offset would encode their wildcards"),
        "{msg}"
    );
    // An escaped wildcard is a plain character and is encoded.
    let mut e = engine("  sel:\n    a|base64: 'a\\*b'\n  condition: sel\n");
    assert!(hit(&mut e, json!({ "a": b64(b"a*b") })));
    assert!(!hit(&mut e, json!({ "a": b64(b"ab") })));
}

/// Specification (modifiers appendix, Encoding): `wide` is an alias of `utf16le`,
/// "Transforms value to UTF16-LE encoding" — defined for all of Unicode. pySigma
/// refuses non-ASCII ("Wide modifier only allowed for ascii strings", a limit of
/// its implementation); bulwark encodes real UTF-16LE (surrogate pairs included).
/// Encoded bytes match as text one character per byte; wildcards outside base64
/// are kept between the encoded parts, as pySigma keeps them.
#[test]
fn wide_encodes_non_ascii_as_utf16le() {
    let word = "p\u{e4}ssw\u{f6}rd\u{1F600}";
    let mut e = engine(&format!(
        "  sel:\n    a|wide|base64offset|contains: '{word}'\n  condition: sel\n"
    ));
    for prefix in ["", "x", "xy"] {
        let text = format!("{prefix}-enc {word} now");
        assert!(
            hit(&mut e, json!({ "a": b64(&utf16le(&text)) })),
            "offset {}",
            prefix.len()
        );
        assert!(
            !hit(&mut e, json!({ "a": b64(text.as_bytes()) })),
            "UTF-8 is not UTF-16LE"
        );
    }
    // Without base64: each UTF-16LE byte is one character of the field's text.
    let mut e = engine("  sel:\n    a|wide: 'caf\u{e9}'\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "c\u{0}a\u{0}f\u{0}\u{e9}\u{0}"})));
    assert!(!hit(&mut e, json!({"a": "caf\u{e9}"})));
    let mut e = engine("  sel:\n    a|wide: 'c*\u{e9}'\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "c\u{0}x\u{0}y\u{0}\u{e9}\u{0}"})));
    assert!(!hit(&mut e, json!({"a": "c\u{0}x\u{0}y\u{0}e\u{0}"})));
}

/// Specification: numeric modifiers "can only be applied to numeric values" and
/// "Numeric values don't use any quotes"; pySigma agrees (its compare and time
/// modifiers type-check `SigmaNumber`, and a quoted YAML value is a string). So a
/// quoted number in the rule is refused. On the event side (where pySigma, a
/// converter, has no say) a numeric string still compares as a number, because
/// log parsers hand numbers over as text.
#[test]
fn numeric_comparison_against_a_quoted_string_is_rejected() {
    const MSG: &str = "is quoted, so it is a string; numeric modifiers take an unquoted number";
    for detection in [
        "  sel:\n    n|gt: '10'\n  condition: sel\n",
        "  sel:\n    n|lte: \"2.5\"\n  condition: sel\n",
        "  sel:\n    t|hour: '5'\n  condition: sel\n",
    ] {
        let msg = rejection(detection);
        assert!(msg.contains(MSG), "{detection}: {msg}");
    }
    let msg = rejection("  sel:\n    n|gt: ten\n  condition: sel\n");
    assert!(msg.contains("'ten' is not a number"), "{msg}");
    let mut e = engine("  sel:\n    n|gt: 10\n  condition: sel\n");
    assert!(hit(&mut e, json!({"n": 11})));
    assert!(
        hit(&mut e, json!({"n": "11"})),
        "event strings compare as numbers"
    );
    assert!(!hit(&mut e, json!({"n": "9"})));
    assert!(!hit(&mut e, json!({"n": "eleven"})));
}

/// Specification: silent ("Modifies a plain string into a field reference").
/// pySigma: "Field references must not contain wildcards".
#[test]
fn fieldref_with_a_wildcard_is_rejected() {
    for value in ["'b*'", "'b?'", "'*'"] {
        let msg = rejection(&format!(
            "  sel:\n    a|fieldref: {value}\n  condition: sel\n"
        ));
        assert!(msg.contains("holds a wildcard"), "{value}: {msg}");
    }
    let mut e = engine("  sel:\n    a|fieldref|contains: b\n  condition: sel\n");
    assert!(hit(&mut e, json!({"a": "xx-same-yy", "b": "SAME"})));
    assert!(!hit(&mut e, json!({"a": "xx", "b": "y"})));
}
