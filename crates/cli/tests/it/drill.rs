//! `bulwark drill check`: every shipped scenario's attack, replayed at high
//! speed through the data directory's real rules, reaches the detections the
//! scenario expects; a scenario whose rule is missing says so and fails.

use std::time::Duration;

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

/// `bulwark drill run` against a live `serve`: the run goes to its end and
/// prints its score; its messages reach the operators holding the injects'
/// roles over SMTP and nobody else — the loopback server sees no customer.
#[test]
fn a_drill_run_against_serve_mails_only_the_operators_of_its_roles() {
    use bulwark_access::OperatorRole;
    use bulwark_model::Role;
    let (t, dir) = tempdir();
    let d = dir.to_str().unwrap();
    init(&dir);
    let store = bulwark_testkit::reopen(&dir);
    bulwark_testkit::enrolled_operator(&store, "lee", &[OperatorRole::Team(Role::Legal)]);
    bulwark_testkit::enrolled_operator(
        &store,
        "cara",
        &[OperatorRole::Team(Role::CustomerService)],
    );
    bulwark_testkit::enrolled_operator(&store, "sam", &[OperatorRole::Team(Role::SecurityLead)]);
    drop(store);
    // The mail server is down when the drill starts: its messages wait and
    // are retried, not dropped.
    let port = free_port();
    let log = t.path().join("smtp.jsonl");
    let smtp = format!("127.0.0.1:{port}");
    let server = Server::start(
        &dir,
        &[
            "--smtp",
            &smtp,
            "--smtp-security",
            "none",
            "--smtp-from",
            "Shop Security <security@shop.example>",
            "--poll-every",
            "1",
            "--retry-after",
            "1",
        ],
        &[],
    );
    // Two days of processor breach at 10000x: about seventeen seconds.
    let o = bulwark()
        .args([
            "drill",
            "run",
            "third-party-processor",
            "--speed",
            "10000x",
            "--data-dir",
            d,
            "--detach",
        ])
        .deadline();
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !server.output().contains("a drill message will be retried")
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        server.output().contains("a drill message will be retried"),
        "{}",
        server.output()
    );
    let _smtp = smtp_sink(port, &log);
    let status = || {
        let o = run(&["drill", "status", "1", "--data-dir", d, "--json"]);
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_str::<serde_json::Value>(&stdout(&o)).unwrap()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut v = status();
    while v["run"]["state"] != "finished" && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
        v = status();
    }
    assert_eq!(v["run"]["state"], "finished", "{v}");
    assert_eq!(v["run"]["fired"].as_array().unwrap().len(), 2);
    // Nobody acted: the declared-incident objective is missed, and scored so.
    assert!(v["score"]["earned"].as_u64().unwrap() < v["score"]["possible"].as_u64().unwrap());

    let mut got: Vec<serde_json::Value> = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while got.len() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        got = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    }
    assert_eq!(got.len(), 2, "{got:?}\n{}", server.output());
    let mut to: Vec<String> = got
        .iter()
        .flat_map(|m| m["rcpt_to"].as_array().unwrap().clone())
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    to.sort();
    assert_eq!(to, ["cara@shop.example", "lee@shop.example"]);
    for m in &got {
        assert!(
            m["subject"].as_str().unwrap().starts_with("[DRILL 1]"),
            "{m}"
        );
        assert!(
            m["text"].as_str().unwrap().contains("This is a drill"),
            "{m}"
        );
    }

    // The after-action report and the status read the finished run.
    let o = run(&["drill", "report", "1", "--data-dir", d]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("processor"), "{}", stdout(&o));
    let o = run(&["drill", "status", "--data-dir", d]);
    assert!(stdout(&o).contains("finished"), "{}", stdout(&o));
    // Its improvement plan is listed with owners and due dates.
    let o = run(&["drill", "improvements", "--data-dir", d]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("drill 1"), "{}", stdout(&o));
    // The plan carries them as lessons to fold back (12.10.6), and the plan
    // test this drill was (12.10.2) is no longer among the duties due.
    let o = run(&["plan", "render", "--data-dir", d]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plan = stdout(&o);
    let upkeep = plan
        .split("## Keeping the plan current")
        .nth(1)
        .and_then(|s| s.split("## Playbooks").next())
        .unwrap_or_default();
    assert!(
        upkeep.contains("Open improvement items from drills") && upkeep.contains("| drill 1 |"),
        "{plan}"
    );
    assert!(!upkeep.contains("12.10.2"), "{upkeep}");
    assert!(upkeep.contains("PCI DSS v4.0.1 12.6.3"), "{upkeep}");
}

/// `bulwark demo`: synthetic customers, a served instance, the skimmer drill
/// detected and scoped by the demo team, in seconds at a high speed.
#[test]
fn the_demo_runs_the_skimmer_drill_from_detection_to_scope() {
    let (_t, dir) = tempdir();
    init(&dir);
    let mut cmd = bulwark();
    cmd.args([
        "demo",
        "--data-dir",
        dir.to_str().unwrap(),
        "--customers",
        "60",
        "--speed",
        "2000x",
        "--listen",
        "127.0.0.1:0",
    ])
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let server = bulwark_testkit::Server::spawn(cmd);
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while !server.output().contains("Scoped:") && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let out = server.output();
    assert!(out.contains("Creating 60 demo customers"), "{out}");
    assert!(out.contains("Detected: drill incident"), "{out}");
    // The drill's own synthetic customers, spread over eight jurisdictions.
    assert!(
        out.contains("Scoped: 24 customers in 8 jurisdictions"),
        "{out}"
    );
    // The demo's customers are real records of the demo directory.
    let store = bulwark_testkit::reopen(&dir);
    let n = store.list_customers(None, 1000).unwrap().len();
    assert!(n >= 60, "{n} customers");
}
