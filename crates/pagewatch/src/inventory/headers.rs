//! Which security-header changes weaken the page (11.6.1 watches the headers
//! "as received by the consumer browser"). Only weakening is reported: a
//! stricter policy is no alert. Header values are cut before they are read.

use serde::{Deserialize, Serialize};

use super::SecurityHeaders;
use crate::text::{clean, head};

/// Longest header value looked at or kept, in characters.
pub const MAX_HEADER_CHARS: usize = 8192;
/// Longest header value carried in an event.
const SHOWN_CHARS: usize = 512;

/// One way the new headers are weaker than the previous ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weakness {
    /// The header, lower case (`content-security-policy`).
    pub header: String,
    /// A stable code (`removed`, `unsafe-inline-added`, `max-age-lowered`…).
    pub code: String,
    pub previous: Option<String>,
    pub current: Option<String>,
}

/// Every weakening from `before` to `after`.
pub fn weaknesses(before: &SecurityHeaders, after: &SecurityHeaders) -> Vec<Weakness> {
    let mut out = Vec::new();
    let mut push = |header: &str, code: &str, prev: &Option<String>, cur: &Option<String>| {
        out.push(Weakness {
            header: header.to_owned(),
            code: code.to_owned(),
            previous: prev.as_deref().map(|s| clean(s, SHOWN_CHARS)),
            current: cur.as_deref().map(|s| clean(s, SHOWN_CHARS)),
        });
    };
    let csp = "content-security-policy";
    match (&before.csp, &after.csp) {
        (Some(_), None) => push(csp, "removed", &before.csp, &after.csp),
        (Some(b), Some(a)) => {
            let (b, a) = (script_sources(b), script_sources(a));
            for (token, code) in [
                ("'unsafe-inline'", "unsafe-inline-added"),
                ("'unsafe-eval'", "unsafe-eval-added"),
            ] {
                if !has(&b, token) && has(&a, token) {
                    push(csp, code, &before.csp, &after.csp);
                }
            }
            if !wildcard(&b) && wildcard(&a) {
                push(csp, "wildcard-added", &before.csp, &after.csp);
            }
            if b.is_some() && a.is_none() {
                push(csp, "script-src-removed", &before.csp, &after.csp);
            }
        }
        _ => {}
    }
    let removed_only = [
        (
            "content-security-policy-report-only",
            &before.csp_report_only,
            &after.csp_report_only,
        ),
        (
            "x-frame-options",
            &before.x_frame_options,
            &after.x_frame_options,
        ),
        (
            "referrer-policy",
            &before.referrer_policy,
            &after.referrer_policy,
        ),
        (
            "permissions-policy",
            &before.permissions_policy,
            &after.permissions_policy,
        ),
    ];
    for (name, b, a) in removed_only {
        if b.is_some() && a.is_none() {
            push(name, "removed", b, a);
        }
    }
    let hsts = "strict-transport-security";
    match (&before.hsts, &after.hsts) {
        (Some(_), None) => push(hsts, "removed", &before.hsts, &after.hsts),
        (Some(b), Some(a)) if max_age(a).unwrap_or(0) < max_age(b).unwrap_or(0) => {
            push(hsts, "max-age-lowered", &before.hsts, &after.hsts);
        }
        _ => {}
    }
    out
}

/// The source list governing scripts: `script-src`, else `default-src`
/// (lower-cased tokens); `None` when neither is present.
fn script_sources(policy: &str) -> Option<Vec<String>> {
    let policy = head(policy, MAX_HEADER_CHARS);
    let mut default = None;
    // Several policies may be joined with commas; the first one is read.
    for directive in policy.split([';', ',']) {
        let mut words = directive.split_whitespace();
        let Some(name) = words.next() else { continue };
        let values = || words.clone().map(|w| w.to_ascii_lowercase()).collect();
        match name.to_ascii_lowercase().as_str() {
            "script-src" => return Some(values()),
            "default-src" if default.is_none() => default = Some(values()),
            _ => {}
        }
    }
    default
}

fn has(list: &Option<Vec<String>>, token: &str) -> bool {
    list.as_ref().is_some_and(|l| l.iter().any(|t| t == token))
}

/// `*`, or a whole scheme (`https:`, `http:`, `data:`): any host may serve script.
fn wildcard(list: &Option<Vec<String>>) -> bool {
    list.as_ref().is_some_and(|l| {
        l.iter()
            .any(|t| matches!(t.as_str(), "*" | "https:" | "http:" | "data:" | "blob:"))
    })
}

fn max_age(hsts: &str) -> Option<u64> {
    let hsts = head(hsts, MAX_HEADER_CHARS);
    hsts.split(';').find_map(|part| {
        let (k, v) = part.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("max-age")
            .then(|| v.trim().trim_matches('"').parse().ok())?
    })
}
