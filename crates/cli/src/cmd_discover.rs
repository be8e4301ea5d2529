//! `bulwark discover DSN…`: what personal data the store's own databases
//! hold, by column, and what in them breaks PCI DSS — read-only, from bounded
//! samples, printing counts and reasons (masked examples only with
//! `--show-masked`), never a sampled value.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use bulwark_discover::classify::Options;
use bulwark_discover::findings::Severity;
use bulwark_incident::{
    facts_changes, Asset, AssetFacts, FactColumn, FactFinding, JurisdictionFacts,
};
use bulwark_model::DataElement;
use bulwark_sources::{CustomerFacts, Progress};

#[derive(clap::Args)]
pub struct DiscoverArgs {
    /// Databases to read: sqlite:///path/to/shop.db,
    /// mysql://user:password@host:3306/database (MySQL, MariaDB),
    /// postgres://user:password@host:5432/database (the current schema). Put
    /// passwords in BULWARK_DISCOVER_DSN rather than on the command line.
    #[arg(
        value_name = "DSN",
        env = "BULWARK_DISCOVER_DSN",
        hide_env_values = true,
        value_delimiter = ' ',
        required = true
    )]
    dsn: Vec<String>,
    /// Read with an account that can write (the session is read-only anyway).
    #[arg(long)]
    i_know: bool,
    /// Values sampled per column (spread over the table).
    #[arg(long, default_value_t = bulwark_sources::DEFAULT_SAMPLE)]
    sample: usize,
    /// Show up to three masked examples per column (411111******1111).
    #[arg(long)]
    show_masked: bool,
    #[arg(long)]
    json: bool,
    /// Write what was found into the asset inventory as this asset (its
    /// elements, customers per jurisdiction, tables and columns, findings,
    /// scan time); a re-scan shows what changed. One DSN only.
    #[arg(long, value_name = "NAME")]
    save_asset: Option<String>,
    /// Where the saved asset runs (default: kept, or `unknown` for a new one).
    #[arg(long, requires = "save_asset")]
    hosting: Option<String>,
    /// Who owns the saved asset (default: kept, or `unassigned`).
    #[arg(long, requires = "save_asset")]
    owner: Option<String>,
    #[command(flatten)]
    dir: crate::DataDirArg,
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRITICAL",
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
    }
}

/// Exit 3 when a finding is high or critical (stored card data, weak or
/// plain passwords), so a scheduled run can fail loudly.
pub fn discover(a: DiscoverArgs) -> anyhow::Result<ExitCode> {
    let opts = Options {
        show_masked: a.show_masked,
    };
    if a.save_asset.is_some() && a.dsn.len() != 1 {
        anyhow::bail!("--save-asset saves one database: give one DSN");
    }
    let tty = std::io::stderr().is_terminal();
    let mut serious = false;
    let mut all = Vec::new();
    for dsn in &a.dsn {
        let mut source = bulwark_sources::open(dsn, a.i_know)?;
        let label = source.label();
        let d = bulwark_sources::discover(source.as_mut(), a.sample, opts, |p| {
            if tty {
                match p {
                    Progress::Sampled(done, total) => {
                        eprint!("\r{label}: {done}/{total} tables sampled\x1b[K")
                    }
                    Progress::Counting(done, total, rows) => eprint!(
                        "\r{label}: counting customers, {done}/{total} tables, {rows} rows\x1b[K"
                    ),
                }
            }
        })
        .with_context(|| format!("discovering {label}"))?;
        if tty {
            eprintln!();
        }
        serious |= d.findings.iter().any(|f| f.severity >= Severity::High);
        all.push(d);
    }
    if let (Some(name), Some(d)) = (&a.save_asset, all.first()) {
        save_asset(&a, name, d)?;
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&all)?);
    } else {
        for d in &all {
            println!(
                "{}: {} tables, {} columns read, {} hold personal data",
                d.source,
                d.tables,
                d.columns_read,
                d.columns.len()
            );
            for c in &d.columns {
                let element = c.element.map(|e| e.code()).unwrap_or("?");
                println!(
                    "  {:<44} {:<20} confidence {:>3}  {}",
                    format!("{}.{}", c.table, c.column),
                    element,
                    c.confidence,
                    c.reasons.join("; ")
                );
                if !c.masked_examples.is_empty() {
                    println!("  {:<44} e.g. {}", "", c.masked_examples.join(", "));
                }
            }
            match &d.customers {
                Some(c) => print_customers(c),
                None => println!(
                    "  no customer table found (a table with an e-mail column and a key): no counts per jurisdiction"
                ),
            }
            if !d.untied_tables.is_empty() {
                println!(
                    "  personal data in tables tied to no customer: {}",
                    d.untied_tables.join(", ")
                );
            }
            if d.findings.is_empty() {
                println!("  no findings");
            }
            for f in &d.findings {
                println!(
                    "  {:<8} {:<22} {}.{}: {} — {}",
                    severity(f.severity),
                    f.code,
                    f.table,
                    f.column,
                    f.detail,
                    f.requirement
                );
                println!("  {:<8} {:<22} what to do: {}", "", "", f.remedy);
            }
        }
    }
    Ok(if serious {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_customers(c: &CustomerFacts) {
    let n = &c.counts;
    println!(
        "  customers: {} in {} (key {}); residency from {}",
        n.customers,
        c.plan.customer_table,
        c.plan.customer_key,
        if c.plan.residency_from.is_empty() {
            "phone prefixes only".to_owned()
        } else {
            c.plan.residency_from.join(", ")
        }
    );
    println!(
        "  residency: {} from records, {} from phone prefixes only, {} unknown, {} in more than one jurisdiction",
        n.residency.from_records, n.residency.from_phone, n.residency.unknown, n.residency.several
    );
    for (j, jc) in &n.by_jurisdiction {
        let elements: Vec<String> = jc
            .by_element
            .iter()
            .map(|(e, k)| format!("{} {k}", e.code()))
            .collect();
        println!(
            "  {:<10} {:>9} customers  {}",
            j,
            jc.customers,
            elements.join(", ")
        );
    }
}

/// The asset's facts from a discovery: no value, only what holds what.
fn facts_of(d: &bulwark_sources::Discovery) -> anyhow::Result<AssetFacts> {
    let counts = d.customers.as_ref().map(|c| &c.counts);
    let today = time::OffsetDateTime::now_utc().date().to_string();
    Ok(AssetFacts {
        source: d.source.clone(),
        scanned_at: time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)?
            .format(&time::format_description::well_known::Rfc3339)?,
        customer_table: d
            .customers
            .as_ref()
            .map(|c| format!("{}.{}", c.plan.customer_table, c.plan.customer_key)),
        by_jurisdiction: counts
            .map(|c| {
                c.by_jurisdiction
                    .iter()
                    .map(|(j, jc)| {
                        (
                            j.clone(),
                            JurisdictionFacts {
                                customers: jc.customers,
                                by_element: jc.by_element.clone(),
                            },
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        residency_unknown: counts.map(|c| c.residency.unknown).unwrap_or(0),
        columns: d
            .columns
            .iter()
            .filter_map(|c| {
                Some(FactColumn {
                    table: c.table.clone(),
                    column: c.column.clone(),
                    element: c.element?,
                    confidence: c.confidence,
                })
            })
            .collect(),
        findings: d
            .findings
            .iter()
            .map(|f| FactFinding {
                code: f.code.to_owned(),
                severity: severity(f.severity).to_ascii_lowercase(),
                table: f.table.clone(),
                column: f.column.clone(),
                requirement: f.requirement.to_owned(),
                first_seen: today.clone(),
            })
            .collect(),
        plan: d
            .customers
            .as_ref()
            .map(|c| serde_json::to_value(&c.plan))
            .transpose()?,
    })
}

fn save_asset(a: &DiscoverArgs, name: &str, d: &bulwark_sources::Discovery) -> anyhow::Result<()> {
    let store = bulwark_store::Store::open(&a.dir.data_dir, None)?;
    let mut facts = facts_of(d)?;
    let mut all = a.dir.files().assets()?;
    let old = all.iter().find(|x| x.name == name).cloned();
    // A finding still there keeps the day it was first found: its task's due date.
    if let Some(before) = old.as_ref().and_then(|o| o.facts.as_ref()) {
        for f in &mut facts.findings {
            if let Some(b) = before
                .findings
                .iter()
                .find(|b| (&b.code, &b.table, &b.column) == (&f.code, &f.table, &f.column))
                .filter(|b| !b.first_seen.is_empty())
            {
                f.first_seen = b.first_seen.clone();
            }
        }
    }
    let elements: BTreeSet<DataElement> = facts.columns.iter().map(|c| c.element).collect();
    let customers = d
        .customers
        .as_ref()
        .map(|c| c.counts.customers)
        .unwrap_or(0);
    let asset = Asset {
        name: name.to_owned(),
        elements: elements.clone(),
        customers,
        hosting: a
            .hosting
            .clone()
            .or_else(|| old.as_ref().map(|o| o.hosting.clone()))
            .unwrap_or_else(|| "unknown".into()),
        owner: a
            .owner
            .clone()
            .or_else(|| old.as_ref().map(|o| o.owner.clone()))
            .unwrap_or_else(|| "unassigned".into()),
        facts: Some(Box::new(facts.clone())),
    };
    let changes = match old.as_ref().and_then(|o| o.facts.as_ref()) {
        Some(before) => facts_changes(before, &facts),
        None => Vec::new(),
    };
    all.retain(|x| x.name != name);
    all.push(asset);
    a.dir.files().save_assets(&all)?;
    let codes: Vec<&str> = elements.iter().map(|e| e.code()).collect();
    store
        .record_event(
            &crate::operator().id,
            "asset.discovered",
            &format!("asset:{name}"),
            serde_json::json!({
                "source": facts.source, "customers": customers, "elements": codes,
                "findings": facts.findings.len(), "changes": changes.len(),
            }),
        )
        .wait_blocking()?;
    match (&old, old.as_ref().and_then(|o| o.facts.as_ref())) {
        (None, _) => eprintln!("asset {name} saved: {customers} customers, {}", codes.join(" ")),
        (Some(_), None) => eprintln!(
            "asset {name} updated from discovery (it was typed in by hand): {customers} customers, {}",
            codes.join(" ")
        ),
        (Some(_), Some(before)) if changes.is_empty() => eprintln!(
            "asset {name} re-scanned: nothing changed since {}",
            before.scanned_at
        ),
        (Some(_), Some(before)) => {
            eprintln!("asset {name} re-scanned; since {}:", before.scanned_at);
            for c in &changes {
                eprintln!("  {c}");
            }
        }
    }
    if customers == 0 {
        eprintln!("note: no customer table was found, so the asset counts no customers; scope from it is not possible");
    }
    Ok(())
}
