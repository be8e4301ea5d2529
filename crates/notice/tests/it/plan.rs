//! The planner on its own: channels, enrolment codes, refusals grouped per
//! shape, the per-letter fallback and stencils kept across batches.

use std::collections::{BTreeMap, HashMap};

use bulwark_law::{evaluate, Catalogue, Scenario};
use bulwark_model::DataElement::{self, *};
use bulwark_notice::{
    letter_rules, Addressee, Body, Channel, Channels, CodePool, LetterRules, NoticeFacts, Planner,
    Renderer, RowSpec, StencilId, TemplateSet,
};

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

const REMEDY: &str = r#"
[remedy]
kind = "credit_monitoring"
label = "credit monitoring"
provider = "Acme Monitoring"
months = 24
enrol_url = "https://enrol.example.test"
"#;

const CA: &[DataElement] = &[Name, Email];
const MA: &[DataElement] = &[Name, NationalId, Email];

fn rules(groups: &[(&str, &[DataElement])]) -> BTreeMap<String, LetterRules> {
    let affected: Vec<serde_json::Value> = groups
        .iter()
        .map(|(j, e)| serde_json::json!({"jurisdiction": j, "elements": e, "count": 10}))
        .collect();
    let scenario: Scenario = serde_json::from_value(serde_json::json!({
        "aware_at": "2026-10-21T09:00:00Z", "encrypted": false, "key_compromised": false,
        "affected": affected,
    }))
    .unwrap();
    letter_rules(&evaluate(&Catalogue::builtin().unwrap(), &scenario).unwrap())
}

fn who<'a>(
    customer: &'a str,
    jurisdiction: &'a str,
    elements: &'a [DataElement],
    email: Option<&'a str>,
    address: Option<&'a str>,
) -> Addressee<'a> {
    Addressee {
        customer,
        jurisdiction,
        language: None,
        elements,
        name: Some("Jane Doe"),
        email,
        address,
    }
}

fn channels(rows: &[RowSpec<'_>], customer: &str) -> Vec<Channel> {
    rows.iter()
        .filter(|r| r.customer == customer)
        .map(|r| r.channel)
        .collect()
}

#[test]
fn channels_follow_the_choice_and_the_contact_details() {
    let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
    let facts = NoticeFacts::from_toml(FACTS).unwrap();
    let rules = rules(&[("US-CA", CA)]);
    let p = renderer.prepare(&facts, "2026-11-02", &rules);
    let batch = [
        who(
            "both",
            "US-CA",
            CA,
            Some("b@example.test"),
            Some("1 Main St"),
        ),
        who("mail", "US-CA", CA, Some("m@example.test"), None),
        who("post", "US-CA", CA, None, Some("2 Main St")),
        who("none", "US-CA", CA, None, None),
    ];
    let expect: [(Channels, [&[Channel]; 4]); 3] = [
        (
            Channels::Email,
            [&[Channel::Email], &[Channel::Email], &[Channel::Print], &[]],
        ),
        (
            Channels::Print,
            [&[Channel::Print], &[], &[Channel::Print], &[]],
        ),
        (
            Channels::Both,
            [
                &[Channel::Email, Channel::Print],
                &[Channel::Email],
                &[Channel::Print],
                &[],
            ],
        ),
    ];
    for (choice, per_customer) in expect {
        let mut planner = Planner::new(&p, choice, CodePool::default());
        let rows = planner.plan(&batch).unwrap();
        for (a, want) in batch.iter().zip(per_customer) {
            assert_eq!(channels(&rows, a.customer), want, "{choice:?} {a:?}");
        }
        // The e-mail address only on e-mail rows, the postal address only on print.
        for r in &rows {
            assert_eq!(r.personal.name, Some("Jane Doe"));
            match r.channel {
                Channel::Email => {
                    assert!(r.personal.email.is_some() && r.personal.address.is_none())
                }
                Channel::Print => {
                    assert!(r.personal.address.is_some() && r.personal.email.is_none())
                }
            }
            assert_eq!(r.body, Body::Stencil(StencilId(0)));
            assert_eq!(r.jurisdiction, "US-CA");
            assert_eq!(r.code, None);
        }
        let c = planner.counts();
        let (mut no_contact, mut email, mut print) = (0, 0, 0);
        for want in per_customer {
            no_contact += u64::from(want.is_empty());
            email += want.iter().filter(|c| **c == Channel::Email).count() as u64;
            print += want.iter().filter(|c| **c == Channel::Print).count() as u64;
        }
        assert_eq!(
            (c.no_contact, c.email, c.print, c.refused),
            (no_contact, email, print, 0)
        );
    }
}

#[test]
fn a_code_is_assigned_once_and_goes_back_to_the_pool_when_the_letter_is_refused() {
    let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
    // Massachusetts owes 18 months; an offer of 12 is refused there, fine in California.
    let short = format!("{FACTS}{}", REMEDY.replace("months = 24", "months = 12"));
    let facts = NoticeFacts::from_toml(&short).unwrap();
    let rules = rules(&[("US-CA", CA), ("US-MA", MA)]);
    let p = renderer.prepare(&facts, "2026-11-02", &rules);
    let held = HashMap::from([("kept".to_owned(), "CODE-K".to_owned())]);
    let pool = CodePool::new(held, vec!["CODE-1".into(), "CODE-2".into()]);
    let mut planner = Planner::new(&p, Channels::Both, pool);
    let mail = Some("x@example.test");
    let post = Some("1 Main St");

    // Refused in Massachusetts: CODE-1 goes back to the pool…
    let rows = planner.plan(&[who("ma", "US-MA", MA, mail, None)]).unwrap();
    assert!(rows.is_empty());
    assert_eq!(planner.pool().free(), 2);
    // …and the next letter gets it, on both its rows.
    let rows = planner
        .plan(&[
            who("ca", "US-CA", CA, mail, post),
            who("kept", "US-CA", CA, mail, None),
        ])
        .unwrap();
    assert_eq!(rows.len(), 3);
    for r in rows.iter().filter(|r| r.customer == "ca") {
        assert_eq!(r.code.as_deref(), Some("CODE-1"));
    }
    // A customer who already holds a code keeps it and takes none from the pool.
    assert_eq!(rows[2].customer, "kept");
    assert_eq!(rows[2].code.as_deref(), Some("CODE-K"));
    assert_eq!(planner.pool().free(), 1);
    // Planned again (the same customer in a later batch), the same code.
    let rows = planner
        .plan(&[
            who("ca", "US-CA", CA, mail, None),
            who("new", "US-CA", CA, mail, None),
        ])
        .unwrap();
    assert_eq!(rows[0].code.as_deref(), Some("CODE-1"));
    assert_eq!(rows[1].code.as_deref(), Some("CODE-2"));
    assert_eq!(planner.pool().free(), 0);
    // A refused letter of a customer who holds a code does not free it.
    let rows = planner
        .plan(&[who("kept", "US-MA", MA, mail, None)])
        .unwrap();
    assert!(rows.is_empty());
    assert_eq!(planner.pool().free(), 0);
    // An empty pool: the letter needs a code and is refused for the lack of one.
    let rows = planner
        .plan(&[who("late", "US-CA", CA, mail, None)])
        .unwrap();
    assert!(rows.is_empty());
    let plan = planner.finish();
    assert_eq!(plan.counts.refused, 3);
    assert!(plan
        .refused
        .iter()
        .any(|g| g.jurisdiction == "US-CA"
            && g.problems.iter().any(|p| p.contains("no enrolment code"))));
}

#[test]
fn a_refused_shape_is_refused_for_all_its_customers() {
    let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
    // No remedy offered: every Massachusetts letter with a national id is refused.
    let facts = NoticeFacts::from_toml(FACTS).unwrap();
    let rules = rules(&[("US-MA", MA), ("US-CA", CA)]);
    let p = renderer.prepare(&facts, "2026-11-02", &rules);
    let mut planner = Planner::new(&p, Channels::Email, CodePool::default());
    let ids: Vec<String> = (0..20).map(|i| format!("c{i}")).collect();
    for half in ids.chunks(10) {
        let batch: Vec<Addressee<'_>> = half
            .iter()
            .map(|id| who(id, "US-MA", MA, Some("x@example.test"), None))
            .chain([who("ok", "US-CA", CA, Some("y@example.test"), None)])
            .collect();
        let rows = planner.plan(&batch).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].customer, "ok");
    }
    let plan = planner.finish();
    assert_eq!(plan.counts.refused, 20);
    assert_eq!(plan.counts.email, 2);
    assert_eq!(plan.refused.len(), 1);
    let g = &plan.refused[0];
    assert_eq!((g.jurisdiction.as_str(), g.count), ("US-MA", 20));
    assert_eq!(g.laws, ["US-MA"]);
    assert!(g
        .problems
        .iter()
        .any(|p| p.contains("US-MA requires credit_monitoring (18 months)")));
    // Only the accepted shape has a stencil.
    assert_eq!(plan.stencils.len(), 1);
    assert_eq!(plan.stencils[0].jurisdiction, "US-CA");
}

#[test]
fn templates_that_inspect_the_name_are_rendered_per_letter() {
    let set = TemplateSet::builtin().with_overrides([(
        "en/subject.txt.j2".to_owned(),
        "{{ facts.store }}: Notice of Data Breach for {{ customer.name | upper }}".to_owned(),
    )]);
    let renderer = Renderer::new(&set).unwrap();
    let facts = NoticeFacts::from_toml(FACTS).unwrap();
    let rules = rules(&[("US-CA", CA)]);
    let p = renderer.prepare(&facts, "2026-11-02", &rules);
    let mut planner = Planner::new(&p, Channels::Email, CodePool::default());
    let mut a = who("a", "US-CA", CA, Some("a@example.test"), None);
    let mut b = a;
    a.name = Some("Jane Doe");
    b.customer = "b";
    b.name = Some("Ann Lee");
    let rows = planner.plan(&[a, b]).unwrap();
    let subjects: Vec<&str> = rows
        .iter()
        .map(|r| match &r.body {
            Body::Letter(l) => l.subject.as_str(),
            Body::Stencil(_) => panic!("a name-inspecting template was stencilled"),
        })
        .collect();
    assert_eq!(
        subjects,
        [
            "Example Outdoor Gear: Notice of Data Breach for JANE DOE",
            "Example Outdoor Gear: Notice of Data Breach for ANN LEE"
        ]
    );
    let plan = planner.finish();
    assert!(plan.stencils.is_empty());
    assert_eq!(plan.counts.email, 2);
}

#[test]
fn stencils_are_reused_across_batches() {
    let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
    let facts = NoticeFacts::from_toml(&format!("{FACTS}{REMEDY}")).unwrap();
    let rules = rules(&[("US-CA", CA), ("US-MA", MA)]);
    let p = renderer.prepare(&facts, "2026-11-02", &rules);
    let codes: Vec<String> = (0..8).map(|i| format!("CODE-{i}")).collect();
    let mut planner = Planner::new(&p, Channels::Email, CodePool::new(HashMap::new(), codes));
    let mail = Some("x@example.test");
    let mut seen = Vec::new();
    for batch in [["1", "2"], ["3", "4"], ["5", "6"]] {
        let rows = planner
            .plan(&[
                who(batch[0], "US-CA", CA, mail, None),
                who(batch[1], "US-MA", MA, mail, None),
            ])
            .unwrap();
        seen.push(rows.iter().map(|r| r.body.clone()).collect::<Vec<_>>());
    }
    let first = &seen[0];
    assert_eq!(
        first,
        &[Body::Stencil(StencilId(0)), Body::Stencil(StencilId(1))]
    );
    assert!(seen.iter().all(|b| b == first));
    // A customer without a name is another shape.
    let mut nameless = who("7", "US-CA", CA, mail, None);
    nameless.name = None;
    let rows = planner.plan(&[nameless]).unwrap();
    assert_eq!(rows[0].body, Body::Stencil(StencilId(2)));
    let plan = planner.finish();
    assert_eq!(plan.stencils.len(), 3);
    assert_eq!(
        plan.stencils.iter().map(|s| s.id).collect::<Vec<_>>(),
        [StencilId(0), StencilId(1), StencilId(2)]
    );
    assert_eq!(plan.stencils[1].jurisdiction, "US-MA");
    // Stencils carry no personal values: the code and the name are stand-ins.
    assert!(!plan.stencils[0].letter.text.contains("CODE-0"));
    assert!(!plan.stencils[0].letter.text.contains("Jane Doe"));
}
