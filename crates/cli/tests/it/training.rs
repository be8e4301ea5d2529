//! `bulwark training`: the owner assigns a module, the operator signed in
//! with `bulwark login` takes it at the terminal (answers typed on stdin),
//! and the record shows a failed attempt as still open and a pass, with its
//! acknowledgement, as done.

use std::io::Write;
use std::process::Stdio;

use bulwark_access::OperatorRole;
use bulwark_model::Role;

use crate::common::*;

/// `training take phishing` as the operator of `session`, with `input` on stdin.
fn take(d: &str, session: &str, input: &str) -> std::process::Output {
    let mut child = bulwark()
        .env("BULWARK_SESSION", session)
        .args(["training", "take", "--data-dir", d, "phishing"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn status(d: &str) -> Vec<serde_json::Value> {
    let o = run(&["training", "status", "--data-dir", d, "--json"]);
    stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn take_reads_answers_from_stdin_and_records_the_grade_and_acknowledgement() {
    let (_t, dir) = tempdir();
    init(&dir);
    let d = dir.to_str().unwrap();
    let ana = operator_session(&dir, "ana", &[OperatorRole::Team(Role::SecurityLead)]);

    // Not assigned yet: refused, nothing recorded.
    let o = take(d, &ana, "2\n2\n1\n2\n2\nyes\n");
    assert!(!o.status.success());
    assert!(stderr(&o).contains("assign it first"), "{}", stderr(&o));

    let o = run(&[
        "training",
        "assign",
        "--data-dir",
        d,
        "--operator",
        "ana",
        "--module",
        "phishing",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = status(d);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["last_passed"], serde_json::Value::Null);

    // Wrong answers (one typo asked again): failed, the assignment stays open.
    let o = take(d, &ana, "1\n1\nseven\n1\n1\n1\nno\n");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("Phishing and social engineering"), "{out}");
    assert!(out.contains("1. An e-mail from"), "{out}");
    assert!(out.contains("2) Open the provider's site"), "{out}");
    assert!(out.contains("Answer with a number from 1 to 3"), "{out}");
    assert!(out.contains("FAILED"), "{out}");
    let rows = status(d);
    assert_eq!(rows[0]["last_passed"], serde_json::Value::Null);
    assert_eq!(rows[0]["failed_attempts"], 1);
    assert_eq!(rows[0]["acknowledged"], false);

    // Input that ends early records nothing.
    let o = take(d, &ana, "2\n2\n");
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("nothing was recorded"),
        "{}",
        stderr(&o)
    );
    assert_eq!(status(d)[0]["failed_attempts"], 1);

    // The right answers and the acknowledgement: passed and recorded.
    let o = take(d, &ana, "2\n2\n1\n2\n2\nyes\n");
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("PASSED: 5 of 5 right"),
        "{}",
        stdout(&o)
    );
    let rows = status(d);
    let today = time::OffsetDateTime::now_utc().date().to_string();
    assert_eq!(rows[0]["last_passed"], today.as_str());
    assert_eq!(rows[0]["acknowledged"], true);
    assert_eq!(rows[0]["state"], "current");
}
