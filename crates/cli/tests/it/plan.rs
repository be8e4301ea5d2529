//! The living plan rendered from configuration, its version in the ledger.

use crate::common::*;

#[test]
fn the_plan_reflects_configuration_and_its_hash_is_ledgered() {
    let (t, dir) = tempdir();
    init(&dir);
    let d = dir.to_str().unwrap();
    let team = serde_json::json!({
        "people": [{"id": "ana", "name": "Ana Ops", "email": "ana@shop.example", "phone": "+14155550100"},
                   {"id": "lee", "name": "Lee Legal", "email": "lee@shop.example"}],
        "roles": {"incident_commander": {"primary": "ana", "deputies": ["lee"]}, "legal": {"primary": "lee"}},
        "escalation": ["ana", "lee"]
    });
    std::fs::write(dir.join("team.json"), team.to_string()).unwrap();
    std::fs::write(dir.join("assets.json"), serde_json::json!([
        {"name": "orders-db", "elements": ["name", "email", "postal_address"], "customers": 120000, "hosting": "AWS us-east-1", "owner": "ana"},
        {"name": "payments", "elements": ["card_number", "name"], "customers": 80000, "hosting": "Stripe", "owner": "ana"}
    ]).to_string()).unwrap();
    let doc = t.path().join("c.json");
    std::fs::write(&doc, r#"{"residency": {"country": "US", "subdivision": "US-CA"}, "fields": {"name": "A", "email": "a@example.com"}}"#).unwrap();
    assert!(
        run(&["vault", "put", "--data-dir", d, doc.to_str().unwrap()])
            .status
            .success()
    );

    let render = |d: &str| {
        let o = run(&["plan", "render", "--data-dir", d]);
        assert!(o.status.success(), "{}", stderr(&o));
        let hash = stderr(&o)
            .split("plan version ")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned();
        (stdout(&o), hash)
    };
    let (text, h1) = render(d);
    assert!(
        text.contains("Ana Ops") && text.contains("Lee Legal"),
        "{text}"
    );
    assert!(text.contains("orders-db") && text.contains("payments"));
    assert!(
        text.contains("US-CA"),
        "notification duties for where customers live: {text}"
    );
    // A new data directory has done none of its recurring duties: each is
    // due from the day tracking began, so the plan lists them.
    assert!(
        text.contains("| Test the incident response plan | PCI DSS v4.0.1 12.10.2 | it |"),
        "{text}"
    );
    assert!(
        text.contains("No drill improvement item is open."),
        "{text}"
    );
    let (_, h2) = render(d);
    assert_eq!(h1, h2, "same configuration, same version");
    // A broken calendar file does not stop the plan; it says what it cannot know.
    std::fs::create_dir_all(dir.join("compliance")).unwrap();
    std::fs::write(dir.join("compliance/broken.toml"), "[[duties]\nid = ").unwrap();
    let o = run(&["plan", "render", "--data-dir", d]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("could not be read"), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("compliance calendar did not load"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_file(dir.join("compliance/broken.toml")).unwrap();
    let changed = team.to_string().replace("+14155550100", "+14155550199");
    std::fs::write(dir.join("team.json"), changed).unwrap();
    let (_, h3) = render(d);
    assert_ne!(h1, h3, "a changed phone number is a new plan version");
    // Each rendering is in the ledger with its hash.
    let db = rusqlite::Connection::open(dir.join("bulwark.db")).unwrap();
    let hashes: Vec<String> = db
        .prepare("SELECT details FROM ledger WHERE action = 'plan.rendered' ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|d| {
            serde_json::from_str::<serde_json::Value>(&d.unwrap()).unwrap()["hash"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(hashes, vec![h1.clone(), h1.clone(), h1, h3]);
}

#[test]
fn assets_rank_and_investigation_finds_entry_and_dwell() {
    let (_t, dir) = tempdir();
    let admin = init(&dir);
    let d = dir.to_str().unwrap();
    for (name, els, n) in [
        ("newsletter", vec!["email"], "90000"),
        (
            "orders-db",
            vec!["name", "card_number", "postal_address"],
            "50000",
        ),
    ] {
        let mut args = vec![
            "assets",
            "add",
            "--data-dir",
            d,
            "--name",
            name,
            "--customers",
            n,
            "--hosting",
            "AWS",
            "--owner",
            "ana",
        ];
        for e in &els {
            args.extend(["--element", e]);
        }
        assert!(run(&args).status.success());
    }
    let o = run(&["assets", "list", "--data-dir", d, "--json"]);
    let ranked: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        ranked[0]["asset"]["name"], "orders-db",
        "card data outranks a bigger mailing list: {ranked}"
    );

    let server = Server::start(&dir, &["--no-detection"], &[]);
    let w = create_key(server.addr, &admin, &["vault:write"]);
    let thief = create_key(server.addr, &admin, &["vault:reveal:email"]);
    let (_, v) = http(server.addr, "POST", "/v1/customers", Some(&w), &[], Some(&serde_json::json!({"residency": {"country": "US"}, "fields": {"email": "v@example.com"}}))).unwrap();
    let uri = format!("/v1/customers/{}?fields=email", v["id"].as_str().unwrap());
    for _ in 0..3 {
        http(
            server.addr,
            "GET",
            &uri,
            Some(&thief),
            &[("X-Bulwark-Purpose", "x")],
            None,
        )
        .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let ir = create_key(server.addr, &admin, &["incidents:read"]);
    let (s, v) = http(server.addr, "GET", "/v1/assets", Some(&ir), &[], None).unwrap();
    assert_eq!(
        (s, v["items"][0]["asset"]["name"].clone()),
        (200, serde_json::json!("orders-db"))
    );
    drop(server);
    let principal = format!("key:{}", &thief[4..16]);
    let o = run(&[
        "investigate",
        "--data-dir",
        d,
        "--principal",
        &principal,
        "--since",
        "1h",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let dw: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(dw["events"], 3, "{dw}");
    assert!(dw["first"]["at"].as_str().unwrap() < dw["last"]["at"].as_str().unwrap());
    assert!(dw["first"]["origin"]
        .as_str()
        .unwrap()
        .starts_with("access_log:"));
}

/// The plan reads the law catalogue through the data directory, as
/// `obligations` does: a law file in `<data-dir>/laws/` replaces the built-in one.
#[test]
fn the_plan_honours_a_law_override_in_the_data_directory() {
    let (t, dir) = tempdir();
    init(&dir);
    let d = dir.to_str().unwrap();
    let doc = t.path().join("c.json");
    std::fs::write(&doc, r#"{"residency": {"country": "US", "subdivision": "US-CA"}, "fields": {"name": "A", "national_id": "123-45-6789"}}"#).unwrap();
    assert!(
        run(&["vault", "put", "--data-dir", d, doc.to_str().unwrap()])
            .status
            .success()
    );
    let before = run(&["plan", "render", "--data-dir", d]);
    assert!(before.status.success(), "{}", stderr(&before));
    assert!(
        stdout(&before).contains("| US-CA | 1 | California |"),
        "the built-in law applies to a name with an SSN: {}",
        stdout(&before)
    );
    assert!(!stdout(&before).contains("California (as our counsel reads it)"));

    let builtin = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../laws/US-CA.toml"),
    )
    .unwrap();
    let overridden = builtin.replacen(
        "name = \"California\"",
        "name = \"California (as our counsel reads it)\"",
        1,
    );
    assert_ne!(builtin, overridden, "the override changes the law's name");
    std::fs::create_dir_all(dir.join("laws")).unwrap();
    std::fs::write(dir.join("laws").join("US-CA.toml"), overridden).unwrap();

    let after = run(&["plan", "render", "--data-dir", d]);
    assert!(after.status.success(), "{}", stderr(&after));
    assert!(
        stdout(&after).contains("California (as our counsel reads it)"),
        "the plan uses the data directory's law: {}",
        stdout(&after)
    );
    // And `obligations` reads the very same catalogue.
    let listed = run(&["laws", "show", "US-CA", "--data-dir", d]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    assert!(stdout(&listed).contains("California (as our counsel reads it)"));
}

/// A broken data-directory file is an error that names the file and line,
/// never an empty default.
#[test]
fn a_broken_assets_file_is_named_with_its_line() {
    let (_t, dir) = tempdir();
    init(&dir);
    let d = dir.to_str().unwrap();
    std::fs::write(
        dir.join("assets.json"),
        "[\n  {\"name\": \"crm\",\n  oops\n]",
    )
    .unwrap();
    for args in [
        vec!["assets", "list", "--data-dir", d],
        vec!["plan", "render", "--data-dir", d],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(err.contains("assets.json:3:"), "{args:?}: {err}");
    }
}
