//! `bulwark-tail` against real files: rotation, truncation, restarts (one test binary).

mod follow;
mod rotation;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use bulwark_tail::{Batch, Follower, Line, Notice, Options, Poll, Position, Start};

/// A consumer that "commits" the position after every batch, as the store does.
pub struct Consumer {
    pub follower: Follower,
    batch: Batch,
    /// (file name the line came from, line number in it, text)
    pub got: Vec<(String, u64, String)>,
    pub too_long: Vec<(u64, u64)>,
    pub checkpoint: Option<Position>,
    pub notices: Vec<String>,
}

impl Consumer {
    pub fn new(path: &Path, start: Start, opts: Options) -> Consumer {
        Consumer {
            follower: Follower::new(path, start, opts),
            batch: Batch::new(),
            got: Vec::new(),
            too_long: Vec::new(),
            checkpoint: None,
            notices: Vec::new(),
        }
    }

    /// A restart: a new follower from the last committed position.
    pub fn restart(&mut self, path: &Path, opts: Options) {
        let start = match &self.checkpoint {
            Some(p) => Start::At(p.clone()),
            None => Start::Beginning,
        };
        self.follower = Follower::new(path, start, opts);
    }

    pub fn poll(&mut self) -> Poll {
        let poll = self.follower.poll(&mut self.batch);
        let source = self
            .batch
            .source()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for (n, line) in self.batch.lines() {
            match line {
                Line::Text(t) => {
                    self.got
                        .push((source.clone(), n, String::from_utf8(t.to_vec()).unwrap()))
                }
                Line::TooLong { len } => self.too_long.push((n, len)),
            }
        }
        for n in self.batch.notices() {
            self.notices.push(match n {
                Notice::Opened { .. } => "opened".into(),
                Notice::Resumed { .. } => "resumed".into(),
                Notice::CheckpointNotFound => "not-found".into(),
                Notice::Rotated => "rotated".into(),
                Notice::Truncated => "truncated".into(),
                Notice::Deleted => "deleted".into(),
                Notice::Finished { .. } => "finished".into(),
                Notice::Missing { .. } => "missing".into(),
                Notice::Error(_) => "error".into(),
            });
        }
        if let Some(p) = self.batch.position() {
            self.checkpoint = Some(p.clone());
        }
        poll
    }

    /// Polls until a poll finds nothing new.
    pub fn drain(&mut self) {
        for _ in 0..100_000 {
            if self.poll() == Poll::Idle {
                return;
            }
        }
        panic!("the follower never went idle");
    }

    /// Polls `n` batches (mid-stream).
    pub fn take(&mut self, n: usize) {
        for _ in 0..n {
            assert_eq!(self.poll(), Poll::Lines, "expected more lines");
        }
    }

    /// The sequence numbers delivered, in order.
    pub fn seqs(&self) -> Vec<u64> {
        self.got
            .iter()
            .map(|(_, _, t)| t[..8].parse().unwrap())
            .collect()
    }
}

/// Writes numbered lines `from..to` (varied lengths) to a writer.
pub fn lines(w: &mut impl Write, from: u64, to: u64) {
    for i in from..to {
        writeln!(w, "{i:08} {}", "x".repeat((i % 37) as usize)).unwrap();
    }
}

pub fn append(path: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
}

pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

pub fn gzip(from: &Path, to: &Path) {
    let data = std::fs::read(from).unwrap();
    let mut enc =
        flate2::write::GzEncoder::new(File::create(to).unwrap(), flate2::Compression::fast());
    enc.write_all(&data).unwrap();
    enc.finish().unwrap();
    std::fs::remove_file(from).unwrap();
}

/// Every number in `0..n` exactly once, in order.
pub fn assert_exactly_once(c: &Consumer, n: u64) {
    let seqs = c.seqs();
    let expected: Vec<u64> = (0..n).collect();
    if seqs != expected {
        let mut dup = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for s in &seqs {
            if !seen.insert(*s) {
                dup.push(*s);
            }
        }
        let missing: Vec<u64> = (0..n).filter(|s| !seen.contains(s)).collect();
        panic!(
            "delivered {} lines; duplicated {:?}; missing {:?}; notices {:?}",
            seqs.len(),
            &dup[..dup.len().min(20)],
            &missing[..missing.len().min(20)],
            c.notices
        );
    }
}

pub fn small_batches() -> Options {
    Options {
        max_batch_lines: 7,
        ..Options::default()
    }
}
