//! The console's templates and static files, compiled into the binary.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::Environment;
use serde::Serialize;

const TEMPLATES: &[(&str, &str)] = &[
    (
        "base.html",
        include_str!("../../../../templates/console/base.html"),
    ),
    (
        "login.html",
        include_str!("../../../../templates/console/login.html"),
    ),
    (
        "second_factor.html",
        include_str!("../../../../templates/console/second_factor.html"),
    ),
    (
        "enrol.html",
        include_str!("../../../../templates/console/enrol.html"),
    ),
    (
        "enrolled.html",
        include_str!("../../../../templates/console/enrolled.html"),
    ),
    (
        "step_up.html",
        include_str!("../../../../templates/console/step_up.html"),
    ),
    (
        "message.html",
        include_str!("../../../../templates/console/message.html"),
    ),
    (
        "sessions.html",
        include_str!("../../../../templates/console/sessions.html"),
    ),
    (
        "home.html",
        include_str!("../../../../templates/console/home.html"),
    ),
    (
        "operators.html",
        include_str!("../../../../templates/console/operators.html"),
    ),
    (
        "incidents.html",
        include_str!("../../../../templates/console/incidents.html"),
    ),
    (
        "drills.html",
        include_str!("../../../../templates/console/drills.html"),
    ),
    (
        "drill.html",
        include_str!("../../../../templates/console/drill.html"),
    ),
    (
        "drill_report.html",
        include_str!("../../../../templates/console/drill_report.html"),
    ),
    (
        "incident.html",
        include_str!("../../../../templates/console/incident.html"),
    ),
    (
        "incident_head.html",
        include_str!("../../../../templates/console/incident_head.html"),
    ),
    (
        "deadlines.html",
        include_str!("../../../../templates/console/deadlines.html"),
    ),
    (
        "scope.html",
        include_str!("../../../../templates/console/scope.html"),
    ),
    (
        "letters.html",
        include_str!("../../../../templates/console/letters.html"),
    ),
    (
        "lookup.html",
        include_str!("../../../../templates/console/lookup.html"),
    ),
    (
        "alerts.html",
        include_str!("../../../../templates/console/alerts.html"),
    ),
    (
        "audit.html",
        include_str!("../../../../templates/console/audit.html"),
    ),
    (
        "compliance.html",
        include_str!("../../../../templates/console/compliance.html"),
    ),
    (
        "pagewatch.html",
        include_str!("../../../../templates/console/pagewatch.html"),
    ),
    (
        "pagewatch_page.html",
        include_str!("../../../../templates/console/pagewatch_page.html"),
    ),
    (
        "report.html",
        include_str!("../../../../templates/console/report.html"),
    ),
    (
        "password.html",
        include_str!("../../../../templates/console/password.html"),
    ),
];

pub(crate) struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn new() -> Templates {
        let mut env = Environment::new();
        // Everything rendered is HTML-escaped unless a template says `|safe`.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        for (name, text) in TEMPLATES {
            // The templates are ours and tested: one that does not parse is a
            // build mistake, reported when the page is rendered.
            let _ = env.add_template(name, text);
        }
        Templates { env }
    }

    /// A page; a template error is a 500 (logged, nothing of the context shown).
    pub fn page(&self, status: StatusCode, name: &str, ctx: impl Serialize) -> Response {
        let rendered = self.env.get_template(name).and_then(|t| t.render(ctx));
        match rendered {
            Ok(html) => html_response(status, html),
            Err(e) => {
                tracing::error!(template = name, error = %e, "a console page could not be rendered");
                html_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "<!doctype html><html lang=\"en\"><title>Error · Bulwark</title><main><h1>Something went wrong</h1><p>The page could not be shown. Nothing was changed by showing it.</p></main></html>".into(),
                )
            }
        }
    }
}

pub(crate) fn html_response(status: StatusCode, html: String) -> Response {
    let mut res = (status, html).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut res = body.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    res
}

pub(crate) async fn css() -> Response {
    asset(
        include_str!("../../static/console.css"),
        "text/css; charset=utf-8",
    )
}

pub(crate) async fn js() -> Response {
    asset(
        include_str!("../../static/console.js"),
        "text/javascript; charset=utf-8",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        let mut env = Environment::new();
        for (name, text) in TEMPLATES {
            env.add_template(name, text)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
