//! `bulwark access-review …`: the periodic review of every API key and
//! operator account (PCI DSS 7.2.4, 8.2.6). `list` shows each account with its
//! grants and last use, 90-day-inactive first; `sign-off` applies a file of
//! decisions as the signed-in operator (`bulwark login`), who must hold the
//! owner roles of the duties the review completes. A refused sign-off
//! changes nothing.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use bulwark_store::{AccountDecision, ReviewDecision, SignOffError, Store};
use clap::Subcommand;
use serde::Deserialize;

use crate::{fmt_ms, DataDirArg};

#[derive(Subcommand)]
pub enum AccessReviewCmd {
    /// Every live API key and operator with grants and last use, inactive first.
    List {
        #[command(flatten)]
        dir: DataDirArg,
        /// One JSON object per account.
        #[arg(long)]
        json: bool,
    },
    /// Sign off the review with a decision for every listed account, as the
    /// operator signed in with `bulwark login`.
    SignOff {
        #[command(flatten)]
        dir: DataDirArg,
        /// A JSON (`.json`) or TOML (`.toml`) file: a list of
        /// {account, decision = keep|revoke, reason}; in TOML, `[[decisions]]` tables.
        #[arg(long, value_name = "FILE")]
        decisions: PathBuf,
    },
}

/// One line of the decisions file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDecision {
    /// `key:<id>` or `operator:<id>`, as `access-review list` shows.
    account: String,
    decision: ReviewDecision,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionsFile {
    decisions: Vec<FileDecision>,
}

/// Reads the decisions file; errors name the file and where, never a value.
fn read_decisions(path: &Path) -> anyhow::Result<Vec<AccountDecision>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the decisions file {}", path.display()))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let list = match ext.as_deref() {
        Some("toml") => {
            toml::from_str::<DecisionsFile>(&text)
                .map_err(|e| {
                    anyhow::anyhow!(
                        "{}: {} (expected `[[decisions]]` tables with account, decision = \"keep\" or \"revoke\", reason)",
                        path.display(),
                        e.message().trim_end()
                    )
                })?
                .decisions
        }
        Some("json") => {
            // A bare list, or an object with `decisions`.
            let parsed = if text.trim_start().starts_with('[') {
                serde_json::from_str::<Vec<FileDecision>>(&text)
            } else {
                serde_json::from_str::<DecisionsFile>(&text).map(|f| f.decisions)
            };
            parsed.map_err(|e| {
                anyhow::anyhow!(
                    "{}:{}:{}: {} (expected a list of {{\"account\", \"decision\": \"keep\" or \"revoke\", \"reason\"}})",
                    path.display(),
                    e.line(),
                    e.column(),
                    bulwark_store::describe_json_error(&e)
                )
            })?
        }
        _ => bail!(
            "{}: the decisions file must end in .json or .toml",
            path.display()
        ),
    };
    Ok(list
        .into_iter()
        .map(|d| AccountDecision {
            subject: d.account,
            decision: d.decision,
            reason: d.reason,
        })
        .collect())
}

pub fn access_review(c: AccessReviewCmd) -> anyhow::Result<ExitCode> {
    match c {
        AccessReviewCmd::List { dir, json } => {
            let store = Store::open(&dir.data_dir, None)?;
            let items = store.access_review()?;
            if json {
                for i in &items {
                    println!("{}", serde_json::to_string(i)?);
                }
            } else {
                for i in &items {
                    let last = i.last_used_ms.map(fmt_ms).unwrap_or_else(|| "never".into());
                    println!(
                        "{:<9} {:<40} {:<24} last used {last} ({} days idle){}",
                        if i.inactive { "INACTIVE" } else { "active" },
                        i.subject,
                        i.name,
                        i.idle_days,
                        if i.unexercised.is_empty() {
                            String::new()
                        } else {
                            format!("; never used: {}", i.unexercised.join(", "))
                        }
                    );
                    println!("          grants: {}", i.grants.join(", "));
                }
                let inactive = items.iter().filter(|i| i.inactive).count();
                println!(
                    "{} account(s), {inactive} inactive for {} days or more; decide each with `bulwark access-review sign-off --decisions FILE`",
                    items.len(),
                    bulwark_store::INACTIVE_DAYS
                );
            }
        }
        AccessReviewCmd::SignOff { dir, decisions } => {
            let decisions = read_decisions(&decisions)?;
            let calendar = dir.files().compliance()?;
            let store = Store::open(&dir.data_dir, None)?;
            let me = crate::cmd_login::signed_in(&store, &dir, "signing off the access review")?;
            me.require_fresh("signing off the access review")?;
            let op = &me.session.operator;
            let out = match store.sign_off_review(&calendar, decisions, &op.id).wait_blocking() {
                Ok(out) => out,
                Err(SignOffError::NotOwner { duty, owner }) => bail!(
                    "not signed off, nothing changed: operator `{}` does not hold the owner role `{owner}` of duty `{duty}`",
                    op.id
                ),
                Err(SignOffError::Undecided(n)) => bail!(
                    "not signed off, nothing changed: {n} account(s) on the review have no decision (see `bulwark access-review list`)"
                ),
                Err(e) => {
                    return Err(anyhow::Error::new(e).context("not signed off, nothing changed"))
                }
            };
            println!(
                "access review signed off by {} ({}): {} key(s) revoked, {} operator(s) disabled, {} session(s) ended; completes {}",
                op.name,
                op.id,
                out.keys_revoked,
                out.operators_disabled,
                out.sessions_ended,
                out.duties.join(", ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
