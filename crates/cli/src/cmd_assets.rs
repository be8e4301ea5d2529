//! `bulwark assets …` (the critical-asset inventory, kept in `assets.json` in the
//! data directory) and `bulwark investigate` (entry point and dwell time).

use std::collections::BTreeSet;
use std::process::ExitCode;

use bulwark_incident::{dwell, rank_assets, Activity, Asset, Subject, Window};
use bulwark_model::DataElement;
use bulwark_store::{AccessFilter, AlertFilter, Store};
use clap::{Args, Subcommand};

use crate::{fmt_ms, operator, parse_when, DataDirArg};

#[derive(Subcommand)]
pub enum AssetsCmd {
    /// The inventory ranked by sensitivity × customers (what would hurt most first).
    List {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long)]
        json: bool,
    },
    /// Add or replace (by name) a system and the data it holds.
    Add {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long)]
        name: String,
        /// A data element it holds; repeat for several.
        #[arg(long = "element", required = true)]
        elements: Vec<String>,
        /// How many customers' data it holds.
        #[arg(long)]
        customers: u64,
        #[arg(long)]
        hosting: String,
        #[arg(long)]
        owner: String,
    },
}

pub fn assets(c: AssetsCmd) -> anyhow::Result<ExitCode> {
    match c {
        AssetsCmd::List { dir, json } => {
            let ranked = rank_assets(&dir.files().assets()?);
            if json {
                println!("{}", serde_json::to_string_pretty(&ranked)?);
            } else {
                for r in ranked {
                    let codes: Vec<&str> = r.asset.elements.iter().map(|e| e.code()).collect();
                    println!(
                        "{:>2}. {:<24} {:>10} customers  {:<20} owner {:<12} {}",
                        r.rank,
                        r.asset.name,
                        r.asset.customers,
                        r.asset.hosting,
                        r.asset.owner,
                        codes.join(" ")
                    );
                }
            }
        }
        AssetsCmd::Add {
            dir,
            name,
            elements,
            customers,
            hosting,
            owner,
        } => {
            let store = Store::open(&dir.data_dir, None)?;
            let mut els = BTreeSet::new();
            for e in &elements {
                els.insert(e.parse::<DataElement>()?);
            }
            let mut all = dir.files().assets()?;
            // Typing an asset in again keeps what discovery read from it.
            let facts = all
                .iter()
                .find(|a| a.name == name)
                .and_then(|a| a.facts.clone());
            all.retain(|a| a.name != name);
            all.push(Asset {
                name: name.clone(),
                elements: els,
                customers,
                hosting,
                owner,
                facts,
            });
            dir.files().save_assets(&all)?;
            store
                .record_event(
                    &operator().id,
                    "asset.saved",
                    &format!("asset:{name}"),
                    serde_json::json!({"customers": customers, "elements": elements}),
                )
                .wait_blocking()?;
            println!("asset {name} saved ({} in the inventory)", all.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct InvestigateArgs {
    #[command(flatten)]
    dir: DataDirArg,
    /// A principal as logged (`key:<id>`, `operator:<user>`).
    #[arg(long, conflicts_with = "source")]
    principal: Option<String>,
    /// A source address.
    #[arg(long)]
    source: Option<String>,
    #[arg(long)]
    since: String,
    #[arg(long)]
    until: Option<String>,
    #[arg(long)]
    json: bool,
}

/// First and last activity of a principal or address in the access log and the
/// alerts: the entry point and how long the access lasted.
pub fn investigate(a: InvestigateArgs) -> anyhow::Result<ExitCode> {
    let subject = match (&a.principal, &a.source) {
        (Some(p), _) => Subject::Principal(p.clone()),
        (None, Some(s)) => Subject::Source(s.clone()),
        (None, None) => anyhow::bail!("give --principal or --source"),
    };
    let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    let (since, until) = (
        parse_when(&a.since)?,
        a.until
            .as_deref()
            .map(parse_when)
            .transpose()?
            .unwrap_or(now),
    );
    let to_time = |ms: i64| {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    };
    let store = Store::open(&a.dir.data_dir, None)?;
    let mut activity = Vec::new();
    let mut filter = AccessFilter {
        principal: a.principal.clone(),
        since_ms: Some(since),
        until_ms: Some(until),
        limit: 10_000,
        ..Default::default()
    };
    loop {
        let page = store.access_log(&filter)?;
        for r in &page {
            activity.push(Activity {
                at: r.at,
                principal: Some(r.principal.clone()),
                source: r.source.clone(),
                kind: format!(
                    "vault.{}.{}",
                    r.action,
                    serde_json::to_value(r.outcome)?.as_str().unwrap_or("")
                ),
                origin: format!("access_log:{}", r.id),
            });
        }
        match page.last() {
            Some(last) if page.len() == filter.limit => filter.after_id = Some(last.id),
            _ => break,
        }
    }
    for al in store.alerts(&AlertFilter {
        since_ms: Some(since),
        limit: 10_000,
        ..Default::default()
    })? {
        let text = format!(
            "{} {}",
            serde_json::to_string(&al.group_key)?,
            serde_json::to_string(&al.fields)?
        );
        let field = |k: &str| al.fields.get(k).or_else(|| al.group_key.get(k)).cloned();
        if al.first_seen_ms >= until
            || !text.contains(
                a.principal
                    .as_deref()
                    .or(a.source.as_deref())
                    .unwrap_or("\u{0}"),
            )
        {
            continue;
        }
        activity.push(Activity {
            at: to_time(al.first_seen_ms),
            principal: field("user.name"),
            source: field("source.ip"),
            kind: al.rule_title.clone(),
            origin: format!("alert:{}", al.id),
        });
    }
    let window = Window {
        from: to_time(since),
        to: to_time(until),
    };
    match dwell(&activity, &subject, window) {
        None => {
            println!(
                "no activity of {} between {} and {}",
                a.principal.as_deref().or(a.source.as_deref()).unwrap_or(""),
                fmt_ms(since),
                fmt_ms(until)
            );
        }
        Some(d) if a.json => println!("{}", serde_json::to_string_pretty(&d)?),
        Some(d) => {
            println!(
                "first seen {} ({} via {})",
                d.first.at, d.first.kind, d.first.origin
            );
            println!(
                "last seen  {} ({} via {})",
                d.last.at, d.last.kind, d.last.origin
            );
            println!(
                "duration   {}   events {}",
                bulwark_model::format_duration(d.duration),
                d.events
            );
            for (k, n) in &d.by_kind {
                println!("  {n:>8}  {k}");
            }
            if !d.related.is_empty() {
                println!(
                    "related: {}",
                    d.related.iter().cloned().collect::<Vec<_>>().join(", ")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
