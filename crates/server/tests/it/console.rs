//! The console's sign-in and sessions at the HTTP level: enrolment from the
//! one-time link, two-phase sign-in, a fresh session id at login (no
//! fixation), cookie flags, CSRF refusals, TOTP replay, throttling, disabled
//! operators refused on their next request, and no page without a session.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use bulwark_access::{OperatorRole, OperatorRoles, TotpSecret};
use bulwark_model::Role;
use bulwark_server::{router, AppState};
use bulwark_store::NewOperator;
use http_body_util::BodyExt;
use tower::ServiceExt;

const GOOD: &str = "correct horse battery staple harbour";

struct Console {
    app: axum::Router,
    fixture: bulwark_testkit::StoreFixture,
    /// The recovery codes of the last enrolment.
    last_codes: std::sync::Mutex<Vec<String>>,
}

struct Answer {
    status: StatusCode,
    location: Option<String>,
    set_cookie: Option<String>,
    csp: Option<String>,
    body: String,
}

fn console() -> Console {
    console_with(bulwark_access::SessionPolicy::default())
}

fn console_with(policy: bulwark_access::SessionPolicy) -> Console {
    console_built(policy, false)
}

/// With live detection, as `serve` runs (drills need it).
fn console_detecting() -> Console {
    console_built(bulwark_access::SessionPolicy::default(), true)
}

fn console_built(policy: bulwark_access::SessionPolicy, detection: bool) -> Console {
    std::thread::spawn(move || {
        let fixture = bulwark_testkit::StoreFixture::new();
        let base = if detection {
            AppState::with_detection(fixture.store.clone(), bulwark_store::RulePacks::default())
                .unwrap()
        } else {
            AppState::new(fixture.store.clone()).unwrap()
        };
        let state = base.with_console(bulwark_server::console::ConsoleConfig {
            policy,
            ..Default::default()
        });
        Console {
            app: router(state),
            fixture,
            last_codes: Default::default(),
        }
    })
    .join()
    .unwrap()
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let i = text
        .find(start)
        .unwrap_or_else(|| panic!("no {start:?} in {text}"))
        + start.len();
    let j = text[i..].find(end).unwrap() + i;
    &text[i..j]
}

impl Console {
    async fn send(
        &self,
        method: Method,
        uri: &str,
        cookie: Option<&str>,
        site: Option<&str>,
        form: Option<&[(&str, &str)]>,
    ) -> Answer {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, "127.0.0.1:8080");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        if let Some(s) = site {
            req = req.header("sec-fetch-site", s);
        }
        let body = match form {
            Some(pairs) => {
                req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                let mut ser = form_urlencoded::Serializer::new(String::new());
                for (k, v) in pairs {
                    ser.append_pair(k, v);
                }
                Body::from(ser.finish())
            }
            None => Body::empty(),
        };
        let res = self
            .app
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let h =
            |n: header::HeaderName| res.headers().get(n).map(|v| v.to_str().unwrap().to_owned());
        let (status, location, set_cookie, csp) = (
            res.status(),
            h(header::LOCATION),
            h(header::SET_COOKIE),
            h(header::CONTENT_SECURITY_POLICY),
        );
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            location,
            set_cookie,
            csp,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// POSTs a `multipart/form-data` form as a browser does for a form with a
    /// file input: text fields, then the file part (empty and unnamed when no
    /// file was chosen).
    async fn post_multipart(
        &self,
        uri: &str,
        cookie: &str,
        fields: &[(&str, &str)],
        file: (&str, &str, &[u8]),
    ) -> Answer {
        const B: &str = "----bulwarktestboundary7MA4YWxk";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(
                format!("--{B}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                    .as_bytes(),
            );
        }
        let (field, filename, bytes) = file;
        body.extend_from_slice(
            format!("--{B}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: application/pdf\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{B}--\r\n").as_bytes());
        let req = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::HOST, "127.0.0.1:8080")
            .header(header::COOKIE, cookie)
            .header("sec-fetch-site", "same-origin")
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={B}"),
            )
            .body(Body::from(body))
            .unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            location: None,
            set_cookie: None,
            csp: None,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, uri: &str, cookie: Option<&str>) -> Answer {
        self.send(Method::GET, uri, cookie, None, None).await
    }

    async fn post(&self, uri: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Answer {
        self.send(Method::POST, uri, cookie, Some("same-origin"), Some(form))
            .await
    }

    /// Creates and enrols `id` through the enrolment page; returns its TOTP secret.
    async fn enrol(&self, id: &str, roles: &[OperatorRole]) -> TotpSecret {
        let store = self.fixture.store.clone();
        let new = NewOperator {
            id: id.into(),
            name: format!("{id} tester"),
            email: Some(format!("{id}@shop.example")),
            roles: OperatorRoles::new(roles.iter().copied()),
        };
        let link = std::thread::spawn(move || {
            store
                .create_operator(new, "owner:test")
                .wait_blocking()
                .unwrap()
                .1
        })
        .join()
        .unwrap();
        let page = self.get(&format!("/enrol/{}", link.as_str()), None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("<svg role=\"img\""), "a QR code");
        let secret =
            TotpSecret::from_base32(between(&page.body, "<code class=\"secret\">", "</code>"))
                .unwrap();
        let done = self
            .post(
                &format!("/enrol/{}", link.as_str()),
                None,
                &[
                    ("password", GOOD),
                    ("code", &secret.code_at(now_secs()).unwrap()),
                ],
            )
            .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        assert_eq!(
            done.body.matches("<li><code>").count(),
            10,
            "ten recovery codes"
        );
        *self.last_codes.lock().unwrap() = done
            .body
            .split("<li><code>")
            .skip(1)
            .filter_map(|x| x.split("</code>").next())
            .map(str::to_owned)
            .collect();
        secret
    }

    /// Signs in; returns the cookie pair (`bulwark=bws_…`).
    async fn sign_in(&self, account: &str, code: &str, prior: Option<&str>) -> Answer {
        let first = self
            .post("/login", prior, &[("account", account), ("password", GOOD)])
            .await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.body);
        let ticket = between(&first.body, "name=\"ticket\" value=\"", "\"").to_owned();
        self.post(
            "/login/second-factor",
            prior,
            &[("ticket", &ticket), ("code", code)],
        )
        .await
    }
}

trait Codes {
    fn recovery_free_code(&self) -> String;
}

impl Codes for TotpSecret {
    /// The next step's code (the enrolment used the current one).
    fn recovery_free_code(&self) -> String {
        self.code_at(now_secs() + 30).unwrap()
    }
}

fn cookie_pair(a: &Answer) -> String {
    a.set_cookie
        .as_deref()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn enrol_sign_in_and_sign_out() {
    let c = console();
    let secret = c
        .enrol("ana", &[OperatorRole::Team(Role::SecurityLead)])
        .await;
    // The link works once.
    let again = c.get("/enrol/does-not-matter", None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    // No page without a session.
    let home = c.get("/", None).await;
    assert_eq!(
        (home.status, home.location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/login"))
    );

    // A cookie planted before sign-in is not the session after it (no fixation).
    let planted = "bulwark=bws_plantedbyanattacker0000000000000000000";
    let signed = c
        .sign_in(
            "ana",
            &secret.code_at(now_secs() + 30).unwrap(),
            Some(planted),
        )
        .await;
    assert_eq!(
        (signed.status, signed.location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/")),
        "{}",
        signed.body
    );
    let set = signed.set_cookie.clone().unwrap();
    assert!(
        set.starts_with("bulwark=bws_") && !set.contains("planted"),
        "{set}"
    );
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"),
        "{set}"
    );
    assert!(!set.contains("Domain"), "host-only cookie: {set}");
    let cookie = cookie_pair(&signed);
    assert!(c.get("/", Some(planted)).await.status == StatusCode::SEE_OTHER);

    let home = c.get("/", Some(&cookie)).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.body);
    assert!(home.body.contains("Hello, ana tester"));
    let csp = home.csp.unwrap();
    for part in [
        "script-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(!csp.contains("unsafe-"), "{csp}");

    // Sign-out deletes the session: the cookie no longer works.
    let out = c.post("/logout", Some(&cookie), &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(out.set_cookie.unwrap().contains("Max-Age=0"));
    assert_eq!(
        c.get("/", Some(&cookie)).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn cross_site_requests_are_refused() {
    let c = console();
    let secret = c.enrol("lee", &[OperatorRole::Team(Role::Legal)]).await;
    let cookie = cookie_pair(
        &c.sign_in("lee", &secret.code_at(now_secs() + 30).unwrap(), None)
            .await,
    );
    for site in [Some("cross-site"), Some("same-site"), None] {
        let a = c
            .send(Method::POST, "/logout", Some(&cookie), site, Some(&[]))
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "Sec-Fetch-Site {site:?}");
        assert!(a.body.contains("cross-site-request"));
    }
    // A forged Origin without Fetch Metadata is refused too.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/logout")
        .header(header::HOST, "127.0.0.1:8080")
        .header(header::ORIGIN, "https://evil.example")
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        c.app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    // Login CSRF: a sign-in form posted from another site, with no cookie yet.
    let a = c
        .send(
            Method::POST,
            "/login",
            None,
            Some("cross-site"),
            Some(&[("operator", "lee"), ("password", "whatever it is")]),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "cross-site login form");
    // The session survived every refused attempt.
    assert_eq!(c.get("/", Some(&cookie)).await.status, StatusCode::OK);
    // No state change over GET: sign-out is POST only.
    assert_eq!(
        c.get("/logout", Some(&cookie)).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn a_totp_code_is_refused_the_second_time() {
    let c = console();
    let secret = c.enrol("pr", &[OperatorRole::Team(Role::PrComms)]).await;
    let code = secret.code_at(now_secs() + 30).unwrap();
    let first = c.sign_in("pr", &code, None).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let replay = c.sign_in("pr", &code, None).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert!(replay.body.contains("already used"), "{}", replay.body);
    assert!(replay.set_cookie.is_none());
}

#[tokio::test]
async fn failed_passwords_are_slowed_and_answered_alike() {
    let c = console();
    c.enrol("cs", &[OperatorRole::Team(Role::CustomerService)])
        .await;
    let unknown = c
        .post(
            "/login",
            None,
            &[("account", "nobody"), ("password", "whatever it is")],
        )
        .await;
    let wrong = c
        .post(
            "/login",
            None,
            &[("account", "cs"), ("password", "not the password")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let msg = |a: &Answer| between(&a.body, "role=\"alert\">", "</p>").to_owned();
    assert_eq!(msg(&unknown), msg(&wrong), "no user enumeration");
    for _ in 0..3 {
        c.post(
            "/login",
            None,
            &[("account", "cs"), ("password", "not the password")],
        )
        .await;
    }
    let slowed = c
        .post("/login", None, &[("account", "cs"), ("password", GOOD)])
        .await;
    assert_eq!(
        slowed.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        slowed.body
    );
}

#[tokio::test]
async fn a_disabled_operator_is_refused_on_the_next_request() {
    let c = console();
    let secret = c
        .enrol("ic", &[OperatorRole::Team(Role::IncidentCommander)])
        .await;
    let cookie = cookie_pair(
        &c.sign_in("ic", &secret.code_at(now_secs() + 30).unwrap(), None)
            .await,
    );
    assert_eq!(c.get("/", Some(&cookie)).await.status, StatusCode::OK);
    let store = c.fixture.store.clone();
    std::thread::spawn(move || {
        store
            .disable_operator("ic", None, "owner:test")
            .wait_blocking()
            .unwrap()
    })
    .join()
    .unwrap();
    let next = c.get("/", Some(&cookie)).await;
    assert_eq!(next.status, StatusCode::SEE_OTHER);
    assert!(next.location.unwrap().starts_with("/login"));
}

#[tokio::test]
async fn no_console_page_without_a_session() {
    let c = console();
    for page in ["/", "/sessions", "/operators", "/step-up"] {
        let a = c.get(page, None).await;
        assert_eq!(
            (a.status, a.location.as_deref()),
            (StatusCode::SEE_OTHER, Some("/login")),
            "{page}"
        );
    }
    for post in [
        "/sessions/abcdef/end",
        "/operators",
        "/operators/x/link",
        "/operators/x/disable",
        "/step-up",
        "/logout",
    ] {
        let a = c.post(post, None, &[]).await;
        assert!(
            a.status == StatusCode::SEE_OTHER || a.status == StatusCode::BAD_REQUEST,
            "{post}: {}",
            a.status
        );
        assert!(
            a.set_cookie.is_none()
                || a.set_cookie
                    .as_deref()
                    .is_some_and(|s| s.contains("Max-Age=0"))
        );
    }
    // What is public: sign-in, enrolment, the public updates page, health.
    assert_eq!(c.get("/login", None).await.status, StatusCode::OK);
    assert_eq!(c.get("/healthz", None).await.status, StatusCode::OK);
    assert_eq!(
        c.get("/updates/1-nothing", None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn only_an_admin_manages_operators_and_only_after_step_up() {
    let c = console();
    let sec = c
        .enrol("sec", &[OperatorRole::Team(Role::SecurityLead)])
        .await;
    let cookie = cookie_pair(
        &c.sign_in("sec", &sec.code_at(now_secs() + 30).unwrap(), None)
            .await,
    );
    assert_eq!(
        c.get("/operators", Some(&cookie)).await.status,
        StatusCode::FORBIDDEN
    );
    let admin = c.enrol("root", &[OperatorRole::Admin]).await;
    let cookie = cookie_pair(
        &c.sign_in("root", &admin.code_at(now_secs() + 30).unwrap(), None)
            .await,
    );
    assert_eq!(
        c.get("/operators", Some(&cookie)).await.status,
        StatusCode::OK
    );

    // With the second factor given longer ago than the step-up window (here: any
    // time at all), adding an operator asks for it again first.
    let c = console_with(bulwark_access::SessionPolicy {
        step_up: std::time::Duration::ZERO,
        ..Default::default()
    });
    let admin = c.enrol("root", &[OperatorRole::Admin]).await;
    let cookie = cookie_pair(&c.sign_in("root", &admin.recovery_free_code(), None).await);
    let add = [("id", "newbie"), ("name", "New Person"), ("roles", "legal")];
    let first = c.post("/operators", Some(&cookie), &add).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert!(
        first
            .location
            .as_deref()
            .unwrap()
            .starts_with("/step-up?next=%2Foperators"),
        "{:?}",
        first.location
    );
    let store = c.fixture.store.clone();
    let listed = std::thread::spawn(move || store.operators().unwrap().len())
        .join()
        .unwrap();
    assert_eq!(listed, 1, "nothing was added before the step-up");
}

const CANARY_NAME: &str = "Zebedee Quillfeather";
const CANARY_EMAIL: &str = "zebedee.quillfeather@canary.example";

const FACTS: &str = r#"
store = "Example Outdoor Gear"
what_happened = "An attacker read customer records."
breach_start = "2026-10-01"
store_actions = "We revoked the key."
consequences = "Your information could be used for phishing."
[contact]
phone = "1-800-555-0100"
email = "privacy@example.test"
"#;

/// An incident with a scope of two California customers (one the canary),
/// the legal role held by operator `lee`.
fn incident_in_scope(c: &Console) -> u64 {
    let store = c.fixture.store.clone();
    std::thread::spawn(move || {
        let who = bulwark_testkit::principal(&["vault:reveal:*", "vault:write", "admin"]);
        let mut customers = Vec::new();
        for (name, email) in [
            (CANARY_NAME, CANARY_EMAIL),
            ("Other Person", "other@example.test"),
        ] {
            let new: bulwark_store::NewCustomer = serde_json::from_value(serde_json::json!({
                "residency": {"country": "US", "subdivision": "US-CA"},
                "fields": {"name": name, "email": email}}))
            .unwrap();
            let id = store
                .create_customer(&new, &who)
                .unwrap()
                .wait_blocking()
                .unwrap();
            customers.push(serde_json::json!({"id": id.to_string(),
                "residency": {"country": "US", "subdivision": "US-CA"},
                "elements": ["name", "email", "password"], "reveals": 1}));
        }
        let aware = time::OffsetDateTime::now_utc() - time::Duration::hours(2);
        let id = store
            .open_incident(
                bulwark_incident::NewIncident::new(
                    "Stolen admin key read customers",
                    bulwark_incident::Severity::Sev1,
                    bulwark_incident::Classification::CredentialTheft,
                    aware,
                    aware,
                ),
                bulwark_incident::PlaybookSet::builtin().unwrap(),
                "owner:test",
            )
            .wait_blocking()
            .unwrap();
        let summary = serde_json::json!({"affected": [{"jurisdiction": "US-CA",
            "elements": ["name", "email", "password"], "count": 2}], "encrypted": false, "key_compromised": false});
        store
            .save_scope_snapshot(id, summary, serde_json::json!(customers), "owner:test")
            .wait_blocking()
            .unwrap();
        store
            .assign_incident(id, Role::Legal, "lee".into(), "owner:test")
            .wait_blocking()
            .unwrap();
        id
    })
    .join()
    .unwrap()
}

/// Every log line the server writes, kept for the PII check.
fn captured_log() -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    use std::sync::{Arc, Mutex, OnceLock};
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let make = move || Writer(sink.clone());
        let _ = tracing::subscriber::set_global_default(
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::DEBUG)
                .with_writer(make)
                .finish(),
        );
        buf
    })
    .clone()
}

struct Writer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Writer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn an_incident_is_worked_from_the_board_to_approved_letters() {
    let log = captured_log();
    let c = console_with(bulwark_access::SessionPolicy {
        step_up: std::time::Duration::from_secs(2),
        ..Default::default()
    });
    let lee = c.enrol("lee", &[OperatorRole::Team(Role::Legal)]).await;
    let lee_recovery = c.last_codes.lock().unwrap()[0].clone();
    let pr = c.enrol("pat", &[OperatorRole::Team(Role::PrComms)]).await;
    let id = incident_in_scope(&c);
    // Signed in with a recovery code, so the next TOTP step is left for step-up.
    let lee_cookie = cookie_pair(&c.sign_in("lee", &lee_recovery, None).await);
    let pat_cookie = cookie_pair(&c.sign_in("pat", &pr.recovery_free_code(), None).await);

    // The board and the incident page.
    let board = c.get("/incidents", Some(&lee_cookie)).await;
    assert_eq!(board.status, StatusCode::OK, "{}", board.body);
    assert!(board.body.contains("Stolen admin key read customers"));
    assert!(board.body.contains(&format!("href=\"/incidents/{id}\"")));
    let page = c.get(&format!("/incidents/{id}"), Some(&lee_cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("SEV1"));

    // The deadline board: California's notice to individuals, with its citation.
    let d = c
        .get(&format!("/incidents/{id}/deadlines"), Some(&lee_cookie))
        .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.body);
    assert!(d.body.contains("US-CA"), "{}", d.body);
    assert!(d.body.contains("individuals"), "{}", d.body);
    assert!(d.body.contains("Civ. Code"), "the citation: {}", d.body);
    assert!(d.body.contains("owner:test"), "who set the clock");
    // Moving the clock is attributed on the board.
    let store = c.fixture.store.clone();
    std::thread::spawn(move || {
        let patch = bulwark_incident::IncidentPatch {
            aware_at: Some(time::OffsetDateTime::now_utc() - time::Duration::hours(1)),
            ..Default::default()
        };
        store
            .update_incident(id, patch, "operator:lee")
            .wait_blocking()
            .unwrap();
    })
    .join()
    .unwrap();
    let d = c
        .get(&format!("/incidents/{id}/deadlines"), Some(&lee_cookie))
        .await;
    assert!(d.body.contains("operator:lee"), "{}", d.body);
    assert!(d.body.contains("Updated aware_at"), "{}", d.body);

    // Render as legal: a draft, whose sample letter carries placeholders only.
    let r = c
        .post(
            &format!("/incidents/{id}/letters"),
            Some(&lee_cookie),
            &[("facts", FACTS), ("channel", "email")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let l = c
        .get(&format!("/incidents/{id}/letters"), Some(&lee_cookie))
        .await;
    assert_eq!(l.status, StatusCode::OK, "{}", l.body);
    assert!(l.body.contains("[customer name]"), "{}", l.body);
    assert!(!l.body.contains(CANARY_NAME) && !l.body.contains(CANARY_EMAIL));
    assert!(l.body.contains("Approve v1"));

    // Communications cannot approve; legal must confirm the second factor first.
    let approve = format!("/incidents/{id}/letters/1/approve");
    let no = c.post(&approve, Some(&pat_cookie), &[]).await;
    assert_eq!(no.status, StatusCode::FORBIDDEN);
    std::thread::sleep(std::time::Duration::from_millis(2200));
    let up = c.post(&approve, Some(&lee_cookie), &[]).await;
    assert_eq!(up.status, StatusCode::SEE_OTHER);
    assert!(
        up.location.as_deref().unwrap().starts_with("/step-up?"),
        "{:?}",
        up.location
    );
    let versions = |c: &Console| {
        let store = c.fixture.store.clone();
        std::thread::spawn(move || store.notice_versions(id).unwrap())
            .join()
            .unwrap()
    };
    assert_eq!(versions(&c)[0].state, bulwark_notice::VersionState::Draft);
    let stepped = c
        .post(
            "/step-up",
            Some(&lee_cookie),
            &[
                ("code", &lee.recovery_free_code()),
                ("next", &format!("/incidents/{id}/letters")),
            ],
        )
        .await;
    assert_eq!(stepped.status, StatusCode::SEE_OTHER, "{}", stepped.body);
    let lee_cookie = cookie_pair(&stepped);
    let done = c.post(&approve, Some(&lee_cookie), &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let v = &versions(&c)[0];
    assert_eq!(v.state, bulwark_notice::VersionState::Approved);
    assert_eq!(v.approved_by.as_deref(), Some("lee"));
    let l = c
        .get(&format!("/incidents/{id}/letters"), Some(&lee_cookie))
        .await;
    assert!(l.body.contains("approved by lee"), "{}", l.body);
    assert!(l.body.contains("Delivery"));

    // Nothing personal reached the server's log on the way.
    let text = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
    assert!(!text.is_empty(), "the log was captured");
    for canary in [CANARY_NAME, CANARY_EMAIL, "zebedee"] {
        assert!(
            !text.to_lowercase().contains(&canary.to_lowercase()),
            "{canary} in the log"
        );
    }
}

#[tokio::test]
async fn customer_service_answers_was_i_affected_and_every_lookup_is_logged() {
    let captured = captured_log();
    let c = console();
    let cs = c
        .enrol("cara", &[OperatorRole::Team(Role::CustomerService)])
        .await;
    let pr = c.enrol("pat", &[OperatorRole::Team(Role::PrComms)]).await;
    let id = incident_in_scope(&c);
    let cara = cookie_pair(&c.sign_in("cara", &cs.recovery_free_code(), None).await);
    let pat = cookie_pair(&c.sign_in("pat", &pr.recovery_free_code(), None).await);
    assert_eq!(
        c.get("/lookup", Some(&pat)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(c.get("/lookup", Some(&cara)).await.status, StatusCode::OK);

    // A purpose is required; nothing is looked up without one.
    let no = c
        .post(
            "/lookup",
            Some(&cara),
            &[("by", "email"), ("value", CANARY_EMAIL), ("purpose", "")],
        )
        .await;
    assert_eq!(no.status, StatusCode::BAD_REQUEST);

    let hit = c
        .post(
            "/lookup",
            Some(&cara),
            &[
                ("by", "email"),
                ("value", &CANARY_EMAIL.to_uppercase()),
                ("purpose", "ticket 4711"),
            ],
        )
        .await;
    assert_eq!(hit.status, StatusCode::OK, "{}", hit.body);
    assert!(
        hit.body.contains("<strong>affected</strong>"),
        "{}",
        hit.body
    );
    assert!(hit
        .body
        .contains(&format!("{id}: Stolen admin key read customers")));
    assert!(hit.body.contains("name, email, password"), "{}", hit.body);
    assert!(!hit.body.contains(CANARY_NAME), "no other personal data");

    let miss = c
        .post(
            "/lookup",
            Some(&cara),
            &[
                ("by", "email"),
                ("value", "nobody@example.test"),
                ("purpose", "ticket 4712"),
            ],
        )
        .await;
    assert!(miss.body.contains("No customer matches"), "{}", miss.body);

    // Both lookups are in the access log as cara's, with their purposes.
    let store = c.fixture.store.clone();
    let log = std::thread::spawn(move || {
        store
            .access_log(&bulwark_store::AccessFilter {
                principal: Some("operator:cara".into()),
                limit: 10,
                ..Default::default()
            })
            .unwrap()
    })
    .join()
    .unwrap();
    let purposes: Vec<_> = log
        .iter()
        .map(|a| a.purpose.clone().unwrap_or_default())
        .collect();
    assert_eq!(purposes, ["ticket 4711", "ticket 4712"], "{log:?}");
    assert_eq!(log[0].result_count, Some(1));
    assert_eq!(log[1].result_count, Some(0));
    // The e-mail typed into the lookup never reaches the server's log.
    let text = String::from_utf8_lossy(&captured.lock().unwrap()).to_lowercase();
    assert!(!text.contains("zebedee") && !text.contains("nobody@example.test"));
}

#[tokio::test]
async fn the_audit_page_verifies_the_ledger_and_signs_off_the_access_review() {
    let c = console_with(bulwark_access::SessionPolicy {
        step_up: std::time::Duration::from_secs(2),
        ..Default::default()
    });
    let admin = c
        .enrol(
            "ada",
            &[
                OperatorRole::Admin,
                OperatorRole::Team(Role::ExecutiveSponsor),
            ],
        )
        .await;
    let codes = c.last_codes.lock().unwrap().clone();
    let ada = cookie_pair(&c.sign_in("ada", &codes[0], None).await);
    let page = c.get("/audit", Some(&ada)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("operator.enrolled"),
        "operator activity: {}",
        page.body
    );
    let v = c.post("/audit/verify", Some(&ada), &[]).await;
    assert!(v.body.contains("The ledger verifies"), "{}", v.body);

    // The bootstrap key is reviewed: revoked, with a reason, after step-up;
    // ada's own account is kept.
    let key = c.fixture.admin_key.split('_').nth(1).unwrap().to_owned();
    assert!(page.body.contains(&format!("key:{key}")), "{}", page.body);
    assert!(page.body.contains("operator:ada"), "{}", page.body);
    let decision = format!("decision:key:{key}");
    let reason = format!("reason:key:{key}");
    let form = [
        (decision.as_str(), "revoke"),
        (reason.as_str(), "bootstrap key, not needed"),
        ("decision:operator:ada", "keep"),
        ("reason:operator:ada", "the administrator"),
    ];
    std::thread::sleep(std::time::Duration::from_millis(2200));
    let up = c.post("/audit/review", Some(&ada), &form).await;
    assert!(
        up.location.as_deref().unwrap_or("").starts_with("/step-up"),
        "{:?}",
        up.location
    );
    let stepped = c
        .post(
            "/step-up",
            Some(&ada),
            &[("code", &admin.recovery_free_code()), ("next", "/audit")],
        )
        .await;
    let ada = cookie_pair(&stepped);
    let done = c.post("/audit/review", Some(&ada), &form).await;
    assert!(
        done.body
            .contains("1 key(s) revoked, 0 operator(s) disabled"),
        "{}",
        done.body
    );
    let store = c.fixture.store.clone();
    let entry = std::thread::spawn(move || store.ledger_recent(None, 5).unwrap())
        .join()
        .unwrap()
        .into_iter()
        .find(|e| e.action == "access_review.signed_off")
        .expect("the sign-off is in the ledger");
    assert_eq!(entry.actor, "operator:ada");
}

/// Every account on the console's review, decided: `revoke` for the listed
/// subjects, `keep` for the rest, each with a reason.
fn review_form(page: &str, revoke: &[&str]) -> Vec<(String, String)> {
    let mut form = Vec::new();
    for chunk in page.split("name=\"decision:").skip(1) {
        let subject = chunk.split('"').next().unwrap().to_owned();
        if form
            .iter()
            .any(|(k, _): &(String, String)| k == &format!("decision:{subject}"))
        {
            continue;
        }
        let d = if revoke.contains(&subject.as_str()) {
            "revoke"
        } else {
            "keep"
        };
        form.push((format!("decision:{subject}"), d.to_owned()));
        form.push((format!("reason:{subject}"), format!("reviewed: {d}")));
    }
    form
}

#[tokio::test]
async fn the_console_review_revokes_keys_and_operators_and_a_non_owner_changes_nothing() {
    let c = console();
    c.enrol(
        "boss",
        &[
            OperatorRole::Team(Role::ExecutiveSponsor),
            OperatorRole::Admin,
        ],
    )
    .await;
    let boss_code = c.last_codes.lock().unwrap()[0].clone();
    c.enrol("lee", &[OperatorRole::Team(Role::Legal)]).await;
    let lee_codes = c.last_codes.lock().unwrap().clone();
    let boss = cookie_pair(&c.sign_in("boss", &boss_code, None).await);
    let lee = cookie_pair(&c.sign_in("lee", &lee_codes[0], None).await);
    let admin = c.fixture.admin_key.clone();
    let key = format!("key:{}", admin.split('_').nth(1).unwrap());
    let (s, _) = c.api(Method::GET, "/v1/keys", &admin, None).await;
    assert_eq!(s, StatusCode::OK);

    // Lee (legal) may read the review but does not own its duties: refused,
    // said plainly, and nothing changes.
    let page = c.get("/audit", Some(&lee)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let form = review_form(&page.body, &[&key, "operator:lee"]);
    for subject in [key.as_str(), "operator:lee", "operator:boss"] {
        assert!(
            form.iter()
                .any(|(k, _)| k == &format!("decision:{subject}")),
            "{subject} is on the review: {form:?}"
        );
    }
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let ledger = c.fixture.store.ledger_len().unwrap();
    let refused = c.post("/audit/review", Some(&lee), &pairs).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(
        refused.body.contains("Not signed off, nothing was changed")
            && refused.body.contains("owner role"),
        "{}",
        refused.body
    );
    assert_eq!(c.fixture.store.ledger_len().unwrap(), ledger);
    let (s, _) = c.api(Method::GET, "/v1/keys", &admin, None).await;
    assert_eq!(s, StatusCode::OK, "the key still works");
    assert_eq!(c.get("/", Some(&lee)).await.status, StatusCode::OK);

    // An incomplete review is refused too, naming what is missing.
    let partial = c.post("/audit/review", Some(&boss), &pairs[..2]).await;
    assert_eq!(partial.status, StatusCode::BAD_REQUEST, "{}", partial.body);
    assert!(
        partial.body.contains("have no decision"),
        "{}",
        partial.body
    );

    // The owner signs off: the key is refused at once, lee is disabled.
    let done = c.post("/audit/review", Some(&boss), &pairs).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        done.body
            .contains("1 key(s) revoked, 1 operator(s) disabled"),
        "{}",
        done.body
    );
    let (s, v) = c.api(Method::GET, "/v1/keys", &admin, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    assert_eq!(
        c.get("/", Some(&lee)).await.status,
        StatusCode::SEE_OTHER,
        "lee's session ended"
    );
    let again = c
        .post("/login", None, &[("account", "lee"), ("password", GOOD)])
        .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "{}", again.body);
    assert!(!again.body.contains("name=\"ticket\""));
    // The review no longer lists what it revoked.
    let page = c.get("/audit", Some(&boss)).await;
    assert!(!page.body.contains(&format!("decision:{key}")));
    assert!(!page.body.contains("decision:operator:lee"));
}

impl Console {
    /// A JSON request to the API with `Authorization: Bearer <token>`.
    async fn api(
        &self,
        method: Method,
        uri: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> (StatusCode, serde_json::Value) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        )
    }
}

#[tokio::test]
async fn over_the_api_only_a_signed_in_legal_operator_approves_and_admins_manage_operators() {
    let c = console();
    c.enrol("lee", &[OperatorRole::Team(Role::Legal)]).await;
    let code = c.last_codes.lock().unwrap()[0].clone();
    let id = incident_in_scope(&c);
    let signed = c.sign_in("lee", &code, None).await;
    let token = cookie_pair(&signed).split_once('=').unwrap().1.to_owned();
    let admin = c.fixture.admin_key.clone();

    let (s, v) = c
        .api(
            Method::POST,
            &format!("/v1/incidents/{id}/notices"),
            &token,
            Some(serde_json::json!({"facts": FACTS})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["state"], "draft");
    let approve = format!("/v1/incidents/{id}/notices/{}/approve", v["version"]);
    let (s, v) = c.api(Method::POST, &approve, &admin, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["type"], "urn:bulwark:problem:operator-required");
    let (s, v) = c.api(Method::POST, &approve, &token, None).await;
    assert_eq!(
        (s, &v["approved"]),
        (StatusCode::OK, &serde_json::json!(true)),
        "{v}"
    );
    let (s, v) = c
        .api(
            Method::GET,
            &format!("/v1/incidents/{id}/notices"),
            &token,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["versions"][0]["approved_by"], "lee");
    assert_eq!(v["delivery"][0]["jurisdiction"], "US-CA");

    // Operators: an admin key lists and adds; a legal operator may not.
    let (s, _) = c.api(Method::GET, "/v1/operators", &token, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = c
        .api(
            Method::POST,
            "/v1/operators",
            &admin,
            Some(serde_json::json!({"id": "cara", "name": "Cara Service", "roles": ["customer_service"]})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(
        v["enrolment_url"].as_str().unwrap().contains("/enrol/bwe_"),
        "{v}"
    );
    let (s, v) = c
        .api(
            Method::POST,
            "/v1/operators",
            &admin,
            Some(serde_json::json!({"id": "cara", "name": "Again", "roles": ["legal"]})),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, v) = c
        .api(
            Method::POST,
            "/v1/operators/lee/disable",
            &admin,
            Some(serde_json::json!({})),
        )
        .await;
    assert_eq!(
        (s, v["sessions_ended"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{v}"
    );
    // Disabled: lee's token stops working at once.
    let (s, _) = c
        .api(
            Method::GET,
            &format!("/v1/incidents/{id}/notices"),
            &token,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_operator_changes_their_password_and_their_other_sessions_end() {
    let c = console();
    let secret = c
        .enrol("ines", &[OperatorRole::Team(Role::SecurityLead)])
        .await;
    let codes = c.last_codes.lock().unwrap().clone();
    let one = cookie_pair(&c.sign_in("ines", &codes[0], None).await);
    let two = cookie_pair(&c.sign_in("ines", &secret.recovery_free_code(), None).await);
    let wrong = c
        .post(
            "/password",
            Some(&one),
            &[
                ("current", "not it at all"),
                ("new", "a brand new long passphrase"),
                ("again", "a brand new long passphrase"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(wrong.body.contains("current password is not right"));
    let weak = c
        .post(
            "/password",
            Some(&one),
            &[
                ("current", GOOD),
                ("new", "password123"),
                ("again", "password123"),
            ],
        )
        .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST, "{}", weak.body);
    let new = "violet kayak under a quiet bridge";
    let ok = c
        .post(
            "/password",
            Some(&one),
            &[("current", GOOD), ("new", new), ("again", new)],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert!(ok.body.contains("1 other session(s) ended"), "{}", ok.body);
    assert_eq!(
        c.get("/", Some(&one)).await.status,
        StatusCode::OK,
        "this session goes on"
    );
    assert_eq!(
        c.get("/", Some(&two)).await.status,
        StatusCode::SEE_OTHER,
        "the other ended"
    );
    let old = c
        .post("/login", None, &[("account", "ines"), ("password", GOOD)])
        .await;
    assert_eq!(
        old.status,
        StatusCode::UNAUTHORIZED,
        "the old password no longer works"
    );
}

#[tokio::test]
async fn evidence_verifies_and_exports_from_the_incident_page_and_tampering_shows() {
    let c = console();
    let ic = c
        .enrol("ivan", &[OperatorRole::Team(Role::IncidentCommander)])
        .await;
    let id = incident_in_scope(&c);
    let cookie = cookie_pair(&c.sign_in("ivan", &ic.recovery_free_code(), None).await);
    // The commander's home lists the containment the playbook still has to run.
    let home = c.get("/", Some(&cookie)).await;
    assert!(home.body.contains("Containment to run"), "{}", home.body);
    assert!(
        home.body.contains(&format!("/incidents/{id}#containment")),
        "an open containment task of the credential-theft playbook: {}",
        home.body
    );
    let store = c.fixture.store.clone();
    let dir = c.fixture.dir.clone();
    let sha = std::thread::spawn(move || {
        let file = dir.join("nginx-access.log");
        std::fs::write(
            &file,
            "203.0.113.9 - - [01/Dec/2026:10:00:00 +0000] \"GET /admin\" 200 1\n",
        )
        .unwrap();
        store
            .add_evidence(id, &file, Some("web log".into()), None, "operator:ivan")
            .unwrap()
            .sha256
    })
    .join()
    .unwrap();
    let ok = c
        .post(
            &format!("/incidents/{id}/evidence/verify"),
            Some(&cookie),
            &[],
        )
        .await;
    assert!(
        ok.body.contains("All 1 evidence item(s) verify"),
        "{}",
        ok.body
    );
    let out = c
        .post(
            &format!("/incidents/{id}/evidence/export"),
            Some(&cookie),
            &[],
        )
        .await;
    assert!(out.body.contains("1 item(s) sealed into"), "{}", out.body);
    let scope = c
        .get(&format!("/incidents/{id}/scope"), Some(&cookie))
        .await;
    assert!(
        scope.body.contains("Versions") && scope.body.contains("v1"),
        "{}",
        scope.body
    );
    // A file altered in the locker no longer verifies.
    let locker = c.fixture.dir.join("evidence").join(&sha);
    std::fs::write(&locker, "edited").unwrap();
    let bad = c
        .post(
            &format!("/incidents/{id}/evidence/verify"),
            Some(&cookie),
            &[],
        )
        .await;
    assert!(bad.body.contains("Evidence NOT intact: #"), "{}", bad.body);
}

#[tokio::test]
async fn a_drill_is_started_followed_stopped_and_finished_in_the_console() {
    let c = console_detecting();
    let secret = c
        .enrol("sam", &[OperatorRole::Team(Role::SecurityLead)])
        .await;
    let signed = c.sign_in("sam", &secret.recovery_free_code(), None).await;
    let cookie = cookie_pair(&signed);
    let list = c.get("/drills", Some(&cookie)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list
        .body
        .contains("Stolen API key mass-revealing customers"));
    assert!(list.body.contains("No drill has run yet"));
    let bad = c
        .post(
            "/drills",
            Some(&cookie),
            &[("scenario", "stolen-api-key"), ("speed", "fast")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("from 1 to 10000"), "{}", bad.body);
    let started = c
        .post(
            "/drills",
            Some(&cookie),
            &[("scenario", "stolen-api-key"), ("speed", "20")],
        )
        .await;
    assert_eq!(
        (started.status, started.location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/drills/1")),
        "{}",
        started.body
    );
    let page = c.get("/drills/1", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("drill 1") && page.body.contains("<strong>running</strong>"),
        "{}",
        page.body
    );
    let stop = c.post("/drills/1", Some(&cookie), &[("do", "stop")]).await;
    assert_eq!(stop.status, StatusCode::SEE_OTHER);
    let page = c.get("/drills/1", Some(&cookie)).await;
    assert!(
        page.body.contains("<strong>stopped</strong>") && page.body.contains("value=\"resume\""),
        "{}",
        page.body
    );
    let again = c.post("/drills/1", Some(&cookie), &[("do", "stop")]).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(
        again.body.contains("is stopped, not running"),
        "{}",
        again.body
    );
    let finish = c
        .post("/drills/1", Some(&cookie), &[("do", "finish")])
        .await;
    assert_eq!(finish.status, StatusCode::SEE_OTHER);
    let page = c.get("/drills/1", Some(&cookie)).await;
    assert!(
        page.body.contains("<strong>finished</strong>"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Unable to be performed"),
        "nothing was done: {}",
        page.body
    );
    let report = c.get("/drills/1/report", Some(&cookie)).await;
    assert_eq!(report.status, StatusCode::OK);
    assert!(
        report.body.contains("After-action report"),
        "{}",
        report.body
    );
    let list = c.get("/drills", Some(&cookie)).await;
    assert!(
        list.body.contains("Improvement plan")
            && list.body.contains("(<a href=\"/drills/1\">drill 1</a>)"),
        "{}",
        list.body
    );
    let missing = c.get("/drills/99", Some(&cookie)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_compliance_page_flags_overdue_duties_first_and_records_a_completion() {
    let c = console();
    c.enrol("ada", &[OperatorRole::Admin]).await;
    let ada_code = c.last_codes.lock().unwrap()[0].clone();
    c.enrol("lee", &[OperatorRole::Team(Role::Legal)]).await;
    let lee_code = c.last_codes.lock().unwrap()[0].clone();
    let ada = cookie_pair(&c.sign_in("ada", &ada_code, None).await);
    let lee = cookie_pair(&c.sign_in("lee", &lee_code, None).await);
    const SCAN: &str = "pci-11.3.1-internal-scan";

    // The quarterly scan was last done 200 days ago.
    let store = c.fixture.store.clone();
    let old_report = c.fixture.dir.join("asv-q1.pdf");
    std::fs::write(&old_report, b"%PDF-1.7 Q1").unwrap();
    std::thread::spawn(move || {
        let today = time::OffsetDateTime::now_utc().date();
        store
            .complete_duty_with_document(
                &bulwark_learn::Calendar::builtin().unwrap(),
                bulwark_store::Completion {
                    duty: SCAN.into(),
                    on: today - time::Duration::days(200),
                    evidence: bulwark_learn::EvidenceKind::ScanReport,
                    reference: None,
                },
                &old_report,
                today,
                "owner:test",
            )
            .unwrap();
    })
    .join()
    .unwrap();

    let page = c.get("/compliance", Some(&ada)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page
        .body
        .contains("href=\"/compliance\" aria-current=\"page\""));
    assert!(page.body.contains("1 overdue"), "{}", page.body);
    assert_eq!(
        page.body.matches("class=\"overdue\">overdue ").count(),
        1,
        "{}",
        page.body
    );
    let scan = page.body.find(SCAN).unwrap();
    let plan = page.body.find("pci-12.10.2-plan-test").unwrap();
    assert!(scan < plan, "the overdue duty first");
    assert!(page
        .body
        .contains(&format!("action=\"/compliance/{SCAN}\"")));

    // Legal neither administers nor owns the scan: refused, said plainly.
    let uri = format!("/compliance/{SCAN}");
    let form = [("evidence", "scan_report"), ("reference", "asv-q3.pdf")];
    let refused = c.post(&uri, Some(&lee), &form).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("Not recorded"), "{}", refused.body);
    // The wrong kind of evidence is refused too.
    let wrong = c.post(&uri, Some(&ada), &[("evidence", "document")]).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.body);
    assert!(wrong.body.contains("scan_report"), "{}", wrong.body);

    // The page's form is a file upload; a scan report without its file is
    // refused, saying so.
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    assert!(page.body.contains("name=\"document\" type=\"file\""));
    let fields = [("evidence", "scan_report"), ("reference", "Acme ASV")];
    let bare = c
        .post_multipart(&uri, &ada, &fields, ("document", "", b""))
        .await;
    assert_eq!(bare.status, StatusCode::BAD_REQUEST, "{}", bare.body);
    assert!(bare.body.contains("attach the file"), "{}", bare.body);

    let report = b"%PDF-1.7 ASV scan Q3 <script>alert(1)</script>";
    let done = c
        .post_multipart(&uri, &ada, &fields, ("document", "asv q3.pdf", report))
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("recorded as done"), "{}", done.body);
    assert!(done.body.contains("0 overdue"), "{}", done.body);
    // Listed with its document, which downloads as a file and is never
    // rendered in a page.
    let link = between(&done.body, "<a href=\"/compliance/completions/", "\"").to_owned();
    assert!(done.body.contains(">asv_q3.pdf</a>"), "{}", done.body);
    assert!(!done.body.contains("<script>alert"), "{}", done.body);
    let got = c
        .get(&format!("/compliance/completions/{link}"), Some(&ada))
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body.as_bytes(), report);
    let missing = c
        .get("/compliance/completions/999/document", Some(&ada))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn over_the_api_a_failed_training_attempt_keeps_the_assignment_open_and_a_pass_completes_it()
{
    let c = console();
    c.enrol("ana", &[OperatorRole::Team(Role::SecurityLead)])
        .await;
    let code = c.last_codes.lock().unwrap()[0].clone();
    let signed = c.sign_in("ana", &code, None).await;
    let token = cookie_pair(&signed).split_once('=').unwrap().1.to_owned();
    let admin = c.fixture.admin_key.clone();

    let (s, v) = c
        .api(
            Method::POST,
            "/v1/training/assignments",
            &admin,
            Some(serde_json::json!({"operator": "ana", "module": "phishing"})),
        )
        .await;
    assert_eq!(
        (s, &v["added"]),
        (StatusCode::CREATED, &serde_json::json!(1)),
        "{v}"
    );
    let (s, v) = c
        .api(
            Method::POST,
            "/v1/training/assignments",
            &admin,
            Some(serde_json::json!({"operator": "ana", "role": "legal"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    // An attempt is a person's own: not an API key's, and never with a score
    // the client made up.
    let wrong = serde_json::json!({"module": "phishing", "answers": [0, 0, 0, 0, 0]});
    let (s, v) = c
        .api(
            Method::POST,
            "/v1/training/attempts",
            &admin,
            Some(wrong.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = c
        .api(
            Method::POST,
            "/v1/training/attempts",
            &token,
            Some(serde_json::json!({"module": "phishing", "answers": [0], "score": 100, "passed": true})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    let (s, v) = c
        .api(Method::POST, "/v1/training/attempts", &token, Some(wrong))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["passed"], false, "{v}");
    assert_eq!(v["attempts_left"], 2, "{v}");
    let (s, v) = c.api(Method::GET, "/v1/training", &admin, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let row = &v["assignments"][0];
    assert_eq!(row["person"], "ana");
    assert_eq!(
        row["last_passed"],
        serde_json::Value::Null,
        "still open: {v}"
    );
    assert_eq!(row["failed_attempts"], 1);

    let module = bulwark_learn::TrainingSet::builtin().unwrap();
    let right: Vec<usize> = module
        .get("phishing")
        .unwrap()
        .questions
        .iter()
        .map(|q| q.answer)
        .collect();
    let (s, v) = c
        .api(
            Method::POST,
            "/v1/training/attempts",
            &token,
            Some(serde_json::json!({"module": "phishing", "answers": right, "acknowledged": true})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        (v["passed"].clone(), v["score"].clone()),
        (serde_json::json!(true), serde_json::json!(100))
    );
    let (_, v) = c.api(Method::GET, "/v1/training", &admin, None).await;
    let row = &v["assignments"][0];
    let today = time::OffsetDateTime::now_utc().date().to_string();
    assert_eq!(row["last_passed"], today.as_str(), "{v}");
    assert_eq!(row["acknowledged"], true);
    assert_eq!(row["state"], "current");
}
