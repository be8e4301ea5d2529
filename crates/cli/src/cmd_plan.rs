//! `bulwark plan render`: the response plan as it stands, from live configuration —
//! team (`team.json`), asset inventory (`assets.json`), playbooks, and the
//! notification duties for where the store's customers actually live. Its
//! version hash goes to the ledger, so the plan an auditor sees is the one in force.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bulwark_incident::{
    render_plan, Asset, Format, NotificationOverviewRow, PlanUpkeep, Team, UpkeepDuty,
    UpkeepImprovement, UpkeepPage,
};
use bulwark_law::{evaluate, jurisdiction_of, Affected, Catalogue, Scenario};
use bulwark_learn::DutyState;
use bulwark_store::Store;
use clap::Subcommand;

use crate::{operator, DataDirArg};

#[derive(Subcommand)]
pub enum PlanCmd {
    /// Render the plan (team from team.json, assets from assets.json in the data directory).
    Render {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long, default_value = "md", value_parser = ["md", "html"])]
        format: String,
        /// Write to this file instead of standard output.
        #[arg(short = 'o', long = "out")]
        out: Option<PathBuf>,
    },
}

/// For each place customers live: which laws, who must be told and how fast, if
/// the data held for them leaked — what the vault holds, and what discovery
/// found in the store's own databases (`discover --save-asset`). The same
/// customer may be in the vault and in a shop database, so per jurisdiction
/// the largest count is taken (at least that many), with every element held.
fn overview(
    store: &Store,
    catalogue: &Catalogue,
    assets: &[Asset],
) -> anyhow::Result<Vec<NotificationOverviewRow>> {
    let mut held: std::collections::BTreeMap<String, (u64, BTreeSet<bulwark_model::DataElement>)> =
        Default::default();
    for (residency, customers, elements) in store.holdings_by_residency()? {
        let e = held.entry(jurisdiction_of(&residency)).or_default();
        e.0 = e.0.max(customers);
        e.1.extend(elements);
    }
    for facts in assets.iter().filter_map(|a| a.facts.as_ref()) {
        for (j, jf) in &facts.by_jurisdiction {
            let e = held.entry(j.clone()).or_default();
            e.0 = e.0.max(jf.customers);
            e.1.extend(jf.by_element.keys().copied());
        }
    }
    let mut rows = Vec::new();
    for (jurisdiction, (customers, elements)) in held {
        let elements: Vec<_> = elements.into_iter().collect();
        if elements.is_empty() {
            continue;
        }
        let scenario = Scenario {
            aware_at: time::OffsetDateTime::now_utc(),
            discovered_at: None,
            encrypted: false,
            key_compromised: false,
            acquired: None,
            harm: Default::default(),
            law_enforcement_delay: None,
            cause: None,
            regulated_by: Vec::new(),
            affected: vec![Affected {
                jurisdiction: jurisdiction.clone(),
                elements,
                count: customers,
                encrypted: None,
                key_compromised: None,
                acquired: None,
            }],
        };
        let eval = evaluate(catalogue, &scenario)?;
        let mine: Vec<_> = eval
            .obligations
            .iter()
            .filter(|o| o.jurisdiction == jurisdiction)
            .collect();
        let laws: BTreeSet<&str> = mine.iter().map(|o| o.law_name.as_str()).collect();
        let recipients: BTreeSet<&str> = mine.iter().map(|o| o.recipient.code()).collect();
        let deadline = mine
            .iter()
            .find(|o| o.recipient == bulwark_law::Recipient::Individuals)
            .or_else(|| mine.first())
            .map(|o| o.standard.clone())
            .unwrap_or_else(|| "no notification duty for the data held".into());
        rows.push(NotificationOverviewRow {
            jurisdiction,
            customers,
            laws: laws.into_iter().collect::<Vec<_>>().join("; "),
            recipients: recipients.into_iter().collect::<Vec<_>>().join(", "),
            deadline,
        });
    }
    Ok(rows)
}

/// The duties overdue or due soon and the drills' open improvement items. A
/// calendar that does not load is reported, not fatal: the plan is still
/// needed on the day the calendar file is broken.
fn upkeep(store: &Store, dir: &DataDirArg) -> anyhow::Result<PlanUpkeep> {
    let today = time::OffsetDateTime::now_utc().date();
    let now_ms = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let day = |ms: i64| {
        time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
            .map(|t| t.date().to_string())
            .unwrap_or_default()
    };
    let improvements = store
        .drill_improvements(false)?
        .into_iter()
        .map(|i| UpkeepImprovement {
            title: i.title,
            owner: i.owner,
            due: day(i.due_ms),
            overdue: i.due_ms < now_ms,
            drill: i.run_id,
        })
        .collect();
    let last_ok = store.page_last_checks()?;
    let pages = store
        .watched_pages()?
        .into_iter()
        .map(|p| {
            let last = last_ok.get(&p.id).copied();
            UpkeepPage {
                every: bulwark_model::format_duration(time::Duration::seconds(p.every_secs)),
                last_checked: last.map(day),
                stale: last.is_none_or(|l| now_ms - l > 7 * 86_400_000),
                name: p.name,
                url: p.url,
            }
        })
        .collect::<Vec<_>>();
    let calendar = match dir.files().compliance() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("warning: the compliance calendar did not load, so the plan cannot say what is due: {e:#}");
            return Ok(PlanUpkeep {
                duties: Vec::new(),
                improvements,
                pages,
                known: false,
            });
        }
    };
    let duties = store
        .compliance_status(&calendar, today)?
        .into_iter()
        .filter(|d| d.status.state != DutyState::Upcoming)
        .map(|d| UpkeepDuty {
            title: d.title,
            requirement: d.requirement,
            owner: d.owner,
            due: d.status.due.to_string(),
            days_overdue: d.status.days_overdue,
        })
        .collect();
    Ok(PlanUpkeep {
        duties,
        improvements,
        pages,
        known: true,
    })
}

pub fn plan(c: PlanCmd) -> anyhow::Result<ExitCode> {
    let PlanCmd::Render { dir, format, out } = c;
    let store = Store::open(&dir.data_dir, None)?;
    let files = dir.files();
    let team = files.team()?;
    let has_team = team.is_some();
    let team: Team = team.unwrap_or_default();
    let assets: Vec<Asset> = files.assets()?;
    if !has_team {
        eprintln!(
            "warning: no team.json in {}: the plan has no team; see `bulwark plan render --help`",
            dir.data_dir.display()
        );
    }
    for p in team.problems() {
        eprintln!("warning: team: {p}");
    }
    let playbooks = crate::cmd_incident::playbooks(&dir)?;
    let set: Vec<_> = playbooks.all().to_vec();
    // The same catalogue `obligations` reads, with the directory's law overrides.
    let catalogue = files.laws()?;
    let rows = overview(&store, &catalogue, &assets)?;
    let fmt = if format == "html" {
        Format::Html
    } else {
        Format::Markdown
    };
    let upkeep = upkeep(&store, &dir)?;
    let rendered = render_plan(
        &team,
        &set,
        &assets,
        &rows,
        &upkeep,
        time::OffsetDateTime::now_utc(),
        fmt,
    )?;
    store
        .record_event(
            &operator().id,
            "plan.rendered",
            "plan",
            serde_json::json!({"hash": rendered.hash, "format": format}),
        )
        .wait_blocking()?;
    match out {
        Some(p) => {
            std::fs::write(&p, &rendered.text)
                .with_context(|| format!("writing {}", p.display()))?;
            eprintln!(
                "plan written to {} (version {})",
                p.display(),
                rendered.hash
            );
        }
        None => {
            print!("{}", rendered.text);
            eprintln!("plan version {} recorded in the ledger", rendered.hash);
        }
    }
    Ok(ExitCode::SUCCESS)
}
