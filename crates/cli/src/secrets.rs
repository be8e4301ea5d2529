//! Where the unlock secret comes from: `BULWARK_PASSPHRASE`, `BULWARK_KEY_FILE`,
//! or a prompt when a terminal is attached. Never from a command-line flag,
//! which would leak into shell history and `ps`.

use std::io::IsTerminal;

use anyhow::{bail, Context};
use bulwark_vault::UnlockSecret;
use zeroize::Zeroizing;

fn from_env(pass_var: &str, file_var: &str) -> anyhow::Result<Option<UnlockSecret>> {
    if let Ok(path) = std::env::var(file_var) {
        let bytes = Zeroizing::new(
            std::fs::read(&path).with_context(|| format!("reading {file_var}={path}"))?,
        );
        return Ok(Some(UnlockSecret::key_file(&bytes)?));
    }
    if let Ok(p) = std::env::var(pass_var) {
        return Ok(Some(UnlockSecret::passphrase(Zeroizing::new(p))?));
    }
    Ok(None)
}

fn prompt(label: &str, confirm: bool) -> anyhow::Result<UnlockSecret> {
    if !std::io::stdin().is_terminal() {
        bail!("no unlock secret: set BULWARK_PASSPHRASE or BULWARK_KEY_FILE (or run on a terminal to be prompted)");
    }
    let first = Zeroizing::new(rpassword::prompt_password(format!("{label}: "))?);
    if confirm {
        let again = Zeroizing::new(rpassword::prompt_password(format!("{label} (again): "))?);
        if *first != *again {
            bail!("the two entries differ");
        }
    }
    Ok(UnlockSecret::passphrase(first)?)
}

/// The secret that unlocks an existing keyring.
pub fn unlock() -> anyhow::Result<UnlockSecret> {
    match from_env("BULWARK_PASSPHRASE", "BULWARK_KEY_FILE")? {
        Some(s) => Ok(s),
        None => prompt("Passphrase", false),
    }
}

/// A new secret (init): asked twice when prompted.
pub fn new_secret() -> anyhow::Result<UnlockSecret> {
    match from_env("BULWARK_PASSPHRASE", "BULWARK_KEY_FILE")? {
        Some(s) => Ok(s),
        None => prompt("New passphrase", true),
    }
}

/// The replacement secret for `keys change-passphrase`.
pub fn replacement_secret() -> anyhow::Result<UnlockSecret> {
    match from_env("BULWARK_NEW_PASSPHRASE", "BULWARK_NEW_KEY_FILE")? {
        Some(s) => Ok(s),
        None => prompt("New passphrase", true),
    }
}
