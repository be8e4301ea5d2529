//! The set of template and data files notices are made from: the shipped
//! defaults plus the data directory's overrides. Its digest identifies a
//! notice version's wording, so an approved version cannot change under the
//! approver's feet.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::builtin::FILES;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateSet {
    files: BTreeMap<String, String>,
}

impl TemplateSet {
    pub fn builtin() -> TemplateSet {
        TemplateSet {
            files: FILES
                .iter()
                .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
                .collect(),
        }
    }

    /// A set from stored files (a notice version's snapshot).
    pub fn from_files(files: BTreeMap<String, String>) -> TemplateSet {
        TemplateSet { files }
    }

    /// Replaces or adds files (paths relative to `templates/notices/`).
    pub fn with_overrides<I: IntoIterator<Item = (String, String)>>(mut self, files: I) -> Self {
        for (p, t) in files {
            self.files.insert(p.replace('\\', "/"), t);
        }
        self
    }

    pub fn files(&self) -> &BTreeMap<String, String> {
        &self.files
    }

    pub fn get(&self, path: &str) -> Option<&str> {
        self.files.get(path).map(String::as_str)
    }

    /// SHA-256 over every path and text, in order.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        for (p, t) in &self.files {
            h.update((p.len() as u64).to_le_bytes());
            h.update(p.as_bytes());
            h.update((t.len() as u64).to_le_bytes());
            h.update(t.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_list_matches_the_directory() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../templates/notices");
        let mut on_disk = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(dir)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p
                        .strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/");
                    if rel != "README.md" {
                        on_disk.push(rel);
                    }
                }
            }
        }
        on_disk.sort();
        let listed: Vec<String> = FILES.iter().map(|(p, _)| (*p).to_owned()).collect();
        assert_eq!(listed, on_disk, "update crates/notice/src/builtin.rs");
    }

    #[test]
    fn an_override_changes_the_digest() {
        let a = TemplateSet::builtin();
        let b = a
            .clone()
            .with_overrides([("en/subject.txt.j2".to_owned(), "Hello".to_owned())]);
        assert_ne!(a.digest(), b.digest());
        assert_eq!(a.digest(), TemplateSet::builtin().digest());
    }
}
