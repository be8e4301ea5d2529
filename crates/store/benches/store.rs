//! Store benchmarks, printed as a table. Run:
//!
//!     cargo bench -p bulwark-store --features bench-internals
//!
//! 1. reveal of one customer (3 fields): read + unwrap + 3 × AES-GCM, against a
//!    plain SELECT of the same three columns stored unencrypted (same run, same disk);
//!    and the full reveal with its durable access-log entry, one caller and 32 callers;
//! 2. ledger appends, durable (WAL, synchronous=FULL): group commit through the
//!    writer from 64 callers vs. one INSERT per transaction;
//! 3. ledger verification of 1,000,000 entries read from SQLite.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bulwark_model::{DataElement, Scope, Scopes};
use bulwark_store::{NewCustomer, Principal, RevealRequest};
use rusqlite::params;

fn principal() -> Principal {
    Principal {
        id: "key:bench".into(),
        name: "bench".into(),
        key_id: None,
        scopes: Scopes::new([Scope::VaultRevealAll, Scope::Admin]),
    }
}

fn per_op(d: Duration, n: u64) -> f64 {
    d.as_nanos() as f64 / n as f64
}

fn main() {
    // A data directory with the cheapest KDF (the kit the tests use).
    let fixture = bulwark_testkit::StoreFixture::new();
    let store = fixture.store.clone();
    let who = principal();

    // --- 1. reveal vs plain select -------------------------------------------------
    const CUSTOMERS: usize = 10_000;
    let mut ids = Vec::with_capacity(CUSTOMERS);
    let plain = rusqlite::Connection::open(fixture._tmp.path().join("plain.db")).expect("plain db");
    plain
        .execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
             CREATE TABLE customers (id TEXT PRIMARY KEY, email TEXT, name TEXT, postal_address TEXT) WITHOUT ROWID;",
        )
        .expect("plain schema");
    let pending: Vec<_> = (0..CUSTOMERS)
        .map(|i| {
            let new: NewCustomer = serde_json::from_value(serde_json::json!({
                "residency": {"country": "US", "subdivision": "US-CA"},
                "fields": {"email": format!("customer{i}@example.com"), "name": format!("Customer Number {i}"),
                           "postal_address": format!("{i} Market Street, San Francisco, CA 94105")}
            }))
            .expect("doc");
            store.create_customer(&new, &who).expect("create")
        })
        .collect();
    let tx = plain.unchecked_transaction().expect("tx");
    for (i, p) in pending.into_iter().enumerate() {
        let id = p.wait_blocking().expect("created");
        tx.execute(
            "INSERT INTO customers VALUES (?1, ?2, ?3, ?4)",
            params![
                id.to_string(),
                format!("customer{i}@example.com"),
                format!("Customer Number {i}"),
                format!("{i} Market Street, San Francisco, CA 94105")
            ],
        )
        .expect("plain insert");
        ids.push(id);
    }
    tx.commit().expect("commit");

    let elements = vec![
        DataElement::Email,
        DataElement::Name,
        DataElement::PostalAddress,
    ];
    let id_strings: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    let mut sink = 0usize;
    // Interleaved rounds, best of each: the two sides see the same machine load.
    let (round, rounds_n) = (20_000u64, 10);
    let rounds = round * rounds_n;
    let (mut select_ns, mut reveal_ns) = (f64::MAX, f64::MAX);
    for k in 0..rounds_n {
        let t = Instant::now();
        for r in 0..round {
            let id = &id_strings[((k * round + r) as usize * 7919) % CUSTOMERS];
            // Per request, as a handler would: cached statement, bind, step.
            let row: (String, String, String) = plain
                .prepare_cached("SELECT email, name, postal_address FROM customers WHERE id = ?1")
                .and_then(|mut stmt| {
                    stmt.query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                })
                .expect("row");
            sink += row.0.len() + row.1.len() + row.2.len();
        }
        select_ns = select_ns.min(per_op(t.elapsed(), round));
        let t = Instant::now();
        for r in 0..round {
            let id = ids[((k * round + r) as usize * 7919) % CUSTOMERS];
            let req = RevealRequest {
                principal: who.clone(),
                purpose: Some("bench".into()),
                customer: id,
                elements: elements.clone(),
                source: None,
            };
            sink += store.bench_decrypt_only(&req).expect("reveal").fields.len();
        }
        reveal_ns = reveal_ns.min(per_op(t.elapsed(), round));
    }

    if std::env::var_os("BENCH_ONLY_DECRYPT").is_some() {
        println!("select {select_ns:.0} ns, read+decrypt {reveal_ns:.0} ns");
        return;
    }
    let full_rounds = 3_000u64;
    let t = Instant::now();
    for r in 0..full_rounds {
        let id = ids[(r as usize * 7919) % CUSTOMERS];
        let req = RevealRequest {
            principal: who.clone(),
            purpose: Some("bench".into()),
            customer: id,
            elements: elements.clone(),
            source: None,
        };
        sink += store.reveal_blocking(req).expect("reveal").fields.len();
    }
    let full_one_ns = per_op(t.elapsed(), full_rounds);
    let callers = 32u64;
    let per_caller = 1_000u64;
    let t = Instant::now();
    std::thread::scope(|s| {
        for c in 0..callers {
            let (store, who, elements, ids) = (&store, &who, &elements, &ids);
            s.spawn(move || {
                for r in 0..per_caller {
                    let id = ids[((c * per_caller + r) as usize * 7919) % CUSTOMERS];
                    let req = RevealRequest {
                        principal: who.clone(),
                        purpose: Some("bench".into()),
                        customer: id,
                        elements: elements.clone(),
                        source: None,
                    };
                    store.reveal_blocking(req).expect("reveal");
                }
            });
        }
    });
    let full_many = t.elapsed();
    let full_many_rate = (callers * per_caller) as f64 / full_many.as_secs_f64();

    println!("reveal of one customer, 3 fields ({rounds} rounds over {CUSTOMERS} customers)");
    println!(
        "  plain SELECT, unencrypted            {:>9.0} ns/op",
        select_ns
    );
    println!(
        "  vault read + decrypt                 {:>9.0} ns/op   ratio {:.2}",
        reveal_ns,
        reveal_ns / select_ns
    );
    println!(
        "  full reveal, durable log, 1 caller   {:>9.0} ns/op   ({:.0}/s)",
        full_one_ns,
        1e9 / full_one_ns
    );
    println!(
        "  full reveal, durable log, {callers} callers {:>9.0}/s",
        full_many_rate
    );

    // --- 2. ledger appends ------------------------------------------------------------
    let single =
        rusqlite::Connection::open(fixture._tmp.path().join("single.db")).expect("single db");
    single
        .execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
             CREATE TABLE ledger (seq INTEGER PRIMARY KEY, at_ms INTEGER, actor TEXT, action TEXT, subject TEXT, details TEXT, prev_hash BLOB, hash BLOB);",
        )
        .expect("single schema");
    let n_single = 2_000u64;
    let t = Instant::now();
    for i in 0..n_single {
        single
            .execute(
                "INSERT INTO ledger VALUES (?1, ?2, 'key:3f9a1c2b7d4e', 'vault.reveal', 'subject', '{\"access_id\":1}', ?3, ?3)",
                params![i as i64 + 1, 0i64, vec![0u8; 32]],
            )
            .expect("insert");
    }
    let single_rate = n_single as f64 / t.elapsed().as_secs_f64();
    let appenders = 64u64;
    let each = 500u64;
    let store = Arc::new(store);
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..appenders {
            let store = store.clone();
            s.spawn(move || {
                for _ in 0..each {
                    store
                        .writer()
                        .submit(|ctx| {
                            ctx.ledger(
                                "key:3f9a1c2b7d4e",
                                "vault.reveal",
                                "subject",
                                serde_json::json!({"access_id": 1}),
                            )
                            .map(|_| ())
                        })
                        .wait_blocking()
                        .expect("append");
                }
            });
        }
    });
    let group_rate = (appenders * each) as f64 / t.elapsed().as_secs_f64();
    println!("durable ledger appends (WAL, synchronous=FULL)");
    println!(
        "  one INSERT per transaction           {:>9.0}/s",
        single_rate
    );
    println!(
        "  group commit, {appenders} callers            {:>9.0}/s   ratio {:.1}",
        group_rate,
        group_rate / single_rate
    );

    // --- 3. verification --------------------------------------------------------------
    let target = 1_000_000u64;
    let have = store.ledger_len().expect("len");
    let mut remaining = target.saturating_sub(have);
    while remaining > 0 {
        let chunk = remaining.min(100_000);
        store
            .writer()
            .submit(move |ctx| -> bulwark_store::Result<()> {
                for i in 0..chunk {
                    ctx.ledger(
                        "key:3f9a1c2b7d4e",
                        "vault.reveal",
                        "01a2083a-6b16-763d-af0a-0e20c4154f46",
                        serde_json::json!({"access_id": i, "elements": "email,name"}),
                    )?;
                }
                Ok(())
            })
            .wait_blocking()
            .expect("fill");
        remaining -= chunk;
    }
    let t = Instant::now();
    let status = store.verify_ledger(None, |_| {}).expect("verify");
    let d = t.elapsed();
    println!("ledger verification from SQLite");
    println!(
        "  {} entries in {:.3} s                {:>9.0} entries/s",
        status.entries,
        d.as_secs_f64(),
        status.entries as f64 / d.as_secs_f64()
    );
    std::hint::black_box(sink);
}
