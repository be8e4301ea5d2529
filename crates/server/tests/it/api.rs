use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use bulwark_server::{router, AppState};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

struct Api {
    app: axum::Router,
    admin: String,
    _fixture: bulwark_testkit::StoreFixture,
}

/// Built on a plain thread: opening a store blocks, which a runtime thread must not.
fn api() -> Api {
    std::thread::spawn(make_api).join().unwrap()
}

fn make_api() -> Api {
    let f = bulwark_testkit::StoreFixture::new();
    Api {
        app: router(AppState::new(f.store.clone()).unwrap()),
        admin: f.admin_key.clone(),
        _fixture: f,
    }
}

impl Api {
    async fn call(
        &self,
        method: Method,
        uri: &str,
        key: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(k) = key {
            req = req.header("authorization", format!("Bearer {k}"));
        }
        for (h, v) in headers {
            req = req.header(*h, *v);
        }
        let req = req
            .body(
                body.map(|b| Body::from(b.to_string()))
                    .unwrap_or_else(Body::empty),
            )
            .unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let ct = res
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let v = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        if status.is_client_error() || status.is_server_error() {
            assert_eq!(
                ct.as_deref(),
                Some("application/problem+json"),
                "errors are problem details: {v}"
            );
        }
        (status, v)
    }

    async fn key(&self, scopes: &[&str]) -> (String, String) {
        let (s, v) = self
            .call(
                Method::POST,
                "/v1/keys",
                Some(&self.admin),
                &[],
                Some(json!({"name": "k", "scopes": scopes})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        (
            v["key"].as_str().unwrap().to_owned(),
            v["id"].as_str().unwrap().to_owned(),
        )
    }
}

const PURPOSE: (&str, &str) = ("x-bulwark-purpose", "order support");

#[tokio::test]
async fn reveal_scopes_purpose_and_access_log() {
    let api = api();
    let (writer, _) = api.key(&["vault:write"]).await;
    let (clerk, clerk_id) = api.key(&["vault:reveal:email", "vault:reveal:name"]).await;
    let (s, v) = api
        .call(Method::POST, "/v1/customers", Some(&writer), &[], Some(json!({
            "external_id": "c-1", "residency": {"country": "US", "subdivision": "US-CA"},
            "fields": {"email": "ada@example.com", "name": "Ada", "card_number": "4111 1111 1111 1111"}})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();

    let (s, v) = api
        .call(
            Method::GET,
            &format!("/v1/customers/{id}?fields=email,name"),
            Some(&clerk),
            &[PURPOSE],
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        v["fields"],
        json!({"email": "ada@example.com", "name": "Ada"})
    );

    let (s, v) = api
        .call(
            Method::GET,
            &format!("/v1/customers/{id}?fields=email,card_number"),
            Some(&clerk),
            &[PURPOSE],
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(v["refused_fields"], json!(["card_number"]));
    assert!(
        v.get("fields").is_none(),
        "nothing is revealed when any field is refused"
    );

    let (s, v) = api
        .call(
            Method::GET,
            &format!("/v1/customers/{id}?fields=email"),
            Some(&clerk),
            &[],
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["type"], "urn:bulwark:problem:purpose-required");

    let (s, _) = api
        .call(
            Method::GET,
            &format!("/v1/customers/{id}?fields=email"),
            Some(&writer),
            &[PURPOSE],
            None,
        )
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "vault:write does not imply reveal"
    );

    let (auditor, _) = api.key(&["audit:read"]).await;
    let (s, v) = api
        .call(
            Method::GET,
            &format!("/v1/access-log?principal=key:{clerk_id}"),
            Some(&auditor),
            &[],
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let outcomes: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["allowed", "denied", "denied"]);
    assert_eq!(v["items"][0]["purpose"], "order support");

    // Metadata shows the card's BIN and last four, never the number.
    let (reader, _) = api.key(&["vault:read"]).await;
    let (s, v) = api
        .call(
            Method::GET,
            &format!("/v1/customers/{id}"),
            Some(&reader),
            &[],
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["card"]["last4"], "1111");
    assert!(!v.to_string().contains("4111111111111111"));
}

#[tokio::test]
async fn bad_input_is_a_400_naming_the_field_and_writes_nothing() {
    let api = api();
    let (writer, _) = api.key(&["vault:write", "vault:read"]).await;
    let cases = [
        (
            json!({"residency": {"country": "US"}, "fields": {"card_number": "4111111111111112"}}),
            "fields.card_number",
        ),
        (json!({"residency": {"country": "ZZ"}}), "residency.country"),
        (
            json!({"residency": {"country": "US"}, "fields": {"shoe_size": "9"}}),
            "fields.shoe_size",
        ),
        (
            json!({"residency": {"country": "US"}, "language": "klingon"}),
            "language",
        ),
    ];
    for (body, field) in cases {
        let (s, v) = api
            .call(
                Method::POST,
                "/v1/customers",
                Some(&writer),
                &[],
                Some(body),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(v["errors"][0]["field"], field, "{v}");
    }
    let (s, v) = api
        .call(
            Method::POST,
            "/v1/customers",
            Some(&writer),
            &[],
            Some(json!({"residency": {"country": "US"}, "fields": "ada@example.com"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        !v.to_string().contains("ada@example.com"),
        "errors never echo values: {v}"
    );
    let (_, v) = api
        .call(Method::GET, "/v1/customers", Some(&writer), &[], None)
        .await;
    assert_eq!(v["items"], json!([]));
}

#[tokio::test]
async fn customers_carry_a_language_preference() {
    let api = api();
    let (k, _) = api.key(&["vault:write", "vault:read"]).await;
    let (s, v) = api
        .call(
            Method::POST,
            "/v1/customers",
            Some(&k),
            &[],
            Some(json!({
            "residency": {"country": "US", "subdivision": "US-TX"}, "language": "es-MX",
            "fields": {"name": "Ana"}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let uri = format!("/v1/customers/{}", v["id"].as_str().unwrap());
    let get = || api.call(Method::GET, &uri, Some(&k), &[], None);
    assert_eq!(
        get().await.1["language"],
        "es",
        "kept as the ISO 639-1 code"
    );
    let patch = |body| api.call(Method::PATCH, &uri, Some(&k), &[], Some(body));
    assert_eq!(
        patch(json!({"language": "pt"})).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(get().await.1["language"], "pt");
    let (s, v) = patch(json!({"language": "xx"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["errors"][0]["field"], "language", "{v}");
    assert_eq!(patch(json!({"fields": {}})).await.0, StatusCode::NO_CONTENT);
    assert_eq!(get().await.1["language"], "pt", "left alone when absent");
    assert_eq!(
        patch(json!({"language": null})).await.0,
        StatusCode::NO_CONTENT
    );
    assert!(get().await.1.get("language").is_none(), "null removes it");

    // The document says what is accepted.
    let (_, doc) = api
        .call(Method::GET, "/v1/openapi.json", Some(&api.admin), &[], None)
        .await;
    for schema in ["NewCustomer", "CustomerPatch"] {
        let lang = &doc["components"]["schemas"][schema]["properties"]["language"];
        assert_eq!(
            lang["pattern"],
            bulwark_model::LANGUAGE_TAG_PATTERN,
            "{schema}: {lang}"
        );
        assert_eq!(
            lang["maxLength"],
            bulwark_model::LANGUAGE_TAG_MAX,
            "{schema}"
        );
    }
}

#[tokio::test]
async fn revoked_keys_fail_on_the_next_request() {
    let api = api();
    let (k, id) = api.key(&["vault:read"]).await;
    assert_eq!(
        api.call(Method::GET, "/v1/customers", Some(&k), &[], None)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        api.call(
            Method::DELETE,
            &format!("/v1/keys/{id}"),
            Some(&api.admin),
            &[],
            None
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let (s, v) = api
        .call(Method::GET, "/v1/customers", Some(&k), &[], None)
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v["detail"], "API key revoked");
    let tampered = format!("{}x", &k[..k.len() - 1]);
    assert_eq!(
        api.call(Method::GET, "/v1/customers", Some(&tampered), &[], None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        api.call(Method::GET, "/v1/customers", Some("not-a-key"), &[], None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn lockdown_blocks_reveals_except_break_glass() {
    let api = api();
    let (writer, _) = api.key(&["vault:write"]).await;
    let (clerk, _) = api.key(&["vault:reveal:email"]).await;
    let (glass, _) = api.key(&["vault:reveal:email", "vault:break-glass"]).await;
    let (_, v) = api
        .call(
            Method::POST,
            "/v1/customers",
            Some(&writer),
            &[],
            Some(json!({"residency": {"country": "DE"}, "fields": {"email": "x@example.de"}})),
        )
        .await;
    let uri = format!("/v1/customers/{}?fields=email", v["id"].as_str().unwrap());
    let (s, _) = api
        .call(
            Method::POST,
            "/v1/vault/lockdown",
            Some(&clerk),
            &[],
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "switching lockdown needs its own scope"
    );
    let (s, v) = api
        .call(
            Method::POST,
            "/v1/vault/lockdown",
            Some(&api.admin),
            &[],
            Some(json!({"enabled": true, "reason": "incident 12"})),
        )
        .await;
    assert_eq!((s, v["changed"].clone()), (StatusCode::OK, json!(true)));
    let (s, v) = api
        .call(Method::GET, &uri, Some(&clerk), &[PURPOSE], None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(v["type"], "urn:bulwark:problem:vault-locked-down");
    assert_eq!(
        api.call(Method::GET, &uri, Some(&glass), &[PURPOSE], None)
            .await
            .0,
        StatusCode::OK
    );
    api.call(
        Method::POST,
        "/v1/vault/lockdown",
        Some(&api.admin),
        &[],
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(
        api.call(Method::GET, &uri, Some(&clerk), &[PURPOSE], None)
            .await
            .0,
        StatusCode::OK
    );
    let (_, v) = api
        .call(
            Method::GET,
            "/v1/ledger/verify",
            Some(&api.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(v["intact"], true);
}

#[tokio::test]
async fn review_lists_grants_never_exercised() {
    let api = api();
    let (k, id) = api.key(&["vault:read", "vault:lookup"]).await;
    api.call(Method::GET, "/v1/customers", Some(&k), &[], None)
        .await;
    let (s, v) = api
        .call(
            Method::GET,
            "/v1/keys/review?idle_days=30",
            Some(&api.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let item = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"]["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(item["unexercised_scopes"], json!(["vault:lookup"]));
    assert_eq!(item["never_used"], false);
}

/// Every documented operation exists, needs a key (except health), and every
/// path answers unknown methods with 405, not a silent 404.
#[tokio::test]
async fn openapi_document_matches_the_routes() {
    let api = api();
    let (s, doc) = api
        .call(Method::GET, "/v1/openapi.json", Some(&api.admin), &[], None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 10);
    for (path, ops) in paths {
        let uri = path.replace("{id}", "01a2083a-6b16-763d-af0a-0e20c4154f46");
        for (method, op) in ops.as_object().unwrap() {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (s, v) = api.call(m.clone(), &uri, None, &[], None).await;
            if op["security"] == json!([]) {
                assert_ne!(s, StatusCode::UNAUTHORIZED, "{method} {path} is public");
            } else {
                assert_eq!(
                    s,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} must require a key: {v}"
                );
            }
        }
        let unused = [Method::PUT, Method::PATCH, Method::DELETE, Method::POST]
            .into_iter()
            .find(|m| {
                !ops.as_object()
                    .unwrap()
                    .contains_key(&m.as_str().to_lowercase())
            })
            .unwrap();
        let (s, _) = api
            .call(unused.clone(), &uri, Some(&api.admin), &[], None)
            .await;
        assert_eq!(
            s,
            StatusCode::METHOD_NOT_ALLOWED,
            "{unused} {path} is routed"
        );
    }
    let (s, v) = api
        .call(Method::GET, "/v1/nothing-here", Some(&api.admin), &[], None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(v["detail"].as_str().unwrap().contains("no such route"));
}

#[tokio::test]
async fn incidents_over_the_api() {
    let api = api();
    let (ir, _) = api.key(&["incidents:*"]).await;
    let (reader, _) = api.key(&["incidents:read"]).await;
    let new = json!({"title": "Admin takeover <b>", "severity": "sev2", "classification": "credential_theft",
                     "discovered_at": "2026-11-20T08:00:00Z", "aware_at": "2026-11-20T09:00:00Z"});
    let (s, _) = api
        .call(
            Method::POST,
            "/v1/incidents",
            Some(&reader),
            &[],
            Some(new.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "reading does not allow opening");
    let (s, v) = api
        .call(Method::POST, "/v1/incidents", Some(&ir), &[], Some(new))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["incident"]["id"], 1);
    assert!(
        !v["tasks"].as_array().unwrap().is_empty(),
        "playbook tasks: {v}"
    );
    let (s, v) = api
        .call(
            Method::POST,
            "/v1/incidents/1/advance",
            Some(&ir),
            &[],
            Some(json!({"phase": "notifying"})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("cannot move the incident from triage to notifying"),
        "{v}"
    );
    let (s, v) = api
        .call(
            Method::POST,
            "/v1/incidents/1/advance",
            Some(&ir),
            &[],
            Some(json!({"phase": "contained"})),
        )
        .await;
    assert_eq!(
        (s, v["incident"]["phase"].clone()),
        (StatusCode::OK, json!("contained"))
    );
    assert_eq!(
        api.call(
            Method::POST,
            "/v1/incidents/1/notes",
            Some(&ir),
            &[],
            Some(json!({"text": "reset admin passwords"}))
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let (s, v) = api
        .call(Method::GET, "/v1/incidents/1", Some(&reader), &[], None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["text"] == "reset admin passwords"));
    assert_eq!(
        api.call(Method::GET, "/v1/incidents/9", Some(&reader), &[], None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let req = Request::builder()
        .uri("/v1/incidents/1/report?format=html")
        .header("authorization", format!("Bearer {reader}"))
        .body(Body::empty())
        .unwrap();
    let res = api.app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(
        html.contains("&lt;b&gt;") && !html.contains("<b>Admin"),
        "escaped"
    );
}

#[tokio::test]
async fn containment_from_an_incident_really_acts_and_is_recorded() {
    let api = api();
    let (ir, _) = api.key(&["incidents:*"]).await;
    let (commander, _) = api.key(&["incidents:*", "vault:lockdown", "admin"]).await;
    let (writer, _) = api.key(&["vault:write"]).await;
    let (stolen, stolen_id) = api.key(&["vault:reveal:email"]).await;
    let (_, v) = api
        .call(
            Method::POST,
            "/v1/customers",
            Some(&writer),
            &[],
            Some(json!({"residency": {"country": "US"}, "fields": {"email": "x@example.com"}})),
        )
        .await;
    let reveal = format!("/v1/customers/{}?fields=email", v["id"].as_str().unwrap());
    let new = json!({"title": "Stolen support key", "severity": "sev1", "classification": "credential_theft",
                     "discovered_at": "2026-11-20T08:00:00Z", "aware_at": "2026-11-20T09:00:00Z"});
    api.call(Method::POST, "/v1/incidents", Some(&ir), &[], Some(new))
        .await;

    let lockdown =
        json!({"action": {"kind": "vault_lockdown"}, "reason": "mass reveals by a support key"});
    let (s, _) = api
        .call(
            Method::POST,
            "/v1/incidents/1/containment",
            Some(&ir),
            &[],
            Some(lockdown.clone()),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "the action's own grant is needed too"
    );
    let (s, v) = api
        .call(
            Method::POST,
            "/v1/incidents/1/containment",
            Some(&commander),
            &[],
            Some(lockdown),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        api.call(Method::GET, &reveal, Some(&stolen), &[PURPOSE], None)
            .await
            .0,
        StatusCode::FORBIDDEN,
        "lockdown blocks reveals"
    );
    let revoke = json!({"action": {"kind": "revoke_api_key"}, "target": stolen_id, "reason": "the stolen key"});
    let (s, v) = api
        .call(
            Method::POST,
            "/v1/incidents/1/containment",
            Some(&commander),
            &[],
            Some(revoke),
        )
        .await;
    assert_eq!(
        (s, v["succeeded"].clone()),
        (StatusCode::OK, json!(true)),
        "{v}"
    );
    assert_eq!(
        api.call(Method::GET, &reveal, Some(&stolen), &[PURPOSE], None)
            .await
            .0,
        StatusCode::UNAUTHORIZED,
        "the key is revoked"
    );
    let (_, rec) = api
        .call(Method::GET, "/v1/incidents/1", Some(&ir), &[], None)
        .await;
    let texts: Vec<String> = rec["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        texts.iter().filter(|t| t.contains("succeeded")).count() >= 2,
        "both actions recorded: {texts:?}"
    );
    let (_, v) = api
        .call(
            Method::GET,
            "/v1/ledger/verify",
            Some(&commander),
            &[],
            None,
        )
        .await;
    assert_eq!(v["intact"], true);
}

/// A store's webhook receiver on loopback: answers the first call with 500, then
/// checks the signature of the retry with the secret it was given.
fn receiver(
    secret: std::sync::Arc<std::sync::Mutex<String>>,
) -> (
    std::net::SocketAddr,
    std::sync::mpsc::Receiver<(bool, String)>,
) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().take(2).enumerate() {
            let mut conn = conn.unwrap();
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let (mut sig, mut len) = (String::new(), 0usize);
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let l = line.trim_end().to_owned();
                if l.is_empty() {
                    break;
                }
                let lower = l.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("bulwark-signature: ") {
                    sig = v.to_owned();
                }
                if let Some(v) = lower.strip_prefix("content-length: ") {
                    len = v.parse().unwrap();
                }
            }
            let mut body = vec![0u8; len];
            reader.read_exact(&mut body).unwrap();
            let body = String::from_utf8(body).unwrap();
            let status = if n == 0 {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            conn.write_all(
                format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .unwrap();
            // t=<unix>,v1=<hex>: recompute with the shared secret.
            let t = sig
                .split(',')
                .next()
                .unwrap()
                .trim_start_matches("t=")
                .to_owned();
            let key = hex::decode(secret.lock().unwrap().as_str()).unwrap();
            let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(&key).unwrap();
            hmac::Mac::update(&mut mac, format!("{t}.{body}").as_bytes());
            let want = format!(
                "t={t},v1={}",
                hex::encode(hmac::Mac::finalize(mac).into_bytes())
            );
            tx.send((want == sig, body)).unwrap();
        }
    });
    (addr, rx)
}

#[tokio::test]
async fn webhook_containment_is_signed_and_retried() {
    let api = api();
    let (commander, _) = api.key(&["incidents:*", "admin"]).await;
    let secret = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (addr, received) = receiver(secret.clone());
    let (s, v) = api
        .call(
            Method::POST,
            "/v1/webhooks",
            Some(&commander),
            &[],
            Some(json!({"event": "checkout.pause", "url": format!("http://{addr}/hooks/bulwark")})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    *secret.lock().unwrap() = v["secret"].as_str().unwrap().to_owned();
    let (_, listed) = api
        .call(Method::GET, "/v1/webhooks", Some(&commander), &[], None)
        .await;
    assert!(
        !listed.to_string().contains(v["secret"].as_str().unwrap()),
        "the secret is shown once"
    );
    let new = json!({"title": "Skimmer", "severity": "sev1", "classification": "web_skimmer",
                     "discovered_at": "2026-11-20T08:00:00Z", "aware_at": "2026-11-20T09:00:00Z"});
    api.call(
        Method::POST,
        "/v1/incidents",
        Some(&commander),
        &[],
        Some(new),
    )
    .await;
    let (s, v) = api
        .call(Method::POST, "/v1/incidents/1/containment", Some(&commander), &[],
              Some(json!({"action": {"kind": "webhook", "event": "checkout.pause"}, "reason": "skimmer on checkout"})))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(
        v["result"]
            .as_str()
            .unwrap()
            .contains("HTTP 200 after 2 attempt"),
        "{v}"
    );
    let (first_ok, first_body) = received.recv().unwrap();
    let (second_ok, second_body) = received.recv().unwrap();
    assert!(first_ok && second_ok, "both calls carry a valid signature");
    assert_eq!(first_body, second_body);
    let payload: serde_json::Value = serde_json::from_str(&second_body).unwrap();
    assert_eq!(
        (payload["event"].as_str(), payload["incident"].as_u64()),
        (Some("checkout.pause"), Some(1))
    );
    // An event nobody registered fails, and the failure is recorded too.
    let (s, v) = api
        .call(Method::POST, "/v1/incidents/1/containment", Some(&commander), &[],
              Some(json!({"action": {"kind": "webhook", "event": "sessions.revoke_all"}, "reason": "log everyone out"})))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (_, rec) = api
        .call(Method::GET, "/v1/incidents/1", Some(&commander), &[], None)
        .await;
    let texts = rec["timeline"].to_string();
    assert!(
        texts.contains("succeeded") && texts.contains("FAILED"),
        "{texts}"
    );
}

#[tokio::test]
async fn evidence_upload_over_the_api() {
    let api = api();
    let (ir, _) = api.key(&["incidents:*"]).await;
    let new = json!({"title": "Ransomware", "severity": "sev1", "classification": "malware_ransomware",
                     "discovered_at": "2026-11-20T08:00:00Z", "aware_at": "2026-11-20T09:00:00Z"});
    api.call(Method::POST, "/v1/incidents", Some(&ir), &[], Some(new))
        .await;
    let note = b"YOUR FILES ARE ENCRYPTED".to_vec();
    let req = Request::builder()
        .method(Method::POST)
        .uri("/v1/incidents/1/evidence?name=ransom%20note.txt&source=web-02")
        .header("authorization", format!("Bearer {ir}"))
        .body(Body::from(note.clone()))
        .unwrap();
    let res = api.app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let v: Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    use sha2::Digest;
    assert_eq!(v["sha256"], hex::encode(sha2::Sha256::digest(&note)));
    assert_eq!(
        (v["name"].as_str(), v["source"].as_str()),
        (Some("ransom_note.txt"), Some("web-02"))
    );
    let (_, list) = api
        .call(
            Method::GET,
            "/v1/incidents/1/evidence",
            Some(&ir),
            &[],
            None,
        )
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (s, _) = api
        .call(
            Method::GET,
            "/v1/incidents/7/evidence",
            Some(&ir),
            &[],
            None,
        )
        .await;
    assert_eq!(
        s,
        StatusCode::OK,
        "an incident without evidence lists nothing"
    );
}

#[tokio::test]
async fn public_updates_page() {
    let api = api();
    let (ir, _) = api.key(&["incidents:*"]).await;
    let new = json!({"title": "Card data exposure", "severity": "sev1", "classification": "web_skimmer",
                     "discovered_at": "2026-11-20T08:00:00Z", "aware_at": "2026-11-20T09:00:00Z"});
    let (_, v) = api
        .call(Method::POST, "/v1/incidents", Some(&ir), &[], Some(new))
        .await;
    let slug = v["incident"]["slug"].as_str().unwrap().to_owned();
    for text in [
        "We found a malicious script on checkout and removed it.",
        "Update: cards used between 18 and 20 November <b>may</b> be affected.",
    ] {
        let (s, v) = api
            .call(
                Method::POST,
                "/v1/incidents/1/updates",
                Some(&ir),
                &[],
                Some(json!({"text": text})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    // No key needed: customers read it.
    let req = Request::builder()
        .uri(format!("/updates/{slug}"))
        .body(Body::empty())
        .unwrap();
    let res = api.app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    let (newer, older) = (
        html.find("Update: cards").unwrap(),
        html.find("We found").unwrap(),
    );
    assert!(newer < older, "newest first");
    assert!(html.contains("&lt;b&gt;may&lt;/b&gt;"), "escaped");
    assert!(html.contains("<html lang=\"en\">") && html.contains("<main>"));
    let req = Request::builder()
        .uri("/updates/1-guessed-title")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        api.app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::NOT_FOUND,
        "the number alone does not open a page"
    );
    let req = Request::builder()
        .uri("/updates/nothing-here")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        api.app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

async fn reveal(api: &Api, key: &str, id: &str, fields: &str) {
    let (s, v) = api
        .call(
            Method::GET,
            &format!("/v1/customers/{id}?fields={fields}"),
            Some(key),
            &[PURPOSE],
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

async fn tick() {
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
}

#[tokio::test]
async fn incident_scope_from_the_access_log_and_from_an_asset() {
    let api = api();
    let (writer, _) = api.key(&["vault:write"]).await;
    let (thief, thief_id) = api.key(&["vault:reveal:*"]).await;
    let (clerk, _) = api.key(&["vault:reveal:*"]).await;
    let (ir, _) = api.key(&["incidents:*", "audit:read"]).await;
    let (responder, _) = api.key(&["incidents:*"]).await;
    let (reader, _) = api.key(&["incidents:read"]).await;
    let mut ids = Vec::new();
    for (i, (country, sub)) in [
        ("US", Some("US-CA")),
        ("US", Some("US-TX")),
        ("DE", None),
        ("FR", None),
        ("GB", None),
    ]
    .iter()
    .enumerate()
    {
        let (s, v) = api
            .call(
                Method::POST,
                "/v1/customers",
                Some(&writer),
                &[],
                Some(json!({
                "residency": {"country": country, "subdivision": sub},
                "fields": {"email": format!("c{i}@example.com"), "name": format!("Name{i}")}})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        ids.push(v["id"].as_str().unwrap().to_owned());
    }
    let (s, v) = api
        .call(
            Method::POST,
            "/v1/incidents",
            Some(&ir),
            &[],
            Some(json!({
            "title": "Support key leaked", "severity": "sev1", "classification": "credential_theft",
            "discovered_at": "2026-11-20T08:00:00Z", "aware_at": "2026-11-20T09:00:00Z"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = api
        .call(
            Method::GET,
            "/v1/incidents/1/scope",
            Some(&reader),
            &[],
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(
        v["detail"].as_str().unwrap().contains("no scope yet"),
        "{v}"
    );

    // Before the window: not in scope.
    reveal(&api, &thief, &ids[0], "email,name").await;
    tick().await;
    let since = now_rfc3339();
    tick().await;
    reveal(&api, &thief, &ids[1], "email").await;
    reveal(&api, &thief, &ids[1], "name").await;
    reveal(&api, &thief, &ids[2], "email").await;
    // Another principal in the window: not in scope.
    reveal(&api, &clerk, &ids[3], "name").await;
    tick().await;
    let until = now_rfc3339();
    tick().await;
    // After the window: not in scope.
    reveal(&api, &thief, &ids[4], "email").await;

    let query = json!({"principals": [format!("key:{thief_id}")], "since": since, "until": until});
    let (s, _) = api
        .call(
            Method::POST,
            "/v1/incidents/1/scope",
            Some(&reader),
            &[],
            Some(query.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "reading does not allow computing");
    let (s, _) = api
        .call(
            Method::POST,
            "/v1/incidents/1/scope",
            Some(&responder),
            &[],
            Some(query.clone()),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "scope from the access log is audit data"
    );
    let (s, _) = api
        .call(
            Method::POST,
            "/v1/incidents/9/scope",
            Some(&ir),
            &[],
            Some(query.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = api
        .call(
            Method::POST,
            "/v1/incidents/1/scope",
            Some(&ir),
            &[],
            Some(json!({"principals": ["key:x"]})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["detail"].as_str().unwrap().contains("`since`"), "{v}");
    let (s, v) = api
        .call(
            Method::POST,
            "/v1/incidents/1/scope",
            Some(&ir),
            &[],
            Some(json!({"since": since})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "no principal or source: {v}");

    let mut body = query.clone();
    body["encrypted"] = json!(true);
    let (s, v) = api
        .call(
            Method::POST,
            "/v1/incidents/1/scope",
            Some(&ir),
            &[],
            Some(body),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["version"], 1);
    let summary = &v["summary"];
    assert_eq!(summary["source"], "access_log");
    assert_eq!(summary["customers"], 2);
    assert_eq!(summary["reveals"], 3);
    assert_eq!(summary["encrypted"], true);
    assert_eq!(summary["by_element"], json!({"name": 1, "email": 2}));
    assert_eq!(summary["by_jurisdiction"], json!({"DE": 1, "US-TX": 1}));
    assert_eq!(
        summary["affected"],
        json!([{"jurisdiction": "DE", "elements": ["email"], "count": 1},
               {"jurisdiction": "US-TX", "elements": ["name", "email"], "count": 1}])
    );

    let (s, v) = api
        .call(
            Method::GET,
            "/v1/incidents/1/scope",
            Some(&reader),
            &[],
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["version"], 1);
    assert_eq!(v["summary"], *summary);
    let mut customers: Vec<Value> = v["customers"].as_array().unwrap().clone();
    customers.sort_by_key(|c| c["id"].as_str().unwrap().to_owned());
    let mut want = vec![
        json!({"id": ids[1], "residency": {"country": "US", "subdivision": "US-TX"}, "elements": ["name", "email"]}),
        json!({"id": ids[2], "residency": {"country": "DE"}, "elements": ["email"]}),
    ];
    want.sort_by_key(|c| c["id"].as_str().unwrap().to_owned());
    assert_eq!(
        customers, want,
        "exactly the thief's customers in the window"
    );
    let text = v.to_string();
    assert!(
        !text.contains("example.com") && !text.contains("Name1"),
        "no PII values: {text}"
    );

    // From a compromised asset: every customer, as the next version.
    let (s, v) = api
        .call(
            Method::POST,
            "/v1/incidents/1/scope",
            Some(&ir),
            &[],
            Some(json!({"asset": "crm"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["type"], "urn:bulwark:problem:unknown-asset");
    std::fs::write(
        api._fixture.dir.join("assets.json"),
        json!([{"name": "crm", "elements": ["email"], "customers": 5, "hosting": "SaaS", "owner": "sales"}]).to_string(),
    )
    .unwrap();
    let (s, v) = api
        .call(
            Method::POST,
            "/v1/incidents/1/scope",
            Some(&ir),
            &[],
            Some(json!({"asset": "crm", "since": since})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "an asset has no window: {v}");
    let (s, v) = api
        .call(
            Method::POST,
            "/v1/incidents/1/scope",
            Some(&ir),
            &[],
            Some(json!({"asset": "crn"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["known_assets"], json!(["crm"]));
    let (s, v) = api
        .call(
            Method::POST,
            "/v1/incidents/1/scope",
            Some(&ir),
            &[],
            Some(json!({"asset": "crm", "key_compromised": true})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["version"], 2);
    assert_eq!(v["summary"]["source"], "asset");
    assert_eq!(v["summary"]["customers"], 5);
    assert_eq!(v["summary"]["by_element"], json!({"email": 5}));
    let (s, v) = api
        .call(
            Method::GET,
            "/v1/incidents/1/scope",
            Some(&reader),
            &[],
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["version"], 2);
    assert_eq!(v["summary"]["key_compromised"], true);
    let mut got: Vec<String> = v["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["elements"], json!(["email"]));
            c["id"].as_str().unwrap().to_owned()
        })
        .collect();
    got.sort();
    let mut all = ids.clone();
    all.sort();
    assert_eq!(got, all);
}

/// Invalid input on an incident is the caller's mistake (400); a change the
/// incident's state refuses is a conflict (409). Both are problem documents.
#[tokio::test]
async fn incident_errors_answer_by_cause_400_for_invalid_409_for_state() {
    let api = api();
    let (ir, _) = api.key(&["incidents:*"]).await;
    let empty_title = json!({"title": "  ", "severity": "sev2", "classification": "credential_theft",
                             "discovered_at": "2026-11-20T08:00:00Z", "aware_at": "2026-11-20T09:00:00Z"});
    let (s, v) = api
        .call(
            Method::POST,
            "/v1/incidents",
            Some(&ir),
            &[],
            Some(empty_title),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["type"], "urn:bulwark:problem:incident-invalid");
    assert!(v["detail"].as_str().unwrap().contains("title"), "{v}");
    let aware_first = json!({"title": "Skimmer", "severity": "sev1", "classification": "web_skimmer",
                             "discovered_at": "2026-11-20T09:00:00Z", "aware_at": "2026-11-20T08:00:00Z"});
    let (s, v) = api
        .call(
            Method::POST,
            "/v1/incidents",
            Some(&ir),
            &[],
            Some(aware_first),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    let ok = json!({"title": "Skimmer", "severity": "sev1", "classification": "web_skimmer",
                    "discovered_at": "2026-11-20T08:00:00Z", "aware_at": "2026-11-20T09:00:00Z"});
    let (s, _) = api
        .call(Method::POST, "/v1/incidents", Some(&ir), &[], Some(ok))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, v) = api
        .call(
            Method::POST,
            "/v1/incidents/1/advance",
            Some(&ir),
            &[],
            Some(json!({"phase": "triage"})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "already in triage: {v}");
    assert_eq!(v["type"], "urn:bulwark:problem:incident-phase");
    let (s, v) = api
        .call(
            Method::PATCH,
            "/v1/incidents/1",
            Some(&ir),
            &[],
            Some(json!({"title": ""})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "an empty title in a patch: {v}");
    let (s, v) = api
        .call(
            Method::POST,
            "/v1/incidents/1/tasks/no-such-task",
            Some(&ir),
            &[],
            Some(json!({"action": "done"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
}

/// axum's extractors answer `text/plain` by themselves; here every refusal of a
/// query string, path or body is a problem document, and names no value.
#[tokio::test]
async fn extractor_refusals_are_problem_documents_without_values() {
    let api = api();
    let (reader, _) = api.key(&["audit:read"]).await;
    let (s, v) = api
        .call(
            Method::GET,
            "/v1/access-log?limit=ada%40example.com",
            Some(&reader),
            &[],
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["type"], "urn:bulwark:problem:bad-parameter");
    assert!(!v.to_string().contains("ada@example.com"), "{v}");
    let (s, v) = api
        .call(
            Method::GET,
            "/v1/access-log?cursor=1&cursor=2",
            Some(&reader),
            &[],
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "a repeated parameter: {v}");
}
