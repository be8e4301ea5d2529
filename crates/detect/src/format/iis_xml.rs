//! IIS logging to the Windows event log ("Microsoft-IIS-Logging/Logs"),
//! exported as one `<Event>` XML document per line: the W3C fields are
//! `<Data Name="…">` elements.

use quick_xml::events::Event as Xml;
use quick_xml::Reader;
use serde_json::{Map, Value};

use super::w3c::{w3c_pairs, W3cFlavour};

/// IIS's event-log names for the header fields differ from W3C's.
fn w3c_name(name: &str) -> &str {
    match name {
        "csUser-Agent" => "cs(User-Agent)",
        "csReferer" => "cs(Referer)",
        "csCookie" => "cs(Cookie)",
        n => n,
    }
}

pub fn parse_iis_xml(line: &str) -> Result<Map<String, Value>, String> {
    let mut reader = Reader::from_str(line);
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut current: Option<String> = None;
    let mut system_time: Option<String> = None;
    let mut saw_event = false;
    loop {
        match reader.read_event() {
            Ok(Xml::Start(e)) | Ok(Xml::Empty(e)) => {
                let tag = e.name();
                if tag.as_ref() == b"Event" {
                    saw_event = true;
                }
                if tag.as_ref() == b"Data" || tag.as_ref() == b"TimeCreated" {
                    for a in e.attributes().flatten() {
                        let v = a
                            .unescape_value()
                            .map_err(|_| "an attribute has a bad escape".to_string())?
                            .into_owned();
                        match (tag.as_ref(), a.key.as_ref()) {
                            (b"Data", b"Name") => current = Some(v),
                            (b"TimeCreated", b"SystemTime") => system_time = Some(v),
                            _ => {}
                        }
                    }
                }
            }
            Ok(Xml::Text(t)) => {
                if let Some(name) = current.take() {
                    let raw = t.decode().map_err(|_| "a value is not UTF-8".to_string())?;
                    let v = quick_xml::escape::unescape(&raw)
                        .map_err(|_| "a value has a bad escape".to_string())?
                        .into_owned();
                    pairs.push((name, v));
                }
            }
            Ok(Xml::End(e)) => {
                if e.name().as_ref() == b"Data" {
                    current = None;
                }
            }
            Ok(Xml::Eof) => break,
            Ok(_) => {}
            Err(_) => return Err("invalid XML".into()),
        }
        if pairs.len() > 256 {
            return Err("more than 256 data fields".into());
        }
    }
    if !saw_event {
        return Err("not an <Event> document".into());
    }
    let mut m = w3c_pairs(
        W3cFlavour::Iis,
        pairs.iter().map(|(k, v)| (w3c_name(k), v.as_str())),
    )?;
    if !m.contains_key("@timestamp") {
        if let Some(ms) = system_time
            .as_deref()
            .and_then(super::timestamps::parse_time_any)
        {
            m.insert(
                "@timestamp".into(),
                Value::String(crate::time::format_rfc3339_ms(ms)),
            );
        }
    }
    Ok(m)
}
