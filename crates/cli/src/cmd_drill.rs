//! `bulwark drill …`: the shipped and the data directory's scenarios, and a
//! rehearsal that replays a scenario's attack through the data directory's
//! own rules (nothing stored) to show which expected detections fire.

use std::process::ExitCode;

use anyhow::Context;
use bulwark_learn::drill::score::Outcome;
use bulwark_learn::drill::Scenario;
use bulwark_store::RulePacks;
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

pub fn drill(cmd: DrillCmd) -> anyhow::Result<ExitCode> {
    match cmd {
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
