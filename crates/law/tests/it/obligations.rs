//! Obligation cases from issue 5, each asserting recipients and deadlines.
//! Times are from the shipped catalogue (laws/); when a law file changes
//! these expectations must be re-checked against the statute.

use bulwark_law::{evaluate, Catalogue, Evaluation, Obligation, Recipient, Scenario, DISCLAIMER};
use time::macros::datetime;
use time::OffsetDateTime;

fn catalogue() -> Catalogue {
    Catalogue::builtin().expect("shipped catalogue loads")
}

fn scenario(json: &str) -> Scenario {
    serde_json::from_str(json).expect("scenario parses")
}

fn run(json: &str) -> Evaluation {
    evaluate(&catalogue(), &scenario(json)).expect("evaluates")
}

fn of<'a>(ev: &'a Evaluation, jurisdiction: &str) -> Vec<&'a Obligation> {
    ev.obligations
        .iter()
        .filter(|o| o.jurisdiction == jurisdiction)
        .collect()
}

fn one<'a>(ev: &'a Evaluation, jurisdiction: &str, r: Recipient) -> &'a Obligation {
    let v: Vec<_> = of(ev, jurisdiction)
        .into_iter()
        .filter(|o| o.recipient == r)
        .collect();
    assert_eq!(
        v.len(),
        1,
        "expected one {r:?} obligation in {jurisdiction}, got {}",
        v.len()
    );
    v[0]
}

fn recipients(ev: &Evaluation, jurisdiction: &str) -> Vec<Recipient> {
    let mut v: Vec<_> = of(ev, jurisdiction).iter().map(|o| o.recipient).collect();
    v.sort();
    v
}

fn reason<'a>(ev: &'a Evaluation, jurisdiction: &str, r: Option<Recipient>) -> &'a str {
    ev.not_triggered
        .iter()
        .find(|n| n.jurisdiction == jurisdiction && n.recipient == r)
        .map(|n| n.reason.as_str())
        .unwrap_or_else(|| {
            panic!(
                "no not-triggered entry for {jurisdiction} {r:?}: {:#?}",
                ev.not_triggered
            )
        })
}

const AWARE: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);

#[test]
fn issue_scenario_json_deserializes_and_carries_disclaimer() {
    let ev = run(
        r#"{"aware_at": "2026-03-02T09:00:00Z", "encrypted": false, "key_compromised": false,
            "affected": [{"jurisdiction": "US-CA", "elements": ["name", "card_number", "card_security_code"], "count": 600}]}"#,
    );
    assert_eq!(ev.disclaimer, DISCLAIMER);
    assert!(ev.disclaimer.starts_with("Not legal advice"));
    let json = serde_json::to_value(&ev).unwrap();
    let o = &json["obligations"][0];
    for k in [
        "jurisdiction",
        "recipient",
        "deadline",
        "standard",
        "count",
        "citation",
    ] {
        assert!(o.get(k).is_some(), "missing {k}");
    }
    let back: Evaluation = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back.obligations.len(), ev.obligations.len());
    assert!(json["disclaimer"]
        .as_str()
        .unwrap()
        .contains("Not legal advice"));
}

#[test]
fn california_600_card_and_code() {
    let ev = run(
        r#"{"aware_at": "2026-03-02T09:00:00Z", "encrypted": false, "key_compromised": false,
            "affected": [{"jurisdiction": "US-CA", "elements": ["name", "card_number", "card_security_code"], "count": 600}]}"#,
    );
    assert_eq!(
        recipients(&ev, "US-CA"),
        vec![Recipient::Individuals, Recipient::Regulator]
    );
    let ind = one(&ev, "US-CA", Recipient::Individuals);
    // SB 446 (eff. 2026-01-01): 30 calendar days from discovery.
    assert_eq!(ind.deadline, Some(datetime!(2026-04-01 09:00 UTC)));
    assert_eq!(ind.count, 600);
    assert!(ind.citation.contains("1798.82"));
    // AG: more than 500 residents; sample copy within 15 days of notifying them.
    let ag = one(&ev, "US-CA", Recipient::Regulator);
    assert_eq!(ag.deadline, Some(datetime!(2026-04-16 09:00 UTC)));
    assert!(ag.why.iter().any(|w| w.contains("more than 500")));
    // 500 exactly: no AG notice.
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z",
            "affected": [{"jurisdiction": "US-CA", "elements": ["name", "card_number", "card_security_code"], "count": 500}]}"#);
    assert_eq!(recipients(&ev, "US-CA"), vec![Recipient::Individuals]);
    assert!(reason(&ev, "US-CA", Some(Recipient::Regulator)).contains("threshold not met"));
}

#[test]
fn texas_300_name_and_ssn() {
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z",
            "affected": [{"jurisdiction": "US-TX", "elements": ["name", "national_id"], "count": 300}]}"#);
    assert_eq!(
        recipients(&ev, "US-TX"),
        vec![Recipient::Individuals, Recipient::Regulator]
    );
    assert_eq!(
        one(&ev, "US-TX", Recipient::Individuals).deadline,
        Some(AWARE + time::Duration::days(60))
    );
    assert_eq!(
        one(&ev, "US-TX", Recipient::Regulator).deadline,
        Some(AWARE + time::Duration::days(30))
    );
    assert!(
        reason(&ev, "US-TX", Some(Recipient::ConsumerReportingAgencies))
            .contains("more than 10000")
    );
    // No card data: no card-brand obligations, and they say why.
    assert!(ev.obligations.iter().all(|o| !o.law.starts_with("PCI")));
    assert!(reason(&ev, "PCI-VISA", None).contains("not personal information"));

    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z",
            "affected": [{"jurisdiction": "US-TX", "elements": ["name", "national_id"], "count": 249}]}"#);
    assert_eq!(recipients(&ev, "US-TX"), vec![Recipient::Individuals]);
    assert!(reason(&ev, "US-TX", Some(Recipient::Regulator)).contains("250 or more"));
}

#[test]
fn email_and_password_only() {
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
            {"jurisdiction": "US-CA", "elements": ["email", "password"], "count": 100},
            {"jurisdiction": "US-NY", "elements": ["email", "password"], "count": 100},
            {"jurisdiction": "US-TX", "elements": ["email", "password"], "count": 100},
            {"jurisdiction": "US-GA", "elements": ["email"], "count": 100},
            {"jurisdiction": "DE", "elements": ["email", "password"], "count": 100}]}"#);
    // Online credentials are personal information in CA and NY.
    assert_eq!(recipients(&ev, "US-CA"), vec![Recipient::Individuals]);
    assert!(recipients(&ev, "US-NY").contains(&Recipient::Individuals));
    // Not in Texas, and an email alone nowhere in the US.
    assert!(of(&ev, "US-TX").is_empty());
    assert!(reason(&ev, "US-TX", None).contains("email + password is not personal information"));
    assert!(reason(&ev, "US-GA", None).contains("email alone is not personal information"));
    // GDPR: any personal data; supervisory authority within 72 hours.
    assert_eq!(
        one(&ev, "DE", Recipient::Regulator).deadline,
        Some(datetime!(2026-03-05 09:00 UTC))
    );
    // Sorted by deadline, undue-delay (null) standards last.
    let firsts: Vec<_> = ev.obligations.iter().map(|o| o.deadline).collect();
    let nulls_from = firsts
        .iter()
        .position(Option::is_none)
        .unwrap_or(firsts.len());
    assert!(firsts[..nulls_from].windows(2).all(|w| w[0] <= w[1]));
    assert!(firsts[nulls_from..].iter().all(Option::is_none));
}

#[test]
fn encrypted_with_key_safe_is_safe_harbour() {
    let ev = run(
        r#"{"aware_at": "2026-03-02T09:00:00Z", "encrypted": true, "key_compromised": false,
            "affected": [{"jurisdiction": "US-TX", "elements": ["name", "national_id"], "count": 300},
                         {"jurisdiction": "FR", "elements": ["name", "email"], "count": 40}]}"#,
    );
    assert!(of(&ev, "US-TX").is_empty());
    assert!(
        reason(&ev, "US-TX", None).contains("safe harbour: data encrypted and key not compromised")
    );
    // GDPR: the authority is still told; individuals are not (Art. 34(3)(a)).
    assert_eq!(recipients(&ev, "FR"), vec![Recipient::Regulator]);
    assert!(reason(&ev, "FR", Some(Recipient::Individuals)).contains("safe harbour"));
}

#[test]
fn encrypted_with_key_taken_is_no_safe_harbour() {
    let ev = run(
        r#"{"aware_at": "2026-03-02T09:00:00Z", "encrypted": true, "key_compromised": true,
            "affected": [{"jurisdiction": "US-TX", "elements": ["name", "national_id"], "count": 300}]}"#,
    );
    assert_eq!(
        recipients(&ev, "US-TX"),
        vec![Recipient::Individuals, Recipient::Regulator]
    );
    let ind = one(&ev, "US-TX", Recipient::Individuals);
    assert!(ind.why.iter().any(|w| w.contains("key was compromised")));
}

#[test]
fn eu_residents_supervisory_authority_72_hours() {
    let ev = run(
        r#"{"aware_at": "2026-03-02T09:00:00Z", "harm": {"FR": "unlikely", "IT": "risk"}, "affected": [
            {"jurisdiction": "DE", "elements": ["name", "postal_address"], "count": 120},
            {"jurisdiction": "FR", "elements": ["name", "postal_address"], "count": 30},
            {"jurisdiction": "IT", "elements": ["name", "postal_address"], "count": 30},
            {"jurisdiction": "NO", "elements": ["ip_address"], "count": 5}]}"#,
    );
    for c in ["DE", "IT", "NO"] {
        let sa = one(&ev, c, Recipient::Regulator);
        assert_eq!(sa.law, "EU");
        assert_eq!(sa.deadline, Some(datetime!(2026-03-05 09:00 UTC)), "{c}");
    }
    // Individuals: "without undue delay" when high risk — no fixed deadline, a target instead.
    let ind = one(&ev, "DE", Recipient::Individuals);
    assert_eq!(ind.deadline, None);
    assert_eq!(ind.standard, "without undue delay");
    assert_eq!(
        ind.recommended_target,
        Some(datetime!(2026-03-05 09:00 UTC))
    );
    // Italy assessed as risk but not high: authority yes, individuals no.
    assert_eq!(recipients(&ev, "IT"), vec![Recipient::Regulator]);
    // France recorded harm as unlikely: nothing, with the reason.
    assert!(of(&ev, "FR").is_empty());
    assert!(reason(&ev, "FR", None).contains("harm is unlikely"));
}

#[test]
fn card_data_goes_to_card_brands_and_acquirer_wherever_customers_live() {
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
            {"jurisdiction": "GB", "elements": ["name", "card_number", "card_expiry"], "count": 700},
            {"jurisdiction": "JP", "elements": ["card_number"], "count": 300}]}"#);
    let visa = one(&ev, "PCI-VISA", Recipient::Acquirer);
    assert_eq!(visa.count, 1000);
    assert_eq!(visa.deadline, Some(datetime!(2026-03-05 09:00 UTC)));
    // Account list within 10 business days: 2 weekends in between.
    assert_eq!(
        one(&ev, "PCI-VISA", Recipient::CardBrands).deadline,
        Some(datetime!(2026-03-16 09:00 UTC))
    );
    assert_eq!(
        one(&ev, "PCI-MASTERCARD", Recipient::Acquirer).deadline,
        Some(datetime!(2026-03-03 09:00 UTC))
    );
    assert_eq!(
        one(&ev, "PCI-AMEX", Recipient::CardBrands).deadline,
        Some(datetime!(2026-03-03 09:00 UTC))
    );
    assert_eq!(
        one(&ev, "PCI-DISCOVER", Recipient::CardBrands).deadline,
        Some(datetime!(2026-03-04 09:00 UTC))
    );
    let dss = one(&ev, "PCI-DSS", Recipient::Acquirer);
    assert_eq!(dss.deadline, None);
    assert_eq!(
        dss.recommended_target,
        Some(datetime!(2026-03-03 09:00 UTC))
    );
    // The UK and Japan laws apply alongside.
    assert_eq!(
        one(&ev, "GB", Recipient::Regulator).deadline,
        Some(datetime!(2026-03-05 09:00 UTC))
    );
    assert!(!of(&ev, "JP").is_empty());
}

#[test]
fn business_day_deadlines_across_a_weekend() {
    // Brazil: 3 business days. Aware Friday 6 March 2026 → Wednesday 11 March.
    let ev = run(r#"{"aware_at": "2026-03-06T15:00:00Z",
            "affected": [{"jurisdiction": "BR", "elements": ["name", "card_number"], "count": 10}]}"#);
    assert_eq!(
        one(&ev, "BR", Recipient::Regulator).deadline,
        Some(datetime!(2026-03-11 15:00 UTC))
    );
    // Brazil skips Good Friday: aware Thursday 2 April 2026 → Wednesday 8 April (3 April holiday, then the weekend).
    let ev = run(r#"{"aware_at": "2026-04-02T12:00:00Z",
            "affected": [{"jurisdiction": "BR", "elements": ["email"], "count": 10}]}"#);
    assert_eq!(
        one(&ev, "BR", Recipient::Individuals).deadline,
        Some(datetime!(2026-04-08 12:00 UTC))
    );
    // Vermont: AG preliminary notice within 14 business days of discovery;
    // from Friday 20 Nov 2026 this skips three weekends and Thanksgiving (26 Nov).
    let ev = run(r#"{"aware_at": "2026-11-20T10:00:00Z",
            "affected": [{"jurisdiction": "US-VT", "elements": ["name", "national_id"], "count": 10}]}"#);
    assert_eq!(
        one(&ev, "US-VT", Recipient::Regulator).deadline,
        Some(datetime!(2026-12-11 10:00 UTC))
    );
}

#[test]
fn massachusetts_forbidden_content_and_remedy() {
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z",
            "affected": [{"jurisdiction": "US-MA", "elements": ["name", "national_id"], "count": 5}]}"#);
    let ind = one(&ev, "US-MA", Recipient::Individuals);
    assert!(ind
        .forbidden_content
        .iter()
        .any(|f| f.contains("nature of the breach")));
    assert!(ind
        .forbidden_content
        .iter()
        .any(|f| f.contains("number of Massachusetts residents")));
    assert!(ind
        .required_content
        .iter()
        .any(|c| c.contains("police report")));
    assert_eq!(
        ind.deadline, None,
        "as soon as practicable: an undue-delay standard"
    );
    assert!(ind.recommended_target.is_some());
    let cm = ind
        .remedies
        .iter()
        .find(|r| r.kind == "credit_monitoring")
        .expect("credit monitoring");
    assert_eq!(cm.months, Some(18));
    // The AG and OCABR are told too.
    assert!(recipients(&ev, "US-MA").contains(&Recipient::Regulator));
}

#[test]
fn remedies_follow_exposed_elements() {
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
            {"jurisdiction": "US-CT", "elements": ["name", "national_id"], "count": 5},
            {"jurisdiction": "US-DE", "elements": ["name", "card_number", "card_security_code"], "count": 5}]}"#);
    let ct = one(&ev, "US-CT", Recipient::Individuals);
    assert_eq!(ct.remedies[0].months, Some(24));
    // Delaware's credit monitoring is for SSNs only.
    assert!(one(&ev, "US-DE", Recipient::Individuals)
        .remedies
        .is_empty());
}

#[test]
fn harm_assessment_and_no_harm_filings() {
    // Florida: harm determined unlikely → no individual notice, but the written
    // determination goes to the Department within 30 days.
    let ev = run(
        r#"{"aware_at": "2026-03-02T09:00:00Z", "harm": {"US-FL": "unlikely"},
            "affected": [{"jurisdiction": "US-FL", "elements": ["name", "national_id"], "count": 800}]}"#,
    );
    assert_eq!(recipients(&ev, "US-FL"), vec![Recipient::Regulator]);
    let filing = one(&ev, "US-FL", Recipient::Regulator);
    assert!(filing.required_content[0].contains("no-harm"));
    assert_eq!(filing.deadline, Some(AWARE + time::Duration::days(30)));
    // California has no harm test: the assessment does not matter.
    let ev = run(
        r#"{"aware_at": "2026-03-02T09:00:00Z", "harm": {"US-CA": "unlikely"},
            "affected": [{"jurisdiction": "US-CA", "elements": ["name", "national_id"], "count": 8}]}"#,
    );
    assert_eq!(recipients(&ev, "US-CA"), vec![Recipient::Individuals]);
}

#[test]
fn law_enforcement_delay_moves_individual_notice() {
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z",
            "law_enforcement_delay": {"until": "2026-06-01T00:00:00Z", "agency": "FBI"},
            "affected": [{"jurisdiction": "US-TX", "elements": ["name", "national_id"], "count": 300}]}"#);
    let ind = one(&ev, "US-TX", Recipient::Individuals);
    assert_eq!(ind.deadline, Some(datetime!(2026-06-01 00:00 UTC)));
    assert!(ind.why.iter().any(|w| w.contains("law enforcement")));
    // The AG deadline is not tied to the individual notice in Texas.
    assert_eq!(
        one(&ev, "US-TX", Recipient::Regulator).deadline,
        Some(AWARE + time::Duration::days(30))
    );
}

#[test]
fn access_only_does_not_trigger_acquisition_statutes() {
    let ev = run(
        r#"{"aware_at": "2026-03-02T09:00:00Z", "acquired": false, "affected": [
            {"jurisdiction": "US-TX", "elements": ["name", "national_id"], "count": 10},
            {"jurisdiction": "US-NJ", "elements": ["name", "national_id"], "count": 10}]}"#,
    );
    assert!(reason(&ev, "US-TX", None).contains("requires acquisition"));
    // New Jersey: access is enough; the State Police are told first.
    let police = one(&ev, "US-NJ", Recipient::LawEnforcement);
    assert_eq!(
        police.order.as_deref(),
        Some("before the individuals notice")
    );
}

#[test]
fn jurisdiction_resolution() {
    let c = catalogue();
    let ids = |code: &str| {
        c.resolve(code)
            .iter()
            .map(|l| l.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids("CA-QC"), vec!["CA-QC", "CA"]);
    assert_eq!(ids("CA-ON"), vec!["CA"]);
    assert_eq!(ids("GB-ENG"), vec!["GB"]);
    assert_eq!(ids("DE-BY"), vec!["EU"]);
    assert_eq!(ids("PR"), vec!["US-PR"]);
    assert_eq!(ids("US-PR"), vec!["US-PR"]);
    assert!(ids("AQ").is_empty());
    let ev = run(
        r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [{"jurisdiction": "AQ", "elements": ["name"], "count": 1}]}"#,
    );
    assert!(reason(&ev, "AQ", None).contains("no breach-notification law"));
    // A bare "US" cannot be resolved: the laws are per state.
    let ev = run(
        r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [{"jurisdiction": "us", "elements": ["name", "national_id"], "count": 1}]}"#,
    );
    assert!(reason(&ev, "US", None).contains("per subdivision"));
    let err = evaluate(
        &c,
        &scenario(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [{"jurisdiction": "XX-1", "elements": ["name"], "count": 1}]}"#),
    )
    .unwrap_err();
    assert!(err.to_string().contains("affected[0].jurisdiction"));
}

#[test]
fn scenario_rejects_unknown_fields_and_elements() {
    assert!(serde_json::from_str::<Scenario>(
        r#"{"aware_at": "2026-03-02T09:00:00Z", "afected": []}"#
    )
    .is_err());
    let e = serde_json::from_str::<Scenario>(
        r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [{"jurisdiction": "US-CA", "elements": ["ssn"], "count": 1}]}"#,
    )
    .unwrap_err();
    assert!(e.to_string().contains("unknown variant `ssn`"));
}

#[test]
fn every_us_jurisdiction_and_required_regime_is_covered() {
    let c = catalogue();
    let states = "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI";
    for s in states.split(' ') {
        assert!(!c.resolve(&format!("US-{s}")).is_empty(), "US-{s}");
    }
    assert_eq!(states.split(' ').count(), 54);
    for code in [
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
        "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
        "GB", "CH", "CA", "CA-QC", "CA-AB", "AU", "NZ", "SG", "JP", "KR", "CN", "IN", "BR", "ZA",
    ] {
        assert!(!c.resolve(code).is_empty(), "{code}");
    }
    for id in [
        "PCI-DSS",
        "PCI-VISA",
        "PCI-MASTERCARD",
        "PCI-AMEX",
        "PCI-DISCOVER",
    ] {
        assert!(c.get(id).is_some_and(|l| l.applies.everywhere), "{id}");
    }
    // Every file went through the 2026-11-23 review or a later one.
    for l in c.laws() {
        assert!(l.last_reviewed.as_str() >= "2026-11-23", "{}", l.id);
    }
}

#[test]
fn overrides_replace_by_id() {
    let text = bulwark_law::BUILTIN_FILES
        .iter()
        .find(|(p, _)| p.ends_with("US-TX.toml"))
        .unwrap()
        .1
        .replace("at_least = 250", "at_least = 100");
    let c = catalogue()
        .with_overrides(&[("data/laws/US-TX.toml", text.as_str())])
        .unwrap();
    assert_eq!(c.laws().filter(|l| l.id == "US-TX").count(), 1);
    let ev = evaluate(
        &c,
        &scenario(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [{"jurisdiction": "US-TX", "elements": ["name", "national_id"], "count": 150}]}"#),
    )
    .unwrap();
    assert!(recipients(&ev, "US-TX").contains(&Recipient::Regulator));
}

#[test]
fn every_jurisdiction_and_element_evaluates_sanely() {
    // Robustness: every code the catalogue names, every single element and a
    // few rich combinations, encrypted or not. Nothing may fail, every
    // obligation must carry a citation and a standard, and no deadline may
    // precede awareness.
    use bulwark_model::DataElement;
    let c = catalogue();
    let mut codes: Vec<String> = c
        .laws()
        .flat_map(|l| l.applies.jurisdictions.clone())
        .collect();
    codes.sort();
    codes.dedup();
    let mut sets: Vec<Vec<DataElement>> = DataElement::ALL.iter().map(|e| vec![*e]).collect();
    sets.push(DataElement::ALL.to_vec());
    sets.push(vec![
        DataElement::Name,
        DataElement::CardNumber,
        DataElement::CardSecurityCode,
    ]);
    sets.push(vec![DataElement::Email, DataElement::Password]);
    for encrypted in [false, true] {
        let affected: Vec<bulwark_law::Affected> = codes
            .iter()
            .flat_map(|code| {
                sets.iter().map(move |s| bulwark_law::Affected {
                    jurisdiction: code.clone(),
                    elements: s.clone(),
                    count: 3,
                    encrypted: None,
                    key_compromised: None,
                    acquired: None,
                })
            })
            .collect();
        let sc = Scenario {
            aware_at: AWARE,
            discovered_at: Some(AWARE - time::Duration::days(2)),
            encrypted,
            key_compromised: false,
            acquired: None,
            harm: Default::default(),
            law_enforcement_delay: None,
            cause: None,
            regulated_by: Vec::new(),
            affected,
        };
        let ev = evaluate(&c, &sc).unwrap();
        assert!(!ev.obligations.is_empty());
        for o in &ev.obligations {
            assert!(
                !o.citation.is_empty(),
                "{} {:?}",
                o.jurisdiction,
                o.recipient
            );
            assert!(
                !o.standard.is_empty(),
                "{} {:?}",
                o.jurisdiction,
                o.recipient
            );
            assert!(
                o.deadline.is_some() || o.recommended_target.is_some(),
                "{} {:?}",
                o.jurisdiction,
                o.recipient
            );
            // Discovery may precede awareness; nothing may precede discovery.
            let floor = AWARE - time::Duration::days(2);
            assert!(
                o.deadline.is_none_or(|d| d >= floor),
                "{} {:?}",
                o.jurisdiction,
                o.recipient
            );
            assert!(o.count > 0);
        }
        // Every jurisdiction appears either with an obligation or a reason.
        for code in &codes {
            let seen = ev.obligations.iter().any(|o| &o.jurisdiction == code)
                || ev.not_triggered.iter().any(|n| &n.jurisdiction == code);
            assert!(seen, "{code} neither triggered nor explained");
        }
    }
}

#[test]
fn identifiers_other_than_a_name_where_the_statute_says_so() {
    // DC: a phone number or address identifies the person as well as a name.
    // NY: any identifier plus a listed element is private information.
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
            {"jurisdiction": "US-DC", "elements": ["phone", "national_id"], "count": 60},
            {"jurisdiction": "US-NY", "elements": ["email", "national_id"], "count": 10},
            {"jurisdiction": "US-TX", "elements": ["email", "national_id"], "count": 10}]}"#);
    assert!(recipients(&ev, "US-DC").contains(&Recipient::Individuals));
    assert!(
        recipients(&ev, "US-DC").contains(&Recipient::Regulator),
        "50 or more: AG"
    );
    assert!(recipients(&ev, "US-NY").contains(&Recipient::Individuals));
    // Texas needs a name.
    assert!(of(&ev, "US-TX").is_empty());
}

#[test]
fn card_number_alone_depends_on_the_state() {
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
            {"jurisdiction": "US-MA", "elements": ["name", "card_number"], "count": 5},
            {"jurisdiction": "US-CA", "elements": ["name", "card_number"], "count": 5}]}"#);
    // Massachusetts: card number with or without a code. California
    // (Civ. Code 1798.82(h)(1)(C)): only with the code.
    assert!(recipients(&ev, "US-MA").contains(&Recipient::Individuals));
    assert!(of(&ev, "US-CA").is_empty());
    assert!(reason(&ev, "US-CA", None).contains("name + card_number is not personal information"));
}

/// Conn. Gen. Stat. 36a-701b(a)(2)(A)(v), since PA 21-59: a name with a credit
/// or debit card number is personal information without any security code;
/// residents within 60 days of discovery, the attorney general no later.
#[test]
fn connecticut_covers_a_card_number_without_its_code() {
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
            {"jurisdiction": "US-CT", "elements": ["name", "card_number"], "count": 5}]}"#);
    let residents = one(&ev, "US-CT", Recipient::Individuals);
    assert_eq!(
        residents.deadline,
        Some(datetime!(2026-05-01 09:00 UTC)),
        "60 days"
    );
    assert!(recipients(&ev, "US-CT").contains(&Recipient::Regulator));
    // A bank account number still needs its access code ((a)(2)(A)(vi)).
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
            {"jurisdiction": "US-CT", "elements": ["name", "bank_account"], "count": 5}]}"#);
    assert!(of(&ev, "US-CT").is_empty());
}

#[test]
fn elements_covered_without_a_name_where_the_statute_says_so() {
    // Indiana (IC 24-4.9-2-10): an SSN alone. South Dakota (22-40-19(5)):
    // "protected information" - a card number with its code, no name needed.
    // Texas needs a name for both.
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
            {"jurisdiction": "US-IN", "elements": ["national_id"], "count": 20},
            {"jurisdiction": "US-SD", "elements": ["card_number", "card_security_code"], "count": 20},
            {"jurisdiction": "US-TX", "elements": ["national_id"], "count": 20}]}"#);
    let ind = one(&ev, "US-IN", Recipient::Individuals);
    assert_eq!(
        ind.deadline,
        Some(datetime!(2026-04-16 09:00 UTC)),
        "45 days"
    );
    let sd = one(&ev, "US-SD", Recipient::Individuals);
    assert_eq!(
        sd.deadline,
        Some(datetime!(2026-05-01 09:00 UTC)),
        "60 days"
    );
    assert!(of(&ev, "US-TX").is_empty());
    assert!(reason(&ev, "US-TX", None).contains("not personal information"));
}

#[test]
fn acquisition_can_be_set_per_group() {
    // One Texas table was exfiltrated, another only viewed: only the first counts.
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
            {"jurisdiction": "US-TX", "elements": ["name", "national_id"], "count": 200},
            {"jurisdiction": "US-TX", "elements": ["name", "drivers_license"], "count": 100, "acquired": false}]}"#);
    let ind = one(&ev, "US-TX", Recipient::Individuals);
    assert_eq!(ind.count, 200);
    assert!(ind
        .why
        .iter()
        .any(|w| w.contains("100 further record(s) were only accessed")));
    // 200 < 250: no AG notice, although 300 people were in the affected tables.
    assert!(reason(&ev, "US-TX", Some(Recipient::Regulator)).contains("threshold not met"));
    let ev = run(
        r#"{"aware_at": "2026-03-02T09:00:00Z", "acquired": false, "affected": [
            {"jurisdiction": "US-TX", "elements": ["name", "national_id"], "count": 10, "acquired": true}]}"#,
    );
    assert_eq!(one(&ev, "US-TX", Recipient::Individuals).count, 10);
}
