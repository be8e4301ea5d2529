//! `bulwark laws` and `bulwark obligations` as an incident team would run them.

use crate::common::*;

#[test]
fn obligations_for_a_scenario() {
    let (t, dir) = tempdir();
    let scenario = t.path().join("scenario.json");
    std::fs::write(
        &scenario,
        r#"{"aware_at": "2026-03-02T09:00:00Z", "encrypted": false, "key_compromised": false,
            "affected": [{"jurisdiction": "US-CA", "elements": ["name", "card_number", "card_security_code"], "count": 600},
                         {"jurisdiction": "US-TX", "elements": ["name", "national_id"], "count": 300}]}"#,
    )
    .unwrap();
    let d = dir.to_str().unwrap();
    let o = run(&[
        "obligations",
        "--data-dir",
        d,
        "--scenario",
        scenario.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["disclaimer"]
        .as_str()
        .unwrap()
        .contains("Not legal advice"));
    let find = |j: &str, r: &str| {
        v["obligations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["jurisdiction"] == j && o["recipient"] == r)
            .cloned()
    };
    assert_eq!(
        find("US-TX", "regulator").unwrap()["deadline"],
        "2026-04-01T09:00:00Z"
    );
    assert_eq!(
        find("US-TX", "individuals").unwrap()["deadline"],
        "2026-05-01T09:00:00Z"
    );
    assert_eq!(find("US-CA", "individuals").unwrap()["count"], 600);
    assert!(
        find("US-CA", "regulator").is_some(),
        "more than 500 Californians: the attorney general too"
    );
    assert!(v["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["recipient"] == "card_brands"));
    // The human table says the same and ends with the disclaimer.
    let o = run(&[
        "obligations",
        "--data-dir",
        d,
        "--scenario",
        scenario.to_str().unwrap(),
    ]);
    assert!(
        stdout(&o).contains("US-TX") && stdout(&o).trim_end().ends_with("before acting."),
        "{}",
        stdout(&o)
    );
    // A broken scenario is a clear error.
    std::fs::write(&scenario, r#"{"aware_at": "yesterday", "affected": []}"#).unwrap();
    let o = run(&[
        "obligations",
        "--data-dir",
        d,
        "--scenario",
        scenario.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is not a valid scenario"),
        "{}",
        stderr(&o)
    );
    let o = run(&["obligations", "--data-dir", d]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("give --scenario FILE"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn laws_lint_list_and_local_overrides() {
    let (t, dir) = tempdir();
    let o = run(&["laws", "lint"]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(stdout(&o).contains("0 error(s)"));
    let d = dir.to_str().unwrap();
    let o = run(&["laws", "list", "--data-dir", d, "--json"]);
    let ids: Vec<String> = stdout(&o)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    for id in [
        "US-CA", "US-TX", "US-PR", "US-GU", "US-VI", "US-DC", "EU", "GB", "CA-QC", "PCI-VISA",
    ] {
        assert!(
            ids.iter().any(|i| i == id),
            "{id} missing from the catalogue"
        );
    }
    // A broken local override is rejected with its position.
    let broken = t.path().join("laws");
    std::fs::create_dir_all(&broken).unwrap();
    let text = bulwark_law_text("US-TX").replace("national_id", "ssn");
    std::fs::write(broken.join("US-TX.toml"), text).unwrap();
    let o = run(&["laws", "lint", broken.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("US-TX.toml:") && stdout(&o).contains("ssn"),
        "{}",
        stdout(&o)
    );
}

/// The review process: `--strict` fails on a missing section citation (the
/// plain lint does not), and `laws changes --since` lists what counsel must
/// read, from the data directory's catalogue.
#[test]
fn laws_lint_strict_and_changes_since() {
    let (t, dir) = tempdir();
    let laws = t.path().join("review");
    std::fs::create_dir_all(&laws).unwrap();
    let text = bulwark_law_text("US-TX");
    std::fs::write(laws.join("US-TX.toml"), &text).unwrap();
    let l = laws.to_str().unwrap();
    let o = run(&["laws", "lint", "--strict", "--today", "2026-12-02", l]);
    assert!(o.status.success(), "{}", stdout(&o));
    let uncited = text.replacen("citation = \"Tex. Bus. & Com. Code 521.053(i)\"\n", "", 1);
    std::fs::write(laws.join("US-TX.toml"), uncited).unwrap();
    let o = run(&["laws", "lint", l]);
    assert!(o.status.success(), "{}", stdout(&o));
    let o = run(&["laws", "lint", "--strict", "--today", "2026-12-02", l]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("US-TX.toml:"), "{}", stdout(&o));
    assert!(stdout(&o).contains("has no `citation`"), "{}", stdout(&o));
    // Stale review a year and a day later.
    std::fs::write(laws.join("US-TX.toml"), &text).unwrap();
    let o = run(&["laws", "lint", "--strict", "--today", "2027-12-03", l]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("more than 12 months"), "{}", stdout(&o));
    let o = run(&["laws", "lint", "--strict", "--today", "yesterday", l]);
    assert!(!o.status.success());

    let d = dir.to_str().unwrap();
    let o = run(&[
        "laws",
        "changes",
        "--data-dir",
        d,
        "--since",
        "2026-12-01",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stdout(&o));
    let rows: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(rows.iter().any(|r| r["law"] == "US-PA"
        && r["kind"] == "catalogue"
        && r["summary"].as_str().unwrap().contains("Act 33")));
    assert!(rows
        .iter()
        .all(|r| r["date"].as_str().unwrap() >= "2026-12-01"));
}

fn bulwark_law_text(id: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../../laws/{id}.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn scope_from_the_access_log_feeds_obligations() {
    let (t, dir) = tempdir();
    let admin = init(&dir);
    let server = Server::start(&dir, &["--no-detection"], &[]);
    let writer = create_key(server.addr, &admin, &["vault:write"]);
    let stolen = create_key(server.addr, &admin, &["vault:reveal:*"]);
    let mut ids = Vec::new();
    for (i, sub) in ["US-TX", "US-TX", "US-CA"].iter().enumerate() {
        let (_, v) = http(server.addr, "POST", "/v1/customers", Some(&writer), &[], Some(&serde_json::json!({
            "residency": {"country": "US", "subdivision": sub},
            "fields": {"name": format!("N{i}"), "national_id": format!("123-45-678{i}"), "email": format!("s{i}@example.com")}}))).unwrap();
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    for id in &ids[..2] {
        let (s, _) = http(
            server.addr,
            "GET",
            &format!("/v1/customers/{id}?fields=name,national_id"),
            Some(&stolen),
            &[("X-Bulwark-Purpose", "support")],
            None,
        )
        .unwrap();
        assert_eq!(s, 200);
    }
    drop(server);
    let key_id = format!("key:{}", &stolen[4..16]);
    let scenario = t.path().join("scope.json");
    let d = dir.to_str().unwrap();
    let o = run(&[
        "scope",
        "--data-dir",
        d,
        "--principal",
        &key_id,
        "--since",
        "1h",
        "--scenario-out",
        scenario.to_str().unwrap(),
        "--aware-at",
        "2026-03-02T09:00:00Z",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["customers"].as_array().unwrap().len(),
        2,
        "only the two revealed customers: {v}"
    );
    assert_eq!(
        v["affected"],
        serde_json::json!([{"jurisdiction": "US-TX", "elements": ["name", "national_id"], "count": 2}])
    );
    let o = run(&[
        "obligations",
        "--data-dir",
        d,
        "--scenario",
        scenario.to_str().unwrap(),
        "--json",
    ]);
    let ev: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let tx_individuals = ev["obligations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["jurisdiction"] == "US-TX" && o["recipient"] == "individuals")
        .unwrap();
    assert_eq!(tx_individuals["count"], 2);
    assert_eq!(tx_individuals["deadline"], "2026-05-01T09:00:00Z");

    // The same scope as a snapshot on an incident; its obligations become tasks with deadlines.
    let o = run(&[
        "incident",
        "open",
        "--data-dir",
        d,
        "--title",
        "Stolen support key",
        "--severity",
        "sev1",
        "--classification",
        "credential_theft",
        "--aware-at",
        "2026-03-02T09:00:00Z",
        "--discovered-at",
        "2026-03-02T08:00:00Z",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["obligations", "--data-dir", d, "--incident", "1"]);
    assert!(stderr(&o).contains("has no scope yet"), "{}", stderr(&o));
    let o = run(&[
        "scope",
        "--data-dir",
        d,
        "--principal",
        &key_id,
        "--since",
        "1h",
        "--incident",
        "1",
    ]);
    assert!(
        stderr(&o).contains("scope v1 of incident 1"),
        "{}",
        stderr(&o)
    );
    let o = run(&["obligations", "--data-dir", d, "--incident", "1", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("new notification task(s)"),
        "{}",
        stderr(&o)
    );
    let rec: serde_json::Value =
        serde_json::from_slice(&run(&["incident", "show", "--data-dir", d, "1", "--json"]).stdout)
            .unwrap();
    let task = rec["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == "obligations/US-TX/individuals")
        .cloned();
    let task = task.unwrap_or_else(|| panic!("an obligation task: {rec}"));
    assert_eq!(task["due_at"], "2026-05-01T09:00:00Z");
    assert_eq!(task["role"], "legal");
    // Running it again adds nothing new.
    let o = run(&["obligations", "--data-dir", d, "--incident", "1", "--json"]);
    assert!(
        stderr(&o).contains("0 new notification task(s)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn scope_from_an_imported_export() {
    let (t, dir) = tempdir();
    init(&dir);
    let d = dir.to_str().unwrap();
    let csv = t.path().join("export.csv");
    std::fs::write(
        &csv,
        "customer_id,country,subdivision\nc1,US,US-MA\nc2,US,US-MA\nc3,DE,\nc4,XX,\nc5,US,US-ZZ\n",
    )
    .unwrap();
    let o = run(&[
        "scope",
        "--data-dir",
        d,
        "--import",
        csv.to_str().unwrap(),
        "--elements",
        "name,card_number,card_security_code",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("line 5") && err.contains("line 6") && err.contains("nothing imported"),
        "{err}"
    );
    std::fs::write(
        &csv,
        "customer_id,country,subdivision\nc1,US,US-MA\nc2,US,US-MA\nc3,DE,\n",
    )
    .unwrap();
    let scenario = t.path().join("s.json");
    let o = run(&[
        "scope",
        "--data-dir",
        d,
        "--import",
        csv.to_str().unwrap(),
        "--elements",
        "name,card_number,card_security_code",
        "--encrypted",
        "--scenario-out",
        scenario.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let groups: Vec<(String, u64)> = v["affected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["jurisdiction"].as_str().unwrap().to_owned(),
                g["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        groups.contains(&("US-MA".into(), 2)) && groups.contains(&("DE".into(), 1)),
        "{groups:?}"
    );
    // Encrypted with the key safe: Massachusetts' safe harbour applies.
    let o = run(&[
        "obligations",
        "--data-dir",
        d,
        "--scenario",
        scenario.to_str().unwrap(),
        "--json",
    ]);
    let ev: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        !ev["obligations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["jurisdiction"] == "US-MA" && o["recipient"] == "individuals"),
        "{ev}"
    );
    assert!(ev["not_triggered"].to_string().contains("US-MA"), "{ev}");
}
