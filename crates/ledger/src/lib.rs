//! Bulwark's ledger: an append-only, hash-chained log of every security-relevant
//! change, with checkpoints signed by an ed25519 key.
//!
//! The crate is pure on purpose: no I/O, no clock, no globals. Callers pass time in
//! as Unix milliseconds and own storage, so the same code runs in the server, the
//! CLI's offline `ledger verify`, and tests, and cannot be bypassed by a storage bug.
//!
//! * [`Head::append`] turns an [`EntryDraft`] into a chained [`Entry`].
//! * [`Checkpoint::sign`] commits to the head so that later rewrites or truncation
//!   can be proven, especially when a copy is kept off the box.
//! * [`verify`] / [`verify_against`] replay a stored log and name the first entry
//!   that is wrong.

#![warn(missing_docs)]

mod checkpoint;
mod entry;
mod hash;
mod verify;

pub use checkpoint::{Checkpoint, CheckpointParseError, LedgerError};
pub use entry::{Entry, EntryDraft, Head};
pub use hash::{Hash, HashParseError};
pub use verify::{verify, verify_against, verify_with_progress, VerifyError, VerifyReport};
