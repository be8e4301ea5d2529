//! Events: a JSON object with ECS field names plus the log source it came from.
//!
//! Field paths are dotted (`url.query`). Both nested objects (`{"url":{"query":..}}`)
//! and flattened keys (`{"url.query": ..}`) resolve, as do mixtures of the two.

use crate::ast::Logsource;
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Event {
    pub fields: Map<String, Value>,
    /// `None` when the source is unknown: the event is then checked against every rule.
    pub logsource: Option<Logsource>,
}

impl Event {
    pub fn new(fields: Map<String, Value>, logsource: Option<Logsource>) -> Self {
        Event { fields, logsource }
    }

    /// Builds an event from a JSON value; anything but an object is rejected.
    pub fn from_json(value: Value, logsource: Option<Logsource>) -> Option<Self> {
        match value {
            Value::Object(fields) => Some(Event { fields, logsource }),
            _ => None,
        }
    }

    /// The same event, tagged with where it came from (e.g. `bulwark`/`vault`).
    pub fn with_logsource(mut self, logsource: Logsource) -> Self {
        self.logsource = Some(logsource);
        self
    }

    /// Resolves a dotted path.
    pub fn get(&self, path: &str) -> Option<&Value> {
        lookup(&self.fields, path, 0)
    }

    /// A field as display text (strings as is, other scalars as JSON).
    pub fn get_text(&self, path: &str) -> Option<String> {
        match self.get(path)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            v => Some(v.to_string()),
        }
    }

    /// The event time in milliseconds since the Unix epoch, from `@timestamp`
    /// (RFC 3339 text, or a number of milliseconds).
    /// Values beyond ±10,000 years are refused so window arithmetic cannot overflow.
    pub fn timestamp_ms(&self) -> Option<i64> {
        const LIMIT: i64 = 10_000 * 366 * 86_400_000;
        let ms = match self.get("@timestamp")? {
            Value::String(s) => crate::time::parse_rfc3339_ms(s),
            Value::Number(n) => n.as_i64(),
            _ => None,
        }?;
        (-LIMIT..=LIMIT).contains(&ms).then_some(ms)
    }

    /// Resolves a dotted path in any JSON object (nested objects and flat keys).
    pub fn lookup_in<'a>(obj: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
        lookup(obj, path, 0)
    }

    /// Sets a dotted path as a flat key (parsers use this; lookups handle both forms).
    pub fn set(&mut self, path: &str, value: Value) {
        self.fields.insert(path.to_string(), value);
    }
}

fn lookup<'a>(obj: &'a Map<String, Value>, path: &str, depth: usize) -> Option<&'a Value> {
    if let Some(v) = obj.get(path) {
        return Some(v);
    }
    if depth > 16 {
        return None;
    }
    // Try every split point: "a.b.c" -> ("a", "b.c"), ("a.b", "c").
    for (i, _) in path.match_indices('.') {
        if let Some(Value::Object(inner)) = obj.get(&path[..i]) {
            if let Some(v) = lookup(inner, &path[i + 1..], depth + 1) {
                return Some(v);
            }
        }
    }
    None
}

/// Where a log-format parser writes an event's fields: an event map, or (on
/// the hot path) the matcher's field slots, which copy only what a rule reads.
/// A key written twice keeps the later value, as in a map.
pub trait FieldSink {
    fn put_str(&mut self, key: &str, text: &str);
    fn put_u64(&mut self, key: &str, n: u64);
}

impl FieldSink for Map<String, Value> {
    fn put_str(&mut self, key: &str, text: &str) {
        self.insert(key.to_owned(), Value::String(text.to_owned()));
    }
    fn put_u64(&mut self, key: &str, n: u64) {
        self.insert(key.to_owned(), Value::from(n));
    }
}

/// What a field holds, as the matcher sees it.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum FieldData {
    #[default]
    Absent,
    Null,
    /// Scalar values as text; arrays contribute one entry per scalar element.
    Values(Vec<String>),
}

impl FieldData {
    pub fn from_value(v: Option<&Value>) -> FieldData {
        match v {
            None => FieldData::Absent,
            Some(Value::Null) => FieldData::Null,
            Some(v) => {
                let mut out = Vec::new();
                push_scalars(v, &mut out, 0);
                FieldData::Values(out)
            }
        }
    }

    /// Overwrites `slot` with `v`, reusing its string buffers (hot path).
    pub fn fill_from_value(slot: &mut FieldData, v: &Value) {
        match v {
            Value::Null => *slot = FieldData::Null,
            v => {
                let mut out = match std::mem::take(slot) {
                    FieldData::Values(mut old) => {
                        old.clear();
                        old
                    }
                    _ => Vec::new(),
                };
                push_scalars(v, &mut out, 0);
                *slot = FieldData::Values(out);
            }
        }
    }

    /// Overwrites `slot` with one scalar, reusing its first string buffer (hot path).
    pub fn set_single(slot: &mut FieldData, text: &str) {
        match slot {
            FieldData::Values(v) => {
                v.truncate(1);
                match v.first_mut() {
                    Some(s) => {
                        s.clear();
                        s.push_str(text);
                    }
                    None => v.push(text.to_owned()),
                }
            }
            _ => *slot = FieldData::Values(vec![text.to_owned()]),
        }
    }

    /// Makes `self` equal to `src`, reusing string buffers where it can.
    pub fn copy_from(&mut self, src: &FieldData) {
        match (&mut *self, src) {
            (FieldData::Values(d), FieldData::Values(s)) => d.clone_from(s),
            _ => *self = src.clone(),
        }
    }

    /// The value as display text: one scalar as is, several as a JSON array.
    pub fn text(&self) -> Option<String> {
        match self {
            FieldData::Values(v) if v.len() == 1 => Some(v[0].clone()),
            FieldData::Values(v) if v.is_empty() => None,
            FieldData::Values(v) => serde_json::to_string(v).ok(),
            _ => None,
        }
    }

    pub fn values(&self) -> &[String] {
        match self {
            FieldData::Values(v) => v,
            _ => &[],
        }
    }
}

fn push_scalars(v: &Value, out: &mut Vec<String>, depth: usize) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Bool(b) => out.push(b.to_string()),
        Value::Array(items) if depth < 4 => {
            for i in items {
                push_scalars(i, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// Every scalar in the event, for keyword (full-text) searches.
pub fn all_values(ev: &Event) -> Vec<String> {
    let mut out = Vec::new();
    for v in ev.fields.values() {
        collect_scalars(v, &mut out, 0);
    }
    out
}

/// Appends the scalars of `v` (a value found at nesting `depth`), descending into
/// objects and arrays up to a fixed depth.
pub(crate) fn collect_scalars(v: &Value, out: &mut Vec<String>, depth: usize) {
    match v {
        Value::Object(m) if depth < 8 => {
            for v in m.values() {
                collect_scalars(v, out, depth + 1);
            }
        }
        Value::Array(a) if depth < 8 => {
            for v in a {
                collect_scalars(v, out, depth + 1);
            }
        }
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Bool(b) => out.push(b.to_string()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_and_flat_paths() {
        let v = json!({"url": {"query": "a=1"}, "http.request.method": "GET",
                       "source": {"geo.country_iso_code": "FR"}});
        let ev = Event::from_json(v, None).unwrap();
        assert_eq!(ev.get("url.query"), Some(&json!("a=1")));
        assert_eq!(ev.get("http.request.method"), Some(&json!("GET")));
        assert_eq!(ev.get("source.geo.country_iso_code"), Some(&json!("FR")));
        assert_eq!(ev.get("url.path"), None);
    }

    #[test]
    fn timestamps() {
        let ev = |v| Event::from_json(json!({ "@timestamp": v }), None).unwrap();
        assert_eq!(ev(json!("1970-01-01T00:00:01Z")).timestamp_ms(), Some(1000));
        assert_eq!(ev(json!(1500)).timestamp_ms(), Some(1500));
        assert_eq!(ev(json!(i64::MAX)).timestamp_ms(), None);
        assert_eq!(ev(json!("yesterday")).timestamp_ms(), None);
    }

    #[test]
    fn field_data() {
        assert_eq!(FieldData::from_value(None), FieldData::Absent);
        assert_eq!(FieldData::from_value(Some(&json!(null))), FieldData::Null);
        assert_eq!(
            FieldData::from_value(Some(&json!([1, "a", true]))),
            FieldData::Values(vec!["1".into(), "a".into(), "true".into()])
        );
    }
}
