//! The lifecycles of a letter (`DeliveryState`) and of a notice version
//! (`VersionState`). Each has one `transition` function; the store asks it
//! before every change, so a change the lifecycle does not allow is refused
//! instead of written. The names are the strings the database holds.
//!
//! A letter: `queued` → `sending` (claimed; durable before delivery starts) →
//! `sent` | `printed` | `retry` (transient failure, claimed again later) |
//! `failed` (last attempt) | `bounced` (refused by the server). A bounce
//! reported later turns a `queued`, `retry`, `sent` or `unknown` letter
//! `bounced`. A letter found `sending` when a sender starts was in flight when
//! the previous sender died: it becomes `unknown`, and only an operator's
//! release (after checking the mail server's log) makes it `retry` again, so it
//! is never sent twice automatically. A queued letter of a draft that a newer
//! render replaces becomes `superseded`, which is final.
//!
//! A version: `rendering` → `draft` → `approved` (legal); `rendering` (a render
//! that died) and `draft` (replaced by a newer render) → `superseded`, final.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where one outbox letter is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Queued,
    Sending,
    Sent,
    Retry,
    Failed,
    Bounced,
    Unknown,
    Printed,
    Superseded,
}

/// What happens to a letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryEvent {
    /// A sender takes the letter for an attempt.
    Claim,
    /// The mail server accepted it.
    Accepted,
    /// Written out for printing.
    Printed,
    /// A transient failure; another attempt later.
    Deferred,
    /// The last attempt failed.
    GaveUp,
    /// The mail server refused it permanently during delivery.
    Refused,
    /// A bounce reported after delivery (a DSN), recorded by an operator.
    BounceReported,
    /// Found in flight when a sender started: the previous sender died.
    SenderLost,
    /// An operator checked the mail server's log and releases it.
    Released,
    /// A newer render replaces the draft the letter belongs to.
    Superseded,
}

/// Where a notice version is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionState {
    Rendering,
    Draft,
    Approved,
    Superseded,
}

/// What happens to a notice version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionEvent {
    /// Every letter is in the outbox; it awaits approval.
    Rendered,
    /// The legal role approved it.
    Approve,
    /// A newer render replaces it (a draft), or it was left by a render that
    /// died (rendering).
    Supersede,
}

/// A change the lifecycle does not allow; nothing was changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("`{event}` is not allowed in state `{from}`")]
pub struct TransitionError<S: fmt::Display, E: fmt::Display> {
    pub from: S,
    pub event: E,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 9] = [
        DeliveryState::Queued,
        DeliveryState::Sending,
        DeliveryState::Sent,
        DeliveryState::Retry,
        DeliveryState::Failed,
        DeliveryState::Bounced,
        DeliveryState::Unknown,
        DeliveryState::Printed,
        DeliveryState::Superseded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Queued => "queued",
            DeliveryState::Sending => "sending",
            DeliveryState::Sent => "sent",
            DeliveryState::Retry => "retry",
            DeliveryState::Failed => "failed",
            DeliveryState::Bounced => "bounced",
            DeliveryState::Unknown => "unknown",
            DeliveryState::Printed => "printed",
            DeliveryState::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryState> {
        DeliveryState::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// The state after `event`, or why the letter cannot take it.
    pub fn transition(
        self,
        event: DeliveryEvent,
    ) -> Result<DeliveryState, TransitionError<DeliveryState, DeliveryEvent>> {
        use DeliveryEvent as E;
        use DeliveryState as S;
        let to = match (self, event) {
            (S::Queued | S::Retry, E::Claim) => S::Sending,
            (S::Sending, E::Accepted) => S::Sent,
            (S::Sending, E::Printed) => S::Printed,
            (S::Sending, E::Deferred) => S::Retry,
            (S::Sending, E::GaveUp) => S::Failed,
            (S::Sending, E::Refused) => S::Bounced,
            (S::Queued | S::Retry | S::Sent | S::Unknown, E::BounceReported) => S::Bounced,
            (S::Sending, E::SenderLost) => S::Unknown,
            (S::Unknown, E::Released) => S::Retry,
            (S::Queued, E::Superseded) => S::Superseded,
            (from, event) => return Err(TransitionError { from, event }),
        };
        Ok(to)
    }

    /// Every (from, to) that `event` allows, for changes made to many letters
    /// at once: each is one `UPDATE … WHERE state = from`.
    pub fn moves(event: DeliveryEvent) -> Vec<(DeliveryState, DeliveryState)> {
        DeliveryState::ALL
            .into_iter()
            .filter_map(|from| from.transition(event).ok().map(|to| (from, to)))
            .collect()
    }

    /// No event leads out of it.
    pub fn is_final(self) -> bool {
        DeliveryEvent::ALL
            .into_iter()
            .all(|e| self.transition(e).is_err())
    }
}

impl DeliveryEvent {
    pub const ALL: [DeliveryEvent; 10] = [
        DeliveryEvent::Claim,
        DeliveryEvent::Accepted,
        DeliveryEvent::Printed,
        DeliveryEvent::Deferred,
        DeliveryEvent::GaveUp,
        DeliveryEvent::Refused,
        DeliveryEvent::BounceReported,
        DeliveryEvent::SenderLost,
        DeliveryEvent::Released,
        DeliveryEvent::Superseded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryEvent::Claim => "claim",
            DeliveryEvent::Accepted => "accepted",
            DeliveryEvent::Printed => "printed",
            DeliveryEvent::Deferred => "deferred",
            DeliveryEvent::GaveUp => "gave_up",
            DeliveryEvent::Refused => "refused",
            DeliveryEvent::BounceReported => "bounce_reported",
            DeliveryEvent::SenderLost => "sender_lost",
            DeliveryEvent::Released => "released",
            DeliveryEvent::Superseded => "superseded",
        }
    }
}

impl VersionState {
    pub const ALL: [VersionState; 4] = [
        VersionState::Rendering,
        VersionState::Draft,
        VersionState::Approved,
        VersionState::Superseded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VersionState::Rendering => "rendering",
            VersionState::Draft => "draft",
            VersionState::Approved => "approved",
            VersionState::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<VersionState> {
        VersionState::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The state after `event`, or why the version cannot take it. An approved
    /// version stays approved: its letters may already be out.
    pub fn transition(
        self,
        event: VersionEvent,
    ) -> Result<VersionState, TransitionError<VersionState, VersionEvent>> {
        use VersionEvent as E;
        use VersionState as S;
        let to = match (self, event) {
            (S::Rendering, E::Rendered) => S::Draft,
            (S::Draft, E::Approve) => S::Approved,
            (S::Rendering | S::Draft, E::Supersede) => S::Superseded,
            (from, event) => return Err(TransitionError { from, event }),
        };
        Ok(to)
    }

    /// Every (from, to) that `event` allows.
    pub fn moves(event: VersionEvent) -> Vec<(VersionState, VersionState)> {
        VersionState::ALL
            .into_iter()
            .filter_map(|from| from.transition(event).ok().map(|to| (from, to)))
            .collect()
    }
}

impl VersionEvent {
    pub const ALL: [VersionEvent; 3] = [
        VersionEvent::Rendered,
        VersionEvent::Approve,
        VersionEvent::Supersede,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VersionEvent::Rendered => "rendered",
            VersionEvent::Approve => "approve",
            VersionEvent::Supersede => "supersede",
        }
    }
}

// `pad`, so `{:<10}` lines up in tables.
macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }
    )*};
}
display_as_str!(DeliveryState, DeliveryEvent, VersionState, VersionEvent);

#[cfg(test)]
mod tests {
    use super::DeliveryEvent as E;
    use super::DeliveryState as S;
    use super::VersionEvent as VE;
    use super::VersionState as V;
    use super::*;

    #[test]
    fn every_allowed_delivery_transition() {
        let allowed = [
            (S::Queued, E::Claim, S::Sending),
            (S::Retry, E::Claim, S::Sending),
            (S::Sending, E::Accepted, S::Sent),
            (S::Sending, E::Printed, S::Printed),
            (S::Sending, E::Deferred, S::Retry),
            (S::Sending, E::GaveUp, S::Failed),
            (S::Sending, E::Refused, S::Bounced),
            (S::Queued, E::BounceReported, S::Bounced),
            (S::Retry, E::BounceReported, S::Bounced),
            (S::Sent, E::BounceReported, S::Bounced),
            (S::Unknown, E::BounceReported, S::Bounced),
            (S::Sending, E::SenderLost, S::Unknown),
            (S::Unknown, E::Released, S::Retry),
            (S::Queued, E::Superseded, S::Superseded),
        ];
        for (from, event, to) in allowed {
            assert_eq!(from.transition(event), Ok(to), "{from} + {event}");
        }
        // Everything else is refused, naming the state and the event.
        for from in S::ALL {
            for event in E::ALL {
                if allowed.iter().any(|(f, e, _)| *f == from && *e == event) {
                    continue;
                }
                assert_eq!(
                    from.transition(event),
                    Err(TransitionError { from, event }),
                    "{from} + {event}"
                );
            }
        }
    }

    #[test]
    fn refused_delivery_transitions() {
        // A delivered letter is never claimed again.
        assert!(S::Sent.transition(E::Claim).is_err());
        assert!(S::Printed.transition(E::Claim).is_err());
        assert!(S::Sending.transition(E::Claim).is_err());
        // An unknown letter goes back to `retry` only by an operator's release.
        assert!(S::Unknown.transition(E::Claim).is_err());
        assert!(S::Unknown.transition(E::Deferred).is_err());
        assert!(S::Retry.transition(E::Released).is_err());
        // Only a claimed letter gets a delivery outcome.
        assert!(S::Queued.transition(E::Accepted).is_err());
        assert!(S::Unknown.transition(E::Accepted).is_err());
        assert!(S::Sent.transition(E::Accepted).is_err());
        assert!(S::Retry.transition(E::GaveUp).is_err());
        // A letter of an approved version is not superseded by a new render.
        assert!(S::Sending.transition(E::Superseded).is_err());
        assert!(S::Sent.transition(E::Superseded).is_err());
        let e = S::Sent.transition(E::Claim).unwrap_err();
        assert_eq!(e.to_string(), "`claim` is not allowed in state `sent`");
    }

    #[test]
    fn final_delivery_states() {
        let finals: Vec<S> = S::ALL.into_iter().filter(|s| s.is_final()).collect();
        assert_eq!(finals, [S::Failed, S::Bounced, S::Printed, S::Superseded]);
        for event in E::ALL {
            assert!(S::Superseded.transition(event).is_err());
        }
    }

    #[test]
    fn moves_list_every_source() {
        assert_eq!(
            S::moves(E::Claim),
            [(S::Queued, S::Sending), (S::Retry, S::Sending)]
        );
        assert_eq!(S::moves(E::SenderLost), [(S::Sending, S::Unknown)]);
        assert_eq!(S::moves(E::Released), [(S::Unknown, S::Retry)]);
        assert_eq!(
            V::moves(VE::Supersede),
            [(V::Rendering, V::Superseded), (V::Draft, V::Superseded)]
        );
    }

    #[test]
    fn every_allowed_version_transition() {
        let allowed = [
            (V::Rendering, VE::Rendered, V::Draft),
            (V::Draft, VE::Approve, V::Approved),
            (V::Rendering, VE::Supersede, V::Superseded),
            (V::Draft, VE::Supersede, V::Superseded),
        ];
        for (from, event, to) in allowed {
            assert_eq!(from.transition(event), Ok(to), "{from} + {event}");
        }
        for from in V::ALL {
            for event in VE::ALL {
                if !allowed.iter().any(|(f, e, _)| *f == from && *e == event) {
                    assert!(from.transition(event).is_err(), "{from} + {event}");
                }
            }
        }
    }

    #[test]
    fn refused_version_transitions() {
        // Only a finished draft is approved; approval and supersession are final.
        assert!(V::Rendering.transition(VE::Approve).is_err());
        assert!(V::Approved.transition(VE::Approve).is_err());
        assert!(V::Superseded.transition(VE::Approve).is_err());
        assert!(V::Approved.transition(VE::Supersede).is_err());
        assert!(V::Draft.transition(VE::Rendered).is_err());
        for event in VE::ALL {
            assert!(V::Superseded.transition(event).is_err());
        }
    }

    #[test]
    fn names_are_the_stored_strings() {
        let stored = [
            "queued",
            "sending",
            "sent",
            "retry",
            "failed",
            "bounced",
            "unknown",
            "printed",
            "superseded",
        ];
        for (s, name) in S::ALL.into_iter().zip(stored) {
            assert_eq!(s.as_str(), name);
            assert_eq!(S::parse(name), Some(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{name}\""));
        }
        for (v, name) in V::ALL
            .into_iter()
            .zip(["rendering", "draft", "approved", "superseded"])
        {
            assert_eq!(v.as_str(), name);
            assert_eq!(V::parse(name), Some(v));
            assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{name}\""));
        }
        assert_eq!(S::parse("delivered"), None);
        assert_eq!(format!("{:<8}|", V::Draft), "draft   |");
    }
}
