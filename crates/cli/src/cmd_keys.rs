use std::process::ExitCode;

use anyhow::Context;
use bulwark_model::{Scope, Scopes};
use bulwark_store::{NewApiKey, Store};
use clap::Subcommand;

use crate::cmd_misc::KdfArgs;
use crate::{fmt_ms, operator, secrets, DataDirArg};

#[derive(Subcommand)]
pub enum KeysCmd {
    /// Issue an API key; the secret is printed once.
    Create {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long)]
        name: String,
        /// A grant such as vault:write or vault:reveal:email; repeat for several.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// Expire after this many days.
        #[arg(long)]
        expires_in_days: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// List API keys.
    List {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long)]
        json: bool,
    },
    /// Revoke an API key; it fails on its next request.
    Revoke {
        #[command(flatten)]
        dir: DataDirArg,
        id: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Access review: keys unused for N days and grants never exercised.
    Review {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long, default_value_t = 90)]
        idle_days: i64,
        #[arg(long)]
        json: bool,
    },
    /// Add a data-key version that all new writes use.
    RotateDataKey {
        #[command(flatten)]
        dir: DataDirArg,
    },
    /// Re-encrypt data sealed under older versions (resumable; reveals keep working).
    Rewrap {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
    /// Refuse to decrypt anything sealed under an older version.
    SetMinDecryptionVersion {
        #[command(flatten)]
        dir: DataDirArg,
        version: u32,
        /// Set it even though data is still sealed below it (that data becomes unreadable).
        #[arg(long)]
        force: bool,
    },
    /// Re-wrap the key hierarchy under a new passphrase (BULWARK_NEW_PASSPHRASE or
    /// BULWARK_NEW_KEY_FILE, or a prompt). Customer data is not touched.
    ChangePassphrase {
        #[command(flatten)]
        dir: DataDirArg,
        #[command(flatten)]
        kdf: KdfArgs,
    },
}

pub fn run(c: KeysCmd) -> anyhow::Result<ExitCode> {
    let actor = operator().id;
    match c {
        KeysCmd::Create {
            dir,
            name,
            scopes,
            expires_in_days,
            json,
        } => {
            let mut parsed = Vec::new();
            for s in &scopes {
                parsed.push(s.parse::<Scope>()?);
            }
            let store = Store::open(&dir.data_dir, None)?;
            let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
            let (info, token) = store
                .create_key(
                    NewApiKey {
                        name,
                        scopes: Scopes::new(parsed),
                        expires_at_ms: expires_in_days.map(|d| now + d * 86_400_000),
                    },
                    &actor,
                )
                .wait_blocking()?;
            if json {
                let mut v = serde_json::to_value(&info)?;
                v["key"] = serde_json::json!(token.as_str());
                println!("{v}");
            } else {
                println!(
                    "Created key {} ({}). Secret, shown once:\n\n    {}\n",
                    info.id,
                    info.name,
                    token.as_str()
                );
            }
        }
        KeysCmd::List { dir, json } => {
            let store = Store::open(&dir.data_dir, None)?;
            for k in store.list_keys()? {
                if json {
                    println!("{}", serde_json::to_string(&k)?);
                } else {
                    let scopes: Vec<String> = k.scopes.iter().map(|s| s.to_string()).collect();
                    println!(
                        "{}  {:<24} {:<8} created {}  last used {}  [{}]",
                        k.id,
                        k.name,
                        if k.revoked_at_ms.is_some() {
                            "revoked"
                        } else {
                            "active"
                        },
                        fmt_ms(k.created_at_ms),
                        k.last_used_ms.map(fmt_ms).unwrap_or_else(|| "never".into()),
                        scopes.join(" ")
                    );
                }
            }
        }
        KeysCmd::Revoke { dir, id, reason } => {
            let store = Store::open(&dir.data_dir, None)?;
            store.revoke_key(&id, &actor, reason).wait_blocking()?;
            println!("revoked {id}");
        }
        KeysCmd::Review {
            dir,
            idle_days,
            json,
        } => {
            let store = Store::open(&dir.data_dir, None)?;
            let findings = store.review_keys(idle_days)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&findings)?);
            } else if findings.is_empty() {
                println!("No findings: every active key was used within {idle_days} days and exercised all its grants.");
            } else {
                for f in findings {
                    let unused: Vec<String> =
                        f.unexercised_scopes.iter().map(|s| s.to_string()).collect();
                    println!(
                        "{} {:<24} {}{}",
                        f.key.id,
                        f.key.name,
                        if f.never_used {
                            "never used".to_string()
                        } else {
                            format!("idle {} days", f.idle_days)
                        },
                        if unused.is_empty() {
                            String::new()
                        } else {
                            format!("; grants never exercised: {}", unused.join(" "))
                        }
                    );
                }
            }
        }
        KeysCmd::RotateDataKey { dir } => {
            let store = Store::open(&dir.data_dir, Some(&secrets::unlock()?))?;
            let v = store.rotate_data_key(&actor)?;
            println!("data key version {v} is now used for new writes; run `bulwark keys rewrap` to move older data onto it");
        }
        KeysCmd::Rewrap { dir, batch } => {
            let store = Store::open(&dir.data_dir, Some(&secrets::unlock()?))?;
            let start = store.rewrap_status()?;
            let total = start.customers_remaining;
            let mut done = 0u64;
            loop {
                let moved = store
                    .rewrap_batch(batch.max(1), &actor)
                    .context("re-wrap interrupted; run it again to resume")?;
                if moved == 0 {
                    break;
                }
                done += moved as u64;
                eprintln!(
                    "re-wrapped {done}/{total} customers onto version {}",
                    start.target_version
                );
            }
            println!(
                "all data is sealed under version {} ({done} customers moved)",
                start.target_version
            );
        }
        KeysCmd::SetMinDecryptionVersion {
            dir,
            version,
            force,
        } => {
            let store = Store::open(&dir.data_dir, None)?;
            store
                .set_min_decryption_version(version, force, &actor)
                .wait_blocking()?;
            println!("minimum decryption version is now {version}");
        }
        KeysCmd::ChangePassphrase { dir, kdf } => {
            let store = Store::open(&dir.data_dir, Some(&secrets::unlock()?))?;
            let new = secrets::replacement_secret()?;
            store.change_unlock(&new, kdf.params(), &actor)?;
            println!(
                "passphrase changed; customer data was not re-encrypted (it did not need to be)"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
