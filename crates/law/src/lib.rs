//! Breach-notification law catalogue and obligations engine.
//!
//! Pure: no I/O, no clock, no global state. The caller passes law files as
//! `(path, text)` pairs (or uses [`Catalogue::builtin`], the files of `laws/`
//! compiled in) and a [`Scenario`] of incident facts; [`evaluate`] returns the
//! obligations with deadlines and, for every jurisdiction in scope that did
//! not trigger, the reason. Nothing here is legal advice ([`DISCLAIMER`]).
//!
//! ```
//! use bulwark_law::{evaluate, Catalogue, Recipient, Scenario};
//!
//! let catalogue = Catalogue::builtin()?;
//! let scenario: Scenario = serde_json::from_str(r#"{
//!     "aware_at": "2026-03-02T09:00:00Z", "encrypted": false, "key_compromised": false,
//!     "affected": [{"jurisdiction": "US-TX", "elements": ["name", "national_id"], "count": 300}]
//! }"#)?;
//! let evaluation = evaluate(&catalogue, &scenario)?;
//! let ag = evaluation
//!     .obligations
//!     .iter()
//!     .find(|o| o.jurisdiction == "US-TX" && o.recipient == Recipient::Regulator)
//!     .expect("Texas AG: 250 or more residents");
//! assert_eq!(ag.deadline.map(|d| d.date().to_string()), Some("2026-04-01".into()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The catalogue format and the engine's reading of it are documented in
//! `laws/README.md`; [`lint`] checks catalogue files with file:line:column
//! diagnostics.
#![forbid(unsafe_code)]

mod builtin;
pub mod calendar;
mod catalogue;
mod changes;
pub mod content;
mod error;
mod lint;
mod obligations;
mod report;
mod scenario;
pub mod schema;
mod spans;
mod wording;

pub use builtin::FILES as BUILTIN_FILES;
pub use catalogue::{parse_law, Catalogue};
pub use changes::{changes, Change, ChangeKind};
pub use content::NoticeContent;
pub use error::{CatalogueError, EvalError};
pub use lint::{lint, lint_with, Diagnostic, LintOptions, Severity};
pub use obligations::evaluate;
pub use report::{Evaluation, NotTriggered, Obligation, DISCLAIMER};
pub use scenario::{
    aggregate, jurisdiction_of, Affected, BreachCause, HarmLevel, LawEnforcementDelay, Scenario,
};
pub use schema::{Amendment, Confidence, HarmException, Law, Recipient, Revision};
