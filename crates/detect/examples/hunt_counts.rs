//! Detections per rule for a rule directory over a JSON-lines file, one
//! `count<TAB>title` per line: the figures to compare with another Sigma engine.
//!
//! `cargo run --release -p bulwark-detect --example hunt_counts -- RULES_DIR EVENTS.jsonl`

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use bulwark_detect::{CompileOptions, LogFormat, RuleSet};

fn collect(dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
            if let Ok(t) = std::fs::read_to_string(&p) {
                out.push((p.display().to_string(), t));
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(rules), Some(events)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: hunt_counts RULES_DIR EVENTS.jsonl");
        std::process::exit(2);
    };
    let mut sources = Vec::new();
    collect(Path::new(rules), &mut sources);
    // BULWARK_NO_MAPPING=1 matches rule field names as written (to compare with
    // engines that have no ECS mapping).
    let options = if std::env::var_os("BULWARK_NO_MAPPING").is_some() {
        CompileOptions::default()
    } else {
        CompileOptions::ecs()
    };
    let (set, reports) = RuleSet::load(&sources, options);
    let rejected = reports.iter().filter(|r| !r.is_loaded()).count();
    let mut engine = set.compile();
    let text = match std::fs::read_to_string(events) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{events}: {e}");
            std::process::exit(2);
        }
    };
    let start = Instant::now();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let (mut n, mut bad) = (0usize, 0usize);
    for (i, line) in text.lines().enumerate() {
        match engine.process_line(&LogFormat::JsonLines, line, i as u64 + 1, None) {
            Ok(found) => {
                n += 1;
                for d in found {
                    *counts.entry(d.rule_title).or_default() += 1;
                }
            }
            Err(_) => bad += 1,
        }
    }
    let secs = start.elapsed().as_secs_f64();
    for (title, c) in &counts {
        println!("{c}\t{title}");
    }
    eprintln!(
        "{} rules loaded, {rejected} rejected; {n} events ({bad} malformed) in {secs:.2}s = {:.0} events/s",
        reports.len() - rejected,
        n as f64 / secs
    );
}
