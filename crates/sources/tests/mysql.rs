//! Discovery against a real MariaDB on loopback (root with an empty password
//! on 127.0.0.1:3306, as CI provides it): the test builds a WooCommerce-like
//! database with generated customers and planted violations, and a
//! reporting account with SELECT only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bulwark_discover::classify::Options;
use mysql::prelude::Queryable;

const ROOT: &str = "mysql://root@127.0.0.1:3306/mysql";

struct Fixture {
    root: mysql::Conn,
    db: String,
    user: String,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self
            .root
            .query_drop(format!("DROP DATABASE IF EXISTS `{}`", self.db));
        let _ = self
            .root
            .query_drop(format!("DROP USER IF EXISTS '{}'@'%'", self.user));
    }
}

fn fixture() -> Fixture {
    let mut root = mysql::Conn::new(mysql::Opts::from_url(ROOT).unwrap()).expect(
        "MariaDB on 127.0.0.1:3306 (root, empty password): start it (`service mariadb start`)",
    );
    let tag = format!(
        "{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let db = format!("bw_disc_{tag}");
    let user = format!("bw_ro_{}", &tag[..tag.len().min(20)]);
    root.query_drop(format!("CREATE DATABASE `{db}`")).unwrap();
    root.query_drop(format!("USE `{db}`")).unwrap();
    root.query_drop(
        "CREATE TABLE wp_users (ID BIGINT PRIMARY KEY AUTO_INCREMENT, user_login VARCHAR(60), user_pass VARCHAR(255), user_email VARCHAR(100));
         CREATE TABLE wp_usermeta (umeta_id BIGINT PRIMARY KEY AUTO_INCREMENT, user_id BIGINT, meta_key VARCHAR(255), meta_value LONGTEXT);
         CREATE TABLE wp_wc_orders (id BIGINT PRIMARY KEY AUTO_INCREMENT, customer_id BIGINT, cc_number VARCHAR(32), customer_note TEXT, shipping JSON);",
    )
    .unwrap();
    let pans = ["4111111111111111", "5555555555554444", "378282246310005"];
    for i in 0..30u32 {
        let email = format!("m{i}.k{}@example.org", 500 + i);
        root.exec_drop(
            "INSERT INTO wp_users (user_login, user_pass, user_email) VALUES (?, ?, ?)",
            (
                format!("u{i}"),
                format!("{:032x}", 0xdead_beef_u128 * u128::from(i + 1)),
                &email,
            ),
        )
        .unwrap();
        for (k, v) in [
            ("billing_email", email.clone()),
            ("billing_phone", format!("+1 415 555 {:04}", 1000 + i)),
            ("billing_country", "US".into()),
        ] {
            root.exec_drop(
                "INSERT INTO wp_usermeta (user_id, meta_key, meta_value) VALUES (?, ?, ?)",
                (i + 1, k, v),
            )
            .unwrap();
        }
        let note = if i % 3 == 0 {
            format!("cvv {}", 200 + i)
        } else {
            "ok".into()
        };
        root.exec_drop(
            "INSERT INTO wp_wc_orders (customer_id, cc_number, customer_note, shipping) VALUES (?, ?, ?, ?)",
            (i + 1, pans[(i % 3) as usize], note, format!(r#"{{"email": "{email}", "zip": "94105"}}"#)),
        )
        .unwrap();
    }
    root.query_drop(format!(
        "CREATE USER '{user}'@'%' IDENTIFIED BY 'reporting-pass-1'"
    ))
    .unwrap();
    root.query_drop(format!("GRANT SELECT ON `{db}`.* TO '{user}'@'%'"))
        .unwrap();
    Fixture { root, db, user }
}

#[test]
fn a_reporting_account_discovers_the_planted_data_and_a_writing_one_is_refused() {
    let f = fixture();
    let dsn = format!(
        "mysql://{}:reporting-pass-1@127.0.0.1:3306/{}",
        f.user, f.db
    );
    let mut source = bulwark_sources::open(&dsn, false).unwrap();
    let d = bulwark_sources::discover(source.as_mut(), 200, Options::default(), |_| {}).unwrap();
    assert_eq!(d.tables, 3);
    let element = |c: &str| {
        d.columns
            .iter()
            .find(|r| format!("{}.{}", r.table, r.column) == c)
            .and_then(|r| r.element)
            .map(|e| e.code())
    };
    assert_eq!(element("wp_users.user_email"), Some("email"));
    assert_eq!(element("wp_users.user_pass"), Some("password"));
    assert_eq!(
        element("wp_usermeta.meta_value[billing_email]"),
        Some("email")
    );
    assert_eq!(
        element("wp_usermeta.meta_value[billing_phone]"),
        Some("phone")
    );
    assert_eq!(element("wp_wc_orders.cc_number"), Some("card_number"));
    assert_eq!(element("wp_wc_orders.shipping.email"), Some("email"));
    let codes: Vec<(&str, String)> = d
        .findings
        .iter()
        .map(|f| (f.code, f.column.clone()))
        .collect();
    assert!(
        codes.contains(&("stored-pan", "cc_number".into())),
        "{codes:?}"
    );
    assert!(
        codes.contains(&("stored-security-code", "customer_note".into())),
        "{codes:?}"
    );
    assert!(
        codes.contains(&("weak-password-hash", "user_pass".into())),
        "{codes:?}"
    );
    let text = serde_json::to_string(&d).unwrap();
    assert!(
        !text.contains("4111111111111111") && !text.contains("@example.org"),
        "no sampled value"
    );

    // root can write: refused, naming the account and not the password.
    let root_dsn = format!("mysql://root@127.0.0.1:3306/{}", f.db);
    let err = bulwark_sources::open(&root_dsn, false)
        .err()
        .expect("refused");
    assert!(
        matches!(err, bulwark_sources::SourceError::CanWrite(_)),
        "{err}"
    );
    assert!(err.to_string().contains("--i-know"), "{err}");
    assert!(bulwark_sources::open(&root_dsn, true).is_ok());
    // A wrong password is a clear error that does not echo it.
    let bad = format!(
        "mysql://{}:not-the-password@127.0.0.1:3306/{}",
        f.user, f.db
    );
    let err = bulwark_sources::open(&bad, false).err().expect("refused");
    assert!(!err.to_string().contains("not-the-password"), "{err}");
}
