//! `bulwark vault import --from DSN --mapping FILE`: the store's customers
//! copied from its own database into the vault, read-only on the database's
//! side, in key order and in batches. A checkpoint after each batch lets a
//! stopped import resume after the last key it finished; the vault refuses
//! a second customer with the same external id, so a batch re-read after a
//! crash creates nobody twice. At the end the counts are verified against
//! the table. Never prints a value: counts, keys' positions and field names.

use std::collections::{BTreeMap, VecDeque};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use bulwark_discover::residency::Names;
use bulwark_sources::import::{Mapping, Record, BATCH};
use bulwark_store::{CustomerWriteError, NewCustomer, Store};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::{operator, secrets, DataDirArg};

#[derive(clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    dir: DataDirArg,
    /// The store's database (read-only): mysql://…, postgres://… or a SQLite file.
    #[arg(long = "from", env = "BULWARK_DISCOVER_DSN", hide_env_values = true)]
    from: String,
    /// Which columns hold which vault field and the residency (TOML; examples
    /// for Magento 2, WooCommerce and PrestaShop in docs/import/).
    #[arg(long)]
    mapping: PathBuf,
    /// Read with an account that can write (the session is read-only anyway).
    #[arg(long)]
    i_know: bool,
    /// Start from the first customer again instead of after the checkpoint
    /// (customers already in the vault are recognised by external id).
    #[arg(long)]
    restart: bool,
    /// Customers read per batch (one checkpoint per batch).
    #[arg(long, default_value_t = BATCH)]
    batch: usize,
}

/// Where an import stands, kept in the data directory after each batch.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Checkpoint {
    source: String,
    /// The last key whose batch is fully in the vault.
    after: Option<String>,
    imported: u64,
    already: u64,
    no_residency: u64,
    rejected: u64,
    /// Rejections per field (validation messages name fields, not values).
    rejected_by: BTreeMap<String, u64>,
}

fn checkpoint_path(dir: &Path, source: &str, mapping: &str) -> PathBuf {
    let mut h = sha2::Sha256::new();
    h.update(source.as_bytes());
    h.update([0]);
    h.update(mapping.as_bytes());
    let tag = hex::encode(&h.finalize()[..8]);
    dir.join("imports").join(format!("{tag}.json"))
}

fn save(path: &Path, c: &Checkpoint) -> anyhow::Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(c)?)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// How many creations of one thread may wait on the writer at once.
const WINDOW: usize = 2048;

/// What storing one chunk of a batch came to.
#[derive(Default)]
struct Tally {
    imported: u64,
    already: u64,
    no_residency: u64,
    rejected: u64,
    rejected_by: BTreeMap<String, u64>,
}

fn store_chunk(
    store: &Store,
    who: &bulwark_store::Principal,
    records: Vec<Record>,
) -> anyhow::Result<Tally> {
    let mut t = Tally::default();
    let mut pending = VecDeque::new();
    let settle = |p: bulwark_store::Pending<uuid::Uuid, CustomerWriteError>,
                  t: &mut Tally|
     -> anyhow::Result<()> {
        match p.wait_blocking() {
            Ok(_) => t.imported += 1,
            Err(CustomerWriteError::DuplicateExternalId) => t.already += 1,
            Err(e) => return Err(e).context("storing a customer"),
        }
        Ok(())
    };
    for r in records {
        let Some(residency) = r.residency else {
            t.no_residency += 1;
            continue;
        };
        let new = NewCustomer {
            external_id: Some(r.external_id),
            residency,
            language: None,
            fields: r
                .fields
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect(),
        };
        match store.create_customer(&new, who) {
            Ok(p) => pending.push_back(p),
            Err(CustomerWriteError::DuplicateExternalId) => t.already += 1,
            Err(CustomerWriteError::Invalid(e)) => {
                t.rejected += 1;
                for field in &e.0 {
                    *t.rejected_by.entry(field.field.clone()).or_default() += 1;
                }
            }
            Err(e) => return Err(e).context("storing a customer"),
        }
        if pending.len() >= WINDOW {
            for _ in 0..WINDOW / 2 {
                if let Some(p) = pending.pop_front() {
                    settle(p, &mut t)?;
                }
            }
        }
    }
    for p in pending {
        settle(p, &mut t)?;
    }
    Ok(t)
}

pub fn import(a: ImportArgs) -> anyhow::Result<ExitCode> {
    if a.batch == 0 || a.batch > 100_000 {
        anyhow::bail!("--batch must be 1 to 100000");
    }
    let text = std::fs::read_to_string(&a.mapping)
        .with_context(|| format!("reading {}", a.mapping.display()))?;
    let mapping = Mapping::parse(&text).with_context(|| a.mapping.display().to_string())?;
    let mut source = bulwark_sources::open(&a.from, a.i_know)?;
    let label = source.label();
    let tables = source.tables()?;
    let plan = mapping
        .resolve(&tables)
        .with_context(|| format!("{} against {label}", a.mapping.display()))?;
    let store = Store::open(&a.dir.data_dir, Some(&secrets::unlock()?))?;
    let path = checkpoint_path(&a.dir.data_dir, &label, &text);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut cp: Checkpoint = match (a.restart, std::fs::read(&path)) {
        (false, Ok(bytes)) => serde_json::from_slice(&bytes)
            .with_context(|| format!("{} (delete it or give --restart)", path.display()))?,
        _ => Checkpoint {
            source: label.clone(),
            ..Checkpoint::default()
        },
    };
    if cp.after.is_some() {
        eprintln!(
            "resuming an import of {label}: {} imported so far",
            cp.imported
        );
    }
    let names = Names::new();
    let who = operator();
    let tty = std::io::stderr().is_terminal();
    let started = std::time::Instant::now();
    let mut this_run = 0u64;
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 8);
    loop {
        let records = plan.batch(source.as_mut(), &names, cp.after.as_deref(), a.batch)?;
        let Some(last) = records.last().map(|r| r.key.clone()) else {
            break;
        };
        // Sealing is the costly part and happens on the caller's thread:
        // one thread per core seals, the store's writer commits in batches.
        let records_n = records.len() as u64;
        let per = records.len().div_ceil(threads).max(1);
        let mut chunks: Vec<Vec<Record>> = Vec::new();
        let mut rest = records;
        while rest.len() > per {
            let tail = rest.split_off(per);
            chunks.push(rest);
            rest = tail;
        }
        chunks.push(rest);
        let results: Vec<anyhow::Result<Tally>> = std::thread::scope(|s| {
            let handles: Vec<_> = chunks
                .into_iter()
                .map(|chunk| {
                    let (store, who) = (&store, &who);
                    s.spawn(move || store_chunk(store, who, chunk))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("an import thread stopped")))
                })
                .collect()
        });
        for r in results {
            let t = r?;
            cp.imported += t.imported;
            cp.already += t.already;
            cp.no_residency += t.no_residency;
            cp.rejected += t.rejected;
            for (f, n) in t.rejected_by {
                *cp.rejected_by.entry(f).or_default() += n;
            }
        }
        this_run += records_n;
        cp.after = Some(last);
        save(&path, &cp)?;
        if tty {
            let s = started.elapsed().as_secs_f64();
            eprint!(
                "\r{label}: {} imported, {} already there ({:.0}/s)\x1b[K",
                cp.imported,
                cp.already,
                this_run as f64 / s.max(0.001)
            );
        }
    }
    if tty {
        eprintln!();
    }
    // Verified counts: every row of the customer table is accounted for.
    let m = plan.mapping();
    let d = source.dialect();
    let mut total = 0u64;
    source.query(
        &format!(
            "SELECT {} FROM {} WHERE {} IS NOT NULL",
            (d.text)("COUNT(*)"),
            (d.quote)(&m.table),
            (d.quote)(&m.key)
        ),
        &mut |row| {
            total = row
                .first()
                .copied()
                .flatten()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        },
    )?;
    let seen = cp.imported + cp.already + cp.no_residency + cp.rejected;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{label}: {total} customers in {}; {} imported, {} already in the vault, {} without a residency (not imported), {} rejected{}",
        m.table,
        cp.imported,
        cp.already,
        cp.no_residency,
        cp.rejected,
        if cp.rejected_by.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                cp.rejected_by
                    .iter()
                    .map(|(f, n)| format!("{f}: {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    println!(
        "this run: {this_run} read in {secs:.1} s ({:.0} customers/s)",
        this_run as f64 / secs.max(0.001)
    );
    store
        .record_event(
            &who.id,
            "vault.imported",
            &format!("source:{label}"),
            serde_json::json!({"customers": total, "imported": cp.imported, "already": cp.already,
                               "no_residency": cp.no_residency, "rejected": cp.rejected}),
        )
        .wait_blocking()?;
    if seen != total {
        eprintln!("the counts do not add up: {seen} accounted for, {total} in {} (rows added or removed while importing? run again to pick up new keys)", m.table);
        return Ok(ExitCode::from(1));
    }
    println!("verified: every customer of {} is accounted for", m.table);
    Ok(ExitCode::SUCCESS)
}
