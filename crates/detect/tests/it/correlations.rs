//! Correlation rules and global filters through the public API, including
//! out-of-order and late events and window boundaries.

use bulwark_detect::{CompileOptions, DetectionKind, Engine, Event, RuleSet};
use serde_json::json;

fn load(text: &str) -> Engine {
    let (set, reports) = RuleSet::load(&[("r.yml".into(), text.into())], CompileOptions::ecs());
    assert!(reports.iter().all(|r| r.is_loaded()), "{reports:#?}");
    set.compile()
}

fn at(secs: i64, extra: serde_json::Value) -> Event {
    let mut m = extra.as_object().cloned().unwrap_or_default();
    m.insert(
        "@timestamp".into(),
        json!(bulwark_detect::time::format_rfc3339_ms(secs * 1000)),
    );
    Event::new(m, None)
}

const FAILED_LOGIN: &str = "title: Failed login
id: failed-login
name: failed_login
logsource:
  product: bulwark
detection:
  sel:
    event.action: login
    event.outcome: failure
  condition: sel
";

fn count_rule(gte: u32, span: &str) -> String {
    format!(
        "{FAILED_LOGIN}---
title: Many failed logins
id: many-failed
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [source.ip]
  timespan: {span}
  condition:
    gte: {gte}
level: high
"
    )
}

fn fail(secs: i64, ip: &str, user: &str) -> Event {
    at(
        secs,
        json!({"event.action": "login", "event.outcome": "failure", "source.ip": ip, "user.name": user}),
    )
}

#[test]
fn event_count_groups_and_suppresses_base_rule() {
    let mut e = load(&count_rule(3, "1m"));
    assert!(
        e.process(&fail(0, "1.1.1.1", "a")).is_empty(),
        "base rule is not generated"
    );
    assert!(e.process(&fail(10, "2.2.2.2", "a")).is_empty());
    assert!(e.process(&fail(20, "1.1.1.1", "b")).is_empty());
    let d = e.process(&fail(30, "1.1.1.1", "c"));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].kind, DetectionKind::Correlation);
    assert_eq!(d[0].rule_id, "many-failed");
    assert_eq!(
        d[0].group_key,
        vec![("source.ip".to_string(), "1.1.1.1".to_string())]
    );
    assert_eq!(d[0].value, Some(3.0));
    assert_eq!(d[0].timestamp.as_deref(), Some("1970-01-01T00:00:30.000Z"));
    // The group keeps counting (4 now) but stays quiet for the rest of the window.
    assert!(e.process(&fail(31, "1.1.1.1", "d")).is_empty());
}

#[test]
fn window_boundaries() {
    let mut e = load(&count_rule(2, "10s"));
    assert!(e.process(&fail(0, "ip", "u")).is_empty());
    assert_eq!(
        e.process(&fail(10, "ip", "u")).len(),
        1,
        "exactly timespan apart counts"
    );
    let mut e = load(&count_rule(2, "10s"));
    assert!(e.process(&fail(0, "ip", "u")).is_empty());
    assert!(
        e.process(&fail(11, "ip", "u")).is_empty(),
        "beyond the timespan does not"
    );
}

#[test]
fn out_of_order_and_late_events() {
    let mut e = load(&count_rule(3, "1m"));
    assert!(e.process(&fail(100, "ip", "u")).is_empty());
    // Late: older than watermark - timespan: ignored and counted.
    assert!(e.process(&fail(30, "ip", "u")).is_empty());
    assert_eq!(e.stats().correlation.late, 1);
    // Out of order but within the bound: counted in time order.
    assert!(e.process(&fail(90, "ip", "u")).is_empty());
    let d = e.process(&fail(80, "ip", "u"));
    assert_eq!(d.len(), 1);
    assert_eq!(
        d[0].timestamp.as_deref(),
        Some("1970-01-01T00:01:40.000Z"),
        "window ends at the latest event"
    );
    // Events without a timestamp cannot feed correlations.
    let no_ts = Event::new(
        json!({"event.action": "login", "event.outcome": "failure"})
            .as_object()
            .unwrap()
            .clone(),
        None,
    );
    assert!(e.process(&no_ts).is_empty());
    assert_eq!(e.stats().correlation.no_timestamp, 1);
}

#[test]
fn value_count_distinct_accounts() {
    let text = format!(
        "{FAILED_LOGIN}---
title: One source, many accounts
id: spray
correlation:
  type: value_count
  rules: [failed_login]
  group-by: [source.ip]
  timespan: 5m
  condition:
    field: user.name
    gte: 3
"
    );
    let mut e = load(&text);
    assert!(e.process(&fail(0, "ip", "a")).is_empty());
    assert!(
        e.process(&fail(1, "ip", "a")).is_empty(),
        "same account twice is one value"
    );
    assert!(e.process(&fail(2, "ip", "b")).is_empty());
    let d = e.process(&fail(3, "ip", "c"));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].value, Some(3.0));
}

const TWO_STEPS: &str = "title: Step A
name: step_a
logsource: {product: bulwark}
detection:
  sel: {event.action: a}
  condition: sel
---
title: Step B
name: step_b
logsource: {product: bulwark}
detection:
  sel: {event.action: b}
  condition: sel
";

#[test]
fn temporal_any_order_and_ordered() {
    let mk = |kind: &str| {
        format!(
            "{TWO_STEPS}---
title: A and B
id: ab
correlation:
  type: {kind}
  rules: [step_a, step_b]
  group-by: [user.name]
  timespan: 1m
"
        )
    };
    let ev = |s: i64, a: &str, u: &str| at(s, json!({"event.action": a, "user.name": u}));
    let mut e = load(&mk("temporal"));
    assert!(e.process(&ev(0, "b", "u")).is_empty());
    assert!(
        e.process(&ev(5, "a", "other")).is_empty(),
        "different group"
    );
    assert_eq!(
        e.process(&ev(10, "a", "u")).len(),
        1,
        "temporal ignores order"
    );

    let mut e = load(&mk("temporal_ordered"));
    assert!(e.process(&ev(0, "b", "u")).is_empty());
    assert!(
        e.process(&ev(10, "a", "u")).is_empty(),
        "B before A is not the order"
    );
    assert_eq!(e.process(&ev(20, "b", "u")).len(), 1);
    // Out of order arrival: B (t=50) arrives first, A (t=40) later: order is by time.
    let mut e = load(&mk("temporal_ordered"));
    assert!(e.process(&ev(50, "b", "u")).is_empty());
    assert_eq!(e.process(&ev(40, "a", "u")).len(), 1);
}

#[test]
fn chained_correlation_and_aliases() {
    // The specification's example: many failures followed by a success.
    let text = format!(
        "{FAILED_LOGIN}---
title: Successful login
name: successful_login
logsource: {{product: bulwark}}
detection:
  sel: {{event.action: login, event.outcome: success}}
  condition: sel
---
title: Multiple failed logins
name: multiple_failed_login
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [user.name]
  timespan: 10m
  condition: {{gte: 3}}
---
title: Brute force then success
id: bf-success
level: critical
correlation:
  type: temporal_ordered
  rules: [multiple_failed_login, successful_login]
  group-by: [user.name]
  timespan: 10m
"
    );
    let mut e = load(&text);
    for s in 0..3 {
        assert!(
            e.process(&fail(s, "ip", "alice")).is_empty(),
            "intermediate correlation stays silent"
        );
    }
    let ok = at(
        60,
        json!({"event.action": "login", "event.outcome": "success", "user.name": "alice"}),
    );
    let d = e.process(&ok);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].rule_id, "bf-success");
    assert_eq!(d[0].level, bulwark_detect::Level::Critical);
}

#[test]
fn value_sum_and_avg() {
    let text = "title: Download
name: dl
logsource: {product: bulwark}
detection:
  sel: {event.action: download}
  condition: sel
---
title: Big downloads
id: sum
correlation:
  type: value_sum
  rules: [dl]
  group-by: [user.name]
  timespan: 1h
  condition: {field: bytes, gt: 1000}
";
    let mut e = load(text);
    let ev = |s: i64, b: u64| {
        at(
            s,
            json!({"event.action": "download", "user.name": "u", "bytes": b}),
        )
    };
    assert!(e.process(&ev(0, 600)).is_empty());
    assert_eq!(e.process(&ev(1, 600)).len(), 1);
    let avg = text
        .replace("value_sum", "value_avg")
        .replace("gt: 1000", "gte: 500");
    let mut e = load(&avg);
    assert!(e.process(&ev(0, 100)).is_empty());
    assert!(e.process(&ev(1, 800)).is_empty(), "average 450");
    assert_eq!(e.process(&ev(2, 1000)).len(), 1, "average 633");
}

#[test]
fn generate_true_keeps_base_rule() {
    let text =
        count_rule(5, "1m").replace("  timespan: 1m\n", "  timespan: 1m\n  generate: true\n");
    assert!(text.contains("generate: true"));
    let mut e = load(&text);
    assert_eq!(e.process(&fail(0, "ip", "u")).len(), 1);
}

#[test]
fn unknown_correlation_reference_is_rejected() {
    let text = "title: c\ncorrelation:\n  type: event_count\n  rules: [nope]\n  group-by: [x]\n  timespan: 1m\n  condition: {gte: 1}\n";
    let (_, reports) = RuleSet::load(&[("c.yml".into(), text.into())], CompileOptions::ecs());
    assert!(!reports[0].is_loaded());
    assert!(format!("{:?}", reports[0].outcome).contains("nope"));
}

#[test]
fn global_filter_excludes() {
    let rule = "title: Admin action
id: 6f3e2987-db24-4c78-a860-b4f4095a7095
logsource: {product: bulwark, service: admin}
detection:
  sel: {event.action: export}
  condition: sel
";
    let filter = "title: Ignore service accounts
logsource: {product: bulwark}
filter:
  rules: [6f3e2987-db24-4c78-a860-b4f4095a7095]
  selection:
    user.name|startswith: 'svc_'
  condition: not selection
";
    let (set, reports) = RuleSet::load(
        &[
            ("r.yml".into(), rule.into()),
            ("f.yml".into(), filter.into()),
        ],
        CompileOptions::ecs(),
    );
    assert!(reports.iter().all(|r| r.is_loaded()), "{reports:#?}");
    let mut e = set.compile();
    let ev = |u: &str| {
        Event::new(
            json!({"event.action": "export", "user.name": u})
                .as_object()
                .unwrap()
                .clone(),
            None,
        )
    };
    assert_eq!(e.process(&ev("alice")).len(), 1);
    assert!(e.process(&ev("svc_backup")).is_empty());
    // A filter whose log source does not cover the rule is reported, not applied.
    let other = filter.replace("product: bulwark", "product: windows");
    let (_, reports) = RuleSet::load(
        &[("r.yml".into(), rule.into()), ("f.yml".into(), other)],
        CompileOptions::ecs(),
    );
    assert!(reports.iter().any(|r| !r.is_loaded()));
}

#[test]
fn engine_and_ruleset_can_move_between_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<Engine>();
    assert_send::<RuleSet>();
}

#[test]
fn correlation_fields_use_the_web_mapping() {
    // SigmaHQ-style names in a correlation over web rules resolve to ECS paths.
    let text = "title: Not found
name: nf
logsource: {category: webserver}
detection:
  sel: {sc-status: 404}
  condition: sel
---
title: Scan
id: scan
correlation:
  type: value_count
  rules: [nf]
  group-by: [c-ip]
  timespan: 1m
  condition: {field: cs-uri-stem, gte: 3}
";
    let mut e = load(text);
    let ev = |s: i64, p: &str| {
        at(
            s,
            json!({"source.ip": "9.9.9.9", "url.path": p, "http.response.status_code": 404}),
        )
    };
    assert!(e.process(&ev(0, "/a")).is_empty());
    assert!(e.process(&ev(1, "/b")).is_empty());
    let d = e.process(&ev(2, "/c"));
    assert_eq!(d.len(), 1);
    assert_eq!(
        d[0].group_key,
        vec![("c-ip".to_string(), "9.9.9.9".to_string())]
    );
}

#[test]
fn rule_listing_marks_silent_base_rules() {
    let e = load(&count_rule(3, "1m"));
    let rules = e.rules();
    assert_eq!(rules.len(), 2);
    let base = rules.iter().find(|r| r.rule_id == "failed-login").unwrap();
    assert!(!base.reports);
    let corr = rules.iter().find(|r| r.rule_id == "many-failed").unwrap();
    assert!(corr.reports);
    assert_eq!(corr.kind, DetectionKind::Correlation);
    assert_eq!(corr.level, bulwark_detect::Level::High);
}

#[test]
fn detections_carry_the_rules_fields_mapped() {
    let text = "title: Web
id: w
logsource: {category: webserver}
fields: [c-ip, cs-uri-query]
detection:
  sel: {cs-uri-query|contains: passwd}
  condition: sel
";
    let mut e = load(text);
    let d = e.process(&at(
        0,
        json!({"source.ip": "1.2.3.4", "url.query": "f=/etc/passwd"}),
    ));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].fields[0], ("c-ip".to_string(), "1.2.3.4".to_string()));
    assert_eq!(
        d[0].fields[1],
        ("cs-uri-query".to_string(), "f=/etc/passwd".to_string())
    );
    assert_eq!(d[0].timestamp.as_deref(), Some("1970-01-01T00:00:00.000Z"));
}

#[test]
fn lint_warns_about_duplicate_ids() {
    let a =
        "title: A\nid: same\nlogsource: {product: x}\ndetection:\n  s: {a: 1}\n  condition: s\n";
    let b = a.replace("title: A", "title: B");
    let (_, reports) = RuleSet::load(
        &[("a.yml".into(), a.into()), ("b.yml".into(), b)],
        CompileOptions::ecs(),
    );
    assert!(reports.iter().all(|r| r.is_loaded()));
    assert!(
        reports
            .iter()
            .all(|r| r.warnings.iter().any(|w| w.contains("'same'"))),
        "{reports:#?}"
    );
    assert_eq!(reports[0].line, Some(1));
}

#[test]
fn reload_keeps_correlation_windows() {
    let mut old = load(&count_rule(3, "1m"));
    assert!(old.process(&fail(0, "ip", "a")).is_empty());
    assert!(old.process(&fail(1, "ip", "b")).is_empty());
    let mut new = load(&count_rule(3, "1m"));
    assert_eq!(new.adopt_state(old), 1);
    assert_eq!(
        new.process(&fail(2, "ip", "c")).len(),
        1,
        "the two earlier failures still count"
    );
    // A changed definition starts afresh.
    let mut old = load(&count_rule(3, "1m"));
    assert!(old.process(&fail(0, "ip", "a")).is_empty());
    let mut changed = load(&count_rule(2, "1m"));
    assert_eq!(changed.adopt_state(old), 0);
    assert!(changed.process(&fail(1, "ip", "b")).is_empty());
}

// What happens after a correlation fires: the group keeps counting, stays quiet
// until one timespan after the fired window's end, and every detection carries
// the real aggregate of its window, with upper bounds enforced.

/// `count_rule` with extra condition lines (e.g. `"    lte: 5\n"`).
fn count_rule_with(gte: u32, span: &str, extra: &str) -> String {
    count_rule(gte, span).replace(
        &format!("    gte: {gte}\n"),
        &format!("    gte: {gte}\n{extra}"),
    )
}

/// Feeds failures of one source address at the given seconds; returns the
/// correlation detections as (second fed, reported value).
fn run_fails(e: &mut Engine, secs: &[i64]) -> Vec<(i64, f64)> {
    let mut out = Vec::new();
    for &s in secs {
        for d in e.process(&fail(s, "6.6.6.6", "victim")) {
            assert_eq!(d.kind, DetectionKind::Correlation);
            out.push((s, d.value.unwrap()));
        }
    }
    out
}

#[test]
fn twelve_logins_in_one_window_fire_once_with_the_real_count() {
    let text = count_rule_with(3, "1m", "    lte: 5\n");
    assert!(text.contains("lte: 5"));
    let mut e = load(&text);
    let secs: Vec<i64> = (0..12).collect();
    assert_eq!(
        run_fails(&mut e, &secs),
        vec![(2, 3.0)],
        "one detection, at the third login, counting 3 (not 3, 6, 9, 12 each claiming 3)"
    );
}

#[test]
fn gte_over_two_windows_reports_each_windows_real_count() {
    let mut e = load(&count_rule(3, "1m"));
    // Window one fires at 2 (3 logins); 30, 40 and 50 are counted but quiet (the
    // quiet period lasts until 2s + 1m). At 63 the window [3s, 63s] holds 30,
    // 40, 50 and 63: it fires with its real count, 4.
    assert_eq!(
        run_fails(&mut e, &[0, 1, 2, 30, 40, 50, 63]),
        vec![(2, 3.0), (63, 4.0)]
    );
    // A third window far later fires again, with its own count.
    assert_eq!(run_fails(&mut e, &[300, 301, 302]), vec![(302, 3.0)]);
}

#[test]
fn upper_bound_holds_after_the_quiet_period() {
    let mut e = load(&count_rule_with(3, "1m", "    lte: 5\n"));
    let first: Vec<i64> = (0..12).collect();
    assert_eq!(run_fails(&mut e, &first), vec![(2, 3.0)]);
    // Quiet until 62s. A burst of 12 from 65s: the window [5s, 65s] already holds
    // the logins at 5..11 (7) plus the burst, above 5 from the first event on:
    // nothing fires, rather than an alert claiming a count of at most 5.
    let burst: Vec<i64> = (65..77).collect();
    assert_eq!(run_fails(&mut e, &burst), vec![]);
    // Once the window holds 3 to 5 logins again, it fires with that count.
    assert_eq!(run_fails(&mut e, &[300, 301, 302]), vec![(302, 3.0)]);
    // An `lte`-only condition never fires for a window above its bound.
    let text = count_rule(3, "1m").replace("    gte: 3\n", "    lte: 2\n");
    let mut e = load(&text);
    let got = run_fails(&mut e, &(0..12).collect::<Vec<_>>());
    assert_eq!(got, vec![(0, 1.0)], "fires on the first login only");
    assert_eq!(run_fails(&mut e, &(61..70).collect::<Vec<_>>()), vec![]);
}

#[test]
fn eq_condition_is_the_real_count() {
    let text = count_rule(3, "1m").replace("    gte: 3\n", "    eq: 3\n");
    let mut e = load(&text);
    // Fires at the third; the window never holds exactly 3 again while the burst
    // goes on past the quiet period (62s): 4..11 plus 63.. is more than 3.
    let mut secs: Vec<i64> = (0..12).collect();
    secs.extend(63..70);
    assert_eq!(run_fails(&mut e, &secs), vec![(2, 3.0)]);
}

#[test]
fn value_count_reports_the_real_distinct_count() {
    // Distinct source addresses per account (a password-spraying botnet).
    let text = format!(
        "{FAILED_LOGIN}---
title: One account, many sources
id: distributed
correlation:
  type: value_count
  rules: [failed_login]
  group-by: [user.name]
  timespan: 10s
  condition:
    field: source.ip
    gte: 3
"
    );
    let mut e = load(&text);
    let mut got = Vec::new();
    let feed = [
        (0, "ip-a"),
        (1, "ip-b"),
        (2, "ip-c"), // fires: 3 distinct; quiet until 12s
        (3, "ip-d"),
        (4, "ip-e"),
        (5, "ip-f"),
        (6, "ip-d"), // a repeat: 5 events in [3s, 6s], 3 distinct
        (13, "ip-g"),
    ];
    for (s, ip) in feed {
        for d in e.process(&fail(s, ip, "alice")) {
            assert_eq!(
                d.group_key,
                vec![("user.name".to_string(), "alice".to_string())]
            );
            got.push((s, d.value.unwrap()));
        }
    }
    // At 13s the window [3s, 13s] holds d, e, f, d, g: 4 distinct sources in 5
    // events. (Restarting from zero after the first firing would have fired at
    // 5s claiming 3, and reported nothing at 13s.)
    assert_eq!(got, vec![(2, 3.0), (13, 4.0)]);
}

#[test]
fn temporal_stays_quiet_for_the_window_too() {
    let text = format!(
        "{TWO_STEPS}---
title: A and B
id: ab
correlation:
  type: temporal
  rules: [step_a, step_b]
  group-by: [user.name]
  timespan: 1m
"
    );
    let mut e = load(&text);
    let ev = |s: i64, a: &str| at(s, json!({"event.action": a, "user.name": "u"}));
    assert!(e.process(&ev(0, "a")).is_empty());
    assert_eq!(e.process(&ev(10, "b")).len(), 1);
    assert!(e.process(&ev(20, "a")).is_empty(), "same window: quiet");
    assert!(e.process(&ev(30, "b")).is_empty(), "same window: quiet");
    // Past 10s + 1m: the window [11s, 71s] holds a (20s), b (30s) and now a.
    let d = e.process(&ev(71, "a"));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].value, Some(2.0));
}

#[test]
fn reload_carries_counts_and_the_quiet_period() {
    let mut old = load(&count_rule(3, "1m"));
    assert_eq!(run_fails(&mut old, &[0, 1, 2, 30]), vec![(2, 3.0)]);
    let mut new = load(&count_rule(3, "1m"));
    assert_eq!(new.adopt_state(old), 1);
    // Still quiet after the reload (the window holds 5 logins now).
    assert_eq!(run_fails(&mut new, &[40]), vec![]);
    // Past the quiet period, the window [3s, 63s] holds 30 and 40 from before
    // the reload and 63: the carried count fires with 3.
    assert_eq!(run_fails(&mut new, &[63]), vec![(63, 3.0)]);
}
