//! Training modules as data (`training/<id>.md`: TOML front matter between
//! `+++` lines, then the Markdown lesson), their quizzes' grading and when
//! each person's training falls due.
//!
//! Due dates: on hire, an assignment is due `grace_days` after it was
//! assigned; after a pass it is due again one `validity` after the last pass
//! (PCI DSS 12.6.3: upon hire and at least once every 12 months).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, Duration};

use crate::cadence::Cadence;

/// One quiz question; `answer` is the 0-based index of the right choice.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub text: String,
    pub choices: Vec<String>,
    #[serde(skip_serializing)]
    pub answer: usize,
}

/// A training module: its front matter and its lesson.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Module {
    /// Stable id, the file's stem (`phishing`).
    pub id: String,
    pub title: String,
    /// Raised when the content changes; acknowledgements name it.
    pub version: u32,
    /// Team role codes it is for (`security_lead`…), or `all`.
    pub roles: Vec<String>,
    /// The requirement it serves, e.g. "PCI DSS v4.0.1 12.6.3".
    pub requirement: String,
    /// Percent of questions right needed to pass (1–100).
    pub pass_mark: u8,
    /// Attempts allowed per due period (1–20).
    pub max_attempts: u32,
    /// How long a pass stays current (`yearly`, `every 6 months`).
    pub validity: Cadence,
    /// Days after assignment (on hire) before the first pass is due.
    #[serde(default = "default_grace")]
    pub grace_days: u32,
    /// The statement a person acknowledges with the module's version.
    pub acknowledgement: String,
    pub questions: Vec<Question>,
    /// The Markdown lesson after the front matter.
    #[serde(skip)]
    pub body: String,
}

fn default_grace() -> u32 {
    30
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrainingError {
    #[error("{path}: a training module starts with a `+++` line, then TOML front matter closed by another `+++` line")]
    NoFrontMatter { path: String },
    /// TOML syntax, an unknown key, a bad cadence; `line` is in the file.
    #[error("{path}:{line}: {message}")]
    Parse {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{path}: module `{id}` is also defined in {other}")]
    Duplicate {
        path: String,
        id: String,
        other: String,
    },
    #[error("{path}: module `{id}`: {problem}")]
    Invalid {
        path: String,
        id: String,
        problem: &'static str,
    },
}

/// The outcome of one quiz attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Grade {
    pub correct: usize,
    pub total: usize,
    /// Percent right, rounded down.
    pub score: u8,
    pub passed: bool,
}

/// Where one person's module stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainingState {
    /// Passed, and not due within [`crate::duties::DUE_SOON_DAYS`].
    Current,
    DueSoon,
    Overdue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TrainingStatus {
    #[serde(serialize_with = "iso_date")]
    pub due: Date,
    pub state: TrainingState,
    pub days_overdue: i64,
}

fn iso_date<S: serde::Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(d)
}

impl Module {
    /// Whether the module is for someone holding `role` (a role code).
    pub fn is_for(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == "all" || r == role)
    }

    /// Grades `answers` (0-based choice indexes, one per question in order).
    /// Missing answers and out-of-range choices count as wrong; extra
    /// answers are ignored. Never panics.
    pub fn grade(&self, answers: &[usize]) -> Grade {
        let total = self.questions.len();
        let correct = self
            .questions
            .iter()
            .zip(answers)
            .filter(|(q, a)| q.answer == **a)
            .count();
        let score = (correct * 100)
            .checked_div(total)
            .and_then(|s| u8::try_from(s).ok())
            .unwrap_or(0);
        Grade {
            correct,
            total,
            score,
            passed: total > 0 && score >= self.pass_mark,
        }
    }

    /// When this module is due for a person assigned on `assigned_on`
    /// whose last pass (if any) was `last_passed`, and where that leaves
    /// them on `today`. Dates beyond the calendar count as far away.
    pub fn status(
        &self,
        assigned_on: Date,
        last_passed: Option<Date>,
        today: Date,
    ) -> TrainingStatus {
        let due = match last_passed {
            Some(p) => self.validity.next_after(p).unwrap_or(Date::MAX),
            None => assigned_on
                .checked_add(Duration::days(i64::from(self.grace_days)))
                .unwrap_or(Date::MAX),
        };
        let until = (due - today).whole_days();
        let (state, days_overdue) = if until < 0 {
            (TrainingState::Overdue, -until)
        } else if until <= crate::duties::DUE_SOON_DAYS {
            (TrainingState::DueSoon, 0)
        } else {
            (TrainingState::Current, 0)
        };
        TrainingStatus {
            due,
            state,
            days_overdue,
        }
    }
}

/// Every module, by id.
#[derive(Debug, Clone, Default)]
pub struct TrainingSet {
    modules: BTreeMap<String, (String, Module)>,
}

impl TrainingSet {
    /// Modules from `(path, text)` pairs; an id defined twice is an error.
    pub fn load<P: AsRef<str>, T: AsRef<str>>(
        files: &[(P, T)],
    ) -> Result<TrainingSet, TrainingError> {
        let mut set = TrainingSet::default();
        for (path, text) in files {
            let m = parse_module(path.as_ref(), text.as_ref())?;
            if let Some((other, _)) = set.modules.get(&m.id) {
                return Err(TrainingError::Duplicate {
                    path: path.as_ref().to_owned(),
                    id: m.id,
                    other: other.clone(),
                });
            }
            set.modules
                .insert(m.id.clone(), (path.as_ref().to_owned(), m));
        }
        Ok(set)
    }

    pub fn builtin() -> Result<TrainingSet, TrainingError> {
        TrainingSet::load(crate::builtin::TRAINING)
    }

    /// The shipped modules with a data directory's on top: the same id
    /// replaces the shipped module, new ids are added.
    pub fn with_overrides<P: AsRef<str>, T: AsRef<str>>(
        files: &[(P, T)],
    ) -> Result<TrainingSet, TrainingError> {
        let mut set = TrainingSet::builtin()?;
        set.modules.extend(TrainingSet::load(files)?.modules);
        Ok(set)
    }

    pub fn get(&self, id: &str) -> Option<&Module> {
        self.modules.get(id).map(|(_, m)| m)
    }

    /// Sorted by id.
    pub fn modules(&self) -> impl Iterator<Item = &Module> {
        self.modules.values().map(|(_, m)| m)
    }
}

/// Parses one module file.
pub fn parse_module(path: &str, text: &str) -> Result<Module, TrainingError> {
    let no_front = || TrainingError::NoFrontMatter {
        path: path.to_owned(),
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    if lines.next().map(str::trim_end) != Some("+++") {
        return Err(no_front());
    }
    let start = text.find('\n').map(|i| i + 1).ok_or_else(no_front)?;
    let mut offset = start;
    let mut end = None;
    for line in lines {
        if line.trim_end() == "+++" {
            end = Some((offset, offset + line.len()));
            break;
        }
        offset += line.len();
    }
    let (front_end, body_start) = end.ok_or_else(no_front)?;
    let front = &text[start..front_end];
    let mut m: Module = toml::from_str(front).map_err(|e| {
        let at = e.span().map(|s| s.start).unwrap_or(0).min(front.len());
        TrainingError::Parse {
            path: path.to_owned(),
            // The front matter begins on the file's second line.
            line: front[..at].matches('\n').count() + 2,
            message: e.message().trim_end().to_owned(),
        }
    })?;
    m.body = text[body_start..].trim().to_owned();
    let invalid = |problem| TrainingError::Invalid {
        path: path.to_owned(),
        id: m.id.chars().take(64).collect(),
        problem,
    };
    let id_ok = !m.id.is_empty()
        && m.id.len() <= 64
        && m.id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_'));
    if !id_ok {
        return Err(invalid(
            "ids are 1 to 64 lower-case letters, digits, `-` or `_`",
        ));
    }
    let stem = path
        .rsplit(['/', '\\'])
        .next()
        .and_then(|f| f.strip_suffix(".md"));
    if stem.is_some_and(|s| s != m.id) {
        return Err(invalid("the id must be the file's name without `.md`"));
    }
    if m.title.trim().is_empty()
        || m.requirement.trim().is_empty()
        || m.acknowledgement.trim().is_empty()
    {
        return Err(invalid(
            "title, requirement and acknowledgement must not be empty",
        ));
    }
    if m.version == 0 {
        return Err(invalid("versions start at 1"));
    }
    if m.roles.is_empty() || m.roles.iter().any(|r| r.trim().is_empty()) {
        return Err(invalid("list the roles it is for, or `all`"));
    }
    if m.pass_mark == 0 || m.pass_mark > 100 {
        return Err(invalid("pass_mark is a percentage from 1 to 100"));
    }
    if m.max_attempts == 0 || m.max_attempts > 20 {
        return Err(invalid("max_attempts is from 1 to 20"));
    }
    if m.grace_days > 366 {
        return Err(invalid("grace_days is at most 366"));
    }
    if m.questions.is_empty() || m.questions.len() > 50 {
        return Err(invalid("a quiz has 1 to 50 questions"));
    }
    for q in &m.questions {
        if q.text.trim().is_empty() || q.choices.len() < 2 || q.choices.len() > 9 {
            return Err(invalid(
                "every question has text and 2 to 9 choices (answered 1–9)",
            ));
        }
        if q.answer >= q.choices.len() {
            return Err(invalid(
                "a question's `answer` is the 0-based index of one of its choices",
            ));
        }
    }
    Ok(m)
}

/// What happened to one person in a phishing simulation. Only this outcome is
/// kept — never what they typed into the simulated page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhishingEvent {
    EmailSent,
    EmailOpened,
    ClickedLink,
    SubmittedData,
    Reported,
}

impl PhishingEvent {
    /// GoPhish's event `message` (`"Clicked Link"`…); `None` for the events
    /// that are not about a recipient (`"Campaign Created"`, errors).
    pub fn from_gophish(message: &str) -> Option<PhishingEvent> {
        Some(match message {
            "Email Sent" => PhishingEvent::EmailSent,
            "Email Opened" => PhishingEvent::EmailOpened,
            "Clicked Link" => PhishingEvent::ClickedLink,
            "Submitted Data" => PhishingEvent::SubmittedData,
            "Email Reported" => PhishingEvent::Reported,
            _ => return None,
        })
    }

    pub fn code(self) -> &'static str {
        match self {
            PhishingEvent::EmailSent => "email_sent",
            PhishingEvent::EmailOpened => "email_opened",
            PhishingEvent::ClickedLink => "clicked_link",
            PhishingEvent::SubmittedData => "submitted_data",
            PhishingEvent::Reported => "reported",
        }
    }
}
