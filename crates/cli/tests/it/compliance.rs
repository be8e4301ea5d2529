//! `bulwark compliance`: the calendar of recurring duties as a store's IT
//! lead runs it from cron — overdue duties make it exit 3; recording one as
//! done with its evidence moves its due date and is ledgered.

use crate::common::*;

fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

#[test]
fn status_flags_overdue_duties_and_completion_moves_the_due_date() {
    let (_t, dir) = tempdir();
    init(&dir);
    let d = dir.to_str().unwrap();
    // Never done: every duty is due from the day the directory was created,
    // so a week later all are overdue.
    let later = (time::OffsetDateTime::now_utc().date() + time::Duration::days(7)).to_string();
    let o = run(&[
        "compliance",
        "status",
        "--data-dir",
        d,
        "--today",
        &later,
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let rows: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(rows.len() >= 10);
    assert!(rows.iter().all(|r| r["state"] == "overdue"));
    let review = rows
        .iter()
        .find(|r| r["id"] == "pci-7.2.4-access-review")
        .unwrap();
    assert_eq!(review["requirement"], "PCI DSS v4.0.1 7.2.4");
    assert_eq!(review["days_overdue"], 7);

    // The wrong kind of evidence, a future date, an unknown duty: refused, nothing recorded.
    let o = run(&[
        "compliance",
        "complete",
        "--data-dir",
        d,
        "pci-7.2.4-access-review",
        "--evidence",
        "scan-report",
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("is completed by `access_review`, not by `scan_report`"),
        "{}",
        stderr(&o)
    );
    let o = run(&[
        "compliance",
        "complete",
        "--data-dir",
        d,
        "pci-7.2.4-access-review",
        "--evidence",
        "access-review",
        "--on",
        "2999-01-01",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("after today"), "{}", stderr(&o));
    let o = run(&[
        "compliance",
        "complete",
        "--data-dir",
        d,
        "no-such-duty",
        "--evidence",
        "document",
    ]);
    assert!(
        stderr(&o).contains("no compliance duty `no-such-duty`"),
        "{}",
        stderr(&o)
    );

    let on = today();
    let o = run(&[
        "compliance",
        "complete",
        "--data-dir",
        d,
        "pci-7.2.4-access-review",
        "--evidence",
        "access-review",
        "--ref",
        "review-2026-H2",
        "--on",
        &on,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&[
        "compliance",
        "status",
        "--data-dir",
        d,
        "--today",
        &later,
        "--json",
    ]);
    let review: serde_json::Value = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["id"] == "pci-7.2.4-access-review")
        .unwrap();
    assert_eq!(review["state"], "upcoming");
    assert_eq!(review["last_completed"], on.as_str());
    let six_months = bulwark_learn::Cadence::Months(6)
        .next_after(time::OffsetDateTime::now_utc().date())
        .unwrap()
        .to_string();
    assert_eq!(review["due"], six_months.as_str());

    // Ledgered, and the ledger still verifies.
    let c = rusqlite::Connection::open(dir.join("bulwark.db")).unwrap();
    let n: i64 = c
        .query_row(
            "SELECT count(*) FROM ledger WHERE action = 'compliance.completed' AND subject = 'pci-7.2.4-access-review'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
    assert!(run(&["ledger", "verify", "--data-dir", d]).status.success());

    // A scan report goes into the evidence locker with its completion; the
    // history shows its hash and it comes back out intact.
    let scan = [
        "compliance",
        "complete",
        "--data-dir",
        d,
        "pci-11.3.2-external-scan",
        "--evidence",
        "scan-report",
    ];
    let o = run(&scan);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("attach the file"), "{}", stderr(&o));
    let report = dir.join("asv-2026-q4.pdf");
    std::fs::write(&report, b"%PDF-1.7 ASV external scan: pass").unwrap();
    let mut with_file = scan.to_vec();
    with_file.extend(["--file", report.to_str().unwrap(), "--ref", "Acme ASV"]);
    let o = run(&with_file);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&[
        "compliance",
        "history",
        "--data-dir",
        d,
        "pci-11.3.2-external-scan",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["document"]["name"], "asv-2026-q4.pdf");
    assert_eq!(rows[0]["reference"], "Acme ASV");
    let sha = rows[0]["document"]["sha256"].as_str().unwrap().to_owned();
    assert!(dir.join("evidence").join(&sha).exists());
    let id = rows[0]["id"].to_string();
    let out = dir.join("copy.pdf");
    let o = run(&[
        "compliance",
        "document",
        "--data-dir",
        d,
        &id,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&report).unwrap()
    );
    // The external scan is no longer due (a quarter from today).
    let o = run(&["compliance", "status", "--data-dir", d, "--json"]);
    let ext: serde_json::Value = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["id"] == "pci-11.3.2-external-scan")
        .unwrap();
    assert_eq!(ext["state"], "upcoming", "{ext}");
    assert!(run(&["ledger", "verify", "--data-dir", d]).status.success());
}

#[test]
fn a_broken_local_duty_file_is_a_clear_error() {
    let (_t, dir) = tempdir();
    init(&dir);
    let local = dir.join("compliance");
    std::fs::create_dir_all(&local).unwrap();
    std::fs::write(
        local.join("ours.toml"),
        "[[duties]]\nid = \"x\"\ntitle = \"t\"\nrequirement = \"r\"\ncadence = \"fortnightly-ish\"\nowner = \"it\"\nevidence = [\"document\"]\n",
    )
    .unwrap();
    let o = run(&["compliance", "status", "--data-dir", dir.to_str().unwrap()]);
    // An error, not the "overdue" exit code a cron job alerts on.
    assert!(!o.status.success());
    assert_ne!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("ours.toml"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("`fortnightly-ish` is not a cadence"),
        "{}",
        stderr(&o)
    );
}
