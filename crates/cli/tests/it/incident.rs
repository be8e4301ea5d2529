//! Working an incident from the shell: open with playbook tasks, phases, notes, the review.

use crate::common::*;

#[test]
fn an_incident_from_open_to_review() {
    let (_t, dir) = tempdir();
    init(&dir);
    let d = dir.to_str().unwrap();
    let o = run(&[
        "incident",
        "open",
        "--data-dir",
        d,
        "--title",
        "Skimmer on <checkout>",
        "--severity",
        "sev1",
        "--classification",
        "web_skimmer",
        "--aware-at",
        "2026-11-20T09:00:00Z",
        "--element",
        "card_number",
        "--jurisdiction",
        "US-CA",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("opened incident 1"),
        "{}",
        stdout(&o)
    );
    let show = |d: &str| -> serde_json::Value {
        serde_json::from_slice(&run(&["incident", "show", "--data-dir", d, "1", "--json"]).stdout)
            .unwrap()
    };
    let rec = show(d);
    let tasks = rec["tasks"].as_array().unwrap();
    assert!(
        tasks.len() >= 5,
        "the web-skimmer playbook's tasks: {tasks:?}"
    );
    // Tasks due from awareness have absolute times counted from aware_at.
    let notify_team = tasks
        .iter()
        .find(|t| t["role"] == "incident_commander" && t["phase"] == "triage")
        .unwrap();
    assert_eq!(notify_team["due_at"], "2026-11-20T09:30:00Z");
    // Card data brings the acquirer task in.
    assert!(tasks
        .iter()
        .any(|t| t["title"].as_str().unwrap().contains("acquiring bank")));

    let o = run(&["incident", "advance", "--data-dir", d, "1", "closed"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("skips the normal order") && stderr(&o).contains("give a reason"),
        "{}",
        stderr(&o)
    );
    assert!(
        run(&["incident", "advance", "--data-dir", d, "1", "contained"])
            .status
            .success()
    );
    let o = run(&["incident", "advance", "--data-dir", d, "1", "notifying"]);
    assert!(
        stderr(&o).contains("cannot move the incident from contained to notifying"),
        "{}",
        stderr(&o)
    );
    assert!(run(&[
        "incident",
        "note",
        "--data-dir",
        d,
        "1",
        "Script removed; hash pinned"
    ])
    .status
    .success());
    let rec = show(d);
    let kinds: Vec<&str> = rec["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert!(
        kinds.iter().any(|k| k.contains("contained"))
            && kinds.iter().any(|k| k.contains("hash pinned")),
        "{kinds:?}"
    );

    // Findings go on the incident; the review uses them.
    let o = run(&[
        "incident",
        "update",
        "--data-dir",
        d,
        "1",
        "--root-cause",
        "Compromised CDN credentials let the attacker replace checkout.js",
        "--first-malicious-activity",
        "2026-11-18T22:00:00Z",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&[
        "incident",
        "update",
        "--data-dir",
        d,
        "1",
        "--patch",
        r#"{"severity": "sev9"}"#,
    ]);
    assert_eq!(o.status.code(), Some(2), "a bad severity is refused");
    let o = run(&["incident", "assign", "--data-dir", d, "1", "legal", "lee"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Work a task: done with a note; skipping another needs a reason.
    let key = notify_team["key"].as_str().unwrap().to_owned();
    let o = run(&[
        "incident",
        "task",
        "--data-dir",
        d,
        "1",
        &key,
        "done",
        "--note",
        "team paged 09:12",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rec = show(d);
    let task = rec["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == key.as_str())
        .unwrap()
        .clone();
    assert_eq!(task["status"]["state"], "done", "{task}");
    let other = rec["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] != key.as_str())
        .unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let o = run(&["incident", "task", "--data-dir", d, "1", &other, "skip"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("needs --note"), "{}", stderr(&o));
    let o = run(&[
        "incident",
        "report",
        "--data-dir",
        d,
        "1",
        "--format",
        "html",
    ]);
    let html = stdout(&o);
    assert!(
        html.contains("&lt;checkout&gt;") && !html.contains("<checkout>"),
        "user text is escaped"
    );
    assert!(html.contains("Time to contain"), "{html}");
    assert!(
        html.contains("Compromised CDN credentials"),
        "root cause in the review"
    );
    assert!(
        html.contains("1d 11h"),
        "time to detect: aware 2026-11-20 09:00 minus first activity 2026-11-18 22:00: {html}"
    );
    // Every change is in the ledger, which still verifies.
    let o = run(&["ledger", "verify", "--data-dir", d, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["intact"], true);
    assert!(v["status"]["entries"].as_u64().unwrap() >= 6);
}
