//! Every log format's line parser, on the same lines: each format the
//! registry knows (`Formats::builtin().list()`, so a new format is fuzzed as
//! soon as it is listed there), plus the format specs in [`EXTRA_SPECS`],
//! both line by line (`parse_line`, `Engine::process_line`) and as a file
//! (a stateful `LineParser`, auto-detection). A first line starting with
//! `format:` names a format spec to compile and use too (`format:nginx:…`),
//! so templates from a store's own config are fuzzed as well.
#![no_main]

use std::sync::{Mutex, OnceLock};

use bulwark_detect::{parse_line, CompileOptions, Engine, Formats, LineParser, LogFormat, RuleSet};
use libfuzzer_sys::fuzz_target;

/// Format specs that are not names in the registry's list: the syslog
/// wrappers and compiled templates. Add a spec here if it takes a parser
/// path the listed names do not.
const EXTRA_SPECS: &[&str] = &[
    "syslog",
    "syslog:combined",
    "clf",
    r#"nginx:$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time"#,
    r#"apache:%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\" %D"#,
];

/// At most this many lines of one input are read (the rest is ignored).
const MAX_LINES: usize = 16;

struct Setup {
    formats: Formats,
    /// Each format with its file parsers, made once and cloned per input
    /// (fresh state each time: a W3C `#Fields:` line affects only its input).
    list: Vec<(LogFormat, LineParser, LineParser)>,
    /// The shipped rule packs, so lines reach the matcher and correlations.
    engine: Mutex<Engine>,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let formats = Formats::builtin();
        let mut list = Vec::new();
        let names = formats.list().into_iter().map(|i| i.name);
        for spec in names.chain(EXTRA_SPECS.iter().map(|s| s.to_string())) {
            match formats.get(&spec) {
                Ok(f) => {
                    let (plain, auto) = (f.parser(), formats.parser_with_fallback(f.clone()));
                    list.push((f, plain, auto));
                }
                Err(e) => panic!("format spec {spec:?} does not resolve: {e}"),
            }
        }
        let rules: Vec<(String, String)> = bulwark_detect::packs::ECOMMERCE
            .iter()
            .chain(bulwark_detect::packs::SIGMAHQ_WEB)
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect();
        let (set, _) = RuleSet::load(&rules, CompileOptions::ecs());
        Setup {
            formats,
            list,
            engine: Mutex::new(set.compile()),
        }
    })
}

/// The lines one at a time (`parse_line`, the engine) and as a file (the
/// format's own parser and the auto-mode one with fallbacks).
fn run(
    engine: &mut Engine,
    format: &LogFormat,
    mut plain: LineParser,
    mut auto: LineParser,
    lines: &[&str],
) {
    for (i, line) in lines.iter().enumerate() {
        let n = i as u64 + 1;
        if let Err(e) = parse_line(format, line, n) {
            assert_eq!(e.line_no, n);
        }
        if *format == LogFormat::JsonLines {
            // The projected decoding; other formats parse as `parse_line` does.
            let _ = engine.parse_line(format, line, n);
        }
        let _ = engine.process_line(format, line, n, None);
        let _ = plain.parse(line, n);
        let _ = auto.parse(line, n);
    }
}

fuzz_target!(|data: &[u8]| {
    let text = bulwark_fuzz::text(data);
    let mut lines: Vec<&str> = text.split('\n').take(MAX_LINES).collect();
    let s = setup();
    let mut engine = s.engine.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(spec) = lines.first().and_then(|l| l.strip_prefix("format:")) {
        if let Ok(f) = s.formats.get(spec) {
            let (plain, auto) = (f.parser(), s.formats.parser_with_fallback(f.clone()));
            run(&mut engine, &f, plain, auto, &lines[1..]);
        }
        lines.remove(0);
    }
    for (f, plain, auto) in &s.list {
        run(&mut engine, f, plain.clone(), auto.clone(), &lines);
    }
    // Auto-detection (what `detect_format` does, without rebuilding the
    // registry each time), on the file and on its first line.
    let _ = s.formats.detect(&lines);
    if let Some(first) = lines.first() {
        let _ = s.formats.detect(&[first]);
        let _ = bulwark_detect::time::parse_rfc3339_ms(first);
        let _ = bulwark_detect::input::parse_clf_time(first);
    }
});
