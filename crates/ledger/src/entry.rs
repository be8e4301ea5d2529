//! Entries, the drafts they are made from, and the chain head that links them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::hash::Hash;

/// Separates ledger entry hashes from every other SHA-256 use, and versions the
/// encoding so a future format cannot be confused with this one.
const ENTRY_DOMAIN: &[u8] = b"bulwark-ledger-v1\0";

/// What a caller wants recorded; [`Head::append`] adds the position and links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryDraft {
    /// When the change happened, Unix milliseconds (the caller owns the clock).
    pub at_ms: i64,
    /// Who made the change, e.g. `key:3f9a1c2b7d4e` or `cli:root`.
    pub actor: String,
    /// What kind of change, e.g. `vault.reveal`.
    pub action: String,
    /// What it was done to, e.g. a customer UUID; an identifier, never PII.
    pub subject: String,
    /// JSON text with the specifics. Never PII: the ledger is kept forever and
    /// cannot be edited, so anything put here cannot be erased later.
    pub details: String,
}

/// One link of the chain as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Position in the ledger, starting at 1 with no gaps, so deletions show.
    pub seq: u64,
    /// See [`EntryDraft::at_ms`].
    pub at_ms: i64,
    /// See [`EntryDraft::actor`].
    pub actor: String,
    /// See [`EntryDraft::action`].
    pub action: String,
    /// See [`EntryDraft::subject`].
    pub subject: String,
    /// See [`EntryDraft::details`].
    pub details: String,
    /// Hash of entry `seq - 1` ([`Hash::ZERO`] for entry 1). Stored rather than
    /// implied so each entry's hash can be checked on its own, in parallel.
    pub prev_hash: Hash,
    /// Commits to every field above, including `prev_hash`, hence to all history.
    pub hash: Hash,
}

impl Entry {
    /// Recomputes what `hash` must be for this entry's contents.
    ///
    /// Encoding: domain tag, `seq` (u64 BE), `at_ms` (i64 BE), then actor, action,
    /// subject and details each as u32 BE length + bytes, then `prev_hash`. The
    /// length prefixes stop bytes moving between fields without changing the hash.
    /// Fields longer than 4 GiB are out of scope (SQLite caps values at 1 GB).
    pub fn compute_hash(&self) -> Hash {
        let mut h = Sha256::new();
        h.update(ENTRY_DOMAIN);
        h.update(self.seq.to_be_bytes());
        h.update(self.at_ms.to_be_bytes());
        for field in [&self.actor, &self.action, &self.subject, &self.details] {
            let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
            h.update(len.to_be_bytes());
            h.update(field.as_bytes());
        }
        h.update(self.prev_hash.0);
        Hash(h.finalize().into())
    }

    /// Whether the stored hash matches the contents (ignores linkage).
    pub fn hash_is_valid(&self) -> bool {
        self.compute_hash() == self.hash
    }
}

/// The end of the chain: how many entries there are and the last one's hash.
/// This is all the writer needs to keep in memory to append, and what a
/// [`crate::Checkpoint`] signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// Seq of the last entry; 0 for the empty ledger.
    pub seq: u64,
    /// Hash of the last entry; [`Hash::ZERO`] for the empty ledger.
    pub hash: Hash,
}

impl Head {
    /// The head of the empty ledger.
    pub fn genesis() -> Head {
        Head {
            seq: 0,
            hash: Hash::ZERO,
        }
    }

    /// The head after `entry`, e.g. to resume appending from the last stored row.
    pub fn of(entry: &Entry) -> Head {
        Head {
            seq: entry.seq,
            hash: entry.hash,
        }
    }

    /// Chains `draft` onto this head and advances the head past it. The caller
    /// must store the returned entry before appending again.
    ///
    /// # Panics
    /// If the ledger already holds `u64::MAX` entries.
    pub fn append(&mut self, draft: EntryDraft) -> Entry {
        let EntryDraft {
            at_ms,
            actor,
            action,
            subject,
            details,
        } = draft;
        let mut entry = Entry {
            seq: self.seq + 1,
            at_ms,
            actor,
            action,
            subject,
            details,
            prev_hash: self.hash,
            hash: Hash::ZERO,
        };
        entry.hash = entry.compute_hash();
        *self = Head::of(&entry);
        entry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(actor: &str, action: &str) -> EntryDraft {
        EntryDraft {
            at_ms: 1_700_000_000_000,
            actor: actor.into(),
            action: action.into(),
            subject: "s".into(),
            details: "{}".into(),
        }
    }

    #[test]
    fn append_links_entries_from_genesis() {
        let mut head = Head::genesis();
        let a = head.append(draft("key:1", "apikey.create"));
        let b = head.append(draft("key:1", "customer.write"));
        assert_eq!((a.seq, a.prev_hash), (1, Hash::ZERO));
        assert_eq!((b.seq, b.prev_hash), (2, a.hash));
        assert_eq!(head, Head::of(&b));
        assert!(a.hash_is_valid() && b.hash_is_valid());
        assert_ne!(a.hash, b.hash);
    }

    #[test]
    fn moving_bytes_between_fields_changes_the_hash() {
        // Without length prefixes "ab"+"c" and "a"+"bc" would hash the same.
        let a = Head::genesis().append(draft("ab", "c"));
        let b = Head::genesis().append(draft("a", "bc"));
        assert_ne!(a.hash, b.hash);
    }

    #[test]
    fn hash_is_pinned() {
        // Guards the on-disk format: changing the encoding breaks every stored ledger.
        let e = Head::genesis().append(draft("key:1", "apikey.create"));
        let mut h = Sha256::new();
        h.update(b"bulwark-ledger-v1\0");
        h.update(1u64.to_be_bytes());
        h.update(1_700_000_000_000i64.to_be_bytes());
        for f in ["key:1", "apikey.create", "s", "{}"] {
            h.update((f.len() as u32).to_be_bytes());
            h.update(f.as_bytes());
        }
        h.update([0u8; 32]);
        assert_eq!(e.hash, Hash(h.finalize().into()));
    }
}
