//! Obligations for 1,000,000 affected customers spread over all jurisdictions.
//!
//! The customers are synthetic: each gets a residence (every jurisdiction the
//! catalogue names, plus countries and subdivisions it does not) and a random
//! element set. They are aggregated per jurisdiction × element combination —
//! what the scope snapshot hands the engine — and evaluated.
//! Run: `cargo bench -p bulwark-law --bench obligations`.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use bulwark_law::{aggregate, evaluate, Affected, Catalogue, Scenario};
use bulwark_model::DataElement;
use criterion::{criterion_group, criterion_main, Criterion};
use time::macros::datetime;

/// A small deterministic PRNG (xorshift64*), so the data set is the same every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

const PROFILES: &[&[DataElement]] = {
    use DataElement::*;
    &[
        &[Name, Email],
        &[Email, Password],
        &[Name, CardNumber, CardSecurityCode],
        &[Name, CardNumber, CardExpiry, PostalAddress],
        &[Name, NationalId],
        &[Name, Email, Phone, PostalAddress, PurchaseHistory],
        &[Username, Password, IpAddress],
        &[Name, DriversLicense, DateOfBirth],
        &[Name, Health],
        &[Email],
    ]
};

fn jurisdictions(cat: &Catalogue) -> Vec<String> {
    let mut v: Vec<String> = cat
        .laws()
        .flat_map(|l| l.applies.jurisdictions.clone())
        .collect();
    v.extend(
        [
            "CA-ON", "CA-BC", "GB-ENG", "GB-SCT", "DE-BY", "MX", "AR", "AQ", "US-UM",
        ]
        .map(String::from),
    );
    v.sort();
    v.dedup();
    v
}

/// Elements drawn independently per customer in the stress variant.
const RANDOM_POOL: [DataElement; 10] = {
    use DataElement::*;
    [
        Name,
        Email,
        Password,
        CardNumber,
        CardSecurityCode,
        NationalId,
        PostalAddress,
        Health,
        Username,
        IpAddress,
    ]
};

/// One million customers, aggregated to (jurisdiction, profile) groups with
/// the crate's own `aggregate` (what the scope computation will call).
fn million(cat: &Catalogue) -> Scenario {
    let js = jurisdictions(cat);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let customers: Vec<(usize, usize)> = (0..1_000_000u32)
        .map(|_| {
            let j = (rng.next() % js.len() as u64) as usize;
            let p = (rng.next() % PROFILES.len() as u64) as usize;
            (j, p)
        })
        .collect();
    let affected = aggregate(
        customers
            .iter()
            .map(|&(j, p)| (js[j].as_str(), PROFILES[p])),
    );
    Scenario {
        aware_at: datetime!(2026-03-02 09:00 UTC),
        discovered_at: None,
        encrypted: false,
        key_compromised: false,
        acquired: None,
        harm: Default::default(),
        law_enforcement_delay: None,
        cause: None,
        regulated_by: Vec::new(),
        affected,
    }
}

/// Stress: every customer gets a random subset of 10 elements, so the
/// aggregation yields up to 1,024 combinations per jurisdiction.
fn million_random(cat: &Catalogue) -> Scenario {
    let js = jurisdictions(cat);
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut groups: HashMap<(usize, u64), u64> = HashMap::new();
    for _ in 0..1_000_000u32 {
        let j = (rng.next() % js.len() as u64) as usize;
        let set = rng.next() & 0x3FF;
        *groups.entry((j, set)).or_default() += 1;
    }
    let mut sc = million(cat);
    sc.affected = groups
        .into_iter()
        .map(|((j, set), count)| Affected {
            jurisdiction: js[j].clone(),
            elements: RANDOM_POOL
                .iter()
                .enumerate()
                .filter(|(i, _)| set & (1 << i) != 0)
                .map(|(_, e)| *e)
                .collect(),
            count,
            encrypted: None,
            key_compromised: None,
            acquired: None,
        })
        .collect();
    sc
}

fn bench(c: &mut Criterion) {
    let cat = Catalogue::builtin().expect("catalogue");
    // One timed end-to-end run (aggregation included) for the figure in the notes.
    let t0 = Instant::now();
    let sc = million(&cat);
    let t1 = Instant::now();
    let ev = evaluate(&cat, &sc).expect("evaluate");
    let t2 = Instant::now();
    let total: u64 = sc.affected.iter().map(|a| a.count).sum();
    println!(
        "1,000,000 customers → {} groups in {} jurisdictions; aggregate {:?}, evaluate {:?}; {} obligations, {} not triggered (total {total})",
        sc.affected.len(),
        jurisdictions(&cat).len(),
        t1 - t0,
        t2 - t1,
        ev.obligations.len(),
        ev.not_triggered.len(),
    );
    let t0 = Instant::now();
    let stress = million_random(&cat);
    let t1 = Instant::now();
    let ev = evaluate(&cat, &stress).expect("evaluate");
    let t2 = Instant::now();
    println!(
        "stress: 1,000,000 customers with random element sets → {} groups; aggregate {:?}, evaluate {:?}; {} obligations",
        stress.affected.len(),
        t1 - t0,
        t2 - t1,
        ev.obligations.len(),
    );
    c.bench_function("evaluate 1M customers, random element sets", |b| {
        b.iter(|| evaluate(black_box(&cat), black_box(&stress)).expect("evaluate"))
    });
    c.bench_function("evaluate 1M customers (aggregated)", |b| {
        b.iter(|| evaluate(black_box(&cat), black_box(&sc)).expect("evaluate"))
    });
    c.bench_function("aggregate 1M customers + evaluate", |b| {
        b.iter(|| {
            let sc = million(&cat);
            evaluate(&cat, &sc).expect("evaluate")
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
