//! Replaying a stored ledger to prove it is intact, naming the first bad entry.
//!
//! Every entry stores its `prev_hash`, so checking that an entry's hash matches its
//! contents needs no other entry: that (the expensive part) runs on worker threads
//! per chunk, while the main thread reads the next chunk from storage and then does
//! the cheap ordered checks (seq continuity, linkage, checkpoints). Memory stays at
//! two chunks however long the ledger is.

use std::fmt;
use std::thread;

use serde::Serialize;

use crate::checkpoint::{Checkpoint, LedgerError};
use crate::entry::{Entry, Head};
use crate::hash::Hash;

/// Entries per chunk: large enough that spawning hash workers is noise, small
/// enough that two chunks in memory stay in the tens of megabytes.
const CHUNK: usize = 64 * 1024;
/// Threads hashing each chunk. Fixed rather than detected because detecting cores
/// means reading the OS, and this crate does no I/O; Bulwark targets small boxes.
const HASH_THREADS: usize = 2;
/// Below this a chunk is hashed inline; threads would cost more than they save.
const PARALLEL_MIN: usize = 4 * 1024;

/// What a successful verification covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Entries whose hash, order and linkage were checked.
    pub entries_checked: u64,
    /// Seq of the last entry (0 for an empty ledger).
    pub last_seq: u64,
    /// Hash of the last entry; sign it (or compare it with a copy) to extend trust.
    pub head_hash: Hash,
    /// Checkpoints whose signature, key and head all held.
    pub checkpoints_checked: usize,
}

impl VerifyReport {
    /// The verified head, e.g. to sign a new checkpoint from.
    pub fn head(&self) -> Head {
        Head {
            seq: self.last_seq,
            hash: self.head_hash,
        }
    }
}

/// Why a ledger failed verification. Entry problems name the first bad entry in
/// storage order; everything after it is unchecked.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError<E> {
    /// Storage failed; says nothing about tampering. Entries up to `after_seq` were fine.
    #[error("could not read the ledger after entry {after_seq}: {source}")]
    Read {
        /// Last entry read and verified before the failure.
        after_seq: u64,
        /// The storage error.
        source: E,
    },
    /// Contents (or the stored hash itself) were changed after writing.
    #[error("entry {seq} was modified: its hash does not match its contents")]
    Modified {
        /// The modified entry.
        seq: u64,
    },
    /// Entries were deleted from the middle: the seq jumps.
    #[error("{}", missing_message(*seq, *next))]
    Missing {
        /// First absent seq.
        seq: u64,
        /// Seq actually stored where `seq` should be.
        next: u64,
    },
    /// Entries are stored in the wrong order (moved, swapped or duplicated).
    #[error("entry {found} is out of order: it is stored where entry {expected} belongs")]
    OutOfOrder {
        /// Seq that belongs at this position.
        expected: u64,
        /// Seq stored there instead.
        found: u64,
    },
    /// Seq and hash are self-consistent but the entry does not chain to its
    /// predecessor: the predecessor was replaced, or this entry was forged.
    #[error("entry {seq} does not follow entry {}: its prev_hash is not that entry's hash, so an entry was replaced or inserted", seq.saturating_sub(1))]
    Unlinked {
        /// The entry whose `prev_hash` is wrong.
        seq: u64,
    },
    /// History up to `seq` was rewritten (and re-hashed) after it was signed.
    #[error("entry {seq} does not match the checkpoint signed for it at {}: the ledger was rewritten after that checkpoint", Millis(*at_ms))]
    CheckpointMismatch {
        /// Seq the checkpoint covers.
        seq: u64,
        /// When the checkpoint was signed.
        at_ms: i64,
    },
    /// Entries were cut off the end after a checkpoint covered them.
    #[error("the ledger ends at entry {last_seq}, but a signed checkpoint covers entries up to {checkpoint_seq}: entries were removed from the end")]
    Truncated {
        /// Highest seq a checkpoint covers.
        checkpoint_seq: u64,
        /// Last entry actually stored.
        last_seq: u64,
    },
    /// A checkpoint itself is forged, altered or from the wrong key.
    #[error(transparent)]
    Checkpoint(#[from] LedgerError),
}

impl<E> VerifyError<E> {
    /// The first entry the problem concerns, for pointing an investigator at it.
    /// `None` for storage and checkpoint-signature problems.
    pub fn seq(&self) -> Option<u64> {
        match self {
            VerifyError::Modified { seq }
            | VerifyError::Missing { seq, .. }
            | VerifyError::Unlinked { seq }
            | VerifyError::CheckpointMismatch { seq, .. } => Some(*seq),
            VerifyError::OutOfOrder { expected, .. } => Some(*expected),
            VerifyError::Truncated { last_seq, .. } => Some(last_seq.saturating_add(1)),
            VerifyError::Read { .. } | VerifyError::Checkpoint(_) => None,
        }
    }

    /// Stable machine-readable name, for `--json` output and exit-code choices.
    pub fn kind(&self) -> &'static str {
        match self {
            VerifyError::Read { .. } => "read_failed",
            VerifyError::Modified { .. } => "modified",
            VerifyError::Missing { .. } => "missing",
            VerifyError::OutOfOrder { .. } => "out_of_order",
            VerifyError::Unlinked { .. } => "unlinked",
            VerifyError::CheckpointMismatch { .. } => "checkpoint_mismatch",
            VerifyError::Truncated { .. } => "truncated",
            VerifyError::Checkpoint(LedgerError::MalformedPublicKey { .. }) => "checkpoint_bad_key",
            VerifyError::Checkpoint(LedgerError::BadSignature { .. }) => "checkpoint_bad_signature",
            VerifyError::Checkpoint(LedgerError::UntrustedKey { .. }) => "checkpoint_untrusted_key",
        }
    }
}

fn missing_message(seq: u64, next: u64) -> String {
    if next.saturating_sub(seq) > 1 {
        format!(
            "entries {seq} to {} are missing: the next entry stored is {next}",
            next - 1
        )
    } else {
        format!("entry {seq} is missing: the next entry stored is {next}")
    }
}

/// Shows a Unix-ms time as RFC 3339 when representable.
struct Millis(i64);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use time::format_description::well_known::Rfc3339;
        let formatted =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
                .ok()
                .and_then(|t| t.format(&Rfc3339).ok());
        match formatted {
            Some(text) => f.write_str(&text),
            None => write!(f, "{} ms", self.0),
        }
    }
}

/// Verifies a whole ledger read from storage in seq order, against `checkpoints`.
///
/// Each checkpoint's signature is checked (and, if `expected_key` is given, that it
/// was signed by that key); then every entry's hash, seq and link; then that no
/// checkpoint covers more entries than exist. Without `expected_key` a checkpoint
/// only proves consistency with whoever signed it, so pass the deployment's key
/// whenever it is known.
pub fn verify<E, I>(
    entries: I,
    checkpoints: &[Checkpoint],
    expected_key: Option<&[u8; 32]>,
) -> Result<VerifyReport, VerifyError<E>>
where
    I: IntoIterator<Item = Result<Entry, E>>,
{
    verify_with_progress(entries, checkpoints, expected_key, |_| {})
}

/// Proves nothing up to an off-box checkpoint was rewritten or cut off since it was
/// made. All checkpoints, stored ones included, must be signed by `external`'s key:
/// a stored checkpoint under another key is itself a sign of tampering.
pub fn verify_against<E, I>(
    entries: I,
    stored_checkpoints: &[Checkpoint],
    external: &Checkpoint,
) -> Result<VerifyReport, VerifyError<E>>
where
    I: IntoIterator<Item = Result<Entry, E>>,
{
    let mut all = Vec::with_capacity(stored_checkpoints.len() + 1);
    all.extend_from_slice(stored_checkpoints);
    all.push(external.clone());
    verify(entries, &all, Some(&external.public_key))
}

/// [`verify`], calling `progress` with the number of entries verified so far
/// after each chunk, so long runs can show progress.
pub fn verify_with_progress<E, I, P>(
    entries: I,
    checkpoints: &[Checkpoint],
    expected_key: Option<&[u8; 32]>,
    mut progress: P,
) -> Result<VerifyReport, VerifyError<E>>
where
    I: IntoIterator<Item = Result<Entry, E>>,
    P: FnMut(u64),
{
    for checkpoint in checkpoints {
        match expected_key {
            Some(key) => checkpoint.verify_signed_by(key)?,
            None => checkpoint.verify_signature()?,
        }
    }
    let mut chain = Chain::new(checkpoints)?;

    let mut iter = entries.into_iter();
    let mut current = read_batch(&mut iter, Vec::with_capacity(CHUNK));
    let mut spare = Vec::with_capacity(CHUNK);
    loop {
        let read_more = matches!(current.end, BatchEnd::More);
        let (first_bad_hash, next) = if read_more || current.entries.len() >= PARALLEL_MIN {
            hash_while_reading(&current.entries, read_more.then_some((&mut iter, spare)))
        } else {
            (first_bad_hash(&current.entries), None)
        };
        if let Err(fault) = chain.check(&current.entries, first_bad_hash) {
            let later = next.as_ref().map_or(&[][..], |b| &b.entries[..]);
            return Err(fault.into_error(&current.entries, later));
        }
        progress(chain.checked);
        match current.end {
            BatchEnd::Failed(source) => {
                return Err(VerifyError::Read {
                    after_seq: chain.head.seq,
                    source,
                })
            }
            BatchEnd::Exhausted => break,
            BatchEnd::More => {}
        }
        let Some(next) = next else { break };
        spare = current.entries;
        current = next;
    }
    chain.finish()
}

/// Why a batch stopped filling.
enum BatchEnd<E> {
    /// Full; more may follow.
    More,
    /// The iterator ended.
    Exhausted,
    /// Storage failed right after the entries in this batch.
    Failed(E),
}

struct Batch<E> {
    entries: Vec<Entry>,
    end: BatchEnd<E>,
}

/// Fills `buffer` (reused to avoid re-faulting a fresh 10 MB allocation per chunk).
fn read_batch<E>(
    iter: &mut impl Iterator<Item = Result<Entry, E>>,
    mut buffer: Vec<Entry>,
) -> Batch<E> {
    buffer.clear();
    while buffer.len() < CHUNK {
        match iter.next() {
            None => {
                return Batch {
                    entries: buffer,
                    end: BatchEnd::Exhausted,
                }
            }
            Some(Ok(entry)) => buffer.push(entry),
            Some(Err(source)) => {
                return Batch {
                    entries: buffer,
                    end: BatchEnd::Failed(source),
                }
            }
        }
    }
    Batch {
        entries: buffer,
        end: BatchEnd::More,
    }
}

/// Index of the first entry whose stored hash does not match its contents.
fn first_bad_hash(entries: &[Entry]) -> Option<usize> {
    entries.iter().position(|e| !e.hash_is_valid())
}

/// Hashes `entries` on worker threads while this thread reads the next batch (the
/// iterator may not be `Send`, and storage reads overlap with hashing this way).
fn hash_while_reading<E, I>(
    entries: &[Entry],
    reader: Option<(&mut I, Vec<Entry>)>,
) -> (Option<usize>, Option<Batch<E>>)
where
    I: Iterator<Item = Result<Entry, E>>,
{
    let part_len = entries.len().div_ceil(HASH_THREADS).max(1);
    thread::scope(|scope| {
        let workers: Vec<_> = entries
            .chunks(part_len)
            .enumerate()
            .map(|(i, part)| {
                scope.spawn(move || first_bad_hash(part).map(|bad| i * part_len + bad))
            })
            .collect();
        let next = reader.map(|(iter, buffer)| read_batch(iter, buffer));
        let mut first_bad = None;
        for worker in workers {
            let found = match worker.join() {
                Ok(found) => found,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            // Parts are in order, so the first part with a bad entry holds the first.
            if first_bad.is_none() {
                first_bad = found;
            }
        }
        (first_bad, next)
    })
}

/// Ordered state carried across chunks.
struct Chain<'c> {
    head: Head,
    checked: u64,
    /// Checkpoints sorted by seq; those before `next_checkpoint` have been matched.
    checkpoints: Vec<&'c Checkpoint>,
    next_checkpoint: usize,
}

/// A problem found in a chunk, before it is classified into a [`VerifyError`].
enum Fault {
    Seq { index: usize, expected: u64 },
    Modified { seq: u64 },
    Unlinked { seq: u64 },
    CheckpointMismatch { seq: u64, at_ms: i64 },
}

impl Fault {
    /// `later` is whatever has already been read past the chunk, used to tell a
    /// moved entry from a deleted one.
    fn into_error<E>(self, chunk: &[Entry], later: &[Entry]) -> VerifyError<E> {
        match self {
            Fault::Modified { seq } => VerifyError::Modified { seq },
            Fault::Unlinked { seq } => VerifyError::Unlinked { seq },
            Fault::CheckpointMismatch { seq, at_ms } => {
                VerifyError::CheckpointMismatch { seq, at_ms }
            }
            Fault::Seq { index, expected } => {
                let found = chunk.get(index).map_or(expected, |e| e.seq);
                let rest = chunk.get(index + 1..).unwrap_or(&[]);
                let stored_later = rest.iter().chain(later).any(|e| e.seq == expected);
                if found > expected && !stored_later {
                    VerifyError::Missing {
                        seq: expected,
                        next: found,
                    }
                } else {
                    VerifyError::OutOfOrder { expected, found }
                }
            }
        }
    }
}

impl<'c> Chain<'c> {
    fn new<E>(checkpoints: &'c [Checkpoint]) -> Result<Self, VerifyError<E>> {
        let mut sorted: Vec<&Checkpoint> = checkpoints.iter().collect();
        sorted.sort_by_key(|c| c.seq);
        let mut chain = Chain {
            head: Head::genesis(),
            checked: 0,
            checkpoints: sorted,
            next_checkpoint: 0,
        };
        // A checkpoint of the empty ledger must carry the genesis hash.
        chain
            .match_checkpoints(chain.head)
            .map_err(|fault| fault.into_error(&[], &[]))?;
        Ok(chain)
    }

    fn match_checkpoints(&mut self, head: Head) -> Result<(), Fault> {
        while let Some(checkpoint) = self.checkpoints.get(self.next_checkpoint) {
            if checkpoint.seq != head.seq {
                break;
            }
            if checkpoint.head_hash != head.hash {
                return Err(Fault::CheckpointMismatch {
                    seq: checkpoint.seq,
                    at_ms: checkpoint.at_ms,
                });
            }
            self.next_checkpoint += 1;
        }
        Ok(())
    }

    /// Ordered checks for one chunk; `first_bad_hash` comes from the parallel pass.
    fn check(&mut self, chunk: &[Entry], first_bad_hash: Option<usize>) -> Result<(), Fault> {
        for (index, entry) in chunk.iter().enumerate() {
            let expected = self.head.seq.saturating_add(1);
            if entry.seq != expected {
                return Err(Fault::Seq { index, expected });
            }
            if first_bad_hash == Some(index) {
                return Err(Fault::Modified { seq: entry.seq });
            }
            if entry.prev_hash != self.head.hash {
                return Err(Fault::Unlinked { seq: entry.seq });
            }
            self.head = Head::of(entry);
            self.checked += 1;
            self.match_checkpoints(self.head)?;
        }
        Ok(())
    }

    fn finish<E>(self) -> Result<VerifyReport, VerifyError<E>> {
        if let Some(beyond) = self.checkpoints.last().filter(|c| c.seq > self.head.seq) {
            return Err(VerifyError::Truncated {
                checkpoint_seq: beyond.seq,
                last_seq: self.head.seq,
            });
        }
        Ok(VerifyReport {
            entries_checked: self.checked,
            last_seq: self.head.seq,
            head_hash: self.head.hash,
            checkpoints_checked: self.checkpoints.len(),
        })
    }
}
