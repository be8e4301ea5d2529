//! Dwell time: first and last activity of a principal or source in a window.

use bulwark_incident::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

fn rec(at: OffsetDateTime, principal: &str, source: &str, kind: &str) -> Activity {
    Activity {
        at,
        principal: Some(principal.into()),
        source: Some(source.into()),
        kind: kind.into(),
        origin: "access_log".into(),
    }
}

fn records() -> Vec<Activity> {
    vec![
        // Out of order on purpose: alerts and the access log interleave.
        rec(
            datetime!(2026-11-18 22:40 UTC),
            "key:k7",
            "203.0.113.9",
            "vault.reveal",
        ),
        rec(
            datetime!(2026-11-18 02:13 UTC),
            "key:k7",
            "203.0.113.9",
            "auth.key_used",
        ),
        rec(
            datetime!(2026-11-17 10:00 UTC),
            "key:k7",
            "198.51.100.4",
            "vault.reveal",
        ), // the owner, before the leak
        rec(
            datetime!(2026-11-18 05:00 UTC),
            "key:k7",
            "203.0.113.9",
            "vault.reveal",
        ),
        rec(
            datetime!(2026-11-18 06:00 UTC),
            "admin",
            "::ffff:203.0.113.9",
            "admin.login",
        ),
        rec(
            datetime!(2026-11-21 09:00 UTC),
            "key:k7",
            "203.0.113.9",
            "vault.reveal",
        ), // after the window
    ]
}

const WINDOW: Window = Window {
    from: datetime!(2026-11-18 00:00 UTC),
    to: datetime!(2026-11-20 00:00 UTC),
};

#[test]
fn dwell_for_a_principal_is_first_to_last_activity_in_the_window() {
    let d = dwell(&records(), &Subject::Principal("key:k7".into()), WINDOW).unwrap();
    assert_eq!(d.first.at, datetime!(2026-11-18 02:13 UTC));
    assert_eq!(d.first.kind, "auth.key_used");
    assert_eq!(d.last.at, datetime!(2026-11-18 22:40 UTC));
    assert_eq!(d.duration, Duration::minutes(20 * 60 + 27));
    assert_eq!(d.events, 3);
    assert_eq!(d.by_kind["vault.reveal"], 2);
    assert_eq!(
        d.related.iter().cloned().collect::<Vec<_>>(),
        ["203.0.113.9"]
    );
}

#[test]
fn dwell_for_a_source_matches_addresses_by_value() {
    let d = dwell(&records(), &Subject::Source("203.0.113.9".into()), WINDOW).unwrap();
    assert_eq!(d.events, 4); // includes the IPv4-mapped IPv6 login
    assert_eq!(d.first.at, datetime!(2026-11-18 02:13 UTC));
    assert_eq!(
        d.related.iter().cloned().collect::<Vec<_>>(),
        ["admin", "key:k7"]
    );
}

#[test]
fn nothing_in_the_window_is_none_and_single_events_have_zero_dwell() {
    assert!(dwell(&records(), &Subject::Principal("key:zz".into()), WINDOW).is_none());
    let one = dwell(&records(), &Subject::Principal("admin".into()), WINDOW).unwrap();
    assert_eq!(one.duration, Duration::ZERO);
    let edge = Window {
        from: datetime!(2026-11-18 22:40 UTC),
        to: datetime!(2026-11-18 22:40 UTC),
    };
    assert_eq!(
        dwell(&records(), &Subject::Principal("key:k7".into()), edge)
            .unwrap()
            .events,
        1
    );
}

#[test]
fn api_key_subjects_match_key_principals() {
    let by_key = dwell(&records(), &Subject::ApiKey("k7".into()), WINDOW).unwrap();
    let by_principal = dwell(&records(), &Subject::Principal("key:k7".into()), WINDOW).unwrap();
    assert_eq!(by_key, by_principal);
    assert_eq!(
        dwell(&records(), &Subject::ApiKey("key:k7".into()), WINDOW)
            .unwrap()
            .events,
        3
    );
}
