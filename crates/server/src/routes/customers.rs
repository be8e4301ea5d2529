use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use bulwark_model::{DataElement, Scope};
use bulwark_store::{CustomerPatch, LookupBy, NewCustomer, RevealRequest};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::Caller;
use crate::detection::{vault_access_event, VaultAccess};
use crate::problem::Problem;
use crate::AppState;

const PURPOSE_HEADER: &str = "x-bulwark-purpose";

fn purpose(headers: &HeaderMap) -> Option<String> {
    headers
        .get(PURPOSE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().chars().take(500).collect::<String>())
        .filter(|s| !s.is_empty())
}

fn parse_id(raw: &str) -> Result<Uuid, Problem> {
    Uuid::parse_str(raw).map_err(|_| Problem::not_found("no such customer"))
}

fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice(body).map_err(|e| Problem::malformed_json(&e))
}

pub async fn create(
    State(s): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<impl IntoResponse, Problem> {
    caller.require(&s, Scope::VaultWrite)?;
    let new: NewCustomer = json_body(&body)?;
    let id = s
        .store
        .create_customer(&new, &caller.principal)?
        .wait()
        .await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({"id": id}))))
}

pub async fn update(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<StatusCode, Problem> {
    caller.require(&s, Scope::VaultWrite)?;
    let id = parse_id(&id)?;
    let patch: CustomerPatch = json_body(&body)?;
    s.store
        .update_customer(id, patch, &caller.principal)?
        .wait()
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn erase(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    caller.require(&s, Scope::VaultWrite)?;
    let id = parse_id(&id)?;
    s.store.erase_customer(id, &caller.principal).wait().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct GetQuery {
    fields: Option<String>,
}

/// Without `fields`: metadata (`vault:read`). With `fields`: a reveal, checked per element.
pub async fn get_one(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<GetQuery>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, Problem> {
    let id = parse_id(&id)?;
    let Some(fields) = q.fields else {
        caller.require(&s, Scope::VaultRead)?;
        let meta = s.store.customer_meta(id)?;
        return Ok(Json(serde_json::to_value(meta).unwrap_or_default()));
    };
    let mut elements = Vec::new();
    let mut unknown = Vec::new();
    for code in fields.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        match code.parse::<DataElement>() {
            Ok(e) if !elements.contains(&e) => elements.push(e),
            Ok(_) => {}
            Err(_) => unknown.push(code.chars().take(64).collect::<String>()),
        }
    }
    if !unknown.is_empty() || elements.is_empty() {
        return Err(Problem::bad_request(
            "bad-fields",
            format!(
                "`fields` must list data-element codes; unknown: {}",
                unknown.join(", ")
            ),
        )
        .with("unknown_fields", serde_json::json!(unknown)));
    }
    for e in &elements {
        if let Some(grant) = caller.principal.scopes.grant_for(Scope::VaultReveal(*e)) {
            s.usage.note(&caller.principal, grant);
        }
    }
    let purpose = purpose(&headers);
    let principal = caller.principal.clone();
    let requested: Vec<&str> = elements.iter().map(|e| e.code()).collect();
    let outcome = s
        .store
        .reveal(RevealRequest {
            principal: caller.principal,
            purpose: purpose.clone(),
            customer: id,
            elements: elements.clone(),
            source: caller.source.clone(),
        })
        .await;
    if let Some(d) = &s.detector {
        let (allowed, shown): (bool, Vec<&str>) = match &outcome {
            Ok(r) => (true, r.fields.keys().map(|e| e.code()).collect()),
            Err(_) => (false, requested.clone()),
        };
        let sid = id.to_string();
        if let Some(ev) = vault_access_event(&VaultAccess {
            action: "vault.reveal",
            allowed,
            principal: &principal.id,
            source: caller.source.as_deref(),
            customer: Some(&sid),
            elements: &shown,
            purpose: purpose.as_deref(),
            at: time::OffsetDateTime::now_utc(),
        }) {
            d.feed_vault(ev);
        }
    }
    let revealed = outcome?;
    let fields: BTreeMap<&str, &str> = revealed
        .fields
        .iter()
        .map(|(e, v)| (e.code(), v.as_str()))
        .collect();
    Ok(Json(serde_json::json!({
        "id": revealed.customer,
        "fields": fields,
        "absent": revealed.absent.iter().map(|e| e.code()).collect::<Vec<_>>(),
        "access_id": revealed.access_id,
    })))
}

#[derive(Deserialize)]
pub struct FindQuery {
    email: Option<String>,
    phone: Option<String>,
    external_id: Option<String>,
    card_token: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
}

/// `?email=` (or phone, external_id, card_token): exact-match search (`vault:lookup`).
/// No search parameter: the list of customer ids, cursor-paginated (`vault:read`).
pub async fn find_or_list(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<FindQuery>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, Problem> {
    let by: Vec<LookupBy> = [
        q.email.map(LookupBy::Email),
        q.phone.map(LookupBy::Phone),
        q.external_id.map(LookupBy::ExternalId),
        q.card_token.map(LookupBy::CardToken),
    ]
    .into_iter()
    .flatten()
    .collect();
    if by.len() > 1 {
        return Err(Problem::bad_request(
            "bad-parameter",
            "search by one of email, phone, external_id or card_token at a time",
        ));
    }
    if let Some(by) = by.into_iter().next() {
        caller.require(&s, Scope::VaultLookup)?;
        let label = by.label();
        let ids = s
            .store
            .lookup(
                by,
                &caller.principal,
                purpose(&headers),
                caller.source.clone(),
            )?
            .wait()
            .await?;
        if let Some(d) = &s.detector {
            let p = purpose(&headers);
            if let Some(ev) = vault_access_event(&VaultAccess {
                action: "vault.lookup",
                allowed: true,
                principal: &caller.principal.id,
                source: caller.source.as_deref(),
                customer: None,
                elements: &[label],
                purpose: p.as_deref(),
                at: time::OffsetDateTime::now_utc(),
            }) {
                d.feed_vault(ev);
            }
        }
        let items: Vec<_> = ids.iter().map(|id| serde_json::json!({"id": id})).collect();
        return Ok(Json(serde_json::json!({"items": items})));
    }
    caller.require(&s, Scope::VaultRead)?;
    let cursor = match q.cursor.as_deref() {
        Some(c) => Some(Uuid::parse_str(c).map_err(|_| {
            Problem::bad_request("bad-parameter", "`cursor` is not a cursor from this API")
        })?),
        None => None,
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let ids = s.store.list_customers(cursor, limit)?;
    let next = if ids.len() == limit {
        ids.last().copied()
    } else {
        None
    };
    let items: Vec<_> = ids.iter().map(|id| serde_json::json!({"id": id})).collect();
    Ok(Json(
        serde_json::json!({"items": items, "next_cursor": next}),
    ))
}
