//! `bulwark operators …`: the accounts of the incident team. The machine owner
//! (with the passphrase) manages them; each new account gets a one-time
//! enrolment link, printed once.

use std::process::ExitCode;

use bulwark_access::{OperatorRole, OperatorRoles};
use bulwark_store::{NewOperator, Store};
use clap::{Args, Subcommand};

use crate::{fmt_ms, operator, secrets, DataDirArg};

#[derive(Args)]
pub struct PublicUrl {
    /// Where operators reach the console, for enrolment links.
    #[arg(
        long,
        env = "BULWARK_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    public_url: String,
}

#[derive(Subcommand)]
pub enum OperatorsCmd {
    /// Add an operator; prints their one-time enrolment link (24 hours).
    Add {
        #[command(flatten)]
        dir: DataDirArg,
        /// Short id (a-z, 0-9, - and _), as in team.json.
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: Option<String>,
        /// A role (repeat): incident_commander, security_lead, legal, pr_comms,
        /// customer_service, executive_sponsor, admin.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[command(flatten)]
        url: PublicUrl,
        #[arg(long)]
        json: bool,
    },
    /// List the operators.
    List {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long)]
        json: bool,
    },
    /// Disable an operator: their sessions end at once.
    Disable {
        #[command(flatten)]
        dir: DataDirArg,
        id: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Replace an operator's roles.
    Roles {
        #[command(flatten)]
        dir: DataDirArg,
        id: String,
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
    },
    /// A new enrolment link for an operator (lost device, expired link; using
    /// it replaces their password and second factor).
    Link {
        #[command(flatten)]
        dir: DataDirArg,
        id: String,
        #[command(flatten)]
        url: PublicUrl,
    },
}

pub fn enrolment_url(public_url: &str, token: &str) -> String {
    format!("{}/enrol/{token}", public_url.trim_end_matches('/'))
}

fn roles(codes: &[String]) -> anyhow::Result<OperatorRoles> {
    let mut out = Vec::new();
    for c in codes {
        out.push(c.parse::<OperatorRole>()?);
    }
    Ok(OperatorRoles::new(out))
}

pub fn operators(c: OperatorsCmd) -> anyhow::Result<ExitCode> {
    let actor = operator().id;
    match c {
        OperatorsCmd::Add {
            dir,
            id,
            name,
            email,
            roles: r,
            url,
            json,
        } => {
            let store = Store::open(&dir.data_dir, Some(&secrets::unlock()?))?;
            let (op, link) = store
                .create_operator(
                    NewOperator {
                        id,
                        name,
                        email,
                        roles: roles(&r)?,
                    },
                    &actor,
                )
                .wait_blocking()?;
            let link = enrolment_url(&url.public_url, link.as_str());
            if json {
                println!(
                    "{}",
                    serde_json::json!({"operator": op, "enrolment_url": link})
                );
            } else {
                println!("operator {} added ({})", op.id, op.roles.codes().join(", "));
                println!("one-time enrolment link (24 hours, shown once):\n\n    {link}\n");
            }
        }
        OperatorsCmd::List { dir, json } => {
            let store = Store::open(&dir.data_dir, None)?;
            for op in store.operators()? {
                if json {
                    println!("{}", serde_json::to_string(&op)?);
                } else {
                    let state = if op.disabled {
                        "disabled"
                    } else if op.enrolled {
                        "active"
                    } else {
                        "not enrolled"
                    };
                    println!(
                        "{:<16} {:<24} {:<13} {:<40} added {}",
                        op.id,
                        op.name,
                        state,
                        op.roles.codes().join(","),
                        fmt_ms(op.created_ms)
                    );
                }
            }
        }
        OperatorsCmd::Disable { dir, id, reason } => {
            let store = Store::open(&dir.data_dir, None)?;
            let ended = store
                .disable_operator(&id, reason, &actor)
                .wait_blocking()?;
            println!("operator {id} disabled; {ended} session(s) ended");
        }
        OperatorsCmd::Roles { dir, id, roles: r } => {
            let store = Store::open(&dir.data_dir, None)?;
            let op = store
                .set_operator_roles(&id, roles(&r)?, &actor)
                .wait_blocking()?;
            println!(
                "operator {} now holds {}",
                op.id,
                op.roles.codes().join(", ")
            );
        }
        OperatorsCmd::Link { dir, id, url } => {
            let store = Store::open(&dir.data_dir, None)?;
            let link = store.reissue_enrolment(&id, &actor).wait_blocking()?;
            println!(
                "one-time enrolment link for {id} (24 hours, shown once):\n\n    {}\n",
                enrolment_url(&url.public_url, link.as_str())
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
