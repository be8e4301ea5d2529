//! Canary PII written through every path never shows up in the server's output.

use crate::common::*;
use serde_json::json;

#[test]
fn no_pii_in_server_logs() {
    let (_t, dir) = tempdir();
    let admin = init(&dir);
    let mut server = Server::start(&dir, &[], &[("BULWARK_LOG", "debug")]);
    let key = create_key(
        server.addr,
        &admin,
        &["vault:write", "vault:lookup", "vault:reveal:*"],
    );
    let a = server.addr;
    let canaries = [
        "canary.mail@example.com",
        "Canaryname Zqxj",
        "4012888888881881",
        "+15550109999",
        "CanaryStreet 77",
    ];
    let (s, v) = http(a, "POST", "/v1/customers", Some(&key), &[], Some(&json!({
        "external_id": "canary-ext-991",
        "residency": {"country": "US", "subdivision": "US-TX"},
        "fields": {"email": canaries[0], "name": canaries[1], "card_number": canaries[2], "phone": canaries[3], "postal_address": canaries[4]}}))).unwrap();
    assert_eq!(s, 201);
    let id = v["id"].as_str().unwrap();
    let (s, v) = http(
        a,
        "GET",
        &format!("/v1/customers/{id}?fields=email,name,card_number,phone,postal_address"),
        Some(&key),
        &[("X-Bulwark-Purpose", "log test")],
        None,
    )
    .unwrap();
    assert_eq!(
        (s, v["fields"]["card_number"].as_str()),
        (200, Some(canaries[2]))
    );
    let (s, _) = http(
        a,
        "GET",
        &format!("/v1/customers?email={}", canaries[0]),
        Some(&key),
        &[],
        None,
    )
    .unwrap();
    assert_eq!(s, 200);
    // Bad input carrying the canaries: errors name fields, never values.
    let (s, v) = http(a, "POST", "/v1/customers", Some(&key), &[], Some(&json!({"residency": {"country": "US"}, "fields": {"email": "canary.bad@", "card_number": "4012888888881882"}}))).unwrap();
    assert_eq!(s, 400);
    assert!(!v.to_string().contains("4012888888881882") && !v.to_string().contains("canary.bad@"));
    let (s, _) = http(
        a,
        "POST",
        "/v1/customers",
        Some(&key),
        &[],
        Some(&json!({"residency": "canary.res@example.com"})),
    )
    .unwrap();
    assert_eq!(s, 400);
    let (s, _) = http(
        a,
        "PATCH",
        &format!("/v1/customers/{id}"),
        Some(&key),
        &[],
        Some(&json!({"fields": {"name": "Canaryname Patched"}})),
    )
    .unwrap();
    assert_eq!(s, 204);
    let (s, _) = http(
        a,
        "DELETE",
        &format!("/v1/customers/{id}"),
        Some(&key),
        &[],
        None,
    )
    .unwrap();
    assert_eq!(s, 204);
    server.stop();
    let out = server.output();
    assert!(
        out.contains("route=\"/v1/customers/{id}\""),
        "request lines are logged:\n{out}"
    );
    for c in canaries.iter().chain(&[
        "canary-ext-991",
        "canary.bad@",
        "4012888888881882",
        "canary.res@example.com",
        "Canaryname Patched",
    ]) {
        assert!(
            !out.contains(c),
            "server output contains PII canary {c}:\n{out}"
        );
    }
    assert!(
        !out.contains(&key[4..]),
        "server output contains an API key secret"
    );
}
