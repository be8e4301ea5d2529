//! A drill run through the real pipeline, with a scripted team acting over
//! the API: the expected detections fire, the score says what was met and
//! missed, and nothing real is touched — no real incident, alert, customer
//! or deadline changes, and the drill's customers are gone at the end.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use bulwark_server::{drill_runner, router, AppState};
use bulwark_store::{BoardFilter, RulePacks};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

struct Drill {
    state: AppState,
    app: axum::Router,
    admin: String,
    f: bulwark_testkit::StoreFixture,
}

fn setup() -> Drill {
    std::thread::spawn(|| {
        let f = bulwark_testkit::StoreFixture::new();
        let state = AppState::with_detection(f.store.clone(), RulePacks::default()).unwrap();
        Drill {
            app: router(state.clone()),
            state,
            admin: f.admin_key.clone(),
            f,
        }
    })
    .join()
    .unwrap()
}

impl Drill {
    async fn call(&self, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {}", self.admin))
            .header("content-type", "application/json")
            .body(
                body.map(|b| Body::from(b.to_string()))
                    .unwrap_or_else(Body::empty),
            )
            .unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let v = serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, v)
    }

    /// The scripted team's key: what a security lead needs to run a drill.
    async fn team(mut self) -> Drill {
        let (s, v) = self
            .call(
                Method::POST,
                "/v1/keys",
                Some(json!({"name": "security lead", "scopes": ["incidents:write", "incidents:read", "admin", "audit:read", "vault:write", "alerts:read", "vault:lockdown"]})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        self.admin = v["key"].as_str().unwrap().to_owned();
        self
    }

    async fn tick(&self) {
        drill_runner::tick(&self.state, now_ms()).await.unwrap();
    }
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn item<'a>(score: &'a Value, list: &str, id: &str) -> &'a Value {
    score[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no {list} item {id} in {score}"))
}

fn rating<'a>(score: &'a Value, objective: &str) -> &'a str {
    score["objectives"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == objective)
        .and_then(|o| o["rating"].as_str())
        .unwrap_or_else(|| panic!("no objective {objective} in {score}"))
}

#[tokio::test]
async fn a_scored_drill_with_a_scripted_team_touches_nothing_real() {
    let d = setup().team().await;
    // The real world before the drill: a customer, an incident with deadlines.
    let (s, real_customer) = d
        .call(
            Method::POST,
            "/v1/customers",
            Some(
                json!({"residency": {"country": "US", "subdivision": "US-CA"},
                        "fields": {"email": "real@shop.example", "name": "Real Person"}}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{real_customer}");
    let real_customer = real_customer["id"].as_str().unwrap().to_owned();
    let (s, real) = d
        .call(
            Method::POST,
            "/v1/incidents",
            Some(json!({"title": "Real skimmer", "severity": "sev1", "classification": "web_skimmer",
                        "discovered_at": "2026-12-01T09:00:00Z", "aware_at": "2026-12-01T10:00:00Z"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{real}");
    let real_id = real["incident"]["id"].as_u64().unwrap();
    let board = |store: &bulwark_store::Store| {
        let b = store.incident_board(&BoardFilter::default(), 0).unwrap();
        b.rows
            .iter()
            .map(|r| (r.id, r.next_due_ms, r.open_tasks))
            .collect::<Vec<_>>()
    };
    let board_before = board(&d.f.store);
    let real_before = d.f.store.incident(real_id).unwrap();
    let alerts_before = d.f.store.alerts(&Default::default()).unwrap().len();

    // Start the stolen-key drill at 20x: its 120 reveals take six real
    // seconds, so the team acts while the thief is still at it.
    let (s, started) = d
        .call(
            Method::POST,
            "/v1/drills",
            Some(json!({"scenario": "stolen-api-key", "speed": 20})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{started}");
    let run = started["run"]["id"].as_u64().unwrap();

    // The runner sends the reveals; detection opens a drill incident.
    let mut incident = None;
    for _ in 0..400 {
        d.tick().await;
        let (_, v) = d
            .call(Method::GET, &format!("/v1/drills/{run}"), None)
            .await;
        // The team reacts once both expected detections are on the incident.
        if let Some(i) = v["incidents"].as_array().and_then(|a| a.first()) {
            if d.f.store.drill_alerts(run).unwrap().len() >= 2 {
                incident = i.as_u64();
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let incident = incident.unwrap_or_else(|| {
        panic!(
            "no incident: customers {}, alerts {:?}, run {:?}",
            d.f.store.drill_customers(run).unwrap().len(),
            d.f.store.drill_alerts(run).unwrap(),
            d.f.store.drill_run(run).unwrap()
        )
    });
    let (_, inc) = d
        .call(Method::GET, &format!("/v1/incidents/{incident}"), None)
        .await;
    assert!(
        inc["incident"]["title"]
            .as_str()
            .unwrap()
            .starts_with("DRILL"),
        "{inc}"
    );
    assert_eq!(inc["incident"]["drill"], run);

    // The scripted security lead revokes the stolen key at once; it only simulates.
    let (s, rec) = d
        .call(
            Method::POST,
            &format!("/v1/incidents/{incident}/containment"),
            Some(json!({"action": {"kind": "revoke_api_key"}, "target": format!("drill-{run}"), "reason": "stolen key"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{rec}");
    assert!(
        rec["result"]
            .as_str()
            .unwrap()
            .contains("stolen key drill-"),
        "{rec}"
    );
    // …and a lockdown on a drill incident does not lock the real vault.
    let (s, _) = d
        .call(
            Method::POST,
            &format!("/v1/incidents/{incident}/containment"),
            Some(json!({"action": {"kind": "vault_lockdown"}, "reason": "drill"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(!d.f.store.settings().unwrap().lockdown);

    // The revocation acted on the drill: the thief's later reveals are refused.
    let allowed = |d: &Drill| {
        d.f.store
            .access_log(&bulwark_store::AccessFilter {
                principal: Some(format!("key:drill-{run}")),
                limit: 10_000,
                ..Default::default()
            })
            .unwrap()
            .iter()
            .filter(|r| r.outcome == bulwark_store::AccessOutcome::Allowed)
            .count()
    };
    let revealed = allowed(&d);
    assert!(
        revealed > 0 && revealed < 120,
        "{revealed} revealed before the revocation"
    );
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        d.tick().await;
    }
    assert_eq!(allowed(&d), revealed, "reveals after the revocation");

    // Scope over the drill key finds exactly the synthetic customers revealed.
    let (s, scope) = d
        .call(
            Method::POST,
            &format!("/v1/incidents/{incident}/scope"),
            Some(json!({"principals": [format!("key:drill-{run}")], "since": "2026-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{scope}");
    let synthetic = d.f.store.drill_customers(run).unwrap();
    assert_eq!(synthetic.len(), 120);
    assert_eq!(scope["summary"]["customers"], revealed);

    // A scope of the real incident over the same key is empty: drill
    // customers never count in a real scope.
    let (s, real_scope) = d
        .call(
            Method::POST,
            &format!("/v1/incidents/{real_id}/scope"),
            Some(json!({"principals": [format!("key:drill-{run}")], "since": "2026-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{real_scope}");
    assert_eq!(real_scope["summary"]["customers"], 0);
    // Nor in what the plan says the store holds.
    let held: u64 =
        d.f.store
            .holdings_by_residency()
            .unwrap()
            .iter()
            .map(|(_, n, _)| n)
            .sum();
    let all = d.f.store.list_customers(None, 100_000).unwrap().len() as u64;
    assert_eq!(
        held,
        all - synthetic.len() as u64,
        "synthetic customers are not holdings"
    );

    // Ended early by the facilitator: scored, ledgered, customers erased.
    let (s, done) = d
        .call(Method::POST, &format!("/v1/drills/{run}/finish"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{done}");
    let score = &done["score"];
    assert_eq!(done["run"]["state"], "finished");
    for rule in [
        "Mass Vault Reveals By One Principal",
        "Vault Reveals Across Many Customers",
    ] {
        assert_eq!(item(score, "detections", rule)["outcome"], "met", "{score}");
    }
    assert_eq!(item(score, "actions", "declared")["outcome"], "met");
    let revoked = item(score, "actions", "revoked");
    assert_eq!(revoked["outcome"], "met", "{score}");
    assert!(
        revoked["by"].as_str().unwrap().starts_with("key:"),
        "{revoked}"
    );
    assert_eq!(item(score, "actions", "scope")["outcome"], "met");
    // Time to detect: the threshold of reveals is crossed within the first
    // drill minutes, inside the 10m target.
    let ttd = score["ttd_ms"].as_i64().unwrap();
    assert!((0..=600_000).contains(&ttd), "ttd {ttd}");
    let ttc = score["ttc_ms"].as_i64().unwrap();
    assert!((0..=1_800_000).contains(&ttc), "ttc {ttc}");
    for o in ["detect", "contain", "notify"] {
        assert_eq!(rating(score, o), "P", "{o}: {score}");
    }
    assert_eq!(score["earned"], score["possible"]);

    // The plan test of PCI DSS 12.10.2 is done for today.
    let calendar = d.f.store.dir().compliance().unwrap();
    let today = time::OffsetDateTime::now_utc().date();
    let status = d.f.store.compliance_status(&calendar, today).unwrap();
    let plan = status
        .iter()
        .find(|r| r.id == "pci-12.10.2-plan-test")
        .unwrap();
    assert_eq!(plan.last_completed, Some(today));

    // The after-action report says the same.
    let (s, md) = d
        .call(Method::GET, &format!("/v1/drills/{run}/report"), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let md = md.as_str().unwrap();
    assert!(md.contains("Stolen API key"), "{md}");

    // Nothing real moved.
    assert_eq!(board(&d.f.store), board_before);
    let real_after = d.f.store.incident(real_id).unwrap();
    assert_eq!(real_after.tasks, real_before.tasks);
    assert_eq!(real_after.incident.aware_at, real_before.incident.aware_at);
    assert_eq!(
        d.f.store.alerts(&Default::default()).unwrap().len(),
        alerts_before
    );
    let drill_alerts =
        d.f.store
            .alerts(&bulwark_store::AlertFilter {
                include_drills: true,
                limit: 100,
                ..Default::default()
            })
            .unwrap();
    assert!(drill_alerts.len() > alerts_before);
    assert!(drill_alerts
        .iter()
        .skip(alerts_before)
        .all(|a| a.source == format!("drill:{run}")));
    // The real customer was never read by the drill; the synthetic ones are erased.
    let access =
        d.f.store
            .access_log(&bulwark_store::AccessFilter {
                customer: Some(real_customer.parse().unwrap()),
                limit: 1000,
                ..Default::default()
            })
            .unwrap();
    assert!(
        access.iter().all(|r| !r.principal.contains("drill")),
        "{access:?}"
    );
    for c in synthetic {
        assert!(
            d.f.store.customer_meta(c).is_err(),
            "drill customer {c} left behind"
        );
    }
}

#[tokio::test]
async fn a_drill_stopped_sends_nothing_until_resumed() {
    let d = setup().team().await;
    let (s, started) = d
        .call(
            Method::POST,
            "/v1/drills",
            Some(json!({"scenario": "stolen-api-key", "speed": 60})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{started}");
    let run = started["run"]["id"].as_u64().unwrap();
    let (s, stopped) = d
        .call(Method::POST, &format!("/v1/drills/{run}/stop"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{stopped}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    d.tick().await;
    assert!(d.f.store.drill_customers(run).unwrap().is_empty());
    assert!(d.f.store.drill_run(run).unwrap().fired.is_empty());
    // Stopping twice is a conflict that names the state.
    let (s, again) = d
        .call(Method::POST, &format!("/v1/drills/{run}/stop"), None)
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{again}");
    let (s, _) = d
        .call(Method::POST, &format!("/v1/drills/{run}/resume"), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    d.tick().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    d.tick().await;
    assert!(!d.f.store.drill_run(run).unwrap().fired.is_empty());
    assert!(!d.f.store.drill_customers(run).unwrap().is_empty());
    // An unknown scenario is refused by name.
    let (s, bad) = d
        .call(
            Method::POST,
            "/v1/drills",
            Some(json!({"scenario": "nope"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        bad["detail"].as_str().unwrap().contains("stolen-api-key"),
        "{bad}"
    );
}

#[tokio::test]
async fn a_team_that_does_nothing_is_rated_unable_and_gets_an_improvement_plan() {
    let d = setup().team().await;
    let (s, started) = d
        .call(
            Method::POST,
            "/v1/drills",
            Some(json!({"scenario": "stolen-api-key", "speed": 60})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{started}");
    let run = started["run"]["id"].as_u64().unwrap();
    for _ in 0..200 {
        d.tick().await;
        if d.f.store.drill_alerts(run).unwrap().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (s, done) = d
        .call(Method::POST, &format!("/v1/drills/{run}/finish"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{done}");
    let score = &done["score"];
    // Detection is the system's and it fired; auto-open declared the incident.
    assert_eq!(rating(score, "detect"), "P", "{score}");
    assert_eq!(item(score, "actions", "revoked")["outcome"], "missed");
    assert_eq!(item(score, "actions", "scope")["outcome"], "missed");
    assert!(score["ttc_ms"].is_null(), "{score}");
    assert_eq!(rating(score, "contain"), "U");
    assert_eq!(rating(score, "notify"), "U");

    // The missed objectives became improvement items with owners and due dates.
    let (s, plan) = d.call(Method::GET, "/v1/drill-improvements", None).await;
    assert_eq!(s, StatusCode::OK, "{plan}");
    let items = plan["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        score["improvements"].as_array().unwrap().len(),
        "{plan}"
    );
    assert!(!items.is_empty());
    let finished = done["run"]["finished_ms"].as_i64().unwrap();
    for i in items {
        assert_eq!(i["run_id"], run);
        assert!(!i["owner"].as_str().unwrap().is_empty());
        assert_eq!(i["due_ms"].as_i64().unwrap(), finished + 30 * 86_400_000);
    }
    let first = items[0]["id"].as_i64().unwrap();
    let (s, _) = d
        .call(
            Method::POST,
            &format!("/v1/drill-improvements/{first}/done"),
            Some(json!({"note": "revocation added to the on-call runbook"})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, again) = d
        .call(
            Method::POST,
            &format!("/v1/drill-improvements/{first}/done"),
            Some(json!({"note": "twice"})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{again}");
    let (_, open) = d.call(Method::GET, "/v1/drill-improvements", None).await;
    assert_eq!(open["items"].as_array().unwrap().len(), items.len() - 1);
    // A finished run cannot be finished again.
    let (s, _) = d
        .call(Method::POST, &format!("/v1/drills/{run}/finish"), None)
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
}
