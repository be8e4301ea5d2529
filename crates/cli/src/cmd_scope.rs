//! `bulwark scope`: who was affected and what was exposed, computed from the
//! vault's access log, from a compromised system of the asset inventory, or
//! from an imported export; optionally written out as an obligations scenario.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bulwark_law::Scenario;
use bulwark_model::DataElement;
use bulwark_store::{ScopeBasis, ScopeQuery, Store};
use clap::Args;

use crate::{fmt_ms, parse_when, DataDirArg};

#[derive(Args)]
pub struct ScopeArgs {
    #[command(flatten)]
    dir: DataDirArg,
    /// A compromised principal (`key:<id>` or `operator:<name>`); repeat for several.
    #[arg(long = "principal")]
    principals: Vec<String>,
    /// A hostile source address; repeat for several.
    #[arg(long = "source")]
    sources: Vec<String>,
    /// Window start (RFC 3339 or a look-back such as 30d).
    #[arg(long, required_unless_present_any = ["import", "asset"])]
    since: Option<String>,
    /// Instead of the access log: a compromised system from the asset inventory
    /// (`bulwark assets list`). Every vault customer whose data it held is
    /// affected, with the asset's elements (narrowed per customer to what the
    /// vault holds for them, where the vault holds that element for anyone).
    #[arg(long, conflicts_with_all = ["principals", "sources", "import", "elements", "since", "until"])]
    asset: Option<String>,
    /// With --asset of a discovered asset (`discover --save-asset`): the
    /// compromised tables (comma-separated; default every table of the asset).
    /// Only customers with a value in a row of these tables are affected, with
    /// the elements present there.
    #[arg(long, requires = "asset", value_delimiter = ',')]
    tables: Vec<String>,
    /// With --asset: an SQL condition on the compromised tables' rows
    /// (`created_at < '2024-04-01'`), as the database's dialect writes it.
    #[arg(long = "where", requires = "asset")]
    filter: Option<String>,
    /// With --asset of a discovered asset: its database (read-only; default
    /// BULWARK_DISCOVER_DSN). Without it the vault is used, as for any asset.
    #[arg(long = "from", env = "BULWARK_DISCOVER_DSN", hide_env_values = true)]
    from: Option<String>,
    /// Read the database with an account that can write (the session is read-only anyway).
    #[arg(long, requires = "from")]
    i_know: bool,
    /// Instead of the access log: an export of a compromised system, as CSV with a
    /// header `customer_id,country,subdivision` (subdivision may be empty).
    #[arg(long, conflicts_with_all = ["principals", "sources"], requires = "elements")]
    import: Option<PathBuf>,
    /// The data elements that system held (comma-separated), for --import.
    #[arg(long)]
    elements: Option<String>,
    /// The exposed data was encrypted…
    #[arg(long)]
    encrypted: bool,
    /// …but the key was taken too (no safe harbour).
    #[arg(long)]
    key_compromised: bool,
    /// Window end (exclusive; default now).
    #[arg(long)]
    until: Option<String>,
    /// Store the result as the next scope snapshot of this incident.
    #[arg(long)]
    incident: Option<u64>,
    /// Write an obligations scenario (for `bulwark obligations --scenario`) to this file.
    #[arg(long)]
    scenario_out: Option<PathBuf>,
    /// When the store became aware of the breach, for the scenario (default now).
    #[arg(long)]
    aware_at: Option<String>,
    /// Every affected customer and its elements, as JSON.
    #[arg(long)]
    json: bool,
}

pub fn scope(a: ScopeArgs) -> anyhow::Result<ExitCode> {
    let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let store = Store::open(&a.dir.data_dir, None)?;
    let (basis, result) = match (&a.import, &a.asset) {
        (Some(path), _) => {
            let elements = parse_elements(a.elements.as_deref().unwrap_or(""))?;
            let result = import_csv(path, &elements)?;
            (
                ScopeBasis::Import {
                    elements: elements.into_iter().collect(),
                    at_ms: now,
                },
                result,
            )
        }
        (None, Some(name)) => {
            let asset = store.dir().asset(name)?;
            match &a.from {
                Some(dsn) => from_database(&a, &asset, dsn)?,
                None => {
                    if !a.tables.is_empty() || a.filter.is_some() {
                        anyhow::bail!("--tables and --where query the asset's own database: give --from DSN (or BULWARK_DISCOVER_DSN)");
                    }
                    let result = store.scope_from_asset(&asset)?;
                    (ScopeBasis::Asset(asset), result)
                }
            }
        }
        (None, None) => {
            let q = ScopeQuery {
                principals: a.principals.clone(),
                sources: a.sources.clone(),
                since_ms: parse_when(a.since.as_deref().unwrap_or("30d"))?,
                until_ms: a
                    .until
                    .as_deref()
                    .map(parse_when)
                    .transpose()?
                    .unwrap_or(now),
            };
            let r = store.scope_from_access_log(&q)?;
            (ScopeBasis::AccessLog(q), r)
        }
    };
    let summary = result.summary(&basis, a.encrypted, a.key_compromised);
    let affected = &summary.affected;
    let erased = summary.residency_unknown;
    if a.json {
        println!(
            "{}",
            serde_json::json!({"customers": result.customers, "reveals": result.reveals, "by_element": result.by_element,
                               "by_jurisdiction": summary.by_jurisdiction, "affected": affected, "residency_unknown": erased})
        );
    } else {
        match &basis {
            ScopeBasis::Import { .. } => {
                if let Some(p) = &a.import {
                    println!(
                        "{} customers affected in the export {}",
                        result.customers.len(),
                        p.display()
                    );
                }
            }
            ScopeBasis::Database {
                asset,
                database,
                tables,
                ..
            } => println!(
                "{} customers affected by the compromise of {} ({}) in {database}",
                result.customers.len(),
                tables.join(", "),
                asset
            ),
            ScopeBasis::Asset(asset) => println!(
                "{} customers affected by the compromise of {} (the inventory says it holds {})",
                result.customers.len(),
                asset.name,
                asset.customers
            ),
            ScopeBasis::AccessLog(q) => println!(
                "{} customers affected ({} reveals) by {} between {} and {}",
                result.customers.len(),
                result.reveals,
                a.principals
                    .iter()
                    .chain(&a.sources)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                fmt_ms(q.since_ms),
                fmt_ms(q.until_ms)
            ),
        }
        println!("\nby element:");
        for (e, n) in &result.by_element {
            println!("  {:<20} {n:>10}", e.code());
        }
        println!("\nby jurisdiction and elements:");
        for g in affected {
            let codes: Vec<&str> = g.elements.iter().map(|e| e.code()).collect();
            println!(
                "  {:<10} {:>10}  {}",
                g.jurisdiction,
                g.count,
                codes.join(" + ")
            );
        }
        if erased > 0 {
            let why = if matches!(basis, ScopeBasis::Database { .. }) {
                "residency unknown: no country in their records"
            } else {
                "erased since: residency unknown"
            };
            println!("  {:<10} {erased:>10}  ({why})", "?");
        }
    }
    if let Some(id) = a.incident {
        let version = store
            .save_scope(id, &result, &summary, &crate::operator().id)?
            .wait_blocking()?;
        eprintln!(
            "saved as scope v{version} of incident {id}; next: bulwark obligations --incident {id}"
        );
    }
    if let Some(path) = &a.scenario_out {
        let aware_at = match &a.aware_at {
            Some(t) => {
                time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                    .with_context(|| format!("--aware-at `{t}` is not an RFC 3339 time"))?
            }
            None => time::OffsetDateTime::now_utc(),
        };
        // Revealed through the vault means read in the clear: no encryption safe harbour.
        let scenario = serde_json::json!({"aware_at": aware_at.format(&time::format_description::well_known::Rfc3339)?,
                                          "encrypted": a.encrypted, "key_compromised": a.key_compromised, "affected": affected});
        let _: Scenario =
            serde_json::from_value(scenario.clone()).context("building the scenario")?;
        std::fs::write(path, serde_json::to_string_pretty(&scenario)?)
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!(
            "scenario written to {}; next: bulwark obligations --scenario {}",
            path.display(),
            path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Scope from the compromised system's own database: the asset's saved
/// discovery plan run again over the compromised tables, read-only. Each
/// customer is placed where their records first put them; those with
/// addresses in several jurisdictions are counted and reported.
fn from_database(
    a: &ScopeArgs,
    asset: &bulwark_incident::Asset,
    dsn: &str,
) -> anyhow::Result<(ScopeBasis, bulwark_store::ScopeResult)> {
    let plan = asset
        .facts
        .as_ref()
        .and_then(|f| f.plan.clone())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "asset {} has no discovery plan: run `bulwark discover DSN --save-asset {}` first (or leave out --from to scope from the vault)",
                asset.name,
                asset.name
            )
        })?;
    let plan: bulwark_discover::subjects::Plan = serde_json::from_value(plan)
        .with_context(|| format!("asset {}: the saved discovery plan", asset.name))?;
    let known: Vec<&str> = plan.scans.iter().map(|s| s.table.as_str()).collect();
    for t in &a.tables {
        if !known.contains(&t.as_str()) {
            anyhow::bail!(
                "--tables: {t} is not a table of asset {} that ties data to a customer (known: {})",
                asset.name,
                known.join(", ")
            );
        }
    }
    let tables: Vec<String> = if a.tables.is_empty() {
        known.iter().map(|t| (*t).to_owned()).collect()
    } else {
        a.tables.clone()
    };
    let mut source = bulwark_sources::open(dsn, a.i_know)?;
    let database = source.label();
    let tty = std::io::stderr().is_terminal();
    let subjects = bulwark_sources::subjects_of(
        source.as_mut(),
        &plan,
        Some(&tables),
        a.filter.as_deref(),
        &mut |p| {
            if let (true, bulwark_sources::Progress::Counting(done, total, rows)) = (tty, p) {
                eprint!("\r{database}: {done}/{total} tables, {rows} rows\x1b[K");
            }
        },
    )
    .with_context(|| format!("reading {database}"))?;
    if tty {
        eprintln!();
    }
    let several = subjects.iter().filter(|s| s.residencies.len() > 1).count();
    let mut by_element = std::collections::BTreeMap::new();
    let customers: Vec<bulwark_store::AffectedCustomer> = subjects
        .into_iter()
        .map(|s| {
            for e in &s.elements {
                *by_element.entry(*e).or_insert(0u64) += 1;
            }
            bulwark_store::AffectedCustomer {
                id: format!("{}:{}", asset.name, s.key),
                residency: s.residencies.into_iter().next(),
                elements: s.elements,
                reveals: 0,
            }
        })
        .collect();
    if several > 0 {
        eprintln!("note: {several} customers have records in more than one jurisdiction; each is counted where their first record places them");
    }
    let elements = by_element.keys().copied().collect();
    Ok((
        ScopeBasis::Database {
            asset: asset.name.clone(),
            database,
            tables,
            filter: a.filter.clone(),
            elements,
        },
        bulwark_store::ScopeResult {
            customers,
            reveals: 0,
            by_element,
        },
    ))
}

fn parse_elements(list: &str) -> anyhow::Result<Vec<DataElement>> {
    let mut out = Vec::new();
    for code in list.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        out.push(code.parse::<DataElement>()?);
    }
    if out.is_empty() {
        anyhow::bail!("--elements lists no data elements");
    }
    Ok(out)
}

/// Reads `customer_id,country,subdivision` rows. Every bad row is reported by line
/// number and nothing is used until the whole file is good.
fn import_csv(
    path: &std::path::Path,
    elements: &[DataElement],
) -> anyhow::Result<bulwark_store::ScopeResult> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines().enumerate();
    let header = lines
        .next()
        .map(|(_, h)| h.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if header.replace(' ', "") != "customer_id,country,subdivision" {
        anyhow::bail!(
            "{}: the first line must be `customer_id,country,subdivision`",
            path.display()
        );
    }
    let mut customers = Vec::new();
    let mut errors = Vec::new();
    let mut by_element = std::collections::BTreeMap::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line
            .split(',')
            .map(|c| c.trim().trim_matches('"'))
            .collect();
        if cols.len() != 3 || cols[0].is_empty() {
            errors.push(format!(
                "line {}: expected customer_id,country,subdivision",
                i + 1
            ));
            continue;
        }
        let residency = bulwark_model::Residency {
            country: cols[1].to_owned(),
            subdivision: (!cols[2].is_empty()).then(|| cols[2].to_owned()),
        };
        match residency.normalized() {
            Ok(r) => {
                for e in elements {
                    *by_element.entry(*e).or_insert(0u64) += 1;
                }
                customers.push(bulwark_store::AffectedCustomer {
                    id: cols[0].to_owned(),
                    residency: Some(r),
                    elements: elements.iter().copied().collect(),
                    reveals: 0,
                });
            }
            Err(e) => errors.push(format!("line {}: {e}", i + 1)),
        }
    }
    if !errors.is_empty() {
        anyhow::bail!(
            "{}: {} bad row(s), nothing imported:\n  {}",
            path.display(),
            errors.len(),
            errors.join("\n  ")
        );
    }
    Ok(bulwark_store::ScopeResult {
        customers,
        reveals: 0,
        by_element,
    })
}
