use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bulwark_ledger::Checkpoint;
use bulwark_store::{Store, VerifyLedgerError};
use clap::Subcommand;

use crate::{secrets, DataDirArg};

#[derive(Subcommand)]
pub enum LedgerCmd {
    /// Replay the hash chain and every checkpoint. Exit 0 when intact, 1 when tampered.
    Verify {
        #[command(flatten)]
        dir: DataDirArg,
        /// A checkpoint kept off this machine: proves nothing was rewritten or cut since.
        #[arg(long)]
        against: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Sign the current head and print the checkpoint (store it off-box).
    Checkpoint {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(c: LedgerCmd) -> anyhow::Result<ExitCode> {
    match c {
        LedgerCmd::Verify { dir, against, json } => {
            let external =
                match &against {
                    Some(p) => {
                        let text = std::fs::read_to_string(p)
                            .with_context(|| format!("reading {}", p.display()))?;
                        Some(Checkpoint::from_json(&text).with_context(|| {
                            format!("{} is not a Bulwark checkpoint", p.display())
                        })?)
                    }
                    None => None,
                };
            let store = Store::open(&dir.data_dir, None)?;
            match store.verify_ledger(external.as_ref(), |_| {}) {
                Ok(status) => {
                    if json {
                        println!("{}", serde_json::json!({"intact": true, "status": status}));
                    } else {
                        println!(
                            "ledger intact: {} entries, head {} at entry {}, {} signed checkpoint(s) verified{}",
                            status.entries,
                            status.head_hash,
                            status.head_seq,
                            status.checkpoints_checked,
                            if status.against_external { ", including the external one" } else { "" }
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(
                    e @ (VerifyLedgerError::Tampered(_)
                    | VerifyLedgerError::ForeignCheckpoint
                    | VerifyLedgerError::BadCheckpoint { .. }),
                ) => {
                    let why = match e {
                        VerifyLedgerError::Tampered(v) => v.to_string(),
                        other => other.to_string(),
                    };
                    if json {
                        println!("{}", serde_json::json!({"intact": false, "problem": why}));
                    } else {
                        eprintln!("LEDGER TAMPERED: {why}");
                    }
                    Ok(ExitCode::from(1))
                }
                Err(e) => Err(e.into()),
            }
        }
        LedgerCmd::Checkpoint { dir, json } => {
            let store = Store::open(&dir.data_dir, Some(&secrets::unlock()?))?;
            let cp = store.checkpoint()?.wait_blocking()?;
            if json {
                println!("{}", serde_json::to_string(&cp)?);
            } else {
                println!("{}", cp.to_json_pretty());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
