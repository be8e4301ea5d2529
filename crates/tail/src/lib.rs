//! Following log files as they grow, across rotation and truncation, from a
//! checkpoint: the reading half of live tailing (`bulwark tail`, `serve --watch`).
//!
//! A [`Follower`] follows one path and hands out [`Batch`]es of complete lines,
//! each with the [`Position`] after it. The caller processes a batch, stores
//! what it found *and* the position in one transaction, then polls for the next
//! batch: that is what makes a restart continue exactly where it stopped (the
//! lines after the stored position are read again; whatever they produced
//! before a crash was never committed).
//!
//! # What it guarantees
//!
//! - **Bounded memory, back-pressure.** A batch holds at most
//!   [`Options::max_batch_lines`] lines and [`Options::max_batch_bytes`] bytes;
//!   the follower reads no further than the batch it fills (plus one read
//!   chunk) and never ahead of its caller. An unterminated last line is held
//!   until its `\n` arrives, up to [`Options::max_line`] (1 MiB): a longer line
//!   is skipped without being buffered and handed out as [`Line::TooLong`] with
//!   its length, so it still counts (and numbers) as a line.
//! - **Positions at line ends.** A position is always just after a complete
//!   line (or after the unterminated final line of a file that was rotated
//!   away, which will not grow any more). Lines are bytes; the caller decides
//!   what invalid UTF-8 becomes.
//! - **Identity by content.** A file is known by its fingerprint: SHA-256 of its
//!   first `min(1 KiB, bytes read)` bytes (what Filebeat's and Vector's
//!   fingerprinting do), with device and inode as a hint. The fingerprint only
//!   covers bytes already read, so it is stable from the first line on; a file
//!   is the checkpointed one if it starts with those bytes and (uncompressed) is
//!   at least as long as the checkpointed offset.
//! - **Rename rotation** (`access.log` → `access.log.1`, a new `access.log`): the
//!   open descriptor is read to its end (a writer that has not reopened yet
//!   still lands there), and the follower switches once the new file has its
//!   first complete line: from then on the writer writes there. If the file was
//!   rotated more than once meanwhile, the generations in between are read
//!   first, oldest first.
//! - **copytruncate** (same inode, shorter than the offset — or, if it already
//!   grew past it again, different first bytes): the unread rest of the old
//!   content is read from the rotated copy (found by fingerprint, gzip'd or
//!   not), then the file from its start.
//! - **Restart from a checkpoint** ([`Start::At`]): the checkpointed file is
//!   looked for at the path, then among its rotated siblings in the same
//!   directory (`access.log.1`, `access.log.2.gz`, `access.log-20260101`,
//!   `access.log.2026-01-01.gz`, …: see [`siblings`](siblings::siblings) for the
//!   names and their order), decompressing gzip on the fly; its remainder is
//!   read, then the newer siblings, then the current file from its start. If
//!   it is nowhere, the current file is read from its start
//!   ([`Notice::CheckpointNotFound`]).
//! - **Nothing is fatal.** A missing or unreadable followed file is reported
//!   ([`Notice::Missing`], [`Notice::Error`], once until it changes) and retried
//!   at every poll; an unreadable rotated file is reported and skipped.
//!
//! # What it does not do
//!
//! - **No inotify.** The follower polls: [`Follower::poll`] never waits, the
//!   caller sleeps [`DEFAULT_POLL_INTERVAL`] (250 ms) after an idle poll. A
//!   busy file is read back to back without sleeping, so polling only adds
//!   latency to an idle file; it needs no platform code (inotify, kqueue,
//!   ReadDirectoryChangesW) or `unsafe`, works on network and container
//!   filesystems where change notifications are missing or unreliable, and a
//!   notification would still need the same `stat` checks to tell rotation from
//!   truncation from growth.
//! - A writer that keeps writing to the old file *after* the new one has its
//!   first line (several writer processes reopening at different times) loses
//!   those late lines; so do lines written by `copytruncate` between its copy and
//!   its truncation (that race is copytruncate's own).
//! - Identity rests on the first KiB: two generations of a log whose first
//!   KiB is identical byte for byte are told apart only by inode.
#![forbid(unsafe_code)]

mod fingerprint;
mod follower;
pub mod siblings;

pub use fingerprint::{BadFingerprint, FileId, Fingerprint, FINGERPRINT_BYTES};
pub use follower::{
    Batch, Follower, Line, Notice, Options, Poll, Position, Start, TailError, DEFAULT_POLL_INTERVAL,
};
