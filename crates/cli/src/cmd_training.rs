//! `bulwark training …`: security-awareness training (PCI DSS 12.6.3). The
//! machine owner assigns modules (`assign`) and reads the record (`status`);
//! an operator signed in with `bulwark login` takes a module at the terminal
//! (`take`): the lesson, the quiz question by question, the policy
//! acknowledgement, then the grade — the attempt graded by the module itself
//! and recorded with the acknowledgement.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::{bail, Context};
use bulwark_learn::TrainingState;
use bulwark_model::Role;
use bulwark_store::Store;
use clap::{ArgGroup, Subcommand};

use crate::{operator, DataDirArg};

#[derive(Subcommand)]
pub enum TrainingCmd {
    /// Assign a module (or every module for them) to everyone holding a
    /// team role, or to one operator.
    #[command(group(ArgGroup::new("whom").required(true).args(["role", "operator"])))]
    Assign {
        #[command(flatten)]
        dir: DataDirArg,
        /// A team role code: incident_commander, security_lead, legal,
        /// pr_comms, customer_service, executive_sponsor.
        #[arg(long, value_parser = parse_role)]
        role: Option<Role>,
        /// One operator's id.
        #[arg(long)]
        operator: Option<String>,
        /// The module's id (see `training status`); every module for them when absent.
        #[arg(long)]
        module: Option<String>,
    },
    /// Every assignment with its due date and status, overdue first. Exits
    /// with 3 when any is overdue.
    Status {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long)]
        json: bool,
    },
    /// Take a module as the operator signed in with `bulwark login`: read the
    /// lesson, answer the quiz (choice numbers, one a line, from the terminal
    /// or stdin), acknowledge the policy. Exits 1 when the attempt fails.
    Take {
        #[command(flatten)]
        dir: DataDirArg,
        /// The module's id.
        module: String,
    },
}

fn parse_role(v: &str) -> Result<Role, String> {
    Role::ALL
        .iter()
        .copied()
        .find(|r| r.code() == v)
        .ok_or_else(|| {
            let codes: Vec<&str> = Role::ALL.iter().map(|r| r.code()).collect();
            format!("not a team role; one of {}", codes.join(", "))
        })
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// Reads the next non-empty line; `None` at the end of input.
fn next_line(input: &mut impl BufRead) -> anyhow::Result<Option<String>> {
    loop {
        let mut line = String::new();
        if input.read_line(&mut line).context("reading an answer")? == 0 {
            return Ok(None);
        }
        let t = line.trim();
        if !t.is_empty() {
            return Ok(Some(t.to_owned()));
        }
    }
}

/// A choice from 1 to `n`, asked again (at most 3 times) when it is not one.
fn ask_choice(input: &mut impl BufRead, n: usize) -> anyhow::Result<usize> {
    for _ in 0..3 {
        print!("Your answer (1-{n}): ");
        std::io::stdout().flush()?;
        let Some(line) = next_line(input)? else {
            bail!("the input ended before the quiz did; nothing was recorded");
        };
        match line.parse::<usize>() {
            Ok(k) if (1..=n).contains(&k) => return Ok(k - 1),
            _ => println!("Answer with a number from 1 to {n}."),
        }
    }
    bail!("no answer from 1 to {n} after three tries; nothing was recorded")
}

pub fn training(c: TrainingCmd) -> anyhow::Result<ExitCode> {
    match c {
        TrainingCmd::Assign {
            dir,
            role,
            operator: op,
            module,
        } => {
            let set = dir.files().training()?;
            let store = Store::open(&dir.data_dir, None)?;
            let actor = operator().id;
            let day = today();
            let added = match (role, op) {
                (Some(r), _) => {
                    store.assign_training_to_role(&set, r, module.as_deref(), day, day, &actor)?
                }
                (None, Some(o)) => store.assign_training_to_operator(
                    &set,
                    &o,
                    module.as_deref(),
                    day,
                    day,
                    &actor,
                )?,
                (None, None) => bail!("give --role or --operator"),
            };
            println!("{added} new assignment(s) from {day}; existing ones keep their dates");
        }
        TrainingCmd::Status { dir, json } => {
            let set = dir.files().training()?;
            let store = Store::open(&dir.data_dir, None)?;
            let day = today();
            let rows = store.training_status(&set, day)?;
            let overdue = rows
                .iter()
                .filter(|r| r.state == TrainingState::Overdue)
                .count();
            if json {
                for r in &rows {
                    println!("{}", serde_json::to_string(r)?);
                }
            } else {
                for r in &rows {
                    let state = match r.state {
                        TrainingState::Overdue => format!("OVERDUE {} d", r.days_overdue),
                        TrainingState::DueSoon => "due soon".into(),
                        TrainingState::Current => "current".into(),
                    };
                    let passed = r
                        .last_passed
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "never".into());
                    println!(
                        "{state:<14} due {}  {:<16} {:<20} passed {passed:<10} failed {} {}",
                        r.due,
                        r.person,
                        r.module,
                        r.failed_attempts,
                        if r.acknowledged {
                            "acknowledged"
                        } else {
                            "not acknowledged"
                        }
                    );
                }
                println!(
                    "{} assignment(s) on {day}, {overdue} overdue; modules: {}",
                    rows.len(),
                    set.modules()
                        .map(|m| m.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            return Ok(if overdue > 0 {
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            });
        }
        TrainingCmd::Take { dir, module } => {
            let set = dir.files().training()?;
            let Some(m) = set.get(&module) else {
                bail!(
                    "no training module `{}`; the modules are {}",
                    module.chars().take(64).collect::<String>(),
                    set.modules()
                        .map(|m| m.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            };
            let store = Store::open(&dir.data_dir, None)?;
            let me = crate::cmd_login::signed_in(&store, &dir, "taking training")?;
            let person = me.session.operator.id.clone();
            let stdin = std::io::stdin();
            let mut input = stdin.lock();
            println!("{} (version {}; {})\n", m.title, m.version, m.requirement);
            println!("{}\n", m.body);
            println!(
                "Quiz: {} questions; {}% to pass.",
                m.questions.len(),
                m.pass_mark
            );
            let mut answers = Vec::with_capacity(m.questions.len());
            for (i, q) in m.questions.iter().enumerate() {
                println!("\n{}. {}", i + 1, q.text);
                for (j, choice) in q.choices.iter().enumerate() {
                    println!("   {}) {choice}", j + 1);
                }
                answers.push(ask_choice(&mut input, q.choices.len())?);
            }
            println!("\n{}", m.acknowledgement);
            print!("Type `yes` to acknowledge it: ");
            std::io::stdout().flush()?;
            let acknowledged = next_line(&mut input)?
                .is_some_and(|l| l.eq_ignore_ascii_case("yes") || l.eq_ignore_ascii_case("y"));
            let out = store
                .record_training_attempt(&set, &person, &m.id, &answers, acknowledged, today())
                .with_context(|| format!("recording {person}'s attempt at `{}`", m.id))?;
            println!(
                "\n{}: {} of {} right ({}%; {}% to pass){}",
                if out.passed { "PASSED" } else { "FAILED" },
                out.correct,
                out.total,
                out.score,
                out.pass_mark,
                if out.passed {
                    String::new()
                } else {
                    format!("; {} attempt(s) left", out.attempts_left)
                }
            );
            println!(
                "{}",
                if acknowledged {
                    "Policy acknowledgement recorded."
                } else {
                    "Not acknowledged: take the module again to acknowledge it."
                }
            );
            if !out.passed {
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
