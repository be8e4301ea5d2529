//! Discovery against realistic shop schemas on the real MariaDB (root with an
//! empty password on 127.0.0.1:3306, as CI provides it): a Magento-2-like
//! database with EAV attributes and a WooCommerce-like one with
//! `wp_usermeta`, filled with generated customers across countries and
//! planted violations. The counts per jurisdiction must equal the ground
//! truth the test computes from the generated people, and no generated value
//! may appear in anything discovery returns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use bulwark_discover::classify::Options;
use bulwark_model::DataElement as E;
use bulwark_sources::Discovery;
use bulwark_testkit::people::{people, Person};
use bulwark_testkit::shopdb::{magento, woocommerce, Db, PANS};

fn element(d: &Discovery, c: &str) -> Option<&'static str> {
    d.columns
        .iter()
        .find(|r| format!("{}.{}", r.table, r.column) == c)
        .and_then(|r| r.element)
        .map(|e| e.code())
}

fn finding(d: &Discovery, code: &str, at: &str) -> bool {
    d.findings
        .iter()
        .any(|f| f.code == code && format!("{}.{}", f.table, f.column) == at)
}

/// Nothing discovery returns holds a generated value.
fn holds_no_value(d: &Discovery, people: &[Person]) {
    let text = format!("{}\n{d:?}", serde_json::to_string(d).unwrap());
    for p in people {
        for secret in [&p.email, &p.phone, &p.first, &p.last, &p.street] {
            assert!(!text.contains(secret.as_str()), "a sampled value leaked");
        }
        if let Some(t) = &p.tax_id {
            assert!(!text.contains(t.as_str()), "a tax id leaked");
        }
    }
    for pan in PANS {
        assert!(!text.contains(pan), "a card number leaked");
    }
}

type Truth = BTreeMap<String, (u64, BTreeMap<E, u64>)>;

fn add(truth: &mut Truth, j: &str, elements: &[E]) {
    let e = truth.entry(j.to_owned()).or_default();
    e.0 += 1;
    for el in elements {
        *e.1.entry(*el).or_default() += 1;
    }
}

/// Compares the counted jurisdictions with the truth, for the elements the
/// truth tracks.
fn assert_counts(d: &Discovery, truth: &Truth, tracked: &[E]) {
    let c = &d.customers.as_ref().expect("a customer table").counts;
    let got: BTreeMap<&str, u64> = c
        .by_jurisdiction
        .iter()
        .map(|(j, jc)| (j.as_str(), jc.customers))
        .collect();
    let want: BTreeMap<&str, u64> = truth.iter().map(|(j, (n, _))| (j.as_str(), *n)).collect();
    assert_eq!(got, want, "customers per jurisdiction");
    for (j, (_, elements)) in truth {
        for e in tracked {
            assert_eq!(
                c.by_jurisdiction[j].by_element.get(e).copied().unwrap_or(0),
                elements.get(e).copied().unwrap_or(0),
                "{j} {e}"
            );
        }
    }
}

#[test]
fn magento_customers_are_counted_per_jurisdiction_from_their_addresses() {
    let people = people(1200, 15);
    let mut db = Db::new("mage");
    magento(&mut db, &people);
    let dsn = db.reporting_dsn();
    let mut source = bulwark_sources::open(&dsn, false).unwrap();
    let d = bulwark_sources::discover(source.as_mut(), 200, Options::default(), |_| {}).unwrap();

    for (c, e) in [
        ("customer_entity.email", "email"),
        ("customer_entity.firstname", "name"),
        ("customer_entity.lastname", "name"),
        ("customer_entity.dob", "date_of_birth"),
        ("customer_entity.password_hash", "password"),
        ("customer_entity_varchar.value[taxvat]", "tax_id"),
        ("customer_address_entity.street", "postal_address"),
        ("customer_address_entity.postcode", "postal_address"),
        ("customer_address_entity.telephone", "phone"),
        ("sales_order.customer_email", "email"),
        ("sales_order.remote_ip", "ip_address"),
        ("sales_order_payment.cc_number_enc", "card_number"),
    ] {
        assert_eq!(element(&d, c), Some(e), "{c}");
    }
    assert_eq!(
        element(&d, "customer_entity_varchar.value[newsletter_opt]"),
        None
    );
    assert!(
        finding(&d, "stored-pan", "sales_order_payment.cc_number_enc"),
        "{:?}",
        d.findings
    );
    assert!(
        finding(&d, "weak-password-hash", "customer_entity.password_hash"),
        "{:?}",
        d.findings
    );
    assert!(
        d.findings
            .iter()
            .any(|f| f.table == "sales_order_status_history" && f.code == "stored-security-code"),
        "{:?}",
        d.findings
    );

    let facts = d.customers.as_ref().unwrap();
    assert_eq!(facts.plan.customer_table, "customer_entity");
    assert_eq!(facts.counts.customers, 1200);
    // Payments and order comments are tied to orders, not to a customer.
    assert!(
        d.untied_tables.contains(&"sales_order_payment".to_owned()),
        "{:?}",
        d.untied_tables
    );

    let mut truth = Truth::new();
    let (mut unknown, mut several) = (0, 0);
    for p in &people {
        let mut els = vec![E::Email, E::Name, E::Password];
        if p.dob.is_some() {
            els.push(E::DateOfBirth);
        }
        if p.tax_id.is_some() {
            els.push(E::TaxId);
        }
        if p.orders > 0 {
            els.push(E::IpAddress);
        }
        if p.n % 5 == 0 {
            unknown += 1;
            continue;
        }
        els.extend([E::PostalAddress, E::Phone]);
        add(&mut truth, p.home.jurisdiction(), &els);
        if let Some(s) = p.second {
            several += 1;
            add(&mut truth, s.jurisdiction(), &els);
        }
    }
    assert_eq!(facts.counts.residency.unknown, unknown);
    assert_eq!(facts.counts.residency.several, several);
    assert!(
        several > 10,
        "the generator plants customers with two addresses"
    );
    assert_counts(
        &d,
        &truth,
        &[
            E::Email,
            E::DateOfBirth,
            E::TaxId,
            E::IpAddress,
            E::Phone,
            E::PostalAddress,
        ],
    );
    holds_no_value(&d, &people);
}

#[test]
fn woocommerce_customers_are_counted_from_usermeta_and_phone_prefixes() {
    let people = people(900, 16);
    let mut db = Db::new("woo");
    woocommerce(&mut db, &people);
    let dsn = db.reporting_dsn();
    let mut source = bulwark_sources::open(&dsn, false).unwrap();
    let d = bulwark_sources::discover(source.as_mut(), 200, Options::default(), |_| {}).unwrap();

    for (c, e) in [
        ("wp_users.user_email", "email"),
        ("wp_users.user_pass", "password"),
        ("wp_usermeta.meta_value[billing_phone]", "phone"),
        (
            "wp_usermeta.meta_value[billing_address_1]",
            "postal_address",
        ),
        ("wp_usermeta.meta_value[first_name]", "name"),
        ("wp_wc_orders.ip_address", "ip_address"),
    ] {
        assert_eq!(element(&d, c), Some(e), "{c}");
    }
    assert!(
        finding(&d, "weak-password-hash", "wp_users.user_pass"),
        "{:?}",
        d.findings
    );
    assert!(
        d.findings.iter().any(|f| f.table == "wp_wc_orders"
            && f.column == "customer_note"
            && f.code == "stored-security-code"),
        "{:?}",
        d.findings
    );
    let facts = d.customers.as_ref().unwrap();
    assert_eq!(facts.plan.customer_table, "wp_users");
    assert_eq!(facts.counts.customers, 900);

    let mut truth = Truth::new();
    let (mut from_phone, mut unknown) = (0, 0);
    for p in &people {
        let mut els = vec![E::Email, E::Phone, E::PostalAddress];
        if p.orders > 0 {
            els.push(E::IpAddress);
        }
        if p.n % 6 == 0 {
            if p.home.calling_code == "1" {
                unknown += 1;
            } else {
                from_phone += 1;
                add(&mut truth, p.home.country, &els);
            }
            continue;
        }
        add(&mut truth, p.home.jurisdiction(), &els);
    }
    assert_eq!(facts.counts.residency.from_phone, from_phone);
    assert_eq!(facts.counts.residency.unknown, unknown);
    assert_eq!(
        facts.counts.residency.several, 0,
        "shipping does not move a customer"
    );
    assert_counts(
        &d,
        &truth,
        &[E::Email, E::Phone, E::PostalAddress, E::IpAddress],
    );
    holds_no_value(&d, &people);
    let seen: BTreeSet<&str> = facts
        .counts
        .by_jurisdiction
        .keys()
        .map(String::as_str)
        .collect();
    assert!(
        seen.contains("US-CA") && seen.contains("CA-QC") && seen.contains("GB"),
        "{seen:?}"
    );
}
