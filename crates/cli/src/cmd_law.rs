//! `bulwark laws …` and `bulwark obligations …`: the breach-law catalogue and
//! what it requires for a given set of affected people. Not legal advice.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use bulwark_law::{evaluate, lint, Catalogue, Scenario, Severity, DISCLAIMER};
use clap::{Args, Subcommand};

use crate::files::read_tree;
use crate::DataDirArg;

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
    },
}

/// The built-in catalogue with the data directory's `laws/*.toml` replacing or adding laws.
fn catalogue(dir: &DataDirArg) -> anyhow::Result<Catalogue> {
    let builtin = Catalogue::builtin().context("the built-in law catalogue does not load")?;
    let local = dir.data_dir.join("laws");
    if local.is_dir() {
        let files = read_tree(&local, &["toml"])?;
        return builtin
            .with_overrides(&files)
            .with_context(|| format!("loading {}", local.display()));
    }
    Ok(builtin)
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
        LawsCmd::Lint { path } => {
            let files = match &path {
                Some(p) => read_tree(p, &["toml"])?,
                None => bulwark_law::BUILTIN_FILES
                    .iter()
                    .map(|(p, t)| (p.to_string(), t.to_string()))
                    .collect(),
            };
            let diagnostics = lint(&files);
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
    /// An incident's scope snapshot.
    #[arg(long)]
    incident: Option<String>,
    #[arg(long)]
    json: bool,
}

pub fn obligations(a: ObligationsArgs) -> anyhow::Result<ExitCode> {
    if a.incident.is_some() {
        bail!("obligations for an incident need incidents and scope snapshots, which are not built yet; use --scenario FILE");
    }
    let Some(path) = a.scenario else {
        bail!(
            "give --scenario FILE (a JSON what-if: aware_at, encrypted, key_compromised, affected)"
        );
    };
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let scenario: Scenario = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a valid scenario: {}",
            path.display(),
            bulwark_store::describe_json_error(&e)
        )
    })?;
    let cat = catalogue(&a.dir)?;
    let eval = evaluate(&cat, &scenario)?;
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
