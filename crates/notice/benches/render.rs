//! Letters rendered and checked per second (text + HTML + subject), pure
//! engine only; the end-to-end figure to the outbox is `bulwark notices bench`.

use std::hint::black_box;

use bulwark_law::{evaluate, Catalogue, Scenario};
use bulwark_model::DataElement::*;
use bulwark_notice::{letter_rules, Letter, NoticeFacts, Renderer, TemplateSet};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const FACTS: &str = r#"
store = "Example Outdoor Gear"
what_happened = "An attacker used a stolen administrator key to read customer records."
breach_start = "2026-10-01"
discovered = "2026-10-21"
store_actions = "We revoked the key and engaged forensic investigators."
consequences = "Your information could be used for fraud or phishing."
[contact]
phone = "1-800-555-0100"
email = "privacy@example.test"
"#;

fn bench(c: &mut Criterion) {
    let scenario: Scenario = serde_json::from_str(
        r#"{"aware_at": "2026-10-21T09:00:00Z", "encrypted": false, "key_compromised": false,
            "affected": [{"jurisdiction": "US-CA", "elements": ["name", "email", "password"], "count": 1000}]}"#,
    )
    .unwrap();
    let ev = evaluate(&Catalogue::builtin().unwrap(), &scenario).unwrap();
    let rules = letter_rules(&ev);
    let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
    let facts = NoticeFacts::from_toml(FACTS).unwrap();
    let prepared = renderer.prepare(&facts, "2026-11-02", &rules);
    let elements = [Name, Email, Password];
    let mut g = c.benchmark_group("notice");
    g.throughput(Throughput::Elements(1));
    g.bench_function("render_and_check_one_letter", |b| {
        b.iter(|| {
            black_box(
                prepared
                    .letter(&Letter {
                        name: Some("Jane Doe"),
                        jurisdiction: "US-CA",
                        language: None,
                        elements: &elements,
                        enrolment_code: None,
                    })
                    .unwrap(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
