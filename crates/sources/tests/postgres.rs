//! Discovery against the real PostgreSQL on loopback (127.0.0.1:5432, the
//! `postgres` role, as CI provides it): a custom shop schema whose customers
//! keep their address and birth date in a JSON column and whose orders keep
//! card data in JSON, read by a role with SELECT only. The counts per
//! jurisdiction come from the JSON paths and must equal the ground truth.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use bulwark_discover::classify::Options;
use bulwark_testkit::people::people;

const ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";

struct Db {
    name: String,
    role: String,
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(ADMIN, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
            let _ = c.batch_execute(&format!("DROP ROLE IF EXISTS {}", self.role));
        }
    }
}

const PAN: &str = "4111111111111111";

fn shop(count: u64) -> (Db, Vec<bulwark_testkit::people::Person>) {
    let mut admin = postgres::Client::connect(ADMIN, postgres::NoTls)
        .expect("PostgreSQL on 127.0.0.1:5432 (role postgres): start it (scripts/test does)");
    let tag = format!(
        "{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let db = Db {
        name: format!("bw_pg_{tag}"),
        role: format!("bw_ro_{tag}"),
    };
    admin
        .batch_execute(&format!("CREATE DATABASE {}", db.name))
        .unwrap();
    admin
        .batch_execute(&format!(
            "CREATE ROLE {} LOGIN PASSWORD 'report-pw-9'",
            db.role
        ))
        .unwrap();
    let mut c = postgres::Client::connect(
        &format!("postgres://postgres@127.0.0.1:5432/{}", db.name),
        postgres::NoTls,
    )
    .unwrap();
    c.batch_execute(
        "CREATE TABLE customers (id BIGINT PRIMARY KEY, email TEXT NOT NULL, full_name TEXT, phone TEXT, password_md5 TEXT, profile JSONB, created_at TIMESTAMPTZ DEFAULT now());
         CREATE TABLE orders (id BIGSERIAL PRIMARY KEY, customer_id BIGINT REFERENCES customers (id), placed_at TIMESTAMPTZ DEFAULT now(), details JSONB);
         CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT);
         INSERT INTO settings VALUES ('theme', 'dark');",
    )
    .unwrap();
    let people = people(count, 17);
    let mut tx = c.transaction().unwrap();
    for p in &people {
        let mut address = serde_json::json!({
            "street": p.street, "city": p.home.city, "postcode": p.postcode, "country": p.home.country,
        });
        if let Some(r) = p.home.region_name {
            address["region"] = r.into();
        }
        let mut profile = serde_json::json!({ "address": address, "newsletter": true });
        if let Some(d) = &p.dob {
            profile["dob"] = d.as_str().into();
        }
        tx.execute(
            "INSERT INTO customers (id, email, full_name, phone, password_md5, profile) VALUES ($1, $2, $3, $4, $5, $6::text::jsonb)",
            &[
                &(p.n as i64),
                &p.email,
                &format!("{} {}", p.first, p.last),
                &p.phone,
                &format!("{:032x}", u128::from(p.n) * 0xfeed_beef),
                &profile.to_string(),
            ],
        )
        .unwrap();
        for k in 0..p.orders {
            let mut details = serde_json::json!({ "ip": p.ip, "total": 19.99 });
            if p.n % 2 == 0 {
                details["card"] = serde_json::json!({ "number": PAN, "holder": p.last });
            }
            if k == 0 && p.n % 7 == 0 {
                details["note"] = format!("card {PAN} cvv {}", 100 + p.n % 900).into();
            }
            tx.execute(
                "INSERT INTO orders (customer_id, details) VALUES ($1, $2::text::jsonb)",
                &[&(p.n as i64), &details.to_string()],
            )
            .unwrap();
        }
    }
    tx.commit().unwrap();
    c.batch_execute(&format!(
        "GRANT USAGE ON SCHEMA public TO {r}; GRANT SELECT ON ALL TABLES IN SCHEMA public TO {r}; ANALYZE",
        r = db.role
    ))
    .unwrap();
    (db, people)
}

#[test]
fn a_custom_schema_with_json_columns_is_discovered_and_counted_from_json_paths() {
    let (db, people) = shop(700);
    let dsn = format!(
        "postgres://{}:report-pw-9@127.0.0.1:5432/{}",
        db.role, db.name
    );
    let mut source = bulwark_sources::open(&dsn, false).unwrap();
    let d = bulwark_sources::discover(source.as_mut(), 200, Options::default(), |_| {}).unwrap();
    let element = |c: &str| {
        d.columns
            .iter()
            .find(|r| format!("{}.{}", r.table, r.column) == c)
            .and_then(|r| r.element)
            .map(|e| e.code())
    };
    for (c, e) in [
        ("customers.email", "email"),
        ("customers.phone", "phone"),
        ("customers.full_name", "name"),
        ("customers.password_md5", "password"),
        ("customers.profile.dob", "date_of_birth"),
        ("customers.profile.address.street", "postal_address"),
        ("orders.details.ip", "ip_address"),
        ("orders.details.card.number", "card_number"),
    ] {
        assert_eq!(element(c), Some(e), "{c}");
    }
    assert!(d
        .findings
        .iter()
        .any(|f| f.code == "stored-pan" && f.column == "details.card.number"));
    assert!(d
        .findings
        .iter()
        .any(|f| f.code == "weak-password-hash" && f.column == "password_md5"));
    assert!(
        d.findings
            .iter()
            .any(|f| f.code == "stored-security-code" && f.column == "details.note"),
        "{:?}",
        d.findings
    );

    let facts = d.customers.as_ref().expect("customers found");
    assert_eq!(facts.plan.customer_table, "customers");
    assert_eq!(facts.counts.customers, 700);
    assert_eq!(facts.counts.residency.unknown, 0);
    let mut truth: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new();
    for p in &people {
        let e = truth.entry(p.home.jurisdiction()).or_default();
        e.0 += 1;
        e.1 += u64::from(p.dob.is_some());
        e.2 += u64::from(p.orders > 0 && p.n % 2 == 0);
    }
    let got: BTreeMap<&str, (u64, u64, u64)> = facts
        .counts
        .by_jurisdiction
        .iter()
        .map(|(j, c)| {
            let n = |e: bulwark_model::DataElement| c.by_element.get(&e).copied().unwrap_or(0);
            (
                j.as_str(),
                (
                    c.customers,
                    n(bulwark_model::DataElement::DateOfBirth),
                    n(bulwark_model::DataElement::CardNumber),
                ),
            )
        })
        .collect();
    assert_eq!(
        got, truth,
        "customers, birth dates and cards per jurisdiction"
    );

    let text = format!("{}\n{d:?}", serde_json::to_string(&d).unwrap());
    for p in &people {
        assert!(!text.contains(&p.email) && !text.contains(&p.phone) && !text.contains(&p.last));
    }
    assert!(!text.contains(PAN));
}

#[test]
fn a_role_that_can_write_is_refused_and_credentials_are_never_echoed() {
    let (db, _) = shop(5);
    let owner = format!(
        "postgres://postgres:pw-never-shown@127.0.0.1:5432/{}",
        db.name
    );
    let err = bulwark_sources::open(&owner, false).err().expect("refused");
    let msg = err.to_string();
    assert!(msg.contains("can write"), "{msg}");
    assert!(!msg.contains("pw-never-shown"), "{msg}");
    // With --i-know it reads, in a read-only session.
    let mut s = bulwark_sources::open(&owner, true).unwrap();
    assert_eq!(s.tables().unwrap().len(), 3);
    let bad = format!(
        "postgres://nobody_{}:secret-x@127.0.0.1:5432/{}",
        db.role, db.name
    );
    let msg = bulwark_sources::open(&bad, false)
        .err()
        .unwrap()
        .to_string();
    assert!(msg.contains("cannot open"), "{msg}");
    assert!(!msg.contains("secret-x"), "{msg}");
}
