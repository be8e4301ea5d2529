//! The after-action report and improvement plan, in Markdown or HTML
//! (`templates/drills/`, compiled in; HTML escapes every value, since rule
//! titles and notes are text others wrote).

use minijinja::{context, Environment};
use serde::Serialize;

use super::scenario::Scenario;
use super::score::Score;

pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "report.md",
        include_str!("../../../../templates/drills/report.md.j2"),
    ),
    (
        "report.html",
        include_str!("../../../../templates/drills/report.html.j2"),
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Markdown,
    Html,
}

/// What the report says about the run besides its score.
#[derive(Debug, Clone, Serialize)]
pub struct RunFacts {
    pub run: i64,
    pub state: String,
    /// RFC 3339, UTC.
    pub started: String,
    pub finished: Option<String>,
    pub speed: u32,
    pub started_by: String,
    /// Incidents the drill opened (all marked as drill).
    pub incidents: Vec<u64>,
    /// Injects sent so far: (id, scenario offset as written).
    pub injects: Vec<(String, String)>,
    /// The improvement items' due date (YYYY-MM-DD).
    pub improvements_due: String,
}

#[derive(Debug, thiserror::Error)]
#[error("the after-action report template failed: {0}")]
pub struct ReportError(#[from] minijinja::Error);

/// An elapsed time as the report shows it: `1m 15s`, `2h 05m`, `—` when unknown.
pub fn format_elapsed(ms: Option<i64>) -> String {
    match ms {
        None => "—".into(),
        Some(ms) => {
            let s = ms / 1000;
            if s < 3600 {
                format!("{}m {:02}s", s / 60, s % 60)
            } else {
                format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
            }
        }
    }
}

pub fn render_report(
    scenario: &Scenario,
    score: &Score,
    facts: &RunFacts,
    format: ReportFormat,
) -> Result<String, ReportError> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    env.add_filter("dur", format_elapsed);
    for (name, text) in TEMPLATES {
        env.add_template(name, text)?;
    }
    let name = match format {
        ReportFormat::Markdown => "report.md",
        ReportFormat::Html => "report.html",
    };
    let ttd_met = score.ttd_ms.is_some_and(|t| t <= score.ttd_target_ms);
    let ttc_met = score.ttc_ms.is_some_and(|t| t <= score.ttc_target_ms);
    Ok(env.get_template(name)?.render(context! {
        scenario => scenario,
        score => score,
        run => facts,
        ttd_met => ttd_met,
        ttc_met => ttc_met,
    })?)
}
