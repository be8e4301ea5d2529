//! Training records over HTTP. For now the GoPhish webhook: phishing
//! simulation outcomes, signed by GoPhish with HMAC-SHA256 over the body in
//! `X-Gophish-Signature: sha256=<hex>`. Only the outcome per person is kept
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
