//! A rule file, as a community rule folder could hold it: loaded, linted,
//! compiled, and run on an event. Any panic, hang or heap blow-up is a bug;
//! a rejected rule is the expected outcome for most inputs.
#![no_main]

use std::sync::OnceLock;

use bulwark_detect::{CompileOptions, Event, LogFormat, RuleSet};
use libfuzzer_sys::fuzz_target;

/// A web event with the fields the seed rules read, and a timestamp so that
/// correlations count it.
fn event() -> &'static Event {
    static EVENT: OnceLock<Event> = OnceLock::new();
    EVENT.get_or_init(|| {
        let v = serde_json::json!({
            "@timestamp": "2026-11-20T10:00:00Z",
            "event.category": "web",
            "source.ip": "203.0.113.9",
            "url.original": "/login.php?id=1%27%20union%20select",
            "url.query": "id=1' union select 1,2",
            "http.request.method": "POST",
            "http.response.status_code": 401,
            "user_agent.original": "sqlmap/1.7",
            "user.name": "admin",
            "cs-user-agent": "sqlmap/1.7",
            "n": [1, 2.5, "3", null, true],
            "a": {"b": {"c": "deep"}},
        });
        Event::from_json(v, None).expect("an object")
    })
}

const LINE: &str = r#"{"@timestamp":"2026-11-20T10:00:01Z","source.ip":"203.0.113.9","url.original":"/wp-login.php","user_agent.original":"curl/8","http.response.status_code":404}"#;

fuzz_target!(|data: &[u8]| {
    let text = bulwark_fuzz::text(data);
    let files = [("rules/f.yml".to_string(), text)];
    let (set, reports) = RuleSet::load(&files, CompileOptions::ecs());
    for r in &reports {
        let _ = r.to_string();
        let _ = r.diagnostics();
    }
    let _ = set.rules().count();
    let mut engine = set.compile();
    let _ = engine.rules();
    for _ in 0..3 {
        let _ = engine.process(event());
    }
    let _ = engine.process_line(&LogFormat::JsonLines, LINE, 1, None);
});
