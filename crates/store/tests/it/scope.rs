use crate::common::*;
use bulwark_model::{DataElement, Scope, Scopes};
use bulwark_store::{LookupBy, Principal, RevealRequest, ScopeQuery};
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

fn write_assets(f: &Fixture, assets: serde_json::Value) {
    std::fs::write(f.dir.join("assets.json"), assets.to_string()).unwrap();
}

fn asset(name: &str, elements: &[DataElement]) -> bulwark_incident::Asset {
    bulwark_incident::Asset {
        name: name.into(),
        elements: elements.iter().copied().collect(),
        customers: 3,
        hosting: "AWS eu-west-1".into(),
        owner: "ops".into(),
        facts: None,
    }
}

fn by_id(r: &bulwark_store::ScopeResult) -> Vec<(String, Vec<DataElement>, String)> {
    let mut out: Vec<_> = r
        .customers
        .iter()
        .map(|c| {
            let res = c.residency.as_ref().unwrap();
            (
                c.id.clone(),
                c.elements.iter().copied().collect(),
                res.subdivision
                    .clone()
                    .unwrap_or_else(|| res.country.clone()),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn scope_from_asset_is_every_vault_customer_with_the_assets_elements() {
    use DataElement::*;
    let f = fixture();
    let mk = |country: &str, sub: Option<&str>, fields: serde_json::Value| {
        f.store
            .create_customer(
                &customer(
                    json!({"residency": {"country": country, "subdivision": sub}, "fields": fields}),
                ),
                &principal(&["vault:write"]),
            )
            .unwrap()
            .wait_blocking()
            .unwrap()
            .to_string()
    };
    let ca = mk(
        "US",
        Some("US-CA"),
        json!({"email": "ca@example.com", "name": "A", "card_number": "4111111111111111"}),
    );
    let de = mk("DE", None, json!({"email": "de@example.de", "name": "B"}));
    let fr = mk("FR", None, json!({"email": "fr@example.fr", "name": "C"}));

    // Every customer holds every element of the asset: all of them, with exactly those.
    let crm = asset("crm", &[Email, Name]);
    let r = f.store.scope_from_asset(&crm).unwrap();
    let mut want = vec![
        (ca.clone(), vec![Name, Email], "US-CA".to_string()),
        (de.clone(), vec![Name, Email], "DE".to_string()),
        (fr.clone(), vec![Name, Email], "FR".to_string()),
    ];
    want.sort();
    assert_eq!(by_id(&r), want);
    assert_eq!(r.reveals, 0);
    assert_eq!(r.by_element[&Email], 3);
    assert_eq!(r.by_element[&Name], 3);
    assert!(r.customers.iter().all(|c| c.reveals == 0));

    // Per customer, narrowed to what the vault holds for them: only the carded customer
    // had a card in the payments system...
    let payments = asset("payments", &[CardNumber, Name]);
    let r = f.store.scope_from_asset(&payments).unwrap();
    let mut want = vec![
        (ca.clone(), vec![Name, CardNumber], "US-CA".to_string()),
        (de.clone(), vec![Name], "DE".to_string()),
        (fr.clone(), vec![Name], "FR".to_string()),
    ];
    want.sort();
    assert_eq!(by_id(&r), want);
    let cards = f
        .store
        .scope_from_asset(&asset("cards", &[CardNumber]))
        .unwrap();
    assert_eq!(
        by_id(&cards),
        vec![(ca.clone(), vec![CardNumber], "US-CA".to_string())],
        "customers with none of the asset's elements are not affected"
    );
    // ...but an element the vault holds for no one cannot be narrowed: everyone has it.
    let shop = asset("shop", &[Email, PurchaseHistory]);
    let r = f.store.scope_from_asset(&shop).unwrap();
    assert_eq!(r.customers.len(), 3);
    assert!(r
        .customers
        .iter()
        .all(|c| c.elements == [Email, PurchaseHistory].into_iter().collect()));
    assert_eq!(r.by_element[&PurchaseHistory], 3);

    // The summary: counts by element, by jurisdiction, and per jurisdiction × elements.
    let s = r.summary(&bulwark_store::ScopeBasis::Asset(shop), true, false);
    assert_eq!(s.source, "asset");
    assert_eq!(s.customers, 3);
    assert_eq!(s.residency_unknown, 0);
    assert_eq!(
        s.by_jurisdiction,
        [
            ("DE".to_string(), 1),
            ("FR".to_string(), 1),
            ("US-CA".to_string(), 1)
        ]
        .into_iter()
        .collect()
    );
    assert_eq!(s.affected.len(), 3);
    assert!(s
        .affected
        .iter()
        .all(|g| g.elements == vec![Email, PurchaseHistory] && g.count == 1));
    let v = serde_json::to_value(&s).unwrap();
    assert_eq!(v["query"]["asset"], "shop");
    assert_eq!(v["encrypted"], true);

    // An erased customer is no longer in the vault, so not in an asset's scope.
    f.store
        .erase_customer(fr.parse().unwrap(), &principal(&["vault:write"]))
        .wait_blocking()
        .unwrap();
    assert_eq!(f.store.scope_from_asset(&crm).unwrap().customers.len(), 2);
}

#[test]
fn assets_are_found_by_name_and_unknown_names_are_refused_with_the_known_ones() {
    let f = fixture();
    match f.store.dir().asset("crm") {
        Err(bulwark_store::AssetLookupError::Unknown { known, .. }) => assert!(known.is_empty()),
        other => panic!("an empty inventory: {other:?}"),
    }
    write_assets(
        &f,
        json!([
            {"name": "crm", "elements": ["email", "name"], "customers": 10, "hosting": "SaaS", "owner": "sales"},
            {"name": "orders-db", "elements": ["postal_address"], "customers": 5, "hosting": "AWS", "owner": "ops"}
        ]),
    );
    let a = f.store.dir().asset("orders-db").unwrap();
    assert_eq!(
        a.elements,
        [DataElement::PostalAddress].into_iter().collect()
    );
    let e = f.store.dir().asset("crn").unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("`crn`") && msg.contains("crm, orders-db"),
        "{msg}"
    );
    std::fs::write(f.dir.join("assets.json"), "{not json").unwrap();
    // A broken inventory is an error naming the file and the line, not an empty one.
    match f.store.dir().asset("crm") {
        Err(bulwark_store::AssetLookupError::File(e)) => {
            let msg = e.to_string();
            assert!(msg.contains("assets.json:1:"), "{msg}");
        }
        other => panic!("a broken inventory: {other:?}"),
    }
}
