//! Creating a data directory: both databases, the keyring, the bootstrap admin
//! key and the ledger's first entries and checkpoint. Built in a temporary
//! sibling directory and renamed into place, so a failure leaves nothing behind.

use std::fs;
use std::path::Path;

use bulwark_ledger::Checkpoint;
use bulwark_model::{Scope, Scopes};
use bulwark_vault::{KdfParams, Keyring, UnlockSecret};
use rand::rngs::OsRng;
use rand::RngCore;
use zeroize::Zeroizing;

use crate::api_keys::{insert_key, mint, NewApiKey};
use crate::error::{Result, StoreError};
use crate::writer::{now_ms, Writer};
use crate::{conn, schema, DataDir};

pub struct InitOutcome {
    /// The bootstrap admin key, shown to the operator exactly once.
    pub admin_key: Zeroizing<String>,
    pub admin_key_id: String,
    pub public_key: String,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Refuses an existing non-empty directory and changes nothing in that case.
pub fn init(
    dir: &Path,
    secret: &UnlockSecret,
    params: KdfParams,
    actor: &str,
) -> Result<InitOutcome> {
    if dir.exists() {
        let empty = dir.is_dir() && fs::read_dir(dir).map_err(io(dir))?.next().is_none();
        if !empty {
            return Err(StoreError::AlreadyExists(dir.display().to_string()));
        }
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => std::path::PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io(&parent))?;
    let mut tag = [0u8; 6];
    OsRng.fill_bytes(&mut tag);
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bulwark".into());
    let tmp = parent.join(format!(".{name}.init-{}", hex::encode(tag)));
    fs::create_dir(&tmp).map_err(io(&tmp))?;
    let result = build(&tmp, secret, params, actor);
    match result {
        Ok(outcome) => {
            set_private(&tmp)?;
            fs::rename(&tmp, dir).map_err(|e| {
                let _ = fs::remove_dir_all(&tmp);
                io(dir)(e)
            })?;
            if let Ok(d) = fs::File::open(&parent) {
                let _ = d.sync_all();
            }
            Ok(outcome)
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}

#[cfg(unix)]
fn set_private(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io(dir))
}

#[cfg(not(unix))]
fn set_private(_dir: &Path) -> Result<()> {
    Ok(())
}

fn build(tmp: &Path, secret: &UnlockSecret, params: KdfParams, actor: &str) -> Result<InitOutcome> {
    if params.memory_kib < KdfParams::MIN_MEMORY_KIB {
        return Err(StoreError::Vault(bulwark_vault::VaultError::Kdf(format!(
            "argon2 memory below the minimum of {} KiB",
            KdfParams::MIN_MEMORY_KIB
        ))));
    }
    let paths = DataDir::new(tmp);
    let main = conn::open_rw(&paths.main_db(), true)?;
    let keys = conn::open_rw(&paths.keys_db(), true)?;
    main.execute_batch(schema::MAIN)?;
    keys.execute_batch(schema::KEYS)?;
    main.execute(
        "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
        [schema::SCHEMA_VERSION.to_string()],
    )?;
    let keyring = Keyring::create(secret, params, now_ms(), &mut OsRng)?;
    let record =
        serde_json::to_string(keyring.record()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let public_key = keyring.record().signing_public.clone();
    let (writer, thread) = Writer::start_joinable(main, keys)?;
    let actor = actor.to_owned();
    let pk = public_key.clone();
    let outcome = writer
        .submit(move |ctx| -> Result<_> {
            ctx.keys.execute("INSERT INTO keyring (id, record) VALUES (1, ?1)", [&record])?;
            ctx.ledger(
                &actor,
                "store.initialised",
                "store",
                serde_json::json!({"schema_version": schema::SCHEMA_VERSION, "ledger_public_key": pk}),
            )?;
            let (id, token, hash) = mint();
            let new = NewApiKey {
                name: "bootstrap admin".into(),
                scopes: Scopes::new([Scope::Admin]),
                expires_at_ms: None,
            };
            insert_key(ctx.main, &id, &hash, &new, &actor, ctx.now_ms)?;
            ctx.ledger(
                &actor,
                "key.created",
                &format!("key:{id}"),
                serde_json::json!({"name": new.name, "scopes": new.scopes}),
            )?;
            let head = *ctx.ledger_head();
            let cp = Checkpoint::sign(&head, ctx.now_ms, keyring.signing_key());
            ctx.main.execute(
                "INSERT INTO ledger_checkpoints (seq, checkpoint) VALUES (?1, ?2)",
                rusqlite::params![head.seq as i64, cp.to_json_pretty()],
            )?;
            Ok((id, token))
        })
        .wait_blocking();
    drop(writer);
    let _ = thread.join();
    let (admin_key_id, admin_key) = outcome?;
    Ok(InitOutcome {
        admin_key,
        admin_key_id,
        public_key,
    })
}
