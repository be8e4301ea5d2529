//! YAML alias bombs in rule files, measured: each must be rejected in well
//! under a second while the process's live heap stays below 100 MB.
//!
//! A test binary of its own, so that its counting global allocator sees only
//! this process: the peak of live bytes (what the program asked of the
//! allocator, not what the allocator keeps around it) over one load,
//! including the rule text itself. Cases run one at a time (a lock) so that
//! one's peak does not include another's. The figures are printed
//! (`cargo test -p bulwark-detect --test alias_bombs -- --nocapture`).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use bulwark_detect::{lint, CompileOptions, LintReport, RuleSet};
use peak_alloc::PeakAlloc;

#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const MB: usize = 1_000_000;
/// The issue's bounds: rejected in under 1 s, at under 100 MB.
const MAX_PEAK: usize = 100 * MB;
const MAX_TIME: Duration = Duration::from_secs(1);

/// Makes the files (inside the lock, so that no other case's input is in
/// the heap), loads them, and returns the reports, the time taken and the
/// peak of live heap bytes during the load.
fn measured(
    case: &str,
    files: impl FnOnce() -> Vec<(String, String)>,
) -> (Vec<LintReport>, Duration, usize) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let files = files();
    let input: usize = files.iter().map(|(_, t)| t.len()).sum();
    HEAP.reset_peak_usage();
    let t0 = Instant::now();
    let (set, reports) = RuleSet::load(&files, CompileOptions::ecs());
    let engine = set.compile();
    let took = t0.elapsed();
    let peak = HEAP.peak_usage();
    drop((engine, files));
    eprintln!(
        "{case}: input {:.1} MB, {:.1} ms, peak live heap {:.1} MB",
        input as f64 / MB as f64,
        took.as_secs_f64() * 1e3,
        peak as f64 / MB as f64
    );
    (reports, took, peak)
}

fn rule(extra: &str) -> String {
    format!(
        "title: Laughs\nid: laughs\nlogsource: {{category: webserver}}\n{extra}\
         detection:\n  sel: {{cs-user-agent|contains: lol}}\n  condition: sel\n"
    )
}

/// `levels` anchors, each a list of `width` aliases of the one before; the
/// first holds `width` copies of `leaf`. Fully expanded: width^levels leaves.
fn laughs(levels: usize, width: usize, leaf: &str) -> String {
    let mut text = String::from("x-lol:\n");
    let leaves = vec![format!("\"{leaf}\""); width].join(",");
    text.push_str(&format!("  l0: &l0 [{leaves}]\n"));
    for i in 1..levels {
        let aliases = vec![format!("*l{}", i - 1); width].join(",");
        text.push_str(&format!("  l{i}: &l{i} [{aliases}]\n"));
    }
    rule(&text)
}

/// Asserts that the one file `make` makes is rejected for its aliases,
/// within the bounds.
fn assert_refused(case: &str, make: impl FnOnce() -> String, budget: &str) {
    let (reports, took, peak) = measured(case, || vec![("bomb.yml".into(), make())]);
    assert_eq!(reports.len(), 1, "{reports:?}");
    let r = &reports[0];
    assert!(!r.is_loaded());
    let shown = r.to_string();
    assert!(
        shown.contains("aliases would copy more than") && shown.contains(budget),
        "{shown}"
    );
    assert!(shown.contains("alias bomb"), "{shown}");
    assert!(
        !shown.contains("lol") && !shown.contains("AAAA"),
        "the message quotes no content: {shown}"
    );
    assert!(peak < MAX_PEAK, "{case}: peak {peak} bytes");
    assert!(took < MAX_TIME, "{case}: took {took:?}");
}

/// One anchored MiB and 100,000 aliases of it: within the node budget, yet
/// 100 GB expanded.
fn big_scalar() -> String {
    let big = "A".repeat(1 << 20);
    let aliases = vec!["*big"; 100_000].join(", ");
    rule(&format!("x-big: &big \"{big}\"\nx-copies: [{aliases}]\n"))
}

#[test]
fn billion_laughs_nine_by_nine() {
    assert_refused("billion laughs 9x9", || laughs(9, 9, "lol"), "100000 nodes");
}

#[test]
fn billion_laughs_nine_by_ten() {
    assert_refused(
        "billion laughs 9x10",
        || laughs(9, 10, "lol"),
        "100000 nodes",
    );
}

#[test]
fn billion_laughs_with_long_strings() {
    // 1 KiB leaves: the byte budget stops it before the node budget would.
    assert_refused(
        "billion laughs 9x10, 1 KiB strings",
        || laughs(9, 10, &"lol".repeat(341)),
        "16 MiB of text",
    );
}

#[test]
fn one_big_scalar_copied_many_times() {
    assert_refused(
        "1 MiB scalar x 100,000 aliases",
        big_scalar,
        "16 MiB of text",
    );
}

#[test]
fn nested_sequences() {
    // A list of lists: each level is three lists of three aliases of the
    // level before (9 copies a level, two levels of nesting each).
    let make = || {
        let mut text =
            String::from("x-lol:\n  - &s0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..9 {
            let three = vec![format!("*s{}", i - 1); 3].join(", ");
            let lists = vec![format!("[{three}]"); 3].join(", ");
            text.push_str(&format!("  - &s{i} [{lists}]\n"));
        }
        rule(&text)
    };
    assert_refused("nested sequences 9 levels", make, "100000 nodes");
}

#[test]
fn nested_anchors_cost_no_copies() {
    // No alias at all, but sixty anchors nested around 2 MiB of text: were
    // each anchor to keep a copy of its node, this would hold 120 MB.
    let make = || {
        let big = "A".repeat(2 << 20);
        let open: String = (0..60).map(|i| format!("&n{i} [")).collect();
        let text = rule(&format!("x-deep: {open}\"{big}\"{}\n", "]".repeat(60)));
        vec![("deep.yml".into(), text)]
    };
    let (reports, took, peak) = measured("60 nested anchors around 2 MiB", make);
    assert!(reports[0].is_loaded(), "{}", reports[0]);
    assert!(peak < 32 * MB, "peak {peak} bytes (took {took:?})");
}

#[test]
fn a_collection_multiplying_its_global_document() {
    // Not aliases but Sigma's own `action: global`: a 512 KiB global
    // document merged into 4,000 one-line documents would be 2 GB.
    let make = || {
        let big = "A".repeat(512 << 10);
        let mut text = format!(
            "action: global\ntitle: G\nlogsource: {{product: x}}\ndescription: \"{big}\"\n\
             detection:\n  condition: sel\n"
        );
        for _ in 0..4_000 {
            text.push_str("---\ndetection: {sel: {a: 1}}\n");
        }
        vec![("collection.yml".into(), text)]
    };
    let (reports, took, peak) = measured("global 512 KiB x 4,000 documents", make);
    assert_eq!(reports.len(), 1, "{reports:?}");
    let shown = reports[0].to_string();
    assert!(
        shown.contains("'action: global' would copy more than") && !shown.contains("AAAA"),
        "{shown}"
    );
    assert!(peak < MAX_PEAK, "peak {peak} bytes");
    assert!(took < MAX_TIME, "took {took:?}");
}

#[test]
fn a_folder_with_a_bomb_still_loads_its_other_rules() {
    let good = "title: Scanner\nid: scanner\nlogsource: {category: webserver}\n\
                detection:\n  sel: {cs-user-agent|contains: sqlmap}\n  condition: sel\n";
    let files = || {
        vec![
            ("rules/a-bomb.yml".to_string(), laughs(9, 10, "lol")),
            ("rules/b-big.yml".to_string(), big_scalar()),
            ("rules/c-good.yml".to_string(), good.to_string()),
        ]
    };
    let (reports, took, peak) = measured("folder: 2 bombs + 1 good rule", files);
    assert!(peak < MAX_PEAK && took < MAX_TIME);
    let by_path = |p: &str| reports.iter().find(|r| r.path == p).unwrap();
    let good = by_path("rules/c-good.yml");
    assert!(good.is_loaded(), "{good}");
    let bomb = by_path("rules/a-bomb.yml");
    assert!(!bomb.is_loaded());
    assert_eq!(
        bomb.to_string(),
        "rules/a-bomb.yml:9:40: error: rejected: YAML refused: aliases would copy more than \
         100000 nodes (an alias bomb?); expand them by hand if this is intended"
    );
    let big = by_path("rules/b-big.yml");
    assert!(
        big.to_string()
            .contains("YAML refused: aliases would copy more than 16 MiB of text (an alias bomb?)"),
        "{big}"
    );

    // The same through `rules lint`'s entry point, and the good rule runs.
    // (Still one at a time: this loads bombs again.)
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let files = files();
    let reports = lint(&files, CompileOptions::ecs());
    assert_eq!(reports.iter().filter(|r| r.is_loaded()).count(), 1);
    let (set, _) = RuleSet::load(&files, CompileOptions::ecs());
    let mut engine = set.compile();
    let line =
        r#"1.2.3.4 - - [20/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "sqlmap/1.7""#;
    let hits = engine
        .process_line(&bulwark_detect::LogFormat::combined(), line, 1, None)
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].rule_title, "Scanner");
}

/// A global filter is compiled once and shared by the rules it names: a big
/// filter naming many rules costs about what it costs naming one (copied into
/// each rule, 300 rules × 5,000 values came to hundreds of MB).
#[test]
fn a_big_global_filter_naming_many_rules_is_held_once() {
    let files = |named: usize| {
        move || {
            let mut files: Vec<(String, String)> = (0..300)
                .map(|i| {
                    (
                        format!("r{i}.yml"),
                        format!(
                            "title: Rule {i}\nid: rule-{i}\nlogsource: {{category: webserver}}\n\
                             detection:\n  sel: {{url.path|contains: '/probe-{i}'}}\n  condition: sel\n"
                        ),
                    )
                })
                .collect();
            let mut filter = String::from(
                "title: Known scanners of our own\nlogsource: {category: webserver}\nfilter:\n  rules:\n",
            );
            for i in 0..named {
                filter.push_str(&format!("    - rule-{i}\n"));
            }
            filter.push_str("  selection:\n    source.address|contains:\n");
            for v in 0..5000 {
                filter.push_str(&format!("      - 'scanner-{v}.internal.example'\n"));
            }
            filter.push_str("  condition: not selection\n");
            files.push(("filter.yml".into(), filter));
            files
        }
    };
    let (reports, _, one) = measured("filter naming 1 rule", files(1));
    assert!(reports.iter().all(|r| r.is_loaded()), "{reports:#?}");
    let (reports, _, all) = measured("filter naming 300 rules", files(300));
    assert!(reports.iter().all(|r| r.is_loaded()), "{reports:#?}");
    assert!(
        all < one + one / 2,
        "naming 300 rules: {all} bytes at peak, naming one: {one}"
    );
}
