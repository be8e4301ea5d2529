//! Notices end to end through the real binary: scope → render (checked per
//! jurisdiction) → legal approval → SMTP delivery to a real server on loopback
//! (Python's aiosmtpd), with the sender killed mid-run and resumed.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

const FACTS: &str = r#"
store = "Example Outdoor Gear"
what_happened = "An attacker used a stolen administrator key to read customer records."
breach_start = "2026-10-01"
store_actions = "We revoked the key and engaged forensic investigators."
consequences = "Your information could be used for phishing."
complaint_process = "To complain to us, write to privacy@example.test; our privacy officer answers within 30 days."
[contact]
phone = "1-800-555-0100"
email = "privacy@example.test"
"#;

fn tempdir() -> (tempfile::TempDir, std::path::PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    (t, d)
}

/// The text of a PDF, by poppler's pdftotext (`scripts/test` installs
/// poppler-utils; without it this fails and says so).
fn pdftotext(pdf: &Path) -> String {
    let out = match Command::new("pdftotext").arg(pdf).arg("-").output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("pdftotext not found: install poppler-utils (scripts/test does this)")
        }
        Err(e) => panic!("running pdftotext: {e}"),
    };
    assert!(
        out.status.success(),
        "pdftotext: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn ok(o: &std::process::Output) -> String {
    assert!(o.status.success(), "failed: {}\n{}", stdout(o), stderr(o));
    stdout(o)
}

/// Customers in the vault and a scope snapshot on incident 1 naming them.
fn setup(t: &Path, d: &str, people: &[(&str, &str, &str)], elements: &str) -> Vec<String> {
    let people: Vec<_> = people.iter().map(|&(c, s, e)| (c, s, e, None)).collect();
    setup_languages(t, d, &people, elements)
}

/// [`setup`] with each customer's language preference.
fn setup_languages(
    t: &Path,
    d: &str,
    people: &[(&str, &str, &str, Option<&str>)],
    elements: &str,
) -> Vec<String> {
    let mut ids = Vec::new();
    for (i, (country, sub, email, language)) in people.iter().enumerate() {
        let doc = t.join(format!("c{i}.json"));
        let mut fields = serde_json::json!({"name": format!("Customer {i}"), "national_id": format!("123-45-{:04}", i)});
        if !email.is_empty() {
            fields["email"] = serde_json::json!(email);
        } else {
            fields["postal_address"] = serde_json::json!(format!("{i} Main Street, Springfield"));
        }
        let residency = if sub.is_empty() {
            serde_json::json!({"country": country})
        } else {
            serde_json::json!({"country": country, "subdivision": sub})
        };
        let mut customer = serde_json::json!({"residency": residency, "fields": fields});
        if let Some(l) = language {
            customer["language"] = serde_json::json!(l);
        }
        std::fs::write(&doc, customer.to_string()).unwrap();
        ids.push(
            ok(&run(&[
                "vault",
                "put",
                "--data-dir",
                d,
                doc.to_str().unwrap(),
            ]))
            .trim()
            .to_owned(),
        );
    }
    let csv = t.join("export.csv");
    let mut text = "customer_id,country,subdivision\n".to_owned();
    for (id, (c, s, ..)) in ids.iter().zip(people) {
        text.push_str(&format!("{id},{c},{s}\n"));
    }
    std::fs::write(&csv, text).unwrap();
    ok(&run(&[
        "incident",
        "open",
        "--data-dir",
        d,
        "--title",
        "Export stolen",
        "--severity",
        "sev1",
        "--classification",
        "third_party_breach",
        "--aware-at",
        "2026-10-21T09:00:00Z",
        "--discovered-at",
        "2026-10-21T08:00:00Z",
    ]));
    ok(&run(&[
        "scope",
        "--data-dir",
        d,
        "--import",
        csv.to_str().unwrap(),
        "--elements",
        elements,
        "--incident",
        "1",
    ]));
    ids
}

/// `bulwark notices approve` of incident 1's `version` by the operator
/// signed in with `session` (from `operator_session`).
fn approve(d: &str, version: &str, session: &str) -> std::process::Output {
    bulwark()
        .env("BULWARK_SESSION", session)
        .args([
            "notices",
            "approve",
            "--data-dir",
            d,
            "--incident",
            "1",
            "--version",
            version,
        ])
        .deadline()
}

/// Legal operators `lee` and `mallory`, signed in.
fn legal_sessions(d: &str) -> (String, String) {
    let legal = [bulwark_access::OperatorRole::Team(
        bulwark_model::Role::Legal,
    )];
    (
        operator_session(Path::new(d), "lee", &legal),
        operator_session(Path::new(d), "mallory", &legal),
    )
}

/// `bulwark notices send` for incident 1 to a plain SMTP server on loopback.
fn sender(d: &str, smtp: &str) -> Command {
    let mut c = bulwark();
    c.args([
        "notices",
        "send",
        "--data-dir",
        d,
        "--incident",
        "1",
        "--smtp",
        smtp,
        "--security",
        "none",
        "--from",
        "Example Outdoor Gear <privacy@example.test>",
    ]);
    c
}

fn received(log: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn counts(d: &str) -> HashMap<String, u64> {
    let v: serde_json::Value = serde_json::from_str(&ok(&run(&[
        "notices",
        "status",
        "--data-dir",
        d,
        "--incident",
        "1",
        "--json",
    ])))
    .unwrap();
    let mut out = HashMap::new();
    for states in v["outbox"]["counts"].as_object().unwrap().values() {
        for (s, n) in states.as_object().unwrap() {
            *out.entry(s.clone()).or_default() += n.as_u64().unwrap();
        }
    }
    out
}

#[test]
fn each_notice_is_delivered_exactly_once_across_a_killed_sender() {
    let (t, dir) = tempdir();
    init(&dir);
    let d = dir.to_str().unwrap();
    const N: usize = 60;
    let people: Vec<(String, String, String)> = (0..N)
        .map(|i| {
            (
                "US".into(),
                if i % 2 == 0 { "US-TX" } else { "US-CA" }.into(),
                format!("c{i}@example.test"),
            )
        })
        .collect();
    let refs: Vec<(&str, &str, &str)> = people
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    setup(t.path(), d, &refs, "name,email,password");
    let facts = t.path().join("notice.toml");
    std::fs::write(&facts, FACTS).unwrap();
    let drafts = t.path().join("drafts");
    let out = ok(&run(&[
        "notices",
        "render",
        "--data-dir",
        d,
        "--incident",
        "1",
        "--facts",
        facts.to_str().unwrap(),
        "--notice-date",
        "2026-11-02",
        "--drafts-out",
        drafts.to_str().unwrap(),
    ]));
    assert!(
        out.contains(&format!("{N} e-mail and 0 print letters queued")),
        "{out}"
    );
    assert!(out.contains("Not legal advice"));
    assert!(drafts.is_dir());

    let port = free_port();
    let log = t.path().join("received.jsonl");
    let _smtp = smtp_sink(port, &log);
    let smtp = format!("127.0.0.1:{port}");
    let send = |extra: &[&str]| {
        let mut c = sender(d, &smtp);
        c.args(extra);
        c
    };
    // Nothing leaves before legal approval.
    ok(&send(&[]).deadline());
    assert!(received(&log).is_empty(), "sent before approval");
    // Approval is a signed-in operator's act, never a typed name.
    let o = run(&[
        "notices",
        "approve",
        "--data-dir",
        d,
        "--incident",
        "1",
        "--version",
        "1",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("bulwark login"), "{}", stderr(&o));
    let o = bulwark()
        .env("BULWARK_SESSION", "bws_forged")
        .args([
            "notices",
            "approve",
            "--data-dir",
            d,
            "--incident",
            "1",
            "--version",
            "1",
        ])
        .deadline();
    assert!(stderr(&o).contains("not signed in"), "{}", stderr(&o));
    let (lee, mallory) = legal_sessions(d);
    let o = approve(d, "1", &mallory);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("nobody in the legal role"),
        "{}",
        stderr(&o)
    );
    ok(&run(&[
        "incident",
        "assign",
        "--data-dir",
        d,
        "1",
        "legal",
        "lee",
    ]));
    let o = approve(d, "1", &mallory);
    assert!(
        stderr(&o).contains("`mallory` is not assigned the legal role"),
        "{}",
        stderr(&o)
    );
    ok(&approve(d, "1", &lee));

    // Start slowly, kill the sender mid-run.
    let mut child = send(&["--rate", "20"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while received(&log).len() < 10 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap(); // killed: returns at once
    let before = received(&log).len();
    assert!((10..N).contains(&before), "killed mid-run after {before}");

    // Resume: the rest goes out, nothing twice.
    ok(&send(&["--rate", "0"]).deadline());
    let got = received(&log);
    let mut ids: Vec<&str> = got
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "a notice was delivered twice");
    let c = counts(d);
    let sent = c.get("sent").copied().unwrap_or(0) as usize;
    let unknown = c.get("unknown").copied().unwrap_or(0) as usize;
    // A letter in flight at the kill is `unknown`, never resent automatically.
    assert!(unknown <= 1, "{c:?}");
    assert_eq!(sent + unknown, N, "{c:?}");
    assert!(n == sent || n == sent + unknown, "received {n}, {c:?}");
    let mut to: Vec<&str> = got
        .iter()
        .map(|m| m["rcpt_to"][0].as_str().unwrap())
        .collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), n, "each customer once");
    assert!(got
        .iter()
        .all(|m| m["content_type"] == "multipart/alternative"));
    assert!(got
        .iter()
        .all(|m| m["subject"] == "Example Outdoor Gear: Notice of Data Breach"));

    // Sending again sends nothing.
    ok(&send(&["--rate", "0"]).deadline());
    assert_eq!(received(&log).len(), n);

    // A new render does not letter people already notified under the approved version.
    let out = ok(&run(&[
        "notices",
        "render",
        "--data-dir",
        d,
        "--incident",
        "1",
        "--facts",
        facts.to_str().unwrap(),
    ]));
    assert!(
        out.contains("0 e-mail and 0 print letters queued")
            && out.contains(&format!("{N} already notified")),
        "{out}"
    );

    // The reveals for the letters went through the access log with their purpose.
    let log = ok(&run(&["access-log", "--data-dir", d, "--json"]));
    assert!(log.contains("breach notification: incident 1"), "{log}");
}

#[test]
fn refused_letters_are_not_queued_and_print_letters_become_pdfs() {
    let (t, dir) = tempdir();
    init(&dir);
    let d = dir.to_str().unwrap();
    // Massachusetts residents with SSNs are owed 18 months of credit monitoring.
    setup(
        t.path(),
        d,
        &[
            ("US", "US-MA", "a@example.test"),
            ("US", "US-MA", ""),
            ("DE", "", "c@example.test"),
        ],
        "name,email,national_id",
    );
    let facts = t.path().join("notice.toml");
    std::fs::write(&facts, FACTS).unwrap();
    let o = run(&[
        "notices",
        "render",
        "--data-dir",
        d,
        "--incident",
        "1",
        "--facts",
        facts.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.contains("REFUSED 2 letters"), "{out}");
    assert!(
        out.contains("US-MA requires credit_monitoring (18 months)"),
        "{out}"
    );
    assert!(
        out.contains("1 e-mail and 0 print letters queued"),
        "the German letter passes: {out}"
    );

    // With the remedy and a code pool, all three pass; the one without e-mail is printed.
    std::fs::write(
        &facts,
        format!("{FACTS}\n[remedy]\nkind = \"credit_monitoring\"\nlabel = \"credit monitoring\"\nprovider = \"Acme\"\nmonths = 24\nenrol_url = \"https://enrol.example.test\"\nfor_elements = [\"national_id\"]\n"),
    )
    .unwrap();
    let codes = t.path().join("codes.txt");
    std::fs::write(&codes, "CODE-AAA\nCODE-BBB\nCODE-CCC\n").unwrap();
    ok(&run(&[
        "notices",
        "codes",
        "--data-dir",
        d,
        "--incident",
        "1",
        codes.to_str().unwrap(),
    ]));
    let out = ok(&run(&[
        "notices",
        "render",
        "--data-dir",
        d,
        "--incident",
        "1",
        "--facts",
        facts.to_str().unwrap(),
    ]));
    assert!(out.contains("2 e-mail and 1 print letters queued"), "{out}");
    ok(&run(&[
        "incident",
        "assign",
        "--data-dir",
        d,
        "1",
        "legal",
        "lee",
    ]));
    let (lee, _) = legal_sessions(d);
    ok(&approve(d, "2", &lee));
    let o = approve(d, "1", &lee);
    assert!(stderr(&o).contains("superseded"), "{}", stderr(&o));
    // No mail server listening: both e-mails wait for a retry with back-off,
    // the failure recorded without the recipient's address.
    let closed = format!("127.0.0.1:{}", free_port());
    let o = sender(d, &closed).args(["--rate", "0"]).deadline();
    assert!(
        stdout(&o).contains("0 sent, 2 to retry later"),
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    let c = counts(d);
    assert_eq!(c.get("retry"), Some(&2), "{c:?}");
    let status = ok(&run(&[
        "notices",
        "status",
        "--data-dir",
        d,
        "--incident",
        "1",
    ]));
    assert!(
        status.contains("retry") && !status.contains("a@example.test"),
        "{status}"
    );
    // Not due yet: another run sends nothing and does not count an attempt.
    let o = sender(d, &closed).deadline();
    assert!(
        stdout(&o).contains("0 sent, 0 to retry later"),
        "{}",
        stdout(&o)
    );
    let print = t.path().join("print");
    let out = ok(&run(&[
        "notices",
        "print",
        "--data-dir",
        d,
        "--incident",
        "1",
        "--out",
        print.to_str().unwrap(),
    ]));
    assert!(out.contains("1 letters written"), "{out}");
    let pdfs: Vec<_> = std::fs::read_dir(&print)
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension().is_some_and(|x| x == "pdf")).then_some(p)
        })
        .collect();
    assert_eq!(pdfs.len(), 1);
    let pdf = std::fs::read(&pdfs[0]).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    // The text is in embedded CID fonts (compressed, glyph ids): read it back
    // as a person would.
    let text = pdftotext(&pdfs[0]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..3],
        ["Customer 1", "1 Main Street", "Springfield"],
        "address block: {text}"
    );
    assert!(text.contains("CODE-"), "enrolment code in the letter");
    let csv = std::fs::read_to_string(print.join("mail-merge-incident-1.csv")).unwrap();
    assert!(csv.starts_with("notice_id,incident,version,language,jurisdiction,name,postal_address"));
    assert!(csv.contains("US-MA"));
    // Printing again prints nothing new.
    let out = ok(&run(&[
        "notices",
        "print",
        "--data-dir",
        d,
        "--incident",
        "1",
        "--out",
        print.to_str().unwrap(),
    ]));
    assert!(out.contains("0 letters written"), "{out}");
}

#[test]
fn letters_follow_the_customers_language_and_drafts_the_regulators_language() {
    let (t, dir) = tempdir();
    init(&dir);
    let d = dir.to_str().unwrap();
    let ids = setup_languages(
        t.path(),
        d,
        &[
            ("US", "US-TX", "a@example.test", Some("es-MX")),
            ("DE", "", "b@example.test", None),
            ("DE", "", "c@example.test", Some("fi")),
            ("CA", "CA-QC", "d@example.test", None),
        ],
        "name,email",
    );
    // The preference is shown with the customer's metadata, normalised.
    let shown: serde_json::Value =
        serde_json::from_str(&ok(&run(&["vault", "show", "--data-dir", d, &ids[0]]))).unwrap();
    assert_eq!(shown["language"], "es");
    assert_eq!(shown["residency"]["subdivision"], "US-TX");
    let bad = t.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"residency": {"country": "US"}, "language": "klingon"}"#,
    )
    .unwrap();
    let o = run(&["vault", "put", "--data-dir", d, bad.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("language"), "{}", stderr(&o));

    let facts = t.path().join("notice.toml");
    std::fs::write(&facts, FACTS).unwrap();
    let drafts = t.path().join("drafts");
    let out = ok(&run(&[
        "notices",
        "render",
        "--data-dir",
        d,
        "--incident",
        "1",
        "--facts",
        facts.to_str().unwrap(),
        "--drafts-out",
        drafts.to_str().unwrap(),
    ]));
    assert!(out.contains("4 e-mail and 0 print letters queued"), "{out}");
    assert!(out.contains("languages: de 2, es 1, fr 1"), "{out}");
    assert!(
        out.contains("1 letters not in the customer's preferred language"),
        "{out}"
    );
    assert!(out.contains("fi -> de"), "{out}");
    let de = std::fs::read_to_string(drafts.join("DE-EU-regulator.md")).unwrap();
    assert!(de.contains("Wahrscheinliche Folgen der Verletzung"), "{de}");

    // --drafts-language overrides the regulator's language.
    let out = ok(&run(&[
        "notices",
        "render",
        "--data-dir",
        d,
        "--incident",
        "1",
        "--facts",
        facts.to_str().unwrap(),
        "--drafts-out",
        drafts.to_str().unwrap(),
        "--drafts-language",
        "fr",
    ]));
    assert!(out.contains("queued"), "{out}");
    let de = std::fs::read_to_string(drafts.join("DE-EU-regulator.md")).unwrap();
    assert!(
        de.contains("Conséquences probables de la violation"),
        "{de}"
    );
    let o = run(&[
        "notices",
        "render",
        "--data-dir",
        d,
        "--incident",
        "1",
        "--facts",
        facts.to_str().unwrap(),
        "--drafts-out",
        drafts.to_str().unwrap(),
        "--drafts-language",
        "german",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("ISO 639-1"), "{}", stderr(&o));
}
