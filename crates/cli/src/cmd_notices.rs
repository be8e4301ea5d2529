//! `bulwark notices`: render an incident's letters into the outbox, approve a
//! version (legal), send by SMTP exactly once, print (PDF + mail merge), status.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context};
use bulwark_law::evaluate;
use bulwark_notice::{mail_merge, DraftContext, NoticeFacts, PdfFonts, Renderer};
use bulwark_server::sender::{Sender, SenderConfig};
use bulwark_store::{ApproveNoticesError, Channels, RenderNotices, SendOutcome, Store};
use clap::{Args, Subcommand, ValueEnum};
use zeroize::Zeroizing;

use crate::{operator, secrets, DataDirArg};

#[derive(Subcommand)]
pub enum NoticesCmd {
    /// Render the incident's letters (from its newest scope) as a new notice version awaiting approval.
    Render(RenderArgs),
    /// Approve a notice version as the signed-in operator (`bulwark login`),
    /// who must hold the legal role and be assigned legal on the incident, and
    /// must have given the second factor in the last five minutes.
    Approve {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long)]
        incident: u64,
        #[arg(long)]
        version: u32,
    },
    /// How many distinct legal operators must approve a version: 1 (default) or 2.
    Approvals {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=2))]
        required: u32,
    },
    /// Deliver approved e-mail notices over SMTP; resumable, never sends a letter twice.
    Send(SendArgs),
    /// Write approved print notices: one PDF per letter and a mail-merge CSV.
    Print {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long)]
        incident: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Versions, and letters by state.
    Status {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long)]
        incident: u64,
        #[arg(long)]
        json: bool,
    },
    /// Import enrolment codes (one per line) for the remedy offered in the letters.
    Codes {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long)]
        incident: u64,
        file: PathBuf,
    },
    /// Record a bounce reported after delivery.
    Bounce {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long)]
        incident: u64,
        /// The notice's outbox id (from its Message-ID bulwark.<incident>.<version>.<id>).
        #[arg(long)]
        id: i64,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ChannelArg {
    Email,
    Print,
    Both,
}

#[derive(Args)]
pub struct RenderArgs {
    #[command(flatten)]
    dir: DataDirArg,
    #[arg(long)]
    incident: u64,
    /// The notice facts (TOML; see templates/notices/README.md).
    #[arg(long)]
    facts: PathBuf,
    /// email (print for customers without one), print, or both.
    #[arg(long, value_enum, default_value = "email")]
    channel: ChannelArg,
    /// Date printed on the letters (YYYY-MM-DD, default today).
    #[arg(long)]
    notice_date: Option<String>,
    /// Letter customers already notified under an approved version again (a corrected notice).
    #[arg(long)]
    reissue: bool,
    /// Also write the regulator / card-brand / bureau drafts (Markdown) into this directory.
    #[arg(long)]
    drafts_out: Option<PathBuf>,
    /// Write the regulators' drafts in this language (ISO 639-1: de, fr, es, it,
    /// nl, pl) instead of the regulator's country's; English where there is no
    /// translation. Card-brand, acquirer and bureau drafts stay in English.
    #[arg(long, requires = "drafts_out", value_parser = language_arg)]
    drafts_language: Option<String>,
    #[arg(long)]
    json: bool,
}

fn language_arg(s: &str) -> Result<String, String> {
    bulwark_model::normalize_language(s).map_err(|e| e.to_string())
}

#[derive(Args)]
pub struct SendArgs {
    #[command(flatten)]
    dir: DataDirArg,
    /// Only this incident's notices (default: every approved version).
    #[arg(long)]
    incident: Option<u64>,
    #[command(flatten)]
    smtp: SmtpArgs,
    /// Release letters left `unknown` by a crashed sender for another attempt
    /// (only after checking the mail server's log that they were not delivered).
    #[arg(long)]
    retry_unknown: bool,
    /// Stop after this many messages.
    #[arg(long)]
    limit: Option<u64>,
}

/// The SMTP settings `notices send` and `serve` share.
#[derive(Args)]
pub struct SmtpArgs {
    /// SMTP server as host:port.
    #[arg(long, env = "BULWARK_SMTP", default_value = "127.0.0.1:25")]
    smtp: String,
    /// none (loopback relays only), starttls, or tls (implicit TLS, port 465).
    #[arg(long = "smtp-security", alias = "security", default_value = "starttls")]
    security: String,
    #[arg(long, env = "BULWARK_SMTP_USER")]
    smtp_user: Option<String>,
    /// The password is read from this environment variable, never from the command line.
    #[arg(long, default_value = "BULWARK_SMTP_PASSWORD")]
    smtp_password_env: String,
    /// Sender address, e.g. `Example Shop <privacy@shop.example>`.
    #[arg(long = "smtp-from", alias = "from", env = "BULWARK_SMTP_FROM")]
    pub from: Option<String>,
    /// At most this many messages per second.
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// Attempts before a transiently failing letter is marked failed.
    #[arg(long, default_value_t = 8)]
    max_attempts: u32,
    /// First retry delay in seconds (doubles per attempt, capped at one hour).
    #[arg(long, default_value_t = 60)]
    retry_after: u64,
    /// In `serve`: seconds between looks at the outbox when nothing is due.
    #[arg(long, default_value_t = 5)]
    pub poll_every: u64,
}

impl SmtpArgs {
    pub fn config(&self) -> anyhow::Result<SenderConfig> {
        let from = self
            .from
            .clone()
            .context("--smtp-from (or BULWARK_SMTP_FROM) is required to send")?;
        let credentials = match &self.smtp_user {
            Some(user) => {
                let pass = std::env::var(&self.smtp_password_env).with_context(|| {
                    format!("--smtp-user is set but {} is not", self.smtp_password_env)
                })?;
                Some((user.clone(), Zeroizing::new(pass)))
            }
            None => None,
        };
        Ok(SenderConfig {
            smtp: self.smtp.clone(),
            security: self.security.parse()?,
            credentials,
            from,
            rate: self.rate,
            max_attempts: self.max_attempts,
            retry_after_secs: self.retry_after,
        })
    }
}

pub fn notices(c: NoticesCmd) -> anyhow::Result<ExitCode> {
    match c {
        NoticesCmd::Render(a) => render(a),
        NoticesCmd::Approve {
            dir,
            incident,
            version,
        } => {
            let store = Store::open(&dir.data_dir, None)?;
            let me = crate::cmd_login::signed_in(&store, &dir, "approving letters")?;
            me.require_fresh("approving letters")?;
            let op = &me.session.operator;
            match store.approve_notices(incident, version, &op.id) {
                // The store's message leaves the person out; say who it was.
                Err(ApproveNoticesError::NotLegal { incident }) => bail!(
                    "operator `{}` is not assigned the legal role on incident {incident}; assign them with `bulwark incident assign {incident} legal {}` (or link their team.json person to the operator)",
                    op.id, op.id
                ),
                Ok(bulwark_store::ApproveOutcome::Awaiting { have, need }) => {
                    println!("approval {have} of {need} of notice version {version} of incident {incident} recorded for {} ({}); a second legal operator must approve before anything is sent", op.name, op.id);
                    return Ok(ExitCode::SUCCESS);
                }
                r => r?,
            };
            println!("notice version {version} of incident {incident} approved by {} ({}); delivery starts with `bulwark notices send` or the sender in `bulwark serve`", op.name, op.id);
            Ok(ExitCode::SUCCESS)
        }
        NoticesCmd::Approvals { dir, required } => {
            let store = Store::open(&dir.data_dir, None)?;
            store
                .set_notice_approvals_required(required, &operator().id)
                .wait_blocking()?;
            println!("notice versions now need {required} distinct legal approval(s)");
            Ok(ExitCode::SUCCESS)
        }
        NoticesCmd::Send(a) => send(a),
        NoticesCmd::Print { dir, incident, out } => print(&dir, incident, &out),
        NoticesCmd::Status {
            dir,
            incident,
            json,
        } => status(&dir, incident, json),
        NoticesCmd::Codes {
            dir,
            incident,
            file,
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let codes: Vec<String> = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
            let store = Store::open(&dir.data_dir, None)?;
            let n = store.import_remedy_codes(incident, codes, &operator().id)?;
            println!("{n} new enrolment codes in the pool of incident {incident}");
            Ok(ExitCode::SUCCESS)
        }
        NoticesCmd::Bounce {
            dir,
            incident,
            id,
            reason,
        } => {
            let store = Store::open(&dir.data_dir, None)?;
            store.outbox_bounce(incident, id, &reason, &operator().id)?;
            println!("notice {id} recorded as bounced");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

fn render(a: RenderArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&a.facts)
        .with_context(|| format!("reading {}", a.facts.display()))?;
    let facts =
        NoticeFacts::from_toml(&text).with_context(|| format!("in {}", a.facts.display()))?;
    let templates = a.dir.files().templates()?;
    let catalogue = crate::cmd_law::catalogue(&a.dir)?;
    let scenario = crate::cmd_law::incident_scenario(&a.dir, a.incident)?;
    let evaluation = evaluate(&catalogue, &scenario)?;
    let notice_date = a.notice_date.unwrap_or_else(today);
    let store = Store::open(&a.dir.data_dir, Some(&secrets::unlock()?))?;
    let started = Instant::now();
    let report = store.render_notices(&RenderNotices {
        incident: a.incident,
        facts: facts.clone(),
        templates: templates.clone(),
        evaluation: evaluation.clone(),
        notice_date: notice_date.clone(),
        channels: match a.channel {
            ChannelArg::Email => Channels::Email,
            ChannelArg::Print => Channels::Print,
            ChannelArg::Both => Channels::Both,
        },
        actor: operator(),
        reissue: a.reissue,
    })?;
    let elapsed = started.elapsed();
    if let Some(out) = &a.drafts_out {
        let renderer = Renderer::new(&templates)?;
        let mut elements: Vec<_> = scenario
            .affected
            .iter()
            .flat_map(|g| g.elements.iter().copied())
            .collect();
        elements.sort();
        elements.dedup();
        let drafts = renderer.drafts(
            &evaluation.obligations,
            &facts,
            &DraftContext {
                aware_at: scenario
                    .aware_at
                    .format(&time::format_description::well_known::Rfc3339)?,
                notice_date: notice_date.clone(),
                total: report.customers,
                elements,
                encrypted: scenario.encrypted,
                key_compromised: scenario.key_compromised,
                language: a.drafts_language.clone(),
            },
        )?;
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
        for d in &drafts {
            let p = out.join(&d.file_name);
            std::fs::write(&p, &d.markdown).with_context(|| format!("writing {}", p.display()))?;
        }
        eprintln!("{} drafts written to {}", drafts.len(), out.display());
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "notice version {} of incident {} (scope v{}): {} e-mail and {} print letters queued from {} customers in {:.2?}",
            report.version, report.incident, report.scope_version, report.queued_email, report.queued_print, report.customers, elapsed
        );
        println!(
            "  skipped: {} already notified, {} erased since the scope, {} without contact details; {} letter shapes",
            report.already_notified, report.erased, report.no_contact, report.stencils
        );
        if report.refused_total > 0 {
            println!("  REFUSED {} letters (not queued):", report.refused_total);
            for g in &report.refused {
                println!(
                    "    {:<8} {:>8}  {}",
                    g.jurisdiction,
                    g.count,
                    g.problems.join("; ")
                );
            }
        }
        let languages: Vec<String> = report
            .languages
            .iter()
            .map(|(l, n)| format!("{l} {n}"))
            .collect();
        if !languages.is_empty() {
            println!("  languages: {}", languages.join(", "));
        }
        if report.language_fallback_total > 0 {
            println!(
                "  {} letters not in the customer's preferred language:",
                report.language_fallback_total
            );
            for g in &report.language_fallbacks {
                println!(
                    "    {} -> {} {:>8}  ({})",
                    g.preferred,
                    g.language,
                    g.count,
                    match g.reason {
                        bulwark_store::LanguageFallback::NoTemplates =>
                            "no templates in that language",
                        bulwark_store::LanguageFallback::LawRequiresEnglish =>
                            "the jurisdiction's law prescribes English wording",
                    }
                );
            }
        }
        if !report.untranslated_facts.is_empty() {
            println!(
                "  note: letters in {} show the notice facts as written (add [translations.<lang>] to the facts)",
                report.untranslated_facts.join(", ")
            );
        }
        println!("  templates sha256 {}", report.digest);
        println!("Nothing is sent until the legal role approves: bulwark notices approve --incident {} --version {}", report.incident, report.version);
        println!("\n{}", bulwark_law::DISCLAIMER);
    }
    Ok(if report.refused_total > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn send(a: SendArgs) -> anyhow::Result<ExitCode> {
    let sender = Sender::new(a.smtp.config()?)?;
    let store = Store::open(&a.dir.data_dir, Some(&secrets::unlock()?))?;
    // One sender at a time: recovery below would otherwise mark another
    // sender's in-flight letters unknown.
    let Some(lock) = a.dir.files().lock_outbox()? else {
        bail!("another sender (`bulwark notices send`, or `bulwark serve --smtp-from`) is running on this data directory");
    };
    let unknown = store.outbox_recover()?;
    if unknown > 0 {
        eprintln!("{unknown} letter(s) were in flight when the last sender stopped; they are marked unknown and will not be resent automatically (check the mail server log, then `--retry-unknown`)");
    }
    if a.retry_unknown {
        let Some(id) = a.incident else {
            bail!("--retry-unknown needs --incident")
        };
        let n = store.outbox_retry_unknown(id, &operator().id)?;
        eprintln!("{n} unknown letter(s) released for another attempt");
    }
    let t = sender.run(&store, a.incident, a.limit)?;
    println!(
        "{} sent, {} to retry later, {} failed or bounced",
        t.sent, t.retried, t.failed
    );
    if let Some(id) = a.incident {
        let counts = store.outbox_counts(id)?;
        let waiting = counts.get("retry").copied().unwrap_or(0);
        if waiting > 0 {
            println!(
                "{waiting} letter(s) wait for a retry; run `bulwark notices send` again later"
            );
        }
    }
    drop(lock);
    Ok(ExitCode::SUCCESS)
}

fn print(dir: &DataDirArg, incident: u64, out: &Path) -> anyhow::Result<ExitCode> {
    let store = Store::open(&dir.data_dir, Some(&secrets::unlock()?))?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    // Parsed once for the whole run: one PDF per letter, thousands of letters.
    let fonts = PdfFonts::embedded()?;
    let mut rows = Vec::new();
    // Letters with characters no embedded font has (printed as U+FFFD): the
    // operator looks at them before they go in the post.
    let mut replaced: Vec<(String, usize)> = Vec::new();
    while let Some(c) = store.outbox_claim("print", Some(incident), i64::MAX)? {
        let address: Vec<String> = c
            .to_name
            .iter()
            .cloned()
            .chain(
                c.postal_address
                    .iter()
                    .flat_map(|a| a.split([',', '\n']).map(|l| l.trim().to_owned())),
            )
            .filter(|l| !l.is_empty())
            .collect();
        let file = format!("{}.pdf", c.message_id);
        let path = out.join(&file);
        let pdf = fonts.letter(&address, &c.letter.text)?;
        std::fs::write(&path, &pdf.bytes).with_context(|| format!("writing {}", path.display()))?;
        if pdf.replaced > 0 {
            replaced.push((file.clone(), pdf.replaced));
        }
        rows.push([
            c.id.to_string(),
            c.incident.to_string(),
            c.version.to_string(),
            c.letter.language.clone(),
            c.jurisdiction.clone(),
            c.to_name.clone().unwrap_or_default(),
            c.postal_address.clone().unwrap_or_default(),
            String::new(),
            file,
        ]);
        store.outbox_mark(c.id, SendOutcome::Printed, Some(c.message_id.clone()))?;
    }
    let csv_path = out.join(format!("mail-merge-incident-{incident}.csv"));
    let f = std::fs::File::create(&csv_path)
        .with_context(|| format!("writing {}", csv_path.display()))?;
    mail_merge(f, &rows)?;
    println!(
        "{} letters written to {} (PDF per letter, {})",
        rows.len(),
        out.display(),
        csv_path.display()
    );
    if !replaced.is_empty() {
        eprintln!(
            "{} letter(s) contain characters the embedded fonts cannot print (shown as \u{FFFD}); check them before mailing:",
            replaced.len()
        );
        for (file, n) in &replaced {
            eprintln!("  {file}: {n} character(s)");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn status(dir: &DataDirArg, incident: u64, json: bool) -> anyhow::Result<ExitCode> {
    let store = Store::open(&dir.data_dir, None)?;
    let versions = store.notice_versions(incident)?;
    let status = store.outbox_status(incident)?;
    if json {
        println!(
            "{}",
            serde_json::json!({"versions": versions, "outbox": status})
        );
        return Ok(ExitCode::SUCCESS);
    }
    if versions.is_empty() {
        println!("incident {incident} has no notices yet: bulwark notices render --incident {incident} --facts notice.toml");
        return Ok(ExitCode::SUCCESS);
    }
    for v in &versions {
        println!(
            "v{} {:<10} rendered {} by {}; {} e-mail, {} print, {} refused{}",
            v.version,
            v.state,
            crate::fmt_ms(v.created_ms),
            v.created_by,
            v.report.queued_email,
            v.report.queued_print,
            v.report.refused_total,
            v.approved_by
                .as_ref()
                .map(|a| format!("; approved by {a}"))
                .unwrap_or_default()
        );
    }
    for (k, states) in &status.counts {
        let parts: Vec<String> = states.iter().map(|(s, n)| format!("{s} {n}")).collect();
        println!("  {k}: {}", parts.join(", "));
    }
    for (id, j, state, err) in &status.failures {
        println!("  #{id} {j} {state}: {err}");
    }
    Ok(ExitCode::SUCCESS)
}
