mod common;

use bulwark_model::{DataElement, Scope, Scopes};
use bulwark_store::{LookupBy, Principal, RevealRequest, ScopeQuery};
use common::*;
use serde_json::json;
use uuid::Uuid;

fn key(id: &str) -> Principal {
    Principal {
        id: format!("key:{id}"),
        name: id.into(),
        key_id: Some(id.into()),
        scopes: Scopes::new([Scope::VaultRevealAll, Scope::VaultLookup]),
    }
}

fn reveal(f: &Fixture, p: &Principal, id: Uuid, elements: &[DataElement], source: &str) {
    let _ = f.store.reveal_blocking(RevealRequest {
        principal: p.clone(),
        purpose: Some("scope test".into()),
        customer: id,
        elements: elements.to_vec(),
        source: Some(source.into()),
    });
}

#[test]
fn scope_is_exactly_what_the_principal_revealed_in_the_window() {
    let f = fixture();
    let mk = |country: &str, sub: Option<&str>, email: &str| {
        f.store
            .create_customer(&customer(json!({"residency": {"country": country, "subdivision": sub}, "fields": {"email": email, "name": "N", "card_number": "4111111111111111"}})), &principal(&["vault:write"]))
            .unwrap()
            .wait_blocking()
            .unwrap()
    };
    let ca = mk("US", Some("US-CA"), "ca@example.com");
    let tx = mk("US", Some("US-TX"), "tx@example.com");
    let de = mk("DE", None, "de@example.de");
    let other = mk("FR", None, "fr@example.fr");
    let (thief, clerk) = (key("thief"), key("clerk"));
    let before = now_ms() - 1;
    reveal(
        &f,
        &thief,
        ca,
        &[DataElement::Email, DataElement::CardNumber],
        "203.0.113.9",
    );
    reveal(&f, &thief, ca, &[DataElement::Name], "203.0.113.9");
    reveal(&f, &thief, tx, &[DataElement::Email], "203.0.113.9");
    reveal(&f, &clerk, de, &[DataElement::Name], "203.0.113.9"); // same address, another principal
    reveal(&f, &clerk, other, &[DataElement::Email], "198.51.100.4");
    // A refused reveal and a lookup expose nothing.
    let mut no_card = thief.clone();
    no_card.scopes = Scopes::new([Scope::VaultReveal(DataElement::Email)]);
    reveal(
        &f,
        &no_card,
        other,
        &[DataElement::CardNumber],
        "203.0.113.9",
    );
    f.store
        .lookup(LookupBy::Email("fr@example.fr".into()), &thief, None, None)
        .unwrap()
        .wait_blocking()
        .unwrap();
    let after = now_ms() + 1;

    let by_thief = f
        .store
        .scope_from_access_log(&ScopeQuery {
            principals: vec!["key:thief".into()],
            sources: vec![],
            since_ms: before,
            until_ms: after,
        })
        .unwrap();
    let mut got: Vec<(String, Vec<DataElement>, Option<String>)> = by_thief
        .customers
        .iter()
        .map(|c| {
            (
                c.id.clone(),
                c.elements.iter().copied().collect(),
                c.residency.as_ref().and_then(|r| r.subdivision.clone()),
            )
        })
        .collect();
    got.sort();
    let mut want = vec![
        (
            ca.to_string(),
            vec![
                DataElement::Name,
                DataElement::Email,
                DataElement::CardNumber,
            ],
            Some("US-CA".to_string()),
        ),
        (
            tx.to_string(),
            vec![DataElement::Email],
            Some("US-TX".to_string()),
        ),
    ];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(by_thief.reveals, 3);
    assert_eq!(by_thief.by_element[&DataElement::Email], 2);

    // By source address: the thief's customers plus the clerk's reveal from the same address.
    let by_source = f
        .store
        .scope_from_access_log(&ScopeQuery {
            principals: vec![],
            sources: vec!["203.0.113.9".into()],
            since_ms: before,
            until_ms: after,
        })
        .unwrap();
    let mut ids: Vec<String> = by_source.customers.iter().map(|c| c.id.clone()).collect();
    ids.sort();
    let mut want_ids = vec![ca.to_string(), tx.to_string(), de.to_string()];
    want_ids.sort();
    assert_eq!(ids, want_ids);

    // Outside the window: nothing.
    let empty = f
        .store
        .scope_from_access_log(&ScopeQuery {
            principals: vec!["key:thief".into()],
            sources: vec![],
            since_ms: before - 60_000,
            until_ms: before,
        })
        .unwrap();
    assert!(empty.customers.is_empty());

    // An erased customer stays in scope, with residency unknown.
    f.store
        .erase_customer(tx, &principal(&["vault:write"]))
        .wait_blocking()
        .unwrap();
    let again = f
        .store
        .scope_from_access_log(&ScopeQuery {
            principals: vec!["key:thief".into()],
            sources: vec![],
            since_ms: before,
            until_ms: after,
        })
        .unwrap();
    let erased = again
        .customers
        .iter()
        .find(|c| c.id == tx.to_string())
        .unwrap();
    assert!(erased.residency.is_none());
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}
