//! `bulwark login` / `bulwark logout`: an operator's own short-lived CLI
//! session, after password and second factor, for what only a person may do
//! at the shell (approving letters as legal). Everything else the CLI does is
//! the machine owner's, recorded as `owner:<user>`.
//!
//! The session token lives in `BULWARK_SESSION` or in a file only the user
//! can read (`$XDG_STATE_HOME/bulwark/` or `~/.local/state/bulwark/`), one per
//! data directory; the store keeps only its hash and ends it like a console
//! session (30 minutes idle, 12 hours at most, at once when the operator is
//! disabled).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use bulwark_access::SessionPolicy;
use bulwark_store::{OperatorSession, Store};
use clap::Args;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{secrets, DataDirArg};

#[derive(Args)]
pub struct LoginArgs {
    #[command(flatten)]
    dir: DataDirArg,
    /// The operator id or e-mail.
    #[arg(long)]
    operator: String,
    /// The six-digit code (or a recovery code); asked for when absent.
    #[arg(long)]
    code: Option<String>,
    /// Print the token (for `export BULWARK_SESSION=…`) instead of keeping it in the state file.
    #[arg(long)]
    print_token: bool,
}

#[derive(Args)]
pub struct LogoutArgs {
    #[command(flatten)]
    dir: DataDirArg,
}

fn state_dir() -> anyhow::Result<PathBuf> {
    if let Some(d) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d).join("bulwark"));
    }
    let home = std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .context("neither XDG_STATE_HOME nor HOME is set; use --print-token and BULWARK_SESSION")?;
    Ok(PathBuf::from(home).join(".local/state/bulwark"))
}

/// One file per data directory, named by a hash of its canonical path.
fn session_file(dir: &DataDirArg) -> anyhow::Result<PathBuf> {
    let canonical = std::fs::canonicalize(&dir.data_dir)
        .with_context(|| format!("{} is not a data directory", dir.data_dir.display()))?;
    let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
    Ok(state_dir()?.join(format!("session-{}", hex::encode(&digest[..8]))))
}

fn write_private(path: &PathBuf, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

fn ask(label: &str) -> anyhow::Result<Zeroizing<String>> {
    if !std::io::stdin().is_terminal() {
        bail!("{label}: not given and no terminal to ask on");
    }
    Ok(Zeroizing::new(rpassword::prompt_password(format!(
        "{label}: "
    ))?))
}

pub fn login(a: LoginArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(&a.dir.data_dir, Some(&secrets::unlock()?))?;
    let password = match std::env::var("BULWARK_OPERATOR_PASSWORD") {
        Ok(p) => Zeroizing::new(p),
        Err(_) => ask("Password")?,
    };
    let ticket = store.login_password(&a.operator, &password, None)?;
    let code = match a.code {
        Some(c) => Zeroizing::new(c),
        None => ask("Code from your authenticator (or a recovery code)")?,
    };
    let (token, op) =
        store.login_second_factor(ticket.as_str(), &code, None, Some("bulwark-cli"), "cli")?;
    if a.print_token {
        println!("{}", token.as_str());
    } else {
        let path = session_file(&a.dir)?;
        write_private(&path, token.as_str())?;
        eprintln!(
            "signed in as {} ({}); the session is in {} and ends after 30 minutes idle",
            op.name,
            op.id,
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn logout(a: LogoutArgs) -> anyhow::Result<ExitCode> {
    let path = session_file(&a.dir)?;
    let token = std::fs::read_to_string(&path).ok();
    let store = Store::open(&a.dir.data_dir, None)?;
    let ended = match token.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => store.logout(t)?,
        None => false,
    };
    let _ = std::fs::remove_file(&path);
    eprintln!(
        "{}",
        if ended {
            "signed out"
        } else {
            "no CLI session to end"
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// The signed-in operator: `BULWARK_SESSION`, else the state file. `why`
/// names the action in the error when nobody is signed in.
pub fn signed_in(store: &Store, dir: &DataDirArg, why: &str) -> anyhow::Result<Signed> {
    let token = match std::env::var("BULWARK_SESSION") {
        Ok(t) if !t.trim().is_empty() => Zeroizing::new(t.trim().to_owned()),
        _ => {
            let path = session_file(dir)?;
            match std::fs::read_to_string(&path) {
                Ok(t) => Zeroizing::new(t.trim().to_owned()),
                Err(_) => bail!(
                    "{why} is done by a signed-in operator: run `bulwark login --operator <id>` first"
                ),
            }
        }
    };
    let policy = SessionPolicy::default();
    let session = store.session(&token, &policy).map_err(|e| {
        anyhow::anyhow!("{why} needs a signed-in operator: {e}; run `bulwark login` again")
    })?;
    Ok(Signed { session, policy })
}

pub struct Signed {
    pub session: OperatorSession,
    policy: SessionPolicy,
}

impl Signed {
    /// Refuses unless the second factor was given within the step-up window.
    pub fn require_fresh(&self, why: &str) -> anyhow::Result<()> {
        let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
        if self.policy.needs_step_up(&self.session.times, now) {
            bail!(
                "{why} needs the second factor within the last {} minutes: run `bulwark login` again",
                self.policy.step_up.as_secs() / 60
            );
        }
        Ok(())
    }
}
