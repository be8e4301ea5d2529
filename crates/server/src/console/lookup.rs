//! Customer service: "was I affected?". A lookup by e-mail, phone or
//! external id through the blind indexes, with a stated purpose, recorded in
//! the access log as the operator's; the answer shows which incidents, which
//! elements and which letters — no other personal data.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use bulwark_model::Scope;
use bulwark_store::{LookupBy, LookupError};
use serde_json::json;

use super::session::Signed;
use super::{forbidden, parse_form, unavailable};
use crate::routes::rfc3339;
use crate::AppState;

pub async fn page(State(s): State<AppState>, me: Signed) -> Response {
    if !me.can(Scope::VaultLookup) {
        return forbidden(&s, &me, "The customer lookup");
    }
    s.console.templates.page(
        StatusCode::OK,
        "lookup.html",
        json!({"me": me.me(), "nav": "lookup"}),
    )
}

pub async fn lookup(State(s): State<AppState>, me: Signed, body: Bytes) -> Response {
    if !me.can(Scope::VaultLookup) {
        return forbidden(&s, &me, "The customer lookup");
    }
    let f = parse_form(&body);
    let value = f
        .get("value")
        .map(|v| v.trim().to_owned())
        .unwrap_or_default();
    let purpose = f
        .get("purpose")
        .map(|v| v.trim().to_owned())
        .unwrap_or_default();
    let kind = f.get("by").cloned().unwrap_or_default();
    let refuse = |error: &str| {
        s.console.templates.page(
            StatusCode::BAD_REQUEST,
            "lookup.html",
            json!({"me": me.me(), "nav": "lookup", "error": error, "by": kind, "purpose": purpose}),
        )
    };
    if purpose.len() < 3 || purpose.len() > 500 {
        return refuse(
            "say why you look this customer up (e.g. the ticket number); it goes to the access log",
        );
    }
    let by = match kind.as_str() {
        "email" => LookupBy::Email(value),
        "phone" => LookupBy::Phone(value),
        "external_id" => LookupBy::ExternalId(value),
        _ => return refuse("choose e-mail, phone or customer number"),
    };
    let store = s.store.clone();
    let principal = me.session.operator.principal();
    let source = me.source.clone();
    let p = purpose.clone();
    let r = crate::routes::blocking(move || {
        let ids = store
            .lookup(by, &principal, Some(p), source)?
            .wait_blocking()?;
        let exposure = store.exposure(&ids)?;
        Ok::<_, LookupError>((ids.len(), exposure))
    })
    .await;
    let (found, exposure) = match r {
        Ok(Ok(x)) => x,
        Ok(Err(LookupError::Invalid(e))) => return refuse(&e.to_string()),
        Ok(Err(LookupError::Store(e))) => return unavailable(&s, &e),
        Err(_) => return unavailable(&s, &"a page task stopped"),
    };
    let rows: Vec<_> = exposure
        .iter()
        .map(|x| {
            json!({
                "incident": x.incident, "title": x.title, "elements": x.elements,
                "letters": x.letters.iter().map(|l| json!({
                    "version": l.version, "channel": l.channel, "state": l.state,
                    "sent": l.sent_ms.map(rfc3339),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    s.console.templates.page(
        StatusCode::OK,
        "lookup.html",
        json!({"me": me.me(), "nav": "lookup", "searched": true, "found": found,
               "exposure": rows, "by": kind, "purpose": purpose}),
    )
}
