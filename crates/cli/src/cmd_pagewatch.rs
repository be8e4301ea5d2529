//! `bulwark pagewatch …`: the payment pages watched for script and security-
//! header changes (PCI DSS 6.4.3, 11.6.1). Adding, listing and removing pages
//! is here (each page's CSP reports go to `/v1/csp-reports/{token}`); the
//! crawl in a headless browser is not built yet, and the commands say so.

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
            eprintln!(
                "note: the crawl in a headless browser is not built yet; the page is recorded and will be crawled once it is"
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
    }
    Ok(ExitCode::SUCCESS)
}
