//! `bulwark discover` over a WooCommerce-like SQLite database built here,
//! with generated customers and planted violations: every planted PII column
//! and violation is found with its element, and no generated value is ever
//! printed.

use crate::common::*;

struct Planted {
    values: Vec<String>,
}

/// A WooCommerce-like schema: `wp_users` (MD5 passwords), `wp_usermeta`
/// (billing details as key-value rows), an orders table with a full-PAN
/// column, a CVV in a note, and a JSON column of addresses.
fn shop_db(path: &std::path::Path) -> Planted {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(
        "CREATE TABLE wp_users (ID INTEGER PRIMARY KEY, user_login TEXT, user_pass TEXT, user_email TEXT, user_registered TEXT);
         CREATE TABLE wp_usermeta (umeta_id INTEGER PRIMARY KEY, user_id INTEGER, meta_key TEXT, meta_value TEXT);
         CREATE TABLE wp_wc_orders (id INTEGER PRIMARY KEY, customer_id INTEGER, total TEXT, cc_number TEXT, customer_note TEXT, shipping JSON);
         CREATE TABLE wp_posts (ID INTEGER PRIMARY KEY, post_title TEXT, post_status TEXT);",
    )
    .unwrap();
    let mut values = Vec::new();
    let pans = [
        "4111111111111111",
        "5555555555554444",
        "378282246310005",
        "6011111111111117",
    ];
    for i in 0..60u32 {
        let email = format!("cust{i:03}.zq{}@example.com", 1000 + i * 7);
        let phone = format!("+44 20 79{:02} {:04}", i % 100, 1000 + i);
        let first = format!("Firstname{i}x");
        let pass = format!(
            "{:032x}",
            0x5f4d_cc3b_5aa7_65d6_1d83_27de_b882_cf99u128 ^ u128::from(i)
        );
        c.execute(
            "INSERT INTO wp_users (ID, user_login, user_pass, user_email, user_registered) VALUES (?1, ?2, ?3, ?4, '2024-01-02 10:00:00')",
            rusqlite::params![i + 1, format!("login{i}"), pass, email],
        )
        .unwrap();
        for (k, v) in [
            ("billing_first_name", first.clone()),
            ("billing_email", email.clone()),
            ("billing_phone", phone.clone()),
            ("billing_address_1", format!("{} High Street", 10 + i)),
            (
                "billing_country",
                ["GB", "US", "DE"][(i % 3) as usize].to_owned(),
            ),
            ("show_admin_bar_front", "true".to_owned()),
        ] {
            c.execute(
                "INSERT INTO wp_usermeta (user_id, meta_key, meta_value) VALUES (?1, ?2, ?3)",
                rusqlite::params![i + 1, k, v],
            )
            .unwrap();
        }
        let pan = pans[(i % 4) as usize];
        let note = if i % 5 == 0 {
            format!("please call, card cvv {}", 100 + i)
        } else {
            "leave at the door".to_owned()
        };
        let shipping =
            format!(r#"{{"name": "{first}", "email": "{email}", "postcode": "SW1A 1AA"}}"#);
        c.execute(
            "INSERT INTO wp_wc_orders (customer_id, total, cc_number, customer_note, shipping) VALUES (?1, '19.99', ?2, ?3, ?4)",
            rusqlite::params![i + 1, pan, note, shipping],
        )
        .unwrap();
        c.execute(
            "INSERT INTO wp_posts (post_title, post_status) VALUES ('Hello', 'publish')",
            [],
        )
        .unwrap();
        values.extend([email, phone, first, pass]);
    }
    values.extend(pans.iter().map(|p| (*p).to_owned()));
    Planted { values }
}

#[test]
fn discovery_finds_planted_pii_and_violations_and_prints_no_sampled_value() {
    let (t, _dir) = tempdir();
    let db = t.path().join("shop.db");
    let planted = shop_db(&db);
    let dsn = format!("sqlite://{}", db.display());
    let o = run(&["discover", &dsn]);
    let out = format!("{}{}", stdout(&o), stderr(&o));
    // Stored card data and MD5 passwords: exit 3.
    assert_eq!(o.status.code(), Some(3), "{out}");
    for (column, element) in [
        ("wp_users.user_email", "email"),
        ("wp_users.user_pass", "password"),
        ("wp_usermeta.meta_value[billing_email]", "email"),
        ("wp_usermeta.meta_value[billing_phone]", "phone"),
        ("wp_usermeta.meta_value[billing_first_name]", "name"),
        (
            "wp_usermeta.meta_value[billing_address_1]",
            "postal_address",
        ),
        ("wp_wc_orders.cc_number", "card_number"),
        ("wp_wc_orders.shipping.email", "email"),
        ("wp_wc_orders.shipping.postcode", "postal_address"),
    ] {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{column} ")))
            .unwrap_or_else(|| panic!("{column} not reported:\n{out}"));
        assert!(line.contains(element), "{column}: {line}");
    }
    assert!(!out.contains("wp_posts.post_title "), "{out}");
    for (code, column) in [
        ("stored-pan", "wp_wc_orders.cc_number"),
        ("stored-security-code", "wp_wc_orders.customer_note"),
        ("weak-password-hash", "wp_users.user_pass"),
    ] {
        assert!(
            out.lines().any(|l| l.contains(code) && l.contains(column)),
            "{code} on {column}:\n{out}"
        );
    }
    for v in &planted.values {
        assert!(!out.contains(v.as_str()), "a sampled value was printed");
    }
    // JSON output too; masked examples only when asked, and still masked.
    let o = run(&["discover", &dsn, "--json", "--show-masked"]);
    let out = stdout(&o);
    assert!(out.contains("411111******1111"), "{out}");
    for v in &planted.values {
        assert!(!out.contains(v.as_str()), "a sampled value was printed");
    }
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["code"] == "stored-pan"));
}

#[test]
fn discovery_refuses_what_it_cannot_read_with_a_clear_error() {
    let (t, _dir) = tempdir();
    let o = run(&[
        "discover",
        "postgres://no_such_role_x:pw-zq9@127.0.0.1/shop",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot open postgres:no_such_role_x@127.0.0.1/shop"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("pw-zq9"), "credentials never echoed");
    let o = run(&["discover", "mongodb://shop:s3cret@127.0.0.1/shop"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("`mongodb://` DSNs are not read"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("s3cret"), "credentials never echoed");
    let junk = t.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all, just text").unwrap();
    let o = run(&["discover", junk.to_str().unwrap()]);
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("cannot open"), "{}", stderr(&o));
    // Read-only: the file is unchanged after a discovery.
    let db = t.path().join("shop.db");
    shop_db(&db);
    let before = std::fs::read(&db).unwrap();
    let _ = run(&["discover", db.to_str().unwrap()]);
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

#[test]
fn a_saved_asset_carries_the_facts_into_the_inventory_and_the_plan_and_a_rescan_shows_changes() {
    let (t, _guard) = tempdir();
    let dir = t.path().join("data");
    init(&dir);
    let d = dir.to_str().unwrap();
    let db = t.path().join("shop.db");
    let planted = shop_db(&db);
    let dsn = format!("sqlite://{}", db.display());
    let o = run(&[
        "discover",
        &dsn,
        "--data-dir",
        d,
        "--save-asset",
        "woo",
        "--owner",
        "ecommerce",
    ]);
    let out = format!("{}{}", stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(out.contains("asset woo saved: 60 customers"), "{out}");
    // Residency from billing_country: 20 each.
    for j in ["GB", "US", "DE"] {
        assert!(
            out.lines()
                .any(|l| l.trim_start().starts_with(j) && l.contains(" 20 customers")),
            "{j}:\n{out}"
        );
    }
    let assets: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("assets.json")).unwrap()).unwrap();
    let woo = &assets[0];
    assert_eq!(woo["customers"], 60);
    assert_eq!(woo["owner"], "ecommerce");
    assert_eq!(woo["facts"]["by_jurisdiction"]["GB"]["customers"], 20);
    assert_eq!(woo["facts"]["customer_table"], "wp_users.ID");
    assert!(woo["elements"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("card_number")));
    let text = std::fs::read_to_string(dir.join("assets.json")).unwrap();
    for v in &planted.values {
        assert!(!text.contains(v.as_str()), "a sampled value was saved");
    }

    // The plan ranks it and counts its customers where they live.
    let o = run(&["plan", "render", "--data-dir", d]);
    let plan = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(plan.contains("| 1 | woo | 60 |"), "{plan}");
    assert!(
        plan.contains("**woo** was read by `bulwark discover`"),
        "{plan}"
    );
    assert!(
        plan.contains(r"stored-pan in wp\_wc\_orders.cc\_number"),
        "{plan}"
    );
    assert!(plan.lines().any(|l| l.starts_with("| GB | 20 |")), "{plan}");

    // A new column and more customers: the re-scan says what changed.
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch(
        "ALTER TABLE wp_users ADD COLUMN mobile_phone TEXT;
         UPDATE wp_users SET mobile_phone = '+44 7700 900' || printf('%03d', ID);
         INSERT INTO wp_users (ID, user_login, user_pass, user_email) VALUES (61, 'late', 'x', 'late.one@example.com');
         INSERT INTO wp_usermeta (user_id, meta_key, meta_value) VALUES (61, 'billing_country', 'FR');",
    )
    .unwrap();
    drop(c);
    let o = run(&["discover", &dsn, "--data-dir", d, "--save-asset", "woo"]);
    let err = stderr(&o);
    assert!(err.contains("asset woo re-scanned; since"), "{err}");
    assert!(
        err.contains("new column wp_users.mobile_phone holds phone"),
        "{err}"
    );
    assert!(err.contains("FR: 1 customers (was 0)"), "{err}");
    let assets: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("assets.json")).unwrap()).unwrap();
    assert_eq!(assets[0]["customers"], 61);
    assert_eq!(assets[0]["owner"], "ecommerce", "kept");
    // Unchanged: nothing to say.
    let o = run(&["discover", &dsn, "--data-dir", d, "--save-asset", "woo"]);
    assert!(
        stderr(&o).contains("nothing changed since"),
        "{}",
        stderr(&o)
    );

    // The findings are tasks on the compliance side: stored PANs due today,
    // overdue tomorrow; a re-scan after the fix closes them.
    let today = time::OffsetDateTime::now_utc().date();
    let tasks = |on: time::Date| -> (Option<i32>, Vec<serde_json::Value>) {
        let o = run(&[
            "compliance",
            "status",
            "--data-dir",
            d,
            "--json",
            "--today",
            &on.to_string(),
        ]);
        let tasks = stdout(&o)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v.get("finding").cloned())
            .collect();
        (o.status.code(), tasks)
    };
    let (_, open) = tasks(today);
    let pan = open
        .iter()
        .find(|t| t["code"] == "stored-pan")
        .unwrap_or_else(|| panic!("{open:?}"));
    assert_eq!(pan["column"], "cc_number");
    assert_eq!(pan["owner"], "ecommerce");
    assert_eq!(pan["first_seen"], today.to_string());
    assert_eq!(pan["days_overdue"], 0);
    let (code, later) = tasks(today + time::Duration::days(1));
    assert_eq!(code, Some(3), "an overdue finding fails the status");
    assert!(later
        .iter()
        .any(|t| t["code"] == "stored-pan" && t["days_overdue"] == 1));
    let text = stdout(&run(&["compliance", "status", "--data-dir", d]));
    assert!(
        text.lines()
            .any(|l| l.contains("fix stored-pan in woo wp_wc_orders.cc_number")),
        "{text}"
    );
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch("UPDATE wp_wc_orders SET cc_number = substr(cc_number, -4);")
        .unwrap();
    drop(c);
    let o = run(&["discover", &dsn, "--data-dir", d, "--save-asset", "woo"]);
    assert!(
        stderr(&o).contains("finding stored-pan in wp_wc_orders.cc_number is gone"),
        "{}",
        stderr(&o)
    );
    let (_, open) = tasks(today);
    assert!(!open.iter().any(|t| t["code"] == "stored-pan"), "{open:?}");
    assert!(
        open.iter().any(|t| t["code"] == "weak-password-hash"),
        "{open:?}"
    );
}
