//! Bulwark's HTTP API: JSON under `/v1`, RFC 9457 problem details, bearer API
//! keys checked against a scope on every route, an OpenAPI document, TLS.
//!
//! - [`router`] builds the routes over an [`AppState`];
//! - [`serve`] binds, picks TLS or loopback-only plain HTTP, and runs the
//!   background duties (usage flush, periodic ledger checkpoints).
#![forbid(unsafe_code)]

mod auth;
mod openapi;
mod problem;
mod routes;
mod serve;

use std::sync::Arc;

use bulwark_store::{Store, UsageTracker};

pub use problem::Problem;
pub use serve::{serve, ServeConfig, ServeError};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub usage: Arc<UsageTracker>,
}

impl AppState {
    pub fn new(store: Store) -> AppState {
        AppState {
            store,
            usage: Arc::new(UsageTracker::default()),
        }
    }
}

pub use routes::router;
