//! Rotation by rename, copytruncate, gzip'd generations and restarts from a
//! checkpoint, mid-stream: every line delivered exactly once, in order.

use std::path::Path;

use bulwark_tail::{Options, Start};

use crate::*;

/// logrotate's numbered scheme: `.N` and `.N.gz` move up by one.
fn shift(log: &Path) {
    for k in (1..=9).rev() {
        for gz in ["", ".gz"] {
            let from = sibling(log, &format!(".{k}{gz}"));
            if from.exists() {
                std::fs::rename(&from, sibling(log, &format!(".{}{gz}", k + 1))).unwrap();
            }
        }
    }
}

/// Rename rotation: the file becomes `.1`.
fn rotate(log: &Path) {
    shift(log);
    std::fs::rename(log, sibling(log, ".1")).unwrap();
}

/// copytruncate: the content is copied to `.1` and the file truncated in place.
fn copytruncate(log: &Path) {
    shift(log);
    std::fs::copy(log, sibling(log, ".1")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(log)
        .unwrap()
        .set_len(0)
        .unwrap();
}

#[test]
fn rotation_truncation_gzip_and_restarts_deliver_every_line_once_in_order() {
    let t = tempfile::tempdir().unwrap();
    let log = t.path().join("access.log");
    let opts = small_batches();
    let mut w = append(&log);
    lines(&mut w, 0, 100);
    let mut c = Consumer::new(&log, Start::Beginning, opts.clone());
    c.take(5);

    // 1. Rename rotation mid-stream; the writer goes on writing to its old
    //    descriptor for a moment, then reopens the path.
    rotate(&log);
    lines(&mut w, 100, 120);
    c.take(3);
    let mut w2 = append(&log);
    drop(w);
    lines(&mut w2, 120, 200);
    c.drain();
    assert_exactly_once(&c, 200);
    assert!(
        c.notices.contains(&"rotated".to_string()),
        "{:?}",
        c.notices
    );

    // 2. copytruncate mid-stream (the writer appends, so it writes at the new end).
    lines(&mut w2, 200, 300);
    c.take(4);
    copytruncate(&log);
    lines(&mut w2, 300, 310);
    c.drain();
    assert_exactly_once(&c, 310);
    assert!(
        c.notices.contains(&"truncated".to_string()),
        "{:?}",
        c.notices
    );

    // 3. Stopped mid-stream; while it is down the file is rotated, the rotated
    //    file gzip'd, and rotated once more: on restart the checkpointed file
    //    (now access.log.2.gz) is finished from its offset, then access.log.1,
    //    then the current file.
    lines(&mut w2, 310, 400);
    c.take(2);
    rotate(&log);
    drop(w2);
    let mut w3 = append(&log);
    lines(&mut w3, 400, 450);
    gzip(&sibling(&log, ".1"), &sibling(&log, ".1.gz"));
    rotate(&log);
    drop(w3);
    let mut w4 = append(&log);
    lines(&mut w4, 450, 470);
    c.restart(&log, opts.clone());
    c.drain();
    assert_exactly_once(&c, 470);
    assert!(
        c.notices.contains(&"resumed".to_string()),
        "{:?}",
        c.notices
    );
    assert!(
        c.got.iter().any(|(f, _, _)| f == "access.log.2.gz"),
        "read from the gzip'd generation"
    );

    // 4. A restart mid-stream in the same file.
    lines(&mut w4, 470, 520);
    c.take(3);
    c.restart(&log, opts.clone());
    c.drain();
    assert_exactly_once(&c, 520);

    // 5. Stopped mid-stream; copytruncate while it is down, the copy gzip'd.
    lines(&mut w4, 520, 600);
    c.take(2);
    copytruncate(&log);
    lines(&mut w4, 600, 620);
    gzip(&sibling(&log, ".1"), &sibling(&log, ".1.gz"));
    c.restart(&log, opts.clone());
    c.drain();
    assert_exactly_once(&c, 620);

    // Line numbers are per file and continuous within each (a new file starts at 1).
    for w in c.got.windows(2) {
        let ((f0, n0, _), (f1, n1, _)) = (&w[0], &w[1]);
        if f0 == f1 && *n1 != 1 {
            assert_eq!(*n1, n0 + 1, "line numbers in {f1}");
        }
    }
}

#[test]
fn copytruncate_that_regrew_past_the_offset_is_told_by_its_first_bytes() {
    let t = tempfile::tempdir().unwrap();
    let log = t.path().join("app.log");
    let mut w = append(&log);
    lines(&mut w, 0, 10);
    let mut c = Consumer::new(&log, Start::Beginning, Options::default());
    c.drain();
    c.drain();
    assert_exactly_once(&c, 10);
    // Truncated and rewritten beyond the old size between two looks.
    copytruncate(&log);
    lines(&mut w, 10, 200);
    c.drain();
    assert_exactly_once(&c, 200);
    assert!(
        c.notices.contains(&"truncated".to_string()),
        "{:?}",
        c.notices
    );
}

#[test]
fn a_rotated_file_whose_successor_is_still_empty_is_kept_open() {
    let t = tempfile::tempdir().unwrap();
    let log = t.path().join("app.log");
    let mut w = append(&log);
    lines(&mut w, 0, 10);
    let mut c = Consumer::new(&log, Start::Beginning, Options::default());
    c.drain();
    rotate(&log);
    std::fs::File::create(&log).unwrap();
    // The writer has not reopened: its lines still land in the old file.
    lines(&mut w, 10, 20);
    c.drain();
    assert_exactly_once(&c, 20);
    // It reopens; the new file gets its first line: the follower moves over.
    drop(w);
    let mut w = append(&log);
    lines(&mut w, 20, 30);
    c.drain();
    c.drain();
    assert_exactly_once(&c, 30);
}

#[test]
fn a_checkpoint_whose_file_is_gone_reads_the_current_file_from_its_start() {
    let t = tempfile::tempdir().unwrap();
    let log = t.path().join("app.log");
    let mut w = append(&log);
    lines(&mut w, 0, 50);
    let mut c = Consumer::new(&log, Start::Beginning, small_batches());
    c.take(2);
    drop(w);
    std::fs::remove_file(&log).unwrap();
    let mut w = append(&log);
    lines(&mut w, 1000, 1010);
    c.restart(&log, small_batches());
    c.drain();
    assert!(
        c.notices.contains(&"not-found".to_string()),
        "{:?}",
        c.notices
    );
    let seqs = c.seqs();
    assert_eq!(&seqs[14..], (1000..1010).collect::<Vec<_>>());
}
