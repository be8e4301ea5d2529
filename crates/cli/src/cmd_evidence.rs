//! `bulwark evidence …`: the locker with chain of custody, and sealed bundles.

use std::path::PathBuf;
use std::process::ExitCode;

use bulwark_store::{verify_bundle, Store};
use clap::Subcommand;

use crate::{fmt_ms, operator, secrets, DataDirArg};

#[derive(Subcommand)]
pub enum EvidenceCmd {
    /// Store files (content-addressed, write-once) with who collected them, from where, when.
    Add {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long)]
        incident: u64,
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long)]
        description: Option<String>,
        /// Where it came from (host, system, URL).
        #[arg(long)]
        source: Option<String>,
    },
    /// List an incident's evidence.
    List {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long)]
        incident: u64,
        #[arg(long)]
        json: bool,
    },
    /// Copy an item out of the locker (hash checked); recorded as an access in the custody log.
    Get {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long)]
        incident: u64,
        id: i64,
        #[arg(short = 'o', long = "out")]
        out: PathBuf,
        /// Why it is being accessed (recorded).
        #[arg(long)]
        reason: String,
    },
    /// Write a sealed bundle: files, manifest of hashes, custody log, timeline, ed25519 signature.
    Export {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long)]
        incident: u64,
        #[arg(short = 'o', long = "out")]
        out: PathBuf,
    },
    /// Check a bundle offline; names every altered, missing or extra file. Exit 1 when not intact.
    Verify {
        bundle: PathBuf,
        /// The ledger public key (hex), as printed by init and by export.
        #[arg(long)]
        public_key: String,
    },
}

pub fn evidence(c: EvidenceCmd) -> anyhow::Result<ExitCode> {
    let actor = operator().id;
    match c {
        EvidenceCmd::Add {
            dir,
            incident,
            paths,
            description,
            source,
        } => {
            let store = Store::open(&dir.data_dir, None)?;
            for p in &paths {
                let item =
                    store.add_evidence(incident, p, description.clone(), source.clone(), &actor)?;
                println!(
                    "#{} {} sha256:{} ({} bytes)",
                    item.id, item.name, item.sha256, item.size
                );
            }
        }
        EvidenceCmd::List {
            dir,
            incident,
            json,
        } => {
            let store = Store::open(&dir.data_dir, None)?;
            for e in store.evidence(incident)? {
                if json {
                    println!("{}", serde_json::to_string(&e)?);
                } else {
                    println!(
                        "#{:<4} {}  {:<30} {:>10} bytes  by {} {}",
                        e.id,
                        fmt_ms(e.collected_at_ms),
                        e.name,
                        e.size,
                        e.collected_by,
                        e.source
                            .as_deref()
                            .map(|s| format!("from {s}"))
                            .unwrap_or_default()
                    );
                }
            }
        }
        EvidenceCmd::Get {
            dir,
            incident,
            id,
            out,
            reason,
        } => {
            let store = Store::open(&dir.data_dir, None)?;
            let item = store.access_evidence(incident, id, &out, &reason, &actor)?;
            println!(
                "#{} {} copied to {} (sha256 verified)",
                item.id,
                item.name,
                out.display()
            );
        }
        EvidenceCmd::Export { dir, incident, out } => {
            let store = Store::open(&dir.data_dir, Some(&secrets::unlock()?))?;
            let n = store.export_evidence(incident, &out, &actor)?;
            let cp = store.checkpoint()?.wait_blocking()?;
            println!(
                "{n} item(s) sealed in {}; verify with:\n  bulwark evidence verify {} --public-key {}",
                out.display(),
                out.display(),
                hex::encode(cp.public_key)
            );
        }
        EvidenceCmd::Verify { bundle, public_key } => {
            let report = verify_bundle(&bundle, &public_key)?;
            if report.problems.is_empty() {
                println!(
                    "bundle intact: incident {}, {} item(s), signature valid",
                    report.incident, report.items
                );
            } else {
                for p in &report.problems {
                    eprintln!("NOT INTACT: {p}");
                }
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
