//! `bulwark tail`: follow log files into detection, across rotation and
//! truncation, with each file's checkpoint and alerts committed together in
//! the data directory's store (so a restart continues exactly where it stopped).

use std::collections::VecDeque;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bulwark_server::detection::{now_ms, to_alerts};
use bulwark_server::tailing::{
    checkpoint_key, describe, from_stored, process_batch, to_stored, LineFormat,
};
use bulwark_store::{Pending, Store, TailBatch, TailCheckpointError, TailPosition};
use bulwark_tail::{Batch, Follower, Notice, Options, Poll, Start};
use clap::Args;

use crate::cmd_detect::{print_detection, rule_sources, Place};

/// Alerts of the same rule and group within this window extend one alert (as the server's).
const ALERT_WINDOW_MS: i64 = 3_600_000;
/// Batches submitted and not yet committed, at most (then the tailer waits).
/// An in-flight batch holds only its alerts, not its lines; a deep pipeline lets
/// the writer fold many batches into one commit (one fsync) while lines are read.
const IN_FLIGHT: usize = 32;
/// Malformed lines shown per file on stderr (all are counted).
const MALFORMED_SHOWN: u32 = 20;

#[derive(Args)]
pub struct TailArgs {
    /// Log files to follow: JSON lines (ECS), nginx/Apache combined or common
    /// format. Rotation (rename or copytruncate, gzip'd or not) is followed.
    #[arg(required_unless_present = "status")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    dir: crate::DataDirArg,
    /// Input format: auto (told from each file's first lines), or any name
    /// `bulwark formats` lists (jsonl, combined, common, iis…).
    #[arg(long, default_value = "auto")]
    format: String,
    /// A Sigma rule directory (default: the built-in e-commerce pack).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Also run SigmaHQ's web rules (the optional set shipped in rules/sigmahq-web).
    #[arg(long)]
    with_sigmahq_web: bool,
    /// A file without a checkpoint is read from its start (default: from its end, like `tail -f`).
    #[arg(long)]
    from_start: bool,
    /// One detection per line as JSON; notices and the summary go to stderr.
    #[arg(long)]
    json: bool,
    /// Show each followed file's checkpoint and counters (all, or the FILES given) and exit.
    #[arg(long)]
    status: bool,
    /// Milliseconds between looks at a file that has nothing new.
    #[arg(long, default_value_t = 250)]
    poll_ms: u64,
}

/// One followed path.
struct Followed {
    key: String,
    follower: Follower,
    format: LineFormat,
    /// The checkpoint as last submitted (what the next batch continues from).
    after: Option<TailPosition>,
    malformed_shown: u32,
    /// Held while following: no other process follows the same path.
    _lock: std::fs::File,
}

/// A submitted batch: its commit, and how many lines it carried.
struct InFlight {
    pending: Pending<Vec<(i64, bool)>, TailCheckpointError>,
    lines: u64,
}

/// Set by the first SIGINT or SIGTERM; a second one ends the process at once.
fn stop_on_signal() -> anyhow::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<anyhow::Result<()>>();
    let f = flag.clone();
    std::thread::Builder::new()
        .name("bulwark-signals".into())
        .spawn(move || {
            runtime.block_on(async move {
                #[cfg(unix)]
                {
                    use tokio::signal::unix::{signal, SignalKind};
                    let (mut int, mut term) = match (
                        signal(SignalKind::interrupt()),
                        signal(SignalKind::terminate()),
                    ) {
                        (Ok(i), Ok(t)) => (i, t),
                        (Err(e), _) | (_, Err(e)) => {
                            let _ = ready_tx.send(Err(e.into()));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    for n in 0.. {
                        tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
                        if n > 0 {
                            std::process::exit(130);
                        }
                        f.store(true, Ordering::SeqCst);
                    }
                }
                #[cfg(not(unix))]
                {
                    let _ = ready_tx.send(Ok(()));
                    let _ = tokio::signal::ctrl_c().await;
                    f.store(true, Ordering::SeqCst);
                }
            })
        })?;
    ready_rx.recv().context("starting the signal handler")??;
    Ok(flag)
}

fn status(store: &Store, a: &TailArgs) -> anyhow::Result<ExitCode> {
    let wanted: Vec<String> = a.files.iter().map(|f| checkpoint_key(f)).collect();
    let all = store.tail_checkpoints()?;
    let shown: Vec<_> = all
        .iter()
        .filter(|c| wanted.is_empty() || wanted.contains(&c.path))
        .collect();
    for c in &shown {
        if a.json {
            println!("{}", serde_json::to_string(c)?);
        } else {
            println!(
                "{}  line {}  byte {}  read {}  malformed {}  detections {}  updated {}",
                c.path,
                c.position.line,
                c.position.offset,
                c.lines_read,
                c.malformed,
                c.detections,
                crate::fmt_ms(c.updated_at_ms)
            );
        }
    }
    if shown.is_empty() && !a.json {
        eprintln!("no followed file has a checkpoint here");
    }
    Ok(ExitCode::SUCCESS)
}

/// Marks the end of the busy span when a batch with lines has committed.
fn note_commit(lines: u64, busy: &mut Option<(Instant, Instant)>) {
    if lines > 0 {
        if let Some((_, last)) = busy.as_mut() {
            *last = Instant::now();
        }
    }
}

/// Waits for the oldest submitted batch; returns its line count.
fn settle(in_flight: &mut VecDeque<InFlight>) -> anyhow::Result<u64> {
    match in_flight.pop_front() {
        None => Ok(0),
        Some(f) => {
            f.pending
                .wait_blocking()
                .context("recording a batch's alerts and checkpoint")?;
            Ok(f.lines)
        }
    }
}

pub fn tail(a: TailArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(&a.dir.data_dir, None)
        .with_context(|| format!("opening {}", a.dir.data_dir.display()))?;
    if a.status {
        return status(&store, &a);
    }
    // The same formats as `hunt`: the built-in ones and the data directory's `formats/`.
    let formats = crate::cmd_detect::load_formats(&a.dir.data_dir)?;
    let format = match a.format.as_str() {
        "auto" => None,
        f => Some(
            formats
                .get(f)
                .map_err(|e| anyhow::anyhow!("--format: {e}"))?,
        ),
    };
    let sources = rule_sources(a.rules.as_deref(), a.with_sigmahq_web)?;
    let mut engine = crate::cmd_detect::compile_reporting(&sources);
    let opts = Options::default();
    let mut followed = Vec::new();
    for path in &a.files {
        let key = checkpoint_key(path);
        let Some(lock) = store.dir().lock_tail(&key)? else {
            bail!("{key} is already followed by another process (bulwark tail or serve --watch) on this data directory");
        };
        let checkpoint = store.tail_checkpoint(&key)?;
        let start = match &checkpoint {
            Some(c) => Start::At(
                from_stored(&c.position)
                    .with_context(|| format!("the stored checkpoint of {key} is unreadable"))?,
            ),
            None if a.from_start => Start::Beginning,
            None => Start::End,
        };
        if let Some(c) = &checkpoint {
            eprintln!(
                "{key}: continuing after line {} (byte {})",
                c.position.line, c.position.offset
            );
        }
        followed.push(Followed {
            follower: Follower::new(path, start, opts.clone()),
            format: LineFormat::with_formats(format.clone(), formats.clone()),
            after: checkpoint.map(|c| c.position),
            malformed_shown: 0,
            key,
            _lock: lock,
        });
    }
    let stop = stop_on_signal()?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut scratch = Vec::with_capacity(1024);
    let mut batch = Batch::new();
    let mut in_flight: VecDeque<InFlight> = VecDeque::new();
    let (mut lines_total, mut malformed_total, mut found) = (0u64, 0u64, 0u64);
    let mut busy: Option<(Instant, Instant)> = None;
    let poll_every = Duration::from_millis(a.poll_ms.max(1));
    while !stop.load(Ordering::SeqCst) {
        let mut any_lines = false;
        for f in &mut followed {
            let poll = f.follower.poll(&mut batch);
            for n in batch.notices() {
                if matches!(n, Notice::Opened { .. }) {
                    f.format.new_file();
                }
                eprintln!("{}: {}", f.key, describe(n));
            }
            if poll == Poll::Lines && busy.is_none() {
                let now = Instant::now();
                busy = Some((now, now));
            }
            let processed = if batch.is_empty() {
                Default::default()
            } else {
                process_batch(&mut engine, &mut f.format, &batch)
            };
            let source = batch
                .source()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| f.key.clone());
            for m in &processed.malformed {
                if f.malformed_shown < MALFORMED_SHOWN {
                    eprintln!("{source}:{}: malformed line: {}", m.line_no, m.reason);
                    f.malformed_shown += 1;
                    if f.malformed_shown == MALFORMED_SHOWN {
                        eprintln!("{}: more malformed lines not shown", f.key);
                    }
                }
            }
            let file_json = serde_json::to_string(&source)?;
            for (line_no, d) in &processed.detections {
                let shown = || format!("{source}:{line_no}");
                let place = Place {
                    file_json: Some(&file_json),
                    line: Some(*line_no),
                    access_log_id: None,
                    shown: &shown,
                };
                print_detection(&mut out, &mut scratch, d, a.json, &place)?;
            }
            lines_total += processed.lines;
            malformed_total += processed.malformed.len() as u64;
            found += processed.detections.len() as u64;
            let position = batch.position().map(to_stored);
            if let Some(position) = position.filter(|p| Some(p) != f.after.as_ref()) {
                // Printed before the commit: a crash in between prints these again
                // on restart (stdout at least once); the alerts commit exactly once.
                out.flush()?;
                let detections = processed.detections.into_iter().map(|(_, d)| d).collect();
                let job = TailBatch {
                    path: f.key.clone(),
                    after: f.after.replace(position.clone()),
                    position,
                    lines: processed.lines,
                    malformed: processed.malformed.len() as u64,
                    alerts: to_alerts(detections, &f.key, now_ms()),
                };
                in_flight.push_back(InFlight {
                    pending: store.record_tail_batch(job, ALERT_WINDOW_MS),
                    lines: processed.lines,
                });
                while in_flight.len() > IN_FLIGHT {
                    let lines = settle(&mut in_flight)?;
                    note_commit(lines, &mut busy);
                }
            }
            any_lines |= poll == Poll::Lines;
        }
        out.flush()?;
        if !any_lines {
            while !in_flight.is_empty() {
                let lines = settle(&mut in_flight)?;
                note_commit(lines, &mut busy);
            }
            let idle_since = Instant::now();
            while idle_since.elapsed() < poll_every && !stop.load(Ordering::SeqCst) {
                std::thread::sleep(poll_every.min(Duration::from_millis(25)));
            }
        }
    }
    while !in_flight.is_empty() {
        let lines = settle(&mut in_flight)?;
        note_commit(lines, &mut busy);
    }
    out.flush()?;
    drop(out);
    let secs = busy
        .map(|(first, last)| last.duration_since(first).as_secs_f64())
        .unwrap_or(0.0);
    eprintln!(
        "\nstopped: {lines_total} lines, {malformed_total} malformed, {found} detections; {secs:.2} s busy ({:.0} lines/s)",
        lines_total as f64 / secs.max(1e-9)
    );
    // The process ends next: freeing the correlation windows would only cost time.
    std::mem::forget(engine);
    Ok(ExitCode::SUCCESS)
}
