//! An HTTP client for tests against a real server on loopback (`ureq`; no
//! redirects followed, every status returned as it is, 30 s per request).

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;

/// What the server answered.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    pub text: String,
    /// The body as JSON; `Null` when it is empty or not JSON.
    pub json: Value,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn io_err(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// One request with a raw body (sent as `application/octet-stream` unless a
/// header says otherwise).
pub fn http_raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> std::io::Result<Reply> {
    let mut b = ureq::http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    if let Some(k) = key {
        b = b.header("Authorization", format!("Bearer {k}"));
    }
    for (h, v) in headers {
        b = b.header(*h, *v);
    }
    let res = match body {
        Some(bytes) => agent().run(b.body(bytes).map_err(io_err)?),
        None => agent().run(b.body(()).map_err(io_err)?),
    };
    let mut res = res.map_err(io_err)?;
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = res
        .body_mut()
        .with_config()
        .limit(256 << 20)
        .read_to_string()
        .map_err(io_err)?;
    let json = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::Null)
    };
    Ok(Reply {
        status,
        content_type,
        text,
        json,
    })
}

/// One JSON request. Returns the status and the JSON body (`Null` when empty).
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> std::io::Result<(u16, Value)> {
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    if body.is_some()
        && !headers
            .iter()
            .any(|(h, _)| h.eq_ignore_ascii_case("content-type"))
    {
        all.push(("Content-Type", "application/json"));
    }
    let r = http_raw(
        addr,
        method,
        path,
        key,
        &all,
        body.map(|b| b.to_string().into_bytes()),
    )?;
    Ok((r.status, r.json))
}

/// Status and JSON body of a raw HTTP/1.1 response (read off a TLS stream, say).
pub fn parse_response(raw: &[u8]) -> std::io::Result<(u16, Value)> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "incomplete response")
    })?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "no status"))?;
    let json = if body.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(body).unwrap_or(Value::Null)
    };
    Ok((status, json))
}
