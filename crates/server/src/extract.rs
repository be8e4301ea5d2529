//! Request extractors whose every refusal is a problem document (axum's own
//! answer with `text/plain`), and whose messages never quote a value: a query
//! string or body may carry an e-mail address or a name.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::problem::Problem;

/// A JSON request body.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        let bytes = Body::from_request(req, state).await?.0;
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| Problem::malformed_json(&e))
    }
}

impl<T: serde::Serialize> axum::response::IntoResponse for ApiJson<T> {
    fn into_response(self) -> axum::response::Response {
        crate::routes::reply(StatusCode::OK, &self.0)
    }
}

/// A JSON answer with `201 Created`.
pub struct Created<T>(pub T);

impl<T: serde::Serialize> axum::response::IntoResponse for Created<T> {
    fn into_response(self) -> axum::response::Response {
        crate::routes::reply(StatusCode::CREATED, &self.0)
    }
}

/// A raw request body, within the route's size limit.
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Problem> {
        Bytes::from_request(req, state)
            .await
            .map(Body)
            .map_err(body_rejection)
    }
}

fn body_rejection(e: BytesRejection) -> Problem {
    let too_large = match &e {
        BytesRejection::FailedToBufferBody(inner) => {
            inner.status() == StatusCode::PAYLOAD_TOO_LARGE
        }
        _ => false,
    };
    if too_large {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Request body too large",
        )
        .detail("the body is larger than this route accepts; send less per request")
    } else {
        Problem::bad_request("bad-body", "the request body could not be read")
    }
}

/// Query-string parameters.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Problem> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(ApiQuery)
            .map_err(|e| {
                Problem::bad_request(
                    "bad-parameter",
                    format!(
                        "the query string is not valid: {}",
                        without_values(&e.to_string())
                    ),
                )
            })
    }
}

/// One path parameter as text; handlers parse it and answer 404 for what is
/// not an id of theirs.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|_| Problem::not_found("no such resource"))
    }
}

/// serde's messages quote the offending value in double quotes (`invalid
/// type: string "…"`) and names in backticks: values are dropped, names and
/// what was expected kept.
fn without_values(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut quoted = false;
    for c in msg.chars() {
        match c {
            '"' => {
                if !quoted {
                    out.push('…');
                }
                quoted = !quoted;
            }
            _ if quoted => {}
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::without_values;

    #[test]
    fn quoted_values_are_dropped_from_messages() {
        assert_eq!(
            without_values(r#"invalid digit found in string "ada@example.com""#),
            "invalid digit found in string …"
        );
        assert_eq!(
            without_values("missing field `since`"),
            "missing field `since`"
        );
    }
}
