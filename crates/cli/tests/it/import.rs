//! `bulwark vault import --from DSN --mapping FILE` from a Magento-like shop
//! on the real MariaDB, with the shipped `docs/import/magento2.toml`: a run
//! killed with SIGKILL mid-way and run again leaves every customer in the
//! vault exactly once, where they live, and the counts verified.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bulwark_testkit::people::people;
use bulwark_testkit::shopdb::{magento, Db};

use crate::common::*;

fn checkpoint_imported(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir.join("imports"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .filter_map(|v| v["imported"].as_u64())
        .max()
        .unwrap_or(0)
}

#[test]
fn an_import_killed_midway_and_run_again_puts_every_customer_in_the_vault_once() {
    let people = people(3000, 31);
    let mut db = Db::new("import");
    magento(&mut db, &people);
    let dsn = db.reporting_dsn();
    let (_t, dir) = tempdir();
    init(&dir);
    let d = dir.to_str().unwrap();
    let mapping = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/import/magento2.toml"
    );
    let args = [
        "vault",
        "import",
        "--data-dir",
        d,
        "--mapping",
        mapping,
        "--batch",
        "100",
    ];

    let mut child = bulwark()
        .args(args)
        .env("BULWARK_DISCOVER_DSN", &dsn)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while checkpoint_imported(&dir) < 600 {
        assert!(Instant::now() < deadline, "the import made no progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let at_kill = checkpoint_imported(&dir);
    assert!(at_kill < 2400, "killed before the end ({at_kill})");

    let o = bulwark()
        .args(args)
        .env("BULWARK_DISCOVER_DSN", &dsn)
        .deadline();
    let out = format!("{}{}", stdout(&o), stderr(&o));
    assert!(o.status.success(), "{out}");
    assert!(out.contains("resuming an import"), "{out}");
    // The batch in flight at the kill may have been stored but not
    // checkpointed: read again, its customers are recognised by external id.
    let line = out
        .lines()
        .find(|l| l.contains("customers in customer_entity;"))
        .unwrap_or_else(|| panic!("{out}"));
    let n = |what: &str| -> u64 {
        let before = line.split(what).next().unwrap();
        before.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_eq!(n(" imported,") + n(" already in the vault"), 2400, "{line}");
    assert!(
        n(" already in the vault") <= 100,
        "at most one batch re-read: {line}"
    );
    assert!(
        line.ends_with("600 without a residency (not imported), 0 rejected"),
        "{line}"
    );
    assert!(
        out.contains("verified: every customer of customer_entity is accounted for"),
        "{out}"
    );

    // In the vault: each customer once, where their first address says.
    let store = bulwark_store::Store::open(&dir, None).unwrap();
    let mut got: BTreeMap<String, u64> = BTreeMap::new();
    for (r, n, _) in store.holdings_by_residency().unwrap() {
        *got.entry(r.subdivision.unwrap_or(r.country)).or_default() += n;
    }
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for p in people.iter().filter(|p| p.n % 5 != 0) {
        *want.entry(p.home.jurisdiction().to_owned()).or_default() += 1;
    }
    assert_eq!(got, want);
    drop(store);

    // Again from the first key: all there already, nobody twice.
    let o = bulwark()
        .args(args)
        .arg("--restart")
        .env("BULWARK_DISCOVER_DSN", &dsn)
        .deadline();
    let again = stdout(&o);
    assert!(o.status.success(), "{again}{}", stderr(&o));
    assert!(
        again.contains("0 imported, 2400 already in the vault"),
        "{again}"
    );
    for p in &people {
        assert!(
            !out.contains(&p.email) && !again.contains(&p.email),
            "a value was printed"
        );
    }
    // A mapping naming a column the table lacks: refused, naming it.
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(mapping)
            .unwrap()
            .replace("\"dob\"", "\"birthdate\""),
    )
    .unwrap();
    let o = bulwark()
        .args([
            "vault",
            "import",
            "--data-dir",
            d,
            "--mapping",
            bad.to_str().unwrap(),
        ])
        .env("BULWARK_DISCOVER_DSN", &dsn)
        .deadline();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("fields.date_of_birth: customer_entity has no column birthdate"),
        "{}",
        stderr(&o)
    );
}
