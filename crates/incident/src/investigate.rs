//! Investigation helpers: for a principal, API key or source address and a
//! time window, the first and last activity seen and how long the attacker
//! was in (the seeds' "entry point" and "duration of unauthorised access").
//! The shell gathers records from alerts and the access log; this is pure.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// One thing someone did, from an alert or the vault access log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Operator name or API key id (`key:…`), when known.
    #[serde(default)]
    pub principal: Option<String>,
    /// Source address as logged.
    #[serde(default)]
    pub source: Option<String>,
    /// What happened: `vault.reveal`, `auth.login_failed`, an alert's rule id…
    pub kind: String,
    /// Where the record came from (`access_log`, `alert:<id>`), for the report.
    #[serde(default)]
    pub origin: String,
}

/// Whose activity to trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
pub enum Subject {
    /// A principal id as the access log writes it (`key:<id>`, `operator:<user>`),
    /// matched exactly.
    Principal(String),
    /// An API key id; matches the principal `key:<id>`.
    ApiKey(String),
    /// A source address; IP addresses compare by value (`::ffff:1.2.3.4` = `1.2.3.4`).
    Source(String),
}

impl Subject {
    fn matches(&self, a: &Activity) -> bool {
        match self {
            Subject::Principal(p) => a.principal.as_deref() == Some(p.as_str()),
            Subject::ApiKey(k) => {
                let id = k.strip_prefix("key:").unwrap_or(k);
                a.principal.as_deref().and_then(|p| p.strip_prefix("key:")) == Some(id)
            }
            Subject::Source(s) => a.source.as_deref().is_some_and(|src| same_address(s, src)),
        }
    }
}

fn canonical_ip(s: &str) -> Option<IpAddr> {
    let ip: IpAddr = s.trim().parse().ok()?;
    Some(match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    })
}

fn same_address(a: &str, b: &str) -> bool {
    match (canonical_ip(a), canonical_ip(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a.trim().eq_ignore_ascii_case(b.trim()),
    }
}

/// The inclusive time window to search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    #[serde(with = "time::serde::rfc3339")]
    pub from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub to: OffsetDateTime,
}

impl Window {
    fn contains(&self, t: OffsetDateTime) -> bool {
        self.from <= t && t <= self.to
    }
}

/// What the records say about the subject's access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dwell {
    /// The first matching record: the entry point.
    pub first: Activity,
    /// The last matching record.
    pub last: Activity,
    /// `last.at − first.at`: how long the unauthorised access lasted (seconds in JSON).
    #[serde(serialize_with = "ser_seconds")]
    pub duration: Duration,
    /// Matching records in the window.
    pub events: usize,
    /// Matching records per kind.
    pub by_kind: BTreeMap<String, usize>,
    /// Other principals (for a source) or sources (for a principal) seen.
    pub related: BTreeSet<String>,
}

fn ser_seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(d.whole_seconds())
}

/// Traces `subject` through `records` within `window`. `None` when nothing matches.
/// Records may come in any order (alerts and the access log interleave).
pub fn dwell(records: &[Activity], subject: &Subject, window: Window) -> Option<Dwell> {
    let mut hits: Vec<&Activity> = records
        .iter()
        .filter(|a| window.contains(a.at) && subject.matches(a))
        .collect();
    // Stable sort: records with the same time keep their given order.
    hits.sort_by_key(|a| a.at);
    let first = *hits.first()?;
    let last = *hits.last()?;
    let mut by_kind = BTreeMap::new();
    let mut related = BTreeSet::new();
    for a in &hits {
        *by_kind.entry(a.kind.clone()).or_insert(0) += 1;
        let other = match subject {
            Subject::Principal(_) | Subject::ApiKey(_) => a.source.as_ref(),
            Subject::Source(_) => a.principal.as_ref(),
        };
        if let Some(o) = other {
            related.insert(o.clone());
        }
    }
    Some(Dwell {
        first: first.clone(),
        last: last.clone(),
        duration: last.at - first.at,
        events: hits.len(),
        by_kind,
        related,
    })
}
