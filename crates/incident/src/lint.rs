//! Playbook lint: every check `PlaybookSet::load` makes, plus warnings that do
//! not stop loading (unknown webhook events, ids that differ from file names,
//! playbooks that no classification selects). Each finding names the file
//! and, where it can, the line and column.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;

use crate::playbook::compile;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warning,
    Error,
}

/// One lint finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    pub severity: Severity,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path)?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, ": {sev}: {}", self.message)
    }
}

/// Lints playbook files given as `(path, text)` pairs, sorted by file and position.
pub fn lint<P: AsRef<str>, T: AsRef<str>>(files: &[(P, T)]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut ids: HashMap<String, String> = HashMap::new();
    for (path, text) in files {
        let (path, text) = (path.as_ref(), text.as_ref());
        let (playbook, mut diags) = compile(path, text);
        if let Some(pb) = playbook {
            if let Some(other) = ids.get(&pb.id) {
                diags.push(Diagnostic {
                    path: path.to_owned(),
                    line: None,
                    column: None,
                    severity: Severity::Error,
                    message: format!("playbook id `{}` is also defined in {other}", pb.id),
                });
            } else {
                ids.insert(pb.id.clone(), path.to_owned());
            }
        }
        out.extend(diags);
    }
    out.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    out
}
