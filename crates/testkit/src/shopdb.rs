//! Shop databases on the real MariaDB (root with an empty password on
//! 127.0.0.1:3306, as CI provides it), built from generated people for the
//! discovery, scope and import tests: a Magento-2-like schema with EAV
//! attributes and a WooCommerce-like one with `wp_usermeta`, each with
//! planted violations. Every database is dropped with its [`Db`].

use mysql::prelude::Queryable;

use crate::people::Person;

pub const ROOT: &str = "mysql://root@127.0.0.1:3306/mysql";

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
    /// A new empty database (and, later, a reporting account) named after `kind`.
    pub fn new(kind: &str) -> Db {
        let mut root = mysql::Conn::new(mysql::Opts::from_url(ROOT).expect("the test database"))
            .expect(
                "MariaDB on 127.0.0.1:3306 (root, empty password): start it (scripts/test does)",
            );
        let tag = format!(
            "{}{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("the test database")
                .subsec_nanos()
        );
        let name = format!("bw_{kind}_{tag}");
        let user = format!("ro{}", &tag[..tag.len().min(24)]);
        root.query_drop(format!("CREATE DATABASE `{name}`"))
            .expect("the test database");
        root.query_drop(format!("USE `{name}`"))
            .expect("the test database");
        Db { root, name, user }
    }

    pub fn exec(&mut self, sql: &str) {
        self.root.query_drop(sql).expect("the test database");
    }

    /// Inserts rows in batches of multi-row INSERTs.
    pub fn insert(&mut self, table: &str, columns: &str, rows: Vec<Vec<mysql::Value>>) {
        for chunk in rows.chunks(500) {
            let width = chunk[0].len();
            let marks = vec![format!("({})", vec!["?"; width].join(",")); chunk.len()].join(",");
            let params: Vec<mysql::Value> = chunk.iter().flatten().cloned().collect();
            self.root
                .exec_drop(
                    format!("INSERT INTO {table} ({columns}) VALUES {marks}"),
                    params,
                )
                .expect("the test database");
        }
    }

    /// A reporting account with SELECT only, as the docs tell stores to make.
    pub fn reporting_dsn(&mut self) -> String {
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

pub const PANS: [&str; 3] = ["4111111111111111", "5555555555554444", "378282246310005"];

/// When a person's Magento orders were placed: the month is `n % 12 + 1` in
/// 2024, so a test can cut them with `created_at < '2024-04-01'`.
pub fn magento_order_date(p: &Person) -> String {
    format!("2024-{:02}-{:02} 10:00:00", 1 + p.n % 12, 1 + p.n % 28)
}

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
                v(magento_order_date(p)),
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
        "state, customer_id, customer_email, remote_ip, created_at",
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
