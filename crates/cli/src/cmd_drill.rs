//! `bulwark drill …`: the shipped and the data directory's scenarios; a
//! rehearsal that replays a scenario's attack through the data directory's
//! own rules (nothing stored) to show which expected detections fire; and
//! drill runs against the `serve` of the same data directory — start, follow,
//! stop, resume, and the after-action report.

use std::process::ExitCode;

use anyhow::Context;
use bulwark_learn::drill::report::ReportFormat;
use bulwark_learn::drill::score::Outcome;
use bulwark_learn::drill::Scenario;
use bulwark_server::drill_runner::current_score;
use bulwark_store::{DrillRun, DrillState, RulePacks, Store};
use clap::Subcommand;

use crate::DataDirArg;

#[derive(Subcommand)]
pub enum DrillCmd {
    /// The scenarios: shipped ones and the data directory's `scenarios/*.yaml`.
    List {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long)]
        json: bool,
    },
    /// Replays each scenario's injects through the data directory's rules
    /// (as `serve` loads them) in memory and reports, per expected detection,
    /// whether it fired and when. Exits with 1 when one does not fire.
    Check {
        #[command(flatten)]
        dir: DataDirArg,
        /// Scenario ids (default: all).
        scenarios: Vec<String>,
        /// Run this many times faster than the scenario's time (default: the scenario's time_scale).
        #[arg(long, value_parser = parse_speed)]
        speed: Option<u32>,
        #[arg(long)]
        json: bool,
    },
    /// Starts a drill run; the `serve` of this data directory runs it (its
    /// runner drives every running drill). Follows it to the end unless
    /// `--detach`, printing the score; Ctrl-C leaves it running.
    Run {
        #[command(flatten)]
        dir: DataDirArg,
        scenario: String,
        /// Times faster than scenario time, `10x` (default: the scenario's time_scale).
        #[arg(long, value_parser = parse_speed)]
        speed: Option<u32>,
        /// Start it and return at once (prints the run number).
        #[arg(long)]
        detach: bool,
        #[arg(long)]
        json: bool,
    },
    /// Runs: all (newest first), or one with its score so far.
    Status {
        #[command(flatten)]
        dir: DataDirArg,
        run: Option<u64>,
        #[arg(long)]
        json: bool,
    },
    /// Stops a running drill: nothing more is sent, its clock stands still.
    Stop {
        #[command(flatten)]
        dir: DataDirArg,
        run: u64,
    },
    /// Resumes a stopped drill where it was.
    Resume {
        #[command(flatten)]
        dir: DataDirArg,
        run: u64,
    },
    /// The improvement plans of finished runs: open items by due date.
    Improvements {
        #[command(flatten)]
        dir: DataDirArg,
        /// Done items too.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// Records an improvement item done, with what was changed.
    Improved {
        #[command(flatten)]
        dir: DataDirArg,
        item: i64,
        #[arg(long)]
        note: String,
    },
    /// The after-action report and improvement plan of a run.
    Report {
        #[command(flatten)]
        dir: DataDirArg,
        run: u64,
        /// `md` or `html`.
        #[arg(long, default_value = "md")]
        format: String,
        /// Write it here instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

/// `60`, `60x` or `60×`.
pub fn parse_speed(s: &str) -> Result<u32, String> {
    let t = s.trim().trim_end_matches(['x', 'X', '×']);
    match t.parse::<u32>() {
        Ok(n) if (1..=10_000).contains(&n) => Ok(n),
        _ => Err("expected a speed from 1x to 10000x, e.g. `60x`".into()),
    }
}

fn chosen<'a>(
    set: &'a bulwark_learn::drill::ScenarioSet,
    ids: &[String],
) -> anyhow::Result<Vec<&'a Scenario>> {
    if ids.is_empty() {
        return Ok(set.scenarios().collect());
    }
    ids.iter()
        .map(|id| {
            set.get(id).with_context(|| {
                let known: Vec<&str> = set.scenarios().map(|s| s.id.as_str()).collect();
                format!("no scenario `{id}`; known: {}", known.join(", "))
            })
        })
        .collect()
}

fn mins(ms: Option<i64>) -> String {
    ms.map_or("—".into(), |ms| {
        format!("{}m{:02}s", ms / 60_000, (ms / 1000) % 60)
    })
}

fn print_run(store: &Store, run: &DrillRun, json: bool) -> anyhow::Result<()> {
    let now = now_ms();
    let (scenario, score) = current_score(store, run, now)?;
    if json {
        let v = serde_json::json!({"run": run, "title": scenario.title, "incidents": store.drill_incidents(run.id)?, "score": score});
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!(
        "drill {} — {} ({}, {}x, started by {})",
        run.id,
        scenario.title,
        run.state.code(),
        run.speed,
        run.started_by
    );
    println!(
        "  injects sent: {}/{}   incidents: {:?}",
        run.fired.len(),
        scenario.injects.len(),
        store.drill_incidents(run.id)?
    );
    println!(
        "  time to detect {} (target {}), time to contain {} (target {})",
        mins(score.ttd_ms),
        mins(Some(score.ttd_target_ms)),
        mins(score.ttc_ms),
        mins(Some(score.ttc_target_ms))
    );
    for d in score.detections.iter().chain(&score.actions) {
        println!(
            "  {:<7} {} ({}){}",
            d.outcome.as_str(),
            d.what,
            d.role,
            d.by.as_deref()
                .map(|b| format!(" by {b}"))
                .unwrap_or_default()
        );
    }
    for o in &score.objectives {
        println!("  objective {:<28} {:?}", o.id, o.rating);
    }
    println!("  points {}/{}", score.earned, score.possible);
    Ok(())
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Waits for `run` to end, printing progress; gives up (stopping the run)
/// when no `serve` takes it up.
fn follow(store: &Store, id: u64) -> anyhow::Result<DrillRun> {
    let began = std::time::Instant::now();
    let mut seen = 0usize;
    loop {
        let run = store.drill_run(id)?;
        if run.state == DrillState::Finished {
            return Ok(run);
        }
        if run.heartbeat_ms.is_none() && began.elapsed() > std::time::Duration::from_secs(15) {
            store
                .stop_drill(id, &crate::operator().id)
                .wait_blocking()?;
            anyhow::bail!(
                "no `bulwark serve` is running drills on this data directory (run {id} was not taken up in 15 s); it is stopped: start `bulwark serve` and `bulwark drill resume {id}`"
            );
        }
        if run.fired.len() > seen {
            for f in &run.fired[seen..] {
                eprintln!("  inject {} sent", f.inject);
            }
            seen = run.fired.len();
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
}

pub fn drill(cmd: DrillCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        DrillCmd::Run {
            dir,
            scenario,
            speed,
            detach,
            json,
        } => {
            let set = dir.files().scenarios()?;
            let s = chosen(&set, std::slice::from_ref(&scenario))?[0];
            let speed = speed.unwrap_or(s.time_scale);
            let store = Store::open(&dir.data_dir, None)?;
            let id = store
                .start_drill(
                    &s.id,
                    serde_json::to_string(s)?,
                    speed,
                    &crate::operator().id,
                )
                .wait_blocking()?;
            eprintln!(
                "drill {id} started: {} at {speed}x (everything it creates is marked as drill)",
                s.title
            );
            if detach {
                println!("{id}");
                return Ok(ExitCode::SUCCESS);
            }
            let run = follow(&store, id)?;
            print_run(&store, &run, json)?;
            Ok(ExitCode::SUCCESS)
        }
        DrillCmd::Status { dir, run, json } => {
            let store = Store::open(&dir.data_dir, None)?;
            match run {
                Some(id) => print_run(&store, &store.drill_run(id)?, json)?,
                None => {
                    let runs = store.drill_runs(100)?;
                    if json {
                        println!("{}", serde_json::to_string_pretty(&runs)?);
                    } else if runs.is_empty() {
                        println!("no drill runs yet (`bulwark drill run SCENARIO`)");
                    }
                    if !json {
                        for r in &runs {
                            println!(
                                "{:>4}  {:<9} {:<24} {:>5}x  started {}",
                                r.id,
                                r.state.code(),
                                r.scenario_id,
                                r.speed,
                                bulwark_server::drill_runner::rfc3339(r.started_ms)
                            );
                        }
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        DrillCmd::Stop { dir, run } => {
            let store = Store::open(&dir.data_dir, None)?;
            store
                .stop_drill(run, &crate::operator().id)
                .wait_blocking()?;
            println!("drill {run} stopped; `bulwark drill resume {run}` carries on");
            Ok(ExitCode::SUCCESS)
        }
        DrillCmd::Resume { dir, run } => {
            let store = Store::open(&dir.data_dir, None)?;
            store
                .resume_drill(run, &crate::operator().id)
                .wait_blocking()?;
            println!("drill {run} resumed");
            Ok(ExitCode::SUCCESS)
        }
        DrillCmd::Improvements { dir, all, json } => {
            let store = Store::open(&dir.data_dir, None)?;
            let items = store.drill_improvements(all)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&items)?);
            } else if items.is_empty() {
                println!("no open improvement items");
            }
            if !json {
                let now = now_ms();
                for i in &items {
                    let state = match i.done_ms {
                        Some(_) => "done".to_owned(),
                        None if i.due_ms < now => "OVERDUE".to_owned(),
                        None => "open".to_owned(),
                    };
                    println!(
                        "{:>4}  {:<8} due {}  {:<18} drill {}: {}",
                        i.id,
                        state,
                        bulwark_server::drill_runner::rfc3339(i.due_ms)
                            .get(..10)
                            .unwrap_or("?"),
                        i.owner,
                        i.run_id,
                        i.title
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        DrillCmd::Improved { dir, item, note } => {
            let store = Store::open(&dir.data_dir, None)?;
            store
                .complete_improvement(item, note, &crate::operator().id)
                .wait_blocking()?;
            println!("improvement item {item} recorded done");
            Ok(ExitCode::SUCCESS)
        }
        DrillCmd::Report {
            dir,
            run,
            format,
            out,
        } => {
            let format = match format.as_str() {
                "md" => ReportFormat::Markdown,
                "html" => ReportFormat::Html,
                other => anyhow::bail!("--format is md or html, not `{other}`"),
            };
            let store = Store::open(&dir.data_dir, None)?;
            let text = bulwark_server::drill_runner::report(
                &store,
                &store.drill_run(run)?,
                format,
                now_ms(),
            )?;
            match out {
                Some(p) => {
                    std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
                    eprintln!("wrote {}", p.display());
                }
                None => print!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        DrillCmd::List { dir, json } => {
            let set = dir.files().scenarios()?;
            if json {
                let rows: Vec<_> = set
                    .scenarios()
                    .map(|s| serde_json::json!({"id": s.id, "title": s.title, "mode": s.mode, "duration": s.duration, "time_scale": s.time_scale, "injects": s.injects.len(), "expected_detections": s.expected_detections.len(), "expected_actions": s.expected_actions.len()}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for s in set.scenarios() {
                    println!(
                        "{:<24} {:<9} {:>4} {:>2} injects  {}",
                        s.id,
                        format!("{:?}", s.mode).to_lowercase(),
                        s.duration,
                        s.injects.len(),
                        s.title
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        DrillCmd::Check {
            dir,
            scenarios,
            speed,
            json,
        } => {
            let files = dir.files();
            let set = files.scenarios()?;
            let rules = files.rules(RulePacks::default())?;
            let formats = files.formats()?;
            let mut all_fired = true;
            let mut out = Vec::new();
            let start = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
            for s in chosen(&set, &scenarios)? {
                // A fresh engine per scenario: one scenario's windows never count another's events.
                let mut engine = rules.load().0.compile();
                let speed = speed.unwrap_or(s.time_scale);
                let r = bulwark_server::drill::rehearse(s, speed, &mut engine, &formats, start)
                    .with_context(|| format!("scenario {}", s.id))?;
                let ok = r
                    .score
                    .detections
                    .iter()
                    .all(|d| d.outcome != Outcome::Missed);
                all_fired &= ok;
                if json {
                    out.push(serde_json::json!({"scenario": s.id, "speed": speed, "events": r.events, "ttd_ms": r.score.ttd_ms, "detections": r.score.detections, "alerts": r.alerts}));
                    continue;
                }
                println!("{} — {} ({} events at {speed}x)", s.id, s.title, r.events);
                if s.expected_detections.is_empty() {
                    println!("  (tabletop: no detections expected)");
                }
                for d in &r.score.detections {
                    println!(
                        "  {:<7} {} (at {}, due {})",
                        d.outcome.as_str(),
                        d.id,
                        mins(d.at_ms),
                        mins(d.due_ms)
                    );
                }
                let extra: Vec<&str> = r
                    .alerts
                    .iter()
                    .filter(|a| {
                        !s.expected_detections.iter().any(|d| {
                            d.rule.eq_ignore_ascii_case(&a.rule_title) || d.rule == a.rule_id
                        })
                    })
                    .map(|a| a.rule_title.as_str())
                    .collect();
                if !extra.is_empty() {
                    println!("  also fired: {}", extra.join("; "));
                }
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&out)?);
            }
            Ok(if all_fired {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
