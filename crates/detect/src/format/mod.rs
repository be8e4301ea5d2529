//! Log formats: the presets Bulwark knows, formats compiled from a server's own
//! `log_format`/`LogFormat` line, JSON logs mapped onto ECS by mapping files,
//! and auto-detection per file.
//!
//! | name | what |
//! |---|---|
//! | `jsonl` (`ecs`, `json`) | one JSON object per line with ECS field names |
//! | `combined`, `common` | NCSA formats of nginx and Apache (extra trailing fields are ignored: Traefik CLF) |
//! | `vhost_combined`, `vhost_common` | Apache's with the virtual host first (`shop.example:443 1.2.3.4 - - […]`) |
//! | `bunkerweb` | BunkerWeb's access log (host, client, request id) |
//! | `npm-proxy`, `npm-standard`, `npmplus` | nginx-proxy-manager's formats |
//! | `haproxy` | HAProxy's HTTP log format (and its connection-error lines) |
//! | `alb` | AWS Application Load Balancer access logs |
//! | `cloudfront` | AWS CloudFront standard logs (W3C, tab-separated, `#Fields:` honoured) |
//! | `iis` | IIS W3C extended logs (`#Fields:` honoured; default IIS columns otherwise) |
//! | `iis-xml` | IIS logging to the Windows event log, one `<Event>` per line |
//! | `zoraxy` | Zoraxy reverse proxy access log |
//! | `nginx-error`, `apache-error`, `litespeed-error` | web server error logs |
//! | `syslog` / `syslog:<inner>` | any of the above behind a syslog prefix |
//! | `nginx:<log_format>` / `apache:<LogFormat>` | the store's own format line, compiled |
//! | mapping names (`caddy`, `traefik`, `nginx-json`, `cloudflare`, …) | JSON logs mapped by `formats/*.yml` |
//!
//! Parsing is per file and stateful ([`LineParser`]): W3C files change their
//! columns with `#Fields:`, and a file in one format may hold lines of another
//! (error lines in an access log): in auto mode such lines are read with the
//! first preset that fits and counted per format.

pub mod errorlog;
pub mod iis_xml;
pub mod json_map;
pub mod syslog;
pub mod template;
pub mod timestamps;
pub mod vars;
pub mod w3c;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::ast::Logsource;
use crate::event::{Event, FieldSink};
use crate::input::MalformedLine;
pub use errorlog::ErrorLogKind;
pub use json_map::{JsonMapping, MappingError};
pub use template::{Template, TemplateError};
use w3c::{W3cColumns, W3cFlavour};

/// Lines longer than this are malformed by default (1 MiB): bounded memory for
/// untrusted files.
pub const DEFAULT_MAX_LINE: usize = 1 << 20;

/// A format compiled from one or more templates (tried in order per line).
#[derive(Debug, Clone, PartialEq)]
pub struct TextFormat {
    pub name: String,
    pub templates: Vec<Template>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LogFormat {
    /// One JSON object per line, ECS field names (the fast path).
    JsonLines,
    Text(Arc<TextFormat>),
    W3c {
        name: &'static str,
        flavour: W3cFlavour,
        default_columns: &'static str,
    },
    IisXml,
    ErrorLog(ErrorLogKind),
    Json(Arc<JsonMapping>),
    /// Behind a syslog prefix; `None`: the inner format is found per line.
    Syslog(Option<Box<LogFormat>>),
}

/// Why a format name or format string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("unknown log format '{0}' (see `bulwark formats` for the list)")]
    Unknown(String),
    #[error("the nginx log_format cannot be compiled: {0}")]
    Nginx(TemplateError),
    #[error("the Apache LogFormat cannot be compiled: {0}")]
    Apache(TemplateError),
}

const PRESETS: &[(&str, &[&str])] = &[
    (
        "combined",
        &[
            r#"$remote_addr $_ident $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#,
            // Some configurations drop the ident column.
            r#"$remote_addr $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#,
        ],
    ),
    (
        "vhost_combined",
        &[
            r#"$host $remote_addr $_ident $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#,
        ],
    ),
    (
        "bunkerweb",
        &[
            r#"$host $remote_addr - $request_id - [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#,
        ],
    ),
    (
        "common",
        &[r#"$remote_addr $_ident $remote_user [$time_local] "$request" $status $body_bytes_sent"#],
    ),
    (
        "vhost_common",
        &[
            r#"$host $remote_addr $_ident $remote_user [$time_local] "$request" $status $body_bytes_sent"#,
        ],
    ),
    (
        "npm-proxy",
        &[
            r#"[$time_local] $_cache_status $_upstream_status $status - $request_method $scheme $host "$request_uri" [Client $remote_addr] [Length $body_bytes_sent] [Gzip $_gzip_ratio] [Sent-to $_server] "$http_user_agent" "$http_referer""#,
            r#"[$time_local] $_cache_status $_upstream_status $status - $request_method $scheme $host "$request_uri" [Client $remote_addr] [Length $body_bytes_sent] [Gzip $_gzip_ratio] "$http_user_agent" "$http_referer""#,
        ],
    ),
    (
        "npm-standard",
        &[
            r#"[$time_local] $status - $request_method $scheme $host "$request_uri" [Client $remote_addr] [Length $body_bytes_sent] [Gzip $_gzip_ratio] "$http_user_agent" "$http_referer""#,
            r#"[$time_local] $status - $request_method $scheme $host "$request_uri" [Client $remote_addr] [Length $body_bytes_sent] [Gzip $_gzip_ratio] [Sent-to $_server] "$http_user_agent" "$http_referer""#,
        ],
    ),
    (
        "npmplus",
        &[
            r#"[$time_local] $host $remote_addr $request_time "$request" $status $body_bytes_sent $request_length $http_referer $http_user_agent"#,
        ],
    ),
    (
        "haproxy",
        &[
            r#"$client_addr_port [$time_local] $_frontend $_backend_server $_timers $status $bytes_sent $_captured_request_cookie $_captured_response_cookie $_termination_state $_connections $_queues "$request""#,
            // With `capture request header` (and `capture response header`): the
            // values in `{…}`, `|`-separated in configuration order, which the log
            // does not name; kept whole for keyword rules.
            r#"$client_addr_port [$time_local] $_frontend $_backend_server $_timers $status $bytes_sent $_captured_request_cookie $_captured_response_cookie $_termination_state $_connections $_queues {$captured_request_headers} "$request""#,
            r#"$client_addr_port [$time_local] $_frontend $_backend_server $_timers $status $bytes_sent $_captured_request_cookie $_captured_response_cookie $_termination_state $_connections $_queues {$captured_request_headers} {$captured_response_headers} "$request""#,
            r#"$client_addr_port [$time_local] $_frontend_backend: $message"#,
        ],
    ),
    (
        "alb",
        &[
            r#"$scheme $time $_elb $client_addr_port $target_addr_port $_request_processing_time $_target_processing_time $_response_processing_time $status $_target_status $request_length $bytes_sent "$request" "$http_user_agent" $_ssl_cipher $_ssl_protocol $_target_group_arn "$_trace_id" "$_domain_name""#,
        ],
    ),
    // What Traefik plugins print among the JSON access log (`DEBUG: Plugin: 2025/09/05 13:53:40 text`).
    (
        "traefik-plugin",
        &[r#"$log_level: $_plugin: $_date $_clock $message"#],
    ),
    (
        "zoraxy",
        &[
            r#"$_date $_clock [$time] [router:$_router] [origin:$host] [client: $remote_addr] [useragent: $http_user_agent] $request_method $request_uri $status"#,
        ],
    ),
];

const ERROR_LOGS: &[(&str, ErrorLogKind)] = &[
    ("nginx-error", ErrorLogKind::Nginx),
    ("apache-error", ErrorLogKind::Apache),
    ("litespeed-error", ErrorLogKind::LiteSpeed),
];

const W3C: &[(&str, W3cFlavour, &str)] = &[
    ("iis", W3cFlavour::Iis, w3c::IIS_DEFAULT),
    (
        "cloudfront",
        W3cFlavour::CloudFront,
        w3c::CLOUDFRONT_DEFAULT,
    ),
];

fn preset_text(name: &str) -> Option<LogFormat> {
    let (n, ts) = PRESETS.iter().find(|(n, _)| *n == name)?;
    let templates = ts.iter().filter_map(|t| Template::nginx(t).ok()).collect();
    Some(LogFormat::Text(Arc::new(TextFormat {
        name: (*n).to_string(),
        templates,
    })))
}

impl LogFormat {
    /// NCSA combined (nginx's and Apache's default).
    pub fn combined() -> LogFormat {
        preset_text("combined").unwrap_or(LogFormat::JsonLines)
    }

    /// NCSA common log format.
    pub fn common() -> LogFormat {
        preset_text("common").unwrap_or(LogFormat::JsonLines)
    }

    /// The store's own nginx `log_format` line.
    pub fn nginx(format: &str) -> Result<LogFormat, FormatError> {
        let t = Template::nginx(format).map_err(FormatError::Nginx)?;
        Ok(LogFormat::Text(Arc::new(TextFormat {
            name: "nginx:custom".into(),
            templates: vec![t],
        })))
    }

    /// The store's own Apache `LogFormat` line.
    pub fn apache(format: &str) -> Result<LogFormat, FormatError> {
        let t = Template::apache(format).map_err(FormatError::Apache)?;
        Ok(LogFormat::Text(Arc::new(TextFormat {
            name: "apache:custom".into(),
            templates: vec![t],
        })))
    }

    pub fn name(&self) -> String {
        match self {
            LogFormat::JsonLines => "jsonl".into(),
            LogFormat::Text(t) => t.name.clone(),
            LogFormat::W3c { name, .. } => (*name).into(),
            LogFormat::IisXml => "iis-xml".into(),
            LogFormat::ErrorLog(k) => ERROR_LOGS
                .iter()
                .find(|(_, x)| x == k)
                .map_or("error", |(n, _)| n)
                .into(),
            LogFormat::Json(m) => m.name.clone(),
            LogFormat::Syslog(None) => "syslog".into(),
            LogFormat::Syslog(Some(inner)) => format!("syslog:{}", inner.name()),
        }
    }

    /// A parser for one file (or one stream) in this format.
    pub fn parser(&self) -> LineParser {
        LineParser::new(self.clone())
    }
}

impl std::str::FromStr for LogFormat {
    type Err = FormatError;

    /// A preset or built-in mapping name, `nginx:<log_format>`, `apache:<LogFormat>`
    /// or `syslog[:<inner>]`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Formats::builtin().get(s)
    }
}

/// Every format known: the presets plus the JSON mappings (built-in files and
/// the data directory's `formats/`, which override by name).
#[derive(Debug, Clone, Default)]
pub struct Formats {
    json: Vec<Arc<JsonMapping>>,
}

/// A format and what it is, for `bulwark formats`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FormatInfo {
    pub name: String,
    pub kind: &'static str,
    pub source: String,
}

/// What auto-detection chose for a file, and how sure it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    pub format: LogFormat,
    /// Sample lines the format read, of `sampled`.
    pub matched: usize,
    pub sampled: usize,
}

impl Formats {
    /// The presets and the mappings shipped in `formats/`.
    pub fn builtin() -> Formats {
        let files: Vec<(String, String)> = crate::packs::FORMATS
            .iter()
            .map(|(p, t)| ((*p).to_string(), (*t).to_string()))
            .collect();
        Formats::load(&files).0
    }

    /// The built-in mappings plus `files` (a mapping with the same `name`
    /// replaces the built-in one); refused files are returned with why.
    pub fn load(files: &[(String, String)]) -> (Formats, Vec<MappingError>) {
        let mut json: Vec<Arc<JsonMapping>> = Vec::new();
        let mut errors = Vec::new();
        for (path, text) in files {
            match JsonMapping::parse(path, text) {
                Ok(m) => {
                    json.retain(|x| x.name != m.name);
                    json.push(Arc::new(m));
                }
                Err(e) => errors.push(e),
            }
        }
        (Formats { json }, errors)
    }

    /// The built-in mappings with the data directory's on top.
    pub fn with_overrides(files: &[(String, String)]) -> (Formats, Vec<MappingError>) {
        let mut all: Vec<(String, String)> = crate::packs::FORMATS
            .iter()
            .map(|(p, t)| ((*p).to_string(), (*t).to_string()))
            .collect();
        all.extend(files.iter().cloned());
        Formats::load(&all)
    }

    pub fn list(&self) -> Vec<FormatInfo> {
        let mut out = vec![FormatInfo {
            name: "jsonl".into(),
            kind: "json",
            source: "ECS field names".into(),
        }];
        for (n, ts) in PRESETS {
            out.push(FormatInfo {
                name: (*n).into(),
                kind: "text",
                source: ts.join("  |  "),
            });
        }
        for (n, _, cols) in W3C {
            out.push(FormatInfo {
                name: (*n).into(),
                kind: "w3c",
                source: format!("#Fields: honoured; default {cols}"),
            });
        }
        out.push(FormatInfo {
            name: "iis-xml".into(),
            kind: "xml",
            source: "Microsoft-IIS-Logging events".into(),
        });
        for (n, _) in ERROR_LOGS {
            out.push(FormatInfo {
                name: (*n).into(),
                kind: "error log",
                source: String::new(),
            });
        }
        for m in &self.json {
            out.push(FormatInfo {
                name: m.name.clone(),
                kind: "json mapping",
                source: format!("{} ({})", m.title, m.path),
            });
        }
        out
    }

    /// Resolves a format name or format string.
    pub fn get(&self, spec: &str) -> Result<LogFormat, FormatError> {
        let s = spec.trim();
        if let Some(f) = s.strip_prefix("nginx:") {
            return LogFormat::nginx(f);
        }
        if let Some(f) = s.strip_prefix("apache:") {
            return LogFormat::apache(f);
        }
        if let Some(inner) = s.strip_prefix("syslog:") {
            return Ok(LogFormat::Syslog(Some(Box::new(self.get(inner)?))));
        }
        let lower = s.to_ascii_lowercase();
        match lower.as_str() {
            "jsonl" | "json" | "ndjson" | "jsonlines" | "ecs" | "ecs-json" => {
                return Ok(LogFormat::JsonLines)
            }
            "clf" => return Ok(LogFormat::common()),
            "syslog" => return Ok(LogFormat::Syslog(None)),
            "iis-xml" => return Ok(LogFormat::IisXml),
            "traefik-clf" | "litespeed" => return Ok(LogFormat::combined()),
            _ => {}
        }
        if let Some(f) = preset_text(&lower) {
            return Ok(f);
        }
        if let Some((n, flavour, cols)) = W3C.iter().find(|(n, _, _)| *n == lower) {
            return Ok(LogFormat::W3c {
                name: n,
                flavour: *flavour,
                default_columns: cols,
            });
        }
        if let Some((_, k)) = ERROR_LOGS.iter().find(|(n, _)| *n == lower) {
            return Ok(LogFormat::ErrorLog(*k));
        }
        if let Some(m) = self.json.iter().find(|m| m.name == lower) {
            return Ok(LogFormat::Json(m.clone()));
        }
        Err(FormatError::Unknown(s.to_string()))
    }

    /// The text formats tried line by line, most specific first.
    fn text_candidates(&self) -> Vec<LogFormat> {
        let mut v: Vec<LogFormat> = PRESETS.iter().filter_map(|(n, _)| preset_text(n)).collect();
        v.extend(ERROR_LOGS.iter().map(|(_, k)| LogFormat::ErrorLog(*k)));
        v
    }

    /// Guesses a file's format from its first lines: the format that reads the
    /// most of them (ties: the one that extracts more fields). `None` when no
    /// format reads any line.
    pub fn detect(&self, lines: &[&str]) -> Option<Detected> {
        let sample: Vec<&str> = lines
            .iter()
            .map(|l| l.trim_end_matches(['\r', '\n']))
            .filter(|l| !l.trim().is_empty())
            .take(50)
            .collect();
        if sample.is_empty() {
            return None;
        }
        let data: Vec<&str> = sample
            .iter()
            .copied()
            .filter(|l| !l.starts_with('#'))
            .collect();
        // W3C files announce themselves.
        if sample
            .iter()
            .any(|l| l.starts_with("#Fields:") || l.starts_with("#Version:"))
        {
            let tabs = data.iter().any(|l| l.contains('\t'));
            let (n, flavour, cols) = if tabs { W3C[1] } else { W3C[0] };
            let format = LogFormat::W3c {
                name: n,
                flavour,
                default_columns: cols,
            };
            let matched = count_ok(self, &format, &sample);
            return Some(Detected {
                format,
                matched,
                sampled: data.len(),
            });
        }
        let mut candidates: Vec<LogFormat> = Vec::new();
        if data.iter().any(|l| l.trim_start().starts_with('{')) {
            let objects: Vec<Map<String, Value>> = data
                .iter()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter_map(|v| match v {
                    Value::Object(m) => Some(m),
                    _ => None,
                })
                .collect();
            let best = self
                .json
                .iter()
                .map(|m| {
                    (
                        objects.iter().filter(|o| m.fits(o)).count(),
                        m.detect.len(),
                        m,
                    )
                })
                .filter(|(n, _, _)| *n > 0)
                .max_by_key(|(n, k, _)| (*n, *k));
            candidates.push(match best {
                Some((_, _, m)) => LogFormat::Json(m.clone()),
                None => LogFormat::JsonLines,
            });
        } else if data.iter().any(|l| l.trim_start().starts_with("<Event")) {
            candidates.push(LogFormat::IisXml);
        } else {
            candidates.extend(self.text_candidates());
            let (n, flavour, cols) = W3C[1];
            candidates.push(LogFormat::W3c {
                name: n,
                flavour,
                default_columns: cols,
            });
            // Behind syslog: the inner format that reads the most inner lines.
            let inner: Vec<&str> = data
                .iter()
                .filter_map(|l| syslog::strip(l).map(|p| p.inner))
                .collect();
            if !inner.is_empty() {
                if let Some((f, _)) = best_of(self, self.text_candidates(), &inner) {
                    candidates.push(LogFormat::Syslog(Some(Box::new(f))));
                }
            }
        }
        let (format, matched) = best_of(self, candidates, &data)?;
        Some(Detected {
            format,
            matched,
            sampled: data.len(),
        })
    }

    /// A parser that falls back, line by line, to any format that reads a line
    /// the chosen one cannot (auto mode).
    pub fn parser_with_fallback(&self, format: LogFormat) -> LineParser {
        let mut p = LineParser::new(format.clone());
        let fallback = match &format {
            // Other mappings, then text (plugins print plain lines among JSON).
            LogFormat::Json(_) | LogFormat::JsonLines => self
                .json
                .iter()
                .map(|m| LogFormat::Json(m.clone()))
                .filter(|f| *f != format)
                .chain(self.text_candidates())
                .collect(),
            LogFormat::IisXml | LogFormat::W3c { .. } => Vec::new(),
            _ => self
                .text_candidates()
                .into_iter()
                .filter(|f| *f != format)
                .collect(),
        };
        p.fallback = fallback;
        p.formats = Some(self.clone());
        p
    }
}

/// The candidate that reads the most lines, then extracts the most fields
/// (the first listed wins a tie); `None` if none reads any line.
fn best_of(
    formats: &Formats,
    candidates: Vec<LogFormat>,
    lines: &[&str],
) -> Option<(LogFormat, usize)> {
    let mut best: Option<(usize, usize, LogFormat)> = None;
    for f in candidates {
        let mut parser = LineParser::new(f.clone());
        parser.formats = Some(formats.clone());
        let (mut ok, mut fields) = (0, 0);
        for l in lines {
            if let Ok(Some(ev)) = parser.parse(l, 1) {
                ok += 1;
                fields += ev.fields.len();
            }
        }
        if ok > 0
            && best
                .as_ref()
                .is_none_or(|(o, fl, _)| (ok, fields) > (*o, *fl))
        {
            best = Some((ok, fields, f));
        }
    }
    best.map(|(n, _, f)| (f, n))
}

fn count_ok(formats: &Formats, f: &LogFormat, lines: &[&str]) -> usize {
    let mut p = LineParser::new(f.clone());
    p.formats = Some(formats.clone());
    lines
        .iter()
        .filter(|l| matches!(p.parse(l, 1), Ok(Some(_))))
        .count()
}

/// Per-file parsing state and counters.
#[derive(Debug, Clone)]
pub struct LineParser {
    format: LogFormat,
    /// Tried in order on lines the format cannot read (auto mode only).
    fallback: Vec<LogFormat>,
    /// For embedded lines and syslog with an unknown inner format.
    formats: Option<Formats>,
    columns: Option<W3cColumns>,
    pub max_line: usize,
    /// Lines read by a fallback format, by format name.
    pub by_fallback: BTreeMap<String, u64>,
}

impl LineParser {
    pub fn new(format: LogFormat) -> LineParser {
        LineParser {
            format,
            fallback: Vec::new(),
            formats: None,
            columns: None,
            max_line: DEFAULT_MAX_LINE,
            by_fallback: BTreeMap::new(),
        }
    }

    pub fn format(&self) -> &LogFormat {
        &self.format
    }

    /// Whether lines the format cannot read are tried with other formats.
    pub fn has_fallback(&self) -> bool {
        !self.fallback.is_empty()
    }

    /// One line: `Ok(None)` for lines that are not events (W3C directives,
    /// comments, blank lines). `line_no` is 1-based and only used in errors,
    /// which never quote the line (it may hold personal data).
    pub fn parse(&mut self, line: &str, line_no: u64) -> Result<Option<Event>, MalformedLine> {
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.len() > self.max_line {
            return Err(MalformedLine {
                line_no,
                reason: format!(
                    "the line is {} bytes, longer than the maximum of {} (--max-line)",
                    line.len(),
                    self.max_line
                ),
            });
        }
        if line.trim().is_empty() {
            return Ok(None);
        }
        let format = self.format.clone();
        match self.parse_as(&format, line) {
            Ok(Some(mut m)) => {
                m.insert("event.original".into(), Value::String(line.to_string()));
                Ok(Some(make_event(&format, m)))
            }
            Ok(None) => Ok(None),
            Err(reason) => {
                for i in 0..self.fallback.len() {
                    let f = self.fallback[i].clone();
                    if let Ok(Some(mut m)) = self.parse_as(&f, line) {
                        *self.by_fallback.entry(f.name()).or_default() += 1;
                        m.insert("event.original".into(), Value::String(line.to_string()));
                        return Ok(Some(make_event(&f, m)));
                    }
                }
                Err(MalformedLine { line_no, reason })
            }
        }
    }

    fn parse_as(
        &mut self,
        format: &LogFormat,
        line: &str,
    ) -> Result<Option<Map<String, Value>>, String> {
        match format {
            LogFormat::JsonLines => {
                let v: Value = serde_json::from_str(line).map_err(json_reason)?;
                match v {
                    Value::Object(m) => Ok(Some(m)),
                    _ => Err("JSON line is not an object".into()),
                }
            }
            LogFormat::Json(mapping) => {
                let v: Value = serde_json::from_str(line).map_err(json_reason)?;
                let Value::Object(obj) = v else {
                    return Err("JSON line is not an object".into());
                };
                let mut m = mapping.apply(&obj)?;
                if let Some(inner) = mapping.embedded_line(&obj) {
                    if let Some(im) = self.parse_text_auto(inner) {
                        for (k, v) in im {
                            m.entry(k).or_insert(v);
                        }
                    }
                }
                if m.is_empty() {
                    return Err(format!(
                        "no field of the `{}` mapping is in the line",
                        mapping.name
                    ));
                }
                Ok(Some(m))
            }
            LogFormat::Text(t) => {
                let mut last = "the line does not fit the format";
                for tpl in &t.templates {
                    match apply_template(tpl, line) {
                        Ok(m) => return Ok(Some(m)),
                        Err(e) => last = e,
                    }
                }
                Err(last.into())
            }
            LogFormat::W3c {
                flavour,
                default_columns,
                ..
            } => {
                if let Some(d) = line.strip_prefix('#') {
                    if let Some(cols) = d.strip_prefix("Fields:") {
                        self.columns = Some(W3cColumns::parse(cols));
                    }
                    return Ok(None);
                }
                let cols = self
                    .columns
                    .get_or_insert_with(|| W3cColumns::parse(default_columns))
                    .clone();
                w3c::parse_w3c(*flavour, &cols, line).map(Some)
            }
            LogFormat::IisXml => iis_xml::parse_iis_xml(line).map(Some),
            LogFormat::ErrorLog(k) => errorlog::parse_error_line(*k, line)
                .map(Some)
                .map_err(String::from),
            LogFormat::Syslog(inner) => {
                let p = syslog::strip(line).ok_or("no syslog prefix")?;
                let mut m = match inner {
                    Some(f) => {
                        let f = (**f).clone();
                        self.parse_as(&f, p.inner)?
                            .ok_or("an empty syslog message")?
                    }
                    None => self
                        .parse_text_auto(p.inner)
                        .ok_or("the syslog message is in no known format")?,
                };
                for (k, v) in p.fields {
                    m.entry(k).or_insert(v);
                }
                Ok(Some(m))
            }
        }
    }

    /// A line in whichever text format reads it (embedded lines, bare `syslog`).
    fn parse_text_auto(&mut self, line: &str) -> Option<Map<String, Value>> {
        let formats = self.formats.clone().unwrap_or_else(Formats::builtin);
        if let Some(p) = syslog::strip(line) {
            if let Some(mut m) = self.parse_text_auto_plain(&formats, p.inner) {
                for (k, v) in p.fields {
                    m.entry(k).or_insert(v);
                }
                return Some(m);
            }
        }
        self.parse_text_auto_plain(&formats, line)
    }

    fn parse_text_auto_plain(
        &mut self,
        formats: &Formats,
        line: &str,
    ) -> Option<Map<String, Value>> {
        for f in formats.text_candidates() {
            if let Ok(Some(m)) = self.parse_as(&f, line) {
                return Some(m);
            }
        }
        None
    }
}

fn json_reason(e: serde_json::Error) -> String {
    let what = match e.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "invalid data",
        serde_json::error::Category::Eof => "unexpected end of line",
    };
    format!("invalid JSON at column {}: {what}", e.column())
}

fn apply_template(t: &Template, line: &str) -> Result<Map<String, Value>, &'static str> {
    let mut m = Map::new();
    write_template(t, line, &mut m)?;
    Ok(m)
}

fn write_template<S: FieldSink + ?Sized>(
    t: &Template,
    line: &str,
    sink: &mut S,
) -> Result<(), &'static str> {
    for (var, text) in t.split(line)? {
        var.apply(&text, sink)?;
    }
    Ok(())
}

impl TextFormat {
    /// Parses a line (without its line ending) into `sink`, trying each template
    /// in turn (`restart` clears what a template that did not fit wrote), and
    /// adds `event.original`. Fallback formats are [`LineParser::parse`]'s business.
    pub(crate) fn parse_into<S: FieldSink + ?Sized>(
        &self,
        line: &str,
        sink: &mut S,
        mut restart: impl FnMut(&mut S),
    ) -> Result<(), &'static str> {
        let mut last = "the line does not fit the format";
        for (i, tpl) in self.templates.iter().enumerate() {
            if i > 0 {
                restart(sink);
            }
            match write_template(tpl, line, sink) {
                Ok(()) => {
                    sink.put_str("event.original", line);
                    return Ok(());
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

/// Access and error logs of web servers are Sigma's `webserver` category; JSON
/// lines say nothing about their source, so every rule applies to them.
fn make_event(format: &LogFormat, m: Map<String, Value>) -> Event {
    let ls = match format {
        LogFormat::JsonLines => None,
        _ => Some(Logsource::new(None, Some("webserver"), None)),
    };
    Event::new(m, ls)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(format: &str, line: &str) -> Event {
        let f = Formats::builtin().get(format).unwrap();
        f.parser().parse(line, 1).unwrap().unwrap()
    }

    #[test]
    fn iis_honours_fields_directives_as_they_change() {
        let mut p = Formats::builtin().get("iis").unwrap().parser();
        assert!(p
            .parse("#Software: Microsoft Internet Information Services 10.0", 1)
            .unwrap()
            .is_none());
        assert!(p
            .parse("#Fields: date time c-ip cs-method cs-uri-stem sc-status", 2)
            .unwrap()
            .is_none());
        let ev = p
            .parse("2024-05-01 10:00:00 203.0.113.9 GET /a.aspx 404", 3)
            .unwrap()
            .unwrap();
        assert_eq!(
            ev.get_text("http.response.status_code").as_deref(),
            Some("404")
        );
        p.parse(
            "#Fields: date time cs-method cs-uri-stem cs-uri-query c-ip cs(User-Agent) sc-status",
            4,
        )
        .unwrap();
        let ev = p
            .parse(
                "2024-05-01 10:00:01 GET /b.aspx x=1 ::ffff:10.1.2.3 sqlmap/1.7 200",
                5,
            )
            .unwrap()
            .unwrap();
        assert_eq!(ev.get_text("source.ip").as_deref(), Some("10.1.2.3"));
        assert_eq!(
            ev.get_text("user_agent.original").as_deref(),
            Some("sqlmap/1.7")
        );
        assert_eq!(ev.get_text("url.original").as_deref(), Some("/b.aspx?x=1"));
    }

    #[test]
    fn presets_read_what_their_servers_write() {
        let ev = one(
            "alb",
            r#"https 2023-04-26T12:23:00.186641Z app/x/1 [2001:db8::7]:44740 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "GET https://www.example.com:443/robots.txt?a=1 HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:x "Root=1-5" "www.example.com" "arn:y" 1"#,
        );
        assert_eq!(ev.get_text("source.ip").as_deref(), Some("2001:db8::7"));
        assert_eq!(ev.get_text("url.query").as_deref(), Some("a=1"));
        assert_eq!(
            ev.get_text("@timestamp").as_deref(),
            Some("2023-04-26T12:23:00.186Z")
        );
        let ev = one(
            "haproxy",
            r#"117.136.40.129:14853 [14/Jan/2015:12:48:57.127] https-in~ b/s 170/0/0/3/173 200 739 - - --NN 0/0/0/0/0 0/0 "GET /xxx HTTP/1.1""#,
        );
        assert_eq!(ev.get_text("url.path").as_deref(), Some("/xxx"));
        assert_eq!(
            ev.get_text("@timestamp").as_deref(),
            Some("2015-01-14T12:48:57.127Z")
        );
        // HAProxy's documentation's example, with captured request headers and
        // an empty response capture.
        let ev = one(
            "haproxy",
            r#"10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1""#,
        );
        assert_eq!(ev.get_text("url.path").as_deref(), Some("/index.html"));
        assert_eq!(ev.get_text("source.ip").as_deref(), Some("10.0.1.2"));
        assert_eq!(
            ev.get_text("labels.captured_request_headers").as_deref(),
            Some("1wt.eu")
        );
        let ev = one(
            "haproxy",
            r#"10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {shop.example|Mozilla/5.0 (X11; Linux x86_64)} "GET /cart HTTP/1.1""#,
        );
        assert_eq!(ev.get_text("url.path").as_deref(), Some("/cart"));
        assert_eq!(
            ev.get_text("labels.captured_request_headers").as_deref(),
            Some("shop.example|Mozilla/5.0 (X11; Linux x86_64)")
        );
        let ev = one(
            "syslog:combined",
            r#"<190>Sep 15 16:13:46 web1 nginx[2869]: 81.150.104.130 - - [15/Sep/2021:16:13:46 +0000] "POST /wp-login.php HTTP/1.1" 200 1 "-" "-""#,
        );
        assert_eq!(ev.get_text("process.name").as_deref(), Some("nginx"));
        assert_eq!(ev.get_text("url.path").as_deref(), Some("/wp-login.php"));
        let ev = one(
            "nginx-json",
            r#"{"time_iso8601":"2026-11-20T10:00:00+00:00","remote_addr":"::ffff:203.0.113.5","request":"GET /?q=1 HTTP/2.0","status":"-","http_user_agent":"x","upstream_cache":"HIT"}"#,
        );
        assert_eq!(ev.get_text("source.ip").as_deref(), Some("203.0.113.5"));
        assert!(ev.get("http.response.status_code").is_none());
        assert_eq!(ev.get_text("labels.upstream_cache").as_deref(), Some("HIT"));
        let ev = one(
            "cloudflare",
            r#"{"ClientIP":"198.51.100.2","ClientRequestHost":"shop.example","ClientRequestMethod":"POST","ClientRequestURI":"/login?next=%2F","EdgeResponseStatus":403,"EdgeStartTimestamp":1700000000000000000,"ClientRequestUserAgent":"python-requests/2.31"}"#,
        );
        assert_eq!(ev.get_text("url.path").as_deref(), Some("/login"));
        assert_eq!(
            ev.get_text("http.response.status_code").as_deref(),
            Some("403")
        );
        assert_eq!(
            ev.get_text("@timestamp").as_deref(),
            Some("2023-11-14T22:13:20.000Z")
        );
    }

    #[test]
    fn over_long_lines_are_malformed_with_their_length() {
        let mut p = LogFormat::combined().parser();
        p.max_line = 100;
        let e = p.parse(&"x".repeat(101), 7).unwrap_err();
        assert_eq!(e.line_no, 7);
        assert!(e.reason.contains("101 bytes"), "{}", e.reason);
    }
}
