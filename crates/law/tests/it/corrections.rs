//! One case per catalogue correction of the 2026-12-02 review (issue 12):
//! the statute's case, who must be told and by when. Each test names the
//! section it follows; if a law file changes, re-check it against the text.

use bulwark_law::{evaluate, Catalogue, Evaluation, NoticeContent, Obligation, Recipient};
use time::macros::datetime;

fn run(json: &str) -> Evaluation {
    let catalogue = Catalogue::builtin().expect("shipped catalogue loads");
    let scenario = serde_json::from_str(json).expect("scenario parses");
    evaluate(&catalogue, &scenario).expect("evaluates")
}

fn find<'a>(ev: &'a Evaluation, jurisdiction: &str, r: Recipient) -> Vec<&'a Obligation> {
    ev.obligations
        .iter()
        .filter(|o| o.jurisdiction == jurisdiction && o.recipient == r)
        .collect()
}

fn one<'a>(ev: &'a Evaluation, jurisdiction: &str, r: Recipient) -> &'a Obligation {
    let v = find(ev, jurisdiction, r);
    assert_eq!(
        v.len(),
        1,
        "one {r:?} in {jurisdiction}: {:#?}",
        ev.obligations
    );
    v[0]
}

fn none(ev: &Evaluation, jurisdiction: &str, r: Recipient) {
    assert!(
        find(ev, jurisdiction, r).is_empty(),
        "no {r:?} expected in {jurisdiction}"
    );
}

fn why_not(ev: &Evaluation, jurisdiction: &str) -> String {
    ev.not_triggered
        .iter()
        .filter(|n| n.jurisdiction == jurisdiction)
        .map(|n| n.reason.clone())
        .collect::<Vec<_>>()
        .join("; ")
}

/// C.R.S. 6-1-716(1)(g)(I)(A): a name with medical information or a health
/// insurance id is covered; residents within 30 days, the AG at 500 or more;
/// the bureaus only when more than 1,000 *Colorado residents* are notified.
#[test]
fn colorado_covers_medical_and_health_insurance_information() {
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
        {"jurisdiction": "US-CO", "elements": ["name", "health"], "count": 600},
        {"jurisdiction": "US-CA", "elements": ["name", "national_id"], "count": 900}]}"#);
    let residents = one(&ev, "US-CO", Recipient::Individuals);
    assert_eq!(residents.deadline, Some(datetime!(2026-04-01 09:00 UTC)));
    assert_eq!(residents.citation, "C.R.S. 6-1-716(2)(a)");
    let ag = one(&ev, "US-CO", Recipient::Regulator);
    assert_eq!(ag.deadline, Some(datetime!(2026-04-01 09:00 UTC)));
    // 1,500 people in all, but only 600 Coloradans: no bureau notice.
    none(&ev, "US-CO", Recipient::ConsumerReportingAgencies);
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
        {"jurisdiction": "US-CO", "elements": ["name", "health"], "count": 1001}]}"#);
    one(&ev, "US-CO", Recipient::ConsumerReportingAgencies);
}

/// PA 23-16 (Conn. Gen. Stat. 36a-701b as amended 2023-10-01): precise
/// geolocation data with a name is personal information.
#[test]
fn connecticut_covers_precise_geolocation_since_2023() {
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
        {"jurisdiction": "US-CT", "elements": ["name", "geolocation"], "count": 3}]}"#);
    let residents = one(&ev, "US-CT", Recipient::Individuals);
    assert_eq!(residents.deadline, Some(datetime!(2026-05-01 09:00 UTC)));
    one(&ev, "US-CT", Recipient::Regulator);
}

/// Ala. Code 8-38-2(6): credentials count only with the name (and for an
/// affiliated account). A credential-only breach triggers nothing in Alabama.
#[test]
fn alabama_credentials_count_only_with_a_name() {
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
        {"jurisdiction": "US-AL", "elements": ["email", "password"], "count": 2000}]}"#);
    assert!(ev.obligations.iter().all(|o| o.jurisdiction != "US-AL"));
    assert!(
        why_not(&ev, "US-AL").contains("not personal information"),
        "{}",
        why_not(&ev, "US-AL")
    );
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
        {"jurisdiction": "US-AL", "elements": ["name", "email", "password"], "count": 2000}]}"#);
    let residents = one(&ev, "US-AL", Recipient::Individuals);
    assert_eq!(residents.deadline, Some(datetime!(2026-04-16 09:00 UTC)));
    one(&ev, "US-AL", Recipient::Regulator);
    one(&ev, "US-AL", Recipient::ConsumerReportingAgencies);
    // 8-38-5(d): the content the statute lists.
    for c in [
        NoticeContent::BreachDate,
        NoticeContent::StoreActions,
        NoticeContent::IndividualSteps,
    ] {
        assert!(residents.requires.contains(&c), "{c:?}");
    }
}

/// GBL 899-aa(2)(a): "harm unlikely" excuses only an inadvertent disclosure
/// by persons authorised to access the data; an attack is always notified.
#[test]
fn new_york_harm_exception_does_not_cover_an_attack() {
    let ev = run(
        r#"{"aware_at": "2026-03-02T09:00:00Z", "cause": "external_attack",
        "harm": {"US-NY": "unlikely"}, "affected": [
        {"jurisdiction": "US-NY", "elements": ["name", "national_id"], "count": 600}]}"#,
    );
    let residents = one(&ev, "US-NY", Recipient::Individuals);
    assert_eq!(residents.deadline, Some(datetime!(2026-04-01 09:00 UTC)));
    assert!(
        residents
            .why
            .iter()
            .any(|w| w.contains("inadvertent disclosure") && w.contains("external attack")),
        "{:?}",
        residents.why
    );
    // The same with no cause recorded: still notified.
    let ev = run(
        r#"{"aware_at": "2026-03-02T09:00:00Z", "harm": {"US-NY": "unlikely"},
        "affected": [{"jurisdiction": "US-NY", "elements": ["name", "national_id"], "count": 600}]}"#,
    );
    one(&ev, "US-NY", Recipient::Individuals);
}

/// GBL 899-aa(2)(a): an inadvertent disclosure found harmless needs no
/// letters, but the written determination goes to the AG within 10 days when
/// more than 500 New Yorkers are affected.
#[test]
fn new_york_no_harm_determination_goes_to_the_ag_within_ten_days_over_500() {
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z",
        "cause": "inadvertent_authorised_disclosure", "harm": {"US-NY": "unlikely"},
        "affected": [{"jurisdiction": "US-NY", "elements": ["name", "national_id"], "count": 501}]}"#);
    none(&ev, "US-NY", Recipient::Individuals);
    let ag = one(&ev, "US-NY", Recipient::Regulator);
    assert_eq!(ag.deadline, Some(datetime!(2026-03-12 09:00 UTC)));
    assert_eq!(ag.citation, "N.Y. Gen. Bus. Law 899-aa(2)(a)");
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z",
        "cause": "inadvertent_authorised_disclosure", "harm": {"US-NY": "unlikely"},
        "affected": [{"jurisdiction": "US-NY", "elements": ["name", "national_id"], "count": 500}]}"#);
    assert!(ev.obligations.iter().all(|o| o.jurisdiction != "US-NY"));
}

/// GBL 899-aa(8)(b): the bureaus when more than 5,000 *New York residents*
/// are notified, not 5,000 people in the whole breach.
#[test]
fn new_york_bureau_threshold_counts_new_yorkers() {
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
        {"jurisdiction": "US-NY", "elements": ["name", "national_id"], "count": 4000},
        {"jurisdiction": "US-NJ", "elements": ["name", "national_id"], "count": 4000}]}"#);
    none(&ev, "US-NY", Recipient::ConsumerReportingAgencies);
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
        {"jurisdiction": "US-NY", "elements": ["name", "national_id"], "count": 5001}]}"#);
    one(&ev, "US-NY", Recipient::ConsumerReportingAgencies);
}

/// 23 NYCRR 500.17(a)(1): a DFS-regulated store tells the Superintendent
/// within 72 hours, wherever its customers live; other stores do not.
#[test]
fn dfs_regulated_stores_notify_the_superintendent_within_72_hours() {
    let ev = run(
        r#"{"aware_at": "2026-03-02T09:00:00Z", "regulated_by": ["NY-DFS"],
        "affected": [{"jurisdiction": "US-NJ", "elements": ["name", "card_number"], "count": 10}]}"#,
    );
    let dfs = one(&ev, "US-NY-DFS", Recipient::Regulator);
    assert_eq!(dfs.deadline, Some(datetime!(2026-03-05 09:00 UTC)));
    assert_eq!(dfs.citation, "23 NYCRR 500.17(a)(1)");
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z",
        "affected": [{"jurisdiction": "US-NJ", "elements": ["name", "card_number"], "count": 10}]}"#);
    assert!(ev.obligations.iter().all(|o| o.law != "US-NY-DFS"));
    assert!(
        why_not(&ev, "US-NY-DFS").contains("regulated_by"),
        "{}",
        why_not(&ev, "US-NY-DFS")
    );
}

/// M.G.L. c.93H s.3(b): after the AG and OCABR are told, the consumer
/// reporting agencies and state agencies the director identifies.
#[test]
fn massachusetts_notifies_the_agencies_ocabr_identifies() {
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
        {"jurisdiction": "US-MA", "elements": ["name", "national_id"], "count": 3}]}"#);
    one(&ev, "US-MA", Recipient::Regulator);
    let cra = one(&ev, "US-MA", Recipient::ConsumerReportingAgencies);
    assert_eq!(cra.order.as_deref(), Some("after the regulator notice"));
    assert!(cra
        .body
        .as_deref()
        .is_some_and(|b| b.contains("Consumer Affairs")));
}

/// 73 P.S. 2302 as amended by Act 33 of 2024: medical information counts only
/// in a State agency's hands; the AG (c.1) and the bureaus (2305) when more
/// than 500 Pennsylvanians are notified; the clock runs from the
/// determination (Act 151 of 2022).
#[test]
fn pennsylvania_after_act_33_of_2024() {
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
        {"jurisdiction": "US-PA", "elements": ["name", "health"], "count": 800}]}"#);
    assert!(ev.obligations.iter().all(|o| o.jurisdiction != "US-PA"));
    let ev = run(
        r#"{"aware_at": "2026-03-02T09:00:00Z", "discovered_at": "2026-02-20T09:00:00Z",
        "affected": [{"jurisdiction": "US-PA", "elements": ["name", "national_id"], "count": 501}]}"#,
    );
    let residents = one(&ev, "US-PA", Recipient::Individuals);
    // No fixed limit; the target counts from the determination (taken as
    // awareness), not from the earlier discovery.
    assert_eq!(residents.deadline, None);
    assert_eq!(
        residents.recommended_target,
        Some(datetime!(2026-04-01 09:00 UTC))
    );
    one(&ev, "US-PA", Recipient::Regulator);
    one(&ev, "US-PA", Recipient::ConsumerReportingAgencies);
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
        {"jurisdiction": "US-PA", "elements": ["name", "national_id"], "count": 500}]}"#);
    none(&ev, "US-PA", Recipient::Regulator);
    none(&ev, "US-PA", Recipient::ConsumerReportingAgencies);
}

/// SB 626 (24 O.S. 162, eff. 2026-01-01): a card number with its required
/// expiration date is covered; the AG at 500 or more, within 60 days of the
/// residents' notice; no bureau duty.
#[test]
fn oklahoma_after_sb_626() {
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
        {"jurisdiction": "US-OK", "elements": ["name", "card_number", "card_expiry"], "count": 5000}]}"#);
    one(&ev, "US-OK", Recipient::Individuals);
    let ag = one(&ev, "US-OK", Recipient::Regulator);
    assert_eq!(ag.order.as_deref(), Some("after the individuals notice"));
    none(&ev, "US-OK", Recipient::ConsumerReportingAgencies);
}

/// Fla. Stat. 501.171(4)(e): the letter gives the date or estimated date
/// range of the breach; SB 262 (eff. 2024-07-01) added geolocation.
#[test]
fn florida_letter_content_and_sb_262() {
    let cat = Catalogue::builtin().unwrap();
    assert_eq!(cat.get("US-FL").unwrap().effective, "2024-07-01");
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
        {"jurisdiction": "US-FL", "elements": ["name", "geolocation"], "count": 3}]}"#);
    let residents = one(&ev, "US-FL", Recipient::Individuals);
    assert_eq!(residents.deadline, Some(datetime!(2026-04-01 09:00 UTC)));
    assert_eq!(
        residents.requires,
        vec![
            NoticeContent::BreachDate,
            NoticeContent::Elements,
            NoticeContent::Contact
        ]
    );
}

/// RCW 19.255.010(1): secured data is breached when the key was acquired too.
#[test]
fn washington_key_clause() {
    let ev = run(
        r#"{"aware_at": "2026-03-02T09:00:00Z", "encrypted": true, "key_compromised": true,
        "affected": [{"jurisdiction": "US-WA", "elements": ["name", "national_id"], "count": 600}]}"#,
    );
    one(&ev, "US-WA", Recipient::Individuals);
    one(&ev, "US-WA", Recipient::Regulator);
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "encrypted": true,
        "affected": [{"jurisdiction": "US-WA", "elements": ["name", "national_id"], "count": 600}]}"#);
    assert!(ev.obligations.iter().all(|o| o.jurisdiction != "US-WA"));
    let law = Catalogue::builtin().unwrap();
    let wa = law.get("US-WA").unwrap();
    assert!(wa
        .breach
        .notes
        .as_deref()
        .unwrap()
        .contains("19.255.010(1)"));
}

/// Content lists as the statutes state them: Vermont 2435(b)(5) (six items),
/// Texas 521.053 (none), New Jersey 56:8-163 (only the credential direction).
#[test]
fn content_lists_follow_the_statutes() {
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
        {"jurisdiction": "US-VT", "elements": ["name", "national_id"], "count": 3},
        {"jurisdiction": "US-TX", "elements": ["name", "national_id"], "count": 3},
        {"jurisdiction": "US-NJ", "elements": ["name", "national_id"], "count": 3}]}"#);
    let vt = one(&ev, "US-VT", Recipient::Individuals);
    assert_eq!(vt.required_content.len(), 6);
    for c in [
        NoticeContent::WhatHappened,
        NoticeContent::Elements,
        NoticeContent::StoreActions,
        NoticeContent::Contact,
        NoticeContent::IndividualSteps,
        NoticeContent::BreachDate,
    ] {
        assert!(vt.requires.contains(&c), "VT {c:?}");
    }
    let tx = one(&ev, "US-TX", Recipient::Individuals);
    assert!(tx.requires.is_empty() && tx.required_content.is_empty());
    let nj = one(&ev, "US-NJ", Recipient::Individuals);
    assert_eq!(nj.requires, vec![NoticeContent::IndividualSteps]);
    assert!(nj.required_content[0].contains("change any password"));
}

/// Md. Code Com. Law 14-3501(e)(1)(ii): credentials only for e-mail accounts.
#[test]
fn maryland_credentials_only_for_email_accounts() {
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
        {"jurisdiction": "US-MD", "elements": ["username", "password"], "count": 3}]}"#);
    assert!(ev.obligations.iter().all(|o| o.jurisdiction != "US-MD"));
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
        {"jurisdiction": "US-MD", "elements": ["email", "password"], "count": 3}]}"#);
    one(&ev, "US-MD", Recipient::Individuals);
}

/// Breach of Security Safeguards Regulations s. 3(g): the letter describes
/// the internal complaint process and the right to complain.
#[test]
fn pipeda_letter_describes_the_complaint_process() {
    let ev = run(r#"{"aware_at": "2026-03-02T09:00:00Z", "affected": [
        {"jurisdiction": "CA-ON", "elements": ["name", "card_number"], "count": 3}]}"#);
    let letter = one(&ev, "CA-ON", Recipient::Individuals);
    assert!(letter.requires.contains(&NoticeContent::RightToComplain));
    assert!(letter.requires.contains(&NoticeContent::ComplaintProcess));
    assert!(letter
        .required_content
        .iter()
        .any(|c| c.contains("internal complaint process") && c.contains("s. 3(g)")));
}

/// Visa's pages: the acquirer within three business (working) days.
#[test]
fn visa_acquirer_deadline_is_three_business_days() {
    // Friday morning: three working days is Wednesday, not Monday.
    let ev = run(r#"{"aware_at": "2026-03-06T09:00:00Z", "affected": [
        {"jurisdiction": "US-TX", "elements": ["name", "card_number"], "count": 3}]}"#);
    let acq = one(&ev, "PCI-VISA", Recipient::Acquirer);
    assert_eq!(acq.deadline, Some(datetime!(2026-03-11 09:00 UTC)));
}

/// UK: PECR's breach report is 72 hours since the Data (Use and Access) Act
/// 2025, and binds telecom providers only — said in the file's caveat.
#[test]
fn uk_caveat_reflects_the_data_use_and_access_act() {
    let cat = Catalogue::builtin().unwrap();
    let gb = cat.get("GB").unwrap();
    assert!(gb
        .caveats
        .iter()
        .any(|c| c.contains("72 hours") && c.contains("Data (Use and Access) Act 2025")));
    assert!(gb.amendments.iter().any(|a| a.act.contains("2025")));
}
