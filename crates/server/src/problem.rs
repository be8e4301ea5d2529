//! RFC 9457 problem details. Details name fields, ids and grants; never values.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bulwark_store::{Denial, StoreError};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Extension members (RFC 9457 §3.2), e.g. `errors` or `refused_fields`.
    #[serde(flatten)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, title: &'static str) -> Problem {
        Problem {
            kind: format!("urn:bulwark:problem:{kind}"),
            title,
            status: status.as_u16(),
            detail: None,
            extensions: serde_json::Map::new(),
        }
    }

    pub fn detail(mut self, d: impl Into<String>) -> Problem {
        self.detail = Some(d.into());
        self
    }

    pub fn with(mut self, key: &str, value: serde_json::Value) -> Problem {
        self.extensions.insert(key.to_owned(), value);
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
        Problem::new(StatusCode::FORBIDDEN, "missing-scope", "Forbidden")
            .detail(format!("this API key lacks the `{scope}` scope"))
            .with("required_scope", serde_json::json!(scope))
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
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

impl From<StoreError> for Problem {
    fn from(e: StoreError) -> Problem {
        match e {
            StoreError::Invalid(errors) => {
                Problem::new(StatusCode::BAD_REQUEST, "validation", "Invalid input")
                    .detail(errors.to_string())
                    .with(
                        "errors",
                        serde_json::to_value(&errors.0).unwrap_or_default(),
                    )
            }
            StoreError::Denied(d) => denial(d),
            StoreError::CustomerNotFound(id) => {
                Problem::not_found(format!("customer {id} not found"))
            }
            StoreError::KeyNotFound(id) => Problem::not_found(format!("API key {id} not found")),
            StoreError::IncidentNotFound(id) => {
                Problem::not_found(format!("incident {id} not found"))
            }
            StoreError::Incident(why) => Problem::new(
                StatusCode::CONFLICT,
                "incident-rule",
                "Not allowed for this incident",
            )
            .detail(why),
            StoreError::UnknownAsset { ref known, .. } => {
                let known = serde_json::json!(known);
                Problem::bad_request("unknown-asset", e.to_string()).with("known_assets", known)
            }
            StoreError::DuplicateExternalId => {
                Problem::new(StatusCode::CONFLICT, "duplicate-external-id", "Conflict")
                    .detail("another customer already has this external_id")
            }
            StoreError::VersionsRemain(..) => {
                Problem::new(StatusCode::CONFLICT, "versions-remain", "Conflict")
                    .detail(e.to_string())
            }
            StoreError::Locked => {
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "locked", "Keyring locked")
                    .detail(e.to_string())
            }
            StoreError::Vault(v) => {
                // Integrity failures are the server's problem, and worth an alarm.
                tracing::error!(error = %v, "vault integrity failure");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "integrity",
                    "Stored data failed verification",
                )
                .detail(v.to_string())
            }
            other => {
                tracing::error!(error = %other, "internal error");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                )
                .detail("the request could not be completed; nothing was acknowledged")
            }
        }
    }
}

fn denial(d: Denial) -> Problem {
    let detail = d.to_string();
    match d {
        Denial::NoPurpose => Problem::new(StatusCode::BAD_REQUEST, "purpose-required", "Purpose required")
            .detail("state the purpose of this reveal in the X-Bulwark-Purpose header; the refusal was logged"),
        Denial::Scope { refused } => Problem::new(StatusCode::FORBIDDEN, "reveal-refused", "Reveal refused")
            .detail(detail)
            .with(
                "refused_fields",
                serde_json::json!(refused.iter().map(|e| e.code()).collect::<Vec<_>>()),
            ),
        Denial::Lockdown => Problem::new(StatusCode::FORBIDDEN, "vault-locked-down", "Vault locked down").detail(detail),
        Denial::NotFound => Problem::not_found("no such customer"),
        Denial::BelowMinimumVersion { .. } => {
            Problem::new(StatusCode::FORBIDDEN, "key-version-retired", "Key version retired").detail(detail)
        }
    }
}
