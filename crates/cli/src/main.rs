//! `bulwark`: the command line. Verbs read as sentences; `--json` for machines.
#![forbid(unsafe_code)]

mod cmd_access_review;
mod cmd_assets;
mod cmd_compliance;
mod cmd_demo;
mod cmd_detect;
mod cmd_discover;
mod cmd_drill;
mod cmd_evidence;
mod cmd_import;
mod cmd_incident;
mod cmd_keys;
mod cmd_law;
mod cmd_ledger;
mod cmd_login;
mod cmd_misc;
mod cmd_notices;
mod cmd_operators;
mod cmd_pagewatch;
mod cmd_plan;
mod cmd_scope;
mod cmd_tail;
mod cmd_training;
mod secrets;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "bulwark",
    version,
    about = "Protect customer data, detect attacks, and carry a store through a breach"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
pub struct DataDirArg {
    /// The data directory (SQLite databases and keyring).
    #[arg(long, env = "BULWARK_DATA_DIR", default_value = "./bulwark-data")]
    pub data_dir: PathBuf,
}

impl DataDirArg {
    /// The data directory's files (team, assets, playbooks, rules, laws, templates).
    pub fn files(&self) -> bulwark_store::DataDir {
        bulwark_store::DataDir::new(&self.data_dir)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Create a data directory: databases, keyring, bootstrap admin key.
    Init(cmd_misc::InitArgs),
    /// Run the HTTP API.
    Serve(Box<cmd_misc::ServeArgs>),
    /// A demo: a data directory of synthetic customers, served, with the
    /// web-skimmer drill running against it and a demo team responding.
    Demo(cmd_demo::DemoArgs),
    /// API keys, data keys and the passphrase.
    #[command(subcommand)]
    Keys(cmd_keys::KeysCmd),
    /// List the access log: every reveal, lookup and refusal.
    AccessLog(cmd_misc::AccessLogArgs),
    /// Verify or checkpoint the tamper-evident ledger.
    #[command(subcommand)]
    Ledger(cmd_ledger::LedgerCmd),
    /// Vault administration (lockdown) and operator access to customer records.
    #[command(subcommand)]
    Vault(cmd_misc::VaultCmd),
    /// What personal data the store's own databases hold, by column, and what
    /// in them breaks PCI DSS (read-only; exit 3 on stored card data or weak
    /// passwords). SQLite for now.
    Discover(cmd_discover::DiscoverArgs),
    /// Hunt for attacks in log files with Sigma rules (exit 1 when something is found; see --help for every exit bit).
    Hunt(cmd_detect::HuntArgs),
    /// The log formats Bulwark reads: presets, and JSON mappings (built in and the data directory's formats/).
    Formats(cmd_detect::FormatsArgs),
    /// Follow log files into detection across rotation, from a checkpoint in
    /// the data directory (alerts stored; a restart continues where it stopped).
    Tail(cmd_tail::TailArgs),
    /// Alerts raised by live detection.
    Alerts(cmd_detect::AlertsArgs),
    /// Sigma rule tools.
    #[command(subcommand)]
    Rules(cmd_detect::RulesCmd),
    /// The breach-notification law catalogue (not legal advice).
    #[command(subcommand)]
    Laws(cmd_law::LawsCmd),
    /// Incidents: open, work through the phases, tasks from playbooks, the review.
    #[command(subcommand)]
    Incident(cmd_incident::IncidentCmd),
    /// The critical-asset inventory (assets.json in the data directory), ranked.
    #[command(subcommand)]
    Assets(cmd_assets::AssetsCmd),
    /// First and last activity of a principal or address: entry point and dwell time.
    Investigate(cmd_assets::InvestigateArgs),
    /// The living response plan, rendered from configuration; its hash goes to the ledger.
    #[command(subcommand)]
    Plan(cmd_plan::PlanCmd),
    /// The compliance calendar: recurring duties (PCI DSS cadences, the plan's
    /// quarterly review), what is due or overdue, and recording one as done.
    #[command(subcommand)]
    Compliance(cmd_compliance::ComplianceCmd),
    /// The access review: every API key and operator with grants and last
    /// use, and the owner's sign-off that keeps or revokes each.
    #[command(subcommand)]
    AccessReview(cmd_access_review::AccessReviewCmd),
    /// Security-awareness training: assign modules, the record, take a module's quiz.
    #[command(subcommand)]
    Training(cmd_training::TrainingCmd),
    /// Drills: scenarios, rehearsals, runs against `serve`, reports.
    #[command(subcommand)]
    Drill(cmd_drill::DrillCmd),
    /// The evidence locker: add, list, export a sealed bundle, verify one offline.
    #[command(subcommand)]
    Evidence(cmd_evidence::EvidenceCmd),
    /// The store's webhooks that containment calls.
    #[command(subcommand)]
    Webhooks(cmd_incident::WebhooksCmd),
    /// Payment pages watched for script and security-header changes (PCI DSS 6.4.3, 11.6.1).
    #[command(subcommand)]
    Pagewatch(cmd_pagewatch::PagewatchCmd),
    /// Who was affected and what was exposed, from the vault's access log.
    Scope(cmd_scope::ScopeArgs),
    /// Who must be notified, by when, for a scenario (not legal advice).
    Obligations(cmd_law::ObligationsArgs),
    /// Breach notices: render, approve (legal), send by SMTP, print, status.
    #[command(subcommand)]
    Notices(cmd_notices::NoticesCmd),
    /// Operator accounts for the incident team (console sign-in with MFA).
    #[command(subcommand)]
    Operators(cmd_operators::OperatorsCmd),
    /// Sign in as an operator (password, then second factor) for what only a
    /// person may do at the shell, such as approving letters.
    Login(cmd_login::LoginArgs),
    /// End the CLI session `bulwark login` started.
    Logout(cmd_login::LogoutArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BULWARK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Init(a) => cmd_misc::init(a),
        Command::Serve(a) => cmd_misc::serve(*a),
        Command::Demo(a) => cmd_demo::demo(a),
        Command::Keys(c) => cmd_keys::run(c),
        Command::AccessLog(a) => cmd_misc::access_log(a),
        Command::Ledger(c) => cmd_ledger::run(c),
        Command::Vault(c) => cmd_misc::vault(c),
        Command::Hunt(a) => cmd_detect::hunt(a),
        Command::Discover(a) => cmd_discover::discover(a),
        Command::Formats(a) => cmd_detect::formats(a),
        Command::Tail(a) => cmd_tail::tail(a),
        Command::Rules(c) => cmd_detect::rules(c),
        Command::Alerts(a) => cmd_detect::alerts(a),
        Command::Laws(c) => cmd_law::laws(c),
        Command::Obligations(a) => cmd_law::obligations(a),
        Command::Notices(c) => cmd_notices::notices(c),
        Command::Operators(c) => cmd_operators::operators(c),
        Command::Login(a) => cmd_login::login(a),
        Command::Logout(a) => cmd_login::logout(a),
        Command::Scope(a) => cmd_scope::scope(a),
        Command::Incident(c) => cmd_incident::incident(c),
        Command::Webhooks(c) => cmd_incident::webhooks(c),
        Command::Pagewatch(c) => cmd_pagewatch::pagewatch(c),
        Command::Evidence(c) => cmd_evidence::evidence(c),
        Command::Plan(c) => cmd_plan::plan(c),
        Command::Compliance(c) => cmd_compliance::compliance(c),
        Command::AccessReview(c) => cmd_access_review::access_review(c),
        Command::Training(c) => cmd_training::training(c),
        Command::Drill(c) => cmd_drill::drill(c),
        Command::Assets(c) => cmd_assets::assets(c),
        Command::Investigate(a) => cmd_assets::investigate(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The machine owner at this shell (with the passphrase), for the ledger.
pub fn operator() -> bulwark_store::Principal {
    let user = std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "local".into());
    bulwark_store::Principal::machine_owner(&user)
}

/// Parses RFC 3339 or a look-back such as `90m`, `24h`, `7d`, `1w` (the
/// duration syntax playbooks use, `bulwark_model::duration`).
pub fn parse_when(v: &str) -> anyhow::Result<i64> {
    if let Ok(t) = time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339) {
        return Ok((t.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    let back =
        bulwark_model::parse_duration(v, bulwark_model::DurationLimits::ANY).map_err(|e| {
            anyhow::anyhow!("neither an RFC 3339 time nor a look-back such as 24h or 7d: {e}")
        })?;
    let back_ms = i64::try_from(back.whole_milliseconds()).unwrap_or(i64::MAX);
    let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    Ok(now.saturating_sub(back_ms))
}

pub fn fmt_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}
