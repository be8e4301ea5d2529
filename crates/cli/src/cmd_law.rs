//! `bulwark laws …` and `bulwark obligations …`: the breach-law catalogue and
//! what it requires for a given set of affected people. Not legal advice.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use bulwark_law::{
    changes, evaluate, lint_with, Catalogue, ChangeKind, LintOptions, Scenario, Severity,
    DISCLAIMER,
};
use clap::{Args, Subcommand};

use crate::DataDirArg;
use bulwark_store::read_tree;

#[derive(Subcommand)]
pub enum LawsCmd {
    /// List the laws in the catalogue (built in, plus the data directory's laws/).
    List {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long)]
        json: bool,
    },
    /// Show one law as the engine reads it.
    Show {
        #[command(flatten)]
        dir: DataDirArg,
        /// Law id, e.g. US-CA or EU.
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Check law files (default: the built-in catalogue).
    Lint {
        /// A directory of law TOML files.
        path: Option<PathBuf>,
        /// Also fail on the review rules: an obligation without a citation, no
        /// amendments list, an `effective` older than the newest amendment in
        /// force, a review more than 12 months old, a confidence below high
        /// without `unverified` notes.
        #[arg(long)]
        strict: bool,
        /// The date review ages are measured at (default: today, UTC).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
        today: Option<time::Date>,
    },
    /// What changed since a date: amendments that took effect, what reviews
    /// changed in the files, which files were reviewed. For counsel to read.
    Changes {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
        since: time::Date,
        #[arg(long)]
        json: bool,
    },
}

/// A `YYYY-MM-DD` flag (clap value parser).
pub(crate) fn parse_day(s: &str) -> Result<time::Date, String> {
    bulwark_model::parse_date(s).ok_or_else(|| format!("`{s}` is not a date as YYYY-MM-DD"))
}

/// The built-in catalogue with the data directory's `laws/*.toml` replacing or adding laws.
pub(crate) fn catalogue(dir: &DataDirArg) -> anyhow::Result<Catalogue> {
    Ok(dir.files().laws()?)
}

pub fn laws(c: LawsCmd) -> anyhow::Result<ExitCode> {
    match c {
        LawsCmd::List { dir, json } => {
            let cat = catalogue(&dir)?;
            for law in cat.laws() {
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"id": law.id, "name": law.name, "citation": law.citation,
                            "last_reviewed": law.last_reviewed, "confidence": law.confidence})
                    );
                } else {
                    println!(
                        "{:<10} {:<12} reviewed {}  {}",
                        law.id,
                        serde_json::to_value(law.confidence)?.as_str().unwrap_or(""),
                        law.last_reviewed,
                        law.name
                    );
                }
            }
            if !json {
                eprintln!("{DISCLAIMER}");
            }
        }
        LawsCmd::Show { dir, id, json } => {
            let cat = catalogue(&dir)?;
            let Some(law) = cat.get(&id) else {
                bail!("no law with id `{id}` (see `bulwark laws list`)");
            };
            if json {
                println!("{}", serde_json::to_string(law)?);
            } else {
                println!(
                    "{} — {}\ncitation: {}\nreviewed {} (confidence {})\n",
                    law.id,
                    law.name,
                    law.citation,
                    law.last_reviewed,
                    serde_json::to_value(law.confidence)?.as_str().unwrap_or("")
                );
                println!("{}", serde_json::to_string_pretty(law)?);
                eprintln!("{DISCLAIMER}");
            }
        }
        LawsCmd::Changes { dir, since, json } => {
            let cat = catalogue(&dir)?;
            let found = changes(cat.laws(), since);
            if json {
                for c in &found {
                    println!("{}", serde_json::to_string(c)?);
                }
            } else {
                for c in &found {
                    let kind = match c.kind {
                        ChangeKind::Amendment => "law amended",
                        ChangeKind::Catalogue => "file changed",
                        ChangeKind::Review => "reviewed",
                    };
                    let act = c
                        .act
                        .as_deref()
                        .map(|a| format!("{a}: "))
                        .unwrap_or_default();
                    println!("{}  {:<10} {:<13} {act}{}", c.date, c.law, kind, c.summary);
                }
                println!("{} change(s) since {since}", found.len());
                eprintln!("{DISCLAIMER}");
            }
        }
        LawsCmd::Lint {
            path,
            strict,
            today,
        } => {
            let files = match &path {
                Some(p) => read_tree(p, &["toml"])?,
                None => bulwark_law::BUILTIN_FILES
                    .iter()
                    .map(|(p, t)| (p.to_string(), t.to_string()))
                    .collect(),
            };
            let today = today.unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
            let diagnostics = lint_with(
                &files,
                LintOptions {
                    strict,
                    today: Some(today),
                },
            );
            for d in &diagnostics {
                println!("{d}");
            }
            let errors = diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count();
            println!(
                "{} file(s), {} error(s), {} warning(s)",
                files.len(),
                errors,
                diagnostics.len() - errors
            );
            return Ok(if errors > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct ObligationsArgs {
    #[command(flatten)]
    dir: DataDirArg,
    /// A what-if scenario (JSON): aware_at, encrypted, key_compromised, affected[…].
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// An incident: its latest scope snapshot and awareness time; the obligations
    /// become tasks on it with their deadlines.
    #[arg(long, conflicts_with = "scenario")]
    incident: Option<u64>,
    /// A regulator the store answers to beyond its customers' laws (e.g.
    /// `NY-DFS` for 23 NYCRR 500.17); repeatable, added to the scenario's
    /// `regulated_by`.
    #[arg(long = "regulated-by", value_name = "CODE")]
    regulated_by: Vec<String>,
    #[arg(long)]
    json: bool,
}

pub fn obligations(a: ObligationsArgs) -> anyhow::Result<ExitCode> {
    let (mut scenario, incident) = match (a.incident, &a.scenario) {
        (Some(id), _) => (incident_scenario(&a.dir, id)?, Some(id)),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let s: Scenario = serde_json::from_str(&text).map_err(|e| {
                anyhow::anyhow!(
                    "{} is not a valid scenario: {}",
                    path.display(),
                    bulwark_store::describe_json_error(&e)
                )
            })?;
            (s, None)
        }
        (None, None) => bail!(
            "give --scenario FILE (a JSON what-if) or --incident N (its latest scope snapshot)"
        ),
    };
    scenario.regulated_by.extend(a.regulated_by);
    let cat = catalogue(&a.dir)?;
    let eval = evaluate(&cat, &scenario)?;
    if let Some(id) = incident {
        let store = bulwark_store::Store::open(&a.dir.data_dir, None)?;
        let tasks = bulwark_store::obligation_tasks(
            id,
            &eval,
            scenario.aware_at,
            time::OffsetDateTime::now_utc(),
        );
        let added = store
            .upsert_tasks(id, tasks, &crate::operator().id)
            .wait_blocking()?;
        eprintln!("{added} new notification task(s) on incident {id} (bulwark incident show {id})");
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&eval)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<25} {:<15} {:<28} {:>8}  {:<22} standard",
        "deadline", "where", "recipient", "count", "citation"
    );
    for o in &eval.obligations {
        let deadline = match o.deadline {
            Some(d) => d.format(&time::format_description::well_known::Rfc3339)?,
            None => match o.recommended_target {
                Some(t) => format!("(target {})", t.date()),
                None => "without undue delay".into(),
            },
        };
        println!(
            "{:<25} {:<15} {:<28} {:>8}  {:<22} {}",
            deadline,
            o.jurisdiction,
            serde_json::to_value(o.recipient)?.as_str().unwrap_or(""),
            o.count,
            o.citation.chars().take(22).collect::<String>(),
            o.standard
        );
    }
    if !eval.not_triggered.is_empty() {
        println!("\nNo obligation:");
        for n in &eval.not_triggered {
            println!("  {:<10} {:>8}  {}", n.jurisdiction, n.count, n.reason);
        }
    }
    println!("\n{}", eval.disclaimer);
    Ok(ExitCode::SUCCESS)
}

/// The scenario of an incident: its latest scope snapshot and its awareness time.
pub(crate) fn incident_scenario(dir: &DataDirArg, id: u64) -> anyhow::Result<Scenario> {
    let store = bulwark_store::Store::open(&dir.data_dir, None)?;
    let Some((version, scenario)) = store.incident_scenario(id)? else {
        bail!("incident {id} has no scope yet: run `bulwark scope --incident {id} --principal … --since …`");
    };
    eprintln!("incident {id}, scope v{version}");
    Ok(scenario)
}
