//! `Authorization: Bearer <api key>` on every /v1 route, and the scope each route needs.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use bulwark_model::Scope;
use bulwark_store::Principal;

use crate::problem::Problem;
use crate::AppState;

/// An authenticated caller and where it called from: an API key, or an
/// operator's session (`Bearer bws_…`, from `bulwark login --print-token` or
/// the console), which acts with the operator's roles.
pub struct Caller {
    pub principal: Principal,
    pub source: Option<String>,
    pub operator: Option<bulwark_store::OperatorSession>,
}

impl Caller {
    /// Checks a grant and remembers that it was exercised (for access reviews).
    /// An action only a person may take (approving letters): an operator's
    /// session whose second factor is recent enough.
    pub fn require_person(
        &self,
        state: &AppState,
    ) -> Result<&bulwark_store::OperatorSession, Problem> {
        let Some(op) = &self.operator else {
            return Err(Problem::new(
                axum::http::StatusCode::FORBIDDEN,
                "operator-required",
                "Only a signed-in operator may do this",
            )
            .detail("an API key acts for a machine; sign in (`bulwark login --print-token`) and send the session token"));
        };
        self.require_fresh(state)?;
        Ok(op)
    }

    /// For an operator's session, the second factor within the step-up
    /// window; an API key passes (it has no second factor to give).
    pub fn require_fresh(&self, state: &AppState) -> Result<(), Problem> {
        if let Some(op) = &self.operator {
            let policy = state.console.config.policy;
            let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
            if policy.needs_step_up(&op.times, now) {
                return Err(Problem::new(
                    axum::http::StatusCode::FORBIDDEN,
                    "step-up-required",
                    "Give the second factor again",
                )
                .detail(format!(
                    "this action needs the second factor within the last {}; sign in again",
                    bulwark_access::span(policy.step_up)
                )));
            }
        }
        Ok(())
    }

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
            .ok_or_else(|| {
                Problem::unauthorized("send Authorization: Bearer <api key or operator session>")
            })?;
        let token = header.strip_prefix("Bearer ").ok_or_else(|| {
            Problem::unauthorized("send Authorization: Bearer <api key or operator session>")
        })?;
        let token = token.trim();
        let source = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ci| ci.0.ip().to_string());
        if token.starts_with("bws_") {
            let store = state.store.clone();
            let policy = state.console.config.policy;
            let t = token.to_owned();
            let found = crate::routes::blocking(move || store.session(&t, &policy)).await?;
            return match found {
                Ok(op) => Ok(Caller {
                    principal: op.operator.principal(),
                    source,
                    operator: Some(op),
                }),
                Err(bulwark_store::SessionError::Store(e)) => Err(e.into()),
                Err(e) => Err(Problem::unauthorized(e.to_string())),
            };
        }
        let principal = state.store.authenticate(token)?;
        Ok(Caller {
            principal,
            source,
            operator: None,
        })
    }
}
