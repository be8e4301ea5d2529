//! The public updates page: what customers read during an incident. No
//! authentication (it is public by design), plain accessible HTML, newest first.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::S;
use crate::extract::ApiPath;
use crate::openapi::{Failure, Missing};
use crate::problem::Problem;

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The incident's public updates page, newest first. No authentication.
#[utoipa::path(
    get, path = "/updates/{slug}", operation_id = "public_updates_page", tag = "public",
    params(("slug" = String, Path, description = "The incident's slug, e.g. `7-checkout-skimmer`")),
    responses((status = 200, description = "The page", content_type = "text/html", body = String), Missing, Failure)
)]
pub async fn page(s: S, ApiPath(slug): ApiPath<String>) -> Result<Response, Problem> {
    let Some(bulwark_store::PublicPage { title, updates }) = s.store.public_updates(&slug)? else {
        return Err(Problem::not_found("no such page"));
    };
    let mut html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Updates: {t}</title>\n<style>body{{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}article{{border-top:1px solid #ccc;padding:1rem 0}}time{{color:#555}}</style></head>\n<body>\n<main>\n<h1>{t}</h1>\n",
        t = escape(&title)
    );
    if updates.is_empty() {
        html.push_str("<p>No updates yet.</p>\n");
    }
    for (at, text) in &updates {
        let paragraphs: Vec<String> = text
            .split("\n\n")
            .map(|p| format!("<p>{}</p>", escape(p).replace('\n', "<br>")))
            .collect();
        html.push_str(&format!(
            "<article><time datetime=\"{w}\">{w}</time>\n{}\n</article>\n",
            paragraphs.join("\n"),
            w = crate::routes::rfc3339(*at)
        ));
    }
    html.push_str("</main>\n</body>\n</html>\n");
    let mut res = (StatusCode::OK, html).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(res)
}
