//! Real logs written by others (`../shared/reference/weblogs/`): every file is
//! read with a preset or a shipped mapping, found by auto-detection, with
//! malformed lines below 1 % per file.

use std::path::{Path, PathBuf};

use bulwark_detect::{Formats, LogFormat};

pub fn weblogs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/weblogs")
}

pub fn log_files() -> Vec<PathBuf> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(d)
            .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in entries {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if p.is_dir() {
                walk(&p, out);
            } else if name != "README.md" && name != "index.txt" {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&weblogs_dir(), &mut out);
    out
}

pub struct Read {
    pub format: LogFormat,
    pub events: usize,
    pub malformed: Vec<(u64, String)>,
    #[allow(dead_code)]
    pub lines: Vec<String>,
}

/// Reads a file as `bulwark hunt` does in auto mode.
pub fn read(path: &Path) -> Read {
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let formats = Formats::builtin();
    let head: Vec<&str> = lines.iter().take(50).map(String::as_str).collect();
    let detected = formats
        .detect(&head)
        .unwrap_or_else(|| panic!("{}: no format detected", path.display()));
    let mut parser = formats.parser_with_fallback(detected.format.clone());
    let (mut events, mut malformed) = (0, Vec::new());
    for (i, l) in lines.iter().enumerate() {
        match parser.parse(l, i as u64 + 1) {
            Ok(Some(_)) => events += 1,
            Ok(None) => {}
            Err(m) => malformed.push((m.line_no, m.reason)),
        }
    }
    Read {
        format: detected.format,
        events,
        malformed,
        lines,
    }
}

#[test]
fn every_real_log_file_is_read_with_under_one_percent_malformed() {
    let files = log_files();
    assert!(files.len() >= 80, "only {} files", files.len());
    let mut problems = Vec::new();
    let mut table = Vec::new();
    for f in &files {
        let r = read(f);
        let rel = f.strip_prefix(weblogs_dir()).unwrap().display().to_string();
        table.push(format!(
            "{rel}: {} ({} events, {} malformed)",
            r.format.name(),
            r.events,
            r.malformed.len()
        ));
        if r.events == 0 {
            problems.push(format!("{rel}: no events"));
        }
        let total = r.events + r.malformed.len();
        if r.malformed.len() * 100 >= total.max(1) && !r.malformed.is_empty() {
            problems.push(format!(
                "{rel}: {} of {total} malformed: {:?}",
                r.malformed.len(),
                &r.malformed[..r.malformed.len().min(3)]
            ));
        }
    }
    eprintln!("{}", table.join("\n"));
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn formats_are_detected_as_what_they_are() {
    let want = [
        ("crowdsec-hub-tests/aws-alb/aws-alb-logs.log", "alb"),
        (
            "crowdsec-hub-tests/aws-cloudfront/aws-cloudfront-logs.log",
            "cloudfront",
        ),
        ("crowdsec-hub-tests/caddy/caddy-logs.log", "caddy"),
        ("crowdsec-hub-tests/caddy/caddy-coraza.log", "caddy-waf"),
        ("crowdsec-hub-tests/traefik/traefik_json.log", "traefik"),
        ("crowdsec-hub-tests/traefik/traefik_clf.log", "combined"),
        ("crowdsec-hub-tests/haproxy/haproxy-logs.log", "haproxy"),
        (
            "crowdsec-hub-tests/haproxy/haproxy-nextcloud-whitelist.log",
            "syslog:haproxy",
        ),
        ("crowdsec-hub-tests/iis/iis-xml-logs.log", "iis-xml"),
        (
            "crowdsec-hub-tests/nginx/http-bf-wordpress-bf.log",
            "syslog:combined",
        ),
        (
            "crowdsec-hub-tests/nginx/nginx-cve-2021-41773.log",
            "vhost_combined",
        ),
        (
            "crowdsec-hub-tests/nginx/nginx-http-generic-bf.log",
            "nginx-error",
        ),
        (
            "crowdsec-hub-tests/bunkerweb/bunkerweb-logs.log",
            "bunkerweb",
        ),
        ("crowdsec-hub-tests/zoraxy/zoraxy-http-logs.log", "zoraxy"),
        (
            "crowdsec-hub-tests/upsun-httplog/base-upsun-httplog-logs.log",
            "upsun",
        ),
        (
            "crowdsec-hub-tests/litespeed/litespeed-admin-bf.log",
            "litespeed-error",
        ),
        ("elastic-examples/apache_logs", "combined"),
        ("elastic-examples/nginxplus_json_logs", "nginx-plus-status"),
    ];
    let mut wrong = Vec::new();
    for (f, name) in want {
        let got = read(&weblogs_dir().join(f)).format.name();
        if got != name {
            wrong.push(format!("{f}: {got}, expected {name}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
