//! `bulwark discover DSN…`: what personal data the store's own databases
//! hold, by column, and what in them breaks PCI DSS — read-only, from bounded
//! samples, printing counts and reasons (masked examples only with
//! `--show-masked`), never a sampled value.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use bulwark_discover::classify::Options;
use bulwark_discover::findings::Severity;

#[derive(clap::Args)]
pub struct DiscoverArgs {
    /// Databases to read: sqlite:///path/to/shop.db,
    /// mysql://user:password@host:3306/database (PostgreSQL is not built yet
    /// and is refused saying so). Put passwords in BULWARK_DISCOVER_DSN rather
    /// than on the command line.
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
    let tty = std::io::stderr().is_terminal();
    let mut serious = false;
    let mut all = Vec::new();
    for dsn in &a.dsn {
        let mut source = bulwark_sources::open(dsn, a.i_know)?;
        let label = source.label();
        let d = bulwark_sources::discover(source.as_mut(), a.sample, opts, |done, total| {
            if tty {
                eprint!("\r{label}: {done}/{total} tables read");
            }
        })
        .with_context(|| format!("discovering {label}"))?;
        if tty {
            eprintln!();
        }
        serious |= d.findings.iter().any(|f| f.severity >= Severity::High);
        all.push(d);
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
