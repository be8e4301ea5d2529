use thiserror::Error;

/// What went wrong building or using the notice templates. Messages name the
/// file or field at fault and never carry personal data.
#[derive(Debug, Error)]
pub enum NoticeError {
    #[error("{file}: {message}")]
    Data { file: String, message: String },
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    #[error("notice facts: {0}")]
    Facts(String),
    #[error("no template for `{0}` in any language")]
    Missing(String),
    #[error("pdf: {0}")]
    Pdf(String),
    #[error("csv: {0}")]
    Csv(String),
}

impl NoticeError {
    pub(crate) fn template(name: &str, e: &minijinja::Error) -> NoticeError {
        let mut message = e.kind().to_string();
        if let Some(d) = e.detail() {
            message = format!("{message}: {d}");
        }
        if let Some(line) = e.line() {
            message = format!("line {line}: {message}");
        }
        NoticeError::Template {
            name: e.name().unwrap_or(name).to_owned(),
            message,
        }
    }
}
