//! RFC 9457 problem details, and the one table that turns every library error
//! into an HTTP status and a problem type. Each `From` below matches every
//! variant of its error (no catch-all), so a new variant cannot reach a caller
//! without a decision here. Details name fields, ids and grants; never values.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bulwark_store as store;
use bulwark_store::{Denial, FieldError, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

/// A problem document (RFC 9457). `type` is a stable URN per kind of problem.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:bulwark:problem:<kind>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Every invalid field of the request, each with what was expected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldProblem>>,
    /// Data elements a reveal was refused for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused_fields: Option<Vec<String>>,
    /// Requested data elements that do not exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_fields: Option<Vec<String>>,
    /// The grant the caller lacks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_scope: Option<String>,
    /// The asset names the inventory holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known_assets: Option<Vec<String>>,
}

/// One invalid field.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl From<&FieldError> for FieldProblem {
    fn from(e: &FieldError) -> Self {
        FieldProblem {
            field: e.field.clone(),
            message: e.message.clone(),
        }
    }
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, title: &'static str) -> Problem {
        Problem {
            kind: format!("urn:bulwark:problem:{kind}"),
            title,
            status: status.as_u16(),
            detail: None,
            errors: None,
            refused_fields: None,
            unknown_fields: None,
            required_scope: None,
            known_assets: None,
        }
    }

    pub fn detail(mut self, d: impl Into<String>) -> Problem {
        self.detail = Some(d.into());
        self
    }

    pub fn bad_request(kind: &str, detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, kind, "Bad request").detail(detail)
    }

    /// A body that is not the JSON we expect. serde's "invalid type/value"
    /// messages quote the offending value, which may be PII: those are reduced
    /// to their position. Missing and unknown members are named as they are.
    pub fn malformed_json(e: &serde_json::Error) -> Problem {
        Problem::bad_request(
            "malformed-json",
            format!(
                "request body is not valid: {}",
                bulwark_store::describe_json_error(e)
            ),
        )
    }

    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found").detail(detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized").detail(detail)
    }

    pub fn forbidden_scope(scope: &str) -> Problem {
        let mut p = Problem::new(StatusCode::FORBIDDEN, "missing-scope", "Forbidden")
            .detail(format!("this API key lacks the `{scope}` scope"));
        p.required_scope = Some(scope.to_owned());
        p
    }

    pub fn conflict(kind: &str, detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::CONFLICT, kind, "Conflict").detail(detail)
    }

    /// A failure on our side. The cause goes to the server's log (it names no
    /// value either); the caller learns only that nothing was acknowledged.
    pub fn internal(cause: &dyn std::fmt::Display) -> Problem {
        tracing::error!(error = %cause, "internal error");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
        )
        .detail("the request could not be completed; nothing was acknowledged")
    }

    fn validation(errors: &store::ValidationErrors) -> Problem {
        let mut p = Problem::new(StatusCode::BAD_REQUEST, "validation", "Invalid input")
            .detail(errors.to_string());
        p.errors = Some(errors.0.iter().map(FieldProblem::from).collect());
        p
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = match serde_json::to_vec(&self) {
            Ok(b) => b,
            // A problem document is plain strings and numbers; if it ever does
            // not serialise, the status still tells the truth.
            Err(_) => {
                br#"{"type":"urn:bulwark:problem:internal","title":"Internal error","status":500}"#
                    .to_vec()
            }
        };
        let mut res = (status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

// ---- the table -------------------------------------------------------------

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Problem {
        match e {
            StoreError::Locked => {
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "locked", "Keyring locked")
                    .detail(e.to_string())
            }
            StoreError::Unavailable(_) | StoreError::WriterGone => {
                tracing::error!(error = %e, "storage unavailable");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "Storage unavailable",
                )
                .detail("the write was not acknowledged; retry shortly")
            }
            StoreError::Vault(ref v) => {
                // Integrity failures are the server's problem, and worth an alarm.
                tracing::error!(error = %v, "vault integrity failure");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "integrity",
                    "Stored data failed verification",
                )
                .detail(v.to_string())
            }
            StoreError::Sqlite(_)
            | StoreError::Io { .. }
            | StoreError::DataFile(_)
            | StoreError::NotInitialised(_)
            | StoreError::AlreadyExists(_)
            | StoreError::SchemaVersion { .. }
            | StoreError::WriterStart(_)
            | StoreError::Corrupt(_) => Problem::internal(&e),
        }
    }
}

impl From<store::DataFileError> for Problem {
    /// A broken file in the data directory is the operator's to fix, not the
    /// caller's; the detail names the file and line (no values).
    fn from(e: store::DataFileError) -> Problem {
        tracing::error!(error = %e, "data directory file");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "data-file",
            "A data-directory file is not valid",
        )
        .detail(e.to_string())
    }
}

impl From<store::AuthError> for Problem {
    fn from(e: store::AuthError) -> Problem {
        match e {
            store::AuthError::Malformed
            | store::AuthError::Unknown
            | store::AuthError::Revoked
            | store::AuthError::Expired => Problem::unauthorized(e.to_string()),
            store::AuthError::Store(s) => s.into(),
        }
    }
}

impl From<store::CustomerWriteError> for Problem {
    fn from(e: store::CustomerWriteError) -> Problem {
        match e {
            store::CustomerWriteError::Invalid(errors) => Problem::validation(&errors),
            store::CustomerWriteError::NotFound(id) => {
                Problem::not_found(format!("customer {id} not found"))
            }
            store::CustomerWriteError::DuplicateExternalId => Problem::conflict(
                "duplicate-external-id",
                "another customer already has this external_id",
            ),
            store::CustomerWriteError::Store(s) => s.into(),
        }
    }
}

impl From<store::CustomerError> for Problem {
    fn from(e: store::CustomerError) -> Problem {
        match e {
            store::CustomerError::NotFound(id) => {
                Problem::not_found(format!("customer {id} not found"))
            }
            store::CustomerError::Store(s) => s.into(),
        }
    }
}

impl From<store::LookupError> for Problem {
    fn from(e: store::LookupError) -> Problem {
        match e {
            store::LookupError::Invalid(errors) => Problem::validation(&errors),
            store::LookupError::Store(s) => s.into(),
        }
    }
}

impl From<store::RevealError> for Problem {
    fn from(e: store::RevealError) -> Problem {
        match e {
            store::RevealError::Denied(d) => denial(d),
            store::RevealError::Store(s) => s.into(),
        }
    }
}

fn denial(d: Denial) -> Problem {
    let detail = d.to_string();
    match d {
        Denial::NoPurpose => Problem::new(StatusCode::BAD_REQUEST, "purpose-required", "Purpose required")
            .detail("state the purpose of this reveal in the X-Bulwark-Purpose header; the refusal was logged"),
        Denial::Scope { refused } => {
            let mut p = Problem::new(StatusCode::FORBIDDEN, "reveal-refused", "Reveal refused").detail(detail);
            p.refused_fields = Some(refused.iter().map(|e| e.code().to_owned()).collect());
            p
        }
        Denial::Lockdown => Problem::new(StatusCode::FORBIDDEN, "vault-locked-down", "Vault locked down").detail(detail),
        Denial::NotFound => Problem::not_found("no such customer"),
        Denial::BelowMinimumVersion { .. } => {
            Problem::new(StatusCode::FORBIDDEN, "key-version-retired", "Key version retired").detail(detail)
        }
    }
}

impl From<store::CreateKeyError> for Problem {
    fn from(e: store::CreateKeyError) -> Problem {
        match e {
            store::CreateKeyError::Invalid(errors) => Problem::validation(&errors),
            store::CreateKeyError::Store(s) => s.into(),
        }
    }
}

impl From<store::RevokeKeyError> for Problem {
    fn from(e: store::RevokeKeyError) -> Problem {
        match e {
            store::RevokeKeyError::NotFound(id) => {
                Problem::not_found(format!("API key {id} not found"))
            }
            store::RevokeKeyError::Store(s) => s.into(),
        }
    }
}

impl From<store::SignOffError> for Problem {
    fn from(e: store::SignOffError) -> Problem {
        match e {
            store::SignOffError::Invalid(errors) => Problem::validation(&errors),
            store::SignOffError::NotOwner { duty, owner } => Problem::new(
                StatusCode::FORBIDDEN,
                "review-owner-required",
                "The duty's owner must sign off",
            )
            .detail(format!(
                "signing off needs the owner role `{owner}` of duty `{duty}`"
            )),
            store::SignOffError::NoReviewer => Problem::new(
                StatusCode::FORBIDDEN,
                "operator-required",
                "Only an active operator may sign off",
            ),
            store::SignOffError::Undecided(n) => Problem::bad_request(
                "review-incomplete",
                format!("{n} account(s) on the review have no decision"),
            ),
            store::SignOffError::Store(s) => s.into(),
        }
    }
}

impl From<store::CompletionError> for Problem {
    fn from(e: store::CompletionError) -> Problem {
        use store::CompletionError as E;
        match e {
            E::UnknownDuty(_) => {
                Problem::not_found("no such compliance duty; see GET /v1/compliance")
            }
            E::WrongEvidence { .. } => Problem::bad_request("wrong-evidence", e.to_string()),
            E::InTheFuture { .. } | E::BadReference => {
                Problem::bad_request("invalid-completion", e.to_string())
            }
            E::DocumentRequired(_) => Problem::bad_request("document-required", e.to_string()),
            E::Document(d) => d.into(),
            E::Store(s) => s.into(),
        }
    }
}

impl From<store::CompletionDocumentError> for Problem {
    fn from(e: store::CompletionDocumentError) -> Problem {
        use store::CompletionDocumentError as E;
        match e {
            E::NotFound(_) | E::NoDocument(_) => Problem::not_found(e.to_string()),
            E::Locker(l) => l.into(),
            E::Store(s) => s.into(),
        }
    }
}

impl From<store::AlertQueryError> for Problem {
    fn from(e: store::AlertQueryError) -> Problem {
        match e {
            store::AlertQueryError::Invalid(errors) => Problem::validation(&errors),
            store::AlertQueryError::Store(s) => s.into(),
        }
    }
}

impl From<store::OperatorError> for Problem {
    fn from(e: store::OperatorError) -> Problem {
        match e {
            store::OperatorError::Invalid(errors) => Problem::validation(&errors),
            store::OperatorError::Exists(id) => Problem::conflict(
                "operator-exists",
                format!("an operator `{id}` already exists"),
            ),
            store::OperatorError::EmailTaken => Problem::conflict(
                "operator-email-taken",
                "another operator already has this e-mail address",
            ),
            store::OperatorError::NotFound(id) => Problem::not_found(format!("no operator `{id}`")),
            store::OperatorError::Disabled(id) => {
                Problem::conflict("operator-disabled", format!("operator `{id}` is disabled"))
            }
            store::OperatorError::Store(s) => s.into(),
        }
    }
}

impl From<store::RenderNoticesError> for Problem {
    fn from(e: store::RenderNoticesError) -> Problem {
        use store::RenderNoticesError as E;
        match e {
            E::NotFound { incident } => {
                Problem::not_found(format!("incident {incident} not found"))
            }
            E::NoScope { incident } => Problem::conflict(
                "no-scope",
                format!("incident {incident} has no scope yet; compute it first"),
            ),
            E::Template(t) => {
                Problem::bad_request("bad-template", format!("notice templates: {t}"))
            }
            E::StandIn { jurisdiction, .. } => Problem::bad_request(
                "bad-template",
                format!("a {jurisdiction} letter kept a stand-in after filling; fix the template"),
            ),
            E::CodeTaken => Problem::conflict(
                "codes-taken",
                "an enrolment code was taken by a concurrent render; render again",
            ),
            E::RevealRefused(d) => Problem::conflict(
                "reveal-refused",
                format!("the vault refused the reveals for the notices: {d}"),
            ),
            e @ (E::Lifecycle(_) | E::Encode { .. } | E::RevealStopped) => Problem::internal(&e),
            E::Store(s) => s.into(),
        }
    }
}

impl From<store::ApproveNoticesError> for Problem {
    fn from(e: store::ApproveNoticesError) -> Problem {
        use store::ApproveNoticesError as E;
        match e {
            E::NotFound { incident } => {
                Problem::not_found(format!("incident {incident} not found"))
            }
            E::NoSuchVersion { .. } => Problem::not_found(e.to_string()),
            E::NoLegalRole { .. } | E::NotADraft { .. } | E::AlreadyApproved { .. } => {
                Problem::conflict("notices-approval", e.to_string())
            }
            E::NotLegal { .. } | E::NotAnOperator | E::NotLegalOperator => Problem::new(
                StatusCode::FORBIDDEN,
                "legal-required",
                "Legal approval is required",
            )
            .detail(e.to_string()),
            E::Store(s) => s.into(),
        }
    }
}

impl From<store::IncidentReadError> for Problem {
    fn from(e: store::IncidentReadError) -> Problem {
        match e {
            store::IncidentReadError::NotFound(id) => {
                Problem::not_found(format!("incident {id} not found"))
            }
            store::IncidentReadError::Store(s) => s.into(),
        }
    }
}

impl From<bulwark_incident::IncidentError> for Problem {
    /// Invalid input is 400; a phase change the lifecycle does not allow from
    /// the incident's current phase is a conflict with its state, 409.
    fn from(e: bulwark_incident::IncidentError) -> Problem {
        use bulwark_incident::IncidentError as E;
        match e {
            E::Transition(_) => Problem::conflict("incident-phase", e.to_string()),
            E::Empty { .. }
            | E::TooLong { .. }
            | E::ControlCharacters { .. }
            | E::AwareBeforeDiscovered
            | E::InFuture { .. }
            | E::ActivityAfterAware
            | E::BadJurisdiction(_)
            | E::UnknownSeverity(_)
            | E::UnknownClassification(_)
            | E::TimeBeforeLastChange
            | E::NoChange => Problem::bad_request("incident-invalid", e.to_string()),
        }
    }
}

impl From<bulwark_incident::TaskError> for Problem {
    fn from(e: bulwark_incident::TaskError) -> Problem {
        use bulwark_incident::TaskError as E;
        match e {
            E::AlreadyDone { .. }
            | E::AlreadySkipped { .. }
            | E::NotClosed { .. }
            | E::IncidentClosed => Problem::conflict("task-state", e.to_string()),
            E::ReasonRequired { .. } | E::DateOutOfRange { .. } => {
                Problem::bad_request("task-invalid", e.to_string())
            }
        }
    }
}

impl From<store::OpenIncidentError> for Problem {
    fn from(e: store::OpenIncidentError) -> Problem {
        match e {
            store::OpenIncidentError::Invalid(i) => i.into(),
            store::OpenIncidentError::Playbook(t) => t.into(),
            store::OpenIncidentError::Store(s) => s.into(),
        }
    }
}

impl From<store::IncidentChangeError> for Problem {
    fn from(e: store::IncidentChangeError) -> Problem {
        match e {
            store::IncidentChangeError::NotFound(id) => {
                Problem::not_found(format!("incident {id} not found"))
            }
            store::IncidentChangeError::Incident(i) => i.into(),
            store::IncidentChangeError::Task(t) => t.into(),
            store::IncidentChangeError::NoSuchTask { .. } => Problem::not_found(e.to_string()),
            store::IncidentChangeError::ReopenNeedsReason => {
                Problem::bad_request("incident-invalid", e.to_string())
            }
            store::IncidentChangeError::Invalid(errors) => Problem::validation(&errors),
            store::IncidentChangeError::Store(s) => s.into(),
        }
    }
}

impl From<store::ContainError> for Problem {
    fn from(e: store::ContainError) -> Problem {
        match e {
            store::ContainError::NotFound(id) => {
                Problem::not_found(format!("incident {id} not found"))
            }
            store::ContainError::MissingTarget | store::ContainError::CannotUndo(_) => {
                Problem::bad_request("containment-invalid", e.to_string())
            }
            store::ContainError::KeyNotFound(_) => Problem::not_found(e.to_string()),
            store::ContainError::Webhook(w) => w.into(),
            store::ContainError::Store(s) => s.into(),
        }
    }
}

impl From<store::WebhookError> for Problem {
    fn from(e: store::WebhookError) -> Problem {
        match e {
            store::WebhookError::NoneRegistered(_) => {
                Problem::conflict("no-webhook", e.to_string())
            }
            store::WebhookError::Refused { .. } => Problem::new(
                StatusCode::BAD_GATEWAY,
                "webhook-failed",
                "The store's webhook failed",
            )
            .detail(e.to_string()),
            store::WebhookError::Store(s) => s.into(),
        }
    }
}

impl From<store::AddWebhookError> for Problem {
    fn from(e: store::AddWebhookError) -> Problem {
        match e {
            store::AddWebhookError::Invalid(errors) => Problem::validation(&errors),
            store::AddWebhookError::Store(s) => s.into(),
        }
    }
}

impl From<store::WatchPageError> for Problem {
    fn from(e: store::WatchPageError) -> Problem {
        match e {
            store::WatchPageError::Invalid(errors) => Problem::validation(&errors),
            store::WatchPageError::NameTaken(_) => Problem::conflict("name-taken", e.to_string()),
            store::WatchPageError::Store(s) => s.into(),
        }
    }
}

impl From<store::UnwatchPageError> for Problem {
    fn from(e: store::UnwatchPageError) -> Problem {
        match e {
            store::UnwatchPageError::NotFound(_) => Problem::not_found(e.to_string()),
            store::UnwatchPageError::Store(s) => s.into(),
        }
    }
}

impl From<store::EvidenceError> for Problem {
    fn from(e: store::EvidenceError) -> Problem {
        use store::EvidenceError as E;
        match e {
            E::IncidentNotFound(_) | E::NoSuchItem { .. } => Problem::not_found(e.to_string()),
            E::Unreadable { .. } | E::ChangedWhileCopying { .. } | E::DestinationExists { .. } => {
                Problem::internal(&e)
            }
            E::Tampered { .. } => {
                tracing::error!(error = %e, "evidence integrity failure");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "integrity",
                    "Stored data failed verification",
                )
                .detail(e.to_string())
            }
            E::Store(s) => s.into(),
        }
    }
}

impl From<store::ScopeQueryError> for Problem {
    fn from(e: store::ScopeQueryError) -> Problem {
        match e {
            store::ScopeQueryError::Invalid(errors) => Problem::validation(&errors),
            store::ScopeQueryError::Store(s) => s.into(),
        }
    }
}

impl From<store::AssetLookupError> for Problem {
    fn from(e: store::AssetLookupError) -> Problem {
        match e {
            store::AssetLookupError::Unknown { ref known, .. } => {
                let mut p = Problem::bad_request("unknown-asset", e.to_string());
                p.known_assets = Some(known.clone());
                p
            }
            store::AssetLookupError::File(f) => f.into(),
        }
    }
}

impl From<store::VerifyLedgerError> for Problem {
    fn from(e: store::VerifyLedgerError) -> Problem {
        match e {
            // A tampered ledger is a finding, answered in the body (not here).
            store::VerifyLedgerError::Tampered(_)
            | store::VerifyLedgerError::ForeignCheckpoint
            | store::VerifyLedgerError::BadCheckpoint { .. } => Problem::internal(&e),
            store::VerifyLedgerError::Store(s) => s.into(),
        }
    }
}

impl From<crate::detection::ReloadError> for Problem {
    fn from(e: crate::detection::ReloadError) -> Problem {
        match e {
            crate::detection::ReloadError::Files(f) => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "rules",
                "The rules could not be read",
            )
            .detail(f.to_string()),
            crate::detection::ReloadError::Poisoned => Problem::internal(&e),
        }
    }
}

impl From<store::TrainingWriteError> for Problem {
    fn from(e: store::TrainingWriteError) -> Problem {
        use store::TrainingWriteError as E;
        match e {
            E::UnknownModule(_) | E::UnknownOperator(_) | E::NotAssigned { .. } => {
                Problem::not_found(e.to_string())
            }
            E::NotForRole { .. } | E::NobodyInRole(_) | E::InTheFuture { .. } | E::BadCampaign => {
                Problem::bad_request("invalid-training", e.to_string())
            }
            E::TooManyAttempts { .. } => Problem::conflict("attempts-used", e.to_string()),
            E::Store(s) => s.into(),
        }
    }
}

impl From<store::ApproveScriptError> for Problem {
    fn from(e: store::ApproveScriptError) -> Problem {
        use store::ApproveScriptError as E;
        match e {
            E::Invalid(errors) => Problem::validation(&errors),
            E::NoPage(_) | E::NoScript { .. } => Problem::not_found(e.to_string()),
            E::Removed(_) | E::TooMany => Problem::conflict("not-approvable", e.to_string()),
            E::Store(s) => s.into(),
        }
    }
}

impl From<store::RevokeApprovalError> for Problem {
    fn from(e: store::RevokeApprovalError) -> Problem {
        use store::RevokeApprovalError as E;
        match e {
            E::NotFound { .. } => Problem::not_found(e.to_string()),
            E::NoReason => Problem::bad_request("reason-required", e.to_string()),
            E::Store(s) => s.into(),
        }
    }
}

impl From<crate::pagewatch_runner::RunPageError> for Problem {
    fn from(e: crate::pagewatch_runner::RunPageError) -> Problem {
        use crate::pagewatch_runner::RunPageError as E;
        match e {
            // The page or the browser failed, not this server: 502, with why.
            E::Crawl(_) => {
                Problem::new(StatusCode::BAD_GATEWAY, "crawl-failed", "The crawl failed")
                    .detail(e.to_string())
            }
            E::NoDetection => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "detection-off",
                "Detection is not running",
            )
            .detail(e.to_string()),
            E::Record(store::RecordRunError::Conflict) => {
                Problem::conflict("run-conflict", e.to_string())
            }
            E::Record(store::RecordRunError::NoPage(_)) => Problem::not_found(e.to_string()),
            E::Record(store::RecordRunError::Store(s)) | E::Store(s) => s.into(),
            E::Evidence(ev) => ev.into(),
            E::Files(f) => f.into(),
            E::Join(_) => Problem::internal(&e),
        }
    }
}
