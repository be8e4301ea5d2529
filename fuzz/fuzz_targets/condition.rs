//! The `condition` expression language: the parser on its own, the `x of
//! pattern` identifier matcher, and the condition compiled inside a rule
//! (where `1 of sel*` meets the rule's search names).
#![no_main]

use bulwark_detect::condition::{identifier_matches, parse_condition};
use bulwark_detect::{CompileOptions, Event, RuleSet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = bulwark_fuzz::text(data);
    let _ = parse_condition(&text);

    // `pattern\nname`: the matcher `1 of pattern` uses on search names.
    if let Some((pattern, name)) = text.split_once('\n') {
        let _ = identifier_matches(pattern, name);
    }

    // The condition in a rule whose search names the patterns can match.
    let cond = text.replace(['\n', '\r'], " ").replace('\'', "''");
    let rule = format!(
        "title: c\nid: c\nlogsource: {{category: webserver}}\ndetection:\n  \
         sel: {{cs-user-agent|contains: sqlmap}}\n  sel_2: {{c-ip|cidr: 10.0.0.0/8}}\n  \
         selection_x: {{cs-method: POST}}\n  filter: {{cs-uri-query: null}}\n  \
         keywords: [union, select]\n  condition: '{cond}'\n"
    );
    let (set, _) = RuleSet::load(&[("c.yml".into(), rule)], CompileOptions::ecs());
    let mut engine = set.compile();
    let ev = Event::from_json(
        serde_json::json!({"user_agent.original": "sqlmap", "source.ip": "10.1.2.3",
                           "http.request.method": "POST", "url.query": "union select"}),
        None,
    );
    if let Some(ev) = ev {
        let _ = engine.process(&ev);
    }
});
