//! `bulwark ledger verify` against a SQLite file edited behind Bulwark's back.

use std::path::Path;

use crate::common::*;

/// A data directory with a dozen ledger entries and a stored checkpoint at the head.
fn ledger_dir() -> (tempfile::TempDir, std::path::PathBuf) {
    let (t, dir) = tempdir();
    init(&dir);
    let d = dir.to_str().unwrap();
    for i in 0..10 {
        let o = run(&[
            "keys",
            "create",
            "--data-dir",
            d,
            "--name",
            &format!("k{i}"),
            "--scope",
            "vault:read",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    (t, dir)
}

fn verify(dir: &Path, extra: &[&str]) -> (bool, String) {
    let mut args = vec!["ledger", "verify", "--data-dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert!(
        o.status.code() == Some(0) || o.status.code() == Some(1),
        "verify errored: {}",
        stderr(&o)
    );
    (o.status.success(), stdout(&o) + &stderr(&o))
}

fn sql(dir: &Path, statements: &str) {
    let c = rusqlite::Connection::open(dir.join("bulwark.db")).unwrap();
    c.execute_batch(statements).unwrap();
}

fn entries(dir: &Path) -> i64 {
    let c = rusqlite::Connection::open(dir.join("bulwark.db")).unwrap();
    c.query_row("SELECT count(*) FROM ledger", [], |r| r.get(0))
        .unwrap()
}

fn checkpoint(dir: &Path) -> String {
    let o = run(&[
        "ledger",
        "checkpoint",
        "--data-dir",
        dir.to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
}

#[test]
fn intact_ledger_verifies() {
    let (_t, dir) = ledger_dir();
    let (ok, out) = verify(&dir, &[]);
    assert!(ok, "{out}");
    let n = entries(&dir);
    assert!(n >= 10, "init and ten keys are all ledgered");
    assert!(out.contains(&format!("{n} entries")), "{out}");
}

#[test]
fn modified_entry_is_named() {
    let (_t, dir) = ledger_dir();
    sql(
        &dir,
        "UPDATE ledger SET details = '{\"name\":\"k4\",\"scopes\":[\"admin\"]}' WHERE seq = 7",
    );
    let (ok, out) = verify(&dir, &[]);
    assert!(!ok);
    assert!(out.contains("entry 7 was modified"), "{out}");
}

#[test]
fn deleted_entry_is_named() {
    let (_t, dir) = ledger_dir();
    sql(&dir, "DELETE FROM ledger WHERE seq = 5");
    let (ok, out) = verify(&dir, &[]);
    assert!(!ok);
    assert!(out.contains("entry 5"), "{out}");
}

#[test]
fn reordered_entries_are_named() {
    let (_t, dir) = ledger_dir();
    // Swap the contents of entries 4 and 6, keeping each row's seq.
    sql(
        &dir,
        "
        CREATE TEMP TABLE s AS SELECT * FROM ledger WHERE seq IN (4, 6);
        UPDATE ledger SET at_ms = (SELECT at_ms FROM s WHERE seq = 10 - ledger.seq),
                          actor = (SELECT actor FROM s WHERE seq = 10 - ledger.seq),
                          action = (SELECT action FROM s WHERE seq = 10 - ledger.seq),
                          subject = (SELECT subject FROM s WHERE seq = 10 - ledger.seq),
                          details = (SELECT details FROM s WHERE seq = 10 - ledger.seq),
                          prev_hash = (SELECT prev_hash FROM s WHERE seq = 10 - ledger.seq),
                          hash = (SELECT hash FROM s WHERE seq = 10 - ledger.seq)
        WHERE seq IN (4, 6);",
    );
    let (ok, out) = verify(&dir, &[]);
    assert!(!ok);
    assert!(out.contains("entry 4"), "{out}");
}

#[test]
fn truncation_behind_a_checkpoint_is_detected() {
    let (_t, dir) = ledger_dir();
    checkpoint(&dir);
    let n = entries(&dir);
    sql(&dir, "DELETE FROM ledger WHERE seq > 9");
    let (ok, out) = verify(&dir, &[]);
    assert!(!ok);
    assert!(
        out.contains("ends at entry 9") && out.contains(&format!("up to {n}")),
        "{out}"
    );
}

#[test]
fn an_offbox_checkpoint_catches_a_rewrite_that_also_removed_stored_checkpoints() {
    let (t, dir) = ledger_dir();
    let cp = checkpoint(&dir);
    let cp_file = t.path().join("checkpoint.json");
    std::fs::write(&cp_file, &cp).unwrap();
    let (ok, out) = verify(&dir, &["--against", cp_file.to_str().unwrap()]);
    assert!(ok, "{out}");
    // The attacker cuts the tail and the stored checkpoints that would betray it.
    sql(
        &dir,
        "DELETE FROM ledger WHERE seq > 10; DELETE FROM ledger_checkpoints;",
    );
    let (ok, out) = verify(&dir, &[]);
    assert!(
        ok,
        "without an anchor the shortened chain is self-consistent: {out}"
    );
    let (ok, out) = verify(&dir, &["--against", cp_file.to_str().unwrap()]);
    assert!(!ok);
    assert!(out.contains("ends at entry 10"), "{out}");
    // A malformed checkpoint file is a clear error, not a verdict.
    std::fs::write(&cp_file, "{\"seq\": 1}").unwrap();
    let o = run(&[
        "ledger",
        "verify",
        "--data-dir",
        dir.to_str().unwrap(),
        "--against",
        cp_file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is not a Bulwark checkpoint"),
        "{}",
        stderr(&o)
    );
}
