//! Why a notice operation failed, one enum per operation whose callers must
//! tell the causes apart. Infrastructure failures stay [`StoreError`]. No
//! message carries personal data (names, addresses, e-mails, codes): they name
//! incidents, versions, notice ids, jurisdictions and states.

use bulwark_notice::{
    DeliveryEvent, DeliveryState, NoticeError, PlanError, StandInError, TransitionError,
    VersionEvent, VersionState,
};

use crate::error::StoreError;

/// [`crate::Store::render_notices`].
#[derive(Debug, thiserror::Error)]
pub enum RenderNoticesError {
    #[error("incident {incident} not found")]
    NotFound { incident: u64 },
    #[error("incident {incident} has no scope snapshot yet; run `bulwark scope --incident {incident} …` first")]
    NoScope { incident: u64 },
    #[error("notice templates")]
    Template(#[from] NoticeError),
    #[error("a {jurisdiction} letter cannot be sent; refusing the render")]
    StandIn {
        jurisdiction: String,
        #[source]
        source: StandInError,
    },
    #[error("an enrolment code was taken by a concurrent render; render again")]
    CodeTaken,
    /// A version change the lifecycle does not allow (a bug, never data).
    #[error("notice version lifecycle")]
    Lifecycle(#[from] TransitionError<VersionState, VersionEvent>),
    #[error("cannot encode the {what}")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("the reveal stage of the render stopped")]
    RevealStopped,
    /// The vault refused the reveals the letters need (a lockdown, say).
    #[error("the vault refused the reveals for the notices: {0}")]
    RevealRefused(crate::Denial),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<PlanError> for RenderNoticesError {
    fn from(e: PlanError) -> Self {
        match e {
            PlanError::Template(e) => RenderNoticesError::Template(e),
            PlanError::StandIn {
                jurisdiction,
                source,
            } => RenderNoticesError::StandIn {
                jurisdiction,
                source,
            },
        }
    }
}

/// [`crate::Store::approve_notices`].
#[derive(Debug, thiserror::Error)]
pub enum ApproveNoticesError {
    #[error("incident {incident} not found")]
    NotFound { incident: u64 },
    #[error("incident {incident} has nobody in the legal role; assign one with `bulwark incident assign {incident} legal <person>`")]
    NoLegalRole { incident: u64 },
    /// The caller knows whom it asked to approve; the message does not repeat it.
    #[error("the approver is not assigned the legal role on incident {incident}; assign them (`bulwark incident assign {incident} legal <operator or team person linked to it>`)")]
    NotLegal { incident: u64 },
    #[error("the approver is not an enrolled, enabled operator")]
    NotAnOperator,
    #[error(
        "the approver's operator account does not hold the legal role; legal approval is required"
    )]
    NotLegalOperator,
    #[error("incident {incident} has no notice version {version}")]
    NoSuchVersion { incident: u64, version: u32 },
    #[error("notice version {version} is {state}; only a draft can be approved")]
    NotADraft { version: u32, state: VersionState },
    #[error(
        "you already approved notice version {version}; a second, different legal operator must"
    )]
    AlreadyApproved { version: u32 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The outbox operations: claim, mark, bounce, recover, release.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// Nothing was changed.
    #[error("notice {id}")]
    Transition {
        id: i64,
        #[source]
        source: TransitionError<DeliveryState, DeliveryEvent>,
    },
    #[error("{}", no_such_notice(*.incident, *.id))]
    NoSuchNotice { incident: Option<u64>, id: i64 },
    #[error("notice {id} cannot be sent")]
    Letter {
        id: i64,
        #[source]
        source: StandInError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn no_such_notice(incident: Option<u64>, id: i64) -> String {
    match incident {
        Some(i) => format!("incident {i} has no notice {id}"),
        None => format!("there is no notice {id}"),
    }
}

impl From<crate::IncidentReadError> for RenderNoticesError {
    fn from(e: crate::IncidentReadError) -> Self {
        match e {
            crate::IncidentReadError::NotFound(incident) => {
                RenderNoticesError::NotFound { incident }
            }
            crate::IncidentReadError::Store(s) => RenderNoticesError::Store(s),
        }
    }
}

impl From<crate::RevealError> for RenderNoticesError {
    fn from(e: crate::RevealError) -> Self {
        match e {
            crate::RevealError::Denied(d) => RenderNoticesError::RevealRefused(d),
            crate::RevealError::Store(s) => RenderNoticesError::Store(s),
        }
    }
}

impl From<crate::IncidentReadError> for ApproveNoticesError {
    fn from(e: crate::IncidentReadError) -> Self {
        match e {
            crate::IncidentReadError::NotFound(incident) => {
                ApproveNoticesError::NotFound { incident }
            }
            crate::IncidentReadError::Store(s) => ApproveNoticesError::Store(s),
        }
    }
}
