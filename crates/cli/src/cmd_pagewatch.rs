//! `bulwark pagewatch …`: the payment pages watched for script and security-
//! header changes (PCI DSS 6.4.3, 11.6.1): adding, listing and removing pages
//! (each page's CSP reports go to `/v1/csp-reports/{token}`), crawling one
//! now in Debian's chromium (`serve` crawls them on schedule), the script
//! inventory, and approving or revoking what the page may run.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bulwark_model::{format_duration, parse_duration, DurationLimits, Unit};
use bulwark_store::{NewWatchedPage, Store, WEEKLY_SECS};
use clap::Subcommand;
use zeroize::Zeroizing;

use crate::{operator, DataDirArg};

#[derive(Subcommand)]
pub enum PagewatchCmd {
    /// Watch a payment page (the checkout, a page hosting the payment iframe).
    Add {
        #[command(flatten)]
        dir: DataDirArg,
        url: String,
        /// How alerts and the CLI name it (default: from the URL).
        #[arg(long)]
        name: Option<String>,
        /// Time between crawls: at least 5m; PCI DSS 11.6.1 asks for weekly or more often.
        #[arg(long, default_value = "1h")]
        every: String,
        /// Cookies for a page behind a cart or login: a file of `name=value`
        /// lines (kept off the command line and shell history), sealed in the
        /// store; needs the unlock secret.
        #[arg(long, value_name = "FILE")]
        cookies: Option<PathBuf>,
    },
    /// The watched pages.
    List {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long)]
        json: bool,
    },
    /// Stop watching a page.
    Remove {
        #[command(flatten)]
        dir: DataDirArg,
        name: String,
    },
    /// Crawl a page now in headless chromium: inventory its scripts, put the
    /// evidence in the locker, and send what changed through detection
    /// (alerts, a `web_skimmer` incident with the evidence). Exit 3 when the
    /// page runs scripts nobody authorised.
    Run {
        #[command(flatten)]
        dir: DataDirArg,
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// The page's script inventory (PCI DSS 6.4.3) after its latest run.
    Scripts {
        #[command(flatten)]
        dir: DataDirArg,
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Authorise a script (its body as last seen), a vendor origin whose
    /// scripts change (`--dynamic`), or an outbound host (`--host`).
    Approve {
        #[command(flatten)]
        dir: DataDirArg,
        name: String,
        /// The script, as `pagewatch scripts` names it (URL or `inline:sha256-…`).
        #[arg(required_unless_present_any = ["dynamic", "host"], conflicts_with_all = ["dynamic", "host"])]
        script: Option<String>,
        /// A vendor origin (https://js.vendor.example): any body it serves.
        #[arg(long, conflicts_with = "host")]
        dynamic: Option<String>,
        /// With --dynamic: a host its scripts may reach (repeatable).
        #[arg(long = "allow-host", requires = "dynamic")]
        allow_host: Vec<String>,
        /// An outbound host the page may reach.
        #[arg(long)]
        host: Option<String>,
        /// Who owns it (a team, a vendor).
        #[arg(long)]
        owner: String,
        /// Why the page needs it.
        #[arg(long)]
        justification: String,
    },
    /// Revoke an approval (`pagewatch approvals NAME` lists them).
    Revoke {
        #[command(flatten)]
        dir: DataDirArg,
        name: String,
        approval: i64,
        #[arg(long)]
        reason: String,
    },
    /// Propose a Content-Security-Policy from the inventory: Report-Only by
    /// origin first, then (`--enforce`) enforcing with hashes. Only
    /// authorised scripts go in.
    Csp {
        #[command(flatten)]
        dir: DataDirArg,
        name: String,
        #[arg(long)]
        enforce: bool,
        /// Bulwark's public address, for the policy's report-uri
        /// (https://bulwark.shop.example).
        #[arg(long, env = "BULWARK_PUBLIC_URL")]
        bulwark_url: Option<String>,
    },
    /// The approvals of a page.
    Approvals {
        #[command(flatten)]
        dir: DataDirArg,
        name: String,
        /// Revoked ones too.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
}

fn page(store: &Store, name: &str) -> anyhow::Result<bulwark_store::WatchedPage> {
    store
        .watched_pages()?
        .into_iter()
        .find(|p| p.name == name)
        .ok_or_else(|| {
            anyhow::anyhow!("no watched page is named `{name}` (see `bulwark pagewatch list`)")
        })
}

fn run(dir: &DataDirArg, name: &str, json: bool) -> anyhow::Result<ExitCode> {
    let probe = Store::open(&dir.data_dir, None)?;
    let p = page(&probe, name)?;
    drop(probe);
    // Sealed cookies need the unlock secret; a page without any does not.
    let store = if p.cookie_names.is_empty() {
        Store::open(&dir.data_dir, None)?
    } else {
        Store::open(&dir.data_dir, Some(&crate::secrets::unlock()?))?
    };
    let state =
        bulwark_server::AppState::with_detection(store, bulwark_store::RulePacks::default())
            .context("loading detection rules")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let report = runtime.block_on(bulwark_server::pagewatch_runner::run_page(
        &state,
        &p,
        &operator().id,
    ))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "run {} of `{}`: {} scripts in {:.1} s{}",
            report.run,
            report.page,
            report.scripts,
            report.elapsed_ms as f64 / 1000.0,
            if report.baseline { " (baseline)" } else { "" }
        );
        for c in &report.changes {
            println!("  {}", describe(c));
        }
        for s in &report.scores {
            println!(
                "  skimmer indicators {} (score {}{}): {}",
                s.script,
                s.score,
                if s.high { ", HIGH" } else { "" },
                s.indicators.join(", ")
            );
        }
        if !report.alerts.is_empty() {
            println!(
                "  alerts {}{}",
                report
                    .alerts
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                report
                    .incident
                    .map(|i| format!("; incident {i} (evidence attached)"))
                    .unwrap_or_default()
            );
        }
        if report.unauthorised > 0 {
            println!(
                "  {} script(s) not authorised: review with `bulwark pagewatch scripts {name}`, then `pagewatch approve`",
                report.unauthorised
            );
        }
    }
    Ok(if report.unauthorised > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

fn describe(c: &bulwark_pagewatch::inventory::Change) -> String {
    use bulwark_pagewatch::inventory::Change as C;
    match c {
        C::NewScript { key, script } => format!(
            "new script {} ({}, by {})",
            key.0,
            script.source.kind(),
            script.initiator.as_deref().unwrap_or("?")
        ),
        C::ScriptChanged {
            key,
            was_authorised,
            ..
        } => format!(
            "changed script {}{}",
            key.0,
            if *was_authorised {
                " (authorisation reset)"
            } else {
                ""
            }
        ),
        C::ScriptRemoved { key, .. } => format!("removed script {}", key.0),
        C::NewOutboundHost(h) => format!(
            "new outbound host {} ({}{})",
            h.host,
            h.kind.as_str(),
            h.initiator
                .as_deref()
                .map(|i| format!(", from {i}"))
                .unwrap_or_default()
        ),
        C::HeaderWeakened(w) => format!("header {} weakened: {}", w.header, w.code),
        C::IframeChanged { added, removed } => format!(
            "iframes changed: added [{}], removed [{}]",
            added.join(", "),
            removed.join(", ")
        ),
    }
}

/// `name=value` lines; blank lines and `#` comments skipped. Errors name the
/// line, never its value.
fn read_cookies(path: &std::path::Path) -> anyhow::Result<Vec<(String, Zeroizing<String>)>> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
    );
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((n, v)) = line.split_once('=') else {
            anyhow::bail!("{} line {}: expected name=value", path.display(), i + 1);
        };
        out.push((n.trim().to_owned(), Zeroizing::new(v.trim().to_owned())));
    }
    Ok(out)
}

pub fn pagewatch(c: PagewatchCmd) -> anyhow::Result<ExitCode> {
    match c {
        PagewatchCmd::Add {
            dir,
            url,
            name,
            every,
            cookies,
        } => {
            let every = parse_duration(
                &every,
                DurationLimits {
                    finest: Unit::Minute,
                    longest: None,
                },
            )
            .context("--every")?;
            let cookies = match &cookies {
                Some(p) => read_cookies(p)?,
                None => Vec::new(),
            };
            let store = if cookies.is_empty() {
                Store::open(&dir.data_dir, None)?
            } else {
                Store::open(&dir.data_dir, Some(&crate::secrets::unlock()?))?
            };
            let page = store.watch_page(
                NewWatchedPage {
                    url,
                    name,
                    every_secs: every.whole_seconds(),
                    cookies,
                },
                &operator().id,
            )?;
            println!(
                "watching `{}` ({}) every {}{}",
                page.name,
                page.url,
                format_duration(every),
                if page.cookie_names.is_empty() {
                    String::new()
                } else {
                    format!(", with cookies {}", page.cookie_names.join(", "))
                }
            );
            if page.every_secs > WEEKLY_SECS {
                eprintln!(
                    "warning: PCI DSS 11.6.1 asks for a check at least once every seven days, unless a targeted risk analysis sets another frequency"
                );
            }
            println!(
                "CSP reports: add `report-uri https://<this server>/v1/csp-reports/{}` to the page's policy",
                page.report_token
            );
            println!(
                "`bulwark pagewatch run {}` crawls it now (its first run is the baseline); `serve` crawls it on schedule",
                page.name
            );
        }
        PagewatchCmd::List { dir, json } => {
            let store = Store::open(&dir.data_dir, None)?;
            let pages = store.watched_pages()?;
            if json {
                for p in &pages {
                    println!("{}", serde_json::to_string(p)?);
                }
            } else if pages.is_empty() {
                println!("no watched pages (bulwark pagewatch add URL --name checkout)");
            } else {
                for p in &pages {
                    println!(
                        "{:<20} every {:<6} {}{}",
                        p.name,
                        format_duration(time::Duration::seconds(p.every_secs)),
                        p.url,
                        if p.cookie_names.is_empty() {
                            String::new()
                        } else {
                            format!("  (cookies: {})", p.cookie_names.join(", "))
                        }
                    );
                }
            }
        }
        PagewatchCmd::Remove { dir, name } => {
            let store = Store::open(&dir.data_dir, None)?;
            store.unwatch_page(&name, &operator().id)?;
            println!("no longer watching `{name}`");
        }
        PagewatchCmd::Run { dir, name, json } => return run(&dir, &name, json),
        PagewatchCmd::Scripts { dir, name, json } => {
            let store = Store::open(&dir.data_dir, None)?;
            let p = page(&store, &name)?;
            let list = bulwark_server::pagewatch_script_list(&store, &p)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else if list.run.is_none() {
                println!("`{name}` has not been crawled yet (bulwark pagewatch run {name})");
            } else {
                for r in &list.items {
                    println!(
                        "{:<10} {:<6} sha256-{}  {:>8} B  {}{}{}",
                        r.state,
                        r.kind,
                        r.sha256.get(..16).unwrap_or(&r.sha256),
                        r.size,
                        r.script,
                        if r.sri { "  [SRI]" } else { "" },
                        match r.score {
                            Some(s) if s > 0 =>
                                format!("  skimmer score {s}: {}", r.indicators.join(", ")),
                            _ => String::new(),
                        }
                    );
                }
                println!("outbound hosts: {}", list.hosts.join(", "));
            }
        }
        PagewatchCmd::Approve {
            dir,
            name,
            script,
            dynamic,
            allow_host,
            host,
            owner,
            justification,
        } => {
            use bulwark_store::ApproveWhat;
            let what = match (script, dynamic, host) {
                (Some(k), _, _) => ApproveWhat::Script(bulwark_pagewatch::inventory::ScriptKey(k)),
                (None, Some(origin), _) => ApproveWhat::Dynamic {
                    origin,
                    allowed_hosts: allow_host,
                },
                (None, None, Some(h)) => ApproveWhat::Host(h),
                (None, None, None) => {
                    anyhow::bail!("give a script, --dynamic ORIGIN or --host HOST")
                }
            };
            let store = Store::open(&dir.data_dir, None)?;
            let a = store.approve_on_page(&name, what, &owner, &justification, &operator().id)?;
            println!(
                "approval {} on `{name}` ({}), approved by {}",
                a.id, a.kind, a.approver
            );
        }
        PagewatchCmd::Revoke {
            dir,
            name,
            approval,
            reason,
        } => {
            let store = Store::open(&dir.data_dir, None)?;
            store.revoke_page_approval(&name, approval, &reason, &operator().id)?;
            println!("approval {approval} on `{name}` revoked");
        }
        PagewatchCmd::Csp {
            dir,
            name,
            enforce,
            bulwark_url,
        } => {
            use bulwark_pagewatch::policy::{propose, Stage};
            let store = Store::open(&dir.data_dir, None)?;
            let p = page(&store, &name)?;
            let inv = store.page_inventory(p.id)?;
            if inv.run.is_none() {
                anyhow::bail!(
                    "`{name}` has not been crawled yet: run `bulwark pagewatch run {name}` first"
                );
            }
            let approvals = store.page_approvals_in_force(p.id)?;
            let report = bulwark_url.map(|u| {
                format!(
                    "{}/v1/csp-reports/{}",
                    u.trim_end_matches('/'),
                    p.report_token
                )
            });
            let stage = if enforce {
                Stage::Enforce
            } else {
                Stage::ReportOnly
            };
            let proposal = propose(&inv.inventory, &approvals, report.as_deref(), stage);
            println!("{}: {}", proposal.header, proposal.value);
            for w in &proposal.warnings {
                eprintln!("warning: {w}");
            }
        }
        PagewatchCmd::Approvals {
            dir,
            name,
            all,
            json,
        } => {
            let store = Store::open(&dir.data_dir, None)?;
            let items = store
                .page_approvals(&name, all)?
                .ok_or_else(|| anyhow::anyhow!("no watched page is named `{name}`"))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&items)?);
            } else if items.is_empty() {
                println!("no approvals on `{name}`");
            }
            if !json {
                for a in &items {
                    println!(
                        "{:>4}  {:<8} {:<40} owner {}, by {}: {}{}",
                        a.id,
                        a.kind,
                        a.script
                            .clone()
                            .or(a.origin.clone())
                            .or(a.host.clone())
                            .unwrap_or_default(),
                        a.owner,
                        a.approver,
                        a.justification,
                        if a.revoked_ms.is_some() {
                            "  (revoked)"
                        } else {
                            ""
                        }
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
