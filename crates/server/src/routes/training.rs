//! Training records over HTTP: the record (`GET /v1/training`),
//! assignments (`admin`), a signed-in operator's own quiz attempts, graded
//! here by the module (a client-sent score is refused), and the GoPhish
//! webhook: phishing simulation outcomes, signed by GoPhish with HMAC-SHA256
//! over the body in `X-Gophish-Signature: sha256=<hex>`. Only the outcome per person is kept
//! (campaign, a hash of the address, the event kind) — never what a
//! recipient typed into the simulated page, nor the event's details.

use axum::http::{HeaderMap, StatusCode};
use bulwark_learn::PhishingEvent;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

use super::S;
use crate::extract::{ApiJson, Body};
use crate::openapi::{Failure, Invalid, RawBytes, TooLarge};
use crate::problem::Problem;

/// GoPhish events are small; anything larger is refused before it is read.
pub const MAX_WEBHOOK_BODY: usize = 64 << 10;

/// The fields of a GoPhish event Bulwark reads; the rest (`details`, with
/// any submitted form data) is never parsed into anything kept.
#[derive(Deserialize)]
struct GophishEvent {
    campaign_id: serde_json::Value,
    #[serde(default)]
    email: String,
    #[serde(default)]
    message: String,
}

#[derive(Serialize, ToSchema)]
pub struct PhishingAck {
    /// `false` for events that are not about a recipient (`Campaign Created`).
    recorded: bool,
    /// `email_sent`, `email_opened`, `clicked_link`, `submitted_data` or `reported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    event: Option<&'static str>,
}

fn bad_signature() -> Problem {
    Problem::new(
        StatusCode::FORBIDDEN,
        "bad-signature",
        "The webhook signature is missing or wrong",
    )
    .detail("X-Gophish-Signature must be sha256=<hex HMAC-SHA256 of the body under the configured secret>")
}

/// Checks `sha256=<hex>` against the body in constant time.
fn verify(secret: &[u8], headers: &HeaderMap, body: &[u8]) -> bool {
    let Some(sig) = headers
        .get("x-gophish-signature")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("sha256="))
        .and_then(|h| hex::decode(h).ok())
    else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

/// A GoPhish webhook event.
#[utoipa::path(
    post, path = "/v1/webhooks/gophish", operation_id = "gophish_webhook", tag = "training",
    description = "No API key: GoPhish signs the body with the secret given to `serve --gophish-secret` (HMAC-SHA256, `X-Gophish-Signature: sha256=<hex>`). A missing or wrong signature is 403 and records nothing. At most 64 KiB.",
    request_body(content = RawBytes, content_type = "application/json", description = "GoPhish's event JSON"),
    responses(
        (status = 200, description = "Accepted", body = PhishingAck),
        (status = 403, description = "Missing or wrong signature, or no secret configured", body = Problem, content_type = "application/problem+json"),
        Invalid, TooLarge, Failure
    )
)]
pub async fn gophish(
    s: S,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<ApiJson<PhishingAck>, Problem> {
    let Some(secret) = s.gophish_secret.clone() else {
        return Err(
            bad_signature().detail("no GoPhish secret is configured (serve --gophish-secret)")
        );
    };
    if !verify(secret.as_slice(), &headers, &body) {
        return Err(bad_signature());
    }
    let e: GophishEvent = serde_json::from_slice(&body).map_err(|_| {
        Problem::bad_request(
            "invalid-event",
            "not a GoPhish event (campaign_id, email, message)",
        )
    })?;
    let campaign = match &e.campaign_id {
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(t) => t.clone(),
        _ => {
            return Err(Problem::bad_request(
                "invalid-event",
                "campaign_id must be a number or text",
            ))
        }
    };
    let Some(event) = PhishingEvent::from_gophish(&e.message) else {
        return Ok(ApiJson(PhishingAck {
            recorded: false,
            event: None,
        }));
    };
    if e.email.trim().is_empty() {
        return Err(Problem::bad_request(
            "invalid-event",
            "the event names no recipient (email)",
        ));
    }
    let store = s.store.clone();
    super::blocking(move || store.record_phishing_result(&campaign, &e.email, event)).await??;
    Ok(ApiJson(PhishingAck {
        recorded: true,
        event: Some(event.code()),
    }))
}

/// The training record: every assignment with its status, overdue first.
#[derive(Serialize, ToSchema)]
pub struct TrainingRecord {
    /// The day the states are measured at (UTC, YYYY-MM-DD).
    #[schema(format = Date)]
    pub today: String,
    pub assignments: Vec<bulwark_store::TrainingRow>,
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// Every assignment (by role or operator) with its due date and status.
#[utoipa::path(
    get, path = "/v1/training", operation_id = "training_status", tag = "training",
    description = "Requires scope `audit:read`. Due `grace_days` after assignment until the first pass, then one validity period after the last pass (PCI DSS 12.6.3).",
    security(("bearer" = [])),
    responses((status = 200, description = "The training record", body = TrainingRecord), crate::openapi::Auth, Failure)
)]
pub async fn status(s: S, caller: crate::auth::Caller) -> Result<ApiJson<TrainingRecord>, Problem> {
    caller.require(&s, bulwark_model::Scope::AuditRead)?;
    let store = s.store.clone();
    let assignments = super::blocking(move || -> Result<_, Problem> {
        let set = store.dir().training()?;
        Ok(store.training_status(&set, today())?)
    })
    .await??;
    Ok(ApiJson(TrainingRecord {
        today: today().to_string(),
        assignments,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAssignment {
    /// A team role code (`security_lead`…): every operator holding it. Give
    /// this or `operator`.
    pub role: Option<String>,
    /// One operator's id. Give this or `role`.
    pub operator: Option<String>,
    /// The module's id; absent assigns every module for the role or operator.
    pub module: Option<String>,
    /// The day it counts from (YYYY-MM-DD, default today); not in the future.
    #[schema(format = Date)]
    pub on: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AssignmentsAdded {
    /// New assignments; existing ones keep their dates.
    pub added: usize,
}

/// Assigns training to every operator holding a role, or to one operator.
#[utoipa::path(
    post, path = "/v1/training/assignments", operation_id = "assign_training", tag = "training",
    description = "Requires scope `admin`. Ledgered as `training.assigned` per new assignment.",
    security(("bearer" = [])),
    request_body = NewAssignment,
    responses((status = 201, description = "Assigned", body = AssignmentsAdded), Invalid, crate::openapi::Auth, crate::openapi::Missing, Failure)
)]
pub async fn assign(
    s: S,
    caller: crate::auth::Caller,
    ApiJson(req): ApiJson<NewAssignment>,
) -> Result<crate::extract::Created<AssignmentsAdded>, Problem> {
    caller.require(&s, bulwark_model::Scope::Admin)?;
    let on = match req.on.as_deref() {
        Some(v) => bulwark_model::parse_date(v).ok_or_else(|| {
            Problem::bad_request("bad-parameter", "`on` must be a date, YYYY-MM-DD")
        })?,
        None => today(),
    };
    enum Whom {
        Role(bulwark_model::Role),
        Operator(String),
    }
    let whom = match (req.role, req.operator) {
        (Some(r), None) => Whom::Role(
            bulwark_model::Role::ALL
                .iter()
                .copied()
                .find(|x| x.code() == r)
                .ok_or_else(|| {
                    Problem::bad_request(
                        "bad-parameter",
                        "`role` is not a team role (incident_commander, security_lead, legal, pr_comms, customer_service, executive_sponsor)",
                    )
                })?,
        ),
        (None, Some(o)) => Whom::Operator(o),
        _ => {
            return Err(Problem::bad_request(
                "bad-parameter",
                "give exactly one of `role` and `operator`",
            ))
        }
    };
    let actor = caller.principal.id.clone();
    let store = s.store.clone();
    let added = super::blocking(move || -> Result<usize, Problem> {
        let set = store.dir().training()?;
        let module = req.module.as_deref();
        Ok(match whom {
            Whom::Role(r) => store.assign_training_to_role(&set, r, module, on, today(), &actor)?,
            Whom::Operator(o) => {
                store.assign_training_to_operator(&set, &o, module, on, today(), &actor)?
            }
        })
    })
    .await??;
    Ok(crate::extract::Created(AssignmentsAdded { added }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAttempt {
    /// The module's id.
    pub module: String,
    /// The chosen answer of each question in order (0-based choice indexes);
    /// graded here, never scored by the client.
    pub answers: Vec<usize>,
    /// The person acknowledges the module's policy statement (its current version).
    #[serde(default)]
    pub acknowledged: bool,
}

/// Records the signed-in operator's quiz attempt, graded by the server; a
/// pass completes the assignment until its validity runs out.
#[utoipa::path(
    post, path = "/v1/training/attempts", operation_id = "record_training_attempt", tag = "training",
    description = "Requires an operator's session (not an API key): the attempt is the signed-in person's own. The answers are graded against the module's quiz; a client-sent score is not accepted. Ledgered as `training.passed` or `training.failed` (and `training.acknowledged`).",
    security(("bearer" = [])),
    request_body = NewAttempt,
    responses((status = 201, description = "Graded and recorded", body = bulwark_store::AttemptOutcome), Invalid, crate::openapi::Auth, crate::openapi::Missing, crate::openapi::Conflict, Failure)
)]
pub async fn attempt(
    s: S,
    caller: crate::auth::Caller,
    ApiJson(req): ApiJson<NewAttempt>,
) -> Result<crate::extract::Created<bulwark_store::AttemptOutcome>, Problem> {
    let person = caller.require_person(&s)?.operator.id.clone();
    if req.answers.len() > 50 {
        return Err(Problem::bad_request(
            "bad-parameter",
            "`answers` has at most one answer per question (50)",
        ));
    }
    let store = s.store.clone();
    let out = super::blocking(move || -> Result<_, Problem> {
        let set = store.dir().training()?;
        Ok(store.record_training_attempt(
            &set,
            &person,
            &req.module,
            &req.answers,
            req.acknowledged,
            today(),
        )?)
    })
    .await??;
    Ok(crate::extract::Created(out))
}
