//! Bulwark's shared vocabulary. Every other crate speaks in these types: the
//! vault schema, API-key scopes, the law catalogue and detection all use the
//! same data-element codes and jurisdiction codes.
#![forbid(unsafe_code)]

mod diagnostic;
mod element;
mod jurisdiction;
mod scope;

pub use diagnostic::{Diagnostic, Severity};
pub use element::{DataElement, UnknownElement, ValueError};
pub use jurisdiction::{country_name, is_country, is_subdivision, Residency, ResidencyError};
pub use scope::{Scope, ScopeError, Scopes};
