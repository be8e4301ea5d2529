use crate::common::*;
use bulwark_model::DataElement;
use bulwark_store::{
    AccessFilter, AccessOutcome, CustomerError, CustomerWriteError, Denial, LookupBy, RevealError,
    RevealRequest, SetMinVersionError, StoreError,
};
use serde_json::json;
use uuid::Uuid;

fn reveal_req(p: &bulwark_store::Principal, id: Uuid, elements: &[DataElement]) -> RevealRequest {
    RevealRequest {
        principal: p.clone(),
        purpose: Some("support ticket 42".into()),
        customer: id,
        elements: elements.to_vec(),
        source: Some("127.0.0.1".into()),
    }
}

fn every_element() -> serde_json::Value {
    json!({
        "name": "Ada Lovelace", "email": "Ada@Example.com", "phone": "+44 20 7946 0958",
        "postal_address": "12 St James's Square\nLondon SW1Y 4JH", "date_of_birth": "1990-12-10",
        "username": "ada", "password": "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA",
        "security_qa": "first pet: Puck", "card_number": "4111 1111 1111 1111", "card_expiry": "07/29",
        "card_security_code": "123", "bank_account": "GB82 WEST 1234 5698 7654 32",
        "national_id": "QQ123456C", "drivers_license": "LOVEL812105A99", "passport": "925076473",
        "tax_id": "1234567890", "health": "asthma", "biometric": "fp:3f9a", "purchase_history": "[\"order-1\"]",
        "ip_address": "2001:db8::1", "geolocation": "51.5074,-0.1278"
    })
}

#[test]
fn every_element_round_trips() {
    let f = fixture();
    let op = principal(&["admin"]);
    f.store
        .set_store_card_security_code(true, "operator:test")
        .wait_blocking()
        .unwrap();
    let id = f
        .store
        .create_customer(&customer(json!({"external_id": "cust-1", "residency": {"country": "GB"}, "fields": every_element()})), &op)
        .unwrap()
        .wait_blocking()
        .unwrap();
    let reader = principal(&["vault:reveal:*"]);
    let got = f
        .store
        .reveal_blocking(reveal_req(&reader, id, &DataElement::ALL))
        .unwrap();
    assert_eq!(got.fields.len(), 21, "all 21 elements come back");
    assert!(got.absent.is_empty());
    assert_eq!(got.fields[&DataElement::Email].as_str(), "ada@example.com");
    assert_eq!(got.fields[&DataElement::Phone].as_str(), "+442079460958");
    assert_eq!(
        got.fields[&DataElement::CardNumber].as_str(),
        "4111111111111111"
    );
    assert_eq!(got.fields[&DataElement::CardExpiry].as_str(), "2029-07");
    assert_eq!(
        got.fields[&DataElement::PostalAddress].as_str(),
        "12 St James's Square\nLondon SW1Y 4JH"
    );
    assert_eq!(
        got.fields[&DataElement::Password].as_str(),
        "$argon2id$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA"
    );
    // Card metadata without the number.
    let meta = f.store.customer_meta(id).unwrap();
    let card = meta.card.unwrap();
    assert_eq!(
        (card.bin.as_str(), card.last4.as_str()),
        ("41111111", "1111")
    );
    assert_eq!(meta.external_id.as_deref(), Some("cust-1"));
    // Nothing of it is stored in the clear.
    let raw = std::fs::read(f.dir.join("bulwark.db")).unwrap();
    for needle in [
        "Lovelace",
        "ada@example.com",
        "4111111111111111",
        "QQ123456C",
    ] {
        assert!(
            !raw.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle} found in the clear"
        );
    }
}

#[test]
fn security_codes_are_refused_by_default() {
    let f = fixture();
    let err = f
        .store
        .create_customer(
            &customer(
                json!({"residency": {"country": "US"}, "fields": {"card_security_code": "123"}}),
            ),
            &principal(&["admin"]),
        )
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("fields.card_security_code"),
        "{err}"
    );
    assert!(err.to_string().contains("PCI DSS"));
}

#[test]
fn bad_input_names_the_field_and_writes_nothing() {
    let f = fixture();
    let before = f.store.ledger_len().unwrap();
    let cases = [
        (
            json!({"residency": {"country": "US"}, "fields": {"ssn": "123"}}),
            "fields.ssn",
        ),
        (
            json!({"residency": {"country": "XX"}, "fields": {"name": "A"}}),
            "residency.country",
        ),
        (
            json!({"residency": {"country": "US", "subdivision": "CA-QC"}}),
            "residency.subdivision",
        ),
        (
            json!({"residency": {"country": "US"}, "fields": {"card_number": "4111111111111112"}}),
            "fields.card_number",
        ),
        (
            json!({"residency": {"country": "US"}, "fields": {"email": 5}}),
            "fields.email",
        ),
    ];
    for (doc, field) in cases {
        let err = f
            .store
            .create_customer(&customer(doc), &principal(&["admin"]))
            .err()
            .unwrap();
        assert!(matches!(err, CustomerWriteError::Invalid(_)));
        assert!(err.to_string().contains(field), "{err} should name {field}");
        assert!(
            !err.to_string().contains("4111111111111112"),
            "errors never echo values"
        );
    }
    assert!(f.store.list_customers(None, 10).unwrap().is_empty());
    assert_eq!(f.store.ledger_len().unwrap(), before);
}

fn make(f: &Fixture, email: &str, card: &str) -> Uuid {
    f.store
        .create_customer(
            &customer(json!({"external_id": format!("ext-{email}"), "residency": {"country": "US", "subdivision": "US-CA"},
                "fields": {"name": "N", "email": email, "phone": "+14155550123", "card_number": card}})),
            &principal(&["vault:write"]),
        )
        .unwrap()
        .wait_blocking()
        .unwrap()
}

#[test]
fn tampered_and_swapped_ciphertexts_are_rejected() {
    let f = fixture();
    let a = make(&f, "a@example.com", "4111111111111111");
    let b = make(&f, "b@example.com", "5555555555554444");
    let reader = principal(&["vault:reveal:*"]);
    let db = sqlite(&f.dir, "bulwark.db");
    // Move a's email ciphertext onto b's row.
    db.execute(
        "UPDATE customer_fields SET ciphertext = (SELECT ciphertext FROM customer_fields WHERE customer_id = ?1 AND element = 'email')
         WHERE customer_id = ?2 AND element = 'email'",
        [a.to_string(), b.to_string()],
    )
    .unwrap();
    let err = f
        .store
        .reveal_blocking(reveal_req(&reader, b, &[DataElement::Email]))
        .unwrap_err();
    assert!(err.to_string().contains("failed authentication"), "{err}");
    // Swap a's name and email ciphertexts within the row.
    db.execute(
        "UPDATE customer_fields SET ciphertext = (SELECT ciphertext FROM customer_fields WHERE customer_id = ?1 AND element = 'name')
         WHERE customer_id = ?1 AND element = 'email'",
        [a.to_string()],
    )
    .unwrap();
    assert!(f
        .store
        .reveal_blocking(reveal_req(&reader, a, &[DataElement::Email]))
        .is_err());
    // Flip one byte of a's card number ciphertext.
    let mut ct: Vec<u8> = db
        .query_row("SELECT ciphertext FROM customer_fields WHERE customer_id = ?1 AND element = 'card_number'", [a.to_string()], |r| r.get(0))
        .unwrap();
    ct[20] ^= 0x01;
    db.execute(
        "UPDATE customer_fields SET ciphertext = ?2 WHERE customer_id = ?1 AND element = 'card_number'",
        rusqlite::params![a.to_string(), ct],
    )
    .unwrap();
    let err = f
        .store
        .reveal_blocking(reveal_req(&reader, a, &[DataElement::CardNumber]))
        .unwrap_err();
    assert!(
        matches!(err, RevealError::Store(StoreError::Vault(_))),
        "{err}"
    );
    // Untouched data still opens.
    assert!(f
        .store
        .reveal_blocking(reveal_req(&reader, b, &[DataElement::CardNumber]))
        .is_ok());
}

#[test]
fn wrong_passphrase_is_rejected_and_changing_it_keeps_data() {
    let f = fixture();
    let id = make(&f, "a@example.com", "4111111111111111");
    let err = bulwark_store::Store::open(&f.dir, Some(&secret("not the passphrase at all")))
        .err()
        .unwrap();
    assert!(err.to_string().contains("wrong passphrase"), "{err}");
    f.store
        .change_unlock(
            &secret("the new passphrase here"),
            cheap_kdf(),
            "operator:test",
        )
        .unwrap();
    drop(f.store);
    assert!(bulwark_store::Store::open(&f.dir, Some(&secret(PASS))).is_err());
    let s = bulwark_store::Store::open(&f.dir, Some(&secret("the new passphrase here"))).unwrap();
    let got = s
        .reveal_blocking(reveal_req(
            &principal(&["vault:reveal:email"]),
            id,
            &[DataElement::Email],
        ))
        .unwrap();
    assert_eq!(got.fields[&DataElement::Email].as_str(), "a@example.com");
}

#[test]
fn scopes_are_enforced_and_every_reveal_and_refusal_is_logged() {
    let f = fixture();
    let id = make(&f, "a@example.com", "4111111111111111");
    let clerk = principal(&["vault:reveal:email", "vault:reveal:name"]);
    let ok = f
        .store
        .reveal_blocking(reveal_req(
            &clerk,
            id,
            &[DataElement::Email, DataElement::Name],
        ))
        .unwrap();
    assert_eq!(ok.fields.len(), 2);
    let err = f
        .store
        .reveal_blocking(reveal_req(
            &clerk,
            id,
            &[DataElement::Email, DataElement::CardNumber],
        ))
        .unwrap_err();
    match err {
        RevealError::Denied(Denial::Scope { refused }) => {
            assert_eq!(refused, vec![DataElement::CardNumber])
        }
        other => panic!("expected a scope refusal, got {other}"),
    }
    let admin = principal(&["admin"]);
    assert!(
        matches!(
            f.store
                .reveal_blocking(reveal_req(&admin, id, &[DataElement::CardNumber])),
            Err(RevealError::Denied(Denial::Scope { .. }))
        ),
        "admin administers but does not read card numbers"
    );
    let mut no_purpose = reveal_req(&clerk, id, &[DataElement::Email]);
    no_purpose.purpose = Some("  ".into());
    assert!(matches!(
        f.store.reveal_blocking(no_purpose),
        Err(RevealError::Denied(Denial::NoPurpose))
    ));
    let missing =
        f.store
            .reveal_blocking(reveal_req(&clerk, Uuid::now_v7(), &[DataElement::Email]));
    assert!(matches!(
        missing,
        Err(RevealError::Denied(Denial::NotFound))
    ));

    let log = f
        .store
        .access_log(&AccessFilter {
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    let outcomes: Vec<(AccessOutcome, Vec<String>)> = log
        .iter()
        .map(|r| (r.outcome, r.elements.clone()))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            (
                AccessOutcome::Allowed,
                vec!["name".to_string(), "email".to_string()]
            ),
            (AccessOutcome::Denied, vec!["card_number".to_string()]),
            (AccessOutcome::Denied, vec!["card_number".to_string()]),
            (AccessOutcome::Denied, vec!["email".to_string()]),
            (AccessOutcome::NotFound, vec!["email".to_string()]),
        ]
    );
    assert!(log
        .iter()
        .all(|r| r.principal == "key:test" && r.source.as_deref() == Some("127.0.0.1")));
    assert_eq!(log[0].purpose.as_deref(), Some("support ticket 42"));
    assert_eq!(log[0].customer_id.as_deref(), Some(id.to_string().as_str()));
    let by_principal = f
        .store
        .access_log(&AccessFilter {
            principal: Some("key:other".into()),
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    assert!(by_principal.is_empty());
}

#[test]
fn lockdown_refuses_all_but_break_glass() {
    let f = fixture();
    let id = make(&f, "a@example.com", "4111111111111111");
    let clerk = principal(&["vault:reveal:email"]);
    let glass = principal(&["vault:reveal:email", "vault:break-glass"]);
    assert!(f
        .store
        .set_lockdown(true, "operator:test", Some("incident 7".into()))
        .wait_blocking()
        .unwrap());
    assert!(matches!(
        f.store
            .reveal_blocking(reveal_req(&clerk, id, &[DataElement::Email])),
        Err(RevealError::Denied(Denial::Lockdown))
    ));
    assert!(f
        .store
        .reveal_blocking(reveal_req(&glass, id, &[DataElement::Email]))
        .is_ok());
    f.store
        .set_lockdown(false, "operator:test", None)
        .wait_blocking()
        .unwrap();
    assert!(f
        .store
        .reveal_blocking(reveal_req(&clerk, id, &[DataElement::Email]))
        .is_ok());
    let log = f
        .store
        .access_log(&AccessFilter {
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(log[0].outcome, AccessOutcome::Denied);
    assert!(log[0].reason.as_deref().unwrap().contains("locked down"));
    f.store.verify_ledger(None, |_| {}).unwrap();
}

#[test]
fn lookups_use_blind_indexes() {
    let f = fixture();
    let a = make(&f, "a@example.com", "4111111111111111");
    let _b = make(&f, "b@example.com", "5555555555554444");
    let p = principal(&["vault:lookup"]);
    let find = |by| {
        f.store
            .lookup(by, &p, Some("login".into()), None)
            .unwrap()
            .wait_blocking()
            .unwrap()
    };
    assert_eq!(find(LookupBy::Email(" A@EXAMPLE.com".into())), vec![a]);
    assert_eq!(
        find(LookupBy::ExternalId("ext-a@example.com".into())),
        vec![a]
    );
    assert_eq!(find(LookupBy::Phone("+1 415 555 0123".into())).len(), 2);
    assert!(find(LookupBy::Email("nobody@example.com".into())).is_empty());
    let token = f.store.customer_meta(a).unwrap().card.unwrap().token.0;
    assert_eq!(find(LookupBy::CardToken(token)), vec![a]);
    // Patching the email moves the index.
    f.store
        .update_customer(
            a,
            serde_json::from_value(json!({"fields": {"email": "new@example.com", "phone": null}}))
                .unwrap(),
            &principal(&["vault:write"]),
        )
        .unwrap()
        .wait_blocking()
        .unwrap();
    assert!(find(LookupBy::Email("a@example.com".into())).is_empty());
    assert_eq!(find(LookupBy::Email("new@example.com".into())), vec![a]);
    assert_eq!(find(LookupBy::Phone("+14155550123".into())).len(), 1);
    let log = f
        .store
        .access_log(&AccessFilter {
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    assert!(log.iter().all(|r| r.action == "lookup"));
    assert_eq!(log[0].elements, vec!["email".to_string()]);
    assert_eq!(log[0].result_count, Some(1));
    // The searched value is nowhere in the log.
    let raw = std::fs::read(f.dir.join("bulwark.db")).unwrap();
    assert!(!raw.windows(13).any(|w| w == b"a@example.com"));
}

#[test]
fn erasure_shreds_keys_so_old_backups_cannot_decrypt() {
    let f = fixture();
    let a = make(&f, "a@example.com", "4111111111111111");
    let b = make(&f, "b@example.com", "5555555555554444");
    // A backup of bulwark.db taken before the erasure.
    let backup = f.dir.join("backup.db");
    sqlite(&f.dir, "bulwark.db")
        .execute("VACUUM INTO ?1", [backup.to_string_lossy()])
        .unwrap();
    f.store
        .erase_customer(a, &principal(&["vault:write"]))
        .wait_blocking()
        .unwrap();
    let reader = principal(&["vault:reveal:*"]);
    assert!(matches!(
        f.store
            .reveal_blocking(reveal_req(&reader, a, &[DataElement::Email])),
        Err(RevealError::Denied(Denial::NotFound))
    ));
    let keys = sqlite(&f.dir, "keys.db");
    let left: i64 = keys
        .query_row(
            "SELECT COUNT(*) FROM customer_keys WHERE customer_id = ?1",
            [a.to_string()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
    // Restore the old bulwark.db beside the current keys.db: a cannot come back.
    drop(f.store);
    std::fs::copy(&backup, f.dir.join("bulwark.db")).unwrap();
    let _ = std::fs::remove_file(f.dir.join("bulwark.db-wal"));
    let _ = std::fs::remove_file(f.dir.join("bulwark.db-shm"));
    let s = reopen(&f.dir);
    let r = s.reveal_blocking(reveal_req(&reader, a, &[DataElement::Email]));
    assert!(
        matches!(r, Err(RevealError::Denied(Denial::NotFound))),
        "{r:?}"
    );
    assert!(s
        .reveal_blocking(reveal_req(&reader, b, &[DataElement::Email]))
        .is_ok());
}

#[test]
fn rotation_rewrap_and_minimum_version() {
    let f = fixture();
    let old = make(&f, "a@example.com", "4111111111111111");
    assert_eq!(f.store.rotate_data_key("operator:test").unwrap(), 2);
    let new = make(&f, "b@example.com", "5555555555554444");
    assert_eq!(f.store.customer_meta(old).unwrap().key_versions, vec![1]);
    assert_eq!(f.store.customer_meta(new).unwrap().key_versions, vec![2]);
    let err = f
        .store
        .set_min_decryption_version(2, false, "operator:test")
        .wait_blocking()
        .unwrap_err();
    assert!(
        matches!(
            err,
            SetMinVersionError::VersionsRemain {
                remaining: 5,
                version: 2
            }
        ),
        "{err}"
    );
    let reader = principal(&["vault:reveal:*"]);
    // Reveals keep working during the re-wrap.
    assert_eq!(f.store.rewrap_status().unwrap().customers_remaining, 1);
    assert_eq!(f.store.rewrap_batch(1, "operator:test").unwrap(), 1);
    assert_eq!(f.store.rewrap_batch(1, "operator:test").unwrap(), 0);
    assert_eq!(f.store.customer_meta(old).unwrap().key_versions, vec![2]);
    f.store
        .set_min_decryption_version(2, false, "operator:test")
        .wait_blocking()
        .unwrap();
    let got = f
        .store
        .reveal_blocking(reveal_req(
            &reader,
            old,
            &[DataElement::Email, DataElement::CardNumber],
        ))
        .unwrap();
    assert_eq!(
        got.fields[&DataElement::CardNumber].as_str(),
        "4111111111111111"
    );
    assert_eq!(
        f.store.customer_meta(old).unwrap().external_id.as_deref(),
        Some("ext-a@example.com")
    );
    let keys = sqlite(&f.dir, "keys.db");
    let v1: i64 = keys
        .query_row(
            "SELECT COUNT(*) FROM customer_keys WHERE version = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        v1, 0,
        "old customer keys are destroyed once nothing uses them"
    );
    f.store.verify_ledger(None, |_| {}).unwrap();
}

#[test]
fn a_second_process_rotating_is_picked_up() {
    let f = fixture();
    let other = reopen(&f.dir);
    other.rotate_data_key("operator:cli").unwrap();
    let id = make(&f, "a@example.com", "4111111111111111");
    assert_eq!(f.store.customer_meta(id).unwrap().key_versions, vec![2]);
    let got = other
        .reveal_blocking(reveal_req(
            &principal(&["vault:reveal:email"]),
            id,
            &[DataElement::Email],
        ))
        .unwrap();
    assert_eq!(got.fields[&DataElement::Email].as_str(), "a@example.com");
    f.store.verify_ledger(None, |_| {}).unwrap();
}

#[test]
fn a_reveal_that_cannot_be_logged_returns_nothing() {
    let f = fixture();
    let id = make(&f, "a@example.com", "4111111111111111");
    // Simulate a failing access-log write (disk full, corruption) behind Bulwark's back.
    sqlite(&f.dir, "bulwark.db")
        .execute_batch("CREATE TRIGGER no_log BEFORE INSERT ON access_log BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END;")
        .unwrap();
    let ledger_before = f.store.ledger_len().unwrap();
    let err = f
        .store
        .reveal_blocking(reveal_req(
            &principal(&["vault:reveal:email"]),
            id,
            &[DataElement::Email],
        ))
        .unwrap_err();
    assert!(
        matches!(err, RevealError::Store(StoreError::Sqlite(_))),
        "{err}"
    );
    assert!(!err.to_string().contains("a@example.com"));
    assert_eq!(
        f.store.ledger_len().unwrap(),
        ledger_before,
        "nothing half-recorded"
    );
    sqlite(&f.dir, "bulwark.db")
        .execute_batch("DROP TRIGGER no_log;")
        .unwrap();
    assert!(f
        .store
        .reveal_blocking(reveal_req(
            &principal(&["vault:reveal:email"]),
            id,
            &[DataElement::Email]
        ))
        .is_ok());
}

#[test]
fn an_interrupted_rewrap_resumes() {
    let f = fixture();
    let ids: Vec<Uuid> = (0..5)
        .map(|i| make(&f, &format!("c{i}@example.com"), "4111111111111111"))
        .collect();
    f.store.rotate_data_key("operator:test").unwrap();
    assert_eq!(f.store.rewrap_batch(2, "operator:test").unwrap(), 2);
    drop(f.store); // the operator's terminal closes mid-way
    let s = reopen(&f.dir);
    let status = s.rewrap_status().unwrap();
    assert_eq!((status.customers_done, status.customers_remaining), (2, 3));
    while s.rewrap_batch(2, "operator:test").unwrap() > 0 {}
    for id in ids {
        assert_eq!(s.customer_meta(id).unwrap().key_versions, vec![2]);
        let got = s
            .reveal_blocking(reveal_req(
                &principal(&["vault:reveal:card_number"]),
                id,
                &[DataElement::CardNumber],
            ))
            .unwrap();
        assert_eq!(
            got.fields[&DataElement::CardNumber].as_str(),
            "4111111111111111"
        );
    }
    s.verify_ledger(None, |_| {}).unwrap();
}

#[test]
fn start_up_repairs_a_crash_between_the_two_files() {
    let f = fixture();
    let keep = make(&f, "keep@example.com", "4111111111111111");
    let half_erased = make(&f, "gone@example.com", "4111111111111111");
    drop(f.store);
    // What a crash leaves: keys.db committed, bulwark.db not. An unacknowledged
    // create (a key for a customer that never landed) and an interrupted erasure
    // (the customer's keys already destroyed).
    let ghost = Uuid::now_v7().to_string();
    let keys = sqlite(&f.dir, "keys.db");
    keys.execute(
        "INSERT INTO customer_keys (customer_id, version, wrapped) VALUES (?1, 1, x'00')",
        [&ghost],
    )
    .unwrap();
    keys.execute(
        "DELETE FROM customer_keys WHERE customer_id = ?1",
        [half_erased.to_string()],
    )
    .unwrap();
    for id in [ghost.clone(), half_erased.to_string()] {
        keys.execute(
            "INSERT OR IGNORE INTO pending (customer_id) VALUES (?1)",
            [id],
        )
        .unwrap();
    }
    drop(keys);
    let s = reopen(&f.dir);
    let keys = sqlite(&f.dir, "keys.db");
    let ghost_keys: i64 = keys
        .query_row(
            "SELECT COUNT(*) FROM customer_keys WHERE customer_id = ?1",
            [&ghost],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ghost_keys, 0, "the unacknowledged create's key is gone");
    assert!(
        matches!(
            s.customer_meta(half_erased),
            Err(CustomerError::NotFound(_))
        ),
        "the erasure was completed"
    );
    let pending: i64 = keys
        .query_row("SELECT COUNT(*) FROM pending", [], |r| r.get(0))
        .unwrap();
    assert_eq!(pending, 0);
    assert!(s
        .reveal_blocking(reveal_req(
            &principal(&["vault:reveal:email"]),
            keep,
            &[DataElement::Email]
        ))
        .is_ok());
    s.verify_ledger(None, |_| {}).unwrap();
}

#[test]
fn repair_never_runs_beside_another_open_store() {
    let f = fixture();
    let id = make(&f, "a@example.com", "4111111111111111");
    // A mark that looks like an interrupted erasure while the first store is still open
    // (as if it were mid-commit): a second process must not act on it.
    sqlite(&f.dir, "keys.db")
        .execute(
            "INSERT OR IGNORE INTO pending (customer_id) VALUES (?1)",
            [id.to_string()],
        )
        .unwrap();
    sqlite(&f.dir, "keys.db")
        .execute(
            "DELETE FROM customer_keys WHERE customer_id = ?1",
            [id.to_string()],
        )
        .unwrap();
    let second = reopen(&f.dir);
    assert!(
        second.customer_meta(id).is_ok(),
        "the second opener left the customer alone"
    );
}
