//! The shipped playbooks: lint, loading, overrides, and applying each one to a
//! representative incident (tasks, due times, conditions, phase-relative dues,
//! overdue flagging).

use crate::common::*;
use bulwark_incident::*;
use bulwark_model::DataElement::{self, *};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

#[test]
fn shipped_playbooks_lint_clean() {
    let found = lint(BUILTIN_PLAYBOOKS);
    assert!(
        found.is_empty(),
        "{}",
        found
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(builtin().all().len(), 7);
}

#[test]
fn builtin_list_matches_playbooks_directory() {
    // Tests may read files: the crate itself does not.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../playbooks");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
        .map(|n| format!("playbooks/{n}"))
        .collect();
    on_disk.sort();
    let built: Vec<String> = BUILTIN_PLAYBOOKS
        .iter()
        .map(|(p, _)| p.to_string())
        .collect();
    assert_eq!(on_disk, built, "update src/builtin.rs");
    for (path, text) in BUILTIN_PLAYBOOKS {
        let on_disk = std::fs::read_to_string(format!("{dir}/../{path}")).unwrap();
        assert_eq!(&on_disk, text, "{path}");
    }
}

#[test]
fn every_classification_but_misdelivery_has_a_playbook() {
    let set = builtin();
    for c in Classification::ALL {
        let n = set.for_classification(c).len();
        if c == Classification::Misdelivery {
            assert_eq!(n, 0);
        } else {
            assert!(n >= 1, "{c}");
        }
    }
}

fn skimmer_text() -> &'static str {
    BUILTIN_PLAYBOOKS
        .iter()
        .find(|(p, _)| p.ends_with("web_skimmer.yaml"))
        .unwrap()
        .1
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

fn lint_one(text: &str) -> Vec<Diagnostic> {
    lint(&[("playbooks/web_skimmer.yaml", text)])
}

#[test]
fn unknown_role_is_reported_with_its_position() {
    let broken = skimmer_text().replacen("role: legal", "role: lawyer", 1);
    let line = line_of(&broken, "role: lawyer");
    let found = lint_one(&broken);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].to_string(),
        format!("playbooks/web_skimmer.yaml:{line}:11: error: unknown role `lawyer`; known: incident_commander, security_lead, legal, pr_comms, customer_service, executive_sponsor")
    );
    // Loading stops at the same finding.
    let err = PlaybookSet::load(&[("playbooks/web_skimmer.yaml", broken.as_str())]).unwrap_err();
    assert_eq!(err.to_string(), found[0].to_string());
}

#[test]
fn bad_durations_phases_elements_and_actions_are_each_named() {
    let text = skimmer_text()
        .replacen(
            "due: {after: 30m, from: aware_at}",
            "due: {after: 30 minutes, from: aware_at}",
            1,
        )
        .replacen("phase: investigating", "phase: investigate", 1)
        .replacen(
            "action: {webhook: checkout.pause}",
            "action: shutdown_everything",
            1,
        )
        .replacen("card_data: true", "elements_any: [credit_card]", 1);
    let found = lint_one(&text);
    let msgs: Vec<String> = found.iter().map(|d| d.to_string()).collect();
    let at = |needle: &str| line_of(&text, needle);
    assert_eq!(
        msgs,
        [
            format!("playbooks/web_skimmer.yaml:{}:18: error: due.after: `30 minutes` is not a duration; write a number followed by m, h, d or w, e.g. `30m`, `4h`, `1d12h`", at("30 minutes")),
            format!("playbooks/web_skimmer.yaml:{}:13: error: unknown action `shutdown_everything`; expected revoke_api_key, vault_lockdown, rotate_data_key or {{webhook: <event>}}", at("shutdown_everything")),
            format!("playbooks/web_skimmer.yaml:{}:22: error: unknown data element `credit_card`", at("credit_card")),
            format!("playbooks/web_skimmer.yaml:{}:12: error: unknown phase `investigate`; known: triage, contained, investigating, notifying, remediating, monitoring, closed", at("phase: investigate")),
        ]
    );
}

#[test]
fn yaml_errors_unknown_keys_and_phase_order_are_reported() {
    let found = lint_one("id: x\ntitle: [unclosed\n");
    assert_eq!(found.len(), 1);
    assert!(found[0].message.starts_with("YAML: "), "{}", found[0]);
    assert_eq!(found[0].pos.map(|p| p.line), Some(3));

    let text = skimmer_text().replacen(
        "    role: incident_commander\n",
        "    role: incident_commander\n    owner: alice\n",
        1,
    );
    let found = lint_one(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]
            .message
            .starts_with("unknown key `owner` in a task; expected one of: id, phase"),
        "{}",
        found[0]
    );
    assert_eq!(
        found[0].pos.map(|p| p.line),
        Some(line_of(&text, "owner: alice"))
    );

    let text = "id: web_skimmer\ntitle: T\nclassifications: [web_skimmer]\ntasks:\n  - {id: a, phase: notifying, title: A, role: legal, due: {after: 1h, from: aware_at}}\n  - {id: b, phase: triage, title: B, role: legal, due: {after: 1h, from: phase_start}}\n";
    let found = lint_one(text);
    assert_eq!(
        found[0].to_string(),
        "playbooks/web_skimmer.yaml:6:5: error: task `b` is in triage but follows a task in notifying: list tasks in phase order"
    );

    let text = "id: web_skimmer\ntitle: T\nclassifications: [web_skimmer]\ntasks:\n  - {id: a, phase: closed, title: A, role: legal, due: {after: 1h, from: soon}}\n";
    let msgs: Vec<String> = lint_one(text).into_iter().map(|d| d.message).collect();
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("tasks cannot belong to `closed`")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m == "due.from must be `aware_at` or `phase_start`, found `soon`"),
        "{msgs:?}"
    );
}

#[test]
fn anchors_aliases_and_repeated_keys_are_refused_with_positions() {
    let text = "id: web_skimmer\ntitle: T\nclassifications: [web_skimmer]\ndefaults: &d {after: 1h, from: aware_at}\ntasks:\n  - {id: a, phase: triage, title: A, role: legal, due: *d}\n";
    let found = lint_one(text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].to_string(),
        "playbooks/web_skimmer.yaml:4:14: error: YAML: anchors and aliases are not supported in playbooks"
    );
    let found = lint_one("id: a\ntitle: T\ntitle: U\n");
    assert_eq!(
        found[0].to_string(),
        "playbooks/web_skimmer.yaml:3:1: error: YAML: duplicate key `title`"
    );
    let found = lint_one("id: a\n---\nid: b\n");
    assert_eq!(
        found[0].to_string(),
        "playbooks/web_skimmer.yaml:3:1: error: YAML: one playbook per file: found a second YAML document"
    );
}

#[test]
fn warnings_do_not_stop_loading() {
    let text = "id: custom\ntitle: T\ntasks:\n  - {id: a, phase: contained, title: A, role: legal, due: {after: 1h, from: aware_at}, action: {webhook: warehouse.lock}}\n";
    let found = lint(&[("playbooks/other.yaml", text)]);
    let sev: Vec<_> = found.iter().map(|d| d.severity).collect();
    assert_eq!(sev, [LintSeverity::Warning; 3], "{found:?}");
    assert!(PlaybookSet::load(&[("playbooks/other.yaml", text)]).is_ok());
}

#[test]
fn overrides_replace_by_id_and_add_new_ones() {
    let changed = skimmer_text().replacen(
        "title: Web skimmer on checkout",
        "title: Skimmer (our version)",
        1,
    );
    let extra = "id: misdelivery\ntitle: Misdelivered order\nclassifications: [misdelivery]\ntasks:\n  - {id: call, phase: triage, title: Call the recipient, role: customer_service, due: {after: 4h, from: aware_at}}\n";
    let set = builtin()
        .with_overrides(&[
            ("data/playbooks/web_skimmer.yaml", changed.as_str()),
            ("data/playbooks/misdelivery.yaml", extra),
        ])
        .unwrap();
    assert_eq!(set.all().len(), 8);
    assert_eq!(
        set.get("web_skimmer").unwrap().title,
        "Skimmer (our version)"
    );
    assert_eq!(
        set.get("web_skimmer").unwrap().path,
        "data/playbooks/web_skimmer.yaml"
    );
    assert_eq!(set.for_classification(Classification::Misdelivery).len(), 1);
    let dup = PlaybookSet::load(&[
        ("a/web_skimmer.yaml", skimmer_text()),
        ("b/web_skimmer.yaml", skimmer_text()),
    ])
    .unwrap_err();
    assert_eq!(
        dup.to_string(),
        "b/web_skimmer.yaml: playbook id `web_skimmer` is also defined in a/web_skimmer.yaml"
    );
}

/// `Some("11-20 09:30")` → that time in 2026, UTC.
fn due(s: Option<&str>) -> Option<OffsetDateTime> {
    s.map(|s| {
        let (md, hm) = s.split_once(' ').unwrap();
        let (m, d) = md.split_once('-').unwrap();
        let (h, min) = hm.split_once(':').unwrap();
        let date = time::Date::from_calendar_date(
            2026,
            time::Month::try_from(m.parse::<u8>().unwrap()).unwrap(),
            d.parse().unwrap(),
        )
        .unwrap();
        date.with_hms(h.parse().unwrap(), min.parse().unwrap(), 0)
            .unwrap()
            .assume_utc()
    })
}

struct Case {
    playbook: &'static str,
    class: Classification,
    elements: &'static [DataElement],
    jurisdictions: &'static [&'static str],
    card: bool,
    tasks: &'static [(&'static str, Option<&'static str>)],
    excluded: &'static [&'static str],
}

const N: Option<&str> = None;

const CASES: &[Case] = &[
    Case {
        playbook: "admin_account_takeover",
        class: Classification::CredentialTheft,
        elements: &[Email, Password],
        jurisdictions: &["DE"],
        card: false,
        tasks: &[
            ("declare", Some("11-20 09:30")),
            ("assess", Some("11-20 10:00")),
            ("preserve-evidence", Some("11-20 11:00")),
            ("revoke-key", N),
            ("force-admin-reset", N),
            ("revoke-sessions", N),
            ("lockdown-if-reveals", N),
            ("entry-point", N),
            ("scope", N),
            ("obligations", Some("11-22 09:00")),
            ("regulator-72h", Some("11-23 09:00")),
            ("customer-notices", N),
            ("support-script", N),
            ("mfa-everywhere", N),
            ("monitor", N),
            ("review", N),
        ],
        excluded: &["hr-and-interview"],
    },
    Case {
        playbook: "web_skimmer",
        class: Classification::WebSkimmer,
        elements: &[
            Name,
            CardNumber,
            CardExpiry,
            CardSecurityCode,
            PostalAddress,
        ],
        jurisdictions: &["US-CA"],
        card: true,
        tasks: &[
            ("declare", Some("11-20 09:30")),
            ("capture-script", Some("11-20 10:00")),
            ("pause-checkout", N),
            ("remove-script", N),
            ("notify-acquirer", Some("11-21 09:00")),
            ("entry-point", N),
            ("pfi", Some("11-23 09:00")),
            ("scope-orders", N),
            ("obligations", Some("11-22 09:00")),
            ("customer-notices", N),
            ("support-script", N),
            ("resume-decision", N),
            ("csp-sri", N),
            ("monitor-scripts", N),
            ("review", N),
        ],
        excluded: &["regulator-72h"],
    },
    Case {
        playbook: "sql_injection_exfiltration",
        class: Classification::SqlInjectionExfiltration,
        elements: &[Name, Email, Password, PostalAddress],
        jurisdictions: &["FR", "US-NY"],
        card: false,
        tasks: &[
            ("declare", Some("11-20 09:30")),
            ("assess", Some("11-20 10:00")),
            ("preserve-evidence", Some("11-20 11:00")),
            ("block-endpoint", N),
            ("rotate-keys", N),
            ("reset-customer-passwords", N),
            ("entry-point", N),
            ("scope", N),
            ("obligations", Some("11-22 09:00")),
            ("law-enforcement", Some("11-23 09:00")),
            ("regulator-72h", Some("11-23 09:00")),
            ("customer-notices", N),
            ("support-script", N),
            ("fix", N),
            ("pentest", N),
            ("monitor", N),
            ("review", N),
        ],
        excluded: &["notify-acquirer", "identity-remedy"],
    },
    Case {
        playbook: "credential_stuffing",
        class: Classification::CredentialTheft,
        elements: &[Email, Password, Name],
        jurisdictions: &["GB"],
        card: false,
        tasks: &[
            ("declare", Some("11-20 10:00")),
            ("assess", Some("11-20 11:00")),
            ("block-sources", N),
            ("reset-taken-over", N),
            ("revoke-sessions", N),
            ("dwell", N),
            ("obligations", Some("11-22 09:00")),
            ("regulator-72h", Some("11-23 09:00")),
            ("customer-notices", N),
            ("support-script", N),
            ("mfa", N),
            ("monitor", N),
            ("review", N),
        ],
        excluded: &["fraud-check"],
    },
    Case {
        playbook: "ransomware",
        class: Classification::MalwareRansomware,
        elements: &[Name, Email, PostalAddress],
        jurisdictions: &["US-TX"],
        card: false,
        tasks: &[
            ("declare", Some("11-20 09:30")),
            ("assess", Some("11-20 11:00")),
            ("isolate", N),
            ("lockdown", N),
            ("rotate", N),
            ("image-evidence", N),
            ("ransom-decision", Some("11-22 09:00")),
            ("entry-point", N),
            ("exfiltration", N),
            ("obligations", Some("11-22 09:00")),
            ("law-enforcement", Some("11-22 09:00")),
            ("customer-notices", N),
            ("status-page", N),
            ("restore", N),
            ("harden", N),
            ("monitor", N),
            ("review", N),
        ],
        excluded: &["regulator-72h"],
    },
    Case {
        playbook: "lost_device",
        class: Classification::LostDevice,
        elements: &[Name, Email],
        jurisdictions: &["IE"],
        card: false,
        tasks: &[
            ("declare", Some("11-20 11:00")),
            ("encryption-status", Some("11-20 13:00")),
            ("revoke-credentials", N),
            ("revoke-sessions", N),
            ("police-report", Some("11-21 09:00")),
            ("inventory", N),
            ("obligations", Some("11-23 09:00")),
            ("regulator-72h", Some("11-23 09:00")),
            ("customer-notices", N),
            ("policy", N),
            ("review", N),
        ],
        excluded: &[],
    },
    Case {
        playbook: "third_party_breach",
        class: Classification::ThirdPartyBreach,
        elements: &[Name, Email, CardNumber],
        jurisdictions: &["CA-QC"],
        card: true,
        tasks: &[
            ("declare", Some("11-20 10:00")),
            ("facts-from-vendor", Some("11-21 09:00")),
            ("cut-access", N),
            ("revoke-key", N),
            ("processor-card", Some("11-21 09:00")),
            ("scope", N),
            ("obligations", Some("11-22 09:00")),
            ("customer-notices", N),
            ("support-script", N),
            ("vendor-review", N),
            ("review", N),
        ],
        excluded: &["regulator-72h"],
    },
];

#[test]
fn applying_each_shipped_playbook_yields_the_expected_tasks_and_due_times() {
    let set = builtin();
    assert_eq!(CASES.len(), set.all().len());
    for case in CASES {
        let mut inc = open_with(case.class, case.elements, case.jurisdictions, case.card);
        let pb = set.get(case.playbook).unwrap();
        let applied = apply_playbook(&mut inc, pb, &[], "alice", OPENED).unwrap();
        let got: Vec<(String, Option<OffsetDateTime>)> = applied
            .tasks
            .iter()
            .map(|t| (t.key.clone(), t.due_at))
            .collect();
        let want: Vec<(String, Option<OffsetDateTime>)> = case
            .tasks
            .iter()
            .map(|(k, d)| (format!("{}/{k}", case.playbook), due(*d)))
            .collect();
        assert_eq!(got, want, "{}", case.playbook);
        let excluded: Vec<String> = applied.excluded.iter().map(|e| e.key.clone()).collect();
        let want_ex: Vec<String> = case
            .excluded
            .iter()
            .map(|k| format!("{}/{k}", case.playbook))
            .collect();
        assert_eq!(excluded, want_ex, "{}", case.playbook);
        assert!(applied
            .tasks
            .iter()
            .all(|t| t.is_open() && t.incident == 7 && t.created_at == OPENED));
        assert_eq!(inc.playbooks, [case.playbook]);
        assert_eq!(applied.entry.kind, EntryKind::PlaybookApplied);
        assert_eq!(
            applied.entry.text,
            format!(
                "Playbook {} applied: {} task(s), {} not applicable",
                pb.title,
                case.tasks.len(),
                case.excluded.len()
            )
        );
        // Every owning role is staffed by the reference team.
        assert!(team().staffing_gaps(Some(&inc), &[pb]).is_empty());
    }
}

#[test]
fn conditions_include_or_exclude_tasks() {
    let set = builtin();
    let admin = set.get("admin_account_takeover").unwrap();
    let keys = |class, card: bool| {
        let mut inc = open_with(class, &[Email], &[], card);
        apply_playbook(&mut inc, admin, &[], "a", OPENED)
            .unwrap()
            .tasks
            .into_iter()
            .map(|t| t.key)
            .collect::<Vec<_>>()
    };
    let hr = "admin_account_takeover/hr-and-interview".to_string();
    assert!(keys(Classification::InsiderMisuse, false).contains(&hr));
    assert!(!keys(Classification::CredentialTheft, false).contains(&hr));

    let skimmer = set.get("web_skimmer").unwrap();
    let mut inc = open_with(Classification::WebSkimmer, &[Name], &["DE"], false);
    let first = apply_playbook(&mut inc, skimmer, &[], "a", OPENED).unwrap();
    let ex: Vec<(&str, &str)> = first
        .excluded
        .iter()
        .map(|e| (e.key.as_str(), e.why.as_str()))
        .collect();
    assert_eq!(
        ex,
        [
            ("web_skimmer/notify-acquirer", "no card data involved"),
            ("web_skimmer/pfi", "no card data involved")
        ]
    );
    assert!(first
        .tasks
        .iter()
        .any(|t| t.key == "web_skimmer/regulator-72h"));

    // Card data turns up later: re-applying adds exactly the card tasks.
    let at = OPENED + Duration::hours(5);
    inc.update(
        IncidentPatch {
            card_data: Some(true),
            ..Default::default()
        },
        "bob",
        at,
    )
    .unwrap();
    let again = apply_playbook(&mut inc, skimmer, &first.tasks, "bob", at).unwrap();
    let keys: Vec<&str> = again.tasks.iter().map(|t| t.key.as_str()).collect();
    assert_eq!(keys, ["web_skimmer/notify-acquirer", "web_skimmer/pfi"]);
    assert_eq!(again.tasks[0].due_at, Some(datetime!(2026-11-21 09:00 UTC)));
    assert_eq!(
        again.entry.text,
        "Playbook Web skimmer on checkout re-applied: 2 new task(s)"
    );
    assert_eq!(inc.playbooks, ["web_skimmer"]);
}

#[test]
fn phase_relative_tasks_get_due_times_when_their_phase_starts() {
    let set = builtin();
    let pb = set.get("web_skimmer").unwrap();
    let mut inc = open_with(Classification::WebSkimmer, &[CardNumber], &["US-CA"], true);
    let mut tasks = apply_playbook(&mut inc, pb, &[], "alice", OPENED)
        .unwrap()
        .tasks;
    let due_of = |tasks: &[Task], id: &str| {
        tasks
            .iter()
            .find(|t| t.key == format!("web_skimmer/{id}"))
            .unwrap()
            .due_at
    };
    assert_eq!(due_of(&tasks, "pause-checkout"), None);

    // Nothing changes until a phase starts.
    assert!(schedule(&inc, &mut tasks, "alice", OPENED)
        .unwrap()
        .is_none());

    let contained = datetime!(2026-11-20 10:15 UTC);
    inc.advance(Phase::Contained, None, "bob", contained)
        .unwrap();
    let entry = schedule(&inc, &mut tasks, "bob", contained)
        .unwrap()
        .unwrap();
    assert_eq!(entry.kind, EntryKind::TaskDue);
    assert_eq!(entry.details["tasks"].as_array().unwrap().len(), 2);
    assert_eq!(
        due_of(&tasks, "pause-checkout"),
        Some(datetime!(2026-11-20 10:45 UTC))
    );
    assert_eq!(
        due_of(&tasks, "remove-script"),
        Some(datetime!(2026-11-20 14:15 UTC))
    );
    assert_eq!(due_of(&tasks, "entry-point"), None);
    // aware_at-relative ones did not move.
    assert_eq!(
        due_of(&tasks, "notify-acquirer"),
        Some(datetime!(2026-11-21 09:00 UTC))
    );

    let investigating = datetime!(2026-11-20 18:00 UTC);
    inc.advance(Phase::Investigating, None, "bob", investigating)
        .unwrap();
    schedule(&inc, &mut tasks, "bob", investigating)
        .unwrap()
        .unwrap();
    assert_eq!(
        due_of(&tasks, "entry-point"),
        Some(datetime!(2026-11-22 18:00 UTC))
    );

    // A playbook applied after its phase began uses the recorded phase start.
    let mut late = open_with(Classification::WebSkimmer, &[], &[], true);
    late.advance(Phase::Contained, None, "bob", contained)
        .unwrap();
    let t = apply_playbook(&mut late, pb, &[], "bob", investigating)
        .unwrap()
        .tasks;
    assert_eq!(
        due_of(&t, "pause-checkout"),
        Some(datetime!(2026-11-20 10:45 UTC))
    );
}

#[test]
fn moving_aware_at_moves_the_legal_clock_tasks() {
    let pb = builtin().get("web_skimmer").unwrap().clone();
    let mut inc = open_with(Classification::WebSkimmer, &[], &[], true);
    let mut tasks = apply_playbook(&mut inc, &pb, &[], "a", OPENED)
        .unwrap()
        .tasks;
    inc.update(
        IncidentPatch {
            aware_at: Some(datetime!(2026-11-20 08:30 UTC)),
            ..Default::default()
        },
        "carol",
        OPENED,
    )
    .unwrap();
    let e = schedule(&inc, &mut tasks, "carol", OPENED)
        .unwrap()
        .unwrap();
    assert_eq!(e.text, "Due time set or moved for 5 task(s)");
    assert_eq!(tasks[0].due_at, Some(datetime!(2026-11-20 09:00 UTC)));
}

#[test]
fn overdue_tasks_are_flagged_and_completion_is_recorded() {
    let pb = builtin().get("web_skimmer").unwrap().clone();
    let mut inc = open_with(Classification::WebSkimmer, &[], &[], true);
    let mut tasks = apply_playbook(&mut inc, &pb, &[], "alice", OPENED)
        .unwrap()
        .tasks;
    let contained = datetime!(2026-11-20 10:15 UTC);
    inc.advance(Phase::Contained, None, "bob", contained)
        .unwrap();
    schedule(&inc, &mut tasks, "bob", contained).unwrap();

    let e = complete_task(
        &mut tasks[0],
        Some("team on the bridge"),
        "alice",
        datetime!(2026-11-20 09:20 UTC),
    )
    .unwrap();
    assert_eq!(
        (e.kind, e.text.as_str()),
        (
            EntryKind::TaskDone,
            "Task done: Activate the response plan and notify the team"
        )
    );
    assert_eq!(e.details["late"], false);

    let now = datetime!(2026-11-20 11:00 UTC);
    let keys: Vec<&str> = overdue(&tasks, now)
        .iter()
        .map(|t| t.key.as_str())
        .collect();
    assert_eq!(
        keys,
        ["web_skimmer/capture-script", "web_skimmer/pause-checkout"]
    );
    assert!(!tasks[0].is_overdue(now));
    // Exactly at the due time is not yet overdue.
    assert!(!tasks[1].is_overdue(datetime!(2026-11-20 10:00 UTC)));

    let e = complete_task(&mut tasks[1], None, "bob", now).unwrap();
    assert_eq!(
        e.text,
        "Task done: Capture the malicious script and the page as served (late)"
    );
    assert_eq!(
        complete_task(&mut tasks[1], None, "bob", now)
            .unwrap_err()
            .to_string(),
        "task web_skimmer/capture-script is already done"
    );

    let err = skip_task(&mut tasks[2], " ", "bob", now).unwrap_err();
    assert_eq!(
        err.to_string(),
        "skipping or reopening task web_skimmer/pause-checkout needs a reason"
    );
    let e = skip_task(
        &mut tasks[2],
        "checkout already down for maintenance",
        "bob",
        now,
    )
    .unwrap();
    assert_eq!(e.kind, EntryKind::TaskSkipped);
    match &tasks[2].status {
        TaskStatus::Skipped { by, at, reason } => {
            assert_eq!(
                (by.as_str(), *at, reason.as_str()),
                ("bob", now, "checkout already down for maintenance")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(overdue(&tasks, now).is_empty());
    reopen_task(&mut tasks[2], "maintenance ended", "alice", now).unwrap();
    assert_eq!(overdue(&tasks, now).len(), 1);
}

#[test]
fn staffing_gaps_name_the_roles_and_their_tasks() {
    let set = builtin();
    let pb = set.get("web_skimmer").unwrap();
    let mut t = team();
    t.roles.remove(&Role::PrComms);
    let inc = open_with(Classification::WebSkimmer, &[], &[], false);
    let gaps = t.staffing_gaps(Some(&inc), &[pb]);
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0].role, Role::PrComms);
    assert_eq!(gaps[0].tasks, ["web_skimmer/customer-notices"]);
    // Assigning someone on the incident fills the gap for that incident.
    let mut inc = inc;
    inc.assign(Role::PrComms, "dan", "alice", OPENED).unwrap();
    assert!(t.staffing_gaps(Some(&inc), &[pb]).is_empty());
}

#[test]
fn team_validation_names_problems() {
    let mut t = team();
    assert!(t.validate().is_ok());
    t.escalation.push("zoe".into());
    t.roles
        .get_mut(&Role::Legal)
        .unwrap()
        .deputies
        .push("carol".into());
    let msgs: Vec<String> = t.problems().iter().map(|p| p.to_string()).collect();
    assert_eq!(
        msgs,
        [
            "escalation refers to `zoe`, who is not on the team",
            "legal lists `carol` both as primary and as a deputy"
        ]
    );
    let t = team();
    let names: Vec<&str> = t
        .contacts_for(Role::SecurityLead)
        .iter()
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(names, ["bob", "alice"]);
}

#[test]
fn applying_to_a_closed_incident_is_refused() {
    let pb = builtin().get("ransomware").unwrap().clone();
    let mut inc = open(Classification::MalwareRansomware);
    inc.advance(Phase::Closed, Some("duplicate of INC-6"), "a", OPENED)
        .unwrap();
    assert_eq!(
        apply_playbook(&mut inc, &pb, &[], "a", OPENED).unwrap_err(),
        TaskError::IncidentClosed
    );
}

#[test]
fn an_eu_playbook_applies_to_customers_in_the_eea() {
    // GDPR reaches Norway, Iceland and Liechtenstein through the EEA Agreement,
    // so `EU` must match them as the law catalogue does.
    let text = "id: gdpr_only\ntitle: GDPR\nclassifications: [web_skimmer]\ntasks:\n  - {id: dpa, phase: notifying, title: Tell the DPA, role: legal, due: {after: 72h, from: aware_at}, when: {jurisdictions_any: [EU]}}\n";
    let set = PlaybookSet::load(&[("playbooks/gdpr_only.yaml", text)]).unwrap();
    let pb = set.get("gdpr_only").unwrap();
    for country in ["NO", "IS", "LI", "DE"] {
        let mut inc = open_with(Classification::WebSkimmer, &[Email], &[country], false);
        let applied = apply_playbook(&mut inc, pb, &[], "alice", OPENED).unwrap();
        let keys: Vec<&str> = applied.tasks.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(keys, ["gdpr_only/dpa"], "{country}");
    }
    let mut inc = open_with(Classification::WebSkimmer, &[Email], &["CH"], false);
    let applied = apply_playbook(&mut inc, pb, &[], "alice", OPENED).unwrap();
    assert!(applied.tasks.is_empty());
    assert_eq!(applied.excluded[0].why, "no customers in EU");
}
