//! The real Sigma engine over the shipped rule pack, as `serve` runs it.

use bulwark_detect::{CompileOptions, Engine, Event, Logsource, RuleSet};
use bulwark_pagewatch::event::PRODUCT;
use serde_json::Value;

pub fn engine() -> Engine {
    let sources: Vec<(String, String)> = bulwark_detect::packs::ECOMMERCE
        .iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect();
    let (set, reports) = RuleSet::load(&sources, CompileOptions::ecs());
    assert!(reports.iter().all(|r| r.is_loaded()), "{reports:#?}");
    set.compile()
}

/// Titles of the rules an event (from `service`) raises.
pub fn titles(engine: &mut Engine, service: &str, event: Value) -> Vec<String> {
    let ls = Logsource::new(Some(PRODUCT), None, Some(service));
    let ev = Event::from_json(event, Some(ls)).expect("an event is an object");
    engine
        .process(&ev)
        .into_iter()
        .map(|d| d.rule_title)
        .collect()
}

pub const NEW_SCRIPT: &str = "New Script On A Checkout Page";
pub const CHANGED: &str = "Script Changed On A Checkout Page";
pub const SKIMMER: &str = "Skimmer Indicators In A Payment Page Script";
pub const PAGE_WEAKENED: &str = "Checkout Page Reaches A New Host Or Lost Protection";
pub const CSP_HOST: &str = "Checkout Page Blocked A Script Or Connection To A Host";

/// The sample files of the rules this crate feeds behave as `detect`'s
/// rule-pack test expects (it runs them too; this keeps the check beside the
/// events' producer).
#[test]
fn the_new_rules_samples_behave() {
    use bulwark_detect::{parse_line, LogFormat};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/ecommerce/tests");
    for (stem, title) in [
        ("ec_script_csp_violation_new_host", CSP_HOST),
        ("ec_script_checkout_page_weakened", PAGE_WEAKENED),
    ] {
        for (suffix, want) in [("match", true), ("nomatch", false)] {
            let path = dir.join(format!("{stem}.{suffix}.jsonl"));
            let text = std::fs::read_to_string(&path).unwrap();
            let mut e = engine();
            for (i, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                let ev = parse_line(&LogFormat::JsonLines, line, i as u64 + 1).unwrap();
                let fired = e.process(&ev).iter().any(|d| d.rule_title == title);
                assert_eq!(fired, want, "{}:{}", path.display(), i + 1);
            }
        }
    }
}
