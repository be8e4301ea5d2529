//! Drill scenarios: the shipped files load, bad files are refused with the
//! file and line, and a scripted team's times give the expected score.

use bulwark_learn::drill::report::{render_report, ReportFormat, RunFacts};
use bulwark_learn::drill::score::{
    score, Observation, Observations, ObservedAction, ObservedAlert, Outcome, Rating,
};
use bulwark_learn::drill::{Scenario, ScenarioSet};
use bulwark_learn::BUILTIN_SCENARIOS;

const MIN: i64 = 60_000;

#[test]
fn every_file_in_scenarios_is_shipped_and_loads() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .map(|n| format!("scenarios/{n}"))
        .collect();
    on_disk.sort();
    let shipped: Vec<String> = BUILTIN_SCENARIOS
        .iter()
        .map(|(p, _)| p.to_string())
        .collect();
    assert_eq!(on_disk, shipped);
    let set = ScenarioSet::builtin().unwrap();
    assert!(set.scenarios().count() >= 8);
    for id in [
        "web-skimmer",
        "admin-takeover",
        "sql-injection-dump",
        "stolen-api-key",
        "insider-night-export",
        "ransomware-back-office",
        "stored-card-numbers",
        "third-party-processor",
    ] {
        let s = set.get(id).unwrap_or_else(|| panic!("{id} shipped"));
        assert!(!s.expected_actions.is_empty(), "{id} scores the team");
    }
}

fn skimmer() -> Scenario {
    ScenarioSet::builtin()
        .unwrap()
        .get("web-skimmer")
        .unwrap()
        .clone()
}

const MINIMAL: &str = "id: t
title: T
summary: S
mode: replay
duration: 1h
objectives:
  - {id: detect, title: Detect}
injects:
  - id: a
    at: 10m
    events:
      - {\"event.action\": \"login\"}
  - id: b
    at: 5m
    events:
      - {\"event.action\": \"login\"}
expected_detections:
  - {rule: X, within: 5m, objective: detect}
scoring: {ttd_target: 5m, ttc_target: 1h}
";

#[test]
fn an_inject_out_of_order_is_refused_at_its_line() {
    let e = Scenario::parse("scenarios/t.yaml", MINIMAL).unwrap_err();
    assert_eq!(e.path, "scenarios/t.yaml");
    assert_eq!(e.pos.line, 14, "{e}");
    assert!(e.message.contains("comes before"), "{e}");
}

#[test]
fn broken_scenarios_say_what_is_wrong() {
    let cases = [
        (
            MINIMAL
                .replace("at: 5m", "at: 15m")
                .replace("objective: detect}", "objective: nope}"),
            "no objective `nope`",
        ),
        (
            MINIMAL
                .replace("at: 5m", "at: 15m")
                .replace("duration: 1h", "duration: soon"),
            "not a duration",
        ),
        (
            MINIMAL
                .replace("at: 5m", "at: 15m")
                .replace("mode: replay", "mode: tabletop"),
            "tabletop",
        ),
        (
            MINIMAL
                .replace("at: 5m", "at: 15m")
                .replace("id: b", "id: a"),
            "used twice",
        ),
        (
            MINIMAL
                .replace("at: 5m", "at: 15m")
                .replace("title: T", "title: T\nsurprise: 1"),
            "unknown field `surprise`",
        ),
        (
            MINIMAL
                .replace("at: 5m", "at: 15m")
                .replace("  - id: b\n", "  - id: b\n    repeat: 20000\n"),
            "repeat",
        ),
        ("a: &x [1]\nb: *x\n".to_string(), "alias"),
    ];
    for (text, want) in cases {
        let e = Scenario::parse("s.yaml", &text).unwrap_err();
        assert!(e.to_string().contains(want), "want {want:?} in {e}");
        assert!(e.to_string().starts_with("s.yaml:"), "{e}");
    }
    // A file that would flood the pipeline is refused before anything runs.
    let flood = MINIMAL
        .replace("at: 5m", "at: 15m")
        .replace("  - id: b\n", "  - id: b\n    repeat: 10000\n");
    let flood = flood.replace("      - {\"event.action\": \"login\"}\nexpected", "      - {\"event.action\": \"login\"}\n      - {\"event.action\": \"login\"}\n      - {\"event.action\": \"login\"}\nexpected");
    let e = Scenario::parse("s.yaml", &flood).unwrap_err();
    assert!(e.message.contains("at most"), "{e}");
}

fn act(what: Observation, at_min: i64, actor: &str) -> ObservedAction {
    ObservedAction {
        what,
        at_ms: at_min * MIN,
        actor: actor.into(),
    }
}

fn alert(title: &str, at_min: i64) -> ObservedAlert {
    ObservedAlert {
        rule_id: format!("id-{title}"),
        rule_title: title.into(),
        at_ms: at_min * MIN,
    }
}

#[test]
fn a_team_on_time_is_rated_p_and_a_slow_one_gets_improvements() {
    let s = skimmer();
    let alerts = vec![
        alert("New Script On A Checkout Page", 1),
        alert("Skimmer Indicators In A Payment Page Script", 3),
    ];
    let on_time = Observations {
        first_attack_ms: Some(0),
        alerts: alerts.clone(),
        actions: vec![
            act(
                Observation::Opened {
                    playbooks: vec!["web_skimmer".into()],
                },
                1,
                "system:auto-open",
            ),
            act(
                Observation::Containment {
                    action: "webhook".into(),
                },
                21,
                "operator:ines",
            ),
            act(Observation::Evidence, 30, "operator:ines"),
            act(Observation::Scope, 60, "operator:ines"),
            act(Observation::LettersApproved, 120, "operator:lena"),
        ],
        now_ms: 8 * 60 * MIN,
        finished: true,
    };
    let sc = score(&s, &on_time);
    assert_eq!(sc.ttd_ms, Some(MIN));
    assert_eq!(sc.ttc_ms, Some(20 * MIN));
    assert!(
        sc.objectives.iter().all(|o| o.rating == Rating::P),
        "{:?}",
        sc.objectives
    );
    assert_eq!(sc.earned, sc.possible);
    assert!(sc.improvements.is_empty());
    let contained = sc.actions.iter().find(|a| a.id == "contained").unwrap();
    assert_eq!(contained.by.as_deref(), Some("operator:ines"));
    assert_eq!(
        contained.due_ms,
        Some(61 * MIN),
        "one hour after the incident was declared"
    );

    // Containment 90 minutes after the declaration, no letters approved.
    let mut slow = on_time.clone();
    slow.actions
        .retain(|a| !matches!(a.what, Observation::LettersApproved));
    slow.actions[1].at_ms = 91 * MIN;
    let sc = score(&s, &slow);
    assert_eq!(sc.ttc_ms, Some(90 * MIN));
    let rating = |id: &str| sc.objectives.iter().find(|o| o.id == id).unwrap().rating;
    assert_eq!(rating("detect"), Rating::P);
    assert_eq!(rating("contain"), Rating::S, "done, but late");
    assert_eq!(
        rating("notify"),
        Rating::M,
        "scope on time, letters missed: half the points"
    );
    let outcome = |id: &str| sc.actions.iter().find(|a| a.id == id).unwrap().outcome;
    assert_eq!(outcome("contained"), Outcome::Late);
    assert_eq!(outcome("letters"), Outcome::Missed);
    assert_eq!(sc.improvements.len(), 2);
    assert!(sc
        .improvements
        .iter()
        .any(|i| i.owner == "legal" && i.title.contains("letters")));

    // Nothing detected, nothing done: every objective unable to be performed.
    let nothing = Observations {
        first_attack_ms: Some(0),
        now_ms: 8 * 60 * MIN,
        finished: true,
        ..Default::default()
    };
    let sc = score(&s, &nothing);
    assert!(sc.objectives.iter().all(|o| o.rating == Rating::U));
    assert_eq!(sc.ttd_ms, None);
    assert_eq!(sc.earned, 0);

    // While the run goes on, what is not yet due is pending, not missed.
    let early = Observations {
        first_attack_ms: Some(0),
        alerts,
        now_ms: 5 * MIN,
        ..Default::default()
    };
    let sc = score(&s, &early);
    assert!(sc.actions.iter().all(|a| a.outcome == Outcome::Pending));
}

#[test]
fn the_report_says_drill_and_escapes_what_others_wrote() {
    let s = skimmer();
    let obs = Observations {
        first_attack_ms: Some(0),
        alerts: vec![alert("<script>alert(1)</script>", 2)],
        actions: vec![act(
            Observation::Containment {
                action: "webhook".into(),
            },
            30,
            "operator:<b>x</b>",
        )],
        now_ms: 8 * 60 * MIN,
        finished: true,
    };
    let sc = score(&s, &obs);
    let facts = RunFacts {
        run: 4,
        state: "finished".into(),
        started: "2026-12-02T10:00:00Z".into(),
        finished: Some("2026-12-02T10:08:00Z".into()),
        speed: 60,
        started_by: "operator:ines".into(),
        incidents: vec![12],
        injects: vec![("script-added".into(), "0s".into())],
        improvements_due: "2027-01-01".into(),
    };
    let md = render_report(&s, &sc, &facts, ReportFormat::Markdown).unwrap();
    assert!(md.contains("(DRILL)") && md.contains("#12"), "{md}");
    assert!(
        md.contains("Time to contain (first containment − first alert) | 28m 00s"),
        "{md}"
    );
    assert!(md.contains("owner: legal, due 2027-01-01"), "{md}");
    assert!(md.contains("PCI DSS 12.10.2"));
    let html = render_report(&s, &sc, &facts, ReportFormat::Html).unwrap();
    assert!(
        html.contains("operator:&lt;b&gt;x&lt;&#x2f;b&gt;")
            || html.contains("operator:&lt;b&gt;x&lt;/b&gt;"),
        "{html}"
    );
    assert!(!html.contains("<b>x</b>"));
}

#[test]
fn the_json_schema_documents_every_field_a_scenario_has() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scenarios/schema.json"
    ))
    .unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let props = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        k.sort();
        k
    };
    let s = serde_json::to_value(skimmer()).unwrap();
    let mut top: Vec<String> = s.as_object().unwrap().keys().cloned().collect();
    top.sort();
    assert_eq!(props(&schema), top);
    let mut inject: Vec<String> = s["injects"][0]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    inject.sort();
    assert_eq!(props(&schema["properties"]["injects"]["items"]), inject);
}
