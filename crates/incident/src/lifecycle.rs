//! Incident phases and the graph of allowed moves between them.
//!
//! The normal path is the seeds' response order:
//! `triage → contained → investigating → notifying → remediating → monitoring → closed`.
//! A few other moves are allowed because real incidents need them; each of
//! them needs a written reason, because it is exactly the kind of decision a
//! regulator or reviewer asks about later:
//!
//! | move | why it is allowed |
//! |---|---|
//! | `triage → investigating` | nothing is live to contain (e.g. a misdelivered parcel, a breach already over at a processor) |
//! | `triage → closed` | not an incident after all (false positive, duplicate) |
//! | `investigating → remediating` | the investigation showed no notifiable exposure, so there is nobody to notify |
//! | `monitoring → contained` | the attacker came back: contain again, then investigate again |
//!
//! Nothing else skips ahead: containment, notification and monitoring are the
//! steps people are tempted to skip and must not. A closed incident moves only
//! through `reopen`, also with a reason, back to the phase the team chooses.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where an incident is in its response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Triage,
    Contained,
    Investigating,
    Notifying,
    Remediating,
    Monitoring,
    Closed,
}

impl Phase {
    /// Every phase in response order.
    pub const ALL: [Phase; 7] = [
        Phase::Triage,
        Phase::Contained,
        Phase::Investigating,
        Phase::Notifying,
        Phase::Remediating,
        Phase::Monitoring,
        Phase::Closed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Phase::Triage => "triage",
            Phase::Contained => "contained",
            Phase::Investigating => "investigating",
            Phase::Notifying => "notifying",
            Phase::Remediating => "remediating",
            Phase::Monitoring => "monitoring",
            Phase::Closed => "closed",
        }
    }

    /// The next phase on the normal path (none after `closed`).
    pub fn next(self) -> Option<Phase> {
        let i = Phase::ALL.iter().position(|p| *p == self)?;
        Phase::ALL.get(i + 1).copied()
    }

    /// Every phase this one may move to with `advance` (reopen is separate).
    pub fn allowed_next(self) -> &'static [Phase] {
        match self {
            Phase::Triage => &[Phase::Contained, Phase::Investigating, Phase::Closed],
            Phase::Contained => &[Phase::Investigating],
            Phase::Investigating => &[Phase::Notifying, Phase::Remediating],
            Phase::Notifying => &[Phase::Remediating],
            Phase::Remediating => &[Phase::Monitoring],
            Phase::Monitoring => &[Phase::Closed, Phase::Contained],
            Phase::Closed => &[],
        }
    }

    /// Whether moving from `self` to `to` is off the normal path and so needs a reason.
    pub fn needs_reason(self, to: Phase) -> bool {
        self.next() != Some(to)
    }

    /// Checks one `advance` move (reasons are checked by the incident).
    pub fn check_move(self, to: Phase) -> Result<(), TransitionError> {
        if self == to {
            return Err(TransitionError::AlreadyIn { phase: self });
        }
        if self == Phase::Closed {
            return Err(TransitionError::Closed { to });
        }
        if !self.allowed_next().contains(&to) {
            return Err(TransitionError::NotAllowed {
                from: self,
                to,
                allowed: self.allowed_next().to_vec(),
            });
        }
        Ok(())
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An unknown phase name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown phase `{0}`; known: triage, contained, investigating, notifying, remediating, monitoring, closed")]
pub struct UnknownPhase(pub String);

impl FromStr for Phase {
    type Err = UnknownPhase;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Phase::ALL
            .into_iter()
            .find(|p| p.code() == s)
            .ok_or_else(|| UnknownPhase(s.chars().take(64).collect()))
    }
}

fn list(phases: &[Phase]) -> String {
    match phases {
        [] => "none".to_owned(),
        [one] => one.to_string(),
        [init @ .., last] => format!(
            "{} or {last}",
            init.iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Why a phase change was refused. Messages name both phases and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error(
        "cannot move the incident from {from} to {to}: from {from} it may move to {}",
        list(allowed)
    )]
    NotAllowed {
        from: Phase,
        to: Phase,
        allowed: Vec<Phase>,
    },
    #[error("the incident is already in {phase}")]
    AlreadyIn { phase: Phase },
    #[error("cannot move the incident from closed to {to}: a closed incident can only be reopened, with a reason")]
    Closed { to: Phase },
    #[error("moving the incident from {from} to {to} skips the normal order ({from} → {}): give a reason", from.next().map(|p| p.to_string()).unwrap_or_default())]
    ReasonRequired { from: Phase, to: Phase },
    #[error("cannot reopen the incident: it is in {phase}, not closed")]
    NotClosed { phase: Phase },
    #[error("reopening an incident needs a reason")]
    ReopenReasonRequired,
    #[error("cannot reopen the incident into closed: choose the phase to resume in (triage, contained, investigating, notifying, remediating or monitoring)")]
    ReopenIntoClosed,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_phase_but_closed_can_move_forward() {
        for p in Phase::ALL {
            if p != Phase::Closed {
                let next = p.next().unwrap();
                assert!(p.allowed_next().contains(&next), "{p} → {next}");
                assert!(!p.needs_reason(next));
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for p in Phase::ALL {
            assert_eq!(p.code().parse::<Phase>().unwrap(), p);
        }
        assert!("done".parse::<Phase>().is_err());
    }

    #[test]
    fn not_allowed_message_names_both_phases_and_options() {
        let e = Phase::Triage.check_move(Phase::Notifying).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot move the incident from triage to notifying: from triage it may move to contained, investigating or closed"
        );
    }
}
