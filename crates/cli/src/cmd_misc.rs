use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use bulwark_model::DataElement;
use bulwark_store::{AccessFilter, NewCustomer, RevealRequest, Store};
use bulwark_vault::KdfParams;
use clap::{Args, Subcommand};

use crate::{fmt_ms, operator, parse_when, secrets, DataDirArg};

#[derive(Args)]
pub struct KdfArgs {
    /// argon2id memory in MiB (minimum 8).
    #[arg(long, default_value_t = 64)]
    pub kdf_memory_mib: u32,
    /// argon2id passes.
    #[arg(long, default_value_t = 3)]
    pub kdf_iterations: u32,
}

impl KdfArgs {
    pub fn params(&self) -> KdfParams {
        KdfParams {
            memory_kib: self.kdf_memory_mib.saturating_mul(1024),
            iterations: self.kdf_iterations.max(1),
            lanes: 1,
        }
    }
}

#[derive(Args)]
pub struct InitArgs {
    #[command(flatten)]
    dir: DataDirArg,
    #[command(flatten)]
    kdf: KdfArgs,
    #[command(flatten)]
    first: FirstOperatorArgs,
    /// Print {"admin_key": "...", "enrolment_url": "..."} instead of prose.
    #[arg(long)]
    json: bool,
}

/// The first operator account, made at `init` (there is no default account):
/// it is enrolled from the one-time link `init` prints.
#[derive(Args)]
pub struct FirstOperatorArgs {
    /// The first operator's id.
    #[arg(long, default_value = "owner")]
    operator_id: String,
    /// Their name.
    #[arg(long, default_value = "Store owner")]
    operator_name: String,
    /// Their e-mail address.
    #[arg(long)]
    operator_email: Option<String>,
    /// Their roles (repeat); by default administrator and executive sponsor.
    #[arg(long = "operator-role", default_values_t = ["admin".to_owned(), "executive_sponsor".to_owned()])]
    operator_roles: Vec<String>,
    /// Where operators reach the console, for enrolment links (default: the
    /// address `serve` listens on, else http://127.0.0.1:8080).
    #[arg(long, env = "BULWARK_PUBLIC_URL")]
    public_url: Option<String>,
}

impl FirstOperatorArgs {
    fn public_url(&self, listen: Option<(&str, SocketAddr)>) -> String {
        match (&self.public_url, listen) {
            (Some(u), _) => u.trim_end_matches('/').to_owned(),
            (None, Some((scheme, addr))) => format!("{scheme}://{addr}"),
            (None, None) => "http://127.0.0.1:8080".to_owned(),
        }
    }
}

pub fn init(a: InitArgs) -> anyhow::Result<ExitCode> {
    let secret = secrets::new_secret()?;
    init_dir(
        &a.dir.data_dir,
        &secret,
        &a.kdf,
        &a.first,
        &a.first.public_url(None),
        a.json,
    )?;
    Ok(ExitCode::SUCCESS)
}

fn init_dir(
    dir: &std::path::Path,
    secret: &bulwark_vault::UnlockSecret,
    kdf: &KdfArgs,
    first: &FirstOperatorArgs,
    public_url: &str,
    json: bool,
) -> anyhow::Result<()> {
    let mut roles = Vec::new();
    for r in &first.operator_roles {
        roles.push(r.parse::<bulwark_access::OperatorRole>()?);
    }
    let out = bulwark_store::init(dir, secret, kdf.params(), &operator().id)?;
    let store = Store::open(dir, Some(secret))?;
    let (op, link) = store
        .create_operator(
            bulwark_store::NewOperator {
                id: first.operator_id.clone(),
                name: first.operator_name.clone(),
                email: first.operator_email.clone(),
                roles: bulwark_access::OperatorRoles::new(roles),
            },
            &operator().id,
        )
        .wait_blocking()?;
    drop(store);
    let url = crate::cmd_operators::enrolment_url(public_url, link.as_str());
    if json {
        println!(
            "{}",
            serde_json::json!({"admin_key": out.admin_key.as_str(), "operator": op.id, "enrolment_url": url, "console": format!("{public_url}/")})
        );
    } else {
        println!("Initialised {}.", dir.display());
        println!(
            "Bootstrap admin API key (shown once; store it in your password manager):\n\n    {}\n",
            out.admin_key.as_str()
        );
        println!(
            "Ledger public key (keep a copy off this machine): {}",
            out.public_key
        );
        println!(
            "\nThe console is at {}/ once `bulwark serve` runs.\nEnrol the first operator, `{}`, from this one-time link (valid 24 hours, shown once):\n\n    {url}\n",
            public_url,
            op.id
        );
    }
    Ok(())
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    dir: DataDirArg,
    /// Address to listen on.
    #[arg(long, env = "BULWARK_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The secret GoPhish signs its webhooks with (POST /v1/webhooks/gophish);
    /// without it that route refuses every event.
    #[arg(long, env = "BULWARK_GOPHISH_SECRET", hide_env_values = true)]
    gophish_secret: Option<String>,
    /// PEM certificate chain; with --tls-key, serve HTTPS.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Allow plain HTTP on a non-loopback address (only behind a TLS-terminating proxy).
    #[arg(long)]
    insecure_http: bool,
    /// Initialise the data directory first if it does not exist yet.
    #[arg(long)]
    init: bool,
    /// Serve without live detection (no /v1/events analysis, no alerts from reveals).
    #[arg(long)]
    no_detection: bool,
    /// Alerts at or above this level open (or join) incidents: informational, low,
    /// medium, high, critical.
    #[arg(long, default_value = "high")]
    auto_open_level: String,
    /// Run SigmaHQ's web rules live too.
    #[arg(long)]
    with_sigmahq_web: bool,
    /// Seconds between automatic signed ledger checkpoints.
    #[arg(long, default_value_t = 60)]
    checkpoint_every: u64,
    /// Follow a log file into live detection, across rotation and truncation,
    /// from a checkpoint kept in the data directory: PATH or PATH:FORMAT (auto,
    /// or a name `bulwark formats` lists). Repeatable.
    #[arg(long = "watch", value_name = "PATH[:FORMAT]")]
    watch: Vec<String>,
    /// Do not crawl the watched payment pages on their schedule
    /// (`bulwark pagewatch run` still crawls one on demand).
    #[arg(long)]
    no_pagewatch: bool,
    /// Console sessions end after this long without activity (e.g. 30m).
    #[arg(long, default_value = "30m")]
    session_idle: String,
    /// …and after this long whatever the activity (e.g. 12h).
    #[arg(long, default_value = "12h")]
    session_max: String,
    /// Sensitive actions (approving letters, containment, publishing, operator
    /// and key management) ask for the second factor again when it was given
    /// longer ago than this (e.g. 5m).
    #[arg(long, default_value = "5m")]
    step_up_window: String,
    #[command(flatten)]
    kdf: KdfArgs,
    #[command(flatten)]
    first: FirstOperatorArgs,
    /// Deliver approved e-mail notices from inside the server (needs --smtp-from);
    /// the same exactly-once sender as `bulwark notices send`, one per data directory.
    #[command(flatten)]
    smtp: crate::cmd_notices::SmtpArgs,
}

pub fn serve(a: ServeArgs) -> anyhow::Result<ExitCode> {
    let secret = secrets::unlock()?;
    serve_with(a, secret, None)
}

/// What `bulwark demo` does once the store is open and before serving.
pub type Prepare = Box<dyn FnOnce(&bulwark_server::AppState) -> anyhow::Result<()>>;

/// `serve` with the secret already read, and `prepare` run on the state
/// before the server starts.
pub fn serve_with(
    a: ServeArgs,
    secret: bulwark_vault::UnlockSecret,
    prepare: Option<Prepare>,
) -> anyhow::Result<ExitCode> {
    let scheme = if a.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    let public_url = a.first.public_url(Some((scheme, a.listen)));
    if a.init && !a.dir.data_dir.join("bulwark.db").exists() {
        init_dir(
            &a.dir.data_dir,
            &secret,
            &a.kdf,
            &a.first,
            &public_url,
            false,
        )?;
    }
    let limits = bulwark_model::DurationLimits {
        // Seconds too, so a test can watch a session expire.
        finest: bulwark_model::duration::Unit::Second,
        longest: Some(time::Duration::days(7)),
    };
    let lifetime = |flag: &str, text: &str| -> anyhow::Result<std::time::Duration> {
        let d = bulwark_model::parse_duration(text, limits)
            .map_err(|e| anyhow::anyhow!("{flag}: {e}"))?;
        std::time::Duration::try_from(d).map_err(|_| anyhow::anyhow!("{flag}: must be positive"))
    };
    let session_idle = lifetime("--session-idle", &a.session_idle)?;
    let session_max = lifetime("--session-max", &a.session_max)?;
    let step_up = lifetime("--step-up-window", &a.step_up_window)?;
    let store = Store::open(&a.dir.data_dir, Some(&secret))
        .with_context(|| format!("opening {}", a.dir.data_dir.display()))?;
    drop(secret);
    let cfg = bulwark_server::ServeConfig {
        listen: a.listen,
        tls: a.tls_cert.zip(a.tls_key),
        insecure_http: a.insecure_http,
        checkpoint_every: Duration::from_secs(a.checkpoint_every.max(1)),
        watch: {
            // Formats named in --watch, and auto-detection, include the data
            // directory's mapping files, as for `hunt` and `tail`.
            let formats = if a.watch.is_empty() {
                bulwark_detect::Formats::builtin()
            } else {
                crate::cmd_detect::load_formats(&a.dir.data_dir)?
            };
            a.watch
                .iter()
                .map(|w| {
                    bulwark_server::tailing::WatchSpec::parse_with(w, &formats)
                        .map_err(|e| anyhow::anyhow!("--watch {w}: {e}"))
                })
                .collect::<anyhow::Result<_>>()?
        },
        pagewatch: !a.no_pagewatch,
    };
    if !cfg.watch.is_empty() && a.no_detection {
        bail!("--watch needs live detection: drop --no-detection");
    }
    let scheme = if cfg.tls.is_some() { "https" } else { "http" };
    let state = if a.no_detection {
        bulwark_server::AppState::new(store)?
    } else {
        bulwark_server::AppState::with_detection(
            store,
            bulwark_store::RulePacks {
                ecommerce: true,
                sigmahq_web: a.with_sigmahq_web,
            },
        )
        .context("loading detection rules")?
    };
    let level: bulwark_incident::AlertLevel =
        serde_json::from_value(serde_json::json!(a.auto_open_level)).map_err(|_| {
            anyhow::anyhow!(
                "--auto-open-level: expected informational, low, medium, high or critical"
            )
        })?;
    let state = match a.gophish_secret.as_deref() {
        Some(g) => state.with_gophish_secret(g.as_bytes()),
        None => state,
    };
    let state =
        state
            .with_auto_open_level(level)
            .with_console(bulwark_server::console::ConsoleConfig {
                policy: bulwark_access::SessionPolicy {
                    idle: session_idle,
                    absolute: session_max,
                    step_up,
                },
                tls: cfg.tls.is_some(),
                public_url: public_url.clone(),
            });
    if let Some(p) = prepare {
        p(&state)?;
    }
    if a.smtp.from.is_some() {
        let sender = bulwark_server::sender::Sender::new(a.smtp.config()?)?;
        bulwark_server::sender::spawn_in_serve(
            state.store.clone(),
            sender,
            Duration::from_secs(a.smtp.poll_every.max(1)),
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let shutdown = async {
            let ctrl_c = tokio::signal::ctrl_c();
            #[cfg(unix)]
            {
                let mut term =
                    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    {
                        Ok(t) => t,
                        Err(_) => {
                            let _ = ctrl_c.await;
                            return;
                        }
                    };
                tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
            }
            #[cfg(not(unix))]
            let _ = ctrl_c.await;
            tracing::info!("shutting down");
        };
        bulwark_server::serve(state, cfg, shutdown, |addr| {
            tracing::info!(%addr, "listening on {scheme}://{addr}");
            tracing::info!("console at {scheme}://{addr}/");
        })
        .await
    })?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct AccessLogArgs {
    #[command(flatten)]
    dir: DataDirArg,
    /// Only this principal, e.g. key:3f9a1c2b7d4e.
    #[arg(long)]
    principal: Option<String>,
    /// Only this customer id.
    #[arg(long)]
    customer: Option<uuid::Uuid>,
    /// From this time (RFC 3339) or look-back (24h, 7d).
    #[arg(long)]
    since: Option<String>,
    /// Until this time (exclusive).
    #[arg(long)]
    until: Option<String>,
    #[arg(long, default_value_t = 1000)]
    limit: usize,
    #[arg(long)]
    json: bool,
}

pub fn access_log(a: AccessLogArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(&a.dir.data_dir, None)?;
    let mut filter = AccessFilter {
        principal: a.principal,
        customer: a.customer,
        since_ms: a.since.as_deref().map(parse_when).transpose()?,
        until_ms: a.until.as_deref().map(parse_when).transpose()?,
        after_id: None,
        limit: a.limit.min(10_000),
    };
    let mut shown = 0usize;
    loop {
        let page = store.access_log(&filter)?;
        for r in &page {
            if a.json {
                println!("{}", serde_json::to_string(r)?);
            } else {
                println!(
                    "{:>6}  {}  {:<20} {:<7} {:<9} {:<36} {:<30} purpose={} from={}{}",
                    r.id,
                    fmt_ms((r.at.unix_timestamp_nanos() / 1_000_000) as i64),
                    r.principal,
                    r.action,
                    serde_json::to_value(r.outcome)?.as_str().unwrap_or(""),
                    r.customer_id.as_deref().unwrap_or("-"),
                    r.elements.join(","),
                    r.purpose.as_deref().unwrap_or("-"),
                    r.source.as_deref().unwrap_or("-"),
                    r.reason
                        .as_deref()
                        .map(|x| format!(" reason={x}"))
                        .unwrap_or_default(),
                );
            }
        }
        shown += page.len();
        match page.last() {
            Some(last) if page.len() == filter.limit && shown < a.limit => {
                filter.after_id = Some(last.id)
            }
            _ => break,
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum VaultCmd {
    /// Refuse every reveal except by keys with vault:break-glass (containment).
    Lockdown {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(value_parser = ["on", "off"])]
        state: String,
        /// Why (recorded in the ledger).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Change a vault setting (recorded in the ledger).
    Set {
        #[command(flatten)]
        dir: DataDirArg,
        /// Accept card security codes. PCI DSS v4.0 requirement 3.3.1 forbids keeping
        /// them after authorisation: enable only if that does not apply to you.
        #[arg(long, value_parser = ["on", "off"])]
        store_card_security_code: String,
    },
    /// Show lockdown and key-version settings.
    Status {
        #[command(flatten)]
        dir: DataDirArg,
    },
    /// Copy the store's customers from its own database into the vault
    /// (resumable, idempotent by external id, counts verified at the end).
    Import(crate::cmd_import::ImportArgs),
    /// Store a customer from a JSON document (file or - for stdin), as the local operator.
    Put {
        #[command(flatten)]
        dir: DataDirArg,
        file: PathBuf,
    },
    /// Show what is known about a customer without decrypting anything
    /// (residency, language preference, elements held, key versions).
    Show {
        #[command(flatten)]
        dir: DataDirArg,
        id: uuid::Uuid,
    },
    /// Reveal fields of a customer as the local operator (logged like any reveal).
    Get {
        #[command(flatten)]
        dir: DataDirArg,
        id: uuid::Uuid,
        /// Comma-separated data elements.
        #[arg(long)]
        fields: String,
        /// Why; recorded in the access log.
        #[arg(long)]
        purpose: String,
    },
}

pub fn vault(c: VaultCmd) -> anyhow::Result<ExitCode> {
    match c {
        VaultCmd::Lockdown { dir, state, reason } => {
            let store = Store::open(&dir.data_dir, None)?;
            let on = state == "on";
            let changed = store
                .set_lockdown(on, &operator().id, reason)
                .wait_blocking()?;
            println!(
                "lockdown {}{}",
                state,
                if changed { "" } else { " (unchanged)" }
            );
        }
        VaultCmd::Set {
            dir,
            store_card_security_code,
        } => {
            let store = Store::open(&dir.data_dir, None)?;
            store
                .set_store_card_security_code(store_card_security_code == "on", &operator().id)
                .wait_blocking()?;
            println!("store_card_security_code {store_card_security_code}");
        }
        VaultCmd::Status { dir } => {
            let store = Store::open(&dir.data_dir, None)?;
            println!("{}", serde_json::to_string_pretty(&store.settings()?)?);
        }
        VaultCmd::Import(a) => return crate::cmd_import::import(a),
        VaultCmd::Put { dir, file } => {
            let text = if file.as_os_str() == "-" {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                s
            } else {
                std::fs::read_to_string(&file)
                    .with_context(|| format!("reading {}", file.display()))?
            };
            let new: NewCustomer = serde_json::from_str(&text).map_err(|e| {
                anyhow::anyhow!(
                    "the customer document is not valid: {}",
                    bulwark_store::describe_json_error(&e)
                )
            })?;
            let store = Store::open(&dir.data_dir, Some(&secrets::unlock()?))?;
            let id = store.create_customer(&new, &operator())?.wait_blocking()?;
            println!("{id}");
        }
        VaultCmd::Show { dir, id } => {
            // Locked: metadata only, so nothing personal is opened or logged.
            let store = Store::open(&dir.data_dir, None)?;
            let meta = store.customer_meta(id)?;
            println!("{}", serde_json::to_string_pretty(&meta)?);
        }
        VaultCmd::Get {
            dir,
            id,
            fields,
            purpose,
        } => {
            let mut elements = Vec::new();
            for f in fields.split(',').map(str::trim).filter(|f| !f.is_empty()) {
                elements.push(f.parse::<DataElement>()?);
            }
            if elements.is_empty() {
                bail!("--fields lists no data elements");
            }
            let store = Store::open(&dir.data_dir, Some(&secrets::unlock()?))?;
            let got = store.reveal_blocking(RevealRequest {
                principal: operator(),
                purpose: Some(purpose),
                customer: id,
                elements,
                source: Some("cli".into()),
            })?;
            let fields: serde_json::Map<String, serde_json::Value> = got
                .fields
                .iter()
                .map(|(e, v)| (e.code().to_owned(), serde_json::json!(v.as_str())))
                .collect();
            println!(
                "{}",
                serde_json::json!({"id": id, "fields": fields, "absent": got.absent})
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
