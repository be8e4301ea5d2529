//! Findings of the data-file linters (Sigma rules, playbooks, laws): one shape,
//! so the CLI and editors read them the same way.

use std::fmt;

use serde::Serialize;

use crate::pos::Pos;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One finding, located as precisely as the file allows. Serialised with
/// `line` and `column` beside `path` (absent when the finding has no place,
/// e.g. a duplicate id across files).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub path: String,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub pos: Option<Pos>,
    pub severity: Severity,
    pub message: String,
}

impl Diagnostic {
    pub fn new(
        path: impl Into<String>,
        pos: Option<Pos>,
        severity: Severity,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            path: path.into(),
            pos,
            severity,
            message: message.into(),
        }
    }

    pub fn error(path: impl Into<String>, pos: Option<Pos>, message: impl Into<String>) -> Self {
        Diagnostic::new(path, pos, Severity::Error, message)
    }

    pub fn warning(path: impl Into<String>, pos: Option<Pos>, message: impl Into<String>) -> Self {
        Diagnostic::new(path, pos, Severity::Warning, message)
    }
}

/// `path:line:col: error: message`, the form compilers and editors understand.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path)?;
        if let Some(p) = self.pos {
            write!(f, ":{p}")?;
        }
        write!(f, ": {}: {}", self.severity.as_str(), self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_and_serialises_like_a_compiler() {
        let d = Diagnostic::error("laws/EU.toml", Some(Pos::new(3, 12)), "bad");
        assert_eq!(d.to_string(), "laws/EU.toml:3:12: error: bad");
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            serde_json::json!({"path": "laws/EU.toml", "line": 3, "column": 12, "severity": "error", "message": "bad"})
        );
        let d = Diagnostic::warning("a.yaml", None, "dup");
        assert_eq!(d.to_string(), "a.yaml: warning: dup");
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            serde_json::json!({"path": "a.yaml", "severity": "warning", "message": "dup"})
        );
    }
}
