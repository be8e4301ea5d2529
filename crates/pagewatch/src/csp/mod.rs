//! CSP violation reports, as browsers send them to a report endpoint: the
//! legacy `application/csp-report` body (`{"csp-report": {…}}`, `report-uri`)
//! and the Reporting API's `application/reports+json` array (`report-to`),
//! where only `csp-violation` reports are read and the others counted.
//!
//! The body is attacker-controlled (anyone can post to the endpoint): its
//! size and nesting are checked before it is parsed, the number of reports is
//! capped, and only bounded, cleaned values survive into a [`CspViolation`].
//! Errors name the problem and a position, never a value from the body.

mod event;
mod urls;

pub use event::ACTION as EVENT_ACTION;
pub use urls::{host as host_of, origin as origin_of};
pub use urls::{Blocked, Keyword, MAX_PATH_CHARS};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::text::clean;

/// Largest body accepted, checked before parsing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Most reports in one Reporting API body (browsers batch a few).
pub const MAX_REPORTS: usize = 100;
/// Deepest nesting of arrays and objects accepted (the formats need 3).
pub const MAX_DEPTH: usize = 8;
/// Longest script sample kept, in characters (browsers send 40).
pub const MAX_SAMPLE_CHARS: usize = 256;
/// Longest original policy kept, in characters.
pub const MAX_POLICY_CHARS: usize = 4096;
/// Longest user agent kept, in characters.
pub const MAX_USER_AGENT_CHARS: usize = 512;
/// Longest directive name kept (`script-src-elem` is 15).
const MAX_DIRECTIVE_CHARS: usize = 40;
/// Longest raw URL looked at; a longer one is cut before it is parsed.
const MAX_URL_CHARS: usize = 2048;

/// Why a report body was refused. Nothing from the body is quoted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CspError {
    #[error("the report body is {size} bytes; at most {limit} are accepted")]
    TooLarge { size: usize, limit: usize },
    #[error("the report body is empty")]
    Empty,
    #[error("the media type is neither application/csp-report nor application/reports+json")]
    UnsupportedMediaType,
    #[error("the report body nests deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("the report body is not JSON ({kind} at line {line}, column {column})")]
    NotJson {
        kind: &'static str,
        line: usize,
        column: usize,
    },
    #[error("the body is not a CSP report: {reason}")]
    NotACspReport { reason: &'static str },
    #[error("report {index} of the body is not a CSP violation: {reason}")]
    BadReport { index: usize, reason: &'static str },
    #[error("the body holds {count} reports; at most {limit} are accepted")]
    TooManyReports { count: usize, limit: usize },
}

/// Which wire format a body is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReportFormat {
    /// `application/csp-report`: one `{"csp-report": {…}}` object.
    Legacy,
    /// `application/reports+json`: an array of typed reports.
    ReportingApi,
}

impl ReportFormat {
    /// The format a `Content-Type` header announces (parameters ignored);
    /// `application/json` (some browsers, some proxies) means "look at the shape".
    pub fn from_content_type(ct: &str) -> Result<Option<ReportFormat>, CspError> {
        let essence = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/csp-report" => Ok(Some(ReportFormat::Legacy)),
            "application/reports+json" => Ok(Some(ReportFormat::ReportingApi)),
            "application/json" => Ok(None),
            _ => Err(CspError::UnsupportedMediaType),
        }
    }
}

/// Whether the policy violated was enforced or only reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Disposition {
    Enforce,
    Report,
    /// Missing or not one of the two.
    Unknown,
}

impl Disposition {
    fn read(v: Option<&str>) -> Disposition {
        match v.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            Some("enforce") => Disposition::Enforce,
            Some("report") => Disposition::Report,
            _ => Disposition::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Enforce => "enforce",
            Disposition::Report => "report",
            Disposition::Unknown => "unknown",
        }
    }
}

/// One violation, normalised and bounded, whichever format it came in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CspViolation {
    /// The document's origin and path (no query, no fragment).
    pub document_url: Option<String>,
    /// The referrer's origin only.
    pub referrer_origin: Option<String>,
    /// The directive that blocked, lower case (`script-src-elem`, `connect-src`…).
    pub effective_directive: String,
    pub blocked: Blocked,
    pub disposition: Disposition,
    /// The script's origin and path where the violation happened.
    pub source_file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// The first characters of the blocked script, as plain text: never render it as markup.
    pub sample: Option<String>,
    /// The policy, cut to [`MAX_POLICY_CHARS`].
    pub original_policy: Option<String>,
    /// The document's HTTP status.
    pub status_code: Option<u16>,
    /// Reporting API only: milliseconds between the violation and the send.
    pub age_ms: Option<u64>,
    /// Reporting API only (legacy: the shell may fill it from the request header).
    pub user_agent: Option<String>,
}

/// What one body held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CspReports {
    pub format: ReportFormat,
    pub violations: Vec<CspViolation>,
    /// Reports of other types in a Reporting API body (deprecation, NEL…), not read.
    pub ignored: usize,
}

/// Parses a report body. `format` is what the media type said (see
/// [`ReportFormat::from_content_type`]); `None` decides by the body's shape.
pub fn parse(body: &[u8], format: Option<ReportFormat>) -> Result<CspReports, CspError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(CspError::TooLarge {
            size: body.len(),
            limit: MAX_BODY_BYTES,
        });
    }
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(CspError::Empty);
    }
    check_depth(body)?;
    let value: Value = serde_json::from_slice(body).map_err(|e| CspError::NotJson {
        kind: match e.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "unexpected data",
            serde_json::error::Category::Eof => "unexpected end",
        },
        line: e.line(),
        column: e.column(),
    })?;
    let format = match (format, &value) {
        (Some(f), _) => f,
        (None, Value::Array(_)) => ReportFormat::ReportingApi,
        (None, _) => ReportFormat::Legacy,
    };
    match format {
        ReportFormat::Legacy => parse_legacy(&value),
        ReportFormat::ReportingApi => parse_reporting(&value),
    }
}

/// Refuses nesting beyond [`MAX_DEPTH`] in one pass over the bytes, before
/// the parser builds anything (strings are skipped, escapes honoured).
fn check_depth(body: &[u8]) -> Result<(), CspError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in body {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(CspError::TooDeep { limit: MAX_DEPTH });
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn parse_legacy(value: &Value) -> Result<CspReports, CspError> {
    let report = value
        .as_object()
        .and_then(|o| o.get("csp-report"))
        .and_then(Value::as_object)
        .ok_or(CspError::NotACspReport {
            reason: "expected an object with a \"csp-report\" object",
        })?;
    let v = Fields {
        obj: report,
        names: &LEGACY,
    }
    .violation()
    .map_err(|reason| CspError::NotACspReport { reason })?;
    Ok(CspReports {
        format: ReportFormat::Legacy,
        violations: vec![v],
        ignored: 0,
    })
}

fn parse_reporting(value: &Value) -> Result<CspReports, CspError> {
    let items = value.as_array().ok_or(CspError::NotACspReport {
        reason: "expected an array of reports",
    })?;
    if items.len() > MAX_REPORTS {
        return Err(CspError::TooManyReports {
            count: items.len(),
            limit: MAX_REPORTS,
        });
    }
    let mut out = CspReports {
        format: ReportFormat::ReportingApi,
        violations: Vec::new(),
        ignored: 0,
    };
    for (index, item) in items.iter().enumerate() {
        let bad = |reason| CspError::BadReport { index, reason };
        let report = item.as_object().ok_or(bad("a report is not an object"))?;
        match report.get("type").and_then(Value::as_str) {
            Some("csp-violation") => {}
            Some(_) => {
                out.ignored += 1;
                continue;
            }
            None => return Err(bad("a report has no type")),
        }
        let body = report
            .get("body")
            .and_then(Value::as_object)
            .ok_or(bad("a csp-violation report has no body object"))?;
        let mut v = Fields {
            obj: body,
            names: &REPORTING,
        }
        .violation()
        .map_err(bad)?;
        if v.document_url.is_none() {
            v.document_url = report
                .get("url")
                .and_then(Value::as_str)
                .and_then(|u| urls::origin_and_path(bounded(u, MAX_URL_CHARS)));
        }
        v.age_ms = report.get("age").and_then(Value::as_u64);
        v.user_agent = report
            .get("user_agent")
            .and_then(Value::as_str)
            .map(|s| clean(s, MAX_USER_AGENT_CHARS));
        out.violations.push(v);
    }
    Ok(out)
}

/// The member names of one format.
struct Names {
    document: &'static str,
    referrer: &'static str,
    effective: &'static str,
    violated: Option<&'static str>,
    blocked: &'static str,
    policy: &'static str,
    source_file: &'static str,
    line: &'static str,
    column: &'static str,
    sample: &'static str,
    disposition: &'static str,
    status: &'static str,
}

const LEGACY: Names = Names {
    document: "document-uri",
    referrer: "referrer",
    effective: "effective-directive",
    violated: Some("violated-directive"),
    blocked: "blocked-uri",
    policy: "original-policy",
    source_file: "source-file",
    line: "line-number",
    column: "column-number",
    sample: "script-sample",
    disposition: "disposition",
    status: "status-code",
};

const REPORTING: Names = Names {
    document: "documentURL",
    referrer: "referrer",
    effective: "effectiveDirective",
    violated: None,
    blocked: "blockedURL",
    policy: "originalPolicy",
    source_file: "sourceFile",
    line: "lineNumber",
    column: "columnNumber",
    sample: "sample",
    disposition: "disposition",
    status: "statusCode",
};

struct Fields<'a> {
    obj: &'a Map<String, Value>,
    names: &'a Names,
}

impl Fields<'_> {
    fn str(&self, name: &str) -> Option<&str> {
        self.obj.get(name).and_then(Value::as_str)
    }

    fn url(&self, name: &str) -> Option<&str> {
        self.str(name).map(|s| bounded(s, MAX_URL_CHARS))
    }

    /// A number, or a number written as a string (older browsers do both).
    fn number(&self, name: &str) -> Option<u64> {
        match self.obj.get(name)? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) if s.len() <= 20 => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn violation(&self) -> Result<CspViolation, &'static str> {
        let n = self.names;
        let directive = self
            .str(n.effective)
            .or_else(|| n.violated.and_then(|v| self.str(v)))
            .and_then(directive_name)
            .ok_or("no effective or violated directive")?;
        Ok(CspViolation {
            document_url: self.url(n.document).and_then(urls::origin_and_path),
            referrer_origin: self.url(n.referrer).and_then(urls::origin),
            effective_directive: directive,
            blocked: self
                .str(n.blocked)
                .map(|b| Blocked::read(bounded(b, MAX_URL_CHARS)))
                .unwrap_or(Blocked::Nothing),
            disposition: Disposition::read(self.str(n.disposition)),
            source_file: self.url(n.source_file).and_then(urls::origin_and_path),
            line: self.number(n.line).and_then(|x| u32::try_from(x).ok()),
            column: self.number(n.column).and_then(|x| u32::try_from(x).ok()),
            sample: self
                .str(n.sample)
                .map(|s| clean(s, MAX_SAMPLE_CHARS))
                .filter(|s| !s.is_empty()),
            original_policy: self.str(n.policy).map(|s| clean(s, MAX_POLICY_CHARS)),
            status_code: self.number(n.status).and_then(|x| u16::try_from(x).ok()),
            age_ms: None,
            user_agent: None,
        })
    }
}

/// The directive's name: the first word (old browsers send the whole
/// directive, `script-src 'self'`), lower case, only if it looks like one.
fn directive_name(raw: &str) -> Option<String> {
    let word = bounded(raw, 256).split_whitespace().next()?;
    let word = word.to_ascii_lowercase();
    let ok = !word.is_empty()
        && word.len() <= MAX_DIRECTIVE_CHARS
        && word.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
    ok.then_some(word)
}

/// The first `max` characters of `s`, borrowed.
fn bounded(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
