//! The inventory's diff, and each change's event through the checkout rules.

use bulwark_pagewatch::event::{Page, SERVICE_SCRIPT_MONITOR};
use bulwark_pagewatch::inventory::{
    diff, update, Approval, ApprovalScope, Approvals, Change, Connection, ConnectionKind, Digests,
    Inventory, Observation, ObservedScript, ScriptKey, ScriptSource, SecurityHeaders, State,
};
use time::macros::datetime;
use time::OffsetDateTime;

use crate::rules;

const APP_JS: &[u8] = b"function init(){ document.querySelector('#pay').disabled = false; }";
const STRIPE: &str = "https://js.stripe.com/v3";

fn page() -> Page {
    Page {
        url: "https://shop.example/checkout".into(),
        page_type: "checkout".into(),
    }
}

fn script(source: ScriptSource, body: &[u8]) -> ObservedScript {
    ObservedScript {
        source,
        digests: Digests::of(body),
        size: body.len() as u64,
        initiator: None,
        has_sri: false,
    }
}

fn headers() -> SecurityHeaders {
    SecurityHeaders {
        csp: Some(
            "default-src 'self'; script-src 'self' https://js.stripe.com; frame-ancestors 'none'"
                .into(),
        ),
        csp_report_only: None,
        hsts: Some("max-age=31536000; includeSubDomains".into()),
        x_frame_options: Some("DENY".into()),
        referrer_policy: Some("strict-origin-when-cross-origin".into()),
        permissions_policy: Some("payment=(self)".into()),
    }
}

fn baseline(at: OffsetDateTime) -> Observation {
    Observation {
        page: page(),
        at,
        scripts: vec![
            script(
                ScriptSource::Url("https://shop.example/static/app.js".into()),
                APP_JS,
            ),
            script(ScriptSource::Url(STRIPE.into()), b"/* stripe v3 */"),
            script(ScriptSource::Inline, b"window.dataLayer = [];"),
        ],
        headers: headers(),
        iframes: vec!["https://js.stripe.com/v3/elements-inner-card.html".into()],
        connections: vec![Connection {
            host: "api.stripe.com".into(),
            kind: ConnectionKind::Fetch,
            initiator: Some(STRIPE.into()),
        }],
    }
}

fn approve_all(obs: &Observation) -> Approvals {
    let mut a: Vec<Approval> = obs
        .scripts
        .iter()
        .map(|s| {
            approval(ApprovalScope::Script {
                key: s.key(),
                sha256: vec![s.digests.sha256.clone()],
            })
        })
        .collect();
    a.push(approval(ApprovalScope::Host {
        host: "api.stripe.com".into(),
    }));
    Approvals(a)
}

fn approval(scope: ApprovalScope) -> Approval {
    Approval {
        owner: "web team".into(),
        justification: "checkout".into(),
        approver: "security lead".into(),
        at: datetime!(2026-12-01 09:00 UTC),
        scope,
    }
}

fn titles(change: &Change, at: OffsetDateTime) -> Vec<String> {
    let mut e = rules::engine();
    rules::titles(&mut e, SERVICE_SCRIPT_MONITOR, change.to_event(&page(), at))
}

#[test]
fn the_first_run_inventories_every_script_as_new() {
    let obs = baseline(datetime!(2026-12-01 08:00 UTC));
    let u = update(&Inventory::default(), &Approvals::default(), &obs);
    let new: Vec<_> = u
        .changes
        .iter()
        .filter(|c| matches!(c, Change::NewScript { .. }))
        .collect();
    assert_eq!(new.len(), 3);
    assert!(u.inventory.scripts.values().all(|e| e.state == State::New));
    assert!(u.inventory.scripts.contains_key(&ScriptKey(STRIPE.into())));
    assert!(u
        .inventory
        .scripts
        .keys()
        .any(|k| k.0.starts_with("inline:sha256-")));
    // No earlier headers or frames to compare with; the host is new.
    assert!(!u
        .changes
        .iter()
        .any(|c| matches!(c, Change::HeaderWeakened(_) | Change::IframeChanged { .. })));
    assert!(u
        .changes
        .iter()
        .any(|c| matches!(c, Change::NewOutboundHost(h) if h.host == "api.stripe.com")));
    for c in new {
        assert_eq!(titles(c, obs.at), vec![rules::NEW_SCRIPT.to_string()]);
    }
}

#[test]
fn approved_scripts_are_authorised_and_quiet() {
    let obs = baseline(datetime!(2026-12-01 08:00 UTC));
    let first = update(&Inventory::default(), &Approvals::default(), &obs).inventory;
    let approvals = approve_all(&obs);
    let mut again = baseline(datetime!(2026-12-02 08:00 UTC));
    again.at = datetime!(2026-12-02 08:00 UTC);
    let u = update(&first, &approvals, &again);
    assert_eq!(u.changes, vec![]);
    assert!(u
        .inventory
        .scripts
        .values()
        .all(|e| e.state == State::Authorised));
    let e = &u.inventory.scripts[&ScriptKey(STRIPE.into())];
    assert_eq!(e.first_seen, obs.at);
    assert_eq!(e.last_seen, again.at);
}

#[test]
fn an_injected_script_from_a_new_host_is_caught() {
    let obs = baseline(datetime!(2026-12-01 08:00 UTC));
    let approvals = approve_all(&obs);
    let inv = update(&Inventory::default(), &approvals, &obs).inventory;
    let mut next = baseline(datetime!(2026-12-02 08:00 UTC));
    let injected = "https://cdn.jquery-cdn.example/jq.min.js";
    next.scripts.push(ObservedScript {
        initiator: Some("https://shop.example/static/app.js".into()),
        ..script(ScriptSource::Url(injected.into()), b"var x=1;")
    });
    next.connections.push(Connection {
        host: "collect.jquery-cdn.example".into(),
        kind: ConnectionKind::Image,
        initiator: Some(injected.into()),
    });
    let changes = diff(&inv, &approvals, &next);
    assert_eq!(changes.len(), 2, "{changes:#?}");
    let new = &changes[0];
    assert!(matches!(new, Change::NewScript { key, .. } if key.0 == injected));
    let host = &changes[1];
    assert!(matches!(host, Change::NewOutboundHost(c) if c.host == "collect.jquery-cdn.example"));
    let e = new.to_event(&page(), next.at);
    assert_eq!(
        e["bulwark.script.initiator"],
        "https://shop.example/static/app.js"
    );
    assert_eq!(titles(new, next.at), vec![rules::NEW_SCRIPT.to_string()]);
    assert_eq!(
        titles(host, next.at),
        vec![rules::PAGE_WEAKENED.to_string()]
    );
    let e = host.to_event(&page(), next.at);
    assert_eq!(e["destination.domain"], "collect.jquery-cdn.example");
    assert_eq!(e["bulwark.connection.kind"], "image");
    // Approving the script and its host clears it on the next run.
    let mut approvals = approvals;
    let s = next.scripts.last().unwrap();
    approvals.0.push(approval(ApprovalScope::Script {
        key: s.key(),
        sha256: vec![s.digests.sha256.clone()],
    }));
    let inv = update(&inv, &approvals, &next).inventory;
    assert_eq!(
        inv.scripts[&ScriptKey(injected.into())].state,
        State::Authorised
    );
    let mut third = next.clone();
    third.at = datetime!(2026-12-03 08:00 UTC);
    assert_eq!(diff(&inv, &approvals, &third), vec![]);
}

#[test]
fn one_byte_changed_in_an_approved_script_resets_its_authorisation() {
    let obs = baseline(datetime!(2026-12-01 08:00 UTC));
    let approvals = approve_all(&obs);
    let inv = update(&Inventory::default(), &approvals, &obs).inventory;
    let mut next = baseline(datetime!(2026-12-02 08:00 UTC));
    let mut body = APP_JS.to_vec();
    body[10] ^= 1;
    next.scripts[0] = script(
        ScriptSource::Url("https://shop.example/static/app.js".into()),
        &body,
    );
    let u = update(&inv, &approvals, &next);
    assert_eq!(u.changes.len(), 1, "{:#?}", u.changes);
    let c = &u.changes[0];
    let Change::ScriptChanged {
        previous,
        was_authorised,
        ..
    } = c
    else {
        panic!("{c:?}")
    };
    assert!(*was_authorised);
    assert_eq!(previous, &Digests::of(APP_JS));
    let key = ScriptKey("https://shop.example/static/app.js".into());
    assert_eq!(u.inventory.scripts[&key].state, State::Changed);
    let e = c.to_event(&page(), next.at);
    assert_eq!(
        e["bulwark.script.previous_hash"],
        format!("sha256-{}", Digests::of(APP_JS).sha256)
    );
    assert_eq!(
        e["bulwark.script.hash"],
        format!("sha256-{}", Digests::of(&body).sha256)
    );
    let t = titles(c, next.at);
    assert!(t.contains(&rules::CHANGED.to_string()), "{t:?}");
    // The reset stays until someone approves the new body: no repeat change,
    // but the state is still `changed`.
    let mut third = next.clone();
    third.at = datetime!(2026-12-03 08:00 UTC);
    let u2 = update(&u.inventory, &approvals, &third);
    assert_eq!(u2.changes, vec![]);
    assert_eq!(u2.inventory.scripts[&key].state, State::Changed);
}

#[test]
fn a_dynamic_policy_approves_a_vendor_by_origin() {
    let obs = baseline(datetime!(2026-12-01 08:00 UTC));
    let mut approvals = approve_all(&obs);
    approvals.0.push(approval(ApprovalScope::Dynamic {
        origin: "https://js.stripe.com/".into(),
        allowed_hosts: vec!["m.stripe.network".into()],
    }));
    let inv = update(&Inventory::default(), &approvals, &obs).inventory;
    let mut next = baseline(datetime!(2026-12-02 08:00 UTC));
    next.scripts[1] = script(
        ScriptSource::Url(STRIPE.into()),
        b"/* stripe v3, new build */",
    );
    next.connections.push(Connection {
        host: "m.stripe.network".into(),
        kind: ConnectionKind::Beacon,
        initiator: Some(STRIPE.into()),
    });
    assert_eq!(diff(&inv, &approvals, &next), vec![]);
}

#[test]
fn removed_scripts_and_changed_frames() {
    let obs = baseline(datetime!(2026-12-01 08:00 UTC));
    let approvals = approve_all(&obs);
    let inv = update(&Inventory::default(), &approvals, &obs).inventory;
    let mut next = baseline(datetime!(2026-12-02 08:00 UTC));
    next.scripts.pop();
    next.iframes = vec!["https://pay.jquery-cdn.example/card".into()];
    let u = update(&inv, &approvals, &next);
    assert_eq!(u.changes.len(), 2, "{:#?}", u.changes);
    assert!(
        matches!(&u.changes[0], Change::ScriptRemoved { key, .. } if key.0.starts_with("inline:"))
    );
    assert!(titles(&u.changes[0], next.at).is_empty());
    let Change::IframeChanged { added, removed } = &u.changes[1] else {
        panic!("{:?}", u.changes[1])
    };
    assert_eq!(
        added,
        &vec!["https://pay.jquery-cdn.example/card".to_string()]
    );
    assert_eq!(
        removed,
        &vec!["https://js.stripe.com/v3/elements-inner-card.html".to_string()]
    );
    assert_eq!(
        titles(&u.changes[1], next.at),
        vec![rules::PAGE_WEAKENED.to_string()]
    );
    assert!(u
        .inventory
        .scripts
        .values()
        .any(|e| e.state == State::Removed));
}

#[test]
fn weakened_headers_are_changes() {
    let obs = baseline(datetime!(2026-12-01 08:00 UTC));
    let approvals = approve_all(&obs);
    let inv = update(&Inventory::default(), &approvals, &obs).inventory;
    let cases: Vec<(SecurityHeaders, &str, &str)> = vec![
        (
            SecurityHeaders {
                csp: None,
                ..headers()
            },
            "content-security-policy",
            "removed",
        ),
        (
            SecurityHeaders {
                csp: Some(
                    "default-src 'self'; script-src 'self' 'unsafe-inline' https://js.stripe.com"
                        .into(),
                ),
                ..headers()
            },
            "content-security-policy",
            "unsafe-inline-added",
        ),
        (
            SecurityHeaders {
                csp: Some("default-src 'self'; script-src 'self' 'unsafe-eval'".into()),
                ..headers()
            },
            "content-security-policy",
            "unsafe-eval-added",
        ),
        (
            SecurityHeaders {
                csp: Some("script-src *".into()),
                ..headers()
            },
            "content-security-policy",
            "wildcard-added",
        ),
        (
            SecurityHeaders {
                hsts: None,
                ..headers()
            },
            "strict-transport-security",
            "removed",
        ),
        (
            SecurityHeaders {
                hsts: Some("max-age=60".into()),
                ..headers()
            },
            "strict-transport-security",
            "max-age-lowered",
        ),
        (
            SecurityHeaders {
                x_frame_options: None,
                ..headers()
            },
            "x-frame-options",
            "removed",
        ),
    ];
    for (h, name, code) in cases {
        let mut next = baseline(datetime!(2026-12-02 08:00 UTC));
        next.headers = h;
        let changes = diff(&inv, &approvals, &next);
        assert_eq!(changes.len(), 1, "{code}: {changes:#?}");
        let Change::HeaderWeakened(w) = &changes[0] else {
            panic!("{changes:?}")
        };
        assert_eq!((w.header.as_str(), w.code.as_str()), (name, code));
        let e = changes[0].to_event(&page(), next.at);
        assert_eq!(e["bulwark.header.weakness"], code);
        assert_eq!(
            titles(&changes[0], next.at),
            vec![rules::PAGE_WEAKENED.to_string()]
        );
    }
    // A stricter policy is no alert.
    let mut next = baseline(datetime!(2026-12-02 08:00 UTC));
    next.headers.csp = Some("default-src 'none'; script-src 'self'".into());
    next.headers.hsts = Some("max-age=63072000; includeSubDomains; preload".into());
    assert_eq!(diff(&inv, &approvals, &next), vec![]);
}

#[test]
fn a_page_that_is_not_a_payment_page_raises_nothing() {
    let obs = baseline(datetime!(2026-12-01 08:00 UTC));
    let u = update(&Inventory::default(), &Approvals::default(), &obs);
    let blog = Page {
        url: "https://shop.example/blog".into(),
        page_type: "blog".into(),
    };
    let mut e = rules::engine();
    for c in &u.changes {
        let t = rules::titles(&mut e, SERVICE_SCRIPT_MONITOR, c.to_event(&blog, obs.at));
        assert!(t.is_empty(), "{t:?}");
    }
}
