//! Customers' language preference: validated and normalised, kept across
//! patches and re-opening, added to older data directories by the schema
//! migration, and followed by the notice render (with the fallbacks reported).

use crate::common::*;
use bulwark_incident::{Classification, NewIncident, PlaybookSet, Severity};
use bulwark_law::{evaluate, Catalogue, Scenario};
use bulwark_notice::{NoticeFacts, TemplateSet};
use bulwark_store::{
    Channels, CustomerPatch, CustomerWriteError, LanguageFallback, RenderNotices, Store, StoreError,
};
use serde_json::json;
use uuid::Uuid;

fn patch(json: serde_json::Value) -> CustomerPatch {
    serde_json::from_value(json).unwrap()
}

fn language(store: &Store, id: Uuid) -> Option<String> {
    store.customer_meta(id).unwrap().language
}

fn ledgered(dir: &std::path::Path, action: &str) -> Vec<serde_json::Value> {
    let db = sqlite(dir, "bulwark.db");
    let mut stmt = db
        .prepare("SELECT details FROM ledger WHERE action = ?1 ORDER BY seq")
        .unwrap();
    stmt.query_map([action], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|d| serde_json::from_str(&d.unwrap()).unwrap())
        .collect()
}

#[test]
fn a_language_preference_is_validated_stored_patched_and_removed() {
    let f = fixture();
    let who = principal(&["vault:write", "vault:read"]);
    let id = f
        .store
        .create_customer(
            &customer(
                json!({"residency": {"country": "US", "subdivision": "US-TX"}, "language": "pt-BR",
                             "fields": {"name": "Ana Souza"}}),
            ),
            &who,
        )
        .unwrap()
        .wait_blocking()
        .unwrap();
    assert_eq!(
        language(&f.store, id).as_deref(),
        Some("pt"),
        "stored as its ISO 639-1 code"
    );
    let meta = serde_json::to_value(f.store.customer_meta(id).unwrap()).unwrap();
    assert_eq!(meta["language"], "pt");

    for bad in ["xx", "portuguese", "p", " pt", "pt-", "123"] {
        let err = f
            .store
            .create_customer(
                &customer(json!({"residency": {"country": "PT"}, "language": bad, "fields": {}})),
                &who,
            )
            .err()
            .unwrap_or_else(|| panic!("{bad:?} accepted"));
        let CustomerWriteError::Invalid(e) = err else {
            panic!("{bad:?}: {err}")
        };
        assert_eq!(e.0.len(), 1);
        assert_eq!(e.0[0].field, "language");
        assert!(e.0[0].message.contains("ISO 639-1"), "{}", e.0[0].message);
        if ["portuguese", "123"].contains(&bad) {
            assert!(
                !e.to_string().contains(bad.trim()),
                "the value is not echoed: {e}"
            );
        }
    }

    let apply = |p: serde_json::Value| {
        f.store
            .update_customer(id, patch(p), &who)
            .map(|pending| pending.wait_blocking())
    };
    apply(json!({"language": "ES"})).unwrap().unwrap();
    assert_eq!(language(&f.store, id).as_deref(), Some("es"));
    // A patch without the member leaves the preference alone.
    apply(json!({"fields": {"email": "ana@example.test"}}))
        .unwrap()
        .unwrap();
    assert_eq!(language(&f.store, id).as_deref(), Some("es"));
    // A refused patch changes nothing.
    assert!(matches!(
        apply(json!({"language": "klingon", "fields": {"phone": "+1 512 555 0100"}})),
        Err(CustomerWriteError::Invalid(_))
    ));
    assert_eq!(language(&f.store, id).as_deref(), Some("es"));
    // It survives re-opening the data directory.
    let dir = f.dir.clone();
    assert_eq!(language(&reopen(&dir), id).as_deref(), Some("es"));
    // `null` removes it.
    apply(json!({"language": null})).unwrap().unwrap();
    assert_eq!(language(&f.store, id), None);
    assert!(serde_json::to_value(f.store.customer_meta(id).unwrap())
        .unwrap()
        .get("language")
        .is_none());

    // The ledger records the changes, never a personal value.
    let created = ledgered(&dir, "customer.created");
    assert_eq!(created[0]["language"], "pt");
    let updates = ledgered(&dir, "customer.updated");
    let langs: Vec<&serde_json::Value> = updates.iter().filter_map(|d| d.get("language")).collect();
    assert_eq!(langs, [&json!("es"), &json!(null)]);
    for d in updates.iter().chain(&created) {
        let t = d.to_string();
        assert!(!t.contains("Ana") && !t.contains("example.test"), "{t}");
    }
}

#[test]
fn an_older_data_directory_opens_and_gets_the_language_column() {
    let Fixture {
        _tmp, dir, store, ..
    } = fixture();
    let who = principal(&["vault:write", "vault:read"]);
    let id = store
        .create_customer(
            &customer(json!({"residency": {"country": "DE"}, "fields": {"name": "Max"}})),
            &who,
        )
        .unwrap()
        .wait_blocking()
        .unwrap();
    drop(store);
    // What a schema-1 directory looks like: no column, no index, version 1.
    {
        let db = sqlite(&dir, "bulwark.db");
        db.execute_batch(
            "DROP INDEX customers_language;
             ALTER TABLE customers DROP COLUMN language;
             ALTER TABLE compliance_completions DROP COLUMN document_sha256;
             ALTER TABLE compliance_completions DROP COLUMN document_name;
             ALTER TABLE compliance_completions DROP COLUMN document_size;
             UPDATE meta SET value = '1' WHERE key = 'schema_version';",
        )
        .unwrap();
        let has_column: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM pragma_table_info('customers') WHERE name = 'language'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(has_column, 0);
    }
    let store = reopen(&dir);
    {
        let db = sqlite(&dir, "bulwark.db");
        let version: String = db
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(version, "3");
        let indexed: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'customers_language'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(indexed, 1);
    }
    assert_eq!(
        language(&store, id),
        None,
        "old customers have no preference"
    );
    store
        .update_customer(id, patch(json!({"language": "de"})), &who)
        .unwrap()
        .wait_blocking()
        .unwrap();
    assert_eq!(language(&store, id).as_deref(), Some("de"));
    assert_eq!(
        ledgered(&dir, "store.migrated"),
        [json!({"from_schema_version": 1, "schema_version": 3})]
    );
    store.verify_ledger(None, |_| {}).unwrap();
    drop(store);
    // Opening again migrates nothing more.
    drop(reopen(&dir));
    assert_eq!(ledgered(&dir, "store.migrated").len(), 1);

    // A directory written by a newer binary is refused, untouched.
    sqlite(&dir, "bulwark.db")
        .execute(
            "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    let err = Store::open(&dir, Some(&secret(PASS))).err().unwrap();
    assert!(
        matches!(
            err,
            StoreError::SchemaVersion {
                found: 99,
                known: 3
            }
        ),
        "{err}"
    );
}

const FACTS: &str = r#"
store = "Example Outdoor Gear"
what_happened = "An attacker read customer records."
breach_start = "2026-10-01"
store_actions = "We revoked the key."
consequences = "Your information could be used for phishing."
complaint_process = "To complain to us, write to privacy@example.test; our privacy officer answers within 30 days."
[contact]
email = "privacy@example.test"
"#;

#[test]
fn notices_follow_the_preference_and_report_the_fallbacks() {
    let f = fixture();
    let who = principal(&["vault:reveal:*", "vault:write", "admin"]);
    // (residency, preference, exposed elements)
    let card = ["name", "email", "card_number", "card_security_code"];
    let people: [(serde_json::Value, Option<&str>, &[&str]); 6] = [
        (
            json!({"country": "US", "subdivision": "US-TX"}),
            Some("es"),
            &["name", "email", "national_id"],
        ),
        (
            json!({"country": "US", "subdivision": "US-TX"}),
            None,
            &["name", "email", "national_id"],
        ),
        (json!({"country": "DE"}), Some("fi"), &["name", "email"]),
        (json!({"country": "DE"}), Some("ja"), &["name", "email"]),
        (
            json!({"country": "US", "subdivision": "US-CA"}),
            Some("es"),
            &card,
        ),
        (
            json!({"country": "CA", "subdivision": "CA-QC"}),
            None,
            &["name", "email"],
        ),
    ];
    let mut scope = Vec::new();
    for (i, (residency, lang, elements)) in people.iter().enumerate() {
        let mut doc = json!({"residency": residency,
            "fields": {"name": format!("Person{i}"), "email": format!("p{i}@example.test")}});
        if let Some(l) = lang {
            doc["language"] = json!(l);
        }
        let id = f
            .store
            .create_customer(&customer(doc), &who)
            .unwrap()
            .wait_blocking()
            .unwrap();
        scope.push(json!({"id": id.to_string(), "residency": residency, "elements": elements, "reveals": 1}));
    }
    let aware = time::macros::datetime!(2026-10-21 09:00 UTC);
    let incident = f
        .store
        .open_incident(
            NewIncident::new(
                "t",
                Severity::Sev2,
                Classification::CredentialTheft,
                aware,
                aware,
            ),
            PlaybookSet::builtin().unwrap(),
            "operator:test",
        )
        .wait_blocking()
        .unwrap();
    f.store
        .save_scope_snapshot(incident, json!({}), json!(scope), "operator:test")
        .wait_blocking()
        .unwrap();
    let affected: Vec<serde_json::Value> = people
        .iter()
        .map(|(r, _, e)| {
            let j = r.get("subdivision").unwrap_or(&r["country"]).clone();
            json!({"jurisdiction": j, "elements": e, "count": 1})
        })
        .collect();
    let scenario: Scenario = serde_json::from_value(json!({"aware_at": "2026-10-21T09:00:00Z",
        "encrypted": false, "key_compromised": false, "affected": affected}))
    .unwrap();
    let report = f
        .store
        .render_notices(&RenderNotices {
            incident,
            facts: NoticeFacts::from_toml(FACTS).unwrap(),
            templates: TemplateSet::builtin(),
            evaluation: evaluate(&Catalogue::builtin().unwrap(), &scenario).unwrap(),
            notice_date: "2026-11-02".into(),
            channels: Channels::Email,
            actor: who,
            reissue: false,
        })
        .unwrap();
    assert_eq!(report.refused_total, 0, "{:?}", report.refused);
    assert_eq!(report.queued_email, 6);
    assert_eq!(
        report.languages,
        [
            ("de".to_owned(), 1),
            ("en".to_owned(), 2),
            ("es".to_owned(), 1),
            ("fr".to_owned(), 1),
            ("ja".to_owned(), 1)
        ]
        .into_iter()
        .collect()
    );
    let fallbacks: Vec<(&str, &str, LanguageFallback, u64)> = report
        .language_fallbacks
        .iter()
        .map(|g| (g.preferred.as_str(), g.language.as_str(), g.reason, g.count))
        .collect();
    assert_eq!(
        fallbacks,
        [
            ("es", "en", LanguageFallback::LawRequiresEnglish, 1),
            ("fi", "de", LanguageFallback::NoTemplates, 1),
        ]
    );
    assert_eq!(report.language_fallback_total, 2);
    assert_eq!(report.untranslated_facts, ["de", "es", "fr", "ja"]);
    // One stencil per jurisdiction and language.
    let samples = f.store.notice_samples(incident, report.version).unwrap();
    let mut shapes: Vec<(String, String)> = samples
        .iter()
        .map(|s| (s.jurisdiction.clone(), s.letter.language.clone()))
        .collect();
    shapes.sort();
    let want: Vec<(String, String)> = [
        ("CA-QC", "fr"),
        ("DE", "de"),
        ("DE", "ja"),
        ("US-CA", "en"),
        ("US-TX", "en"),
        ("US-TX", "es"),
    ]
    .iter()
    .map(|(j, l)| (j.to_string(), l.to_string()))
    .collect();
    assert_eq!(shapes, want);
    let tx_es = samples
        .iter()
        .find(|s| s.jurisdiction == "US-TX" && s.letter.language == "es")
        .unwrap();
    assert!(tx_es
        .letter
        .text
        .contains("Qué información se ha visto afectada"));
    // The report (stored, and in the ledger) names languages, never people.
    let text = serde_json::to_string(&report).unwrap();
    assert!(
        !text.contains("Person") && !text.contains("example.test"),
        "{text}"
    );
}
