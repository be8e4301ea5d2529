//! Fuzz-style checks with a deterministic pseudo-random generator: malformed
//! rules, conditions and log lines must produce errors, never panics.

use bulwark_detect::condition::parse_condition;
use bulwark_detect::{parse_line, CompileOptions, Event, LogFormat, RuleSet};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const RULE: &str = "title: Fuzz seed
id: 1
logsource:
  product: store
  category: webserver
detection:
  sel:
    url.query|contains|all:
      - 'union'
      - 'select'
    c-ip|cidr: 10.0.0.0/8
    ua|re: '^sqlmap'
    n|gte: 5
    x|base64offset|contains: abc
    y|windash: '-e'
  keywords:
    - 'evil*thing'
  filter:
    z: null
  condition: (sel or keywords) and not filter and 1 of sel*
---
title: corr
correlation:
  type: event_count
  rules: [1]
  group-by: [source.ip]
  timespan: 5m
  condition: {gte: 3}
";

const ALPHABET: &[u8] = b" \n\t:-|*?\\'\"{}[](),#&!%@0123456789abcdefgxyzselctionfrt";

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut b = text.as_bytes().to_vec();
    for _ in 0..1 + rng.below(6) {
        if b.is_empty() {
            break;
        }
        let i = rng.below(b.len());
        match rng.below(4) {
            0 => {
                b.remove(i);
            }
            1 => b.insert(i, ALPHABET[rng.below(ALPHABET.len())]),
            2 => b[i] = ALPHABET[rng.below(ALPHABET.len())],
            _ => {
                let j = (i + rng.below(40)).min(b.len());
                b.drain(i..j);
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

#[test]
fn mutated_rules_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let ev = Event::from_json(
        serde_json::json!({"url.query": "union select", "c-ip": "10.1.1.1", "ua": "sqlmap", "n": 7,
                           "@timestamp": "2026-01-01T00:00:00Z", "source.ip": "1.2.3.4"}),
        None,
    )
    .unwrap();
    let mut loaded = 0;
    for _ in 0..1500 {
        let text = mutate(&mut rng, RULE);
        let (set, reports) = RuleSet::load(&[("f.yml".into(), text)], CompileOptions::ecs());
        assert!(!reports.is_empty());
        loaded += reports.iter().filter(|r| r.is_loaded()).count();
        let mut engine = set.compile();
        for _ in 0..3 {
            engine.process(&ev);
        }
    }
    assert!(loaded > 0, "some mutations should still load");
}

#[test]
fn random_conditions_never_panic() {
    let words = [
        "a",
        "b",
        "and",
        "or",
        "not",
        "(",
        ")",
        "1",
        "all",
        "of",
        "them",
        "sel*",
        "|",
        "0",
        "99999999999999999999999",
    ];
    let mut rng = Rng(42);
    for _ in 0..5000 {
        let n = rng.below(10);
        let s: Vec<&str> = (0..n).map(|_| words[rng.below(words.len())]).collect();
        let _ = parse_condition(&s.join(" "));
    }
    // Deep nesting is refused, not a stack overflow.
    let deep = format!("{}a{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(parse_condition(&deep).is_err());
    let nots = format!("{}a", "not ".repeat(100_000));
    assert!(parse_condition(&nots).is_err());
}

#[test]
fn deeply_nested_yaml_is_an_error_not_a_crash() {
    for text in [
        "[".repeat(100_000),
        "a:\n".to_string() + &" b: [".repeat(50_000),
        "- ".repeat(100_000),
    ] {
        let (_, reports) = RuleSet::load(&[("deep.yml".into(), text)], CompileOptions::ecs());
        assert!(reports.iter().all(|r| !r.is_loaded()));
    }
}

/// A "billion laughs" rule: nine anchors of nine aliases each, 9^9 strings
/// when fully expanded.
fn alias_bomb_rule() -> String {
    let mut text = String::from("title: Laughs\nlogsource: {product: x}\nx-lol:\n");
    text.push_str(
        "  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in names.windows(2) {
        let aliases = vec![format!("*{}", w[0]); 9].join(",");
        text.push_str(&format!("  {n}: &{n} [{aliases}]\n", n = w[1]));
    }
    text.push_str("detection:\n  sel: {a: x}\n  condition: sel\n");
    text
}

#[test]
fn an_alias_bomb_is_rejected_with_its_position() {
    let (set, reports) = RuleSet::load(
        &[("lol.yml".into(), alias_bomb_rule())],
        CompileOptions::ecs(),
    );
    assert_eq!(set.detection_count(), 0);
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert!(!r.is_loaded());
    // Level `f` (line 9) is the first whose copies would pass the node budget.
    assert_eq!(r.at.map(|p| p.line), Some(9), "{r}");
    assert!(r.to_string().starts_with("lol.yml:9:"), "{r}");
    assert!(
        r.to_string().contains("aliases would copy more than"),
        "{r}"
    );
}

#[test]
fn rules_may_share_values_through_aliases() {
    let rule = "title: Tools\nlogsource: {product: x}\nx-agents: &agents [sqlmap, nikto]\ndetection:\n  sel:\n    ua|contains: *agents\n  condition: sel\n";
    let (set, reports) = RuleSet::load(&[("t.yml".into(), rule.into())], CompileOptions::ecs());
    assert!(reports[0].is_loaded(), "{}", reports[0]);
    let mut engine = set.compile();
    let hit = |e: &mut bulwark_detect::Engine, ua: &str| {
        let ev = Event::from_json(serde_json::json!({"ua": ua}), None).unwrap();
        !e.process(&ev).is_empty()
    };
    assert!(hit(&mut engine, "Nikto/2.5"));
    assert!(!hit(&mut engine, "curl/8"));
}

#[test]
fn random_lines_never_panic() {
    let seeds = [
        r#"203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] "GET /a?b=c HTTP/1.1" 200 2326 "http://r/" "UA""#,
        r#"{"@timestamp": "2026-01-01T00:00:00Z", "url": {"path": "/x"}, "n": [1, {"a": null}]}"#,
    ];
    let mut rng = Rng(7);
    // Every format Bulwark knows, presets and mappings alike.
    let formats = bulwark_detect::Formats::builtin();
    let all: Vec<LogFormat> = formats
        .list()
        .iter()
        .map(|f| formats.get(&f.name).unwrap())
        .collect();
    assert!(all.len() >= 20);
    for i in 0..20_000 {
        let line = mutate(&mut rng, seeds[i % 2]);
        for f in &all {
            match parse_line(f, &line, i as u64) {
                Ok(_) => {}
                Err(e) => assert_eq!(e.line_no, i as u64),
            }
        }
        let _ = bulwark_detect::detect_format(&line);
        let _ = bulwark_detect::time::parse_rfc3339_ms(&line);
        let _ = bulwark_detect::input::parse_clf_time(&line);
    }
}

#[test]
fn direct_line_processing_agrees_with_parsed_events() {
    let rules = "title: r
id: r
logsource: {product: x}
detection:
  sel:
    a|contains: evil
    n|gt: 3
  other:
    b.c: [1, 'x']
    d: null
  condition: sel or other
---
title: k
id: k
logsource: {product: x}
detection:
  keywords:
    '|all': [deep, 'zero']
  condition: keywords
";
    let load = || {
        let (set, _) = RuleSet::load(&[("r.yml".into(), rules.into())], CompileOptions::ecs());
        set.compile()
    };
    let (mut direct, mut parsed) = (load(), load());
    let seeds = [
        r#"{"a": "so evil", "n": 4, "b": {"c": 1}, "@timestamp": "2026-01-01T00:00:00Z"}"#,
        r#"{"a": ["x", "EVIL"], "n": "5.5", "b.c": "x", "d": null, "e": [{"a": "evil"}]}"#,
        r#"{"b": {"c": [2, 1]}, "d": {"x": 1}, "a": {"nested": "evil"}, "n": 4}"#,
        r#"{"x": {"y": [{"z": "Deep"}, 1.5, true]}, "w": ["zero", null], "v": {"u": {"t": "deep zero"}}}"#,
    ];
    let mut rng = Rng(99);
    let mut hits = 0;
    let mut keyword_hits = 0;
    for i in 0..5000 {
        let line = if i < seeds.len() {
            seeds[i].to_string()
        } else {
            mutate(&mut rng, seeds[i % seeds.len()])
        };
        let n = i as u64 + 1;
        let a = direct.process_line(&LogFormat::JsonLines, &line, n, None);
        let b = parse_line(&LogFormat::JsonLines, &line, n).map(|ev| parsed.process(&ev));
        match (a, b) {
            (Ok(x), Ok(y)) => {
                assert_eq!(x, y, "{line}");
                hits += x.len();
                keyword_hits += x.iter().filter(|d| d.rule_id == "k").count();
            }
            (Err(x), Err(y)) => assert_eq!(x.line_no, y.line_no),
            (x, y) => panic!("disagree on {line}: {x:?} vs {y:?}"),
        }
    }
    assert!(
        hits > 100,
        "only {hits} detections: the comparison is too weak"
    );
    assert!(keyword_hits > 20, "only {keyword_hits} keyword detections");
}

#[test]
fn an_oversized_rule_file_is_refused_and_the_rest_load() {
    let good = "title: ok\nlogsource: {category: webserver}\ndetection:\n  s: {url.path: /x}\n  condition: s\n";
    let big = format!("{good}# {}\n", "x".repeat(5 << 20));
    let files = vec![
        ("big.yml".to_string(), big),
        ("good.yml".to_string(), good.to_string()),
    ];
    let (_, reports) = RuleSet::load(&files, CompileOptions::ecs());
    let bad: Vec<String> = reports
        .iter()
        .filter(|r| !r.is_loaded())
        .map(|r| r.to_string())
        .collect();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(
        bad[0].contains("big.yml") && bad[0].contains("larger than the 4 MiB"),
        "{bad:?}"
    );
    assert_eq!(reports.iter().filter(|r| r.is_loaded()).count(), 1);
}
