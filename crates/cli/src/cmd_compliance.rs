//! `bulwark compliance …`: the calendar of recurring duties (PCI DSS cadences,
//! the plan's quarterly review) — what is due, what is overdue, and recording
//! a duty as done with its evidence.

use std::process::ExitCode;

use anyhow::Context;
use bulwark_learn::{DutyState, EvidenceKind};
use bulwark_store::{Completion, Store};
use clap::{Subcommand, ValueEnum};

use crate::{operator, DataDirArg};

#[derive(Subcommand)]
pub enum ComplianceCmd {
    /// Every duty with its last completion and due date, overdue first. Exits
    /// with 3 when any duty is overdue, so a cron job can alert on it.
    Status {
        #[command(flatten)]
        dir: DataDirArg,
        /// The day to measure at (default: today, UTC).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
        today: Option<time::Date>,
        #[arg(long)]
        json: bool,
    },
    /// Record a duty as done, with the kind of evidence and where it is.
    Complete {
        #[command(flatten)]
        dir: DataDirArg,
        /// The duty's id (see `compliance status`).
        duty: String,
        #[arg(long, value_enum)]
        evidence: Evidence,
        /// A note on the evidence: the scanning vendor, a run id, the meeting.
        #[arg(long = "ref", value_name = "TEXT")]
        reference: Option<String>,
        /// The document itself (a scan report, minutes), copied into the
        /// evidence locker by its SHA-256. Required for `scan-report` and
        /// `document` evidence.
        #[arg(long, value_name = "PATH")]
        file: Option<std::path::PathBuf>,
        /// The day it was done (default: today, UTC).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
        on: Option<time::Date>,
    },
    /// What was recorded as done, newest first, with each document's hash.
    History {
        #[command(flatten)]
        dir: DataDirArg,
        /// Only this duty.
        duty: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Copy a completion's document out of the evidence locker (its hash is
    /// checked; the access is ledgered).
    Document {
        #[command(flatten)]
        dir: DataDirArg,
        /// The completion's number (see `compliance history`).
        completion: u64,
        /// Where to write it (a new file).
        #[arg(short = 'o', long = "out", value_name = "PATH")]
        out: std::path::PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Evidence {
    DrillRun,
    AccessReview,
    TrainingRecord,
    ScanReport,
    LogReview,
    PageCheck,
    Document,
}

impl From<Evidence> for EvidenceKind {
    fn from(e: Evidence) -> Self {
        match e {
            Evidence::DrillRun => EvidenceKind::DrillRun,
            Evidence::AccessReview => EvidenceKind::AccessReview,
            Evidence::TrainingRecord => EvidenceKind::TrainingRecord,
            Evidence::ScanReport => EvidenceKind::ScanReport,
            Evidence::LogReview => EvidenceKind::LogReview,
            Evidence::PageCheck => EvidenceKind::PageCheck,
            Evidence::Document => EvidenceKind::Document,
        }
    }
}

use crate::cmd_law::parse_day;

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

pub fn compliance(c: ComplianceCmd) -> anyhow::Result<ExitCode> {
    match c {
        ComplianceCmd::Status {
            dir,
            today: at,
            json,
        } => {
            let calendar = dir.files().compliance()?;
            let store = Store::open(&dir.data_dir, None)?;
            let day = at.unwrap_or_else(today);
            let rows = store.compliance_status(&calendar, day)?;
            let tasks = bulwark_incident::finding_tasks(&dir.files().assets()?, day);
            let overdue = rows
                .iter()
                .filter(|r| r.status.state == DutyState::Overdue)
                .count()
                + tasks.iter().filter(|t| t.days_overdue > 0).count();
            if json {
                for r in &rows {
                    println!("{}", serde_json::to_string(r)?);
                }
                for t in &tasks {
                    println!("{}", serde_json::json!({ "finding": t }));
                }
            } else {
                for r in &rows {
                    let state = match r.status.state {
                        DutyState::Overdue => format!("OVERDUE {} d", r.status.days_overdue),
                        DutyState::DueSoon => "due soon".into(),
                        DutyState::Upcoming => "ok".into(),
                    };
                    let last = r
                        .last_completed
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "never".into());
                    println!(
                        "{:<14} due {}  last {:<10}  {:<10} {:<13} {}  [{}]",
                        state, r.status.due, last, r.owner, r.cadence, r.title, r.requirement
                    );
                }
                for t in &tasks {
                    let state = if t.days_overdue > 0 {
                        format!("OVERDUE {} d", t.days_overdue)
                    } else {
                        "open".into()
                    };
                    println!(
                        "{:<14} due {}  found {:<10}  {:<10} {:<13} fix {} in {} {}.{}  [{}]",
                        state,
                        t.due,
                        t.first_seen,
                        t.owner,
                        t.severity,
                        t.code,
                        t.asset,
                        t.table,
                        t.column,
                        t.requirement
                    );
                }
                println!(
                    "{} duties and {} open findings of discovery on {day}, {overdue} overdue; a finding closes when a re-scan (`bulwark discover … --save-asset`) no longer finds it; not legal or assessor advice",
                    rows.len(),
                    tasks.len()
                );
            }
            return Ok(if overdue > 0 {
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            });
        }
        ComplianceCmd::Complete {
            dir,
            duty,
            evidence,
            reference,
            file,
            on,
        } => {
            let calendar = dir.files().compliance()?;
            let store = Store::open(&dir.data_dir, None)?;
            let day = today();
            let on = on.unwrap_or(day);
            let actor = operator().id;
            let completion = Completion {
                duty: duty.clone(),
                on,
                evidence: evidence.into(),
                reference,
            };
            match &file {
                None => store.complete_duty(&calendar, completion, day, &actor),
                Some(path) => {
                    store.complete_duty_with_document(&calendar, completion, path, day, &actor)
                }
            }
            .with_context(|| {
                format!(
                    "recording `{}` as done",
                    duty.chars().take(64).collect::<String>()
                )
            })?;
            let due = calendar
                .get(&duty)
                .and_then(|d| d.cadence.next_after(on))
                .map(|d| d.to_string())
                .unwrap_or_default();
            println!("{duty} done on {on}; next due {due}");
        }
        ComplianceCmd::History { dir, duty, json } => {
            let store = Store::open(&dir.data_dir, None)?;
            let rows = store.completions(duty.as_deref())?;
            if json {
                for r in &rows {
                    println!("{}", serde_json::to_string(r)?);
                }
            } else if rows.is_empty() {
                println!("nothing recorded as done (drills, access reviews and training count on their own; see `compliance status`)");
            }
            if !json {
                for r in &rows {
                    let evidence = serde_json::to_value(r.evidence)?;
                    let doc = r
                        .document
                        .as_ref()
                        .map(|d| format!("  {} ({} bytes, sha256 {})", d.name, d.size, d.sha256))
                        .unwrap_or_default();
                    println!(
                        "#{:<4} {}  {:<32} {:<16} {}{}{}",
                        r.id,
                        r.on,
                        r.duty,
                        evidence.as_str().unwrap_or_default(),
                        r.actor,
                        r.reference
                            .as_deref()
                            .map(|x| format!("  \"{x}\""))
                            .unwrap_or_default(),
                        doc
                    );
                }
            }
        }
        ComplianceCmd::Document {
            dir,
            completion,
            out,
        } => {
            let store = Store::open(&dir.data_dir, None)?;
            let r = store
                .completion_document(completion, &out, &operator().id)
                .with_context(|| format!("reading the document of completion {completion}"))?;
            let doc = r.document.map(|d| d.sha256).unwrap_or_default();
            println!("{} (sha256 {doc}, checked)", out.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
