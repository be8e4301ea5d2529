//! What an investigator relies on: an intact ledger verifies, and every kind of
//! tampering is caught and pinned to the first bad entry.

use std::convert::Infallible;

use bulwark_ledger::{
    verify, verify_against, verify_with_progress, Checkpoint, Entry, EntryDraft, Hash, Head,
    LedgerError, VerifyError, VerifyReport,
};
use ed25519_dalek::SigningKey;

fn key() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
}

fn public_key() -> [u8; 32] {
    key().verifying_key().to_bytes()
}

fn chain(n: u64) -> Vec<Entry> {
    let mut head = Head::genesis();
    (1..=n)
        .map(|i| {
            head.append(EntryDraft {
                at_ms: 1_763_900_000_000 + i as i64,
                actor: "key:3f9a1c2b7d4e".into(),
                action: if i % 3 == 0 {
                    "customer.write"
                } else {
                    "vault.reveal"
                }
                .into(),
                subject: format!("0193a5c2-7d4e-7f1a-9b3c-{i:012x}"),
                details: format!(r#"{{"fields":["email"],"ticket":{i}}}"#),
            })
        })
        .collect()
}

/// Re-hashes from `from` onwards, as an attacker with write access would after
/// editing history, so that the chain is internally consistent again.
fn rehash_from(entries: &mut [Entry], from: usize) {
    for i in from..entries.len() {
        entries[i].prev_hash = if i == 0 {
            Hash::ZERO
        } else {
            entries[i - 1].hash
        };
        entries[i].hash = entries[i].compute_hash();
    }
}

fn checkpoint_at(entries: &[Entry], seq: u64) -> Checkpoint {
    let head = if seq == 0 {
        Head::genesis()
    } else {
        Head::of(&entries[seq as usize - 1])
    };
    Checkpoint::sign(&head, 1_764_000_000_000, &key())
}

fn run(
    entries: &[Entry],
    checkpoints: &[Checkpoint],
) -> Result<VerifyReport, VerifyError<Infallible>> {
    verify(
        entries.iter().cloned().map(Ok),
        checkpoints,
        Some(&public_key()),
    )
}

#[test]
fn intact_chain_verifies_with_checkpoints() {
    let entries = chain(1000);
    let checkpoints = [
        checkpoint_at(&entries, 0),
        checkpoint_at(&entries, 1000),
        checkpoint_at(&entries, 500),
    ];
    let report = run(&entries, &checkpoints).unwrap();
    assert_eq!(
        report,
        VerifyReport {
            entries_checked: 1000,
            last_seq: 1000,
            head_hash: entries[999].hash,
            checkpoints_checked: 3,
        }
    );
    assert_eq!(report.head(), Head::of(&entries[999]));
}

#[test]
fn empty_ledger_verifies() {
    let report = run(&[], &[checkpoint_at(&[], 0)]).unwrap();
    assert_eq!((report.entries_checked, report.last_seq), (0, 0));
    assert_eq!(report.head_hash, Hash::ZERO);
}

#[test]
fn modified_entry_is_named() {
    let entries = chain(100);
    type Tamper = fn(&mut Entry);
    let cases: [(&str, Tamper); 6] = [
        ("details", |e| e.details.push(' ')),
        ("actor", |e| e.actor = "key:000000000000".into()),
        ("at_ms", |e| e.at_ms -= 1),
        ("subject", |e| e.subject.clear()),
        ("stored hash", |e| e.hash.0[31] ^= 1),
        ("prev_hash", |e| e.prev_hash.0[0] ^= 1),
    ];
    for (field, tamper) in cases {
        let mut tampered = entries.clone();
        tamper(&mut tampered[36]);
        let err = run(&tampered, &[]).unwrap_err();
        assert!(
            matches!(err, VerifyError::Modified { seq: 37 }),
            "{field}: {err:?}"
        );
        assert_eq!(
            err.to_string(),
            "entry 37 was modified: its hash does not match its contents"
        );
        assert_eq!((err.seq(), err.kind()), (Some(37), "modified"));
    }
}

#[test]
fn deleted_entry_is_named() {
    let mut entries = chain(100);
    entries.remove(36);
    let err = run(&entries, &[]).unwrap_err();
    assert!(
        matches!(err, VerifyError::Missing { seq: 37, next: 38 }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "entry 37 is missing: the next entry stored is 38"
    );

    let mut entries = chain(100);
    entries.drain(0..5);
    let err = run(&entries, &[]).unwrap_err();
    assert!(matches!(err, VerifyError::Missing { seq: 1, next: 6 }));
    assert_eq!(
        err.to_string(),
        "entries 1 to 5 are missing: the next entry stored is 6"
    );
}

#[test]
fn swapped_entries_are_named() {
    let mut entries = chain(100);
    entries.swap(36, 37);
    let err = run(&entries, &[]).unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::OutOfOrder {
                expected: 37,
                found: 38
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "entry 38 is out of order: it is stored where entry 37 belongs"
    );

    let mut duplicated = chain(10);
    duplicated.insert(5, duplicated[4].clone());
    let err = run(&duplicated, &[]).unwrap_err();
    assert!(matches!(
        err,
        VerifyError::OutOfOrder {
            expected: 6,
            found: 5
        }
    ));
}

#[test]
fn replaced_entry_breaks_the_link_to_the_next() {
    // A forged entry with a self-consistent hash still does not chain on.
    let mut entries = chain(100);
    entries[36].details = r#"{"fields":[]}"#.into();
    entries[36].hash = entries[36].compute_hash();
    let err = run(&entries, &[]).unwrap_err();
    assert!(matches!(err, VerifyError::Unlinked { seq: 38 }), "{err:?}");
    assert!(err
        .to_string()
        .starts_with("entry 38 does not follow entry 37"));
}

#[test]
fn rewritten_history_is_caught_by_a_checkpoint() {
    let entries = chain(1000);
    let checkpoint = checkpoint_at(&entries, 500);

    let mut rewritten = entries.clone();
    rewritten[99].details = r#"{"fields":[]}"#.into();
    rehash_from(&mut rewritten, 99);
    // Fully re-hashed, the chain alone cannot tell...
    assert!(run(&rewritten, &[]).is_ok());
    // ...but the signed checkpoint can.
    let err = run(&rewritten, std::slice::from_ref(&checkpoint)).unwrap_err();
    assert!(
        matches!(err, VerifyError::CheckpointMismatch { seq: 500, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("rewritten"), "{err}");
}

#[test]
fn truncation_behind_a_checkpoint_is_reported() {
    let entries = chain(1000);
    let checkpoints = [checkpoint_at(&entries, 400), checkpoint_at(&entries, 900)];
    let err = run(&entries[..850], &checkpoints).unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::Truncated {
                checkpoint_seq: 900,
                last_seq: 850
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the ledger ends at entry 850, but a signed checkpoint covers entries up to 900: entries were removed from the end"
    );
    // Truncation then re-appending new entries to reach the same length: the
    // checkpoint's hash no longer matches.
    let mut regrown = entries[..850].to_vec();
    let mut head = Head::of(&regrown[849]);
    for i in 0..150 {
        regrown.push(head.append(EntryDraft {
            at_ms: i,
            actor: "x".into(),
            action: "y".into(),
            subject: "z".into(),
            details: "{}".into(),
        }));
    }
    assert!(matches!(
        run(&regrown, &checkpoints).unwrap_err(),
        VerifyError::CheckpointMismatch { seq: 900, .. }
    ));
}

#[test]
fn verify_against_an_off_box_checkpoint() {
    let entries = chain(1000);
    let external = Checkpoint::from_json(&checkpoint_at(&entries, 800).to_json_pretty()).unwrap();
    let stored = [checkpoint_at(&entries, 200)];

    let report = verify_against(
        entries.iter().cloned().map(Ok::<_, Infallible>),
        &stored,
        &external,
    )
    .unwrap();
    assert_eq!((report.last_seq, report.checkpoints_checked), (1000, 2));

    let err = verify_against(
        entries[..700].iter().cloned().map(Ok::<_, Infallible>),
        &stored,
        &external,
    )
    .unwrap_err();
    assert!(matches!(
        err,
        VerifyError::Truncated {
            checkpoint_seq: 800,
            last_seq: 700
        }
    ));

    // A stored checkpoint under another key is itself a sign of tampering.
    let forged = Checkpoint::sign(
        &Head::of(&entries[99]),
        0,
        &SigningKey::from_bytes(&[2; 32]),
    );
    let err = verify_against(
        entries.iter().cloned().map(Ok::<_, Infallible>),
        &[forged],
        &external,
    )
    .unwrap_err();
    assert!(matches!(
        err,
        VerifyError::Checkpoint(LedgerError::UntrustedKey { seq: 100, .. })
    ));
}

#[test]
fn tampered_checkpoint_signature_is_rejected() {
    let entries = chain(100);
    let mut checkpoint = checkpoint_at(&entries, 50);
    checkpoint.signature[0] ^= 1;
    let err = run(&entries, &[checkpoint.clone()]).unwrap_err();
    assert!(matches!(
        err,
        VerifyError::Checkpoint(LedgerError::BadSignature { seq: 50 })
    ));
    assert_eq!(err.kind(), "checkpoint_bad_signature");
    // Also without a pinned key.
    assert!(verify(
        entries.iter().cloned().map(Ok::<_, Infallible>),
        &[checkpoint],
        None
    )
    .is_err());

    // Moving a valid checkpoint to another seq invalidates it too.
    let mut moved = checkpoint_at(&entries, 50);
    moved.seq = 60;
    moved.head_hash = entries[59].hash;
    assert!(matches!(
        run(&entries, &[moved]).unwrap_err(),
        VerifyError::Checkpoint(LedgerError::BadSignature { seq: 60 })
    ));
}

#[test]
fn checkpoint_from_another_key_is_rejected_when_a_key_is_expected() {
    let entries = chain(100);
    let other = SigningKey::from_bytes(&[2; 32]);
    let checkpoint = Checkpoint::sign(&Head::of(&entries[49]), 0, &other);
    let err = run(&entries, std::slice::from_ref(&checkpoint)).unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::Checkpoint(LedgerError::UntrustedKey { seq: 50, .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("not by the expected ledger key"));
    // Without a pinned key it is only checked for self-consistency.
    assert!(verify(
        entries.iter().cloned().map(Ok::<_, Infallible>),
        &[checkpoint],
        None
    )
    .is_ok());
}

#[derive(Debug, PartialEq)]
struct DiskError;

impl std::fmt::Display for DiskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("disk I/O error")
    }
}

#[test]
fn storage_errors_are_propagated_after_the_entries_before_them() {
    let entries = chain(100);
    let rows = entries[..60]
        .iter()
        .cloned()
        .map(Ok)
        .chain(std::iter::once(Err(DiskError)));
    let err = verify(rows, &[], None).unwrap_err();
    assert!(matches!(
        err,
        VerifyError::Read {
            after_seq: 60,
            source: DiskError
        }
    ));
    assert_eq!(
        err.to_string(),
        "could not read the ledger after entry 60: disk I/O error"
    );

    // Tampering before the failure is still reported as tampering.
    let mut tampered = entries[..60].to_vec();
    tampered[10].details.clear();
    let rows = tampered
        .into_iter()
        .map(Ok)
        .chain(std::iter::once(Err(DiskError)));
    assert!(matches!(
        verify(rows, &[], None).unwrap_err(),
        VerifyError::Modified { seq: 11 }
    ));
}

#[test]
fn large_chain_verifies_in_parallel_chunks_and_finds_tampering_at_the_right_seq() {
    const N: u64 = 200_000;
    let entries = chain(N);
    let checkpoints = [checkpoint_at(&entries, 100_000), checkpoint_at(&entries, N)];

    let mut seen = Vec::new();
    let report = verify_with_progress(
        entries.iter().cloned().map(Ok::<_, Infallible>),
        &checkpoints,
        Some(&public_key()),
        |done| seen.push(done),
    )
    .unwrap();
    assert_eq!((report.entries_checked, report.checkpoints_checked), (N, 2));
    // 64k-entry chunks: several chunks, so the chunked parallel path really ran.
    assert_eq!(seen, vec![65_536, 131_072, 196_608, 200_000]);

    // Chunk 3 covers seqs 131_073..=196_608; 150_000 is in its first hashing
    // half, 190_000 in its second. The first must be named.
    let mut tampered = entries.clone();
    tampered[149_999].subject.push('x');
    tampered[189_999].subject.push('x');
    assert!(matches!(
        run(&tampered, &checkpoints).unwrap_err(),
        VerifyError::Modified { seq: 150_000 }
    ));
    let mut tampered = entries.clone();
    tampered[189_999].details.push('x');
    assert!(matches!(
        run(&tampered, &checkpoints).unwrap_err(),
        VerifyError::Modified { seq: 190_000 }
    ));

    // A swap straddling the chunk 2 / chunk 3 boundary is still seen as a swap.
    let mut swapped = entries.clone();
    swapped.swap(131_071, 131_072);
    assert!(matches!(
        run(&swapped, &checkpoints).unwrap_err(),
        VerifyError::OutOfOrder {
            expected: 131_072,
            found: 131_073
        }
    ));

    // A deletion in a later chunk.
    let mut deleted = entries;
    deleted.remove(170_000);
    assert!(matches!(
        run(&deleted, &checkpoints).unwrap_err(),
        VerifyError::Missing {
            seq: 170_001,
            next: 170_002
        }
    ));
}
