//! `bulwark scope --asset NAME`: a compromised system from the asset inventory
//! puts every vault customer whose data it held in scope.

use crate::common::*;

#[test]
fn scope_from_a_compromised_asset() {
    let (t, dir) = tempdir();
    let admin = init(&dir);
    let server = Server::start(&dir, &["--no-detection"], &[]);
    let writer = create_key(server.addr, &admin, &["vault:write"]);
    let mut ids = Vec::new();
    for (i, (country, sub)) in [("US", Some("US-TX")), ("US", Some("US-TX")), ("DE", None)]
        .iter()
        .enumerate()
    {
        let mut fields =
            serde_json::json!({"name": format!("N{i}"), "email": format!("s{i}@example.com")});
        if i == 0 {
            fields["card_number"] = serde_json::json!("4111111111111111");
        }
        let (s, v) = http(
            server.addr,
            "POST",
            "/v1/customers",
            Some(&writer),
            &[],
            Some(&serde_json::json!({"residency": {"country": country, "subdivision": sub}, "fields": fields})),
        )
        .unwrap();
        assert_eq!(s, 201, "{v}");
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    drop(server);
    let d = dir.to_str().unwrap();

    // No inventory yet, then an unknown name: refused, naming the known assets.
    let o = run(&["scope", "--data-dir", d, "--asset", "crm"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no asset named `crm`") && stderr(&o).contains("bulwark assets add"),
        "{}",
        stderr(&o)
    );
    for (name, elements) in [
        ("crm", &["email", "name"][..]),
        ("payments", &["card_number"][..]),
    ] {
        let mut args = vec![
            "assets",
            "add",
            "--data-dir",
            d,
            "--name",
            name,
            "--customers",
            "3",
            "--hosting",
            "SaaS",
            "--owner",
            "ops",
        ];
        for e in elements {
            args.extend(["--element", e]);
        }
        let o = run(&args);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let o = run(&["scope", "--data-dir", d, "--asset", "crn"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("`crn`") && stderr(&o).contains("known: crm, payments"),
        "{}",
        stderr(&o)
    );
    // --asset is its own basis: not with principals, a window or an import.
    let o = run(&[
        "scope",
        "--data-dir",
        d,
        "--asset",
        "crm",
        "--principal",
        "key:abc",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));

    // Every customer, with the asset's elements.
    let o = run(&["scope", "--data-dir", d, "--asset", "crm", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut got: Vec<(String, serde_json::Value)> = v["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_owned(), c["elements"].clone()))
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    let mut want: Vec<(String, serde_json::Value)> = ids
        .iter()
        .map(|id| (id.clone(), serde_json::json!(["name", "email"])))
        .collect();
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got, want);
    assert_eq!(
        v["affected"],
        serde_json::json!([{"jurisdiction": "DE", "elements": ["name", "email"], "count": 1},
                           {"jurisdiction": "US-TX", "elements": ["name", "email"], "count": 2}])
    );
    assert_eq!(
        v["by_jurisdiction"],
        serde_json::json!({"DE": 1, "US-TX": 2})
    );
    assert_eq!(v["by_element"], serde_json::json!({"name": 3, "email": 3}));

    // The card system held a card only for the customer the vault has one for.
    let o = run(&["scope", "--data-dir", d, "--asset", "payments", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["customers"],
        serde_json::json!([{"id": ids[0], "residency": {"country": "US", "subdivision": "US-TX"},
                            "elements": ["card_number"], "reveals": 0}])
    );

    // The human summary names the asset.
    let o = run(&["scope", "--data-dir", d, "--asset", "crm"]);
    assert!(
        stdout(&o).contains("3 customers affected by the compromise of crm"),
        "{}",
        stdout(&o)
    );

    // As an incident's snapshot and a scenario, with --encrypted / --key-compromised.
    let o = run(&[
        "incident",
        "open",
        "--data-dir",
        d,
        "--title",
        "CRM export leaked",
        "--severity",
        "sev2",
        "--classification",
        "third_party_breach",
        "--aware-at",
        "2026-03-02T09:00:00Z",
        "--discovered-at",
        "2026-03-02T08:00:00Z",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let scenario = t.path().join("scenario.json");
    let o = run(&[
        "scope",
        "--data-dir",
        d,
        "--asset",
        "crm",
        "--incident",
        "1",
        "--encrypted",
        "--key-compromised",
        "--scenario-out",
        scenario.to_str().unwrap(),
        "--aware-at",
        "2026-03-02T09:00:00Z",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("scope v1 of incident 1"),
        "{}",
        stderr(&o)
    );
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&scenario).unwrap()).unwrap();
    assert_eq!(s["encrypted"], true);
    assert_eq!(s["key_compromised"], true);
    assert_eq!(s["affected"].as_array().unwrap().len(), 2);
    let rec: serde_json::Value =
        serde_json::from_slice(&run(&["incident", "show", "--data-dir", d, "1", "--json"]).stdout)
            .unwrap();
    let note = rec["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["text"] == "Scope v1: 3 customers affected")
        .cloned()
        .unwrap_or_else(|| panic!("a scope entry on the timeline: {rec}"));
    let summary = &note["details"]["summary"];
    assert_eq!(summary["source"], "asset", "{note}");
    assert_eq!(summary["query"]["asset"], "crm");
    assert_eq!(summary["encrypted"], true);
    assert_eq!(summary["key_compromised"], true);
    // The snapshot feeds obligations like an access-log scope does.
    let o = run(&["obligations", "--data-dir", d, "--incident", "1", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("scope v1"), "{}", stderr(&o));
}
