//! A file's identity: what its first bytes hash to, with the inode as a hint.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// How many leading bytes identify a file.
pub const FINGERPRINT_BYTES: usize = 1024;

/// SHA-256 of a file's first `len` bytes (`len` ≤ [`FINGERPRINT_BYTES`]).
///
/// A position's fingerprint covers the first `min(1 KiB, offset)` bytes: only
/// bytes already read, which are complete lines and never change while the file
/// is the same file. It is therefore stable from the first line on, and grows to
/// the full KiB as the file does. Written `len:hex`. The empty fingerprint
/// (`len` 0, nothing read yet) matches every file.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    len: u16,
    digest: [u8; 32],
}

impl Fingerprint {
    /// The fingerprint of a file that starts with `prefix` (at most the first KiB is used).
    pub fn of(prefix: &[u8]) -> Fingerprint {
        let prefix = &prefix[..prefix.len().min(FINGERPRINT_BYTES)];
        Fingerprint {
            len: prefix.len() as u16,
            digest: Sha256::digest(prefix).into(),
        }
    }

    /// Nothing read yet: matches any file.
    pub fn empty() -> Fingerprint {
        Fingerprint::of(&[])
    }

    /// How many leading bytes it covers.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether a file whose first bytes are `head` (at least [`len`](Self::len)
    /// of them, or the whole file) is this one.
    pub fn matches(&self, head: &[u8]) -> bool {
        head.len() >= self.len() && Fingerprint::of(&head[..self.len()]) == *self
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.len, hex::encode(self.digest))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// A stored fingerprint that does not read as `len:hex`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a file fingerprint (expected LEN:SHA256-HEX)")]
pub struct BadFingerprint;

impl FromStr for Fingerprint {
    type Err = BadFingerprint;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (len, digest) = s.split_once(':').ok_or(BadFingerprint)?;
        let len: u16 = len.parse().map_err(|_| BadFingerprint)?;
        if usize::from(len) > FINGERPRINT_BYTES {
            return Err(BadFingerprint);
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(digest, &mut out).map_err(|_| BadFingerprint)?;
        Ok(Fingerprint { len, digest: out })
    }
}

/// Device and inode: which file an open descriptor or a path is, as long as it
/// exists. Only a hint across restarts (inodes are reused); the fingerprint decides.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

impl FileId {
    #[cfg(unix)]
    pub fn of(meta: &std::fs::Metadata) -> Option<FileId> {
        use std::os::unix::fs::MetadataExt;
        Some(FileId {
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }

    #[cfg(not(unix))]
    pub fn of(_meta: &std::fs::Metadata) -> Option<FileId> {
        None
    }
}

impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.dev, self.ino)
    }
}

impl FromStr for FileId {
    type Err = BadFingerprint;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (dev, ino) = s.split_once(':').ok_or(BadFingerprint)?;
        Ok(FileId {
            dev: dev.parse().map_err(|_| BadFingerprint)?,
            ino: ino.parse().map_err(|_| BadFingerprint)?,
        })
    }
}

/// Links to the file (0 once deleted), where the platform says.
#[cfg(unix)]
pub(crate) fn nlink(meta: &std::fs::Metadata) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    Some(meta.nlink())
}

#[cfg(not(unix))]
pub(crate) fn nlink(_meta: &std::fs::Metadata) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_matches_prefixes() {
        let fp = Fingerprint::of(b"first line\n");
        assert_eq!(fp.len(), 11);
        let back: Fingerprint = fp.to_string().parse().unwrap();
        assert_eq!(back, fp);
        assert!(fp.matches(b"first line\nsecond line\n"));
        assert!(!fp.matches(b"first line"));
        assert!(!fp.matches(b"other line\nsecond\n"));
        assert!(Fingerprint::empty().matches(b""));
        assert!(Fingerprint::empty().matches(b"anything"));
        let big = vec![b'x'; 5000];
        assert_eq!(Fingerprint::of(&big).len(), FINGERPRINT_BYTES);
        assert!("12".parse::<Fingerprint>().is_err());
        assert!("2000:00".parse::<Fingerprint>().is_err());
        let id = FileId { dev: 8, ino: 99 };
        assert_eq!(id.to_string().parse::<FileId>().unwrap(), id);
    }
}
