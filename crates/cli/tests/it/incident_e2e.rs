//! Issue 4's end-to-end story with the real binary: an alert auto-opens an incident
//! with playbook tasks, containment runs, evidence is added and exported, and the
//! review renders with the right times.

use crate::common::*;
use serde_json::json;

#[test]
fn alert_to_review() {
    let (t, dir) = tempdir();
    let d = dir.to_str().unwrap().to_owned();
    let admin = init(&dir);
    let server = Server::start(&dir, &[], &[]);
    let ingest = create_key(server.addr, &admin, &["events:write"]);
    let ir = create_key(server.addr, &admin, &["incidents:*", "vault:lockdown"]);
    // SQL injection on the storefront (high, attack.t1190: routed to the SQLi playbook).
    let attack = json!({"@timestamp": "2026-11-20T10:00:00Z", "source.ip": "203.0.113.9", "http.request.method": "GET",
                        "url.original": "/products?id=1' UNION SELECT email,password FROM customers--",
                        "http.response.status_code": 200, "user_agent.original": "sqlmap/1.8"});
    let body = format!("{attack}\n");
    let posted = http_raw(
        server.addr,
        "POST",
        "/v1/events",
        Some(&ingest),
        &[],
        Some(body.into_bytes()),
    )
    .unwrap();
    assert_eq!(posted.status, 202);

    let (_, v) = http(server.addr, "GET", "/v1/incidents", Some(&ir), &[], None).unwrap();
    let inc = v["items"][0].clone();
    assert_eq!(
        inc["classification"], "sql_injection_exfiltration",
        "auto-opened: {v}"
    );
    let (_, rec) = http(server.addr, "GET", "/v1/incidents/1", Some(&ir), &[], None).unwrap();
    assert!(
        rec["tasks"].as_array().unwrap().len() >= 3,
        "playbook tasks: {rec}"
    );

    // Containment through the API: lockdown, recorded.
    let (s, v) = http(server.addr, "POST", "/v1/incidents/1/containment", Some(&ir), &[],
                      Some(&json!({"action": {"kind": "vault_lockdown"}, "reason": "stop further reads while we investigate"}))).unwrap();
    assert_eq!((s, v["succeeded"].clone()), (200, json!(true)), "{v}");
    let (s, _) = http(
        server.addr,
        "POST",
        "/v1/incidents/1/advance",
        Some(&ir),
        &[],
        Some(&json!({"phase": "contained"})),
    )
    .unwrap();
    assert_eq!(s, 200);
    drop(server);

    // Evidence from the shell, sealed and verified.
    let log = t.path().join("access.log");
    std::fs::write(&log, "203.0.113.9 - - [20/Nov/2026:10:00:00 +0000] \"GET /products?id=1%27%20UNION HTTP/1.1\" 200 1 \"-\" \"sqlmap/1.8\"\n").unwrap();
    assert!(run(&[
        "evidence",
        "add",
        "--data-dir",
        &d,
        "--incident",
        "1",
        log.to_str().unwrap(),
        "--source",
        "web-01"
    ])
    .status
    .success());
    let bundle = t.path().join("bundle");
    let o = run(&[
        "evidence",
        "export",
        "--data-dir",
        &d,
        "--incident",
        "1",
        "-o",
        bundle.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let key = stdout(&o)
        .split("--public-key ")
        .nth(1)
        .unwrap()
        .trim()
        .to_owned();
    assert!(run(&[
        "evidence",
        "verify",
        bundle.to_str().unwrap(),
        "--public-key",
        &key
    ])
    .status
    .success());

    // The review: awareness is when the alert opened the incident; contained is after it.
    let o = run(&["incident", "report", "--data-dir", &d, "1"]);
    let report = stdout(&o);
    assert!(report.contains("Time to contain"), "{report}");
    let rec: serde_json::Value =
        serde_json::from_slice(&run(&["incident", "show", "--data-dir", &d, "1", "--json"]).stdout)
            .unwrap();
    let aware = rec["incident"]["aware_at"].as_str().unwrap().to_owned();
    assert!(
        report.contains(&aware[..16].replace('T', " ")),
        "aware_at {aware} in the report:\n{report}"
    );
    let timeline = rec["timeline"].to_string();
    for needle in ["opened", "succeeded", "contained"] {
        assert!(
            timeline.contains(needle),
            "{needle} on the timeline: {timeline}"
        );
    }
    assert!(run(&["ledger", "verify", "--data-dir", &d])
        .status
        .success());
}
