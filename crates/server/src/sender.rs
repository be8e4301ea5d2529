//! Delivering approved e-mail notices over SMTP, exactly once: the loop that
//! `bulwark notices send` runs once and `bulwark serve` keeps running.
//!
//! Exactly-once rests on the store's outbox: a letter is claimed (`sending`)
//! before the SMTP conversation and marked after it; a sender that dies in
//! between leaves it `sending`, which the next sender's recovery turns into
//! `unknown` — never resent without an operator's say-so. That recovery would
//! steal another live sender's letters, so only one sender runs per data
//! directory: the caller holds `outbox.lock` ([`bulwark_store::DataDir::lock_outbox`])
//! for as long as it sends.

use std::time::{Duration, Instant};

use bulwark_store::{Claimed, OutboxError, SendOutcome, Store};
use lettre::message::{header::MessageId, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};
use zeroize::Zeroizing;

/// How the SMTP server is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain SMTP, for a relay on loopback only.
    None,
    StartTls,
    /// Implicit TLS (port 465).
    Tls,
}

impl std::str::FromStr for SmtpSecurity {
    type Err = SenderError;

    fn from_str(s: &str) -> Result<Self, SenderError> {
        match s {
            "none" => Ok(SmtpSecurity::None),
            "starttls" => Ok(SmtpSecurity::StartTls),
            "tls" => Ok(SmtpSecurity::Tls),
            other => Err(SenderError::Security(other.to_owned())),
        }
    }
}

/// A sender's settings.
#[derive(Clone)]
pub struct SenderConfig {
    /// `host:port`.
    pub smtp: String,
    pub security: SmtpSecurity,
    pub credentials: Option<(String, Zeroizing<String>)>,
    /// The `From:` of every letter, e.g. `Example Shop <privacy@shop.example>`.
    pub from: String,
    /// At most this many messages per second (0: no pacing).
    pub rate: f64,
    /// Attempts before a transiently failing letter is marked failed.
    pub max_attempts: u32,
    /// First retry delay in seconds; doubles per attempt, capped at one hour.
    pub retry_after_secs: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    #[error("the SMTP server must be host:port, not `{0}`")]
    Address(String),
    #[error("SMTP security must be none, starttls or tls, not `{0}`")]
    Security(String),
    #[error("the sender address is not a valid mailbox: {0}")]
    From(String),
    #[error("SMTP setup: {0}")]
    Transport(String),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    #[error(transparent)]
    Store(#[from] bulwark_store::StoreError),
}

/// What one run delivered.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub sent: u64,
    pub retried: u64,
    /// Failed for good or bounced.
    pub failed: u64,
}

pub struct Sender {
    mailer: SmtpTransport,
    from: Mailbox,
    domain: String,
    cfg: SenderConfig,
    /// Drill messages that failed transiently: (attempts, not before). Kept
    /// in memory: a restart of `serve` retries them afresh, which for a drill
    /// is what the team wants.
    drill_retries: std::sync::Mutex<std::collections::HashMap<i64, (u32, Instant)>>,
}

/// Why a drill message did not go out.
enum DrillSendError {
    /// Will not succeed on retry (a bad address, a permanent SMTP reply).
    Permanent(String),
    /// The server was unreachable or answered 4xx: try again later.
    Transient(String),
}

impl Sender {
    pub fn new(cfg: SenderConfig) -> Result<Sender, SenderError> {
        let from: Mailbox = cfg
            .from
            .parse()
            .map_err(|e: lettre::address::AddressError| SenderError::From(e.to_string()))?;
        let domain = from.email.domain().to_owned();
        let (host, port) = cfg
            .smtp
            .rsplit_once(':')
            .ok_or_else(|| SenderError::Address(cfg.smtp.clone()))?;
        let port: u16 = port
            .parse()
            .map_err(|_| SenderError::Address(cfg.smtp.clone()))?;
        let transport = |e: lettre::transport::smtp::Error| SenderError::Transport(e.to_string());
        let builder = match cfg.security {
            SmtpSecurity::None => SmtpTransport::builder_dangerous(host),
            SmtpSecurity::StartTls => SmtpTransport::starttls_relay(host).map_err(transport)?,
            SmtpSecurity::Tls => SmtpTransport::relay(host).map_err(transport)?,
        };
        let mut builder = builder.port(port).timeout(Some(Duration::from_secs(30)));
        if let Some((user, pass)) = &cfg.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), pass.to_string()));
        }
        Ok(Sender {
            mailer: builder.build(),
            from,
            domain,
            cfg,
            drill_retries: Default::default(),
        })
    }

    fn pace(&self) -> Duration {
        if self.cfg.rate > 0.0 {
            Duration::from_secs_f64(1.0 / self.cfg.rate)
        } else {
            Duration::ZERO
        }
    }

    /// Sends due letters (of `incident`, or of every approved version) until
    /// none is due or `limit` were handled. Blocking; the caller holds the
    /// outbox lock.
    pub fn run(
        &self,
        store: &Store,
        incident: Option<u64>,
        limit: Option<u64>,
    ) -> Result<Tally, SenderError> {
        let mut t = Tally::default();
        let pace = self.pace();
        let mut next = Instant::now();
        loop {
            if limit.is_some_and(|l| t.sent + t.failed >= l) {
                break;
            }
            // Pace before claiming, so a letter is `sending` only while it is sent.
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
            next = Instant::now() + pace;
            let now_ms = now_ms();
            let Some(c) = store.outbox_claim("email", incident, now_ms)? else {
                break;
            };
            let outcome = self.deliver(&c, now_ms);
            match &outcome {
                SendOutcome::Sent => t.sent += 1,
                SendOutcome::Retry { .. } => t.retried += 1,
                _ => t.failed += 1,
            }
            store.outbox_mark(c.id, outcome, Some(c.message_id.clone()))?;
        }
        Ok(t)
    }

    /// Sends drill injects' messages to the operators they are for (their own
    /// addresses; never a customer's). A transient failure (server down, 4xx)
    /// is retried with the outbox's back-off up to `max_attempts`; a message
    /// that cannot be sent is then marked failed and shown with the run.
    /// Returns how many went out.
    pub fn send_drill_messages(&self, store: &Store) -> Result<u64, SenderError> {
        let mut sent = 0;
        let now = Instant::now();
        for m in store
            .drill_messages(None)?
            .into_iter()
            .filter(|m| m.state == "pending")
        {
            let attempts = {
                let retries = self.retries();
                match retries.get(&m.id) {
                    Some((_, not_before)) if *not_before > now => continue,
                    Some((n, _)) => *n,
                    None => 0,
                }
            };
            let outcome = match self.drill_message(&m.email, &m.subject, &m.body) {
                Ok(()) => Some(true),
                Err(DrillSendError::Transient(e)) if attempts + 1 < self.cfg.max_attempts => {
                    let delay = self
                        .cfg
                        .retry_after_secs
                        .saturating_mul(1 << attempts.min(16))
                        .min(3600);
                    tracing::info!(run = m.run_id, operator = %m.operator, attempt = attempts + 1, retry_in_secs = delay, error = %scrub(&e, Some(&m.email), None), "a drill message will be retried");
                    self.retries()
                        .insert(m.id, (attempts + 1, now + Duration::from_secs(delay)));
                    None
                }
                Err(DrillSendError::Transient(e) | DrillSendError::Permanent(e)) => {
                    tracing::warn!(run = m.run_id, operator = %m.operator, error = %scrub(&e, Some(&m.email), None), "a drill message was not sent");
                    Some(false)
                }
            };
            if let Some(ok) = outcome {
                self.retries().remove(&m.id);
                sent += u64::from(ok);
                store.mark_drill_message(m.id, ok).wait_blocking()?;
            }
        }
        Ok(sent)
    }

    fn retries(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<i64, (u32, Instant)>> {
        // A panic while holding it left at worst a stale retry time.
        self.drill_retries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn drill_message(&self, to: &str, subject: &str, body: &str) -> Result<(), DrillSendError> {
        let permanent = |e: String| DrillSendError::Permanent(e);
        let to: Mailbox = to
            .parse()
            .map_err(|e: lettre::address::AddressError| permanent(e.to_string()))?;
        let msg = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .map_err(|e| permanent(e.to_string()))?;
        self.mailer.send(&msg).map(|_| ()).map_err(|e| {
            if e.is_permanent() {
                DrillSendError::Permanent(e.to_string())
            } else {
                DrillSendError::Transient(e.to_string())
            }
        })
    }

    fn deliver(&self, c: &Claimed, now_ms: i64) -> SendOutcome {
        let msg = match build(c, &self.from, &self.domain) {
            Ok(m) => m,
            Err(e) => {
                return SendOutcome::Failed {
                    error: format!("cannot build the message: {e}"),
                }
            }
        };
        match self.mailer.send(&msg) {
            Ok(_) => SendOutcome::Sent,
            Err(e) => {
                let error = scrub(&e.to_string(), c.to_email.as_deref(), c.to_name.as_deref());
                if e.is_permanent() {
                    SendOutcome::Bounced { error }
                } else if c.attempts >= self.cfg.max_attempts {
                    SendOutcome::Failed { error }
                } else {
                    let delay = self
                        .cfg
                        .retry_after_secs
                        .saturating_mul(1 << (c.attempts.saturating_sub(1)).min(16))
                        .min(3600);
                    SendOutcome::Retry {
                        error,
                        next_ms: now_ms + (delay as i64) * 1000,
                    }
                }
            }
        }
    }
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Removes the recipient's address and name from a server's reply before it is stored.
pub fn scrub(msg: &str, email: Option<&str>, name: Option<&str>) -> String {
    let mut s = msg.to_owned();
    for v in [email, name].into_iter().flatten().filter(|v| v.len() > 2) {
        s = s.replace(v, "<recipient>");
    }
    s.chars().take(300).collect()
}

#[derive(Debug, thiserror::Error)]
enum BuildError {
    #[error("no e-mail address")]
    NoAddress,
    #[error("the recipient address is not valid")]
    BadAddress,
    #[error("{0}")]
    Message(#[from] lettre::error::Error),
}

fn build(c: &Claimed, from: &Mailbox, domain: &str) -> Result<Message, BuildError> {
    let email = c.to_email.as_deref().ok_or(BuildError::NoAddress)?;
    let to = Mailbox::new(
        c.to_name.clone(),
        email.parse().map_err(|_| BuildError::BadAddress)?,
    );
    Ok(Message::builder()
        .from(from.clone())
        .to(to)
        .subject(c.letter.subject.clone())
        .header(MessageId::from(format!("<{}@{domain}>", c.message_id)))
        .multipart(MultiPart::alternative_plain_html(
            c.letter.text.clone(),
            c.letter.html.clone(),
        ))?)
}

/// The sender inside `serve`: takes the outbox lock (waiting while a `bulwark
/// notices send` holds it), recovers letters a dead sender left in flight,
/// then delivers whatever is due, every `every`, until the process ends.
pub fn spawn_in_serve(store: Store, sender: Sender, every: Duration) {
    std::thread::Builder::new()
        .name("bulwark-sender".into())
        .spawn(move || {
            let dir = store.dir().clone();
            let _lock = loop {
                match dir.lock_outbox() {
                    Ok(Some(lock)) => break lock,
                    Ok(None) => {
                        tracing::warn!("another sender holds outbox.lock; the built-in sender waits")
                    }
                    Err(e) => tracing::error!(error = %e, "cannot take outbox.lock; the built-in sender waits"),
                }
                std::thread::sleep(Duration::from_secs(30));
            };
            match store.outbox_recover() {
                Ok(0) => {}
                Ok(n) => tracing::warn!(
                    letters = n,
                    "letters were in flight when the last sender stopped; marked unknown, not resent"
                ),
                Err(e) => tracing::error!(error = %e, "outbox recovery"),
            }
            tracing::info!("the built-in sender delivers approved notices");
            loop {
                match sender.run(&store, None, None) {
                    Ok(t) if t.sent + t.failed + t.retried > 0 => tracing::info!(
                        sent = t.sent,
                        retried = t.retried,
                        failed = t.failed,
                        "notices delivered"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "the sender stopped a run"),
                }
                match sender.send_drill_messages(&store) {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(messages = n, "drill messages sent to operators"),
                    Err(e) => tracing::error!(error = %e, "drill messages"),
                }
                std::thread::sleep(every);
            }
        })
        .map(|_| ())
        .unwrap_or_else(|e| tracing::error!(error = %e, "cannot start the sender thread"));
}
