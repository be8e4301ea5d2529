//! `/v1/customers`: the vault. Reveals and lookups are checked per element,
//! logged in the access log before anything is returned, and fed to detection.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bulwark_model::{DataElement, Scope};
use bulwark_store::{CustomerMeta, CustomerPatch, LookupBy, NewCustomer, RevealRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::S;
use crate::auth::Caller;
use crate::detection::{vault_access_event, VaultAccess};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Created};
use crate::openapi::{Auth, Conflict, Failure, Invalid, Missing};
use crate::problem::Problem;

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

/// A customer, by id.
#[derive(Serialize, ToSchema)]
pub struct CustomerRef {
    pub id: Uuid,
}

/// Stores a customer: fields are validated, normalised and sealed per field.
#[utoipa::path(
    post, path = "/v1/customers", operation_id = "create_customer", tag = "vault",
    description = "Requires scope `vault:write`.",
    security(("bearer" = [])),
    request_body = NewCustomer,
    responses((status = 201, description = "Stored", body = CustomerRef, links(("get_customer" = (operation_id = "get_customer", parameters(("id" = "$response.body#/id")))), ("update_customer" = (operation_id = "update_customer", parameters(("id" = "$response.body#/id")))), ("erase_customer" = (operation_id = "erase_customer", parameters(("id" = "$response.body#/id")))))), Invalid, Auth, Conflict, Failure)
)]
pub async fn create(
    s: S,
    caller: Caller,
    ApiJson(new): ApiJson<NewCustomer>,
) -> Result<Created<CustomerRef>, Problem> {
    caller.require(&s, Scope::VaultWrite)?;
    let id = s
        .store
        .create_customer(&new, &caller.principal)?
        .wait()
        .await?;
    Ok(Created(CustomerRef { id }))
}

/// Changes a customer: present fields are replaced, `null` fields removed.
#[utoipa::path(
    patch, path = "/v1/customers/{id}", operation_id = "update_customer", tag = "vault",
    description = "Requires scope `vault:write`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Customer id")),
    request_body = CustomerPatch,
    responses((status = 204, description = "Changed"), Invalid, Auth, Missing, Conflict, Failure)
)]
pub async fn update(
    s: S,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(patch): ApiJson<CustomerPatch>,
) -> Result<StatusCode, Problem> {
    caller.require(&s, Scope::VaultWrite)?;
    let id = parse_id(&id)?;
    s.store
        .update_customer(id, patch, &caller.principal)?
        .wait()
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Erases a customer by destroying its keys (crypto-shredding), then its rows.
#[utoipa::path(
    delete, path = "/v1/customers/{id}", operation_id = "erase_customer", tag = "vault",
    description = "Requires scope `vault:write`.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Customer id")),
    responses((status = 204, description = "Erased"), Auth, Missing, Failure)
)]
pub async fn erase(
    s: S,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, Problem> {
    caller.require(&s, Scope::VaultWrite)?;
    let id = parse_id(&id)?;
    s.store.erase_customer(id, &caller.principal).wait().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GetQuery {
    /// Comma-separated data-element codes to reveal; without it, metadata only.
    fields: Option<String>,
}

/// Revealed values of one customer; the reveal is in the access log under `access_id`.
#[derive(Serialize, ToSchema)]
pub struct RevealedFields {
    pub id: Uuid,
    /// Element code → value, for the elements the customer has.
    pub fields: BTreeMap<String, String>,
    /// Requested elements this customer does not have.
    pub absent: Vec<DataElement>,
    pub access_id: i64,
}

/// A customer's metadata, or revealed fields when `fields` is given.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum CustomerView {
    Meta(CustomerMeta),
    Revealed(RevealedFields),
}

/// Without `fields`: metadata (`vault:read`). With `fields`: a reveal, checked per element.
#[utoipa::path(
    get, path = "/v1/customers/{id}", operation_id = "get_customer", tag = "vault",
    description = "Without `fields`: metadata, scope `vault:read`. With `fields`: a reveal, scope `vault:reveal:<element>` for each element and a purpose in `X-Bulwark-Purpose`; refusals are logged too.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Customer id"),
        GetQuery,
        ("X-Bulwark-Purpose" = Option<String>, Header, description = "Why the values are needed (required for a reveal; recorded in the access log)"),
    ),
    responses((status = 200, description = "Metadata or revealed fields", body = CustomerView), Invalid, Auth, Missing, Failure)
)]
pub async fn get_one(
    s: S,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<GetQuery>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let id = parse_id(&id)?;
    let Some(fields) = q.fields else {
        caller.require(&s, Scope::VaultRead)?;
        let meta = s.store.customer_meta(id)?;
        return Ok(ApiJson(CustomerView::Meta(meta)).into_response());
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
        let mut p = Problem::bad_request(
            "bad-fields",
            format!(
                "`fields` must list data-element codes; unknown: {}",
                unknown.join(", ")
            ),
        );
        p.unknown_fields = Some(unknown);
        return Err(p);
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
    let fields: BTreeMap<String, String> = revealed
        .fields
        .iter()
        .map(|(e, v)| (e.code().to_owned(), v.as_str().to_owned()))
        .collect();
    Ok(ApiJson(CustomerView::Revealed(RevealedFields {
        id: revealed.customer,
        fields,
        absent: revealed.absent.clone(),
        access_id: revealed.access_id,
    }))
    .into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindQuery {
    /// Exact e-mail address (normalised as stored).
    email: Option<String>,
    /// Exact phone number (normalised as stored).
    phone: Option<String>,
    /// The store's own customer id.
    external_id: Option<String>,
    /// A card token from this vault.
    card_token: Option<String>,
    /// From a previous page's `next_cursor` (listing only).
    cursor: Option<String>,
    /// Page size, 1 to 1000 (default 100; listing only).
    limit: Option<usize>,
}

/// Customer ids: the matches of a search, or a page of the list.
#[derive(Serialize, ToSchema)]
pub struct CustomerPage {
    pub items: Vec<CustomerRef>,
    /// Pass as `cursor` for the next page; `null` on the last page and for searches.
    pub next_cursor: Option<Uuid>,
}

/// `?email=` (or phone, external_id, card_token): exact-match search (`vault:lookup`).
/// No search parameter: the list of customer ids, cursor-paginated (`vault:read`).
#[utoipa::path(
    get, path = "/v1/customers", operation_id = "find_customers", tag = "vault",
    description = "With one of `email`, `phone`, `external_id`, `card_token`: an exact-match search through keyed blind indexes, scope `vault:lookup`, logged without the searched value. Without: the list of customer ids, scope `vault:read`.",
    security(("bearer" = [])),
    params(FindQuery, ("X-Bulwark-Purpose" = Option<String>, Header, description = "Why (recorded in the access log for searches)")),
    responses((status = 200, description = "Matching or listed customers", body = CustomerPage), Invalid, Auth, Failure)
)]
pub async fn find_or_list(
    s: S,
    caller: Caller,
    ApiQuery(q): ApiQuery<FindQuery>,
    headers: HeaderMap,
) -> Result<ApiJson<CustomerPage>, Problem> {
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
        return Ok(ApiJson(CustomerPage {
            items: ids.into_iter().map(|id| CustomerRef { id }).collect(),
            next_cursor: None,
        }));
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
    Ok(ApiJson(CustomerPage {
        items: ids.into_iter().map(|id| CustomerRef { id }).collect(),
        next_cursor: next,
    }))
}
