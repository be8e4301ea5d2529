//! Calling the store's webhooks: a JSON body signed with HMAC-SHA256 over
//! `<unix time>.<body>` (header `Bulwark-Signature: t=<time>,v1=<hex>`), so the
//! receiver can check it came from Bulwark and is fresh; retried with back-off
//! on connection errors and 5xx, not on 4xx (the receiver refused it).

use std::time::Duration;

use bulwark_store::{Store, WebhookError};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const ATTEMPTS: u32 = 4;

/// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
pub fn signature(secret: &[u8], unix: i64, body: &str) -> String {
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts any key length"),
    };
    mac.update(format!("{unix}.{body}").as_bytes());
    format!("t={unix},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Posts `payload` to every webhook registered for `event`. Ok names the outcome
/// (`HTTP 200 after 2 attempts`); Err says what failed, never a secret.
pub fn deliver(
    store: &Store,
    event: &str,
    payload: &impl serde::Serialize,
) -> Result<String, WebhookError> {
    let targets = store.webhook_targets(event)?;
    if targets.is_empty() {
        return Err(WebhookError::NoneRegistered(event.to_owned()));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let body = serde_json::to_string(payload).map_err(|e| WebhookError::Refused {
        outcomes: format!("the payload could not be encoded: {e}"),
    })?;
    let mut outcomes = Vec::new();
    let mut failed = false;
    for t in &targets {
        let mut last = String::new();
        let mut ok = false;
        for attempt in 1..=ATTEMPTS {
            let unix = time::OffsetDateTime::now_utc().unix_timestamp();
            let res = agent
                .post(&t.url)
                .header("Content-Type", "application/json")
                .header("Bulwark-Event", event)
                .header("Bulwark-Signature", &signature(&t.secret, unix, &body))
                .send(&body);
            let retry = match res {
                Ok(r) => {
                    let code = r.status().as_u16();
                    last = format!("HTTP {code} after {attempt} attempt(s)");
                    ok = (200..300).contains(&code);
                    code >= 500
                }
                Err(e) => {
                    last = format!("no answer after {attempt} attempt(s): {e}");
                    true
                }
            };
            if ok || !retry || attempt == ATTEMPTS {
                break;
            }
            std::thread::sleep(Duration::from_millis(250 << (attempt - 1)));
        }
        failed |= !ok;
        outcomes.push(format!("webhook {}: {last}", t.id));
    }
    let text = outcomes.join("; ");
    if failed {
        Err(WebhookError::Refused { outcomes: text })
    } else {
        Ok(text)
    }
}
