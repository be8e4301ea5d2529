//! Bulwark's shared vocabulary. Every other crate speaks in these types: the
//! vault schema, API-key scopes, the law catalogue and detection all use the
//! same data-element codes and jurisdiction codes; the data-file loaders all
//! report positions (`Pos`) and findings (`Diagnostic`) the same way and read
//! durations with one parser (`duration`).
#![forbid(unsafe_code)]

mod diagnostic;
pub mod duration;
mod element;
mod jurisdiction;
mod language;
mod pos;
mod role;
mod scope;

pub use diagnostic::{Diagnostic, Severity};
pub use duration::{format_duration, parse_duration, DurationError, DurationLimits, Unit};
pub use element::{parse_date, DataElement, UnknownElement, ValueError};
pub use jurisdiction::{
    bloc_members, country_name, is_country, is_subdivision, iso3166, Residency, ResidencyError,
    EEA_COUNTRIES,
};
pub use language::{
    is_language, normalize_language, LanguageError, LANGUAGE_TAG_MAX, LANGUAGE_TAG_PATTERN,
};
pub use pos::Pos;
pub use role::{Role, UnknownRole};
pub use scope::{Scope, ScopeError, Scopes};
