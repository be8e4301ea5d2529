//! `bulwark hunt` over store logs, as an engineer runs it after a tip-off.

use std::io::Write;

use crate::common::*;

const LOG: &str = r#"203.0.113.9 - - [20/Nov/2026:10:00:00 +0000] "GET /products?id=1%27%20UNION%20SELECT%20password%20FROM%20users-- HTTP/1.1" 200 512 "-" "Mozilla/5.0"
198.51.100.4 - - [20/Nov/2026:10:00:01 +0000] "GET /index.html HTTP/1.1" 200 1024 "-" "Mozilla/5.0"
this line is not a log line
198.51.100.4 - - [20/Nov/2026:10:00:02 +0000] "GET /cart HTTP/1.1" 200 2048 "https://shop.example/" "Mozilla/5.0"
203.0.113.9 - - [20/Nov/2026:10:00:03 +0000] "GET /static/../../../etc/passwd HTTP/1.1" 404 0 "-" "Mozilla/5.0"
203.0.113.7 - - [20/Nov/2026:10:00:04 +0000] "GET /truncated HTTP/1.1" 200
"#;

#[test]
fn hunting_a_combined_log_reports_malformed_lines_and_finds_the_attacks() {
    let (t, _) = tempdir();
    let log = t.path().join("access.log");
    std::fs::write(&log, LOG).unwrap();
    let o = run(&["hunt", log.to_str().unwrap(), "--json"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "exit 1 means something was found: {}",
        stderr(&o)
    );
    let hits: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let titles: Vec<&str> = hits
        .iter()
        .map(|h| h["rule_title"].as_str().unwrap())
        .collect();
    assert!(
        titles.iter().any(|t| t.contains("SQL Injection")),
        "{titles:?}"
    );
    assert!(
        titles.iter().any(|t| t.contains("Path Traversal")),
        "{titles:?}"
    );
    assert!(
        hits.iter().all(|h| h["line"] == 1 || h["line"] == 5),
        "only the attack lines: {hits:?}"
    );
    let err = stderr(&o);
    assert!(err.contains("access.log:3: malformed line"), "{err}");
    assert!(err.contains("access.log:6: malformed line"), "{err}");
    assert!(err.contains("6 lines, 2 malformed"), "{err}");

    // The same file gzipped, and a clean file that finds nothing (exit 0).
    let gz = t.path().join("access.log.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(LOG.as_bytes()).unwrap();
    enc.finish().unwrap();
    let o = run(&["hunt", gz.to_str().unwrap(), "--json"]);
    assert_eq!(stdout(&o).lines().count(), hits.len());
    let clean = t.path().join("clean.log");
    std::fs::write(&clean, LOG.lines().nth(1).unwrap()).unwrap();
    assert_eq!(
        run(&["hunt", clean.to_str().unwrap()]).status.code(),
        Some(0)
    );
}

#[test]
fn rules_lint_reports_each_rule() {
    let o = run(&["rules", "lint"]);
    assert!(
        o.status.success(),
        "the built-in pack loads: {}",
        stdout(&o)
    );
    assert!(stderr(&o).contains("0 rejected"));
    let (t, _) = tempdir();
    std::fs::write(t.path().join("bad.yml"), "title: Broken\nlogsource: {category: webserver}\ndetection:\n  sel: {cs-uri-query|nosuchmodifier: x}\n  condition: sel\n").unwrap();
    std::fs::write(t.path().join("good.yml"), "title: Good\nlogsource: {category: webserver}\ndetection:\n  sel: {cs-uri-query|contains: x}\n  condition: sel\n").unwrap();
    let o = run(&["rules", "lint", t.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("nosuchmodifier"), "{}", stdout(&o));
    // Every finding reads file:line:col, like a compiler's.
    assert!(
        stdout(&o).contains("bad.yml:4:9: error: rejected: unsupported modifier 'nosuchmodifier'"),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).contains("good.yml:1:1: warning: no 'id'"),
        "{}",
        stdout(&o)
    );
    assert!(
        stderr(&o).contains("1 loaded, 1 rejected"),
        "{}",
        stderr(&o)
    );
}

/// Exit bits: 1 found, 4 some input not read, 8 some input not trustworthy.
#[test]
fn exit_bits_tell_found_from_skipped_from_untrustworthy() {
    let (t, _) = tempdir();
    let attack = r#"203.0.113.9 - - [20/Nov/2026:10:00:03 +0000] "GET /static/..%2f..%2f..%2fetc%2fpasswd HTTP/1.1" 404 0 "-" "Mozilla/5.0""#;
    let good = t.path().join("access.log");
    std::fs::write(&good, format!("{attack}\n")).unwrap();
    let unknown = t.path().join("mystery.bin");
    std::fs::write(&unknown, "\u{1}\u{2} not a log\n\u{3}garbage\n").unwrap();
    let o = run(&["hunt", unknown.to_str().unwrap(), good.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(
        o.status.code(),
        Some(5),
        "found (1) + a file skipped (4): {err}"
    );
    assert!(
        err.contains("mystery.bin: skipped: no known format"),
        "{err}"
    );
    assert!(
        err.contains("NOT READ: ") && err.contains("mystery.bin (format unknown)"),
        "{err}"
    );
    // The later file was still hunted, and the encoded attack matched after decoding.
    assert!(
        stdout(&o).contains("matched after decoding"),
        "{}",
        stdout(&o)
    );

    // JSON with its own keys: read, but no rule can see anything in it.
    let own = t.path().join("app.json");
    std::fs::write(
        &own,
        "{\"ip\":\"203.0.113.9\",\"path\":\"/../../etc/passwd\",\"ua\":\"sqlmap\"}\n{\"ip\":\"203.0.113.9\",\"path\":\"/\"}\n",
    )
    .unwrap();
    let o = run(&["hunt", own.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(8), "{err}");
    assert!(
        err.contains("carries a field any loaded rule reads"),
        "{err}"
    );
    assert!(err.contains("NOT TRUSTWORTHY"), "{err}");

    // Mostly malformed under the format the user forced.
    let o = run(&["hunt", "--format", "common", own.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(8), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("2 of 2 lines are malformed"),
        "{}",
        stderr(&o)
    );

    // An unknown --format is an error of the run itself.
    let o = run(&["hunt", "--format", "nosuch", good.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown log format 'nosuch'"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_stores_own_log_format_line_is_compiled_and_long_lines_are_refused() {
    let (t, _) = tempdir();
    let log = t.path().join("custom.log");
    let long = "A".repeat(300_000);
    std::fs::write(
        &log,
        format!(
            "shop.example|203.0.113.9|2026-11-20T10:00:03+00:00|GET /admin/../../etc/passwd HTTP/1.1|404|0.002\nshop.example|203.0.113.9|2026-11-20T10:00:04+00:00|GET /{long} HTTP/1.1|404|0.002\n"
        ),
    )
    .unwrap();
    let fmt = "nginx:log_format custom '$host|$remote_addr|$time_iso8601|$request|$status|$request_time';";
    let o = run(&[
        "hunt",
        "--json",
        "--format",
        fmt,
        "--max-line",
        "100000",
        log.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(stdout(&o).contains("Path Traversal"), "{}", stdout(&o));
    assert!(
        err.contains("custom.log:2: malformed line: the line is 300"),
        "{err}"
    );
    assert!(err.contains("longer than the maximum of 100000"), "{err}");
    let o = run(&["formats", "--check", "apache:%h %l %u %t \"%r\" %>s %Z"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown Apache directive `%Z`"),
        "{}",
        stderr(&o)
    );
    let o = run(&["formats"]);
    for name in [
        "combined",
        "vhost_combined",
        "haproxy",
        "alb",
        "cloudfront",
        "iis",
        "caddy",
        "traefik",
        "nginx-json",
        "cloudflare",
    ] {
        assert!(
            stdout(&o).lines().any(|l| l.starts_with(name)),
            "{name}: {}",
            stdout(&o)
        );
    }
}
