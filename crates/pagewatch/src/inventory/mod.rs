//! The script inventory of a watched page (PCI DSS 6.4.3) and the changes a
//! new crawl shows against it (11.6.1). An [`Observation`] is what the
//! browser saw; [`Inventory`] is what the previous runs saw, per script, with
//! its state; [`Approvals`] are the authorisations people gave. [`diff`] is
//! pure: the shell stores the returned inventory and sends each change's
//! event through `detect`.

mod diff;
mod event;
mod headers;

pub use diff::{diff, update, Update};
pub use headers::{weaknesses, Weakness};

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha384};
use time::OffsetDateTime;

use crate::event::Page;

/// Where a script's body came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "url", rename_all = "kebab-case")]
pub enum ScriptSource {
    /// An external script, by its URL.
    Url(String),
    /// A `<script>` element's text, or an event-handler attribute.
    Inline,
    /// A `data:` URL.
    Data,
    /// A `blob:` URL (built at run time by another script).
    Blob,
    /// Code compiled from a string at run time: `eval`, `new Function`, a
    /// string given to a timer (how obfuscated skimmers unpack themselves).
    Eval,
}

impl ScriptSource {
    pub fn kind(&self) -> &'static str {
        match self {
            ScriptSource::Url(_) => "url",
            ScriptSource::Inline => "inline",
            ScriptSource::Data => "data",
            ScriptSource::Blob => "blob",
            ScriptSource::Eval => "eval",
        }
    }
}

/// SHA-256 and SHA-384 of a body, lower-case hex (SRI uses SHA-384).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digests {
    pub sha256: String,
    pub sha384: String,
}

impl Digests {
    pub fn of(body: &[u8]) -> Digests {
        Digests {
            sha256: hex::encode(Sha256::digest(body)),
            sha384: hex::encode(Sha384::digest(body)),
        }
    }
}

/// One script the page executed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedScript {
    pub source: ScriptSource,
    pub digests: Digests,
    pub size: u64,
    /// What loaded it: the parser, or the URL of the script that inserted it.
    pub initiator: Option<String>,
    /// Whether the element carried an `integrity` attribute.
    pub has_sri: bool,
}

impl ObservedScript {
    /// The script's identity in the inventory. External scripts are known by
    /// URL, so a new body under the same URL is a change; inline, `data:` and
    /// `blob:` scripts have no name but their content, so a new body is a new
    /// script (and an unapproved one).
    pub fn key(&self) -> ScriptKey {
        ScriptKey(match &self.source {
            ScriptSource::Url(u) => u.clone(),
            other => format!("{}:sha256-{}", other.kind(), self.digests.sha256),
        })
    }
}

/// A script's identity: its URL, or `inline:sha256-…` (likewise `data:`, `blob:`, `eval:`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ScriptKey(pub String);

/// The security headers of the page's response, as received.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityHeaders {
    pub csp: Option<String>,
    pub csp_report_only: Option<String>,
    pub hsts: Option<String>,
    pub x_frame_options: Option<String>,
    pub referrer_policy: Option<String>,
    pub permissions_policy: Option<String>,
}

/// How the page reached another host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionKind {
    Fetch,
    Xhr,
    Websocket,
    Beacon,
    Image,
    Script,
    /// A frame's document.
    Frame,
    /// Anything else the page loaded (styles, fonts, media).
    Other,
}

impl ConnectionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionKind::Fetch => "fetch",
            ConnectionKind::Xhr => "xhr",
            ConnectionKind::Websocket => "websocket",
            ConnectionKind::Beacon => "beacon",
            ConnectionKind::Image => "image",
            ConnectionKind::Script => "script",
            ConnectionKind::Frame => "frame",
            ConnectionKind::Other => "other",
        }
    }
}

/// One outbound connection host (not every request: hosts are what change).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub host: String,
    pub kind: ConnectionKind,
    /// The script that made it, when the browser said.
    pub initiator: Option<String>,
}

/// What one crawl of a watched page saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    pub page: Page,
    /// When the crawl ran (the caller's clock).
    pub at: OffsetDateTime,
    pub scripts: Vec<ObservedScript>,
    pub headers: SecurityHeaders,
    pub iframes: Vec<String>,
    pub connections: Vec<Connection>,
}

/// A script's state in the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Seen, never authorised.
    New,
    /// Its body is covered by an approval.
    Authorised,
    /// Authorised once, but its body changed since: authorisation reset.
    Changed,
    /// No longer on the page.
    Removed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::New => "new",
            State::Authorised => "authorised",
            State::Changed => "changed",
            State::Removed => "removed",
        }
    }
}

/// One script of the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub source: ScriptSource,
    pub state: State,
    /// The body last seen.
    pub digests: Digests,
    pub size: u64,
    pub has_sri: bool,
    pub initiator: Option<String>,
    pub first_seen: OffsetDateTime,
    pub last_seen: OffsetDateTime,
    /// The skimmer-indicator scan of this body, once scanned (kept while the
    /// body stays the same).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan: Option<ScanSummary>,
}

/// A body's skimmer score and the indicators that matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanSummary {
    pub score: u32,
    pub indicators: Vec<String>,
}

impl Entry {
    /// The script as last seen, in the form approvals are checked against.
    pub fn observed(&self) -> ObservedScript {
        ObservedScript {
            source: self.source.clone(),
            digests: self.digests.clone(),
            size: self.size,
            initiator: self.initiator.clone(),
            has_sri: self.has_sri,
        }
    }
}

/// What previous runs saw on one page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub scripts: BTreeMap<ScriptKey, Entry>,
    /// Every outbound host seen before.
    pub hosts: BTreeSet<String>,
    /// The headers of the last run (`None` before the first).
    pub headers: Option<SecurityHeaders>,
    /// The iframe sources of the last run.
    pub iframes: BTreeSet<String>,
}

/// Who authorised what, and why (6.4.3: a justification for every script).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub owner: String,
    pub justification: String,
    pub approver: String,
    pub at: OffsetDateTime,
    pub scope: ApprovalScope,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ApprovalScope {
    /// One script, with the SHA-256 hex of each body approved.
    Script { key: ScriptKey, sha256: Vec<String> },
    /// The documented `dynamic` policy: any body of a script served from
    /// `origin` (`https://js.vendor.example`), whose outbound hosts are
    /// `allowed_hosts`. For vendor scripts that change without notice.
    Dynamic {
        origin: String,
        allowed_hosts: Vec<String>,
    },
    /// An outbound host the page may reach (a payment API, analytics).
    Host { host: String },
}

/// Every authorisation of a page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approvals(pub Vec<Approval>);

impl Approvals {
    /// The approval covering this body, if any.
    pub fn covering(&self, key: &ScriptKey, script: &ObservedScript) -> Option<&Approval> {
        let origin = match &script.source {
            ScriptSource::Url(u) => crate::csp::origin_of(u),
            _ => None,
        };
        self.0.iter().find(|a| match &a.scope {
            ApprovalScope::Script { key: k, sha256 } => {
                k == key
                    && sha256
                        .iter()
                        .any(|h| h.eq_ignore_ascii_case(&script.digests.sha256))
            }
            // The approved origin may be written as a URL (`https://js.vendor.example/`).
            ApprovalScope::Dynamic { origin: o, .. } => {
                origin.is_some() && origin == crate::csp::origin_of(o)
            }
            ApprovalScope::Host { .. } => false,
        })
    }

    /// Whether any approval (host or dynamic policy) allows this outbound host.
    pub fn allows_host(&self, host: &str) -> bool {
        self.0.iter().any(|a| match &a.scope {
            ApprovalScope::Host { host: h } => h.eq_ignore_ascii_case(host),
            ApprovalScope::Dynamic { allowed_hosts, .. } => {
                allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
            }
            ApprovalScope::Script { .. } => false,
        })
    }

    /// Whether a script was ever approved under `key` (any body).
    pub fn ever_approved(&self, key: &ScriptKey) -> bool {
        self.0
            .iter()
            .any(|a| matches!(&a.scope, ApprovalScope::Script { key: k, .. } if k == key))
    }
}

/// One thing that changed on the page since the previous run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum Change {
    /// A script not in the inventory and not covered by an approval.
    NewScript {
        key: ScriptKey,
        script: ObservedScript,
    },
    /// A known script's body changed and no approval covers the new body;
    /// its authorisation is reset (state `changed`).
    ScriptChanged {
        key: ScriptKey,
        script: ObservedScript,
        previous: Digests,
        was_authorised: bool,
    },
    /// A script of the inventory is no longer on the page.
    ScriptRemoved { key: ScriptKey, previous: Digests },
    /// The page reached a host never seen and not approved.
    NewOutboundHost(Connection),
    /// A security header was removed or weakened.
    HeaderWeakened(Weakness),
    /// The page's iframe sources changed (a payment iframe swapped or added).
    IframeChanged {
        added: Vec<String>,
        removed: Vec<String>,
    },
}
