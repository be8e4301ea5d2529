//! Notices rendered to the outbox per second, end to end: the scope snapshot
//! read, names and addresses revealed through the access log (one durable
//! batch per 8,192 customers), each letter checked against its jurisdiction's
//! laws and filled, its personal values sealed, and the outbox rows committed.
//! Printed as a table. Run:
//!
//!     cargo bench -p bulwark-store --bench notices [-- CUSTOMERS]
//!
//! For contrast it also renders letters one by one from the templates (what
//! a stencil saves), in the same run. Every seventh customer prefers Spanish.

use std::time::Instant;

use bulwark_incident::{Classification, NewIncident, PlaybookSet, Severity};
use bulwark_law::{evaluate, Catalogue, Scenario};
use bulwark_model::{DataElement, Scope, Scopes};
use bulwark_notice::{letter_rules, Letter, NoticeFacts, Renderer, TemplateSet};
use bulwark_store::{Channels, NewCustomer, Principal, RenderNotices};

const FACTS: &str = r#"
store = "Example Outdoor Gear"
what_happened = "An attacker used a stolen administrator key to read customer records."
breach_start = "2026-10-01"
store_actions = "We revoked the key and engaged forensic investigators."
consequences = "Your information could be used for phishing."
regulator_notified = "We have notified the data protection authority."
complaint_process = "To complain to us, write to privacy@example.test; our privacy officer answers within 30 days."
[contact]
phone = "1-800-555-0100"
email = "privacy@example.test"
"#;

const PLACES: [(&str, Option<&str>); 10] = [
    ("US", Some("US-CA")),
    ("US", Some("US-TX")),
    ("US", Some("US-NY")),
    ("US", Some("US-FL")),
    ("US", Some("US-MA")),
    ("DE", None),
    ("FR", None),
    ("GB", None),
    ("CA", Some("CA-QC")),
    ("AU", None),
];

fn main() {
    let n: usize = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(100_000);
    // A data directory with the cheapest KDF (the kit the tests use).
    let fixture = bulwark_testkit::StoreFixture::new();
    let store = fixture.store.clone();
    let who = Principal {
        id: "operator:bench".into(),
        name: "bench".into(),
        key_id: None,
        scopes: Scopes::new([Scope::VaultRevealAll, Scope::Admin]),
    };
    eprintln!("creating {n} customers…");
    let pending: Vec<_> = (0..n)
        .map(|i| {
            let (country, sub) = PLACES[i % PLACES.len()];
            let residency = match sub {
                Some(s) => serde_json::json!({"country": country, "subdivision": s}),
                None => serde_json::json!({"country": country}),
            };
            // Every seventh customer prefers Spanish letters: more shapes, and
            // the language choice on every customer's path.
            let language = (i % 7 == 0).then_some("es");
            let new: NewCustomer = serde_json::from_value(serde_json::json!({
                "residency": residency,
                "language": language,
                "fields": {"email": format!("customer{i}@example.com"), "name": format!("Customer Number {i}"),
                           "password": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"}
            }))
            .expect("doc");
            store.create_customer(&new, &who).expect("create")
        })
        .collect();
    let ids: Vec<String> = pending
        .into_iter()
        .map(|p| p.wait_blocking().expect("created").to_string())
        .collect();
    let aware = time::macros::datetime!(2026-10-21 09:00 UTC);
    let incident = store
        .open_incident(
            NewIncident::new(
                "bench",
                Severity::Sev1,
                Classification::CredentialTheft,
                aware,
                aware,
            ),
            PlaybookSet::builtin().expect("playbooks"),
            "operator:bench",
        )
        .wait_blocking()
        .expect("incident");
    let elements = [DataElement::Name, DataElement::Email, DataElement::Password];
    let customers: Vec<serde_json::Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let (country, sub) = PLACES[i % PLACES.len()];
            serde_json::json!({"id": id, "residency": {"country": country, "subdivision": sub}, "elements": elements, "reveals": 1})
        })
        .collect();
    let affected: Vec<serde_json::Value> = PLACES
        .iter()
        .map(|(c, s)| serde_json::json!({"jurisdiction": s.unwrap_or(c), "elements": elements, "count": n / PLACES.len()}))
        .collect();
    store
        .save_scope_snapshot(
            incident,
            serde_json::json!({"affected": affected}),
            serde_json::Value::Array(customers),
            "operator:bench",
        )
        .wait_blocking()
        .expect("scope");
    let scenario: Scenario = serde_json::from_value(serde_json::json!({
        "aware_at": "2026-10-21T09:00:00Z", "encrypted": false, "key_compromised": false, "affected": affected,
    }))
    .expect("scenario");
    let evaluation = evaluate(&Catalogue::builtin().expect("laws"), &scenario).expect("evaluate");
    let facts = NoticeFacts::from_toml(FACTS).expect("facts");

    // Baseline: every letter rendered from the templates, no stencil, no I/O.
    let renderer = Renderer::new(&TemplateSet::builtin()).expect("templates");
    let rules = letter_rules(&evaluation);
    let prepared = renderer.prepare(&facts, "2026-11-02", &rules);
    let sample = 5_000.min(n);
    let t = Instant::now();
    for i in 0..sample {
        let (c, s) = PLACES[i % PLACES.len()];
        prepared
            .letter(&Letter {
                name: Some("Customer Number 1"),
                jurisdiction: s.unwrap_or(c),
                language: None,
                elements: &elements,
                enrolment_code: None,
            })
            .expect("letter");
    }
    let per_letter = sample as f64 / t.elapsed().as_secs_f64();

    let t = Instant::now();
    let report = store
        .render_notices(&RenderNotices {
            incident,
            facts,
            templates: TemplateSet::builtin(),
            evaluation,
            notice_date: "2026-11-02".into(),
            channels: Channels::Email,
            actor: who,
            reissue: false,
        })
        .expect("render");
    let took = t.elapsed();
    assert_eq!(report.refused_total, 0, "{:?}", report.refused);
    assert_eq!(report.queued_email as usize, n);
    let rate = n as f64 / took.as_secs_f64();
    println!("| what | figure |");
    println!("|---|---|");
    println!(
        "| customers in scope | {n} in {} jurisdictions, {} letter shapes; letters by language {:?}, {} not in the preferred language |",
        PLACES.len(),
        report.stencils,
        report.languages,
        report.language_fallback_total
    );
    println!("| rendered to the outbox (reveal + check + fill + seal + durable insert) | {:.2} s → **{rate:.0} notices/s** |", took.as_secs_f64());
    println!("| baseline: each letter rendered from the templates (text + HTML + subject, checked), no I/O | {per_letter:.0} letters/s |");
    println!("| ratio | {:.1}× |", rate / per_letter);
}
