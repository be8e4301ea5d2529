//! `bulwark drill check`: every shipped scenario's attack, replayed at high
//! speed through the data directory's real rules, reaches the detections the
//! scenario expects; a scenario whose rule is missing says so and fails.

use crate::common::*;

#[test]
fn every_shipped_scenario_reaches_its_expected_detections() {
    let (_t, dir) = tempdir();
    let d = dir.to_str().unwrap();
    let o = run(&[
        "drill",
        "check",
        "--data-dir",
        d,
        "--speed",
        "600x",
        "--json",
    ]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let runs: Vec<serde_json::Value> = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(runs.len() >= 8);
    let mut detections = 0;
    for r in &runs {
        for d in r["detections"].as_array().unwrap() {
            assert_eq!(d["outcome"], "met", "{}: {d}", r["scenario"]);
            detections += 1;
        }
        if r["scenario"] != "third-party-processor" {
            assert!(r["events"].as_u64().unwrap() > 0, "{r}");
            assert!(r["ttd_ms"].as_i64().is_some(), "{r}");
        }
    }
    assert!(detections >= 15, "{detections}");
    // The stolen key's harvest is 120 reveals a second apart: the mass-reveal
    // correlation (100 in 10 minutes) fires at the 100th, 99 s in scenario time.
    let stolen = runs
        .iter()
        .find(|r| r["scenario"] == "stolen-api-key")
        .unwrap();
    let mass = stolen["detections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "Mass Vault Reveals By One Principal")
        .unwrap();
    assert_eq!(mass["at_ms"], 99_000);
}

#[test]
fn a_scenario_whose_rule_never_fires_fails_the_check_and_a_broken_one_names_its_line() {
    let (_t, dir) = tempdir();
    let d = dir.to_str().unwrap();
    std::fs::create_dir_all(dir.join("scenarios")).unwrap();
    std::fs::write(
        dir.join("scenarios/quiet.yaml"),
        "id: quiet
title: Nothing fires
summary: A benign login.
mode: replay
duration: 1h
objectives: [{id: detect, title: Detect}]
injects:
  - id: benign
    at: 0s
    events: [{\"event.action\": \"login\", \"event.outcome\": \"success\", \"user.name\": \"ana\"}]
expected_detections:
  - {rule: Admin Login From A New Country, within: 5m, objective: detect}
scoring: {ttd_target: 5m, ttc_target: 1h}
",
    )
    .unwrap();
    let o = run(&["drill", "check", "--data-dir", d, "quiet"]);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("missed  Admin Login From A New Country"),
        "{}",
        stdout(&o)
    );
    let o = run(&["drill", "list", "--data-dir", d]);
    assert!(stdout(&o).contains("quiet") && stdout(&o).contains("web-skimmer"));

    std::fs::write(
        dir.join("scenarios/quiet.yaml"),
        "id: quiet\ntitle: [unclosed\n",
    )
    .unwrap();
    let o = run(&["drill", "check", "--data-dir", d]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("quiet.yaml:3:"), "{}", stderr(&o));
}
