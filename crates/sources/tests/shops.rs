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
use mysql::prelude::Queryable;

const ROOT: &str = "mysql://root@127.0.0.1:3306/mysql";

pub struct Db {
    root: mysql::Conn,
    pub name: String,
    user: String,
}

impl Drop for Db {
    fn drop(&mut self) {
        let _ = self
            .root
            .query_drop(format!("DROP DATABASE IF EXISTS `{}`", self.name));
        let _ = self
            .root
            .query_drop(format!("DROP USER IF EXISTS '{}'@'%'", self.user));
    }
}

impl Db {
    fn new(kind: &str) -> Db {
        let mut root = mysql::Conn::new(mysql::Opts::from_url(ROOT).unwrap()).expect(
            "MariaDB on 127.0.0.1:3306 (root, empty password): start it (scripts/test does)",
        );
        let tag = format!(
            "{}{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        let name = format!("bw_{kind}_{tag}");
        let user = format!("ro{}", &tag[..tag.len().min(24)]);
        root.query_drop(format!("CREATE DATABASE `{name}`"))
            .unwrap();
        root.query_drop(format!("USE `{name}`")).unwrap();
        Db { root, name, user }
    }

    fn exec(&mut self, sql: &str) {
        self.root.query_drop(sql).unwrap();
    }

    /// Inserts rows in batches of multi-row INSERTs.
    fn insert(&mut self, table: &str, columns: &str, rows: Vec<Vec<mysql::Value>>) {
        for chunk in rows.chunks(500) {
            let width = chunk[0].len();
            let marks = vec![format!("({})", vec!["?"; width].join(",")); chunk.len()].join(",");
            let params: Vec<mysql::Value> = chunk.iter().flatten().cloned().collect();
            self.root
                .exec_drop(
                    format!("INSERT INTO {table} ({columns}) VALUES {marks}"),
                    params,
                )
                .unwrap();
        }
    }

    /// A reporting account with SELECT only, as the docs tell stores to make.
    fn reporting_dsn(&mut self) -> String {
        let (user, name) = (self.user.clone(), self.name.clone());
        self.exec(&format!(
            "CREATE USER '{user}'@'%' IDENTIFIED BY 'report-pw-7'"
        ));
        self.exec(&format!("GRANT SELECT ON `{name}`.* TO '{user}'@'%'"));
        format!("mysql://{user}:report-pw-7@127.0.0.1:3306/{name}")
    }
}

fn v<T: Into<mysql::Value>>(x: T) -> mysql::Value {
    x.into()
}

const PANS: [&str; 3] = ["4111111111111111", "5555555555554444", "378282246310005"];

/// A Magento-2-like schema: customers with EAV attributes, addresses tied by
/// a declared foreign key, orders, payments with a planted full-PAN column,
/// and an order comment holding a CVV. Some password hashes are MD5.
pub fn magento(db: &mut Db, people: &[Person]) {
    db.exec(
        "CREATE TABLE customer_entity (entity_id INT UNSIGNED PRIMARY KEY, website_id SMALLINT, email VARCHAR(255), firstname VARCHAR(255), lastname VARCHAR(255), dob DATE NULL, password_hash VARCHAR(128), gender SMALLINT, created_at TIMESTAMP NOT NULL DEFAULT '2024-01-01 00:00:00') ENGINE=InnoDB;
         CREATE TABLE eav_attribute (attribute_id SMALLINT UNSIGNED PRIMARY KEY, entity_type_id SMALLINT, attribute_code VARCHAR(255), backend_type VARCHAR(8)) ENGINE=InnoDB;
         CREATE TABLE customer_entity_varchar (value_id INT PRIMARY KEY AUTO_INCREMENT, attribute_id SMALLINT UNSIGNED, entity_id INT UNSIGNED, value VARCHAR(255),
             FOREIGN KEY (entity_id) REFERENCES customer_entity (entity_id), FOREIGN KEY (attribute_id) REFERENCES eav_attribute (attribute_id)) ENGINE=InnoDB;
         CREATE TABLE customer_address_entity (entity_id INT UNSIGNED PRIMARY KEY AUTO_INCREMENT, parent_id INT UNSIGNED, firstname VARCHAR(255), lastname VARCHAR(255), street TEXT, city VARCHAR(255), postcode VARCHAR(255), region VARCHAR(255), region_id INT, country_id VARCHAR(2), telephone VARCHAR(255),
             FOREIGN KEY (parent_id) REFERENCES customer_entity (entity_id)) ENGINE=InnoDB;
         CREATE TABLE sales_order (entity_id INT UNSIGNED PRIMARY KEY AUTO_INCREMENT, state VARCHAR(32), customer_id INT UNSIGNED NULL, customer_email VARCHAR(128), remote_ip VARCHAR(45), created_at TIMESTAMP NOT NULL DEFAULT '2024-01-01 00:00:00',
             FOREIGN KEY (customer_id) REFERENCES customer_entity (entity_id)) ENGINE=InnoDB;
         CREATE TABLE sales_order_payment (entity_id INT UNSIGNED PRIMARY KEY AUTO_INCREMENT, parent_id INT UNSIGNED, method VARCHAR(128), cc_last_4 VARCHAR(100), cc_number_enc VARCHAR(128),
             FOREIGN KEY (parent_id) REFERENCES sales_order (entity_id)) ENGINE=InnoDB;
         CREATE TABLE sales_order_status_history (entity_id INT UNSIGNED PRIMARY KEY AUTO_INCREMENT, parent_id INT UNSIGNED, comment TEXT, status VARCHAR(32),
             FOREIGN KEY (parent_id) REFERENCES sales_order (entity_id)) ENGINE=InnoDB;
         INSERT INTO eav_attribute VALUES (1, 1, 'firstname', 'static'), (2, 1, 'taxvat', 'varchar'), (3, 1, 'mobile_phone', 'varchar'), (4, 1, 'newsletter_opt', 'varchar');",
    );
    let mut customers = Vec::new();
    let mut eav = Vec::new();
    let mut addresses = Vec::new();
    let mut orders = Vec::new();
    let mut payments = Vec::new();
    let mut history = Vec::new();
    let mut order_id = 0u64;
    for p in people {
        let hash = if p.n % 4 == 0 {
            format!("{:032x}:salt{}:0", u128::from(p.n) * 0x9e37_79b9, p.n)
        } else {
            format!("{:064x}:salt{}:1", u128::from(p.n) * 0x51_7cc1_b727, p.n)
        };
        customers.push(vec![
            v(p.n),
            v(1),
            v(p.email.as_str()),
            v(p.first.as_str()),
            v(p.last.as_str()),
            p.dob.as_deref().map(v).unwrap_or(mysql::Value::NULL),
            v(hash),
            v(p.n % 3),
        ]);
        if let Some(t) = &p.tax_id {
            eav.push(vec![v(2), v(p.n), v(t.as_str())]);
        }
        eav.push(vec![v(4), v(p.n), v("yes")]);
        // Every fifth customer has no address (residency unknown).
        if p.n % 5 != 0 {
            for place in std::iter::once(p.home).chain(p.second) {
                addresses.push(vec![
                    v(p.n),
                    v(p.first.as_str()),
                    v(p.last.as_str()),
                    v(p.street.as_str()),
                    v(place.city),
                    v(p.postcode.as_str()),
                    place.region_name.map(v).unwrap_or(mysql::Value::NULL),
                    v(12),
                    v(place.country),
                    v(p.phone.as_str()),
                ]);
            }
        }
        for k in 0..p.orders {
            order_id += 1;
            orders.push(vec![
                v("complete"),
                v(p.n),
                v(p.email.as_str()),
                v(p.ip.as_str()),
            ]);
            let pan = PANS[(order_id % 3) as usize];
            payments.push(vec![
                v(order_id),
                v("ccsave"),
                v(&pan[pan.len() - 4..]),
                v(pan),
            ]);
            let comment = if k == 0 && p.n % 7 == 0 {
                format!("Customer called: card {pan} cvv {}", 100 + p.n % 900)
            } else {
                "Order shipped".to_owned()
            };
            history.push(vec![v(order_id), v(comment), v("complete")]);
        }
    }
    db.insert(
        "customer_entity",
        "entity_id, website_id, email, firstname, lastname, dob, password_hash, gender",
        customers,
    );
    db.insert(
        "customer_entity_varchar",
        "attribute_id, entity_id, value",
        eav,
    );
    db.insert(
        "customer_address_entity",
        "parent_id, firstname, lastname, street, city, postcode, region, region_id, country_id, telephone",
        addresses,
    );
    db.insert(
        "sales_order",
        "state, customer_id, customer_email, remote_ip",
        orders,
    );
    db.insert(
        "sales_order_payment",
        "parent_id, method, cc_last_4, cc_number_enc",
        payments,
    );
    db.insert(
        "sales_order_status_history",
        "parent_id, comment, status",
        history,
    );
}

/// A WooCommerce-like schema: `wp_users` and `wp_usermeta` (billing and
/// shipping addresses as meta keys), orders with a CVV in a customer note.
/// Some customers have no billing country but a phone with a prefix, some
/// nothing at all; some passwords are unsalted MD5.
pub fn woocommerce(db: &mut Db, people: &[Person]) {
    db.exec(
        "CREATE TABLE wp_users (ID BIGINT UNSIGNED PRIMARY KEY AUTO_INCREMENT, user_login VARCHAR(60), user_pass VARCHAR(255), user_nicename VARCHAR(50), user_email VARCHAR(100), user_registered DATETIME NOT NULL DEFAULT '2024-01-01 00:00:00', display_name VARCHAR(250));
         CREATE TABLE wp_usermeta (umeta_id BIGINT UNSIGNED PRIMARY KEY AUTO_INCREMENT, user_id BIGINT UNSIGNED NOT NULL DEFAULT 0, meta_key VARCHAR(255), meta_value LONGTEXT, KEY user_id (user_id));
         CREATE TABLE wp_wc_orders (id BIGINT UNSIGNED PRIMARY KEY, status VARCHAR(20), customer_id BIGINT UNSIGNED, billing_email VARCHAR(320), ip_address VARCHAR(100), customer_note TEXT);",
    );
    let mut users = Vec::new();
    let mut meta = Vec::new();
    let mut orders = Vec::new();
    let mut order_id = 0u64;
    for p in people {
        let pass = if p.n % 3 == 0 {
            format!("{:032x}", u128::from(p.n) * 0x1234_5678_9abc)
        } else {
            format!("$P$B{:0>30}", p.n)
        };
        users.push(vec![
            v(p.n),
            v(format!("user{}", p.n)),
            v(pass),
            v(format!("user{}", p.n)),
            v(p.email.as_str()),
            v(format!("{} {}", p.first, p.last)),
        ]);
        let mut m = |k: &str, val: String| meta.push(vec![v(p.n), v(k), v(val)]);
        m("first_name", p.first.clone());
        m("last_name", p.last.clone());
        m("rich_editing", "true".into());
        m("billing_phone", p.phone.clone());
        m("billing_address_1", p.street.clone());
        m("billing_postcode", p.postcode.clone());
        match p.n % 6 {
            // Residency from the phone prefix only (+1 names no country).
            0 => {}
            _ => {
                m("billing_country", p.home.country.into());
                if let Some(r) = p.home.region_name {
                    // WooCommerce keeps the state code (CA, QC, BY).
                    let code = p.home.subdivision.unwrap_or(r);
                    m(
                        "billing_state",
                        code.split_once('-').map(|(_, s)| s).unwrap_or(code).into(),
                    );
                }
                if let Some(s) = p.second {
                    // A gift sent elsewhere: the shipping address does not move the customer.
                    m("shipping_country", s.country.into());
                }
            }
        }
        for k in 0..p.orders {
            order_id += 1;
            let note = if k == 0 && p.n % 7 == 0 {
                format!("my card {} cvv {} please", PANS[0], 100 + p.n % 900)
            } else {
                "leave at the door".to_owned()
            };
            orders.push(vec![
                v(order_id),
                v("wc-completed"),
                v(p.n),
                v(p.email.as_str()),
                v(p.ip.as_str()),
                v(note),
            ]);
        }
    }
    db.insert(
        "wp_users",
        "ID, user_login, user_pass, user_nicename, user_email, display_name",
        users,
    );
    db.insert("wp_usermeta", "user_id, meta_key, meta_value", meta);
    db.insert(
        "wp_wc_orders",
        "id, status, customer_id, billing_email, ip_address, customer_note",
        orders,
    );
}

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
