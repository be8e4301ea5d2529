//! Verification throughput over 1,000,000 realistic entries.
//! Run: `CARGO_TARGET_DIR=/work/target-ledger cargo bench -p bulwark-ledger`

use std::convert::Infallible;

use bulwark_ledger::{verify, Checkpoint, Entry, EntryDraft, Head};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ed25519_dalek::SigningKey;

const ENTRIES: u64 = 1_000_000;

fn build() -> (Vec<Entry>, Checkpoint, [u8; 32]) {
    let mut head = Head::genesis();
    let entries: Vec<Entry> = (0..ENTRIES)
        .map(|i| {
            head.append(EntryDraft {
                at_ms: 1_763_900_000_000 + i as i64,
                actor: format!("key:{:012x}", 0x3f9a_1c2b_7d4e_u64 ^ (i % 17)),
                action: "vault.reveal".into(),
                subject: format!("0193a5c2-7d4e-7f1a-9b3c-{:012x}", i),
                details: format!(
                    r#"{{"fields":["email","phone"],"purpose":"support_ticket","ticket":{}}}"#,
                    100_000 + i
                ),
            })
        })
        .collect();
    let key = SigningKey::from_bytes(&[9; 32]);
    let checkpoint = Checkpoint::sign(&head, 1_763_999_999_999, &key);
    (entries, checkpoint, key.verifying_key().to_bytes())
}

fn bench_verify(c: &mut Criterion) {
    let (entries, checkpoint, public_key) = build();
    let checkpoints = [checkpoint];
    let mut group = c.benchmark_group("ledger_verify");
    group.throughput(Throughput::Elements(ENTRIES));
    group.sample_size(10);

    // As the store feeds it: one owned Entry per row, allocated while reading.
    group.bench_function("1m_entries_cloned_from_memory", |b| {
        b.iter(|| {
            let rows = entries.iter().cloned().map(Ok::<_, Infallible>);
            let report = verify(rows, &checkpoints, Some(&public_key)).unwrap();
            assert_eq!(report.last_seq, ENTRIES);
        })
    });

    // Verification alone: entries already owned, cloning excluded from the timing.
    group.bench_function("1m_entries_owned", |b| {
        b.iter_batched(
            || entries.clone(),
            |owned| {
                let rows = owned.into_iter().map(Ok::<_, Infallible>);
                let report = verify(rows, &checkpoints, Some(&public_key)).unwrap();
                assert_eq!(report.last_seq, ENTRIES);
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench_verify);
criterion_main!(benches);
