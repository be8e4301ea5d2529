//! Live detection: events posted to the API and the vault's own reveals become alerts.

use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::json;

fn post_lines(addr: std::net::SocketAddr, key: &str, body: &str) -> (u16, serde_json::Value) {
    post_to(addr, key, "/v1/events", body)
}

fn post_to(
    addr: std::net::SocketAddr,
    key: &str,
    path: &str,
    body: &str,
) -> (u16, serde_json::Value) {
    let r = http_raw(
        addr,
        "POST",
        path,
        Some(key),
        &[("Content-Type", "application/x-ndjson")],
        Some(body.as_bytes().to_vec()),
    )
    .unwrap();
    (r.status, r.json)
}

fn wait_for_alert(addr: std::net::SocketAddr, key: &str, title: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, v) = http(addr, "GET", "/v1/alerts?limit=1000", Some(key), &[], None).unwrap();
        if let Some(a) = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["rule_title"].as_str().unwrap_or("").contains(title))
        {
            return a.clone();
        }
        assert!(Instant::now() < deadline, "no `{title}` alert: {v}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn posted_events_become_deduplicated_alerts() {
    let (_t, dir) = tempdir();
    let admin = init(&dir);
    let server = Server::start(&dir, &[], &[]);
    let ingest = create_key(server.addr, &admin, &["events:write"]);
    let reader = create_key(server.addr, &admin, &["alerts:read"]);
    let sqli = json!({"@timestamp": "2026-11-20T10:00:00Z", "source.ip": "203.0.113.9", "http.request.method": "GET",
                      "url.original": "/products?id=1' UNION SELECT password FROM users--", "http.response.status_code": 200,
                      "user_agent.original": "Mozilla/5.0"});
    let benign = json!({"@timestamp": "2026-11-20T10:00:01Z", "source.ip": "198.51.100.4", "http.request.method": "GET",
                        "url.original": "/cart", "http.response.status_code": 200, "user_agent.original": "Mozilla/5.0"});
    let body = format!("{sqli}\n{{not json\n{benign}\n");
    let (s, v) = post_lines(server.addr, &ingest, &body);
    assert_eq!(s, 202, "{v}");
    assert_eq!(v["accepted"], 2);
    assert_eq!(v["malformed"][0]["line"], 2, "{v}");
    assert!(v["detections"].as_u64().unwrap() >= 1);
    assert_eq!(
        v["new_alerts"].as_array().unwrap().len() as u64,
        v["detections"].as_u64().unwrap()
    );
    let alert = wait_for_alert(server.addr, &reader, "SQL Injection");
    assert_eq!(alert["level"], "high");
    assert_eq!(alert["count"], 1);
    // The same attack again within the window folds into the same alert.
    let (_, v) = post_lines(server.addr, &ingest, &format!("{sqli}\n"));
    assert_eq!(v["new_alerts"], json!([]));
    let again = wait_for_alert(server.addr, &reader, "SQL Injection");
    assert_eq!(
        (again["id"].clone(), again["count"].clone()),
        (alert["id"].clone(), json!(2))
    );
    // Scopes hold: the reader cannot post, the poster cannot read.
    assert_eq!(
        post_lines(server.addr, &reader, &format!("{benign}\n")).0,
        403
    );
    assert_eq!(
        http(server.addr, "GET", "/v1/alerts", Some(&ingest), &[], None)
            .unwrap()
            .0,
        403
    );
    // And the CLI sees the alert.
    let o = run(&[
        "alerts",
        "--data-dir",
        dir.to_str().unwrap(),
        "--level",
        "high",
        "--json",
    ]);
    assert!(stdout(&o).contains("SQL Injection"), "{}", stderr(&o));

    // A high alert opened an incident with the matching playbook, and links to it.
    let ir = create_key(server.addr, &admin, &["incidents:read"]);
    let (_, v) = http(server.addr, "GET", "/v1/incidents", Some(&ir), &[], None).unwrap();
    let incidents = v["items"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "one incident for one attack: {v}");
    assert_eq!(incidents[0]["classification"], "sql_injection_exfiltration");
    let first = json!(format!("alert:{}", alert["id"]));
    assert!(
        incidents[0]["alerts"].as_array().unwrap().contains(&first),
        "{v}"
    );
    let (_, rec) = http(server.addr, "GET", "/v1/incidents/1", Some(&ir), &[], None).unwrap();
    assert!(
        !rec["tasks"].as_array().unwrap().is_empty(),
        "playbook tasks: {rec}"
    );
    // The same attack from the same source two hours later is a new alert (outside the
    // one-hour fold window) that attaches to the open incident instead of opening another.
    let later = json!({"@timestamp": "2026-11-20T12:05:00Z", "source.ip": "203.0.113.9", "http.request.method": "GET",
                       "url.original": "/products?id=1' UNION SELECT password FROM users--", "http.response.status_code": 200,
                       "user_agent.original": "Mozilla/5.0"});
    let (_, posted) = post_lines(server.addr, &ingest, &format!("{later}\n"));
    let second = posted["new_alerts"]
        .as_array()
        .unwrap()
        .first()
        .cloned()
        .expect("a new alert");
    let (_, v) = http(server.addr, "GET", "/v1/incidents", Some(&ir), &[], None).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 1, "{v}");
    let alerts = v["items"][0]["alerts"].as_array().unwrap();
    assert!(
        alerts.contains(&json!(format!("alert:{second}"))),
        "attached: {v}"
    );
}

/// Access-log lines posted as they are, with `?format=`: a preset, `auto`, or a
/// mapping file of the data directory; an unknown format is refused whole.
#[test]
fn posted_log_lines_are_read_in_the_format_named() {
    let (_t, dir) = tempdir();
    let admin = init(&dir);
    write_shop_json_mapping(&dir);
    let server = Server::start(&dir, &[], &[]);
    let key = create_key(server.addr, &admin, &["events:write"]);
    let combined = "203.0.113.9 - - [20/Nov/2026:10:00:00 +0000] \"GET /search?q=%3Cscript%3Ealert(1)%3C/script%3E HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0\"\n\
                    198.51.100.4 - - [20/Nov/2026:10:00:01 +0000] \"GET /cart HTTP/1.1\" 200 90 \"-\" \"Mozilla/5.0\"\n\
                    this is no access log line\n";
    for path in ["/v1/events?format=combined", "/v1/events?format=auto"] {
        let (s, v) = post_to(server.addr, &key, path, combined);
        assert_eq!(s, 202, "{path}: {v}");
        assert_eq!(v["accepted"], 2, "{path}: {v}");
        assert_eq!(v["malformed"][0]["line"], 3, "{path}: {v}");
        assert!(v["detections"].as_u64().unwrap() >= 1, "{path}: {v}");
    }
    // Without a format these are not JSON: nothing is analysed.
    let (s, v) = post_lines(server.addr, &key, combined);
    assert_eq!((s, v["accepted"].clone()), (202, json!(0)), "{v}");
    let own = "{\"client\":\"203.0.113.7\",\"uri\":\"/download?file=../../../../etc/passwd\"}\n";
    let (s, v) = post_to(server.addr, &key, "/v1/events?format=shop-json", own);
    assert_eq!((s, v["accepted"].clone()), (202, json!(1)), "{v}");
    assert!(v["detections"].as_u64().unwrap() >= 1, "{v}");
    let (s, v) = post_to(
        server.addr,
        &key,
        "/v1/events?format=no-such-format",
        combined,
    );
    assert_eq!(s, 400, "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains("no-such-format"),
        "{v}"
    );
}

#[test]
fn mass_reveals_raise_a_critical_alert() {
    let (_t, dir) = tempdir();
    let admin = init(&dir);
    let server = Server::start(&dir, &[], &[]);
    let thief = create_key(server.addr, &admin, &["vault:write", "vault:reveal:email"]);
    let reader = create_key(server.addr, &admin, &["alerts:read"]);
    let mut ids = Vec::new();
    for i in 0..20 {
        let (_, v) = http(server.addr, "POST", "/v1/customers", Some(&thief), &[], Some(&json!({"residency": {"country": "US"}, "fields": {"email": format!("m{i}@example.com")}}))).unwrap();
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    for i in 0..120 {
        let (s, _) = http(
            server.addr,
            "GET",
            &format!("/v1/customers/{}?fields=email", ids[i % ids.len()]),
            Some(&thief),
            &[("X-Bulwark-Purpose", "support")],
            None,
        )
        .unwrap();
        assert_eq!(s, 200);
    }
    let alert = wait_for_alert(server.addr, &reader, "Mass Vault Reveals");
    assert_eq!(alert["level"], "critical");
    assert_eq!(alert["source"], "vault");
    // Hunting the stored access log afterwards finds the same story.
    let o = run(&[
        "hunt",
        "--vault-access-log",
        "--data-dir",
        dir.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o)
            .lines()
            .any(|l| l.contains("Mass Vault Reveals") && l.contains("access_log_id")),
        "{}",
        stdout(&o)
    );
}

#[test]
fn rules_reload_picks_up_the_data_directorys_rules() {
    let (_t, dir) = tempdir();
    let admin = init(&dir);
    let server = Server::start(&dir, &[], &[]);
    let ingest = create_key(server.addr, &admin, &["events:write"]);
    let event = json!({"@timestamp": "2026-11-20T10:00:00Z", "event.action": "gift_card.bulk_issue", "user.name": "mallory"});
    let (_, v) = post_lines(server.addr, &ingest, &format!("{event}\n"));
    assert_eq!(v["detections"], 0);
    std::fs::create_dir_all(dir.join("rules")).unwrap();
    std::fs::write(
        dir.join("rules/gift_cards.yml"),
        "title: Bulk Gift Card Issue\nid: 5d3c1f7e-0000-4000-8000-000000000001\nlevel: high\nlogsource: {product: store}\ndetection:\n  sel: {event.action: gift_card.bulk_issue}\n  condition: sel\n",
    )
    .unwrap();
    let (s, v) = http(
        server.addr,
        "POST",
        "/v1/rules/reload",
        Some(&admin),
        &[],
        None,
    )
    .unwrap();
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["rejected"], json!([]));
    let (_, v) = post_lines(server.addr, &ingest, &format!("{event}\n"));
    assert_eq!(v["detections"], 1, "{v}");
}
