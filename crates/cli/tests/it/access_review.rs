//! `bulwark access-review`: the owner lists every key and operator, writes a
//! decisions file and signs off as a signed-in operator; a revoked key is
//! refused by the running server, a revoked operator can no longer sign in,
//! and a sign-off by someone who does not own the review changes nothing.

use std::path::Path;

use bulwark_access::OperatorRole;
use bulwark_model::Role;

use crate::common::*;

fn list(d: &str) -> Vec<serde_json::Value> {
    let o = run(&["access-review", "list", "--data-dir", d, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn sign_off(d: &str, file: &Path, session: &str) -> std::process::Output {
    bulwark()
        .env("BULWARK_SESSION", session)
        .args([
            "access-review",
            "sign-off",
            "--data-dir",
            d,
            "--decisions",
            file.to_str().unwrap(),
        ])
        .deadline()
}

#[test]
fn list_then_sign_off_revokes_the_key_and_the_operator() {
    let (_t, dir) = tempdir();
    let admin = init(&dir);
    let d = dir.to_str().unwrap();
    let boss = operator_session(
        &dir,
        "boss",
        &[
            OperatorRole::Team(Role::ExecutiveSponsor),
            OperatorRole::Admin,
        ],
    );
    let lee = operator_session(&dir, "lee", &[OperatorRole::Team(Role::Legal)]);

    let items = list(d);
    let key = format!("key:{}", admin.split('_').nth(1).unwrap());
    let subjects: Vec<&str> = items
        .iter()
        .map(|i| i["subject"].as_str().unwrap())
        .collect();
    for s in [key.as_str(), "operator:boss", "operator:lee"] {
        assert!(subjects.contains(&s), "{s} listed: {subjects:?}");
    }
    let human = run(&["access-review", "list", "--data-dir", d]);
    assert!(
        stdout(&human).contains("operator:lee"),
        "{}",
        stdout(&human)
    );

    // A TOML file deciding every account: the bootstrap key and lee revoked.
    let file = dir.join("decisions.toml");
    let mut toml = String::new();
    for s in &subjects {
        let d = if *s == key || *s == "operator:lee" {
            "revoke"
        } else {
            "keep"
        };
        toml.push_str(&format!(
            "[[decisions]]\naccount = \"{s}\"\ndecision = \"{d}\"\nreason = \"quarterly review: {d}\"\n\n"
        ));
    }
    std::fs::write(&file, &toml).unwrap();

    // Lee does not own the review's duties: refused, and nothing changes.
    let o = sign_off(d, &file, &lee);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("nothing changed") && stderr(&o).contains("owner role"),
        "{}",
        stderr(&o)
    );
    assert_eq!(list(d).len(), items.len());

    // A file with a typo is refused before anything is read from the store.
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        r#"[{"account": "operator:lee", "decision": "maybe", "reason": "x"}]"#,
    )
    .unwrap();
    let o = sign_off(d, &bad, &boss);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("bad.json"), "{}", stderr(&o));

    let o = sign_off(d, &file, &boss);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("1 key(s) revoked, 1 operator(s) disabled"),
        "{}",
        stdout(&o)
    );
    let after = list(d);
    assert_eq!(after.len(), items.len() - 2, "{after:?}");

    // The running server refuses the revoked key; lee cannot sign in.
    let server = Server::start(&dir, &[], &[]);
    let (s, _) = http(server.addr, "GET", "/v1/keys", Some(&admin), &[], None).unwrap();
    assert_eq!(s, 401);
    let o = bulwark()
        .env(
            "BULWARK_OPERATOR_PASSWORD",
            bulwark_testkit::OPERATOR_PASSWORD,
        )
        .args([
            "login",
            "--data-dir",
            d,
            "--operator",
            "lee",
            "--code",
            "000000",
            "--print-token",
        ])
        .deadline();
    assert!(!o.status.success());
}
