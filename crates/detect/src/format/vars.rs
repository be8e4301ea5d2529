//! What each log-format variable means in ECS terms, and how its text becomes
//! event fields. One vocabulary serves nginx variables, Apache directives,
//! the presets and JSON logs keyed by nginx variable names.

use crate::event::FieldSink;

use super::template::ApacheOut;
use super::timestamps::parse_time_any;

/// Which side of a connection an `address:port` field describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Source,
    Destination,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Var {
    RemoteAddr,
    AddrPort(Side),
    ServerAddr,
    RemoteUser,
    Time,
    Request,
    Method,
    RequestUri,
    Uri,
    Args,
    Protocol,
    Status,
    BodyBytes,
    Bytes,
    RequestLength,
    Referer,
    UserAgent,
    Host,
    ServerPort,
    RequestTimeSecs,
    RequestTimeMicros,
    RequestTimeMillis,
    RequestId,
    ForwardedFor,
    Scheme,
    Header(String),
    /// Free text: `message`.
    Message,
    /// Read and dropped (the `ident` field, a second copy of the time…).
    Ignore(String),
    /// Kept under `labels.<name>`.
    Other(String),
}

impl Var {
    /// An nginx variable (also the key names of nginx JSON logs).
    pub fn from_nginx(name: &str) -> Var {
        match name {
            "remote_addr" | "realip_remote_addr" | "binary_remote_addr" | "client_ip" => {
                Var::RemoteAddr
            }
            "client_addr_port" => Var::AddrPort(Side::Source),
            "target_addr_port" | "upstream_addr" => Var::AddrPort(Side::Destination),
            "server_addr" => Var::ServerAddr,
            "remote_user" => Var::RemoteUser,
            "time_local" | "time_iso8601" | "msec" | "time" | "timestamp" => Var::Time,
            "request" => Var::Request,
            "request_method" => Var::Method,
            "request_uri" => Var::RequestUri,
            "uri" | "document_uri" => Var::Uri,
            "args" | "query_string" => Var::Args,
            "server_protocol" => Var::Protocol,
            "status" => Var::Status,
            "body_bytes_sent" => Var::BodyBytes,
            "bytes_sent" => Var::Bytes,
            "request_length" => Var::RequestLength,
            "http_referer" | "http_referrer" => Var::Referer,
            "http_user_agent" => Var::UserAgent,
            "host" | "server_name" | "http_host" | "hostname_vhost" => Var::Host,
            "server_port" => Var::ServerPort,
            "request_time" => Var::RequestTimeSecs,
            "request_id" => Var::RequestId,
            "http_x_forwarded_for" | "proxy_add_x_forwarded_for" => Var::ForwardedFor,
            "scheme" => Var::Scheme,
            "message" | "msg" => Var::Message,
            n if n.starts_with('_') || n == "ident" || n == "remote_ident" => {
                Var::Ignore(n.to_string())
            }
            n if n.starts_with("http_") => Var::Header(n["http_".len()..].replace('_', "-")),
            n => Var::Other(n.to_string()),
        }
    }

    /// An Apache `LogFormat` directive: its letter and `{argument}`.
    pub(crate) fn from_apache(letter: char, arg: Option<&str>) -> Option<ApacheOut> {
        let v = match (letter, arg) {
            ('h', _) | ('a', _) => Var::RemoteAddr,
            ('A', _) => Var::ServerAddr,
            ('l', _) => Var::Ignore("ident".into()),
            ('u', _) => Var::RemoteUser,
            ('t', None) => return Some(ApacheOut::Bracketed(Var::Time)),
            ('t', Some(_)) => Var::Time,
            ('r', _) => Var::Request,
            ('s', _) => Var::Status,
            ('b', _) | ('B', _) => Var::BodyBytes,
            ('O', _) => Var::Bytes,
            ('I', _) => Var::RequestLength,
            ('S', _) => Var::Other("bytes_transferred".into()),
            ('i', Some(h)) if h.eq_ignore_ascii_case("referer") => Var::Referer,
            ('i', Some(h)) if h.eq_ignore_ascii_case("user-agent") => Var::UserAgent,
            ('i', Some(h)) if h.eq_ignore_ascii_case("x-forwarded-for") => Var::ForwardedFor,
            ('i', Some(h)) => Var::Header(h.to_ascii_lowercase()),
            ('v', _) | ('V', _) => Var::Host,
            ('p', _) => Var::ServerPort,
            ('D', _) => Var::RequestTimeMicros,
            ('T', Some("ms")) => Var::RequestTimeMillis,
            ('T', Some("us")) => Var::RequestTimeMicros,
            ('T', _) => Var::RequestTimeSecs,
            ('U', _) => Var::Uri,
            ('q', _) => Var::Args,
            ('m', _) => Var::Method,
            ('H', _) => Var::Protocol,
            ('L', _) => Var::RequestId,
            ('e', Some(n)) | ('n', Some(n)) | ('o', Some(n)) | ('C', Some(n)) | ('x', Some(n)) => {
                Var::Other(n.to_ascii_lowercase())
            }
            ('P', _) => Var::Other("pid".into()),
            ('k', _) => Var::Other("keepalive".into()),
            ('X', _) => Var::Other("connection_status".into()),
            ('f', _) => Var::Other("file".into()),
            ('R', _) => Var::Other("handler".into()),
            ('^', Some(n)) => Var::Other(n.to_ascii_lowercase()),
            _ => return None,
        };
        Some(ApacheOut::Var(v))
    }

    pub fn name(&self) -> String {
        match self {
            Var::RemoteAddr => "remote_addr".into(),
            Var::AddrPort(Side::Source) => "client_addr_port".into(),
            Var::AddrPort(Side::Destination) => "target_addr_port".into(),
            Var::ServerAddr => "server_addr".into(),
            Var::RemoteUser => "remote_user".into(),
            Var::Time => "time".into(),
            Var::Request => "request".into(),
            Var::Method => "request_method".into(),
            Var::RequestUri => "request_uri".into(),
            Var::Uri => "uri".into(),
            Var::Args => "args".into(),
            Var::Protocol => "server_protocol".into(),
            Var::Status => "status".into(),
            Var::BodyBytes => "body_bytes_sent".into(),
            Var::Bytes => "bytes_sent".into(),
            Var::RequestLength => "request_length".into(),
            Var::Referer => "http_referer".into(),
            Var::UserAgent => "http_user_agent".into(),
            Var::Host => "host".into(),
            Var::ServerPort => "server_port".into(),
            Var::RequestTimeSecs => "request_time".into(),
            Var::RequestTimeMicros => "request_time_us".into(),
            Var::RequestTimeMillis => "request_time_ms".into(),
            Var::RequestId => "request_id".into(),
            Var::ForwardedFor => "http_x_forwarded_for".into(),
            Var::Scheme => "scheme".into(),
            Var::Header(h) => format!("http_{}", h.replace('-', "_")),
            Var::Message => "message".into(),
            Var::Ignore(n) | Var::Other(n) => n.clone(),
        }
    }

    /// Free text may hold spaces: at the end of a format it takes the rest of the line.
    pub fn is_free_text(&self) -> bool {
        matches!(
            self,
            Var::Request
                | Var::Referer
                | Var::UserAgent
                | Var::Header(_)
                | Var::Other(_)
                | Var::Message
        )
    }

    /// Writes the variable's fields into `m`; an error names what did not parse.
    pub fn apply<S: FieldSink + ?Sized>(&self, text: &str, m: &mut S) -> Result<(), &'static str> {
        let dash = text.is_empty() || text == "-";
        match self {
            Var::RemoteAddr => {
                if dash {
                    return Err("the client address is missing");
                }
                if text.contains(char::is_whitespace) {
                    return Err("the client address holds spaces");
                }
                set_address(m, "source", text);
            }
            Var::AddrPort(side) if !dash => {
                let prefix = match side {
                    Side::Source => "source",
                    Side::Destination => "destination",
                };
                let (addr, port) = split_addr_port(text);
                if addr.is_empty() {
                    return Err("an address:port field is malformed");
                }
                set_address(m, prefix, addr);
                if let Some(p) = port {
                    let key = match side {
                        Side::Source => "source.port",
                        Side::Destination => "destination.port",
                    };
                    m.put_u64(key, u64::from(p));
                }
            }
            Var::ServerAddr if !dash => set_address(m, "destination", text),
            Var::RemoteUser if !dash => m.put_str("user.name", text),
            Var::Time => {
                let ms = parse_time_any(text).ok_or("the time field cannot be read")?;
                m.put_str("@timestamp", &crate::time::format_rfc3339_ms(ms));
            }
            Var::Request => set_request_line(m, text),
            Var::Method if !dash => m.put_str("http.request.method", text),
            Var::RequestUri if !dash => set_target(m, text),
            Var::Uri if !dash => m.put_str("url.path", text),
            Var::Args => {
                let q = text.strip_prefix('?').unwrap_or(text);
                if !(q.is_empty() || q == "-") {
                    m.put_str("url.query", q);
                }
            }
            Var::Protocol if !dash => {
                let v = text.strip_prefix("HTTP/").unwrap_or(text);
                m.put_str("http.version", v);
            }
            Var::Status if !dash => {
                let n: u16 = text.parse().map_err(|_| "the status is not a number")?;
                if !(100..=999).contains(&n) && n != 0 {
                    return Err("the status is not an HTTP status");
                }
                m.put_u64("http.response.status_code", u64::from(n));
            }
            Var::BodyBytes => number(m, "http.response.body.bytes", text)?,
            Var::Bytes => number(m, "http.response.bytes", text)?,
            Var::RequestLength => number(m, "http.request.bytes", text)?,
            Var::Referer if !dash => m.put_str("http.request.referrer", text),
            Var::UserAgent if !dash => m.put_str("user_agent.original", text),
            Var::Host if !dash => {
                let (host, port) = split_addr_port(text);
                m.put_str("url.domain", host);
                if let Some(p) = port {
                    m.put_u64("url.port", u64::from(p));
                }
            }
            Var::ServerPort if !dash => {
                if let Ok(p) = text.parse::<u16>() {
                    m.put_u64("destination.port", u64::from(p));
                }
            }
            Var::RequestTimeSecs => duration(m, text, 1e9)?,
            Var::RequestTimeMillis => duration(m, text.trim_end_matches("ms"), 1e6)?,
            Var::RequestTimeMicros => duration(m, text, 1e3)?,
            Var::RequestId if !dash => m.put_str("http.request.id", text),
            Var::ForwardedFor if !dash => {
                let first = text.split(',').next().unwrap_or("").trim();
                if !first.is_empty() {
                    m.put_str("network.forwarded_ip", unmap_ip(first));
                }
            }
            Var::Scheme if !dash => m.put_str("url.scheme", text),
            Var::Header(h) if !dash => m.put_str(&format!("http.request.headers.{h}"), text),
            Var::Message if !dash => m.put_str("message", text),
            Var::Other(n) if !dash => m.put_str(&format!("labels.{n}"), text),
            _ => {}
        }
        Ok(())
    }
}

/// `::ffff:1.2.3.4` is an IPv4 client seen on an IPv6 socket: rules and CIDR
/// lists speak of `1.2.3.4`.
pub fn unmap_ip(s: &str) -> &str {
    let t = s.trim_start_matches('[').trim_end_matches(']');
    match t.get(..7) {
        Some(p)
            if p.eq_ignore_ascii_case("::ffff:")
                && t[7..].parse::<std::net::Ipv4Addr>().is_ok() =>
        {
            &t[7..]
        }
        _ => t,
    }
}

pub(crate) fn set_address<S: FieldSink + ?Sized>(m: &mut S, prefix: &str, text: &str) {
    let ip = unmap_ip(text);
    let is_ip = ip.parse::<std::net::IpAddr>().is_ok();
    match (prefix, is_ip) {
        ("source", true) => m.put_str("source.ip", ip),
        ("source", false) => m.put_str("source.address", text),
        ("destination", true) => m.put_str("destination.ip", ip),
        ("destination", false) => m.put_str("destination.address", text),
        (_, true) => m.put_str(&format!("{prefix}.ip"), ip),
        (_, false) => m.put_str(&format!("{prefix}.address"), text),
    }
}

/// `1.2.3.4:80`, `[2001:db8::1]:443`, `2001:db8::1` (no port), `host:8080`.
pub fn split_addr_port(s: &str) -> (&str, Option<u16>) {
    if let Some(rest) = s.strip_prefix('[') {
        if let Some((a, p)) = rest.split_once("]:") {
            return (a, p.parse().ok());
        }
        return (rest.trim_end_matches(']'), None);
    }
    if s.parse::<std::net::IpAddr>().is_ok() {
        return (s, None);
    }
    match s.rsplit_once(':') {
        Some((a, p)) if !a.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty() => {
            // `::ffff:1.2.3.4:80` and IPv6 with a port but no brackets (HAProxy).
            (a, p.parse().ok())
        }
        _ => (s, None),
    }
}

fn number<S: FieldSink + ?Sized>(m: &mut S, key: &str, text: &str) -> Result<(), &'static str> {
    if text.is_empty() || text == "-" {
        return Ok(());
    }
    let n: u64 = text.parse().map_err(|_| "a byte count is not a number")?;
    m.put_u64(key, n);
    Ok(())
}

fn duration<S: FieldSink + ?Sized>(
    m: &mut S,
    text: &str,
    ns_per_unit: f64,
) -> Result<(), &'static str> {
    if text.is_empty() || text == "-" {
        return Ok(());
    }
    let x: f64 = text.parse().map_err(|_| "a duration is not a number")?;
    if x.is_finite() && x >= 0.0 {
        m.put_u64("event.duration", (x * ns_per_unit) as u64);
    }
    Ok(())
}

/// `GET /path?q HTTP/1.1`; anything else (probes, TLS bytes on a plain port) is
/// kept whole in `url.original`, because such requests are often what rules seek.
pub fn set_request_line<S: FieldSink + ?Sized>(m: &mut S, request: &str) {
    let mut parts = request.splitn(3, ' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(method), Some(target), Some(proto)) if proto.starts_with("HTTP/") => {
            m.put_str("http.request.method", method);
            set_target(m, target);
            m.put_str("http.version", proto["HTTP/".len()..].trim());
        }
        (Some(method), Some(target), None)
            if method.bytes().all(|b| b.is_ascii_uppercase()) && !method.is_empty() =>
        {
            // HTTP/0.9 style, or a proxy log without the version.
            m.put_str("http.request.method", method);
            set_target(m, target);
        }
        _ if request == "-" || request.is_empty() => {}
        _ => {
            m.put_str("url.original", request);
        }
    }
}

/// A request target: `url.original`, and its path and query. An absolute URL
/// (proxies, load balancers) also gives the scheme, domain and port.
pub fn set_target<S: FieldSink + ?Sized>(m: &mut S, target: &str) {
    m.put_str("url.original", target);
    let mut rest = target;
    if let Some((scheme, after)) = target.split_once("://") {
        if !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphabetic()) {
            let (authority, path) = match after.find('/') {
                Some(i) => (&after[..i], &after[i..]),
                None => (after, "/"),
            };
            m.put_str("url.scheme", &scheme.to_ascii_lowercase());
            let (host, port) = split_addr_port(authority);
            m.put_str("url.domain", host);
            if let Some(p) = port {
                m.put_u64("url.port", u64::from(p));
            }
            rest = path;
        }
    }
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    m.put_str("url.path", path);
    if let Some(q) = query {
        m.put_str("url.query", q);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    #[test]
    fn addresses() {
        assert_eq!(unmap_ip("::ffff:10.0.0.1"), "10.0.0.1");
        assert_eq!(unmap_ip("::1"), "::1");
        assert_eq!(split_addr_port("1.2.3.4:80"), ("1.2.3.4", Some(80)));
        assert_eq!(
            split_addr_port("[2001:db8::1]:443"),
            ("2001:db8::1", Some(443))
        );
        assert_eq!(split_addr_port("2001:db8::1"), ("2001:db8::1", None));
        assert_eq!(
            split_addr_port("shop.example:8443"),
            ("shop.example", Some(8443))
        );
    }

    #[test]
    fn dash_numbers_are_absent_and_bad_numbers_refused() {
        let mut m = Map::new();
        Var::Status.apply("-", &mut m).unwrap();
        Var::BodyBytes.apply("-", &mut m).unwrap();
        assert!(m.is_empty());
        assert!(Var::Status.apply("abc", &mut m).is_err());
        assert!(Var::BodyBytes.apply("12x", &mut m).is_err());
    }

    #[test]
    fn absolute_targets_split() {
        let mut m = Map::new();
        set_request_line(
            &mut m,
            "GET https://www.example.com:443/robots.txt?a=1 HTTP/1.1",
        );
        assert_eq!(m["url.domain"], "www.example.com");
        assert_eq!(m["url.port"], 443);
        assert_eq!(m["url.path"], "/robots.txt");
        assert_eq!(m["url.query"], "a=1");
        assert_eq!(m["http.version"], "1.1");
    }
}
