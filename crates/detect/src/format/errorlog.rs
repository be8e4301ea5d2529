//! Error logs of web servers: they record denied and malformed requests, failed
//! basic-auth logins and rate limiting — often the only trace of an attack the
//! access log does not show (Apache logs CVE-2021-41773 probes here).
//!
//! Each line becomes an event with `log.level`, `message`, `source.ip` when the
//! line names the client, and the request (`http.request.method`,
//! `url.original`…) when it quotes one.

use serde_json::{Map, Value};

use super::timestamps::parse_time_any;
use super::vars::{set_address, set_request_line, split_addr_port};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorLogKind {
    /// `2021/09/30 09:23:53 [error] 1925#1925: *17 message, client: 1.2.3.4, server: x, request: "GET / HTTP/1.1", host: "x"`
    Nginx,
    /// `[Fri Oct 08 17:08:41.203277 2021] [core:error] [pid 7005:tid 1406] [client 1.2.3.4:1453] AH00126: message`
    Apache,
    /// `2022-06-08 22:49:20.774649 [NOTICE] [1226033] [1.2.3.4:45164:HTTP2-41#_AdminVHost] [STDERR] message`
    LiteSpeed,
}

pub fn parse_error_line(
    kind: ErrorLogKind,
    line: &str,
) -> Result<Map<String, Value>, &'static str> {
    match kind {
        ErrorLogKind::Nginx => nginx(line),
        ErrorLogKind::Apache => apache(line),
        ErrorLogKind::LiteSpeed => litespeed(line),
    }
}

fn stamp(m: &mut Map<String, Value>, ms: i64) {
    m.insert(
        "@timestamp".into(),
        Value::String(crate::time::format_rfc3339_ms(ms)),
    );
}

fn nginx(line: &str) -> Result<Map<String, Value>, &'static str> {
    let date = line.get(..19).ok_or("too short for an nginx error line")?;
    if line.as_bytes().get(4) != Some(&b'/') || line.as_bytes().get(19) != Some(&b' ') {
        return Err("not an nginx error line");
    }
    let ms = parse_time_any(date).ok_or("the time cannot be read")?;
    let rest = line[20..].strip_prefix('[').ok_or("no [level]")?;
    let (level, rest) = rest.split_once("] ").ok_or("no [level]")?;
    if level.is_empty() || !level.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err("the level is not a word");
    }
    // `pid#tid: ` then an optional `*connection `.
    let (pid, rest) = rest.split_once(": ").ok_or("no pid#tid")?;
    let pid = pid.split('#').next().unwrap_or("");
    let rest = match rest.strip_prefix('*') {
        Some(r) => r.split_once(' ').map_or(r, |(_, m)| m),
        None => rest,
    };
    let mut m = Map::new();
    stamp(&mut m, ms);
    m.insert("log.level".into(), Value::String(level.to_string()));
    if let Ok(p) = pid.parse::<u64>() {
        m.insert("process.pid".into(), Value::from(p));
    }
    // The context nginx appends: `, client: …, server: …, request: "…", host: "…"`.
    let (message, context) = match rest.find(", client: ") {
        Some(i) => (&rest[..i], &rest[i + 2..]),
        None => (rest, ""),
    };
    m.insert("message".into(), Value::String(message.to_string()));
    for (k, v) in context_pairs(context) {
        match k {
            "client" => set_address(&mut m, "source", v),
            "server" => {
                m.insert("url.domain".into(), Value::String(v.to_string()));
            }
            "request" => set_request_line(&mut m, v),
            "host" => {
                let (h, _) = split_addr_port(v);
                m.insert("url.domain".into(), Value::String(h.to_string()));
            }
            "referrer" => {
                m.insert("http.request.referrer".into(), Value::String(v.to_string()));
            }
            "upstream" => {
                m.insert("labels.upstream".into(), Value::String(v.to_string()));
            }
            _ => {}
        }
    }
    // Mail proxy and stream lines: `client 1.2.3.4:5678 connected to …`, `client: 1.2.3.4`.
    if !m.contains_key("source.ip") {
        if let Some(ip) = after_word(message, "client ").or_else(|| after_word(message, "client: "))
        {
            let (a, _) = split_addr_port(ip.trim_end_matches(','));
            if a.parse::<std::net::IpAddr>().is_ok() {
                set_address(&mut m, "source", a);
            }
        }
    }
    if let Some(user) = quoted_after(message, "user \"") {
        m.insert("user.name".into(), Value::String(user.to_string()));
    }
    Ok(m)
}

/// `client: 1.2.3.4, server: x, request: "GET / HTTP/1.1", host: "x"`.
fn context_pairs(s: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some((k, after)) = rest.split_once(": ") {
        let k = k.trim_start_matches(", ").trim();
        let (v, next) = if let Some(q) = after.strip_prefix('"') {
            match q.find("\", ").or_else(|| q.rfind('"')) {
                Some(i) => (&q[..i], &q[(i + 1).min(q.len())..]),
                None => (q, ""),
            }
        } else {
            match after.find(", ") {
                Some(i) => (&after[..i], &after[i..]),
                None => (after, ""),
            }
        };
        out.push((k, v));
        rest = next;
        if out.len() > 16 {
            break;
        }
    }
    out
}

fn after_word<'a>(s: &'a str, word: &str) -> Option<&'a str> {
    let i = s.find(word)?;
    s[i + word.len()..].split([' ', ',']).next()
}

fn quoted_after<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let i = s.find(prefix)?;
    let rest = &s[i + prefix.len()..];
    rest.split_once('"').map(|(v, _)| v)
}

fn apache(line: &str) -> Result<Map<String, Value>, &'static str> {
    let rest = line.strip_prefix('[').ok_or("not an Apache error line")?;
    let (time, mut rest) = rest.split_once("] ").ok_or("no [time]")?;
    let ms = parse_time_any(time).ok_or("the time cannot be read")?;
    let mut m = Map::new();
    stamp(&mut m, ms);
    // Bracketed fields in any order: [module:level] [pid N:tid M] [client ip:port].
    while let Some(r) = rest.strip_prefix('[') {
        let Some((field, after)) = r.split_once("] ") else {
            break;
        };
        if let Some(c) = field.strip_prefix("client ") {
            let (a, port) = split_addr_port(c);
            set_address(&mut m, "source", a);
            if let Some(p) = port {
                m.insert("source.port".into(), Value::from(p));
            }
        } else if let Some(p) = field.strip_prefix("pid ") {
            if let Ok(p) = p.split(':').next().unwrap_or("").parse::<u64>() {
                m.insert("process.pid".into(), Value::from(p));
            }
        } else if let Some((module, level)) = field.split_once(':') {
            m.insert("log.level".into(), Value::String(level.to_string()));
            m.insert("log.logger".into(), Value::String(module.to_string()));
        } else if m.get("log.level").is_none() {
            m.insert("log.level".into(), Value::String(field.to_string()));
        }
        rest = after;
    }
    if !m.contains_key("log.level") {
        return Err("no [module:level] field");
    }
    let message = rest.trim_end();
    m.insert("message".into(), Value::String(message.to_string()));
    if let Some((code, _)) = message.split_once(": ") {
        if code.starts_with("AH") && code[2..].bytes().all(|b| b.is_ascii_digit()) {
            m.insert("error.code".into(), Value::String(code.to_string()));
        }
    }
    // The request or file the message is about, so URL rules see it.
    if let Some(i) = message.find(" request ") {
        set_request_line(&mut m, message[i + " request ".len()..].trim());
    } else if let Some(i) = message.find("configuration: ") {
        let path = message[i + "configuration: ".len()..].trim();
        m.insert("file.path".into(), Value::String(path.to_string()));
    }
    if let Some(r) = quoted_after(message, "referer: ") {
        m.insert("http.request.referrer".into(), Value::String(r.to_string()));
    }
    Ok(m)
}

fn litespeed(line: &str) -> Result<Map<String, Value>, &'static str> {
    let date = line.get(..26).ok_or("too short for a LiteSpeed line")?;
    if line.as_bytes().get(4) != Some(&b'-') || line.as_bytes().get(10) != Some(&b' ') {
        return Err("not a LiteSpeed line");
    }
    let (date, rest) = match line.get(19..20) {
        Some(".") => (date, &line[26..]),
        _ => (
            line.get(..19).ok_or("not a LiteSpeed line")?,
            line.get(19..).ok_or("not a LiteSpeed line")?,
        ),
    };
    let ms = parse_time_any(date).ok_or("the time cannot be read")?;
    let mut rest = rest.trim_start();
    let mut m = Map::new();
    stamp(&mut m, ms);
    let mut n = 0;
    while let Some(r) = rest.strip_prefix('[') {
        let Some((field, after)) = r.split_once("] ") else {
            break;
        };
        match n {
            0 => {
                m.insert(
                    "log.level".into(),
                    Value::String(field.to_ascii_lowercase()),
                );
            }
            1 => {
                if let Ok(p) = field.parse::<u64>() {
                    m.insert("process.pid".into(), Value::from(p));
                }
            }
            _ => {
                // `[1.2.3.4:45164:HTTP2-41#_AdminVHost]`: the client and the vhost.
                let mut parts = field.splitn(3, ':');
                if let (Some(ip), Some(port)) = (parts.next(), parts.next()) {
                    if ip.parse::<std::net::IpAddr>().is_ok() {
                        set_address(&mut m, "source", ip);
                        if let Ok(p) = port.parse::<u16>() {
                            m.insert("source.port".into(), Value::from(p));
                        }
                    }
                }
            }
        }
        n += 1;
        rest = after;
    }
    if n == 0 {
        return Err("no [level]");
    }
    m.insert("message".into(), Value::String(rest.trim_end().to_string()));
    if let Some(u) = after_word(rest, "username:") {
        if !u.is_empty() {
            m.insert("user.name".into(), Value::String(u.to_string()));
        }
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nginx_basic_auth_failure() {
        let m = parse_error_line(
            ErrorLogKind::Nginx,
            r#"2021/09/30 09:23:53 [error] 1925800#1925800: *17 user "foo" was not found in "/tmp/a.htpasswd", client: 127.0.0.1, server: localhost, request: "GET / HTTP/1.1", host: "localhost:8080""#,
        )
        .unwrap();
        assert_eq!(m["source.ip"], "127.0.0.1");
        assert_eq!(m["user.name"], "foo");
        assert_eq!(m["url.original"], "/");
        assert_eq!(m["url.domain"], "localhost");
        assert_eq!(m["log.level"], "error");
    }

    #[test]
    fn apache_invalid_uri() {
        let m = parse_error_line(
            ErrorLogKind::Apache,
            "[Fri Oct 08 17:08:41.203277 2021] [core:error] [pid 7005:tid 1406] [client 88.168.206.87:14532] AH00126: Invalid URI in request GET /cgi-bin/.%2E/%2E%2E/etc/passwd HTTP/1.1",
        )
        .unwrap();
        assert_eq!(m["source.ip"], "88.168.206.87");
        assert_eq!(m["url.path"], "/cgi-bin/.%2E/%2E%2E/etc/passwd");
        assert_eq!(m["error.code"], "AH00126");
        assert_eq!(m["@timestamp"], "2021-10-08T17:08:41.203Z");
    }

    #[test]
    fn litespeed_admin_login() {
        let m = parse_error_line(
            ErrorLogKind::LiteSpeed,
            "2022-06-08 22:49:20.774649 [NOTICE] [1226033] [42.42.42.42:45164:HTTP2-41#_AdminVHost] [STDERR] [WebAdmin Console] Failed Login Attempt - username:asdasd ip:42.42.42.42 url:",
        )
        .unwrap();
        assert_eq!(m["source.ip"], "42.42.42.42");
        assert_eq!(m["user.name"], "asdasd");
    }
}
