//! Rotated siblings of a followed file: `access.log.1`, `access.log.2.gz`,
//! `access.log-20260101`, `access.log.2026-01-01.gz`… in the same directory.
//!
//! A sibling's name is the file's name, a separator (`.`, `-` or `_`), a stamp
//! that starts with a digit and holds only digits and `-_.:T`, and optionally
//! `.gz`. Anything else (`access.log.bak`, `access.log-errors`) is not one, so a
//! stray file is never read as a lost generation. Order, newest first: numeric
//! indexes (`.N`, N of at most 4 digits) ascending, then stamps (dates, epoch
//! seconds) descending. Where `X` and `X.gz` both exist (gzip at work), the
//! plain file stands for both.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sibling {
    pub path: PathBuf,
    pub gz: bool,
    age: Age,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Age {
    /// `.N`: 1 is the newest.
    Index(u32),
    /// A date or time stamp: the larger, the newer.
    Stamp(String),
}

impl Sibling {
    /// Newest first.
    fn newness(&self, other: &Sibling) -> Ordering {
        match (&self.age, &other.age) {
            (Age::Index(a), Age::Index(b)) => a.cmp(b),
            (Age::Index(_), Age::Stamp(_)) => Ordering::Less,
            (Age::Stamp(_), Age::Index(_)) => Ordering::Greater,
            (Age::Stamp(a), Age::Stamp(b)) => b.cmp(a),
        }
    }
}

/// The age a sibling's name says, or `None` if `name` is not a rotated sibling of `base`.
fn age_of(base: &str, name: &str) -> Option<(Age, bool)> {
    let rest = name.strip_prefix(base)?;
    let (rest, gz) = match rest.strip_suffix(".gz") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let mut chars = rest.chars();
    let sep = chars.next()?;
    if !matches!(sep, '.' | '-' | '_') {
        return None;
    }
    let stamp = chars.as_str();
    if !stamp.starts_with(|c: char| c.is_ascii_digit())
        || !stamp
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '_' | '.' | ':' | 'T'))
    {
        return None;
    }
    if sep == '.' && stamp.len() <= 4 && stamp.chars().all(|c| c.is_ascii_digit()) {
        return Some((Age::Index(stamp.parse().ok()?), gz));
    }
    Some((Age::Stamp(stamp.to_owned()), gz))
}

/// The rotated siblings of `path`, newest first. An unreadable directory has none.
pub fn siblings(path: &Path) -> Vec<Sibling> {
    let (Some(dir), Some(base)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return Vec::new();
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<Sibling> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name();
            let (age, gz) = age_of(base, name.to_str()?)?;
            e.file_type().ok()?.is_file().then(|| Sibling {
                path: e.path(),
                gz,
                age,
            })
        })
        .collect();
    // Newest first; for the same age, the plain file before its `.gz`.
    found.sort_by(|a, b| a.newness(b).then(a.gz.cmp(&b.gz)));
    found.dedup_by(|later, earlier| later.age == earlier.age);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_rotations_and_names_that_are_not() {
        let idx = |n| Some((Age::Index(n), false));
        assert_eq!(age_of("access.log", "access.log.1"), idx(1));
        assert_eq!(
            age_of("access.log", "access.log.12.gz"),
            Some((Age::Index(12), true))
        );
        assert_eq!(
            age_of("access.log", "access.log-20260101"),
            Some((Age::Stamp("20260101".into()), false))
        );
        assert_eq!(
            age_of("access.log", "access.log.2026-01-01.gz"),
            Some((Age::Stamp("2026-01-01".into()), true))
        );
        for not in [
            "access.log",
            "access.log.bak",
            "access.log-errors",
            "access.log.1.lock",
            "access.logs.1",
            "other.log.1",
            "access.log.gz",
        ] {
            assert_eq!(age_of("access.log", not), None, "{not}");
        }
    }

    #[test]
    fn newest_first_and_plain_before_gz() {
        let t = tempfile::tempdir().unwrap();
        for n in [
            "a.log",
            "a.log.2.gz",
            "a.log.1",
            "a.log.1.gz",
            "a.log.10",
            "a.log-20260102",
            "a.log-20260101.gz",
            "a.log.bak",
        ] {
            std::fs::write(t.path().join(n), "x\n").unwrap();
        }
        let names: Vec<String> = siblings(&t.path().join("a.log"))
            .iter()
            .map(|s| s.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "a.log.1",
                "a.log.2.gz",
                "a.log.10",
                "a.log-20260102",
                "a.log-20260101.gz"
            ]
        );
    }
}
