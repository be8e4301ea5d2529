//! Discovery over a Magento-like shop of 1,000,000 generated customers on the
//! real MariaDB (127.0.0.1:3306, root with an empty password), with default
//! sampling: the issue asks for under 60 s on this machine.
//!
//! `cargo bench -p bulwark-sources --bench discover` (BULWARK_BENCH_CUSTOMERS
//! sets the size). It prints the time to build the database, then
//! discovery (sampling, classification and the exact counts over whole
//! tables) twice, against the baseline of MariaDB streaming the same
//! columns of the same tables once with no work done on the rows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use bulwark_discover::classify::Options;
use bulwark_testkit::people::people;
use bulwark_testkit::shopdb::{magento, Db};

fn main() {
    let n: u64 = std::env::var("BULWARK_BENCH_CUSTOMERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let t = Instant::now();
    let people = people(n, 1);
    let mut db = Db::new("bench");
    magento(&mut db, &people);
    db.exec("ANALYZE TABLE customer_entity, customer_entity_varchar, customer_address_entity, sales_order, sales_order_payment, sales_order_status_history");
    drop(people);
    let dsn = db.reporting_dsn();
    println!(
        "built a Magento-like shop of {n} customers in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let mut plan = None;
    let mut runs = Vec::new();
    for run in 1..=2 {
        let mut source = bulwark_sources::open(&dsn, false).unwrap();
        let t = Instant::now();
        let d = bulwark_sources::discover(
            source.as_mut(),
            bulwark_sources::DEFAULT_SAMPLE,
            Options::default(),
            |_| {},
        )
        .unwrap();
        let secs = t.elapsed().as_secs_f64();
        let c = d.customers.as_ref().expect("a customer table");
        assert_eq!(c.counts.customers, n);
        println!(
            "discovery run {run}: {secs:.1} s ({} tables, {} columns read, {} jurisdictions, {} findings)",
            d.tables,
            d.columns_read,
            c.counts.by_jurisdiction.len(),
            d.findings.len()
        );
        runs.push(secs);
        plan = Some(c.plan.clone());
    }
    let plan = plan.unwrap();
    let mut source = bulwark_sources::open(&dsn, false).unwrap();
    let t = Instant::now();
    let mut rows = 0u64;
    for scan in &plan.scans {
        source.scan(scan, None, &mut |_| rows += 1).unwrap();
    }
    let base = t.elapsed().as_secs_f64();
    println!(
        "baseline: streaming the plan's {} scans ({rows} rows) with no work: {base:.1} s",
        plan.scans.len()
    );
    let best = runs.iter().copied().fold(f64::MAX, f64::min);
    println!(
        "discovery / baseline = {:.2}×; best discovery {best:.1} s against the 60 s the issue allows",
        best / base
    );
}
