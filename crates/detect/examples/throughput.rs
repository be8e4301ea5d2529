//! Single-threaded throughput: generates store events as JSON lines (about 1.5%
//! attacks), then measures parse-only, the e-commerce pack, and (when the shared
//! reference folder is present) every SigmaHQ rule.
//!
//! `cargo run --release -p bulwark-detect --example throughput -- [EVENTS] [pack]`
//! (`pack` skips SigmaHQ; `BULWARK_WRITE_EVENTS=FILE` also writes the events out).

use std::path::Path;
use std::time::Instant;

use bulwark_detect::{parse_line, CompileOptions, Engine, LogFormat, RuleSet};

fn collect(dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "yml") {
            if let Ok(t) = std::fs::read_to_string(&p) {
                out.push((p.display().to_string(), t));
            }
        }
    }
}

fn generate(n: usize) -> Vec<String> {
    let mut seed: u64 = 0x1234_5678;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let paths = [
        "/",
        "/products/42",
        "/cart",
        "/checkout",
        "/search?q=red+shoes",
        "/account",
        "/static/app.js",
    ];
    let attacks = [
        "/products?id=1%27+OR+1=1--",
        "/download?file=../../etc/passwd",
        "/search?q=%3Cscript%3Ealert(1)%3C/script%3E",
        "/.env",
    ];
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let r = rnd();
        let ts = format!(
            "2026-11-20T{:02}:{:02}:{:02}.000Z",
            (i / 3_600_000) % 24,
            (i / 60_000) % 60,
            (i / 1000) % 60
        );
        let ip = format!("203.0.{}.{}", (r >> 8) % 256, r % 256);
        let line = match r % 1000 {
            0..=14 => {
                serde_json::json!({"@timestamp": ts, "source.ip": ip, "http.request.method": "GET",
                "url.original": attacks[(r >> 20) as usize % attacks.len()], "http.response.status_code": 200,
                "user_agent.original": "sqlmap/1.7"})
            }
            15..=300 => serde_json::json!({"@timestamp": ts, "event.action": "login",
                "event.outcome": if r % 7 == 0 { "failure" } else { "success" }, "user.name": format!("u{}", r % 5000),
                "source.ip": ip, "user.roles": ["customer"], "bulwark.mfa": false}),
            301..=400 => {
                serde_json::json!({"@timestamp": ts, "event.action": "vault.reveal", "user.name": format!("agent{}", r % 40),
                "bulwark.customer.id": format!("cus_{}", r % 100_000), "bulwark.vault.elements": ["email"], "bulwark.vault.purpose": "support"})
            }
            _ => {
                let p = paths[(r >> 16) as usize % paths.len()];
                serde_json::json!({"@timestamp": ts, "source.ip": ip, "http.request.method": "GET", "url.original": p,
                    "url.path": p.split('?').next().unwrap_or(p), "http.response.status_code": 200,
                    "user_agent.original": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"})
            }
        };
        out.push(line.to_string());
    }
    out
}

fn run(label: &str, lines: &[String], engine: Option<&mut Engine>) {
    let start = Instant::now();
    let mut detections = 0usize;
    match engine {
        Some(e) => {
            for (i, l) in lines.iter().enumerate() {
                if let Ok(found) = e.process_line(&LogFormat::JsonLines, l, i as u64 + 1, None) {
                    detections += found.len();
                }
            }
        }
        None => {
            for (i, l) in lines.iter().enumerate() {
                if parse_line(&LogFormat::JsonLines, l, i as u64 + 1).is_ok() {
                    detections += 0;
                }
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{label:<28} {:>10.0} events/s  ({} events in {secs:.2}s, {detections} detections)",
        lines.len() as f64 / secs,
        lines.len()
    );
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let lines = generate(n);
    if let Ok(path) = std::env::var("BULWARK_WRITE_EVENTS") {
        // Keep the generated file for comparisons with other engines.
        let _ = std::fs::write(&path, lines.join("\n") + "\n");
    }
    run("parse only", &lines, None);

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pack = Vec::new();
    collect(&root.join("../../rules/ecommerce"), &mut pack);
    let (set, _) = RuleSet::load(&pack, CompileOptions::ecs());
    let mut e = set.compile();
    run(
        &format!("e-commerce pack ({} rules)", e.rule_count()),
        &lines,
        Some(&mut e),
    );

    let mut sigma = Vec::new();
    collect(
        &root.join("../../../shared/reference/sigma/sigmahq-rules"),
        &mut sigma,
    );
    if !sigma.is_empty() && std::env::args().nth(2).as_deref() != Some("pack") {
        let t = Instant::now();
        let (set, _) = RuleSet::load(&sigma, CompileOptions::ecs());
        let mut e = set.compile();
        println!(
            "SigmaHQ load+compile: {:.2}s, plan {:?}",
            t.elapsed().as_secs_f64(),
            e.plan()
        );
        run(
            &format!("SigmaHQ ({} rules)", e.rule_count()),
            &lines,
            Some(&mut e),
        );
    }
}
