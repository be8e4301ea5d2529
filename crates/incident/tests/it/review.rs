//! The post-incident report and the living plan.

use crate::common::*;
use bulwark_incident::*;
use bulwark_model::DataElement;
use time::macros::datetime;
use time::Duration;

/// A skimmer incident worked to closure: aware 09:00, contained 10:15.
fn worked_incident() -> (Incident, Vec<TimelineEntry>, Vec<Task>) {
    let mut n = new_incident(Classification::WebSkimmer);
    n.title = "Skimmer <script>alert(1)</script> on checkout".into();
    n.elements = [DataElement::CardNumber, DataElement::Name].into();
    n.jurisdictions = ["US-CA".to_string(), "DE".to_string()].into();
    let (mut inc, opened) = Incident::open(7, n, "alice", OPENED).unwrap();
    let mut timeline = vec![opened];
    let pb = builtin().get("web_skimmer").unwrap().clone();
    let applied = apply_playbook(&mut inc, &pb, &[], "alice", OPENED).unwrap();
    timeline.push(applied.entry);
    let mut tasks = applied.tasks;
    let contained = datetime!(2026-11-20 10:15 UTC);
    timeline.push(
        inc.advance(Phase::Contained, None, "bob", contained)
            .unwrap(),
    );
    timeline.extend(schedule(&inc, &mut tasks, "bob", contained).unwrap());
    timeline.push(TimelineEntry::new(
        7,
        datetime!(2026-11-20 10:20 UTC),
        "bob",
        EntryKind::Containment,
        "Webhook checkout.pause delivered (HTTP 200)",
        serde_json::json!({"action": "webhook:checkout.pause"}),
    ));
    timeline.push(
        complete_task(
            &mut tasks[0],
            None,
            "alice",
            datetime!(2026-11-20 09:25 UTC),
        )
        .unwrap(),
    );
    timeline.push(
        skip_task(
            &mut tasks[1],
            "script already captured by the CDN | <b>vendor</b>",
            "bob",
            contained,
        )
        .unwrap(),
    );
    timeline.push(
        inc.note("Acquirer says **no** fraud yet", "carol", contained)
            .unwrap(),
    );
    timeline.push(
        inc.update(
            IncidentPatch {
                root_cause: Some("Outdated payment extension allowed template injection".into()),
                first_malicious_activity: Some(datetime!(2026-11-17 23:00 UTC)),
                review: Some(Review {
                    what_worked: vec!["Script-change rule fired within minutes".into()],
                    what_to_improve: vec!["Nobody had the acquirer's number".into()],
                    follow_ups: vec!["Add subresource integrity to checkout".into()],
                }),
                ..Default::default()
            },
            "alice",
            contained,
        )
        .unwrap(),
    );
    (inc, timeline, tasks)
}

#[test]
fn figures_use_first_malicious_activity_or_discovery() {
    let (inc, _, _) = worked_incident();
    let f = figures(&inc);
    assert_eq!(f.time_to_detect, Duration::hours(58)); // 11-17 23:00 → 11-20 09:00
    assert_eq!(f.detect_basis, DetectBasis::FirstMaliciousActivity);
    assert_eq!(f.time_to_contain, Some(Duration::minutes(75)));

    let fresh = open(Classification::WebSkimmer);
    let f = figures(&fresh);
    assert_eq!(f.time_to_detect, Duration::hours(1)); // discovered 08:00, aware 09:00
    assert_eq!(f.detect_basis, DetectBasis::Discovered);
    assert_eq!(f.time_to_contain, None);
}

fn scope() -> ScopeSummary {
    ScopeSummary {
        customers: 1234,
        by_element: [(DataElement::CardNumber, 1234), (DataElement::Name, 1200)].into(),
        by_jurisdiction: [("US-CA".to_string(), 1000), ("DE".to_string(), 234)].into(),
        basis: "orders placed in the exposure window".into(),
    }
}

fn notices() -> NotificationSummary {
    NotificationSummary {
        rows: vec![NotificationRow {
            recipient: "regulator: BfDI".into(),
            jurisdiction: "DE".into(),
            citation: "GDPR Art. 33".into(),
            deadline: Some(datetime!(2026-11-23 09:00 UTC)),
            status: "sent".into(),
            done_at: Some(datetime!(2026-11-23 10:00 UTC)),
        }],
    }
}

#[test]
fn markdown_report_has_the_figures_sections_and_escaped_text() {
    let (inc, timeline, tasks) = worked_incident();
    let md = render_report(
        &inc,
        &timeline,
        &tasks,
        Some(&scope()),
        Some(&notices()),
        Format::Markdown,
    )
    .unwrap();
    assert!(md.starts_with("# Post-incident review: INC-7 Skimmer &lt;script&gt;alert(1)&lt;/script&gt; on checkout\n"), "{md}");
    assert!(!md.contains("<script>"));
    assert!(
        md.contains(
            "| **Time to detect** | 2d 10h (measured from the first malicious activity found) |"
        ),
        "{md}"
    );
    assert!(
        md.contains("| **Time to contain** | 1h 15m (from awareness) |"),
        "{md}"
    );
    assert!(md.contains("Outdated payment extension allowed template injection"));
    assert!(md.contains("1234 customers affected (orders placed in the exposure window)."));
    assert!(md.contains("| regulator: BfDI | DE | GDPR Art. 33 | 2026-11-23 09:00 UTC | sent | 2026-11-23 10:00 UTC **late** |"), "{md}");
    assert!(md
        .contains("- 2026-11-20 09:25 UTC, alice: Activate the response plan and notify the team"));
    assert!(md.contains("- 2026-11-20 10:20 UTC, bob: Webhook checkout.pause delivered (HTTP 200)"));
    // User text cannot break out of a table cell or add emphasis.
    assert!(
        md.contains("script already captured by the CDN \\| &lt;b&gt;vendor&lt;/b&gt;"),
        "{md}"
    );
    assert!(md.contains("Acquirer says \\*\\*no\\*\\* fraud yet"));
    assert!(md.contains("- Script-change rule fired within minutes"));
    assert!(md.contains("- Add subresource integrity to checkout"));
    assert!(md.contains("- Outstanding task: Pause checkout until the page is known clean (Security / IT lead, contained, due 2026-11-20 10:45 UTC)"), "{md}");
}

#[test]
fn html_report_escapes_user_text() {
    let (inc, timeline, tasks) = worked_incident();
    let html = render_report(&inc, &timeline, &tasks, None, None, Format::Html).unwrap();
    assert!(!html.contains("<script>alert(1)</script>"), "{html}");
    assert!(
        html.contains("Skimmer &lt;script&gt;alert(1)&lt;&#x2f;script&gt; on checkout"),
        "{html}"
    );
    assert!(html.contains("&lt;b&gt;vendor&lt;&#x2f;b&gt;"));
    assert!(
        html.contains(
            "<tr class=\"figure\"><th>Time to contain</th><td>1h 15m (from awareness)</td></tr>"
        ),
        "{html}"
    );
    assert!(html.contains("No scope assessment was attached to this review."));
    assert!(html.contains("No notification summary was attached to this review."));
}

#[test]
fn an_uncontained_incident_says_so() {
    let inc = open(Classification::LostDevice);
    let md = render_report(&inc, &[], &[], None, None, Format::Markdown).unwrap();
    assert!(
        md.contains("| **Time to contain** | not contained |"),
        "{md}"
    );
    assert!(
        md.contains(
            "| **Time to detect** | 1h (measured from discovery; the start of the attack is not known) |"
        ),
        "{md}"
    );
}

fn assets() -> Vec<Asset> {
    vec![
        Asset {
            name: "Newsletter <list>".into(),
            elements: [DataElement::Email, DataElement::Name].into(),
            customers: 90_000,
            hosting: "SaaS".into(),
            owner: "marketing".into(),
            facts: None,
        },
        Asset {
            name: "Bulwark vault".into(),
            elements: [
                DataElement::Name,
                DataElement::Email,
                DataElement::PostalAddress,
                DataElement::CardNumber,
            ]
            .into(),
            customers: 40_000,
            hosting: "eu-west-1".into(),
            owner: "bob".into(),
            facts: None,
        },
    ]
}

fn rows() -> Vec<NotificationOverviewRow> {
    vec![NotificationOverviewRow {
        jurisdiction: "DE".into(),
        customers: 234,
        laws: "GDPR Art. 33/34".into(),
        recipients: "regulator, individuals".into(),
        deadline: "72 hours from awareness".into(),
    }]
}

#[test]
fn plan_renders_every_section_and_ranks_assets() {
    let set = builtin();
    let plan = render_plan(
        &team(),
        set.all(),
        &assets(),
        &rows(),
        &PlanUpkeep::default(),
        OPENED,
        Format::Markdown,
    )
    .unwrap();
    let md = &plan.text;
    assert_eq!(plan.hash.len(), 64);
    assert!(
        md.contains(&format!(
            "Plan version `{}`, generated 2026-11-20 09:10 UTC.",
            plan.hash
        )),
        "{md}"
    );
    assert!(md.contains("| Security / IT lead | "), "{md}");
    assert!(md.contains("Bob Ruiz (primary); Alice Ng |"), "{md}");
    assert!(md.contains("1. Alice Ng (+44 20 7946 0000)"), "{md}");
    // vault: (1+2+3+9) × 40k = 600k beats newsletter: 3 × 90k = 270k.
    assert!(md.contains("| 1 | Bulwark vault | 40000 | name, email, postal\\_address, card\\_number | 15 | 600000 |"), "{md}");
    assert!(md.contains("| 2 | Newsletter &lt;list&gt; |"), "{md}");
    assert!(md.contains(
        "| DE | 234 | GDPR Art. 33/34 | regulator, individuals | 72 hours from awareness |"
    ));
    assert!(md.contains("### Web skimmer on checkout"));
    assert!(md.contains("| Pause checkout until the page is known clean | Security / IT lead | 30m after the phase starts |  | webhook:checkout.pause |"), "{md}");
    assert!(md.contains("| Tell the acquiring bank and payment processor | Legal | 1d after awareness | card data involved |  |"), "{md}");
    assert!(!md.contains("Gaps to fix"));
    assert!(
        md.contains("The compliance calendar could not be read"),
        "{md}"
    );

    let html = render_plan(
        &team(),
        set.all(),
        &assets(),
        &rows(),
        &PlanUpkeep::default(),
        OPENED,
        Format::Html,
    )
    .unwrap();
    assert_eq!(
        html.hash, plan.hash,
        "the hash does not depend on the format"
    );
    assert!(html.text.contains("Newsletter &lt;list&gt;"));
    assert!(!html.text.contains("<list>"));
}

#[test]
fn plan_hash_changes_when_the_team_changes_and_not_otherwise() {
    let set = builtin();
    let base = plan_hash(&team(), set.all(), &assets(), &rows()).unwrap();
    // Not: a different time, format, upkeep state, or input order of people
    // and assets.
    let upkeep = PlanUpkeep {
        duties: vec![UpkeepDuty {
            title: "Test the incident response plan".into(),
            requirement: "PCI DSS 12.10.2".into(),
            owner: "incident_lead".into(),
            due: "2026-11-01".into(),
            days_overdue: 19,
        }],
        improvements: vec![UpkeepImprovement {
            title: "Contain <faster>".into(),
            owner: "it".into(),
            due: "2026-12-20".into(),
            overdue: false,
            drill: 4,
        }],
        pages: vec![UpkeepPage {
            name: "checkout".into(),
            url: "https://shop.example/checkout".into(),
            every: "1h".into(),
            last_checked: None,
            stale: true,
        }],
        known: true,
    };
    let later = render_plan(
        &team(),
        set.all(),
        &assets(),
        &rows(),
        &upkeep,
        OPENED + Duration::days(30),
        Format::Html,
    )
    .unwrap();
    assert_eq!(later.hash, base);
    assert!(
        later.text.contains("<td>PCI DSS 12.10.2</td>")
            && later.text.contains("overdue by 19 day(s)")
            && later.text.contains("Contain &lt;faster&gt;")
            && later.text.contains("drill 4")
            && later.text.contains("<td>checkout (https:")
            && later.text.contains("not checked in the last 7 days"),
        "{}",
        later.text
    );
    let mut shuffled = team();
    shuffled.people.reverse();
    let mut assets_rev = assets();
    assets_rev.reverse();
    assert_eq!(
        plan_hash(&shuffled, set.all(), &assets_rev, &rows()).unwrap(),
        base
    );
    let mut pbs = set.all().to_vec();
    pbs.reverse();
    assert_eq!(plan_hash(&team(), &pbs, &assets(), &rows()).unwrap(), base);

    // Yes: a new phone number, a changed deputy, a different escalation order.
    let mut t = team();
    t.people[2].phone = Some("+44 20 7946 0999".into());
    assert_ne!(plan_hash(&t, set.all(), &assets(), &rows()).unwrap(), base);
    let mut t = team();
    t.roles
        .get_mut(&Role::Legal)
        .unwrap()
        .deputies
        .push("alice".into());
    assert_ne!(plan_hash(&t, set.all(), &assets(), &rows()).unwrap(), base);
    let mut t = team();
    t.escalation.reverse();
    assert_ne!(plan_hash(&t, set.all(), &assets(), &rows()).unwrap(), base);
}

#[test]
fn plan_lists_gaps_when_a_role_is_unstaffed() {
    let set = builtin();
    let mut t = team();
    t.roles.remove(&Role::CustomerService);
    let plan = render_plan(
        &t,
        set.all(),
        &[],
        &[],
        &PlanUpkeep::default(),
        OPENED,
        Format::Markdown,
    )
    .unwrap();
    assert!(plan.text.contains("### Gaps to fix"), "{}", plan.text);
    assert!(
        plan.text
            .contains("- Nobody holds the role Customer service, which owns 6 playbook task(s)."),
        "{}",
        plan.text
    );
    assert!(plan.text.contains("| Customer service | "));
    assert!(
        plan.text.contains("| \\*\\*nobody\\*\\* |") || plan.text.contains("| **nobody** |"),
        "{}",
        plan.text
    );
}
