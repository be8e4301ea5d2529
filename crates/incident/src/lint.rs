//! Playbook lint: every check `PlaybookSet::load` makes, plus warnings that do
//! not stop loading (unknown webhook events, ids that differ from file names,
//! playbooks that no classification selects). Each finding names the file
//! and, where it can, the line and column.

use std::collections::HashMap;

use crate::playbook::compile;

pub use bulwark_model::{Diagnostic, Severity};

/// Lints playbook files given as `(path, text)` pairs, sorted by file and position.
pub fn lint<P: AsRef<str>, T: AsRef<str>>(files: &[(P, T)]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut ids: HashMap<String, String> = HashMap::new();
    for (path, text) in files {
        let (path, text) = (path.as_ref(), text.as_ref());
        let (playbook, mut diags) = compile(path, text);
        if let Some(pb) = playbook {
            if let Some(other) = ids.get(&pb.id) {
                diags.push(Diagnostic::error(
                    path,
                    None,
                    format!("playbook id `{}` is also defined in {other}", pb.id),
                ));
            } else {
                ids.insert(pb.id.clone(), path.to_owned());
            }
        }
        out.extend(diags);
    }
    out.sort_by(|a, b| (&a.path, a.pos).cmp(&(&b.path, b.pos)));
    out
}
