//! Seeds a data directory for the console load benchmark (`bench/console.sh`)
//! through the store's public API only, then signs the benchmark operator in
//! and prints what the load generator needs:
//!
//!     bulwark-seed-console --data-dir DIR [--customers N] [--incidents N] [--scope N]
//!
//! What it seeds (defaults):
//! - 1,000,000 vault customers: name, e-mail, postal address and a password
//!   hash, resident in 20 US states, 8 EEA countries, GB, 4 Canadian provinces
//!   and AU;
//! - 10,000 incidents opened with the data directory's playbooks (so they have
//!   tasks), moved to varied phases (a fifth closed), with team assignments,
//!   timeline notes, and the tasks of the phases behind them mostly done;
//! - one more, "the big one" (the newest): a storefront API key that revealed
//!   100,000 customers' name, e-mail, address and password hash, the scope
//!   taken from the access log, its notification obligations as tasks (the
//!   deadlines) and a rendered notice version: 100,000 outbox rows;
//! - an operator `bench` holding every role, enrolled with a TOTP secret, and
//!   an API key with `admin` and `incidents:*`.
//!
//! The directory is made with the cheapest KDF (as the test kit does); the
//! passphrase is `BULWARK_PASSPHRASE` (the one `bulwark serve` reads).
//! Seeding is not resumable: a directory with the marker file
//! `bench-seeded.json` is reused as is, an existing one without it is refused.
//! The marker holds what later runs need (the operator's TOTP secret, the API
//! key, the big incident's number, the seeding times): a benchmark directory,
//! not one to keep real data in.
//! Every run then ends the previous run's session (kept in `bench-session`),
//! signs in afresh (sessions end after 30 min idle) and prints `KEY=value`
//! lines on stdout: `SESSION`, `BIG`, `API_KEY`, `CUSTOMERS`, `INCIDENTS`,
//! `OUTBOX`, `SIZE_BYTES`. Progress and timings go to stderr.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use bulwark_access::{OperatorRole, OperatorRoles, TotpError, TotpSecret};
use bulwark_incident::{Classification, NewIncident, Phase, Role, Severity};
use bulwark_law::{evaluate, Scenario};
use bulwark_model::{DataElement, Residency, Scope, Scopes};
use bulwark_notice::NoticeFacts;
use bulwark_store::{
    init, Channels, LoginError, NewApiKey, NewCustomer, NewOperator, Principal, RenderNotices,
    ScopeBasis, ScopeQuery, Store, TaskChange,
};
use bulwark_vault::{KdfParams, UnlockSecret};
use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

const MARKER: &str = "bench-seeded.json";
/// The session the last run printed, ended by the next.
const SESSION_FILE: &str = "bench-session";
const OPERATOR: &str = "bench";
const PASSWORD: &str = "correct horse battery staple harbour";
const DEFAULT_PASSPHRASE: &str = "correct horse battery staple";
/// Customer creations in flight at once (each holds its sealed record).
const WINDOW: usize = 16_384;
/// Customers per `reveal_batch` (what `render_notices` uses too).
const REVEAL_BATCH: usize = 8_192;

const FACTS: &str = r#"
store = "Example Outdoor Gear"
what_happened = "An attacker used a stolen storefront API key to read customer records."
breach_start = "2026-10-01"
store_actions = "We revoked the key and engaged forensic investigators."
consequences = "Your information could be used for phishing."
regulator_notified = "We have notified the data protection authority."
[contact]
phone = "1-800-555-0100"
email = "privacy@example.test"
"#;

/// (country, subdivision, weight): roughly a North-American shop with EU, UK
/// and Australian customers.
const PLACES: [(&str, Option<&str>, u32); 34] = [
    ("US", Some("US-CA"), 12),
    ("US", Some("US-TX"), 9),
    ("US", Some("US-NY"), 7),
    ("US", Some("US-FL"), 7),
    ("US", Some("US-IL"), 4),
    ("US", Some("US-PA"), 4),
    ("US", Some("US-OH"), 3),
    ("US", Some("US-GA"), 3),
    ("US", Some("US-NC"), 3),
    ("US", Some("US-MI"), 3),
    ("US", Some("US-NJ"), 3),
    ("US", Some("US-VA"), 2),
    ("US", Some("US-WA"), 2),
    ("US", Some("US-AZ"), 2),
    ("US", Some("US-MA"), 2),
    ("US", Some("US-TN"), 2),
    ("US", Some("US-CO"), 2),
    ("US", Some("US-OR"), 1),
    ("US", Some("US-MN"), 1),
    ("US", Some("US-NV"), 1),
    ("DE", None, 4),
    ("FR", None, 3),
    ("IT", None, 2),
    ("ES", None, 2),
    ("NL", None, 2),
    ("IE", None, 1),
    ("SE", None, 1),
    ("PL", None, 1),
    ("GB", None, 5),
    ("CA", Some("CA-ON"), 3),
    ("CA", Some("CA-QC"), 2),
    ("CA", Some("CA-BC"), 2),
    ("CA", Some("CA-AB"), 1),
    ("AU", None, 2),
];

const FIRST: [&str; 24] = [
    "Ana", "Ben", "Chloé", "Dmitri", "Elif", "Farah", "Grace", "Hiro", "Ines", "Jonas", "Kofi",
    "Lena", "Marco", "Nadia", "Oscar", "Priya", "Quentin", "Rosa", "Sven", "Tamar", "Umar", "Vera",
    "Wen", "Zoë",
];
const LAST: [&str; 24] = [
    "Abara", "Berg", "Castillo", "Dubois", "Eriksen", "Fischer", "García", "Hughes", "Ito",
    "Jansen", "Kowalski", "López", "Müller", "Nakamura", "O'Brien", "Petrov", "Quinn", "Rossi",
    "Schmidt", "Tanaka", "Urban", "Virtanen", "Walsh", "Young",
];
const STREETS: [&str; 8] = [
    "Market Street",
    "Elm Avenue",
    "Harbour Road",
    "Station Lane",
    "Maple Drive",
    "King Street",
    "Lindenweg",
    "Rue des Fleurs",
];
const TEAM: [&str; 8] = [
    "ana", "ben", "chloe", "dmitri", "elif", "farah", "grace", "hiro",
];
const SYSTEMS: [&str; 6] = [
    "checkout",
    "admin-panel",
    "orders-db",
    "storefront-api",
    "support-desk",
    "cdn",
];

struct Args {
    data_dir: PathBuf,
    customers: usize,
    incidents: usize,
    scope: usize,
    threads: usize,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut a = Args {
        data_dir: PathBuf::new(),
        customers: 1_000_000,
        incidents: 10_000,
        scope: 100_000,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get().min(4)),
    };
    let mut it = std::env::args().skip(1);
    let mut dir = None;
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| anyhow!("{flag} needs a value"));
        match flag.as_str() {
            "--data-dir" => dir = Some(PathBuf::from(value()?)),
            "--customers" => a.customers = value()?.parse().context("--customers")?,
            "--incidents" => a.incidents = value()?.parse().context("--incidents")?,
            "--scope" => a.scope = value()?.parse().context("--scope")?,
            "--threads" => a.threads = value()?.parse().context("--threads")?,
            // `cargo bench` passes this to every bench binary.
            "--bench" => {}
            other => bail!(
                "unknown argument {other}; usage: bulwark-seed-console --data-dir DIR \
                 [--customers N] [--incidents N] [--scope N] [--threads N]"
            ),
        }
    }
    a.data_dir = dir.ok_or_else(|| anyhow!("--data-dir DIR is required"))?;
    if a.scope > a.customers {
        bail!("--scope cannot exceed --customers");
    }
    a.threads = a.threads.max(1);
    Ok(a)
}

fn secret() -> anyhow::Result<UnlockSecret> {
    let pass = std::env::var("BULWARK_PASSPHRASE").unwrap_or_else(|_| DEFAULT_PASSPHRASE.into());
    Ok(UnlockSecret::passphrase(Zeroizing::new(pass))?)
}

fn unix_now() -> u64 {
    OffsetDateTime::now_utc().unix_timestamp().max(0) as u64
}

fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// A tiny deterministic generator (SplitMix64), so every seed is the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn place(i: usize) -> (&'static str, Option<&'static str>) {
    let total: u32 = PLACES.iter().map(|p| p.2).sum();
    // Spread deterministically by a hash of i, so every stride of ids is mixed too.
    let mut r = Rng(i as u64 ^ 0x5EED);
    let mut n = r.below(u64::from(total)) as u32;
    for (c, s, w) in PLACES {
        if n < w {
            return (c, s);
        }
        n -= w;
    }
    ("US", Some("US-CA"))
}

fn address(i: usize, country: &str, sub: Option<&str>, r: &mut Rng) -> String {
    let street = r.pick(&STREETS);
    let no = 1 + r.below(400);
    match country {
        "US" => format!(
            "{no} {street}\nSpringfield, {} {:05}\nUnited States",
            sub.unwrap_or("US-CA").trim_start_matches("US-"),
            10_000 + i % 89_999
        ),
        "CA" => format!(
            "{no} {street}\nToronto, {} M5V 2T6\nCanada",
            sub.unwrap_or("CA-ON").trim_start_matches("CA-")
        ),
        "GB" => format!("{no} {street}\nLondon SW1Y 4JH\nUnited Kingdom"),
        "AU" => format!("{no} {street}\nSydney NSW 2000\nAustralia"),
        c => format!("{street} {no}\n{:05} Stadt\n{c}", 10_000 + i % 89_999),
    }
}

fn new_customer(i: usize) -> NewCustomer {
    let (country, sub) = place(i);
    let mut r = Rng(i as u64);
    let (first, last) = (*r.pick(&FIRST), *r.pick(&LAST));
    let domain = match country {
        "DE" => "example.de",
        "FR" => "example.fr",
        "GB" => "example.co.uk",
        _ => "example.com",
    };
    let local: String = format!("{first}.{last}.{i}")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase();
    let mut fields = BTreeMap::new();
    fields.insert("name".to_owned(), json!(format!("{first} {last}")));
    fields.insert("email".to_owned(), json!(format!("{local}@{domain}")));
    fields.insert(
        "postal_address".to_owned(),
        json!(address(i, country, sub, &mut r)),
    );
    fields.insert(
        "password".to_owned(),
        json!(format!(
            "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ{:08x}$aGFzaGhhc2hoYXNoaGFzaA{:016x}",
            i,
            r.next()
        )),
    );
    NewCustomer {
        external_id: None,
        residency: Residency {
            country: country.to_owned(),
            subdivision: sub.map(str::to_owned),
        },
        language: None,
        fields,
    }
}

/// Creates customers `range` on this thread, at most `WINDOW` in flight;
/// returns the ids of every `stride`-th (the big incident's scope).
fn create_range(
    store: &Store,
    who: &Principal,
    range: std::ops::Range<usize>,
    stride: usize,
    done: &std::sync::atomic::AtomicUsize,
) -> anyhow::Result<Vec<Uuid>> {
    let mut picked = Vec::new();
    let mut inflight = VecDeque::with_capacity(WINDOW);
    let mut settle = |p: (usize, bulwark_store::Pending<Uuid, _>)| -> anyhow::Result<()> {
        let (i, pending) = p;
        let id = pending
            .wait_blocking()
            .with_context(|| format!("customer {i}"))?;
        if i % stride == 0 {
            picked.push(id);
        }
        done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    };
    for i in range {
        let pending = store
            .create_customer(&new_customer(i), who)
            .with_context(|| format!("customer {i}"))?;
        inflight.push_back((i, pending));
        if inflight.len() >= WINDOW {
            // Wait for the oldest half at once: the writer commits in batches.
            for _ in 0..WINDOW / 2 {
                if let Some(p) = inflight.pop_front() {
                    settle(p)?;
                }
            }
        }
    }
    for p in inflight {
        settle(p)?;
    }
    Ok(picked)
}

fn seed_customers(store: &Store, a: &Args) -> anyhow::Result<Vec<Uuid>> {
    let who = Principal {
        id: "key:storefront-import".into(),
        name: "storefront import".into(),
        key_id: None,
        scopes: Scopes::new([Scope::VaultWrite]),
    };
    let stride = (a.customers / a.scope.max(1)).max(1);
    let per = a.customers.div_ceil(a.threads);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let t = Instant::now();
    let parts: Vec<anyhow::Result<Vec<Uuid>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..a.threads)
            .map(|k| {
                let range = (k * per).min(a.customers)..((k + 1) * per).min(a.customers);
                let (store, who, done) = (store, &who, &done);
                s.spawn(move || create_range(store, who, range, stride, done))
            })
            .collect();
        s.spawn(|| {
            let mut slept = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                slept += 1;
                if slept % 50 == 0 {
                    let n = done.load(std::sync::atomic::Ordering::Relaxed);
                    let s = t.elapsed().as_secs_f64();
                    eprintln!("  customers: {n} in {s:.0} s ({:.0}/s)", n as f64 / s);
                }
            }
        });
        let parts = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow!("a customer thread panicked")))
            })
            .collect();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        parts
    });
    let mut picked = Vec::new();
    for p in parts {
        picked.extend(p?);
    }
    picked.truncate(a.scope);
    Ok(picked)
}

fn enrol_operator(store: &Store) -> anyhow::Result<String> {
    let new = NewOperator {
        id: OPERATOR.into(),
        name: "Benchmark Operator".into(),
        email: Some("bench@shop.example".into()),
        roles: OperatorRoles::new(OperatorRole::ALL),
    };
    let (_, link) = store
        .create_operator(new, "operator:seed")
        .wait_blocking()?;
    let view = store.enrolment(link.as_str())?;
    let base32 = view.secret_base32.to_string();
    let totp = TotpSecret::from_base32(&base32)?;
    store.complete_enrolment(link.as_str(), PASSWORD, &totp.code_at(unix_now())?)?;
    Ok(base32)
}

/// Signs the operator in: password, then a TOTP code of a step not used yet
/// (a code is accepted once, so a run within 30 s of the last one waits).
fn sign_in(store: &Store, totp_base32: &str) -> anyhow::Result<String> {
    let totp = TotpSecret::from_base32(totp_base32)?;
    for attempt in 0..4 {
        let ticket = store.login_password(OPERATOR, PASSWORD, Some("127.0.0.1"))?;
        let code = totp.code_at(unix_now() + 30)?;
        match store.login_second_factor(
            ticket.as_str(),
            &code,
            Some("127.0.0.1"),
            Some("bulwark-seed-console"),
            "browser",
        ) {
            Ok((session, _)) => return Ok(session.as_str().to_owned()),
            Err(LoginError::SecondFactor(TotpError::Replayed)) if attempt < 3 => {
                // The next step starts at the next multiple of 30 s.
                let wait = 30 - unix_now() % 30 + 1;
                eprintln!("  the TOTP step was used by the last run; waiting {wait} s");
                std::thread::sleep(Duration::from_secs(wait));
            }
            Err(e) => return Err(e.into()),
        }
    }
    bail!("could not sign in")
}

/// The path of ordinary incidents: every phase up to `target`.
fn path_to(target: Phase) -> Vec<Phase> {
    let order = [
        Phase::Contained,
        Phase::Investigating,
        Phase::Notifying,
        Phase::Remediating,
        Phase::Monitoring,
        Phase::Closed,
    ];
    match order.iter().position(|p| *p == target) {
        Some(i) => order[..=i].to_vec(),
        None => Vec::new(),
    }
}

fn target_phase(r: &mut Rng) -> Phase {
    match r.below(100) {
        0..=29 => Phase::Triage,
        30..=39 => Phase::Contained,
        40..=54 => Phase::Investigating,
        55..=64 => Phase::Notifying,
        65..=74 => Phase::Remediating,
        75..=79 => Phase::Monitoring,
        _ => Phase::Closed,
    }
}

struct Tally {
    ok: usize,
    failed: BTreeMap<String, usize>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            ok: 0,
            failed: BTreeMap::new(),
        }
    }
    fn add<T, E: std::fmt::Display>(&mut self, r: Result<T, E>) {
        match r {
            Ok(_) => self.ok += 1,
            Err(e) => *self.failed.entry(e.to_string()).or_default() += 1,
        }
    }
}

fn seed_incidents(store: &Store, n: usize) -> anyhow::Result<(Tally, Tally)> {
    let playbooks = store.dir().playbooks()?;
    let now = OffsetDateTime::now_utc();
    let mut r = Rng(42);
    let mut opened = VecDeque::new();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let severity = Severity::ALL[(r.below(100) as usize * Severity::ALL.len()) / 100];
        let classification = *r.pick(&Classification::ALL);
        let system = *r.pick(&SYSTEMS);
        // Spread over the last two years, newest last.
        let age = time::Duration::minutes(((n - i) as i64 * 60 * 24 * 730) / n as i64 + 5);
        let discovered = now - age;
        let aware = discovered + time::Duration::minutes(r.below(240) as i64);
        let aware = aware.min(now);
        let mut new = NewIncident::new(
            &format!(
                "{} on {system} (#{})",
                match classification {
                    Classification::CredentialTheft => "Stolen credentials used",
                    Classification::WebSkimmer => "Card skimmer injected",
                    Classification::SqlInjectionExfiltration => "SQL injection exfiltration",
                    Classification::MalwareRansomware => "Ransomware detected",
                    Classification::InsiderMisuse => "Insider misuse",
                    Classification::LostDevice => "Laptop lost",
                    Classification::ThirdPartyBreach => "Supplier breach",
                    Classification::Misdelivery => "E-mail sent to the wrong list",
                },
                i + 1
            ),
            severity,
            classification,
            discovered,
            aware,
        );
        new.summary = format!("Seeded incident {} for the console benchmark.", i + 1);
        new.affected_systems = vec![system.to_owned()];
        new.owner = Some((*r.pick(&TEAM)).to_owned());
        opened.push_back(store.open_incident(new, playbooks.clone(), "operator:seed"));
        // Each queued job holds its own copy of the playbooks: bound them.
        if opened.len() >= 512 {
            for p in opened.drain(..256) {
                ids.push(p.wait_blocking()?);
            }
        }
    }
    for p in opened {
        ids.push(p.wait_blocking()?);
    }
    let mut pending = Vec::new();
    let mut targets = Vec::with_capacity(ids.len());
    for &id in &ids {
        let target = target_phase(&mut r);
        targets.push(target);
        if r.below(100) < 60 {
            for role in [Role::IncidentCommander, Role::SecurityLead, Role::Legal] {
                if r.below(100) < 70 {
                    pending.push(store.assign_incident(
                        id,
                        role,
                        (*r.pick(&TEAM)).to_owned(),
                        "operator:seed",
                    ));
                }
            }
        }
        for k in 0..1 + r.below(3) {
            pending.push(store.note_incident(
                id,
                format!(
                    "Note {}: checked the {} logs; nothing new beyond the first finding.",
                    k + 1,
                    r.pick(&SYSTEMS)
                ),
                "operator:seed",
            ));
        }
        for phase in path_to(target) {
            pending.push(store.advance_incident(id, phase, None, "operator:seed"));
        }
    }
    let mut opens = Tally::new();
    opens.ok = ids.len();
    let mut changes = Tally::new();
    for p in pending {
        changes.add(p.wait_blocking());
    }
    // The work of the phases an incident has left is mostly done (a few
    // stragglers stay open and overdue), some of the current phase's too; a
    // closed incident's is all done.
    let rank = |p: Phase| Phase::ALL.iter().position(|q| *q == p).unwrap_or(0);
    let mut pending = Vec::new();
    for (&id, &target) in ids.iter().zip(&targets) {
        for t in store
            .incident(id)?
            .tasks
            .into_iter()
            .filter(|t| t.is_open())
        {
            let done = if target == Phase::Closed {
                true
            } else if rank(t.phase) < rank(target) {
                r.below(100) < 90
            } else if t.phase == target {
                r.below(100) < 30
            } else {
                false
            };
            if done {
                let change = TaskChange::Done {
                    note: (r.below(100) < 20).then(|| "Done; evidence in the locker.".to_owned()),
                };
                pending.push(store.update_task(id, t.key, change, "operator:seed"));
            }
        }
        if pending.len() >= 4096 {
            for p in pending.drain(..) {
                changes.add(p.wait_blocking());
            }
        }
    }
    for p in pending {
        changes.add(p.wait_blocking());
    }
    Ok((opens, changes))
}

struct Big {
    id: u64,
    outbox: u64,
    timings: Vec<(String, f64)>,
}

fn seed_big(store: &Store, scope_ids: &[Uuid]) -> anyhow::Result<Big> {
    let mut timings = Vec::new();
    let mut t = Instant::now();
    let mut lap = |what: &str, t: &mut Instant| {
        timings.push((what.to_owned(), t.elapsed().as_secs_f64()));
        eprintln!("  {what}: {:.1} s", t.elapsed().as_secs_f64());
        *t = Instant::now();
    };
    let now = OffsetDateTime::now_utc();
    let aware = now - time::Duration::hours(30);
    let mut new = NewIncident::new(
        "Storefront API key used to read 100,000 customer records",
        Severity::Sev1,
        Classification::CredentialTheft,
        aware - time::Duration::hours(2),
        aware,
    );
    new.summary = "A storefront integration key leaked from a CI log revealed names, e-mail and postal addresses and password hashes.".into();
    new.affected_systems = vec!["storefront-api".into()];
    new.owner = Some("ana".into());
    let id = store
        .open_incident(new, store.dir().playbooks()?, "operator:bench")
        .wait_blocking()?;
    let mut pending = Vec::new();
    for (role, person) in [
        (Role::IncidentCommander, "ana"),
        (Role::SecurityLead, "ben"),
        (Role::Legal, "chloe"),
        (Role::PrComms, "dmitri"),
        (Role::CustomerService, "elif"),
        (Role::ExecutiveSponsor, "farah"),
    ] {
        pending.push(store.assign_incident(id, role, person.into(), "operator:bench"));
    }
    for text in [
        "Key storefront-sync seen revealing customers at 40 req/s from an unknown address.",
        "Key revoked; lockdown not needed, no other key affected.",
        "Access log shows 100,000 distinct customers revealed; scope taken from it.",
    ] {
        pending.push(store.note_incident(id, text.into(), "operator:bench"));
    }
    for phase in [Phase::Contained, Phase::Investigating] {
        pending.push(store.advance_incident(id, phase, None, "operator:bench"));
    }
    for p in pending {
        p.wait_blocking()?;
    }
    lap("big incident opened, team, notes", &mut t);

    // The leaked key, and what it revealed: one access-log row per customer.
    let elements = [
        DataElement::Name,
        DataElement::Email,
        DataElement::PostalAddress,
        DataElement::Password,
    ];
    let (info, _token) = store
        .create_key(
            NewApiKey {
                name: "storefront-sync".into(),
                scopes: Scopes::new(elements.iter().map(|e| Scope::VaultReveal(*e))),
                expires_at_ms: None,
            },
            "operator:bench",
        )
        .wait_blocking()?;
    let leaked = Principal {
        id: format!("key:{}", info.id),
        name: info.name.clone(),
        key_id: Some(info.id.clone()),
        scopes: info.scopes.clone(),
    };
    let since = now_ms() - 1_000;
    let mut reveals = Vec::new();
    for chunk in scope_ids.chunks(REVEAL_BATCH) {
        let (p, missing) = store.reveal_batch(&leaked, "order sync", chunk, &elements)?;
        if !missing.is_empty() {
            bail!("{} customers missing while revealing", missing.len());
        }
        reveals.push(p);
        // Two batches in flight: decrypt the next while this one commits.
        if reveals.len() > 2 {
            reveals.remove(0).wait_blocking()?;
        }
    }
    for p in reveals {
        p.wait_blocking()?;
    }
    lap("access log: reveals by the leaked key", &mut t);

    let q = ScopeQuery {
        principals: vec![leaked.id.clone()],
        sources: Vec::new(),
        since_ms: since,
        until_ms: now_ms() + 1_000,
    };
    let result = store.scope_from_access_log(&q)?;
    let basis = ScopeBasis::AccessLog(q);
    let summary = result.summary(&basis, false, false);
    eprintln!(
        "  scope: {} customers in {} jurisdiction × element groups",
        summary.customers,
        summary.affected.len()
    );
    store
        .save_scope(id, &result, &summary, "operator:bench")?
        .wait_blocking()?;
    drop(result);
    lap("scope from the access log, saved", &mut t);

    let rec = store.incident(id)?;
    let scenario: Scenario = serde_json::from_value(json!({
        "aware_at": rec.incident.aware_at.format(&time::format_description::well_known::Rfc3339)?,
        "discovered_at": rec.incident.discovered_at.format(&time::format_description::well_known::Rfc3339)?,
        "encrypted": false,
        "key_compromised": false,
        "affected": summary.affected,
    }))?;
    let evaluation = evaluate(&store.dir().laws()?, &scenario)?;
    let tasks = bulwark_store::obligation_tasks(
        id,
        &evaluation,
        scenario.aware_at,
        OffsetDateTime::now_utc(),
    );
    let n_tasks = tasks.len();
    store
        .upsert_tasks(id, tasks, "operator:bench")
        .wait_blocking()?;
    store
        .advance_incident(id, Phase::Notifying, None, "operator:bench")
        .wait_blocking()?;
    eprintln!(
        "  obligations: {}, {n_tasks} deadline tasks; nothing owed in: {}",
        evaluation.obligations.len(),
        evaluation
            .not_triggered
            .iter()
            .map(|n| format!("{} ({})", n.jurisdiction, n.count))
            .collect::<Vec<_>>()
            .join("; ")
    );
    lap("obligations evaluated, tasks added", &mut t);

    let report = store.render_notices(&RenderNotices {
        incident: id,
        facts: NoticeFacts::from_toml(FACTS)?,
        templates: store.dir().templates()?,
        evaluation,
        notice_date: now.date().to_string(),
        channels: Channels::Email,
        // As `bulwark notices render` does: the machine owner, who may reveal.
        actor: Principal::machine_owner("bench"),
        reissue: false,
    })?;
    eprintln!(
        "  notices: version {}, {} e-mail queued, {} refused, {} without contact, {} letter shapes",
        report.version,
        report.queued_email,
        report.refused_total,
        report.no_contact,
        report.stencils
    );
    lap("notice version rendered to the outbox", &mut t);
    Ok(Big {
        id,
        outbox: report.queued_email + report.queued_print,
        timings,
    })
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn seed(a: &Args, marker: &Path) -> anyhow::Result<Value> {
    let total = Instant::now();
    let mut timings: Vec<(String, f64)> = Vec::new();
    let secret = secret()?;
    let t = Instant::now();
    // The cheapest KDF the vault accepts, as the test kit's data directories.
    let params = KdfParams {
        memory_kib: KdfParams::MIN_MEMORY_KIB,
        iterations: 1,
        lanes: 1,
    };
    init(&a.data_dir, &secret, params, "operator:seed")?;
    let store = Store::open(&a.data_dir, Some(&secret))?;
    timings.push(("init".into(), t.elapsed().as_secs_f64()));

    eprintln!(
        "seeding {} customers on {} thread(s)…",
        a.customers, a.threads
    );
    let t = Instant::now();
    let scope_ids = seed_customers(&store, a)?;
    let took = t.elapsed().as_secs_f64();
    eprintln!(
        "  customers: {:.1} s ({:.0}/s)",
        took,
        a.customers as f64 / took
    );
    timings.push(("customers".into(), took));

    let t = Instant::now();
    let totp = enrol_operator(&store)?;
    let (admin, admin_token) = store
        .create_key(
            NewApiKey {
                name: "console benchmark".into(),
                scopes: Scopes::new([Scope::Admin, Scope::IncidentsAll]),
                expires_at_ms: None,
            },
            "operator:seed",
        )
        .wait_blocking()?;
    timings.push(("operator and API key".into(), t.elapsed().as_secs_f64()));

    eprintln!("seeding {} incidents…", a.incidents);
    let t = Instant::now();
    let (opens, changes) = seed_incidents(&store, a.incidents)?;
    let took = t.elapsed().as_secs_f64();
    eprintln!(
        "  incidents: {} opened, {} changes applied ({} refused: {:?}) in {took:.1} s",
        opens.ok,
        changes.ok,
        changes.failed.values().sum::<usize>(),
        changes.failed
    );
    timings.push(("incidents".into(), took));

    eprintln!("seeding the big incident ({} customers)…", scope_ids.len());
    let t = Instant::now();
    let big = seed_big(&store, &scope_ids)?;
    timings.push(("big incident".into(), t.elapsed().as_secs_f64()));
    timings.extend(big.timings.iter().map(|(w, s)| (format!("  {w}"), *s)));
    drop(store);
    timings.push(("total".into(), total.elapsed().as_secs_f64()));

    let info = json!({
        "customers": a.customers,
        "incidents": a.incidents + 1,
        "incident_changes": changes.ok,
        "incident_changes_refused": changes.failed,
        "big": big.id,
        "outbox": big.outbox,
        "operator": OPERATOR,
        "totp": totp,
        "api_key_id": admin.id,
        "api_key": admin_token.as_str(),
        "timings_s": timings.iter().map(|(w, s)| json!([w, (s * 10.0).round() / 10.0])).collect::<Vec<_>>(),
        "size_bytes": dir_size(&a.data_dir),
    });
    std::fs::write(marker, serde_json::to_string_pretty(&info)?)
        .with_context(|| format!("writing {}", marker.display()))?;
    eprintln!("seeding times:");
    for (w, s) in &timings {
        eprintln!("  {w:<45} {s:>8.1} s");
    }
    Ok(info)
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<()> {
    let a = parse_args()?;
    let marker = a.data_dir.join(MARKER);
    let info: Value = if marker.exists() {
        let text = std::fs::read_to_string(&marker)?;
        eprintln!(
            "{} is seeded already ({}); reusing it",
            a.data_dir.display(),
            MARKER
        );
        serde_json::from_str(&text)?
    } else if a.data_dir.exists()
        && std::fs::read_dir(&a.data_dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        bail!(
            "{} exists but holds no {MARKER}: a seeding that did not finish? Seeding is not \
             resumable; remove the directory and run again",
            a.data_dir.display()
        );
    } else {
        seed(&a, &marker)?
    };
    let field = |k: &str| -> anyhow::Result<&Value> {
        info.get(k).ok_or_else(|| anyhow!("{MARKER} has no `{k}`"))
    };
    let totp = field("totp")?
        .as_str()
        .ok_or_else(|| anyhow!("totp"))?
        .to_owned();
    let store = Store::open(&a.data_dir, Some(&secret()?))?;
    // The last run's session ends, so sessions do not pile up run after run
    // (the /sessions page lists them all).
    let last = a.data_dir.join(SESSION_FILE);
    if let Ok(old) = std::fs::read_to_string(&last) {
        store.logout(old.trim())?;
    }
    let session = sign_in(&store, &totp)?;
    std::fs::write(&last, &session).with_context(|| format!("writing {}", last.display()))?;
    drop(store);
    println!("SESSION={session}");
    println!("BIG={}", field("big")?);
    println!("API_KEY={}", field("api_key")?.as_str().unwrap_or_default());
    println!("CUSTOMERS={}", field("customers")?);
    println!("INCIDENTS={}", field("incidents")?);
    println!("OUTBOX={}", field("outbox")?);
    println!("SIZE_BYTES={}", dir_size(&a.data_dir));
    Ok(())
}
