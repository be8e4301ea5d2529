//! Live tailing: followed log files (`bulwark_tail`) run through detection,
//! their alerts and checkpoint committed together. `serve --watch` runs
//! [`watch`] per path; `bulwark tail` runs the same [`process_batch`] in the CLI.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use bulwark_detect::{Detection, Engine, Formats, LineParser, LogFormat, MalformedLine};
use bulwark_store::{TailBatch, TailPosition};
use bulwark_tail::{Batch, FileId, Follower, Line, Notice, Options, Poll, Position, Start};

use crate::detection::{now_ms, route_alerts, to_alerts};
use crate::AppState;

/// How a followed file's lines are parsed: a fixed format, or told from the
/// file's first lines (`auto`). Parsing is per file and stateful (W3C
/// `#Fields:` headers), so each file the follower opens gets a fresh parser.
#[derive(Debug, Clone)]
pub struct LineFormat {
    fixed: Option<LogFormat>,
    formats: Formats,
    /// The current file's parser, once its format is known.
    parser: Option<LineParser>,
}

impl LineFormat {
    /// `None`: auto-detect, per file, among the built-in formats.
    pub fn new(format: Option<LogFormat>) -> LineFormat {
        LineFormat::with_formats(format, Formats::builtin())
    }

    /// Auto-detection among `formats` (built-in plus the data directory's).
    pub fn with_formats(format: Option<LogFormat>, formats: Formats) -> LineFormat {
        LineFormat {
            fixed: format,
            formats,
            parser: None,
        }
    }

    /// A new file begins (the follower opened it): its parsing state starts afresh.
    pub fn new_file(&mut self) {
        self.parser = None;
    }

    /// The format in use, once known.
    pub fn format(&self) -> Option<&LogFormat> {
        self.parser
            .as_ref()
            .map(LineParser::format)
            .or(self.fixed.as_ref())
    }

    /// Before a file's first lines: with `auto`, tells its format from them.
    pub fn prepare(&mut self, sample: &[&str]) {
        if self.parser.is_some() {
            return;
        }
        self.parser = match &self.fixed {
            Some(f) => Some(f.parser()),
            None => self
                .formats
                .detect(sample)
                .map(|d| self.formats.parser_with_fallback(d.format)),
        };
    }

    /// The one place a followed line meets `bulwark_detect`: parse it with the
    /// file's parser (its format told from this line if the first lines did
    /// not tell, for `auto`) and run it through `engine`.
    pub fn process_line(
        &mut self,
        engine: &mut Engine,
        line: &str,
        line_no: u64,
    ) -> Result<Vec<Detection>, MalformedLine> {
        self.prepare(&[line]);
        match self.parser.as_mut() {
            Some(parser) => engine
                .process_with(parser, line, line_no, None)
                .map(Option::unwrap_or_default),
            None => Err(MalformedLine {
                line_no,
                reason: "no known format reads this line (pass a format; see `bulwark formats`)"
                    .into(),
            }),
        }
    }
}

/// What a batch's lines produced.
#[derive(Debug, Default)]
pub struct Processed {
    /// Each detection with the line (number) that raised it.
    pub detections: Vec<(u64, Detection)>,
    /// Lines in the batch (blank ones included).
    pub lines: u64,
    /// Lines that could not be parsed, or were too long to read.
    pub malformed: Vec<MalformedLine>,
}

/// Runs a batch's lines through `engine`, in order. Invalid UTF-8 is replaced
/// (U+FFFD); blank lines are skipped; an over-long line counts as malformed.
pub fn process_batch(engine: &mut Engine, format: &mut LineFormat, batch: &Batch) -> Processed {
    let mut out = Processed::default();
    if format.parser.is_none() {
        let sample: Vec<std::borrow::Cow<'_, str>> = batch
            .lines()
            .filter_map(|(_, l)| match l {
                Line::Text(t) => Some(String::from_utf8_lossy(t)),
                Line::TooLong { .. } => None,
            })
            .filter(|t| !t.trim().is_empty())
            .take(50)
            .collect();
        let sample: Vec<&str> = sample.iter().map(|t| t.as_ref()).collect();
        if !sample.is_empty() {
            format.prepare(&sample);
        }
    }
    for (line_no, line) in batch.lines() {
        out.lines += 1;
        let bytes = match line {
            Line::Text(b) => b,
            Line::TooLong { len } => {
                out.malformed.push(MalformedLine {
                    line_no,
                    reason: format!("line of {len} bytes is too long: skipped"),
                });
                continue;
            }
        };
        let text = match std::str::from_utf8(bytes) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(bytes),
        };
        if text.trim().is_empty() {
            continue;
        }
        match format.process_line(engine, &text, line_no) {
            Ok(ds) => out.detections.extend(ds.into_iter().map(|d| (line_no, d))),
            Err(m) => out.malformed.push(m),
        }
    }
    out
}

/// A follower's position as the store keeps it.
pub fn to_stored(p: &Position) -> TailPosition {
    TailPosition {
        fingerprint: p.fingerprint.to_string(),
        file_id: p.file_id.map(|id| id.to_string()),
        offset: p.offset,
        line: p.line,
    }
}

/// A stored checkpoint as a follower's position (`None` if it does not read as one).
pub fn from_stored(p: &TailPosition) -> Option<Position> {
    Some(Position {
        fingerprint: p.fingerprint.parse().ok()?,
        file_id: p.file_id.as_deref().and_then(|s| FileId::from_str(s).ok()),
        offset: p.offset,
        line: p.line,
    })
}

/// The checkpoint key of a followed path: absolute, so a restart from another
/// working directory finds it (the file itself need not exist yet).
pub fn checkpoint_key(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let canon = match (abs.parent(), abs.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .map(|d| d.join(name))
            .unwrap_or(abs.clone()),
        _ => abs,
    };
    canon.display().to_string()
}

/// One line for the log about what a follower noticed.
pub fn describe(notice: &Notice) -> String {
    match notice {
        Notice::Opened { path, offset, line } => {
            format!(
                "reading {} from byte {offset} (line {})",
                path.display(),
                line + 1
            )
        }
        Notice::Resumed { path, offset } => format!(
            "the checkpointed file is now {}: reading its rest from byte {offset}",
            path.display()
        ),
        Notice::CheckpointNotFound => {
            "the checkpointed file is gone: reading the current file from its start".into()
        }
        Notice::Rotated => "rotated: the old file was read to its end".into(),
        Notice::Truncated => "truncated in place: reading it again from its start".into(),
        Notice::Deleted => "deleted: read to its end and closed; waiting for a new file".into(),
        Notice::Finished { path } => format!("{} read to its end", path.display()),
        Notice::Missing { path } => format!("{} does not exist (yet): waiting", path.display()),
        Notice::Error(e) => e.to_string(),
    }
}

/// `PATH[:FORMAT]` for `serve --watch`: the text after the last `:` is a
/// format only if it names one (`auto`, `jsonl`, `combined`, `common`…), so a
/// path that itself holds a `:` stays whole.
#[derive(Debug, Clone)]
pub struct WatchSpec {
    pub path: PathBuf,
    /// `None`: told from the file's first line.
    pub format: Option<LogFormat>,
    /// What auto-detection chooses from, and what FORMAT names: the built-in
    /// formats plus the data directory's mapping files.
    pub formats: Formats,
}

impl WatchSpec {
    /// `PATH` or `PATH:FORMAT`, FORMAT a name among `formats` (or `auto`). A
    /// path may hold colons: only a last part that names a format splits off.
    pub fn parse_with(s: &str, formats: &Formats) -> Result<WatchSpec, String> {
        let (path, format) = match s.rsplit_once(':') {
            Some((p, f)) if !p.is_empty() && f.eq_ignore_ascii_case("auto") => (p, None),
            Some((p, f)) if !p.is_empty() => match formats.get(f) {
                Ok(format) => (p, Some(format)),
                Err(_) => (s, None),
            },
            _ => (s, None),
        };
        if path.is_empty() {
            return Err("expected PATH or PATH:FORMAT".into());
        }
        Ok(WatchSpec {
            path: PathBuf::from(path),
            format,
            formats: formats.clone(),
        })
    }
}

impl FromStr for WatchSpec {
    type Err = String;

    /// [`WatchSpec::parse_with`] among the built-in formats.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WatchSpec::parse_with(s, &Formats::builtin())
    }
}

/// Follows one path for the server until `stop` turns true: each batch runs
/// through the server's detector; its alerts and the checkpoint commit in one
/// transaction; new alerts then open or join incidents. Without a checkpoint it
/// starts at the end of the file (a file created later is read from its start).
pub async fn watch(state: AppState, spec: WatchSpec, mut stop: tokio::sync::watch::Receiver<bool>) {
    let Some(detector) = state.detector.clone() else {
        tracing::error!("--watch needs live detection");
        return;
    };
    let key = checkpoint_key(&spec.path);
    let _lock = match state.store.dir().lock_tail(&key) {
        Ok(Some(lock)) => lock,
        Ok(None) => {
            tracing::error!(path = %key, "another process follows this file: not watching it");
            return;
        }
        Err(e) => {
            tracing::error!(path = %key, error = %e, "cannot watch");
            return;
        }
    };
    let mut after = match state.store.tail_checkpoint(&key) {
        Ok(cp) => cp.map(|c| c.position),
        Err(e) => {
            tracing::error!(path = %key, error = %e, "cannot read the checkpoint: not watching");
            return;
        }
    };
    let start = |after: &Option<TailPosition>| match after.as_ref().map(from_stored) {
        Some(Some(p)) => Start::At(p),
        Some(None) => {
            tracing::warn!(path = %key, "unreadable checkpoint: starting at the end");
            Start::End
        }
        None => Start::End,
    };
    tracing::info!(path = %key, "watching");
    let mut follower = Some(Follower::new(&spec.path, start(&after), Options::default()));
    let mut batch = Some(Batch::new());
    let mut format = Some(LineFormat::with_formats(
        spec.format.clone(),
        spec.formats.clone(),
    ));
    loop {
        if *stop.borrow() {
            break;
        }
        let (mut f, mut b, mut fmt) = match (follower.take(), batch.take(), format.take()) {
            (Some(f), Some(b), Some(fmt)) => (f, b, fmt),
            _ => break,
        };
        let d = detector.clone();
        let joined = tokio::task::spawn_blocking(move || {
            let poll = f.poll(&mut b);
            let mut processed = Processed::default();
            for n in b.notices() {
                if matches!(n, Notice::Opened { .. }) {
                    fmt.new_file();
                }
            }
            if !b.is_empty() {
                processed = d
                    .with_engine(|e| process_batch(e, &mut fmt, &b))
                    .unwrap_or_default();
            }
            (f, b, fmt, poll, processed)
        })
        .await;
        let Ok((f, b, fmt, poll, processed)) = joined else {
            tracing::error!(path = %key, "the tailing task panicked: not watching any more");
            return;
        };
        for n in b.notices() {
            match n {
                Notice::Error(_) | Notice::Missing { .. } | Notice::CheckpointNotFound => {
                    tracing::warn!(path = %key, "{}", describe(n))
                }
                _ => tracing::info!(path = %key, "{}", describe(n)),
            }
        }
        let position = b.position().map(to_stored);
        if position.is_some() && position != after {
            let detections = processed.detections.into_iter().map(|(_, d)| d).collect();
            let alerts = to_alerts(detections, &key, now_ms());
            let job = TailBatch {
                path: key.clone(),
                after: after.clone(),
                position: position
                    .clone()
                    .unwrap_or_else(|| to_stored(&Position::origin())),
                lines: processed.lines,
                malformed: processed.malformed.len() as u64,
                alerts: alerts.clone(),
            };
            match state
                .store
                .record_tail_batch(job, detector.window_ms)
                .wait()
                .await
            {
                Ok(ids) => {
                    after = position;
                    route_alerts(
                        &detector,
                        &state.store,
                        &state.playbooks,
                        &alerts,
                        ids,
                        None,
                    )
                    .await;
                }
                Err(e) => {
                    // Read the uncommitted lines again from the stored checkpoint.
                    tracing::error!(path = %key, error = %e, "could not record a batch: retrying from the checkpoint");
                    after = state
                        .store
                        .tail_checkpoint(&key)
                        .ok()
                        .flatten()
                        .map(|c| c.position);
                    follower = Some(Follower::new(&spec.path, start(&after), Options::default()));
                    batch = Some(b);
                    format = Some(LineFormat::with_formats(
                        spec.format.clone(),
                        spec.formats.clone(),
                    ));
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = stop.changed() => {}
                    }
                    continue;
                }
            }
        }
        follower = Some(f);
        batch = Some(b);
        format = Some(fmt);
        if poll == Poll::Idle {
            tokio::select! {
                _ = tokio::time::sleep(bulwark_tail::DEFAULT_POLL_INTERVAL) => {}
                _ = stop.changed() => {}
            }
        }
    }
    tracing::info!(path = %key, "stopped watching");
}

/// Spawns a [`watch`] per spec; returns their handles.
pub fn spawn_watchers(
    state: &AppState,
    specs: &[WatchSpec],
    stop: &tokio::sync::watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    specs
        .iter()
        .map(|s| tokio::spawn(watch(state.clone(), s.clone(), stop.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watch_specs_split_on_the_last_colon_only_before_a_format() {
        let name = |w: &WatchSpec| w.format.as_ref().map(|f| f.name());
        let w: WatchSpec = "/var/log/nginx/access.log:combined".parse().unwrap();
        assert_eq!(w.path, PathBuf::from("/var/log/nginx/access.log"));
        assert_eq!(name(&w), Some("combined".to_string()));
        let w: WatchSpec = "/logs/app:2026/events.jsonl".parse().unwrap();
        assert_eq!(w.path, PathBuf::from("/logs/app:2026/events.jsonl"));
        assert_eq!(w.format, None);
        let w: WatchSpec = "/logs/a:b:jsonl".parse().unwrap();
        assert_eq!(w.path, PathBuf::from("/logs/a:b"));
        assert_eq!(name(&w), Some("jsonl".to_string()));
        let w: WatchSpec = "access.log:auto".parse().unwrap();
        assert_eq!(w.path, PathBuf::from("access.log"));
        assert!(w.format.is_none());
        assert!(":combined"
            .parse::<WatchSpec>()
            .is_ok_and(|w| w.path == Path::new(":combined")));
        assert!("".parse::<WatchSpec>().is_err());
    }
}
