//! `bulwark scope --incident N --asset NAME --tables … --where …` against the
//! compromised system's own database: a Magento-like shop on the real MariaDB
//! built from generated people, discovered and saved as an asset first. The
//! stored scope must equal the ground truth: exactly the customers with a row
//! in the compromised table that meets the condition, each with the elements
//! present there and the jurisdiction of their first address.

use std::collections::{BTreeMap, BTreeSet};

use bulwark_testkit::people::people;
use bulwark_testkit::shopdb::{magento, magento_order_date, Db};

use crate::common::*;

#[test]
fn scope_from_a_compromised_table_equals_the_ground_truth() {
    let people = people(400, 21);
    let mut db = Db::new("scope");
    magento(&mut db, &people);
    let dsn = db.reporting_dsn();
    let (_t, dir) = tempdir();
    init(&dir);
    let d = dir.to_str().unwrap();
    let o = run(&["discover", &dsn, "--data-dir", d, "--save-asset", "magento"]);
    assert!(
        stderr(&o).contains("asset magento saved: 400 customers"),
        "{}",
        stderr(&o)
    );
    let o = run(&[
        "incident",
        "open",
        "--data-dir",
        d,
        "--title",
        "Orders table dumped",
        "--severity",
        "sev1",
        "--classification",
        "sql_injection_exfiltration",
        "--aware-at",
        "2026-03-02T09:00:00Z",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));

    // The attacker dumped orders placed before April.
    let o = bulwark()
        .args([
            "scope",
            "--data-dir",
            d,
            "--incident",
            "1",
            "--asset",
            "magento",
            "--tables",
            "sales_order",
            "--where",
            "created_at < '2024-04-01'",
            "--json",
        ])
        .env("BULWARK_DISCOVER_DSN", &dsn)
        .deadline();
    assert!(o.status.success(), "{}", stderr(&o));
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let got: BTreeMap<String, (Option<String>, BTreeSet<String>)> = out["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let r = &c["residency"];
            let j = r["subdivision"]
                .as_str()
                .or(r["country"].as_str())
                .map(str::to_owned);
            let els = c["elements"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap().to_owned())
                .collect();
            (c["id"].as_str().unwrap().to_owned(), (j, els))
        })
        .collect();
    let mut want = BTreeMap::new();
    for p in people
        .iter()
        .filter(|p| p.orders > 0 && magento_order_date(p).as_str() < "2024-04-01")
    {
        // Every fifth customer has no address: residency unknown.
        let j = (p.n % 5 != 0).then(|| p.home.jurisdiction().to_owned());
        let els = ["email", "ip_address"]
            .map(str::to_owned)
            .into_iter()
            .collect();
        want.insert(format!("magento:{}", p.n), (j, els));
    }
    assert!(want.len() > 40, "the cut leaves a real scope");
    assert_eq!(got, want);

    // Stored as the incident's scope snapshot, with what was asked.
    let rec: serde_json::Value =
        serde_json::from_slice(&run(&["incident", "show", "--data-dir", d, "1", "--json"]).stdout)
            .unwrap();
    let note = rec["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["text"] == format!("Scope v1: {} customers affected", want.len()))
        .cloned()
        .unwrap_or_else(|| panic!("a scope entry on the timeline: {rec}"));
    let summary = &note["details"]["summary"];
    assert_eq!(summary["source"], "database", "{note}");
    assert_eq!(
        summary["query"]["tables"],
        serde_json::json!(["sales_order"])
    );
    assert_eq!(summary["query"]["where"], "created_at < '2024-04-01'");
    let unknown = want.values().filter(|(j, _)| j.is_none()).count();
    assert_eq!(summary["residency_unknown"], unknown);
    // No value of a customer in what scope printed or stored.
    let text = format!("{}{}{rec}", stdout(&o), stderr(&o));
    for p in &people {
        assert!(
            !text.contains(&p.email) && !text.contains(&p.ip),
            "a value leaked"
        );
    }

    // A table the asset does not tie to customers, and a broken condition: clear errors.
    let o = bulwark()
        .args([
            "scope",
            "--data-dir",
            d,
            "--asset",
            "magento",
            "--tables",
            "sales_order_payment",
        ])
        .env("BULWARK_DISCOVER_DSN", &dsn)
        .deadline();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("sales_order_payment is not a table of asset magento"),
        "{}",
        stderr(&o)
    );
    let o = bulwark()
        .args([
            "scope",
            "--data-dir",
            d,
            "--asset",
            "magento",
            "--tables",
            "sales_order",
            "--where",
            "no_such_column = 1",
        ])
        .env("BULWARK_DISCOVER_DSN", &dsn)
        .deadline();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no_such_column"), "{}", stderr(&o));
    // A second statement cannot ride in on --where (prepared statements).
    let o = bulwark()
        .args([
            "scope",
            "--data-dir",
            d,
            "--asset",
            "magento",
            "--tables",
            "sales_order",
            "--where",
            "1=1; DELETE FROM sales_order",
        ])
        .env("BULWARK_DISCOVER_DSN", &dsn)
        .deadline();
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
}
