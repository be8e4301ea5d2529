//! The CLI's own promises: init refuses to overwrite, TLS works, plain HTTP stays
//! on loopback, keys and the access log are usable from the shell.

use std::io::{Read, Write};
use std::sync::Arc;

use crate::common::*;

#[test]
fn init_refuses_an_existing_directory_and_changes_nothing() {
    let (_t, dir) = tempdir();
    init(&dir);
    let before = std::fs::read(dir.join("keys.db")).unwrap();
    let o = run(&[
        "init",
        "--data-dir",
        dir.to_str().unwrap(),
        "--kdf-memory-mib",
        "8",
        "--json",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "no second admin key is printed");
    assert_eq!(std::fs::read(dir.join("keys.db")).unwrap(), before);
}

#[test]
fn wrong_passphrase_is_a_clear_error() {
    let (_t, dir) = tempdir();
    init(&dir);
    let o = bulwark()
        .env("BULWARK_PASSPHRASE", "definitely the wrong one")
        .args([
            "keys",
            "rotate-data-key",
            "--data-dir",
            dir.to_str().unwrap(),
        ])
        .deadline();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("wrong passphrase or key file"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn plain_http_is_refused_off_loopback() {
    let (_t, dir) = tempdir();
    init(&dir);
    let o = run(&[
        "serve",
        "--data-dir",
        dir.to_str().unwrap(),
        "--listen",
        "0.0.0.0:0",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("refusing plain HTTP"), "{}", stderr(&o));
}

#[test]
fn serves_https_with_the_given_certificate() {
    let (t, dir) = tempdir();
    init(&dir);
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert_pem, key_pem) = (t.path().join("cert.pem"), t.path().join("key.pem"));
    std::fs::write(&cert_pem, cert.cert.pem()).unwrap();
    std::fs::write(&key_pem, cert.key_pair.serialize_pem()).unwrap();
    let server = Server::start(
        &dir,
        &[
            "--tls-cert",
            cert_pem.to_str().unwrap(),
            "--tls-key",
            key_pem.to_str().unwrap(),
        ],
        &[],
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let conn =
        rustls::ClientConnection::new(Arc::new(config), "localhost".try_into().unwrap()).unwrap();
    let sock = std::net::TcpStream::connect(server.addr).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    let _ = tls.read_to_end(&mut raw);
    let (status, body) = parse_response(&raw).unwrap();
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    // Plain HTTP to the TLS port gets no API.
    assert!(!matches!(
        http(server.addr, "GET", "/healthz", None, &[], None),
        Ok((200, _))
    ));
}

#[test]
fn keys_and_access_log_from_the_shell() {
    let (_t, dir) = tempdir();
    init(&dir);
    let d = dir.to_str().unwrap();
    let o = run(&[
        "keys",
        "create",
        "--data-dir",
        d,
        "--name",
        "support desk",
        "--scope",
        "vault:reveal:email",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let key: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let id = key["id"].as_str().unwrap();
    let o = run(&[
        "keys",
        "create",
        "--data-dir",
        d,
        "--name",
        "x",
        "--scope",
        "vault:reveal:shoe_size",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown scope"), "{}", stderr(&o));
    let o = run(&[
        "keys",
        "review",
        "--data-dir",
        d,
        "--idle-days",
        "30",
        "--json",
    ]);
    let review: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(review
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["key"]["id"] == id && r["never_used"] == true));
    let o = run(&["keys", "revoke", "--data-dir", d, id]);
    assert!(o.status.success());
    let o = run(&["keys", "list", "--data-dir", d, "--json"]);
    assert!(
        stdout(&o)
            .lines()
            .any(|l| l.contains(id) && l.contains("revoked_at_ms\":1")),
        "{}",
        stdout(&o)
    );

    // An operator reveal through the CLI lands in the access log like any other.
    let doc = dir.parent().unwrap().join("c.json");
    std::fs::write(
        &doc,
        r#"{"residency": {"country": "FR"}, "fields": {"email": "jean@example.fr"}}"#,
    )
    .unwrap();
    let o = run(&["vault", "put", "--data-dir", d, doc.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let cid = stdout(&o).trim().to_owned();
    let o = run(&[
        "vault",
        "get",
        "--data-dir",
        d,
        &cid,
        "--fields",
        "email",
        "--purpose",
        "GDPR access request",
    ]);
    assert!(stdout(&o).contains("jean@example.fr"), "{}", stderr(&o));
    let o = run(&["access-log", "--data-dir", d, "--since", "1h", "--json"]);
    let line: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(line["purpose"], "GDPR access request");
    assert_eq!(line["customer_id"], cid.as_str());
    let o = run(&[
        "access-log",
        "--data-dir",
        d,
        "--principal",
        "key:000000000000",
        "--json",
    ]);
    assert!(stdout(&o).is_empty());
}

#[test]
fn look_backs_accept_the_playbook_duration_syntax() {
    let (_t, dir) = tempdir();
    init(&dir);
    let d = dir.to_str().unwrap();
    for since in ["1w", "90m", "1d12h", "30s", "2026-01-01T00:00:00Z"] {
        let o = run(&["access-log", "--data-dir", d, "--since", since, "--json"]);
        assert!(o.status.success(), "--since {since}: {}", stderr(&o));
    }
    let o = run(&["access-log", "--data-dir", d, "--since", "3y", "--json"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("`3y` is not a duration; write a number followed by s, m, h, d or w"),
        "{}",
        stderr(&o)
    );
}
