//! Breach notices: one letter per affected customer, rendered from editable
//! templates (`templates/notices/`) in the customer's language, and checked
//! against the laws of the customer's jurisdiction before it may be queued;
//! drafts for regulators, card brands, bureaus and law enforcement; print
//! output (PDF per letter, mail-merge CSV); the plan of a render (which
//! letter on which channel, from which stencil, with which code, or refused:
//! `plan.rs`) and the lifecycles of letters and versions (`state.rs`).
//!
//! Pure: no I/O, no clock. The caller supplies the template set (the shipped
//! defaults plus overrides), the notice facts, the obligations evaluation and
//! each customer's name, jurisdiction and exposed elements.
#![forbid(unsafe_code)]

mod builtin;
mod drafts;
mod error;
mod facts;
mod mailmerge;
mod pdf;
mod plan;
mod render;
mod rules;
mod section;
mod state;
mod templates;

pub use drafts::{Draft, DraftContext};
pub use error::NoticeError;
pub use facts::{Contact, Dpo, FactsText, NoticeFacts, RemedyOffer};
pub use mailmerge::{mail_merge, HEADER as MAIL_MERGE_HEADER};
pub use pdf::{letter_pdf, LetterPdf, PdfError, PdfFonts};
pub use plan::{
    Addressee, Body, Channel, Channels, CodePool, LanguageFallbackGroup, PersonalValues, Plan,
    PlanCounts, PlanError, PlannedStencil, Planner, RefusalGroup, RowSpec, Shape, StencilId,
};
pub use render::{
    LanguageChoice, LanguageFallback, Letter, LetterError, Prepared, Refusal, RenderedLetter,
    Renderer, StandInError, Stencil,
};
pub use rules::{letter_rules, LetterRules, RequiredRemedy};
pub use state::{DeliveryEvent, DeliveryState, TransitionError, VersionEvent, VersionState};
pub use templates::TemplateSet;
