//! Followed files' checkpoints: alerts and the checkpoint commit together, in order.

use bulwark_store::{NewAlert, TailBatch, TailCheckpointError, TailPosition};

use crate::common::*;

fn pos(offset: u64, line: u64) -> TailPosition {
    TailPosition {
        fingerprint: format!("{}:{}", offset.min(1024), "ab".repeat(32)),
        file_id: Some("8:42".into()),
        offset,
        line,
    }
}

fn alert(n: i64) -> NewAlert {
    NewAlert {
        rule_id: "rule-1".into(),
        rule_title: "Test rule".into(),
        level: "high".into(),
        group_key: Vec::new(),
        // Hours apart: each is its own alert row.
        seen_ms: n * 7_200_000,
        fields: vec![("source.ip".into(), "203.0.113.9".into())],
        source: "/var/log/access.log".into(),
    }
}

fn batch(
    after: Option<TailPosition>,
    to: TailPosition,
    lines: u64,
    alerts: Vec<NewAlert>,
) -> TailBatch {
    TailBatch {
        path: "/var/log/access.log".into(),
        after,
        position: to,
        lines,
        malformed: 1,
        alerts,
    }
}

#[test]
fn a_batch_records_its_alerts_and_advances_the_checkpoint_in_one_transaction() {
    let f = fixture();
    let s = &f.store;
    assert!(s.tail_checkpoint("/var/log/access.log").unwrap().is_none());
    let ids = s
        .record_tail_batch(
            batch(None, pos(100, 10), 10, vec![alert(1), alert(2)]),
            3_600_000,
        )
        .wait_blocking()
        .unwrap();
    assert_eq!(ids.len(), 2);
    assert!(ids.iter().all(|(_, new)| *new));
    // Batches may be submitted back to back (pipelined); each names the one before.
    let p1 = s.record_tail_batch(
        batch(Some(pos(100, 10)), pos(200, 20), 10, vec![alert(3)]),
        3_600_000,
    );
    let p2 = s.record_tail_batch(
        batch(Some(pos(200, 20)), pos(300, 30), 10, vec![]),
        3_600_000,
    );
    p1.wait_blocking().unwrap();
    p2.wait_blocking().unwrap();
    let cp = s.tail_checkpoint("/var/log/access.log").unwrap().unwrap();
    assert_eq!(cp.position, pos(300, 30));
    assert_eq!((cp.lines_read, cp.malformed, cp.detections), (30, 3, 3));
    assert_eq!(s.tail_checkpoints().unwrap().len(), 1);

    // A batch that does not follow the stored checkpoint is refused whole: no
    // alert recorded, the checkpoint where it was.
    let refused = s
        .record_tail_batch(
            batch(Some(pos(200, 20)), pos(400, 40), 10, vec![alert(4)]),
            3_600_000,
        )
        .wait_blocking();
    assert!(
        matches!(refused, Err(TailCheckpointError::Moved { .. })),
        "{refused:?}"
    );
    let cp = s.tail_checkpoint("/var/log/access.log").unwrap().unwrap();
    assert_eq!(cp.position, pos(300, 30));
    assert_eq!(cp.lines_read, 30);
    let alerts = s
        .alerts(&bulwark_store::AlertFilter {
            limit: 100,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(alerts.len(), 3, "the refused batch's alert is not there");
    drop(f.store);
    let again = reopen(&f.dir);
    assert_eq!(
        again
            .tail_checkpoint("/var/log/access.log")
            .unwrap()
            .unwrap()
            .position,
        pos(300, 30)
    );
}

#[test]
fn only_one_process_follows_a_path() {
    let f = fixture();
    let first = f.store.dir().lock_tail("/var/log/access.log").unwrap();
    assert!(first.is_some());
    assert!(f
        .store
        .dir()
        .lock_tail("/var/log/access.log")
        .unwrap()
        .is_none());
    assert!(f
        .store
        .dir()
        .lock_tail("/var/log/other.log")
        .unwrap()
        .is_some());
    drop(first);
    assert!(f
        .store
        .dir()
        .lock_tail("/var/log/access.log")
        .unwrap()
        .is_some());
}
