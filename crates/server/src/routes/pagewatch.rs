//! `/v1/pagewatch`: the payment pages watched for script and security-header
//! changes (PCI DSS 6.4.3, 11.6.1). Adding, listing and removing pages; the
//! crawl and CSP report intake are not built yet.

use bulwark_model::{parse_duration, DurationLimits, Scope, Unit};
use bulwark_store::{NewWatchedPage, WatchedPage};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::S;
use crate::auth::Caller;
use crate::extract::{ApiJson, ApiPath, Created};
use crate::openapi::{Auth, Conflict, Failure, Invalid, Missing};
use crate::problem::Problem;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPage {
    /// The page (http or https, no credentials in it).
    url: String,
    /// 1 to 64 of a-z, 0-9, `-`, `_` (default: from the URL).
    name: Option<String>,
    /// Time between crawls, e.g. `1h`, `1d` (at least `5m`; default `1h`).
    every: Option<String>,
    /// Cookies for a page behind a cart or login; sealed, never shown again.
    #[serde(default)]
    cookies: Vec<PageCookie>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PageCookie {
    name: String,
    value: String,
}

#[derive(Serialize, ToSchema)]
pub struct PageList {
    pub items: Vec<WatchedPage>,
}

/// Starts watching a page.
#[utoipa::path(
    post, path = "/v1/pagewatch/pages", operation_id = "watch_page", tag = "pagewatch",
    description = "Requires scope `admin`. Ledgered as `pagewatch.added` with the cookies' names only. The crawl and CSP report intake are not built yet: the page is recorded for them.",
    security(("bearer" = [])),
    request_body = NewPage,
    responses((status = 201, description = "Watched", body = WatchedPage), Invalid, Auth, Conflict, Failure)
)]
pub async fn add(
    s: S,
    caller: Caller,
    ApiJson(p): ApiJson<NewPage>,
) -> Result<Created<WatchedPage>, Problem> {
    caller.require(&s, Scope::Admin)?;
    let every = parse_duration(
        p.every.as_deref().unwrap_or("1h"),
        DurationLimits {
            finest: Unit::Minute,
            longest: None,
        },
    )
    .map_err(|e| Problem::bad_request("bad-parameter", format!("`every`: {e}")))?;
    let new = NewWatchedPage {
        url: p.url,
        name: p.name,
        every_secs: every.whole_seconds(),
        cookies: p
            .cookies
            .into_iter()
            .map(|c| (c.name, Zeroizing::new(c.value)))
            .collect(),
    };
    let store = s.store.clone();
    let actor = caller.principal.id.clone();
    let page = super::blocking(move || store.watch_page(new, &actor)).await??;
    Ok(Created(page))
}

/// The watched pages, by name.
#[utoipa::path(
    get, path = "/v1/pagewatch/pages", operation_id = "list_watched_pages", tag = "pagewatch",
    description = "Requires scope `admin` (the list holds each page's CSP report token).",
    security(("bearer" = [])),
    responses((status = 200, description = "The pages", body = PageList), Auth, Failure)
)]
pub async fn list(s: S, caller: Caller) -> Result<ApiJson<PageList>, Problem> {
    caller.require(&s, Scope::Admin)?;
    let store = s.store.clone();
    let items = super::blocking(move || store.watched_pages()).await??;
    Ok(ApiJson(PageList { items }))
}

/// Stops watching a page.
#[utoipa::path(
    delete, path = "/v1/pagewatch/pages/{name}", operation_id = "unwatch_page", tag = "pagewatch",
    description = "Requires scope `admin`. Ledgered as `pagewatch.removed`.",
    security(("bearer" = [])),
    params(("name" = String, Path, description = "The page's name")),
    responses((status = 204, description = "No longer watched"), Auth, Missing, Failure)
)]
pub async fn remove(
    s: S,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<axum::http::StatusCode, Problem> {
    caller.require(&s, Scope::Admin)?;
    let store = s.store.clone();
    let actor = caller.principal.id.clone();
    super::blocking(move || store.unwatch_page(&name, &actor)).await??;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
