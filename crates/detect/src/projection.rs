//! Projected JSON parsing: read a JSON line but keep only the fields some rule,
//! correlation or report needs. The whole line is still validated (a malformed
//! line is still an error), but skipped values are never allocated.

use std::fmt;

use rustc_hash::FxHashSet;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::event::{collect_scalars, Event, FieldData};
use crate::input::MalformedLine;
use crate::matcher::{Matcher, PathEntry, Scratch};

/// The set of dotted paths to keep.
#[derive(Debug, Clone, Default)]
pub struct Projection {
    /// Keys come from rules, so a fast non-keyed hash is safe here.
    paths: FxHashSet<String>,
    /// Every proper dotted prefix of a kept path: objects to descend into.
    prefixes: FxHashSet<String>,
}

impl Projection {
    pub fn new<I: IntoIterator<Item = String>>(paths: I) -> Projection {
        let mut p = Projection::default();
        for path in paths {
            for (i, _) in path.match_indices('.') {
                p.prefixes.insert(path[..i].to_string());
            }
            p.paths.insert(path);
        }
        p
    }

    pub fn len(&self) -> usize {
        self.paths.len()
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }
}

/// Parses one JSON line keeping only projected fields (stored under their dotted
/// path; nested objects that are themselves wanted are kept whole).
pub fn parse_json_projected(
    line: &str,
    line_no: u64,
    proj: &Projection,
) -> Result<Event, MalformedLine> {
    let mut out = Map::new();
    let mut de = serde_json::Deserializer::from_str(line);
    let root = Walk {
        proj,
        prefix: "",
        out: &mut out,
        root: true,
    };
    let res = root.deserialize(&mut de).and_then(|()| de.end());
    match res {
        Ok(()) => Ok(Event::new(out, None)),
        Err(e) if e.to_string().contains("expected a JSON object") => Err(MalformedLine {
            line_no,
            reason: "JSON line is not an object".into(),
        }),
        Err(e) => Err(MalformedLine {
            line_no,
            reason: format!("invalid JSON at column {}", e.column()),
        }),
    }
}

/// A map key, borrowed from the line when it has no escapes.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl std::ops::Deref for Key<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v))
            }
        }
        d.deserialize_str(V)
    }
}

struct Walk<'a> {
    proj: &'a Projection,
    prefix: &'a str,
    out: &'a mut Map<String, Value>,
    /// The line itself must be an object; nested values may be anything.
    root: bool,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.root {
            d.deserialize_map(self)
        } else {
            d.deserialize_any(self)
        }
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut path = String::new();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            path.clear();
            if !self.prefix.is_empty() {
                path.push_str(self.prefix);
                path.push('.');
            }
            path.push_str(&key);
            if self.proj.paths.contains(path.as_str()) {
                let v: Value = map.next_value()?;
                self.out.insert(path.clone(), v);
            } else if self.proj.prefixes.contains(path.as_str()) {
                map.next_value_seed(Walk {
                    proj: self.proj,
                    prefix: &path,
                    out: self.out,
                    root: false,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }

    // Non-object values under a prefix path hold nothing we want.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

/// Decodes a JSON line straight into the matcher's field slots: only paths the
/// program reads are decoded, everything else is validated and skipped.
pub(crate) fn extract_json(
    m: &Matcher,
    line: &str,
    s: &mut Scratch,
) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(line);
    let mut path = String::new();
    Node {
        m,
        s,
        path: &mut path,
        entry: None,
        depth: 0,
        root: true,
        keywords: m.uses_keywords(),
    }
    .deserialize(&mut de)?;
    de.end()
}

static EMPTY: PathEntry = PathEntry::EMPTY;

struct Node<'a> {
    m: &'a Matcher,
    s: &'a mut Scratch,
    path: &'a mut String,
    /// How the program uses this node's path (looked up once by the parent).
    entry: Option<&'a PathEntry>,
    depth: usize,
    root: bool,
    /// Keyword searches need every scalar (as `all_values` collects them).
    keywords: bool,
}

/// Nesting limit of keyword collection, as in `event::collect_scalars`.
const KEYWORD_DEPTH: usize = 9;

impl Node<'_> {
    /// A scalar at this node: copied into the field slot's existing buffer (no
    /// allocation once the slot has grown) and into the keyword values if needed.
    fn scalar(self, text: &str) {
        if self.keywords && self.depth <= KEYWORD_DEPTH && self.m.uses_keywords() {
            self.s.push_keyword(text);
        }
        let Some(entry) = self.entry else { return };
        self.m
            .offer(self.s, entry, &mut |slot| FieldData::set_single(slot, text));
    }
}

/// Decimal text of an integer, as `to_string` would give, without allocating.
fn int_text(v: i128, buf: &mut [u8; 40]) -> &str {
    let neg = v < 0;
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    // Only ASCII digits and '-' were written.
    std::str::from_utf8(&buf[i..]).unwrap_or_default()
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.root {
            d.deserialize_map(self)
        } else {
            d.deserialize_any(self)
        }
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if let Some(entry) = self.entry.filter(|e| e.is_field()) {
            // An object where a rule expects a value: present, with no scalar.
            self.m.offer(self.s, entry, &mut |slot| {
                *slot = FieldData::Values(Vec::new())
            });
        }
        let base = self.path.len();
        let mut n = 0;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            self.path.truncate(base);
            if base > 0 {
                self.path.push('.');
            }
            self.path.push_str(&key);
            let entry = if self.root {
                n += 1;
                self.m.root_path(self.s, n - 1, self.path)
            } else {
                self.m.path(self.path)
            };
            let entry = entry.filter(|e| e.is_field() || (self.depth < 16 && e.prefix));
            if entry.is_some() || (self.keywords && self.depth < KEYWORD_DEPTH) {
                map.next_value_seed(Node {
                    m: self.m,
                    s: &mut *self.s,
                    path: &mut *self.path,
                    entry,
                    depth: self.depth + 1,
                    root: false,
                    keywords: self.keywords,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        self.path.truncate(base);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let entry = self.entry.filter(|e| e.is_field());
        if entry.is_none() && !self.keywords {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        // Arrays match element-wise: keep their scalars, as `FieldData` does.
        let v: Vec<Value> = {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element::<Value>()? {
                items.push(item);
            }
            items
        };
        let arr = Value::Array(v);
        if self.keywords && self.depth <= KEYWORD_DEPTH {
            if let Some(all) = self.m.keyword_values(self.s) {
                // This array sits where `all_values` would see it at depth - 1.
                collect_scalars(&arr, all, self.depth.saturating_sub(1));
            }
        }
        if let Some(entry) = entry {
            self.m.offer(self.s, entry, &mut |slot| {
                FieldData::fill_from_value(slot, &arr)
            });
        }
        Ok(())
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.scalar(if v { "true" } else { "false" });
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.scalar(int_text(i128::from(v), &mut [0; 40]));
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.scalar(int_text(i128::from(v), &mut [0; 40]));
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        // Same text as serde_json's own number formatting.
        let text = serde_json::Number::from_f64(v)
            .map(|n| n.to_string())
            .unwrap_or_default();
        self.scalar(&text);
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.scalar(v);
        Ok(())
    }
    fn visit_string<E>(self, v: String) -> Result<(), E> {
        self.scalar(&v);
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.m
            .offer(self.s, self.entry.unwrap_or(&EMPTY), &mut |slot| {
                *slot = FieldData::Null
            });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_only_projected_fields() {
        let p = Projection::new([
            "url.query".to_string(),
            "a".to_string(),
            "x.y.z".to_string(),
        ]);
        let line = r#"{"url": {"query": "q=1", "path": "/p"}, "a": [1, 2], "b": {"c": 1}, "x.y": {"z": "deep"}, "x": 5}"#;
        let ev = parse_json_projected(line, 1, &p).unwrap();
        assert_eq!(ev.get("url.query"), Some(&json!("q=1")));
        assert_eq!(ev.get("a"), Some(&json!([1, 2])));
        assert_eq!(ev.get("x.y.z"), Some(&json!("deep")));
        assert_eq!(ev.get("url.path"), None);
        assert_eq!(ev.get("b"), None);
    }

    #[test]
    fn integer_text_matches_to_string() {
        for v in [
            0i128,
            7,
            -7,
            10,
            4624,
            -100,
            i128::from(i64::MIN),
            i128::from(u64::MAX),
        ] {
            assert_eq!(int_text(v, &mut [0; 40]), v.to_string());
        }
    }

    #[test]
    fn still_validates() {
        let p = Projection::new(["a".to_string()]);
        assert!(parse_json_projected(r#"{"a": 1, "b": [1, }"#, 3, &p).is_err());
        assert_eq!(parse_json_projected("[1]", 4, &p).unwrap_err().line_no, 4);
        assert!(parse_json_projected(r#"{"a": 1} trailing"#, 5, &p).is_err());
        assert!(parse_json_projected(r#"{"k\"ey": 1, "a": "\u00e9"}"#, 6, &p).is_ok());
    }
}
