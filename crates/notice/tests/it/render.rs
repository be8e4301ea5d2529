//! Letters rendered from the shipped templates and checked against the shipped
//! law catalogue.

use std::collections::BTreeMap;

use bulwark_law::{evaluate, Catalogue, Evaluation, Recipient, Scenario};
use bulwark_model::DataElement::{self, *};
use bulwark_notice::{
    letter_rules, DraftContext, Letter, LetterError, LetterRules, NoticeFacts, Renderer,
    TemplateSet,
};

const FACTS: &str = r#"
store = "Example Outdoor Gear"
what_happened = "An attacker used a stolen administrator key to read customer records."
breach_start = "2026-10-01"
breach_end = "2026-10-20"
discovered = "2026-10-21"
store_actions = "We revoked the key, reset all administrator access and engaged forensic investigators."
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

fn evaluation(groups: &[(&str, &[DataElement], u64)]) -> Evaluation {
    let affected: Vec<serde_json::Value> = groups
        .iter()
        .map(|(j, e, n)| serde_json::json!({"jurisdiction": j, "elements": e, "count": n}))
        .collect();
    let scenario: Scenario = serde_json::from_value(serde_json::json!({
        "aware_at": "2026-10-21T09:00:00Z", "encrypted": false, "key_compromised": false,
        "affected": affected,
    }))
    .unwrap();
    evaluate(&Catalogue::builtin().unwrap(), &scenario).unwrap()
}

fn rules(groups: &[(&str, &[DataElement], u64)]) -> BTreeMap<String, LetterRules> {
    letter_rules(&evaluation(groups))
}

fn render(
    set: &TemplateSet,
    facts: &str,
    jurisdiction: &str,
    elements: &[DataElement],
    code: Option<&str>,
) -> Result<bulwark_notice::RenderedLetter, LetterError> {
    let renderer = Renderer::new(set).unwrap();
    let facts = NoticeFacts::from_toml(facts).unwrap();
    let rules = rules(&[(jurisdiction, elements, 10)]);
    let prepared = renderer.prepare(&facts, "2026-11-02", &rules);
    prepared.letter(&Letter {
        name: Some("Jane <b>Doe</b>"),
        jurisdiction,
        language: None,
        elements,
        enrolment_code: code,
    })
}

#[test]
fn a_california_card_letter_has_the_title_headings_and_this_customers_elements() {
    let l = render(
        &TemplateSet::builtin(),
        FACTS,
        "US-CA",
        &[Name, CardNumber, CardSecurityCode],
        None,
    )
    .unwrap();
    assert!(l.text.starts_with("NOTICE OF DATA BREACH"));
    let mut at = 0;
    for h in [
        "What Happened",
        "What Information Was Involved",
        "What We Are Doing",
        "What You Can Do",
        "For More Information",
    ] {
        at += l.text[at..]
            .find(h)
            .unwrap_or_else(|| panic!("{h} missing or out of order"));
    }
    for label in [
        "your name",
        "your payment card number",
        "your card security code (CVV)",
    ] {
        assert!(l.text.contains(label), "{label}");
    }
    assert!(
        !l.text.contains("your Social Security or national"),
        "only this customer's elements are named"
    );
    assert!(l.text.contains("Watch your card statements"), "card advice");
    assert!(l.text.contains("Equifax") && l.text.contains("identitytheft.gov"));
    assert!(l.text.contains("2026-11-02"));
    assert!(!l.text.contains('\u{E000}'), "markers are removed");
    // The name is escaped in HTML, verbatim in text.
    assert!(l.html.contains("Jane &lt;b&gt;Doe&lt;&#x2f;b&gt;"));
    assert!(l.text.contains("Jane <b>Doe</b>"));
    assert_eq!(l.subject, "Example Outdoor Gear: Notice of Data Breach");
}

#[test]
fn massachusetts_refuses_without_the_credit_monitoring_it_requires() {
    let err = render(
        &TemplateSet::builtin(),
        FACTS,
        "US-MA",
        &[Name, NationalId],
        None,
    )
    .unwrap_err();
    let LetterError::Refused(r) = err else {
        panic!("expected a refusal")
    };
    assert_eq!(r.laws, vec!["US-MA".to_owned()]);
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("US-MA requires credit_monitoring (18 months)")),
        "{r}"
    );

    let short = format!("{FACTS}{}", REMEDY.replace("months = 24", "months = 12"));
    let err = render(
        &TemplateSet::builtin(),
        &short,
        "US-MA",
        &[Name, NationalId],
        Some("ENR-1"),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("at least 18 months; the offer is 12 months"),
        "{err}"
    );

    let ok = format!("{FACTS}{REMEDY}");
    let l = render(
        &TemplateSet::builtin(),
        &ok,
        "US-MA",
        &[Name, NationalId],
        Some("ENR-1"),
    )
    .unwrap();
    assert!(l.text.contains("ENR-1") && l.html.contains("ENR-1"));
    assert!(l.text.contains("police report") && l.text.contains("security freeze"));
    // Massachusetts forbids describing the nature of the breach.
    assert!(!l.text.contains("stolen administrator key"));
    assert!(!l.html.contains("stolen administrator key"));
}

#[test]
fn a_template_with_forbidden_content_is_refused() {
    let set = TemplateSet::builtin().with_overrides([(
        "en/US-MA/body.txt.j2".to_owned(),
        r#"{% extends "en/body.txt.j2" %}{% block what_happened %}{% filter section("what_happened") %}{{ facts.what_happened }}{% endfilter %}{% endblock %}"#.to_owned(),
    )]);
    let ok = format!("{FACTS}{REMEDY}");
    let err = render(&set, &ok, "US-MA", &[Name, NationalId], Some("ENR-1")).unwrap_err();
    let LetterError::Refused(r) = err else {
        panic!("expected a refusal")
    };
    assert_eq!(
        r.problems,
        vec!["US-MA prohibits `what_happened`; the text body contains it".to_owned()]
    );
}

#[test]
fn a_template_missing_required_content_is_refused() {
    let text = TemplateSet::builtin()
        .get("en/body.txt.j2")
        .unwrap()
        .to_owned();
    let start = text.find("{% filter section(\"contact\") %}").unwrap();
    let end = start + text[start..].find("{% endfilter %}").unwrap() + "{% endfilter %}".len();
    let without = format!("{}{}", &text[..start], &text[end..]);
    let set = TemplateSet::builtin().with_overrides([("en/body.txt.j2".to_owned(), without)]);
    let err = render(&set, FACTS, "US-FL", &[Name, NationalId], None).unwrap_err();
    assert!(
        err.to_string()
            .contains("US-FL requires `contact`; the text body has no such section"),
        "{err}"
    );
    // The HTML body still has it: only the text body is at fault.
    assert!(
        !err.to_string().contains("HTML body has no such section"),
        "{err}"
    );
}

#[test]
fn a_letter_must_name_every_exposed_element() {
    let set = TemplateSet::builtin();
    let text = set.get("en/body.txt.j2").unwrap().replace(
        "{% for e in customer.elements %}{{ e.label }}",
        "{% for e in customer.elements[:1] %}{{ e.label }}",
    );
    let set = set.with_overrides([("en/body.txt.j2".to_owned(), text)]);
    let err = render(&set, FACTS, "US-CA", &[Email, Password], None).unwrap_err();
    assert!(
        err.to_string().contains("does not name `password`"),
        "{err}"
    );

    let blank = TemplateSet::builtin().with_overrides([(
        "en/strings.toml".to_owned(),
        TemplateSet::builtin()
            .get("en/strings.toml")
            .unwrap()
            .replace("password = \"your account password\"", "password = \" \""),
    )]);
    let err = Renderer::new(&blank)
        .err()
        .expect("a blank label is refused")
        .to_string();
    assert!(
        err.contains("en/strings.toml") && err.contains("password"),
        "{err}"
    );
}

#[test]
fn german_residents_get_a_german_letter_with_the_right_to_complain() {
    let l = render(
        &TemplateSet::builtin(),
        FACTS,
        "DE",
        &[Name, Email, Password],
        None,
    )
    .unwrap();
    assert_eq!(l.language, "de");
    assert!(l.text.contains("Welche Daten sind betroffen?"));
    assert!(l.text.contains("Ihr Passwort"));
    assert!(l.text.contains("Datenschutzaufsichtsbehörde"));
    assert!(
        !l.text.contains("Equifax"),
        "no US bureaus in a German letter"
    );
    // PIPEDA (Regs s. 3(g)): a Canadian letter describes the store's own
    // complaint process; without it in the facts the letter is refused.
    let err = render(
        &TemplateSet::builtin(),
        FACTS,
        "CA-QC",
        &[Name, Email, Password],
        None,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("requires `complaint_process`; the text body has no such section (set `complaint_process` in the notice facts)"),
        "{err}"
    );
    let facts = format!(
        "complaint_process = \"Écrivez à privacy@example.test ; notre responsable répond sous 30 jours.\"\n{FACTS}"
    );
    let l = render(
        &TemplateSet::builtin(),
        &facts,
        "CA-QC",
        &[Name, Email, Password],
        None,
    )
    .unwrap();
    assert_eq!(l.language, "fr");
    assert!(l.text.contains("Commission d'accès à l'information"));
    assert!(l.text.contains("notre responsable répond sous 30 jours"));
}

#[test]
fn australia_needs_the_statement_that_the_regulator_was_told() {
    let err = render(
        &TemplateSet::builtin(),
        FACTS,
        "AU",
        &[Name, NationalId],
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("regulator_notified"), "{err}");
    let told = format!("regulator_notified = \"We have notified the OAIC.\"\n{FACTS}");
    render(
        &TemplateSet::builtin(),
        &told,
        "AU",
        &[Name, NationalId],
        None,
    )
    .unwrap();
}

#[test]
fn a_broken_template_is_an_error_naming_file_and_line() {
    let set = TemplateSet::builtin().with_overrides([(
        "en/subject.txt.j2".to_owned(),
        "line one\n{% if %}".to_owned(),
    )]);
    let err = Renderer::new(&set)
        .err()
        .expect("must not compile")
        .to_string();
    assert!(
        err.contains("en/subject.txt.j2") && err.contains("line 2"),
        "{err}"
    );
}

#[test]
fn facts_are_validated_without_echoing_values() {
    let err = NoticeFacts::from_toml(&FACTS.replace("2026-10-01", "yesterday")).unwrap_err();
    assert!(
        err.to_string().contains("`breach_start` must be a date"),
        "{err}"
    );
    assert!(!err.to_string().contains("yesterday"));
    assert!(NoticeFacts::from_toml("store = 1").is_err());
}

#[test]
fn drafts_for_the_attorney_general_and_card_brands_carry_the_required_fields() {
    let ev = evaluation(&[("US-CA", &[Name, CardNumber, CardSecurityCode], 600)]);
    let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
    let facts = NoticeFacts::from_toml(FACTS).unwrap();
    let drafts = renderer
        .drafts(
            &ev.obligations,
            &facts,
            &DraftContext {
                aware_at: "2026-10-21T09:00:00Z".into(),
                notice_date: "2026-11-02".into(),
                total: 600,
                elements: vec![Name, CardNumber, CardSecurityCode],
                encrypted: false,
                key_compromised: false,
                language: None,
            },
        )
        .unwrap();
    let ag = drafts
        .iter()
        .find(|d| d.jurisdiction == "US-CA" && d.recipient == Recipient::Regulator)
        .expect("California AG draft (more than 500 residents)");
    assert!(ag.markdown.contains("sample copy of the notice"));
    assert!(ag
        .markdown
        .contains("People affected under this law:** 600"));
    assert!(ag.markdown.contains("Not legal advice"));
    let brand = drafts
        .iter()
        .find(|d| d.recipient == Recipient::CardBrands)
        .expect("card-brand draft");
    assert!(brand
        .markdown
        .contains("Card data elements:** card_number, card_security_code"));
    assert!(drafts.iter().all(|d| d.recipient != Recipient::Individuals));
}

#[test]
fn a_stencil_filled_per_customer_equals_the_letter_rendered_for_them() {
    let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
    let facts = NoticeFacts::from_toml(&format!("{FACTS}{REMEDY}")).unwrap();
    let elements = [Name, NationalId, Email];
    let rules = rules(&[("US-MA", &elements, 10)]);
    let p = renderer.prepare(&facts, "2026-11-02", &rules);
    let shape = Letter {
        name: Some(""),
        jurisdiction: "US-MA",
        language: None,
        elements: &elements,
        enrolment_code: Some(""),
    };
    let stencil = p
        .stencil(&shape)
        .unwrap()
        .expect("the shipped templates treat the name as opaque");
    for (name, code) in [("Jane <b>Doe</b> & Co", "ENR-9/1"), ("O'Brien", "X")] {
        let direct = p
            .letter(&Letter {
                name: Some(name),
                enrolment_code: Some(code),
                ..shape.clone()
            })
            .unwrap();
        assert_eq!(stencil.fill(Some(name), Some(code)).unwrap(), direct);
    }
    // A template that looks at the name cannot be stencilled.
    let set = TemplateSet::builtin().with_overrides([(
        "en/subject.txt.j2".to_owned(),
        "{{ facts.store }}: {{ customer.name | upper }}".to_owned(),
    )]);
    let renderer = Renderer::new(&set).unwrap();
    let p = renderer.prepare(&facts, "2026-11-02", &rules);
    assert!(p.stencil(&shape).unwrap().is_none());
}
