//! The payment pages Bulwark watches (PCI DSS 6.4.3, 11.6.1): the checkout
//! and the pages that host the payment iframe, each with how often it is
//! crawled, an unguessable token for its CSP violation reports, and — for a
//! page behind a cart — cookies sealed under the root key (never listed,
//! logged or ledgered; only their names are).

use rand::rngs::OsRng;
use rand::RngCore;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::error::{Result, StoreError};
use crate::{Store, ValidationErrors};

/// Watched more often than this is hammering the store's own checkout.
pub const MIN_EVERY_SECS: i64 = 5 * 60;
/// PCI DSS 11.6.1: at least weekly (or as a targeted risk analysis sets).
pub const WEEKLY_SECS: i64 = 7 * 24 * 3600;
const MAX_COOKIES: usize = 20;
const MAX_COOKIE_VALUE: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WatchedPage {
    pub id: i64,
    /// `checkout`: how the CLI and alerts name it.
    pub name: String,
    pub url: String,
    /// Seconds between crawls.
    pub every_secs: i64,
    /// The path part of its CSP report endpoint: whoever knows it may send
    /// reports for this page, nothing else.
    pub report_token: String,
    /// Names of the cookies sent with each crawl (values are sealed).
    pub cookie_names: Vec<String>,
    pub created_ms: i64,
    pub created_by: String,
}

/// A page to watch. Cookie values are wiped on drop.
pub struct NewWatchedPage {
    pub url: String,
    /// Default: from the URL's last path segment, else its host.
    pub name: Option<String>,
    pub every_secs: i64,
    pub cookies: Vec<(String, Zeroizing<String>)>,
}

#[derive(Debug, thiserror::Error)]
pub enum WatchPageError {
    #[error("invalid input: {0}")]
    Invalid(#[from] ValidationErrors),
    #[error("a watched page is already named `{0}`")]
    NameTaken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum UnwatchPageError {
    #[error("no watched page is named `{0}` (see `bulwark pagewatch list`)")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn label(token: &str) -> String {
    format!("pagewatch:{token}")
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// A name from the URL: `…/checkout/` → `checkout`, `https://shop.example/` → `shop-example`.
fn default_name(u: &url::Url) -> String {
    let from_path = u
        .path_segments()
        .and_then(|mut s| s.rfind(|p| !p.is_empty()).map(str::to_owned));
    let raw = from_path.unwrap_or_else(|| u.host_str().unwrap_or("page").to_owned());
    let name: String = raw
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    let name = name.trim_matches('-').to_owned();
    if name.is_empty() {
        "page".into()
    } else {
        name
    }
}

/// RFC 6265 cookie-name: a token (no separators, no controls).
fn valid_cookie_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 128
        && n.bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
}

fn valid_cookie_value(v: &str) -> bool {
    v.len() <= MAX_COOKIE_VALUE
        && v.bytes()
            .all(|b| b.is_ascii_graphic() && b != b';' && b != b',' && b != b'\\' && b != b'"')
}

fn check(new: &NewWatchedPage) -> std::result::Result<(url::Url, String), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let parsed = if new.url.len() > 2048 {
        None
    } else {
        url::Url::parse(&new.url).ok()
    };
    let parsed = parsed.filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    match &parsed {
        None => errors.push(
            "url",
            "expected an http(s) URL with a host, at most 2048 characters",
        ),
        Some(u) if !u.username().is_empty() || u.password().is_some() => errors.push(
            "url",
            "the URL carries credentials: give a page behind a login its session cookies instead",
        ),
        Some(_) => {}
    }
    let name = match (&new.name, &parsed) {
        (Some(n), _) => n.clone(),
        (None, Some(u)) => default_name(u),
        (None, None) => String::new(),
    };
    // Without a URL there is no name to derive: only the URL is at fault.
    if (new.name.is_some() || parsed.is_some()) && !valid_name(&name) {
        errors.push("name", "expected 1 to 64 of a-z, 0-9, - and _");
    }
    if new.every_secs < MIN_EVERY_SECS {
        errors.push("every", "at least 5m between crawls");
    }
    if new.cookies.len() > MAX_COOKIES {
        errors.push("cookies", format!("at most {MAX_COOKIES} cookies"));
    }
    for (n, v) in &new.cookies {
        if !valid_cookie_name(n) {
            errors.push("cookies", "a cookie name is not an RFC 6265 token");
        } else if !valid_cookie_value(v) {
            // The value is a secret: the message names the cookie, not it.
            errors.push(
                "cookies",
                format!("the value of cookie `{n}` is not a valid cookie value (printable ASCII without ; , \\ \", at most {MAX_COOKIE_VALUE} bytes)"),
            );
        }
    }
    errors.into_result()?;
    let url = parsed.ok_or_else(ValidationErrors::default)?;
    Ok((url, name))
}

impl Store {
    /// Starts watching a page. Durable and ledgered (with cookie names, never
    /// values) on return. Cookies need an unlocked store.
    pub fn watch_page(
        &self,
        new: NewWatchedPage,
        actor: &str,
    ) -> std::result::Result<WatchedPage, WatchPageError> {
        let (url, name) = check(&new)?;
        let mut raw = [0u8; 24];
        OsRng.fill_bytes(&mut raw);
        let token = hex::encode(raw);
        let cookie_names: Vec<String> = new.cookies.iter().map(|(n, _)| n.clone()).collect();
        let sealed = if new.cookies.is_empty() {
            None
        } else {
            let plain = Zeroizing::new(
                serde_json::to_vec(
                    &new.cookies
                        .iter()
                        .map(|(n, v)| (n.as_str(), v.as_str()))
                        .collect::<Vec<_>>(),
                )
                .map_err(|e| StoreError::corrupt(format!("sealing cookies: {e}")))?,
            );
            Some(
                self.keyring_read()?
                    .seal_secret(&label(&token), &plain, &mut OsRng),
            )
        };
        let page = WatchedPage {
            id: 0,
            name,
            url: url.to_string(),
            every_secs: new.every_secs,
            report_token: token,
            cookie_names,
            created_ms: 0,
            created_by: actor.to_owned(),
        };
        let p = page.clone();
        let (id, at) = self
            .writer()
            .submit(move |ctx| -> std::result::Result<(i64, i64), WatchPageError> {
                let taken: Option<i64> = ctx
                    .main
                    .query_row("SELECT id FROM watched_pages WHERE name = ?1", [&p.name], |r| r.get(0))
                    .optional()
                    .map_err(StoreError::from)?;
                if taken.is_some() {
                    return Err(WatchPageError::NameTaken(p.name.clone()));
                }
                let names = serde_json::to_string(&p.cookie_names)
                    .map_err(|e| StoreError::corrupt(format!("cookie names: {e}")))?;
                ctx.main
                    .execute(
                        "INSERT INTO watched_pages (name, url, every_secs, report_token, cookie_names, cookies, created_ms, created_by)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        params![p.name, p.url, p.every_secs, p.report_token, names, sealed, ctx.now_ms, p.created_by],
                    )
                    .map_err(StoreError::from)?;
                let id = ctx.main.last_insert_rowid();
                ctx.ledger(
                    &p.created_by,
                    "pagewatch.added",
                    &format!("page:{}", p.name),
                    serde_json::json!({"url": p.url, "every_secs": p.every_secs, "cookies": p.cookie_names}),
                )?;
                Ok((id, ctx.now_ms))
            })
            .wait_blocking()?;
        Ok(WatchedPage {
            id,
            created_ms: at,
            ..page
        })
    }

    /// Every watched page, by name.
    pub fn watched_pages(&self) -> Result<Vec<WatchedPage>> {
        self.query_pages(None)
    }

    /// The page a CSP report token belongs to (one indexed read: this is on
    /// the report endpoint's path).
    pub fn watched_page_by_token(&self, token: &str) -> Result<Option<WatchedPage>> {
        Ok(self.query_pages(Some(token))?.into_iter().next())
    }

    fn query_pages(&self, token: Option<&str>) -> Result<Vec<WatchedPage>> {
        const COLUMNS: &str =
            "SELECT id, name, url, every_secs, report_token, cookie_names, created_ms, created_by FROM watched_pages";
        // Separate statements, so the token lookup uses the token's unique index.
        let sql = match token {
            Some(_) => format!("{COLUMNS} WHERE report_token = ?1"),
            None => format!("{COLUMNS} WHERE ?1 IS NULL ORDER BY name"),
        };
        self.read(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map([token], |r| {
                Ok((
                    WatchedPage {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        url: r.get(2)?,
                        every_secs: r.get(3)?,
                        report_token: r.get(4)?,
                        cookie_names: Vec::new(),
                        created_ms: r.get(6)?,
                        created_by: r.get(7)?,
                    },
                    r.get::<_, String>(5)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (mut page, names) = row?;
                page.cookie_names = serde_json::from_str(&names).map_err(|_| {
                    StoreError::corrupt(format!("cookie names of watched page {}", page.id))
                })?;
                out.push(page);
            }
            Ok(out)
        })
    }

    /// The page's cookies, opened (needs an unlocked store); empty if it has none.
    pub fn watched_page_cookies(&self, name: &str) -> Result<Vec<(String, Zeroizing<String>)>> {
        let row: Option<(String, Option<Vec<u8>>)> = self.read(|c| {
            Ok(c.query_row(
                "SELECT report_token, cookies FROM watched_pages WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
        })?;
        let Some((token, Some(sealed))) = row else {
            return Ok(Vec::new());
        };
        let plain = self
            .keyring_read()?
            .open_secret(&label(&token), &sealed)
            .map_err(StoreError::Vault)?;
        let pairs: Vec<(String, String)> = serde_json::from_slice(&plain)
            .map_err(|_| StoreError::corrupt(format!("the sealed cookies of `{name}`")))?;
        Ok(pairs
            .into_iter()
            .map(|(n, v)| (n, Zeroizing::new(v)))
            .collect())
    }

    /// Stops watching `name`; its history stays in the ledger.
    pub fn unwatch_page(
        &self,
        name: &str,
        actor: &str,
    ) -> std::result::Result<(), UnwatchPageError> {
        let (name, actor) = (name.to_owned(), actor.to_owned());
        self.writer()
            .submit(move |ctx| -> std::result::Result<(), UnwatchPageError> {
                let n = ctx
                    .main
                    .execute("DELETE FROM watched_pages WHERE name = ?1", [&name])
                    .map_err(StoreError::from)?;
                if n == 0 {
                    return Err(UnwatchPageError::NotFound(name.chars().take(64).collect()));
                }
                ctx.ledger(
                    &actor,
                    "pagewatch.removed",
                    &format!("page:{name}"),
                    serde_json::json!({}),
                )?;
                Ok(())
            })
            .wait_blocking()
    }
}
