//! `bulwark vault import` of a Magento-like shop of 1,000,000 generated
//! customers on the real MariaDB (127.0.0.1:3306, root with an empty
//! password) into a fresh data directory: the issue asks for at least 20,000
//! customers/s on this machine.
//!
//! `cargo bench -p bulwark-cli --bench import` (BULWARK_BENCH_CUSTOMERS sets
//! the size). It prints the time to build the shop, then the import through
//! the release binary against the baseline of reading the same customers
//! with the same mapping and storing nothing (`--dry-run`-like: the mapping's
//! reads alone, timed in-process).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use bulwark_discover::residency::Names;
use bulwark_sources::import::{Mapping, BATCH};
use bulwark_testkit::people::people;
use bulwark_testkit::shopdb::{magento, Db};

fn main() {
    let n: u64 = std::env::var("BULWARK_BENCH_CUSTOMERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let t = Instant::now();
    let people = people(n, 1);
    let with_residency = people.iter().filter(|p| p.n % 5 != 0).count();
    let mut db = Db::new("bench_import");
    magento(&mut db, &people);
    drop(people);
    let dsn = db.reporting_dsn();
    println!(
        "built a Magento-like shop of {n} customers in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let mapping = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/import/magento2.toml"
    );

    // Baseline: the reads alone.
    let text = std::fs::read_to_string(mapping).unwrap();
    let mut source = bulwark_sources::open(&dsn, false).unwrap();
    let tables = source.tables().unwrap();
    let plan = Mapping::parse(&text).unwrap().resolve(&tables).unwrap();
    let names = Names::new();
    let t = Instant::now();
    let (mut after, mut read) = (None::<String>, 0usize);
    loop {
        let batch = plan
            .batch(source.as_mut(), &names, after.as_deref(), BATCH)
            .unwrap();
        let Some(last) = batch.last() else { break };
        after = Some(last.key.clone());
        read += batch.len();
    }
    let base = t.elapsed().as_secs_f64();
    println!("baseline: reading {read} customers with the mapping, storing nothing: {base:.1} s ({:.0}/s)", read as f64 / base);

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let bin = bulwark_testkit::Bulwark::new(env!("CARGO_BIN_EXE_bulwark"));
    bin.init(&dir);
    let t = Instant::now();
    let o = bin
        .cmd()
        .args([
            "vault",
            "import",
            "--data-dir",
            dir.to_str().unwrap(),
            "--mapping",
            mapping,
        ])
        .env("BULWARK_DISCOVER_DSN", &dsn)
        .output()
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    print!("{}", String::from_utf8_lossy(&o.stdout));
    let rate = with_residency as f64 / secs;
    println!(
        "import: {with_residency} customers into the vault in {secs:.1} s = {rate:.0} customers/s (issue: ≥ 20,000/s); import / baseline time = {:.1}×",
        secs / base
    );
}
