//! One file followed as it grows: partial and over-long lines, bounded
//! batches, where a follower starts, and files that are missing or unreadable.

use std::io::Write;

use bulwark_tail::{Batch, Follower, Line, Options, Poll, Start};

use crate::*;

#[test]
fn a_partial_last_line_is_held_until_its_newline_arrives() {
    let t = tempfile::tempdir().unwrap();
    let log = t.path().join("app.log");
    let mut w = append(&log);
    write!(w, "first\r\nsec").unwrap();
    let mut c = Consumer::new(&log, Start::Beginning, Options::default());
    c.drain();
    assert_eq!(c.got.len(), 1);
    assert_eq!(c.got[0].2, "first", "\\r\\n is taken off");
    let held = c.checkpoint.clone().unwrap();
    assert_eq!(
        held.offset, 7,
        "the checkpoint stops before the partial line"
    );
    write!(w, "ond\nthird\n").unwrap();
    c.drain();
    let texts: Vec<&str> = c.got.iter().map(|(_, _, t)| t.as_str()).collect();
    assert_eq!(texts, ["first", "second", "third"]);
    assert_eq!(c.got[2].1, 3);
}

#[test]
fn an_over_long_line_is_skipped_unbuffered_and_counted() {
    let t = tempfile::tempdir().unwrap();
    let log = t.path().join("app.log");
    let opts = Options {
        max_line: 100,
        read_chunk: 64,
        ..Options::default()
    };
    let mut w = append(&log);
    writeln!(w, "short").unwrap();
    write!(w, "{}", "y".repeat(250)).unwrap();
    let mut c = Consumer::new(&log, Start::Beginning, opts.clone());
    c.drain();
    assert_eq!(c.got.len(), 1);
    assert!(c.too_long.is_empty(), "not yet complete");
    write!(w, "{}\nafter\n", "y".repeat(50)).unwrap();
    c.drain();
    assert_eq!(c.too_long, [(2, 300)]);
    assert_eq!(c.got.last().unwrap().1, 3);
    assert_eq!(c.got.last().unwrap().2, "after");
    // A restart from the checkpoint goes on after it.
    writeln!(w, "next").unwrap();
    c.restart(&log, opts);
    c.drain();
    let texts: Vec<&str> = c.got.iter().map(|(_, _, t)| t.as_str()).collect();
    assert_eq!(texts, ["short", "after", "next"]);
}

#[test]
fn batches_are_bounded_in_lines_and_bytes() {
    let t = tempfile::tempdir().unwrap();
    let log = t.path().join("big.log");
    let mut w = std::io::BufWriter::new(append(&log));
    lines(&mut w, 0, 100_000);
    drop(w);
    let opts = Options {
        max_batch_lines: 1000,
        max_batch_bytes: 16 << 10,
        ..Options::default()
    };
    let mut f = Follower::new(&log, Start::Beginning, opts);
    let mut batch = Batch::new();
    let (mut total, mut batches) = (0u64, 0);
    while f.poll(&mut batch) == Poll::Lines {
        let bytes: usize = batch
            .lines()
            .map(|(_, l)| match l {
                Line::Text(t) => t.len(),
                Line::TooLong { .. } => 0,
            })
            .sum();
        assert!(batch.len() <= 1000);
        assert!(bytes <= 16 << 10, "{bytes} bytes in a batch");
        total += batch.len() as u64;
        batches += 1;
    }
    assert_eq!(total, 100_000);
    assert!(batches >= 100_000 / 1000);
    assert_eq!(f.position().unwrap().line, 100_000);
}

#[test]
fn starting_at_the_end_skips_what_is_there_but_not_a_partial_line() {
    let t = tempfile::tempdir().unwrap();
    let log = t.path().join("app.log");
    let mut w = append(&log);
    lines(&mut w, 0, 10);
    write!(w, "00000010 half").unwrap();
    let mut c = Consumer::new(&log, Start::End, Options::default());
    c.drain();
    assert!(c.got.is_empty());
    assert_eq!(
        c.checkpoint.as_ref().unwrap().line,
        10,
        "lines are numbered as in the file"
    );
    writeln!(w, " done").unwrap();
    lines(&mut w, 11, 12);
    c.drain();
    assert_eq!(c.seqs(), [10, 11]);
    assert_eq!(c.got[0].1, 11);
    assert_eq!(c.got[0].2, "00000010 half done");
}

#[test]
fn a_missing_or_unreadable_file_is_reported_and_waited_for() {
    let t = tempfile::tempdir().unwrap();
    let log = t.path().join("later.log");
    let mut c = Consumer::new(&log, Start::End, Options::default());
    assert_eq!(c.poll(), Poll::Idle);
    assert_eq!(c.poll(), Poll::Idle);
    assert_eq!(c.notices, ["missing"], "reported once");
    // It appears: a file created after the follower started is read whole.
    let mut w = append(&log);
    lines(&mut w, 0, 5);
    c.drain();
    assert_eq!(c.seqs(), [0, 1, 2, 3, 4]);

    // Something that cannot be read as a file (here a directory) is reported, not fatal.
    let odd = t.path().join("odd.log");
    std::fs::create_dir(&odd).unwrap();
    let mut c = Consumer::new(&odd, Start::Beginning, Options::default());
    assert_eq!(c.poll(), Poll::Idle);
    assert_eq!(c.poll(), Poll::Idle);
    assert!(c.notices.contains(&"error".to_string()), "{:?}", c.notices);
    std::fs::remove_dir(&odd).unwrap();
    let mut w = append(&odd);
    lines(&mut w, 0, 3);
    c.drain();
    c.drain();
    assert_eq!(c.seqs(), [0, 1, 2]);
}

#[test]
fn a_corrupt_gzip_generation_is_reported_and_skipped() {
    let t = tempfile::tempdir().unwrap();
    let log = t.path().join("app.log");
    let mut w = append(&log);
    lines(&mut w, 0, 50);
    let mut c = Consumer::new(&log, Start::Beginning, small_batches());
    c.take(2);
    drop(w);
    // Rotated and gzip'd while stopped, and the gzip cut short.
    std::fs::rename(&log, sibling(&log, ".1")).unwrap();
    gzip(&sibling(&log, ".1"), &sibling(&log, ".1.gz"));
    let gz = std::fs::read(sibling(&log, ".1.gz")).unwrap();
    std::fs::write(sibling(&log, ".1.gz"), &gz[..gz.len() * 2 / 3]).unwrap();
    let mut w = append(&log);
    lines(&mut w, 100, 110);
    c.restart(&log, small_batches());
    c.drain();
    assert!(c.notices.contains(&"error".to_string()), "{:?}", c.notices);
    let seqs = c.seqs();
    assert_eq!(&seqs[seqs.len() - 10..], (100..110).collect::<Vec<_>>());
    // What was delivered is in order and without repeats.
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
}
