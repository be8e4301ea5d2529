//! The matcher's fast paths checked against a naive oracle: ORs of literals
//! collapsed per field, the SIMD "any needle?" gate (few needles) next to the
//! plain automaton (many), the per-field cache of scanned values (repeated values,
//! different case, arrays), buffer reuse across JSON lines, and correlation group
//! keys that a naive join would confuse.

use bulwark_detect::{CompileOptions, Engine, Event, LogFormat, RuleSet};
use serde_json::json;

fn load(docs: &[String]) -> Engine {
    let text = docs.join("---\n");
    let (set, reports) = RuleSet::load(&[("r.yml".into(), text)], CompileOptions::ecs());
    assert!(reports.iter().all(|r| r.is_loaded()), "{reports:#?}");
    set.compile()
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    Contains,
    Starts,
    Ends,
    Exact,
}

impl Mode {
    fn modifier(self) -> &'static str {
        match self {
            Mode::Contains => "|contains",
            Mode::Starts => "|startswith",
            Mode::Ends => "|endswith",
            Mode::Exact => "",
        }
    }
    fn test(self, value: &str, needle: &str) -> bool {
        let (v, n) = (value.to_lowercase(), needle.to_lowercase());
        match self {
            Mode::Contains => v.contains(&n),
            Mode::Starts => v.starts_with(&n),
            Mode::Ends => v.ends_with(&n),
            Mode::Exact => v == n,
        }
    }
}

/// (title, field, mode, needles)
type Spec = (String, &'static str, Mode, Vec<String>);

fn rule(spec: &Spec) -> String {
    let (title, field, mode, needles) = spec;
    let list: String = needles.iter().map(|n| format!("      - '{n}'\n")).collect();
    format!(
        "title: {title}\nid: {title}\nlogsource:\n  category: test\ndetection:\n  sel:\n    {field}{}:\n{list}  condition: sel\n",
        mode.modifier()
    )
}

fn words(seed: u64, n: usize) -> Vec<String> {
    let syll = [
        "ab", "sql", "Mo", "zi", "lla", "..", "%2f", "é", "x", "union", "sel", "ect",
    ];
    let mut s = seed;
    (0..n)
        .map(|_| {
            let mut w = String::new();
            for _ in 0..(1 + s % 3) {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                w.push_str(syll[(s % syll.len() as u64) as usize]);
            }
            w
        })
        .collect()
}

#[test]
fn literal_sets_match_like_the_oracle() {
    // Few needles per field (SIMD gate) on `a`, many (> 64, automaton only) on `b`;
    // the same needle under several anchors and in several rules.
    let few = words(1, 12);
    let many = words(2, 150);
    let specs: Vec<Spec> = vec![
        ("a_contains".into(), "a", Mode::Contains, few.clone()),
        ("a_starts".into(), "a", Mode::Starts, few[..6].to_vec()),
        ("a_ends".into(), "a", Mode::Ends, few[3..].to_vec()),
        ("a_exact".into(), "a", Mode::Exact, few[..4].to_vec()),
        ("b_contains".into(), "b", Mode::Contains, many.clone()),
        ("b_exact".into(), "b", Mode::Exact, many[..80].to_vec()),
        ("b_ends".into(), "b", Mode::Ends, many[40..].to_vec()),
    ];
    let docs: Vec<String> = specs.iter().map(rule).collect();
    let mut by_event = load(&docs);
    let mut by_line = load(&docs);
    // Values: needles themselves (exact hits), needles in context, case changes,
    // short values, and a lot of repetition so the value cache is exercised.
    let mut values: Vec<String> = words(3, 60);
    for n in few.iter().chain(many.iter().take(30)) {
        values.push(n.clone());
        values.push(n.to_uppercase());
        values.push(format!("pre{n}post"));
        values.push(format!("{n}tail"));
        values.push(format!("head{n}"));
    }
    values.push(String::new());
    let mut checked = 0;
    for round in 0..3 {
        for (i, v) in values.iter().enumerate() {
            let other = &values[(i * 7 + round) % values.len()];
            let ev = if i % 5 == 0 {
                // Arrays match element-wise.
                json!({"a": [v, other], "b": [other, v]})
            } else {
                json!({"a": v, "b": other})
            };
            let field_values = |f: &str| -> Vec<String> {
                match &ev[f] {
                    serde_json::Value::Array(a) => a
                        .iter()
                        .map(|x| x.as_str().unwrap_or_default().to_string())
                        .collect(),
                    x => vec![x.as_str().unwrap_or_default().to_string()],
                }
            };
            let mut want: Vec<String> = specs
                .iter()
                .filter(|(_, f, mode, needles)| {
                    field_values(f)
                        .iter()
                        .any(|val| needles.iter().any(|n| mode.test(val, n)))
                })
                .map(|s| s.0.clone())
                .collect();
            want.sort();
            let event = Event::from_json(ev.clone(), None).unwrap();
            let mut got: Vec<String> = by_event
                .process(&event)
                .into_iter()
                .map(|d| d.rule_title)
                .collect();
            got.sort();
            assert_eq!(got, want, "event {ev}");
            let mut got_line: Vec<String> = by_line
                .process_line(&LogFormat::JsonLines, &ev.to_string(), 1, None)
                .unwrap()
                .into_iter()
                .map(|d| d.rule_title)
                .collect();
            got_line.sort();
            assert_eq!(got_line, want, "line {ev}");
            checked += usize::from(!want.is_empty());
        }
    }
    assert!(
        checked > 100,
        "the oracle should see plenty of matches ({checked})"
    );
}

#[test]
fn mixed_or_keeps_other_alternatives_and_not() {
    // An OR mixing literals, a wildcard and a null test, and a negated literal set.
    let docs = vec![
        "title: mixed\nid: mixed\nlogsource:\n  category: test\ndetection:\n  sel:\n    - a|contains: [foo, bar]\n    - a: 'q*z'\n    - b: null\n  condition: sel\n".to_string(),
        "title: negated\nid: negated\nlogsource:\n  category: test\ndetection:\n  sel:\n    c: present\n  f:\n    a|contains: [foo, bar, baz]\n  condition: sel and not f\n".to_string(),
    ];
    let mut e = load(&docs);
    let mut titles = |v: serde_json::Value| -> Vec<String> {
        let line = v.to_string();
        let mut t: Vec<String> = e
            .process_line(&LogFormat::JsonLines, &line, 1, None)
            .unwrap()
            .into_iter()
            .map(|d| d.rule_title)
            .collect();
        t.sort();
        t
    };
    assert_eq!(titles(json!({"a": "xFOOx", "b": 1})), ["mixed"]);
    assert_eq!(titles(json!({"a": "quiz", "b": 1})), ["mixed"]);
    assert!(titles(json!({"a": "nothing", "b": 1})).is_empty());
    assert_eq!(titles(json!({"a": "nothing"})), ["mixed"]);
    assert_eq!(
        titles(json!({"a": "nothing", "b": 1, "c": "present"})),
        ["negated"]
    );
    assert_eq!(
        titles(json!({"a": "BAZ", "b": 1, "c": "present"})),
        Vec::<String>::new()
    );
    // The same value again (served from the value cache) gives the same answers.
    assert_eq!(titles(json!({"a": "xFOOx", "b": 1})), ["mixed"]);
    assert_eq!(
        titles(json!({"a": "BAZ", "b": 1, "c": "present"})),
        Vec::<String>::new()
    );
}

#[test]
fn reused_buffers_do_not_leak_between_lines() {
    // A line's values must not survive into the next line (slots, keyword values).
    let docs = vec![
        "title: kw\nid: kw\nlogsource:\n  category: test\ndetection:\n  keywords:\n    - secretword\n  condition: keywords\n".to_string(),
        "title: num\nid: num\nlogsource:\n  category: test\ndetection:\n  sel:\n    n: 4624\n  condition: sel\n".to_string(),
        "title: neg\nid: neg\nlogsource:\n  category: test\ndetection:\n  sel:\n    n: -7\n  condition: sel\n".to_string(),
        "title: arr\nid: arr\nlogsource:\n  category: test\ndetection:\n  sel:\n    a: second\n  condition: sel\n".to_string(),
    ];
    let mut e = load(&docs);
    let mut run = |line: &str| -> Vec<String> {
        let mut t: Vec<String> = e
            .process_line(&LogFormat::JsonLines, line, 1, None)
            .unwrap()
            .into_iter()
            .map(|d| d.rule_title)
            .collect();
        t.sort();
        t
    };
    assert_eq!(
        run(r#"{"x": "a secretword here", "n": 4624}"#),
        ["kw", "num"]
    );
    assert!(run(r#"{"x": "nothing", "n": 4625}"#).is_empty());
    assert_eq!(
        run(r#"{"n": -7, "a": ["first", "second"]}"#),
        ["arr", "neg"]
    );
    assert!(run(r#"{"a": "first"}"#).is_empty());
    assert!(run(r#"{"n": 7, "a": null}"#).is_empty());
    assert_eq!(run(r#"{"a": ["SECOND"], "n": true}"#), ["arr"]);
}

#[test]
fn correlation_group_keys_do_not_collide() {
    // Two group-by values that a plain join with ':' would make equal.
    let base = "title: hit\nid: hit\nname: hit\nlogsource:\n  category: test\ndetection:\n  sel:\n    event.action: x\n  condition: sel\n";
    let corr = "title: pairs\nid: pairs\ncorrelation:\n  type: event_count\n  rules: [hit]\n  group-by: [g1, g2]\n  timespan: 1h\n  condition:\n    gte: 2\n";
    let mut e = load(&[base.to_string(), corr.to_string()]);
    let line = |secs: u32, g1: &str, g2: &str| {
        json!({"@timestamp": format!("2026-11-20T00:00:{secs:02}Z"), "event.action": "x", "g1": g1, "g2": g2})
            .to_string()
    };
    let fired =
        |e: &mut Engine, l: String| e.process_line(&LogFormat::JsonLines, &l, 1, None).unwrap();
    assert!(fired(&mut e, line(1, "a:b", "c")).is_empty());
    assert!(fired(&mut e, line(2, "a", "b:c")).is_empty());
    assert!(fired(&mut e, line(3, "1:a", "")).is_empty());
    let d = fired(&mut e, line(4, "a", "b:c"));
    assert_eq!(d.len(), 1);
    assert_eq!(
        d[0].group_key,
        vec![
            ("g1".to_string(), "a".to_string()),
            ("g2".to_string(), "b:c".to_string())
        ]
    );
}

#[test]
fn top_level_keys_in_any_order() {
    // The decoder reuses the previous line's key lookups position by position:
    // lines with other keys, other orders, nesting or duplicates must not confuse it.
    let docs = vec![
        "title: ua\nid: ua\nlogsource:\n  category: test\ndetection:\n  sel:\n    user_agent.original|contains: sqlmap\n  condition: sel\n".to_string(),
        "title: both\nid: both\nlogsource:\n  category: test\ndetection:\n  sel:\n    url.path: /x\n    http.request.method: POST\n  condition: sel\n".to_string(),
    ];
    let mut e = load(&docs);
    let mut run = |line: &str| -> Vec<String> {
        let mut t: Vec<String> = e
            .process_line(&LogFormat::JsonLines, line, 1, None)
            .unwrap()
            .into_iter()
            .map(|d| d.rule_title)
            .collect();
        t.sort();
        t
    };
    let lines: [(&str, &[&str]); 8] = [
        (
            r#"{"user_agent.original": "sqlmap/1", "url.path": "/x", "http.request.method": "POST"}"#,
            &["both", "ua"],
        ),
        (
            r#"{"url.path": "/x", "user_agent.original": "curl", "http.request.method": "POST"}"#,
            &["both"],
        ),
        (
            r#"{"http.request.method": "POST", "url.path": "/y", "user_agent.original": "SQLMAP"}"#,
            &["ua"],
        ),
        (
            r#"{"other": "sqlmap", "url.path": "/x", "http.request.method": "GET"}"#,
            &[],
        ),
        (
            r#"{"user_agent": {"original": "sqlmap"}, "url": {"path": "/x"}, "http.request.method": "POST"}"#,
            &["both", "ua"],
        ),
        (
            r#"{"user_agent.original": "sqlmap/1", "url.path": "/x", "http.request.method": "POST"}"#,
            &["both", "ua"],
        ),
        (
            r#"{"user_agent.originaL": "sqlmap/1", "url.pat": "/x", "http.request.method": "POST"}"#,
            &[],
        ),
        (
            r#"{"url.path": "/x", "http.request.method": "POST", "x": 1, "user_agent.original": "sqlmap"}"#,
            &["both", "ua"],
        ),
    ];
    for _ in 0..2 {
        for (line, want) in lines {
            assert_eq!(run(line), want, "{line}");
        }
    }
}
