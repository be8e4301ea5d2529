//! `Authorization: Bearer <api key>` on every /v1 route, and the scope each route needs.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use bulwark_model::Scope;
use bulwark_store::Principal;

use crate::problem::Problem;
use crate::AppState;

/// An authenticated caller and where it called from.
pub struct Caller {
    pub principal: Principal,
    pub source: Option<String>,
}

impl Caller {
    /// Checks a grant and remembers that it was exercised (for access reviews).
    pub fn require(&self, state: &AppState, scope: Scope) -> Result<(), Problem> {
        match self.principal.scopes.grant_for(scope) {
            Some(grant) => {
                state.usage.note(&self.principal, grant);
                Ok(())
            }
            None => Err(Problem::forbidden_scope(&scope.to_string())),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Problem::unauthorized("send Authorization: Bearer <api key>"))?;
        let token = header
            .strip_prefix("Bearer ")
            .ok_or_else(|| Problem::unauthorized("send Authorization: Bearer <api key>"))?;
        let principal = state.store.authenticate(token.trim())?;
        let source = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ci| ci.0.ip().to_string());
        Ok(Caller { principal, source })
    }
}
