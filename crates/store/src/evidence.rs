//! The evidence locker: files stored by their SHA-256 under `evidence/` in the
//! data directory, write-once, each with who collected it, from where and when;
//! every addition and export is a custody event, also in the ledger. An export
//! is a sealed bundle: the files, a manifest of hashes, the custody log and the
//! incident timeline, signed with the ledger key, verifiable offline.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, VerifyingKey};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use bulwark_incident::{EntryKind, TimelineEntry};

use crate::error::{Result, StoreError};
use crate::Store;

/// A file in the evidence locker, by hash, with the name it is shown under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedItem {
    pub sha256: String,
    pub name: String,
    pub size: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvidenceItem {
    pub id: i64,
    pub incident: u64,
    pub sha256: String,
    pub name: String,
    pub size: u64,
    pub description: Option<String>,
    pub source: Option<String>,
    pub collected_by: String,
    pub collected_at_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CustodyEvent {
    pub evidence_id: i64,
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Manifest {
    format: String,
    incident: u64,
    exported_at_ms: i64,
    exported_by: String,
    public_key: String,
    items: Vec<EvidenceItem>,
    custody: Vec<CustodyEvent>,
    timeline: serde_json::Value,
}

/// What offline verification found.
#[derive(Debug, Clone, Serialize)]
pub struct BundleReport {
    pub incident: u64,
    pub items: usize,
    /// Problems, each naming the file or part at fault; empty when the bundle is intact.
    pub problems: Vec<String>,
}

/// Why evidence could not be added, read out or exported.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("incident {0} not found")]
    IncidentNotFound(u64),
    #[error("incident {incident} has no evidence #{id}")]
    NoSuchItem { incident: u64, id: i64 },
    /// The file to collect cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{} changed while it was being copied; collect it again", path.display())]
    ChangedWhileCopying { path: std::path::PathBuf },
    #[error("{} already exists; choose a new destination", path.display())]
    DestinationExists { path: std::path::PathBuf },
    /// An item in the locker no longer has the hash it was collected with.
    #[error("evidence {sha256} in the locker no longer matches its hash")]
    Tampered { sha256: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<crate::IncidentReadError> for EvidenceError {
    fn from(e: crate::IncidentReadError) -> Self {
        match e {
            crate::IncidentReadError::NotFound(id) => EvidenceError::IncidentNotFound(id),
            crate::IncidentReadError::Store(s) => EvidenceError::Store(s),
        }
    }
}

impl From<crate::IncidentChangeError> for EvidenceError {
    fn from(e: crate::IncidentChangeError) -> Self {
        match e {
            crate::IncidentChangeError::NotFound(id) => EvidenceError::IncidentNotFound(id),
            crate::IncidentChangeError::Store(s) => EvidenceError::Store(s),
            other => StoreError::corrupt(format!("recording custody: {other}")).into(),
        }
    }
}

/// Why a bundle could not be checked at all (a bundle that was checked and
/// found altered is a [`BundleReport`] with problems, not an error).
#[derive(Debug, thiserror::Error)]
pub enum VerifyBundleError {
    #[error("the public key is not 64 hex digits of an ed25519 key")]
    BadPublicKey,
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("manifest.json is not a bundle manifest: {0}")]
    NotAManifest(#[source] serde_json::Error),
}

fn unreadable(path: &Path) -> impl FnOnce(StoreError) -> EvidenceError + '_ {
    move |e| match e {
        StoreError::Io { source, .. } => EvidenceError::Unreadable {
            path: path.to_path_buf(),
            source,
        },
        other => EvidenceError::Store(other),
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn sha256_file(path: &Path) -> Result<(String, u64)> {
    let mut f = fs::File::open(path).map_err(io(path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    Ok((hex::encode(h.finalize()), size))
}

pub(crate) fn safe_name(path: &Path) -> String {
    path.file_name()
        .map(|n| {
            n.to_string_lossy()
                .chars()
                .map(|c| {
                    if c.is_alphanumeric() || ".-_".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect()
        })
        .unwrap_or_else(|| "evidence".into())
}

impl Store {
    fn locker(&self) -> PathBuf {
        self.dir().evidence_dir()
    }

    /// Whether the locker already holds `sha256` (checked against its hash:
    /// content there is never overwritten, and altered content is an error).
    /// Makes the locker if it is missing.
    fn in_locker(&self, sha256: &str) -> Result<bool, EvidenceError> {
        let locker = self.locker();
        fs::create_dir_all(&locker).map_err(io(&locker))?;
        let stored = locker.join(sha256);
        if !stored.exists() {
            return Ok(false);
        }
        let (again, _) = sha256_file(&stored)?;
        if again != sha256 {
            return Err(EvidenceError::Tampered {
                sha256: sha256.to_owned(),
            });
        }
        Ok(true)
    }

    /// Copies `path` into the locker under its SHA-256 (a file already there
    /// is checked, never overwritten) and returns `(sha256, size)`. Durable on
    /// return; the caller records what the file is evidence of.
    pub(crate) fn lock_file(&self, path: &Path) -> Result<(String, u64), EvidenceError> {
        let (sha, size) = sha256_file(path).map_err(unreadable(path))?;
        let locker = self.locker();
        let stored = locker.join(&sha);
        if !self.in_locker(&sha)? {
            let tmp = locker.join(format!(".{sha}.partial"));
            fs::copy(path, &tmp).map_err(|source| EvidenceError::Unreadable {
                path: path.to_path_buf(),
                source,
            })?;
            fs::File::open(&tmp)
                .and_then(|f| f.sync_all())
                .map_err(io(&tmp))?;
            let (copied, _) = sha256_file(&tmp)?;
            if copied != sha {
                let _ = fs::remove_file(&tmp);
                return Err(EvidenceError::ChangedWhileCopying {
                    path: path.to_path_buf(),
                });
            }
            fs::rename(&tmp, &stored).map_err(io(&stored))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = fs::set_permissions(&stored, fs::Permissions::from_mode(0o400));
            }
        }
        Ok((sha, size))
    }

    /// The locker's file `sha256`, read into memory and checked against its
    /// hash. The caller records the access.
    pub(crate) fn read_locked(&self, sha256: &str) -> Result<Vec<u8>, EvidenceError> {
        let src = self.locker().join(sha256);
        let bytes = fs::read(&src).map_err(io(&src))?;
        if hex::encode(Sha256::digest(&bytes)) != sha256 {
            return Err(EvidenceError::Tampered {
                sha256: sha256.to_owned(),
            });
        }
        Ok(bytes)
    }

    /// Copies the locker's file `sha256` to `dest` (a new file), checking its
    /// hash first. The caller records the access.
    pub(crate) fn unlock_file(&self, sha256: &str, dest: &Path) -> Result<(), EvidenceError> {
        let src = self.locker().join(sha256);
        let (sha, _) = sha256_file(&src)?;
        if sha != sha256 {
            return Err(EvidenceError::Tampered {
                sha256: sha256.to_owned(),
            });
        }
        if dest.exists() {
            return Err(EvidenceError::DestinationExists {
                path: dest.to_path_buf(),
            });
        }
        fs::copy(&src, dest).map_err(io(dest))?;
        Ok(())
    }

    /// Copies a file into the locker (by content hash; a file already there is
    /// checked, never overwritten) and records who collected it, from where, when.
    pub fn add_evidence(
        &self,
        incident: u64,
        path: &Path,
        description: Option<String>,
        source: Option<String>,
        actor: &str,
    ) -> Result<EvidenceItem, EvidenceError> {
        self.incident(incident)?;
        let (sha, size) = self.lock_file(path)?;
        self.add_locked_evidence(
            incident,
            LockedItem {
                sha256: sha,
                name: safe_name(path),
                size,
            },
            description,
            source,
            actor,
        )
    }

    /// Writes `bytes` into the locker under their SHA-256 (content already
    /// there is checked, never overwritten) and returns `(sha256, size)`.
    /// Durable on return.
    pub fn lock_bytes(&self, bytes: &[u8]) -> Result<(String, u64), EvidenceError> {
        let sha = hex::encode(Sha256::digest(bytes));
        let locker = self.locker();
        let stored = locker.join(&sha);
        if self.in_locker(&sha)? {
            return Ok((sha, bytes.len() as u64));
        }
        // A unique partial name: two writers of the same content do not clash.
        let tmp = locker.join(format!(".{sha}.{}.partial", uuid::Uuid::new_v4()));
        let written = fs::File::create(&tmp)
            .and_then(|mut f| {
                std::io::Write::write_all(&mut f, bytes)?;
                f.sync_all()
            })
            .map_err(io(&tmp));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e.into());
        }
        fs::rename(&tmp, &stored).map_err(io(&stored))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = fs::set_permissions(&stored, fs::Permissions::from_mode(0o400));
        }
        Ok((sha, bytes.len() as u64))
    }

    /// Records a file already in the locker (see [`Store::lock_bytes`]) as
    /// evidence of `incident`: who collected it, from where, when.
    pub fn add_locked_evidence(
        &self,
        incident: u64,
        item: LockedItem,
        description: Option<String>,
        source: Option<String>,
        actor: &str,
    ) -> Result<EvidenceItem, EvidenceError> {
        self.incident(incident)?;
        let actor = actor.to_owned();
        let LockedItem {
            sha256: sha2,
            name: name2,
            size,
        } = item;
        let (id, at) = self
            .writer()
            .submit(move |ctx| -> Result<_, EvidenceError> {
                ctx.main.execute(
                    "INSERT INTO evidence (incident_id, sha256, name, size, description, source, collected_by, collected_at_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![incident as i64, sha2, name2, size as i64, description, source, actor, ctx.now_ms],
                ).map_err(StoreError::from)?;
                let id = ctx.main.last_insert_rowid();
                let details = serde_json::json!({"sha256": sha2, "name": name2, "size": size, "source": source, "description": description});
                ctx.main.execute(
                    "INSERT INTO evidence_custody (evidence_id, at_ms, actor, action, details) VALUES (?1, ?2, ?3, 'collected', ?4)",
                    params![id, ctx.now_ms, actor, details.to_string()],
                ).map_err(StoreError::from)?;
                let entry = TimelineEntry::new(
                    incident,
                    crate::incidents::timestamp(ctx),
                    &actor,
                    EntryKind::Evidence,
                    format!("Evidence #{id} collected: {name2} (sha256 {})", &sha2[..16]),
                    serde_json::json!({"evidence": id, "sha256": sha2, "custody": "collected"}),
                );
                crate::incidents::append_timeline(ctx, incident, &entry)?;
                Ok((id, ctx.now_ms))
            })
            .wait_blocking()?;
        self.evidence(incident)?
            .into_iter()
            .find(|e| e.id == id && e.collected_at_ms == at)
            .ok_or_else(|| {
                StoreError::corrupt("an evidence row vanished after it was written").into()
            })
    }

    /// Copies an item out of the locker (checking its hash) to `dest`; the access
    /// is a custody event on the incident's timeline.
    pub fn access_evidence(
        &self,
        incident: u64,
        evidence_id: i64,
        dest: &Path,
        why: &str,
        actor: &str,
    ) -> Result<EvidenceItem, EvidenceError> {
        let item = self
            .evidence(incident)?
            .into_iter()
            .find(|e| e.id == evidence_id)
            .ok_or(EvidenceError::NoSuchItem {
                incident,
                id: evidence_id,
            })?;
        let src = self.locker().join(&item.sha256);
        let (sha, _) = sha256_file(&src)?;
        if sha != item.sha256 {
            return Err(EvidenceError::Tampered {
                sha256: item.sha256,
            });
        }
        if dest.exists() {
            return Err(EvidenceError::DestinationExists {
                path: dest.to_path_buf(),
            });
        }
        let (actor, why, to) = (actor.to_owned(), why.to_owned(), dest.display().to_string());
        self.writer()
            .submit(move |ctx| {
                let details = serde_json::json!({"to": to, "why": why});
                ctx.main.execute(
                    "INSERT INTO evidence_custody (evidence_id, at_ms, actor, action, details) VALUES (?1, ?2, ?3, 'accessed', ?4)",
                    params![evidence_id, ctx.now_ms, actor, details.to_string()],
                )?;
                let entry = TimelineEntry::new(
                    incident,
                    crate::incidents::timestamp(ctx),
                    &actor,
                    EntryKind::Evidence,
                    format!("Evidence #{evidence_id} accessed: {why}"),
                    serde_json::json!({"evidence": evidence_id, "custody": "accessed", "to": to}),
                );
                crate::incidents::append_timeline(ctx, incident, &entry)
            })
            .wait_blocking()?;
        fs::copy(&src, dest).map_err(io(dest))?;
        Ok(item)
    }

    /// Hashes every item of the incident in the locker again: `(id, intact)`
    /// per item (a missing or altered file is not intact). Reads only.
    pub fn verify_evidence(&self, incident: u64) -> Result<Vec<(i64, bool)>> {
        let mut out = Vec::new();
        for item in self.evidence(incident)? {
            let intact = match sha256_file(&self.locker().join(&item.sha256)) {
                Ok((sha, _)) => sha == item.sha256,
                Err(_) => false,
            };
            out.push((item.id, intact));
        }
        Ok(out)
    }

    pub fn evidence(&self, incident: u64) -> Result<Vec<EvidenceItem>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, incident_id, sha256, name, size, description, source, collected_by, collected_at_ms
                 FROM evidence WHERE incident_id = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([incident as i64], |r| {
                Ok(EvidenceItem {
                    id: r.get(0)?,
                    incident: r.get::<_, i64>(1)? as u64,
                    sha256: r.get(2)?,
                    name: r.get(3)?,
                    size: r.get::<_, i64>(4)? as u64,
                    description: r.get(5)?,
                    source: r.get(6)?,
                    collected_by: r.get(7)?,
                    collected_at_ms: r.get(8)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn custody(&self, incident: u64) -> Result<Vec<CustodyEvent>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT c.evidence_id, c.at_ms, c.actor, c.action, c.details FROM evidence_custody c
                 JOIN evidence e ON e.id = c.evidence_id WHERE e.incident_id = ?1 ORDER BY c.seq",
            )?;
            let rows = stmt.query_map([incident as i64], |r| {
                let details: String = r.get(4)?;
                Ok(CustodyEvent {
                    evidence_id: r.get(0)?,
                    at_ms: r.get(1)?,
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    details: serde_json::from_str(&details).unwrap_or(serde_json::Value::Null),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Writes the sealed bundle to `out` (a new directory). The export is itself a
    /// custody event, recorded before the bundle is sealed so the bundle carries it.
    pub fn export_evidence(
        &self,
        incident: u64,
        out: &Path,
        actor: &str,
    ) -> Result<usize, EvidenceError> {
        let record = self.incident(incident)?;
        let items = self.evidence(incident)?;
        if out.exists() {
            return Err(EvidenceError::DestinationExists {
                path: out.to_path_buf(),
            });
        }
        let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
        let (actor_o, dest) = (actor.to_owned(), out.display().to_string());
        let exported_at = self
            .writer()
            .submit(move |ctx| -> Result<_> {
                for id in &ids {
                    ctx.main.execute(
                        "INSERT INTO evidence_custody (evidence_id, at_ms, actor, action, details) VALUES (?1, ?2, ?3, 'exported', ?4)",
                        params![id, ctx.now_ms, actor_o, serde_json::json!({"to": dest}).to_string()],
                    )?;
                }
                let entry = TimelineEntry::new(
                    incident,
                    crate::incidents::timestamp(ctx),
                    &actor_o,
                    EntryKind::Evidence,
                    format!("{} evidence item(s) exported to a sealed bundle", ids.len()),
                    serde_json::json!({"items": ids, "to": dest, "custody": "exported"}),
                );
                crate::incidents::append_timeline(ctx, incident, &entry)?;
                Ok(ctx.now_ms)
            })
            .wait_blocking()?;
        let files = out.join("files");
        fs::create_dir_all(&files).map_err(io(&files))?;
        for item in &items {
            let src = self.locker().join(&item.sha256);
            let (sha, _) = sha256_file(&src)?;
            if sha != item.sha256 {
                return Err(EvidenceError::Tampered {
                    sha256: item.sha256.clone(),
                });
            }
            let dst = files.join(format!("{}-{}", item.sha256, item.name));
            fs::copy(&src, &dst).map_err(io(&dst))?;
        }
        let kr = self.keyring_read()?;
        let timeline = serde_json::to_value(&record.timeline)
            .map_err(|e| StoreError::corrupt(format!("incident {incident} timeline: {e}")))?;
        let manifest = Manifest {
            format: "bulwark-evidence-bundle-v1".into(),
            incident,
            exported_at_ms: exported_at,
            exported_by: actor.to_owned(),
            public_key: hex::encode(kr.public_key()),
            items: items.clone(),
            custody: self.custody(incident)?,
            timeline,
        };
        let text = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| StoreError::corrupt(format!("the bundle manifest: {e}")))?;
        let sig: Signature = kr.signing_key().sign(&text);
        let mpath = out.join("manifest.json");
        fs::File::create(&mpath)
            .and_then(|mut f| f.write_all(&text).and_then(|_| f.sync_all()))
            .map_err(io(&mpath))?;
        let spath = out.join("manifest.sig");
        fs::write(&spath, hex::encode(sig.to_bytes())).map_err(io(&spath))?;
        Ok(items.len())
    }
}

/// Checks a bundle offline against the ledger public key (hex): the signature over
/// the manifest, then every file's hash; names every altered, missing or extra file.
pub fn verify_bundle(dir: &Path, public_key_hex: &str) -> Result<BundleReport, VerifyBundleError> {
    let key_bytes: [u8; 32] = hex::decode(public_key_hex.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(VerifyBundleError::BadPublicKey)?;
    let key = VerifyingKey::from_bytes(&key_bytes).map_err(|_| VerifyBundleError::BadPublicKey)?;
    let unreadable = |path: &Path| {
        let path = path.to_path_buf();
        move |source| VerifyBundleError::Unreadable { path, source }
    };
    let mpath = dir.join("manifest.json");
    let text = fs::read(&mpath).map_err(unreadable(&mpath))?;
    let spath = dir.join("manifest.sig");
    let sig_hex = fs::read_to_string(&spath).map_err(unreadable(&spath))?;
    let mut problems = Vec::new();
    let sig_ok = hex::decode(sig_hex.trim())
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .map(|b| key.verify_strict(&text, &Signature::from_bytes(&b)).is_ok())
        .unwrap_or(false);
    if !sig_ok {
        problems.push("manifest.json: the signature does not match (the manifest was altered, or signed by another key)".into());
    }
    let manifest: Manifest =
        serde_json::from_slice(&text).map_err(VerifyBundleError::NotAManifest)?;
    let files = dir.join("files");
    let mut expected = std::collections::BTreeSet::new();
    for item in &manifest.items {
        let name = format!("{}-{}", item.sha256, item.name);
        let path = files.join(&name);
        expected.insert(name.clone());
        if !path.is_file() {
            problems.push(format!("files/{name}: missing"));
            continue;
        }
        let (sha, size) = match sha256_file(&path) {
            Ok(hashed) => hashed,
            Err(e) => {
                problems.push(format!("files/{name}: unreadable ({e})"));
                continue;
            }
        };
        if sha != item.sha256 || size != item.size {
            problems.push(format!(
                "files/{name}: altered (its SHA-256 no longer matches the manifest)"
            ));
        }
    }
    if let Ok(entries) = fs::read_dir(&files) {
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if !expected.contains(&n) {
                problems.push(format!("files/{n}: not in the manifest"));
            }
        }
    }
    Ok(BundleReport {
        incident: manifest.incident,
        items: manifest.items.len(),
        problems,
    })
}
