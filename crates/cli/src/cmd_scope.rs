//! `bulwark scope`: who was affected and what was exposed, computed from the
//! vault's access log; optionally written out as an obligations scenario.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bulwark_law::{aggregate, jurisdiction_of, Scenario};
use bulwark_model::DataElement;
use bulwark_store::{ScopeQuery, Store};
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
    #[arg(long)]
    since: String,
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
    let q = ScopeQuery {
        principals: a.principals.clone(),
        sources: a.sources.clone(),
        since_ms: parse_when(&a.since)?,
        until_ms: a
            .until
            .as_deref()
            .map(parse_when)
            .transpose()?
            .unwrap_or(now),
    };
    let store = Store::open(&a.dir.data_dir, None)?;
    let result = store.scope_from_access_log(&q)?;
    let known: Vec<(String, Vec<DataElement>)> = result
        .customers
        .iter()
        .filter_map(|c| {
            c.residency
                .as_ref()
                .map(|r| (jurisdiction_of(r), c.elements.iter().copied().collect()))
        })
        .collect();
    let erased = result.customers.len() - known.len();
    let affected = aggregate(known.iter().map(|(j, e)| (j.as_str(), e.as_slice())));
    if a.json {
        println!(
            "{}",
            serde_json::json!({"customers": result.customers, "reveals": result.reveals, "by_element": result.by_element,
                               "affected": affected, "residency_unknown": erased})
        );
    } else {
        println!(
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
        );
        println!("\nby element:");
        for (e, n) in &result.by_element {
            println!("  {:<20} {n:>10}", e.code());
        }
        println!("\nby jurisdiction and elements:");
        for g in &affected {
            let codes: Vec<&str> = g.elements.iter().map(|e| e.code()).collect();
            println!(
                "  {:<10} {:>10}  {}",
                g.jurisdiction,
                g.count,
                codes.join(" + ")
            );
        }
        if erased > 0 {
            println!(
                "  {:<10} {erased:>10}  (erased since: residency unknown)",
                "?"
            );
        }
    }
    if let Some(id) = a.incident {
        let summary = serde_json::json!({
            "query": {"principals": a.principals, "sources": a.sources, "since_ms": q.since_ms, "until_ms": q.until_ms},
            "customers": result.customers.len(), "reveals": result.reveals, "by_element": result.by_element,
            "affected": affected, "residency_unknown": erased, "encrypted": false,
        });
        let version = store
            .save_scope_snapshot(
                id,
                summary,
                serde_json::to_value(&result.customers)?,
                &crate::operator().id,
            )
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
                                          "encrypted": false, "key_compromised": false, "affected": affected});
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
