//! W3C extended log files: IIS and CloudFront. A `#Fields:` directive names the
//! columns and may change within a file (IIS writes a new header after a
//! restart); without one, the preset's documented default columns apply.

use serde_json::{Map, Value};

use super::timestamps::parse_time_any;
use super::vars::{set_address, split_addr_port, unmap_ip};

/// IIS's default W3C fields (IIS Manager, "W3C" with the default selection).
pub const IIS_DEFAULT: &str = "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken";

/// CloudFront standard logs (legacy), in AWS's documented order.
pub const CLOUDFRONT_DEFAULT: &str = "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start sc-range-end";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum W3cFlavour {
    /// Space-separated; `+` stands for a space inside values.
    Iis,
    /// Tab-separated; values are percent-encoded (user agent, cookie).
    CloudFront,
}

#[derive(Debug, Clone, PartialEq)]
pub struct W3cColumns {
    pub names: Vec<String>,
}

impl W3cColumns {
    pub fn parse(list: &str) -> W3cColumns {
        W3cColumns {
            names: list.split_whitespace().map(str::to_string).collect(),
        }
    }
}

/// Parses one data line with the given columns.
pub fn parse_w3c(
    flavour: W3cFlavour,
    cols: &W3cColumns,
    line: &str,
) -> Result<Map<String, Value>, String> {
    let values: Vec<&str> = match flavour {
        W3cFlavour::CloudFront => line.split('\t').collect(),
        W3cFlavour::Iis => line.split(' ').filter(|v| !v.is_empty()).collect(),
    };
    if values.len() < cols.names.len().min(8) {
        return Err(format!(
            "{} values where the header names {} fields",
            values.len(),
            cols.names.len()
        ));
    }
    w3c_pairs(flavour, cols.names.iter().map(String::as_str).zip(values))
}

/// Maps W3C (name, value) pairs onto ECS (also used for IIS events in XML).
pub fn w3c_pairs<'a>(
    flavour: W3cFlavour,
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<Map<String, Value>, String> {
    let mut m = Map::new();
    let (mut date, mut time) = (None, None);
    let (mut stem, mut query) = (None, None);
    for (name, raw) in pairs {
        if raw == "-" || raw.is_empty() {
            continue;
        }
        let text = match flavour {
            W3cFlavour::Iis => raw.replace('+', " "),
            W3cFlavour::CloudFront if name == "cs(User-Agent)" || name == "cs(Referer)" => {
                percent_decode_once(raw)
            }
            W3cFlavour::CloudFront => raw.to_string(),
        };
        match name {
            "date" => date = Some(text),
            "time" => time = Some(text),
            "c-ip" => set_address(&mut m, "source", &text),
            "s-ip" => set_address(&mut m, "destination", &text),
            "c-port" => int(&mut m, "source.port", &text),
            "s-port" => int(&mut m, "destination.port", &text),
            "cs-method" => put(&mut m, "http.request.method", text),
            "cs-uri-stem" => stem = Some(text),
            // IIS writes the query raw; `+` there is the query's own space.
            "cs-uri-query" => {
                query = Some(if flavour == W3cFlavour::Iis {
                    raw.to_string()
                } else {
                    text
                })
            }
            "cs-uri" => put(&mut m, "url.original", text),
            "cs-username" => put(&mut m, "user.name", text),
            "cs(User-Agent)" => put(&mut m, "user_agent.original", text),
            "cs(Referer)" => put(&mut m, "http.request.referrer", text),
            "cs(Cookie)" => put(&mut m, "http.request.headers.cookie", text),
            "cs(Host)" | "x-host-header" | "cs-host" => {
                let (h, _) = split_addr_port(&text);
                let h = h.to_string();
                m.entry("url.domain").or_insert(Value::String(h));
            }
            "sc-status" => {
                let n: u16 = text
                    .parse()
                    .map_err(|_| "the status is not a number".to_string())?;
                m.insert("http.response.status_code".into(), Value::from(n));
            }
            "sc-bytes" => int(&mut m, "http.response.bytes", &text),
            "cs-bytes" => int(&mut m, "http.request.bytes", &text),
            "time-taken" => {
                if let Ok(x) = text.parse::<f64>() {
                    // IIS: milliseconds; CloudFront: seconds.
                    let ns = match flavour {
                        W3cFlavour::Iis => x * 1e6,
                        W3cFlavour::CloudFront => x * 1e9,
                    };
                    m.insert("event.duration".into(), Value::from(ns as u64));
                }
            }
            "cs-protocol-version" | "cs-version" => {
                let v = text.strip_prefix("HTTP/").unwrap_or(&text).to_string();
                put(&mut m, "http.version", v);
            }
            "cs-protocol" => put(&mut m, "url.scheme", text),
            "x-forwarded-for" => {
                let first = text.split(',').next().unwrap_or("").trim().to_string();
                put(&mut m, "network.forwarded_ip", unmap_ip(&first).to_string());
            }
            other => {
                let k = format!(
                    "labels.{}",
                    other
                        .chars()
                        .map(|c| if c.is_ascii_alphanumeric() {
                            c.to_ascii_lowercase()
                        } else {
                            '_'
                        })
                        .collect::<String>()
                );
                m.insert(k, Value::String(text));
            }
        }
    }
    match (date, time) {
        (Some(d), Some(t)) => {
            let ms =
                parse_time_any(&format!("{d} {t}")).ok_or("the date and time cannot be read")?;
            m.insert(
                "@timestamp".into(),
                Value::String(crate::time::format_rfc3339_ms(ms)),
            );
        }
        (Some(d), None) => {
            let ms = parse_time_any(&d).ok_or("the date cannot be read")?;
            m.insert(
                "@timestamp".into(),
                Value::String(crate::time::format_rfc3339_ms(ms)),
            );
        }
        _ => {}
    }
    if stem.is_some() || query.is_some() {
        let path = stem.unwrap_or_else(|| "/".into());
        let original = match &query {
            Some(q) => format!("{path}?{q}"),
            None => path.clone(),
        };
        m.entry("url.original").or_insert(Value::String(original));
        m.insert("url.path".into(), Value::String(path));
        if let Some(q) = query {
            m.insert("url.query".into(), Value::String(q));
        }
    }
    if !m.contains_key("http.request.method") && !m.contains_key("url.original") {
        return Err("no request fields in the line".into());
    }
    Ok(m)
}

fn put(m: &mut Map<String, Value>, k: &str, v: String) {
    m.insert(k.to_string(), Value::String(v));
}

fn int(m: &mut Map<String, Value>, k: &str, v: &str) {
    if let Ok(n) = v.parse::<u64>() {
        m.insert(k.to_string(), Value::from(n));
    }
}

/// One round of `%XX` decoding (CloudFront encodes spaces and some bytes once).
fn percent_decode_once(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iis_default_columns() {
        let cols = W3cColumns::parse(IIS_DEFAULT);
        let m = parse_w3c(
            W3cFlavour::Iis,
            &cols,
            "2024-05-01 10:00:00 10.0.0.5 GET /owa/auth/logon.aspx a=1+2 443 - ::ffff:203.0.113.9 Mozilla/5.0+(Windows) - 200 0 0 15",
        )
        .unwrap();
        assert_eq!(m["source.ip"], "203.0.113.9");
        assert_eq!(m["user_agent.original"], "Mozilla/5.0 (Windows)");
        assert_eq!(m["url.query"], "a=1+2");
        assert_eq!(m["url.original"], "/owa/auth/logon.aspx?a=1+2");
        assert_eq!(m["@timestamp"], "2024-05-01T10:00:00.000Z");
    }

    #[test]
    fn cloudfront_tabs() {
        let cols = W3cColumns::parse(CLOUDFRONT_DEFAULT);
        let line = "2024-03-12\t15:22:28\tCDG50-P2\t703\t1.2.3.4\tGET\td6.cloudfront.net\t/testseb\t400\t-\tcurl/7.81.0%20x\tquery_param=42\t-\tError";
        let m = parse_w3c(W3cFlavour::CloudFront, &cols, line).unwrap();
        assert_eq!(m["user_agent.original"], "curl/7.81.0 x");
        assert_eq!(m["url.original"], "/testseb?query_param=42");
        assert_eq!(m["http.response.status_code"], 400);
    }
}
