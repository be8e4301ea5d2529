//! The incident board: next deadline and overdue counts from the open-task
//! index, filters, paging, and the index rebuilt for an older data directory.

use bulwark_incident::{Classification, NewIncident, Phase, PlaybookSet, Severity};
use bulwark_store::{BoardFilter, BoardSort};
use bulwark_testkit::{reopen, sqlite, StoreFixture};

fn open(f: &StoreFixture, title: &str, sev: Severity, hours_ago: i64) -> u64 {
    let aware = time::OffsetDateTime::now_utc() - time::Duration::hours(hours_ago);
    f.store
        .open_incident(
            NewIncident::new(title, sev, Classification::CredentialTheft, aware, aware),
            PlaybookSet::builtin().unwrap(),
            "owner:test",
        )
        .wait_blocking()
        .unwrap()
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

#[test]
fn the_board_orders_by_next_deadline_and_counts_overdue_tasks() {
    let f = StoreFixture::new();
    // Aware long ago: its playbook's first tasks are overdue; the fresh one's are not.
    let old = open(&f, "old", Severity::Sev3, 24 * 30);
    let fresh = open(&f, "fresh", Severity::Sev1, 0);
    let closed = open(&f, "closed", Severity::Sev2, 1);
    f.store
        .advance_incident(
            closed,
            Phase::Closed,
            Some("false alarm".into()),
            "owner:test",
        )
        .wait_blocking()
        .unwrap();

    let board = f
        .store
        .incident_board(&BoardFilter::default(), now_ms())
        .unwrap();
    assert_eq!(board.total, 2, "closed incidents are off the default board");
    let ids: Vec<u64> = board.rows.iter().map(|r| r.id).collect();
    assert_eq!(ids, [old, fresh], "the nearest deadline first");
    let (o, n) = (&board.rows[0], &board.rows[1]);
    assert!(o.overdue > 0 && o.overdue <= o.open_tasks, "{o:?}");
    assert_eq!(n.overdue, 0, "{n:?}");
    assert!(o.next_due_ms.unwrap() < now_ms() && n.next_due_ms.unwrap() > now_ms());

    // Filters and paging.
    let sev1 = f
        .store
        .incident_board(
            &BoardFilter {
                severity: Some(Severity::Sev1),
                ..Default::default()
            },
            now_ms(),
        )
        .unwrap();
    assert_eq!(sev1.rows.iter().map(|r| r.id).collect::<Vec<_>>(), [fresh]);
    let all = f
        .store
        .incident_board(
            &BoardFilter {
                include_closed: true,
                sort: BoardSort::Newest,
                limit: 2,
                offset: 1,
                ..Default::default()
            },
            now_ms(),
        )
        .unwrap();
    assert_eq!(all.total, 3);
    assert_eq!(
        all.rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        [fresh, old]
    );

    // Completing a task takes it off the index at once.
    let key = f.store.incident(fresh).unwrap().tasks[0].key.clone();
    let before = board.rows[1].open_tasks;
    f.store
        .update_task(
            fresh,
            key,
            bulwark_store::TaskChange::Done { note: None },
            "owner:test",
        )
        .wait_blocking()
        .unwrap();
    let after = f
        .store
        .incident_board(&BoardFilter::default(), now_ms())
        .unwrap();
    let row = after.rows.iter().find(|r| r.id == fresh).unwrap();
    assert_eq!(row.open_tasks, before - 1);
}

#[test]
fn a_data_directory_from_before_the_index_gets_it_on_open() {
    let f = StoreFixture::new();
    let old = open(&f, "old", Severity::Sev3, 24 * 30);
    let expected = f
        .store
        .incident_board(&BoardFilter::default(), now_ms())
        .unwrap();
    let dir = f.dir.clone();
    drop(f.store);
    {
        // As an older version left it: no index rows, no marker.
        let db = sqlite(&dir, "bulwark.db");
        for sql in [
            "DELETE FROM incident_open_tasks",
            "DELETE FROM incident_due",
            "DELETE FROM scope_summaries",
            "DELETE FROM meta WHERE key IN ('open_tasks_indexed', 'board_summaries')",
        ] {
            db.execute(sql, []).unwrap();
        }
    }
    let store = reopen(&dir);
    let board = store
        .incident_board(&BoardFilter::default(), now_ms())
        .unwrap();
    assert_eq!(board.rows[0].id, old);
    assert_eq!(board.rows[0].open_tasks, expected.rows[0].open_tasks);
    assert_eq!(board.rows[0].overdue, expected.rows[0].overdue);
    assert_eq!(board.rows[0].next_due_ms, expected.rows[0].next_due_ms);
}
