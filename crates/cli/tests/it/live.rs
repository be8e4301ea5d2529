//! Operator commands run from the shell while the server is serving.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::common::*;
use serde_json::json;

#[test]
fn rotation_and_rewrap_while_reveals_keep_succeeding() {
    let (_t, dir) = tempdir();
    let d = dir.to_str().unwrap().to_owned();
    let admin = init(&dir);
    let server = Server::start(&dir, &[], &[]);
    let key = create_key(
        server.addr,
        &admin,
        &["vault:write", "vault:reveal:email", "vault:read"],
    );
    let mut ids = Vec::new();
    for i in 0..150 {
        let (s, v) = http(server.addr, "POST", "/v1/customers", Some(&key), &[], Some(&json!({"residency": {"country": "CA", "subdivision": "CA-QC"}, "fields": {"email": format!("r{i}@example.ca")}}))).unwrap();
        assert_eq!(s, 201);
        ids.push((
            v["id"].as_str().unwrap().to_owned(),
            format!("r{i}@example.ca"),
        ));
    }
    let o = run(&["keys", "rotate-data-key", "--data-dir", &d]);
    assert!(o.status.success(), "{}", stderr(&o));
    // New writes use version 2 at once, though the rotation happened in another process.
    let (_, v) = http(
        server.addr,
        "POST",
        "/v1/customers",
        Some(&key),
        &[],
        Some(&json!({"residency": {"country": "CA"}, "fields": {"email": "new@example.ca"}})),
    )
    .unwrap();
    let (_, meta) = http(
        server.addr,
        "GET",
        &format!("/v1/customers/{}", v["id"].as_str().unwrap()),
        Some(&key),
        &[],
        None,
    )
    .unwrap();
    assert_eq!(meta["key_versions"], json!([2]));

    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let revealer = {
        let (stop, ok, failed, ids, key, addr) = (
            stop.clone(),
            ok.clone(),
            failed.clone(),
            ids.clone(),
            key.clone(),
            server.addr,
        );
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let (id, email) = &ids[i % ids.len()];
                match http(
                    addr,
                    "GET",
                    &format!("/v1/customers/{id}?fields=email"),
                    Some(&key),
                    &[("X-Bulwark-Purpose", "rewrap test")],
                    None,
                ) {
                    Ok((200, v)) if v["fields"]["email"] == email.as_str() => {
                        ok.fetch_add(1, Ordering::Relaxed)
                    }
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
                i += 1;
            }
        })
    };
    let o = run(&["keys", "rewrap", "--data-dir", &d, "--batch", "10"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("150 customers moved"), "{}", stdout(&o));
    std::thread::sleep(std::time::Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    revealer.join().unwrap();
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "every reveal during the re-wrap succeeded"
    );
    assert!(ok.load(Ordering::Relaxed) > 0);
    let (_, meta) = http(
        server.addr,
        "GET",
        &format!("/v1/customers/{}", ids[0].0),
        Some(&key),
        &[],
        None,
    )
    .unwrap();
    assert_eq!(meta["key_versions"], json!([2]));
    let o = run(&["keys", "set-min-decryption-version", "--data-dir", &d, "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (s, _) = http(
        server.addr,
        "GET",
        &format!("/v1/customers/{}?fields=email", ids[7].0),
        Some(&key),
        &[("X-Bulwark-Purpose", "after")],
        None,
    )
    .unwrap();
    assert_eq!(s, 200);
}

#[test]
fn lockdown_and_passphrase_change_from_the_shell() {
    let (_t, dir) = tempdir();
    let d = dir.to_str().unwrap().to_owned();
    let admin = init(&dir);
    let mut server = Server::start(&dir, &[], &[]);
    let key = create_key(server.addr, &admin, &["vault:write", "vault:reveal:email"]);
    let (_, v) = http(
        server.addr,
        "POST",
        "/v1/customers",
        Some(&key),
        &[],
        Some(&json!({"residency": {"country": "AU"}, "fields": {"email": "a@example.au"}})),
    )
    .unwrap();
    let uri = format!("/v1/customers/{}?fields=email", v["id"].as_str().unwrap());
    let purpose = [("X-Bulwark-Purpose", "support")];
    let o = run(&[
        "vault",
        "lockdown",
        "on",
        "--data-dir",
        &d,
        "--reason",
        "IR-7 containment",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (s, v) = http(server.addr, "GET", &uri, Some(&key), &purpose, None).unwrap();
    assert_eq!(s, 403, "{v}");
    run(&["vault", "lockdown", "off", "--data-dir", &d]);
    assert_eq!(
        http(server.addr, "GET", &uri, Some(&key), &purpose, None)
            .unwrap()
            .0,
        200
    );

    let o = bulwark()
        .env("BULWARK_NEW_PASSPHRASE", "an entirely new passphrase")
        .args([
            "keys",
            "change-passphrase",
            "--data-dir",
            &d,
            "--kdf-memory-mib",
            "8",
        ])
        .deadline();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        http(server.addr, "GET", &uri, Some(&key), &purpose, None)
            .unwrap()
            .0,
        200,
        "the running server is unaffected"
    );
    server.stop();
    let o = run(&["ledger", "checkpoint", "--data-dir", &d]);
    assert!(
        stderr(&o).contains("wrong passphrase"),
        "the old passphrase no longer unlocks: {}",
        stderr(&o)
    );
    let server = Server::start(
        &dir,
        &[],
        &[("BULWARK_PASSPHRASE", "an entirely new passphrase")],
    );
    assert_eq!(
        http(server.addr, "GET", &uri, Some(&key), &purpose, None)
            .unwrap()
            .0,
        200
    );
    let o = run(&["ledger", "verify", "--data-dir", &d]);
    assert!(o.status.success(), "{}", stderr(&o));
}
