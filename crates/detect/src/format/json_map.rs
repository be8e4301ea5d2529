//! JSON logs with their own keys, mapped onto ECS by a mapping file (Sigma's
//! processing-pipeline idea applied to events instead of rules). A mapping is
//! YAML:
//!
//! ```yaml
//! name: caddy
//! title: Caddy JSON access log
//! detect: [request.uri, request.remote_ip]   # all present → auto-detection picks it
//!                                             # (`key=value` also asks for the value)
//! fields:
//!   "@timestamp": {from: ts, as: time}
//!   source.ip: {from: [request.client_ip, request.remote_ip], as: address}
//!   url.original: {from: request.uri, as: target}     # also url.path, url.query
//!   user_agent.original: request.headers.User-Agent   # arrays: values joined by ", "
//!   event.kind: {value: event}                        # a constant
//! extract:                                            # regex captures from a field
//!   - {from: msg, regex: '\[uri "([^"]*)"\]', to: url.original, as: target}
//! embedded: {from: message}                           # a whole log line inside a field
//! keys: nginx                                         # keys are nginx variable names
//! ```
//!
//! `as` is one of `text` (default), `time`, `target`, `request`, `address`,
//! `number`, `version`, `seconds`, `millis`, `micros`, `nanos` (durations into
//! `event.duration`). Source paths are dotted and resolve nested objects and
//! flat keys alike; the first present path of a list wins.

use bulwark_yaml::{Node, Options};
use serde_json::{Map, Value};

use super::timestamps::parse_time_any;
use super::vars::{set_address, set_request_line, set_target, Var};
use crate::event::Event;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conv {
    Text,
    Time,
    Target,
    Request,
    Address,
    Number,
    Version,
    Duration(u64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldRule {
    pub to: String,
    pub from: Vec<String>,
    pub conv: Conv,
    pub constant: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Extract {
    pub from: String,
    pub regex: regex::Regex,
    pub to: String,
    pub conv: Conv,
}

impl PartialEq for Extract {
    fn eq(&self, o: &Self) -> bool {
        self.from == o.from && self.regex.as_str() == o.regex.as_str() && self.to == o.to
    }
}

/// A compiled mapping file.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonMapping {
    pub name: String,
    pub title: String,
    pub path: String,
    pub detect: Vec<String>,
    pub fields: Vec<FieldRule>,
    pub extract: Vec<Extract>,
    /// A field holding a whole log line (journald, syslog-over-JSON shippers).
    pub embedded: Option<String>,
    /// Keys are nginx variable names (`log_format … escape=json`).
    pub nginx_keys: bool,
}

/// Why a mapping file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct MappingError {
    pub path: String,
    pub reason: String,
}

fn conv_of(name: &str) -> Option<Conv> {
    Some(match name {
        "text" => Conv::Text,
        "time" => Conv::Time,
        "target" | "url" => Conv::Target,
        "request" => Conv::Request,
        "address" | "ip" => Conv::Address,
        "number" => Conv::Number,
        "version" => Conv::Version,
        "seconds" => Conv::Duration(1_000_000_000),
        "millis" => Conv::Duration(1_000_000),
        "micros" => Conv::Duration(1_000),
        "nanos" => Conv::Duration(1),
        _ => return None,
    })
}

fn strings(n: &Node) -> Option<Vec<String>> {
    if let Some(s) = n.as_str() {
        return Some(vec![s.to_string()]);
    }
    n.as_seq()?
        .iter()
        .map(|x| x.as_str().map(str::to_string))
        .collect()
}

impl JsonMapping {
    /// Parses a mapping file; the error names the file and the problem.
    pub fn parse(path: &str, text: &str) -> Result<JsonMapping, MappingError> {
        let err = |reason: String| MappingError {
            path: path.to_string(),
            reason,
        };
        if text.len() > 1 << 20 {
            return Err(err("the mapping file is larger than 1 MiB".into()));
        }
        let doc = bulwark_yaml::parse_document(text, &Options::default())
            .map_err(|e| err(e.to_string()))?;
        if doc.as_map().is_none() {
            return Err(err("a mapping file is a YAML mapping".into()));
        }
        let name = doc
            .get("name")
            .and_then(Node::as_str)
            .ok_or_else(|| err("`name` is missing".into()))?
            .to_string();
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(err("`name` must be letters, digits, `-` or `_`".into()));
        }
        let title = doc
            .get("title")
            .and_then(Node::as_str)
            .unwrap_or(&name)
            .to_string();
        let detect = match doc.get("detect") {
            Some(n) => strings(n).ok_or_else(|| err("`detect` must list key paths".into()))?,
            None => Vec::new(),
        };
        let mut fields = Vec::new();
        if let Some(map) = doc.get("fields") {
            let entries = map
                .as_map()
                .ok_or_else(|| err("`fields` must be a mapping".into()))?;
            for (k, v) in entries {
                let to = k
                    .as_str()
                    .ok_or_else(|| err("a field name is not text".into()))?
                    .to_string();
                let rule = if let Some(from) = strings(v) {
                    FieldRule {
                        to: to.clone(),
                        from,
                        conv: Conv::Text,
                        constant: None,
                    }
                } else if v.as_map().is_some() {
                    let from = match v.get("from") {
                        Some(f) => strings(f).ok_or_else(|| {
                            err(format!("`{to}.from` must be a path or a list of paths"))
                        })?,
                        None => Vec::new(),
                    };
                    let conv = match v.get("as").and_then(Node::as_str) {
                        Some(c) => conv_of(c)
                            .ok_or_else(|| err(format!("`{to}`: unknown conversion `{c}`")))?,
                        None => Conv::Text,
                    };
                    let constant = v.get("value").and_then(Node::as_str).map(str::to_string);
                    if from.is_empty() && constant.is_none() {
                        return Err(err(format!("`{to}` needs `from` or `value`")));
                    }
                    FieldRule {
                        to: to.clone(),
                        from,
                        conv,
                        constant,
                    }
                } else {
                    return Err(err(format!(
                        "`{to}` must be a path, a list of paths or a mapping"
                    )));
                };
                fields.push(rule);
            }
        }
        let mut extract = Vec::new();
        if let Some(list) = doc.get("extract") {
            for e in list
                .as_seq()
                .ok_or_else(|| err("`extract` must be a list".into()))?
            {
                let get = |k: &str| e.get(k).and_then(Node::as_str);
                let from =
                    get("from").ok_or_else(|| err("an `extract` entry needs `from`".into()))?;
                let to = get("to").ok_or_else(|| err("an `extract` entry needs `to`".into()))?;
                let re =
                    get("regex").ok_or_else(|| err("an `extract` entry needs `regex`".into()))?;
                let regex = regex::RegexBuilder::new(re)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| err(format!("`extract` regex for `{to}`: {e}")))?;
                let conv = match get("as") {
                    Some(c) => conv_of(c)
                        .ok_or_else(|| err(format!("`{to}`: unknown conversion `{c}`")))?,
                    None => Conv::Text,
                };
                extract.push(Extract {
                    from: from.to_string(),
                    regex,
                    to: to.to_string(),
                    conv,
                });
            }
        }
        let embedded = doc
            .get("embedded")
            .and_then(|e| e.get("from"))
            .and_then(Node::as_str)
            .map(str::to_string);
        let nginx_keys = doc.get("keys").and_then(Node::as_str) == Some("nginx");
        if fields.is_empty() && extract.is_empty() && embedded.is_none() && !nginx_keys {
            return Err(err(
                "the mapping maps nothing (no `fields`, `extract`, `embedded` or `keys`)".into(),
            ));
        }
        Ok(JsonMapping {
            name,
            title,
            path: path.to_string(),
            detect,
            fields,
            extract,
            embedded,
            nginx_keys,
        })
    }

    /// Whether a decoded line carries every key this mapping detects by.
    pub fn fits(&self, obj: &Map<String, Value>) -> bool {
        !self.detect.is_empty()
            && self.detect.iter().all(|p| match p.split_once('=') {
                // `key=value`: the key must hold that text.
                Some((k, want)) => lookup(obj, k).and_then(scalar_text).as_deref() == Some(want),
                None => lookup(obj, p).is_some(),
            })
    }

    /// Maps one decoded JSON object onto ECS fields (`event.original` aside).
    pub fn apply(&self, obj: &Map<String, Value>) -> Result<Map<String, Value>, String> {
        let mut m = Map::new();
        if self.nginx_keys {
            for (k, v) in obj {
                if let Some(text) = scalar_text(v) {
                    Var::from_nginx(k)
                        .apply(&text, &mut m)
                        .map_err(|e| format!("`{k}`: {e}"))?;
                }
            }
        }
        for f in &self.fields {
            if let Some(c) = &f.constant {
                m.insert(f.to.clone(), Value::String(c.clone()));
                continue;
            }
            let Some(v) = f
                .from
                .iter()
                .find_map(|p| lookup(obj, p).filter(|v| !v.is_null()))
            else {
                continue;
            };
            let Some(text) = scalar_text(v) else { continue };
            convert(&mut m, &f.to, f.conv, &text, v).map_err(|e| format!("`{}`: {e}", f.to))?;
        }
        for e in &self.extract {
            let Some(text) = lookup(obj, &e.from).and_then(scalar_text) else {
                continue;
            };
            if let Some(c) = e.regex.captures(&text).and_then(|c| c.get(1)) {
                if !m.contains_key(&e.to) {
                    convert(&mut m, &e.to, e.conv, c.as_str(), &Value::Null)
                        .map_err(|err| format!("`{}`: {err}", e.to))?;
                }
            }
        }
        Ok(m)
    }

    /// The embedded line, if this mapping has one and the object holds it.
    pub fn embedded_line<'a>(&self, obj: &'a Map<String, Value>) -> Option<&'a str> {
        lookup(obj, self.embedded.as_deref()?)?.as_str()
    }
}

fn convert(
    m: &mut Map<String, Value>,
    to: &str,
    conv: Conv,
    text: &str,
    raw: &Value,
) -> Result<(), &'static str> {
    if text.is_empty() || text == "-" {
        return Ok(());
    }
    match conv {
        Conv::Text => {
            m.insert(to.to_string(), Value::String(text.to_string()));
        }
        Conv::Time => {
            let ms = parse_time_any(text).ok_or("the time cannot be read")?;
            m.insert(
                to.to_string(),
                Value::String(crate::time::format_rfc3339_ms(ms)),
            );
        }
        Conv::Target => set_target(m, text),
        Conv::Request => set_request_line(m, text),
        Conv::Address => {
            let (a, port) = super::vars::split_addr_port(text);
            let prefix = to
                .strip_suffix(".ip")
                .or_else(|| to.strip_suffix(".address"))
                .unwrap_or(to);
            set_address(m, prefix, a);
            if let Some(p) = port {
                m.insert(format!("{prefix}.port"), Value::from(p));
            }
        }
        Conv::Number => {
            let v = match raw {
                Value::Number(n) => Value::Number(n.clone()),
                _ => {
                    let n: f64 = text.trim().parse().map_err(|_| "not a number")?;
                    serde_json::Number::from_f64(n)
                        .map(Value::Number)
                        .ok_or("not a finite number")?
                }
            };
            // Integers stay integers (status codes compare as `404`, not `404.0`).
            let v = match v.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9e15 => Value::from(f as i64),
                _ => v,
            };
            m.insert(to.to_string(), v);
        }
        Conv::Version => {
            let v = text.strip_prefix("HTTP/").unwrap_or(text);
            m.insert(to.to_string(), Value::String(v.to_string()));
        }
        Conv::Duration(ns) => {
            let x: f64 = text
                .trim()
                .parse()
                .map_err(|_| "a duration is not a number")?;
            if x.is_finite() && x >= 0.0 {
                m.insert(to.to_string(), Value::from((x * ns as f64) as u64));
            }
        }
    }
    Ok(())
}

/// Scalars as text; arrays of scalars joined by ", " (multi-valued headers).
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(scalar_text).collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        _ => None,
    }
}

/// Dotted lookup over nested objects and flat keys (as `Event::get`).
pub fn lookup<'a>(obj: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    Event::lookup_in(obj, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_files_with_reasons() {
        for (text, want) in [
            ("[1]", "a YAML mapping"),
            ("title: x", "`name` is missing"),
            ("name: x", "maps nothing"),
            (
                "name: x\nfields:\n  a: {from: b, as: bogus}",
                "unknown conversion",
            ),
            (
                "name: x\nextract:\n  - {from: m, to: a, regex: '('}",
                "regex",
            ),
        ] {
            let e = JsonMapping::parse("m.yml", text).unwrap_err();
            assert!(e.to_string().contains(want), "{e}");
            assert!(e.to_string().starts_with("m.yml: "));
        }
    }
}
