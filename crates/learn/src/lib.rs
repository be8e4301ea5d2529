//! The learn pillar's pure engines: drills (`drill`: scenarios, the run's
//! clock, scoring, the after-action report) and the compliance calendar: the
//! recurring duties of `compliance/*.toml` (PCI DSS cadences, the plan's own
//! review rhythm) and when each falls due. Pure: no I/O, no clock — the
//! caller passes the files and today's date.
//!
//! ```
//! use bulwark_learn::{Calendar, DutyState};
//! use time::macros::date;
//!
//! let calendar = Calendar::builtin()?;
//! let review = calendar.get("pci-7.2.4-access-review").unwrap();
//! // Last signed off on 31 August: due on the last day of February.
//! let s = review.status(Some(date!(2027 - 08 - 31)), date!(2027 - 01 - 01), date!(2028 - 03 - 01));
//! assert_eq!(s.due, date!(2028 - 02 - 29));
//! assert_eq!(s.state, DutyState::Overdue);
//! # Ok::<(), bulwark_learn::CalendarError>(())
//! ```
#![forbid(unsafe_code)]

mod builtin;
mod cadence;
pub mod drill;
mod duties;
mod training;

pub use builtin::{
    FILES as BUILTIN_FILES, SCENARIOS as BUILTIN_SCENARIOS, TRAINING as BUILTIN_TRAINING,
};
pub use cadence::{Cadence, CadenceError};
pub use duties::{Calendar, CalendarError, Duty, DutyState, DutyStatus, EvidenceKind};
pub use training::{
    parse_module, Grade, Module, PhishingEvent, Question, TrainingError, TrainingSet,
    TrainingState, TrainingStatus,
};
