//! Reducing the URLs a report carries to what an investigator needs: the
//! blocked resource's origin and host (or the CSP keyword it stands for), and
//! the document's origin and path. Queries, fragments and credentials are
//! dropped: they may hold tokens or personal data, and attackers fill them.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::text::clean;

/// Longest path kept of a document or source-file URL, in characters.
pub const MAX_PATH_CHARS: usize = 512;

/// What a violation blocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Blocked {
    /// A resource from a host: `origin` is `scheme://host[:port]` (ASCII, punycode).
    Host { origin: String, host: String },
    /// A CSP keyword the browser reports instead of a URL.
    Keyword { keyword: Keyword },
    /// A URL without a host (`about:`, `chrome-extension:`…): its scheme only.
    Scheme { scheme: String },
    /// The report named nothing.
    Nothing,
    /// The report named something that is neither a URL nor a keyword (not kept).
    Unreadable,
}

/// The keywords browsers put in `blocked-uri` / `blockedURL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Keyword {
    Inline,
    Eval,
    WasmEval,
    Data,
    Blob,
    SelfOrigin,
    TrustedTypesPolicy,
    TrustedTypesSink,
}

impl Keyword {
    pub fn as_str(self) -> &'static str {
        match self {
            Keyword::Inline => "inline",
            Keyword::Eval => "eval",
            Keyword::WasmEval => "wasm-eval",
            Keyword::Data => "data",
            Keyword::Blob => "blob",
            Keyword::SelfOrigin => "self",
            Keyword::TrustedTypesPolicy => "trusted-types-policy",
            Keyword::TrustedTypesSink => "trusted-types-sink",
        }
    }
}

impl Blocked {
    /// The value of `bulwark.csp.blocked.kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Blocked::Host { .. } => "host",
            Blocked::Keyword { keyword } => keyword.as_str(),
            Blocked::Scheme { .. } => "scheme",
            Blocked::Nothing => "none",
            Blocked::Unreadable => "unreadable",
        }
    }

    /// Reads a `blocked-uri` / `blockedURL` value (already length-bounded).
    pub fn read(raw: &str) -> Blocked {
        let t = raw.trim();
        if t.is_empty() {
            return Blocked::Nothing;
        }
        let lower = t.to_ascii_lowercase();
        let keyword = match lower.as_str() {
            "inline" => Some(Keyword::Inline),
            "eval" => Some(Keyword::Eval),
            "wasm-eval" => Some(Keyword::WasmEval),
            "data" => Some(Keyword::Data),
            "blob" => Some(Keyword::Blob),
            "self" => Some(Keyword::SelfOrigin),
            "trusted-types-policy" => Some(Keyword::TrustedTypesPolicy),
            "trusted-types-sink" => Some(Keyword::TrustedTypesSink),
            _ if lower.starts_with("data:") => Some(Keyword::Data),
            _ if lower.starts_with("blob:") => Some(Keyword::Blob),
            _ => None,
        };
        if let Some(keyword) = keyword {
            return Blocked::Keyword { keyword };
        }
        match Url::parse(t) {
            Ok(u) => match u.host_str() {
                Some(host) if !host.is_empty() => Blocked::Host {
                    origin: u.origin().ascii_serialization(),
                    host: host.to_owned(),
                },
                _ => Blocked::Scheme {
                    scheme: clean(u.scheme(), 32),
                },
            },
            Err(_) => Blocked::Unreadable,
        }
    }
}

/// `scheme://host[:port]/path` of a URL, or `None` when it is not one with a host.
pub fn origin_and_path(raw: &str) -> Option<String> {
    let u = Url::parse(raw.trim()).ok()?;
    u.host_str()?;
    let origin = u.origin().ascii_serialization();
    let path = clean(u.path(), MAX_PATH_CHARS);
    Some(format!("{origin}{path}"))
}

/// `scheme://host[:port]` of a URL, or `None`.
pub fn origin(raw: &str) -> Option<String> {
    let u = Url::parse(raw.trim()).ok()?;
    u.host_str()?;
    Some(u.origin().ascii_serialization())
}

/// The host of a URL, lower case, or `None`.
pub fn host(raw: &str) -> Option<String> {
    let u = Url::parse(raw.trim()).ok()?;
    u.host_str().map(str::to_ascii_lowercase)
}
