//! `bulwark hunt` (offline hunting over log files) and `bulwark rules lint`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use bulwark_detect::{CompileOptions, LintReport, Logsource, RuleSet};
use clap::{Args, Subcommand};

use bulwark_store::{builtin_rules, rule_dir, RulePacks};

/// The rules to run: a directory, or the built-in e-commerce pack (plus SigmaHQ's web rules on request).
pub(crate) fn rule_sources(
    dir: Option<&Path>,
    with_web: bool,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut files = match dir {
        Some(d) => rule_dir(d)?.files,
        None => Vec::new(),
    };
    files.extend(builtin_rules(RulePacks {
        ecommerce: dir.is_none(),
        sigmahq_web: with_web,
    }));
    Ok(files)
}

#[derive(Args)]
#[command(after_long_help = HUNT_EXIT)]
pub struct HuntArgs {
    /// Log files, in any format `bulwark formats` lists (auto-detected per file); .gz is read too.
    #[arg(required_unless_present = "vault_access_log")]
    files: Vec<PathBuf>,
    /// Also hunt through the vault's own access log in --data-dir (mass reveals, odd purposes…).
    #[arg(long)]
    vault_access_log: bool,
    #[command(flatten)]
    dir: crate::DataDirArg,
    /// A Sigma rule directory (default: the built-in e-commerce pack).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Also run SigmaHQ's web rules (the optional set shipped in rules/sigmahq-web).
    #[arg(long)]
    with_sigmahq_web: bool,
    /// Input format: `auto` (per file), a name from `bulwark formats`, or the
    /// server's own format line as `nginx:'<log_format>'` / `apache:'<LogFormat>'`.
    #[arg(long, default_value = "auto")]
    format: String,
    /// What the events are, as product/category/service (empty parts allowed), when the file does not say.
    #[arg(long)]
    logsource: Option<String>,
    /// Lines longer than this many bytes are reported as malformed (and never held in memory whole).
    #[arg(long, default_value_t = bulwark_detect::DEFAULT_MAX_LINE)]
    max_line: usize,
    /// One detection per line as JSON; the summary goes to stderr.
    #[arg(long)]
    json: bool,
    /// Only read and parse the files (every field), run no rules: checks a file and
    /// shows the parsing ceiling.
    #[arg(long)]
    parse_only: bool,
}

const HUNT_EXIT: &str = "Exit status (bits, so a pipeline can test each):
  0   nothing found, and every file was read
  1   detections
  2   the run failed (bad arguments, unreadable rules): nothing to trust
  4   some input could not be read: a file missing, unreadable or in no format Bulwark can tell (skipped; the rest was hunted)
  8   some input was read but cannot be trusted as clean: more than half of a file's lines were malformed, or no event of a file carries a field any loaded rule reads (wrong format or mapping?)
Bits add up: 5 = detections and a skipped file, 9 = detections and a suspicious file.";

/// Exit bits of `bulwark hunt`; see [`HUNT_EXIT`].
const FOUND: u8 = 1;
const UNREADABLE: u8 = 4;
const SUSPICIOUS: u8 = 8;

fn open(path: &Path) -> anyhow::Result<Box<dyn BufRead>> {
    let f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let r: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::MultiGzDecoder::new(f))
    } else {
        Box::new(f)
    };
    Ok(Box::new(BufReader::with_capacity(1 << 20, r)))
}

/// Reads one line into `buf`, keeping at most `max + 1` bytes of it (the rest
/// is skipped, not buffered). Returns the line's full length, or `None` at EOF.
pub fn read_line_bounded(
    r: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<usize>> {
    buf.clear();
    let mut total = 0usize;
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            return Ok((total > 0).then_some(total));
        }
        let (take, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let room = (max + 1).saturating_sub(buf.len());
        buf.extend_from_slice(&chunk[..take.min(room)]);
        total += take;
        r.consume(take);
        if done {
            return Ok(Some(total));
        }
    }
}

/// The data directory's mapping files (`formats/*.yml`), if any, on top of the built-in ones.
pub fn load_formats(data_dir: &Path) -> anyhow::Result<bulwark_detect::Formats> {
    Ok(bulwark_store::DataDir::new(data_dir).formats()?)
}

#[derive(Args)]
pub struct FormatsArgs {
    #[command(flatten)]
    dir: crate::DataDirArg,
    /// Also check a format string: `nginx:'<log_format>'` or `apache:'<LogFormat>'`.
    #[arg(long)]
    check: Option<String>,
    #[arg(long)]
    json: bool,
}

pub fn formats(a: FormatsArgs) -> anyhow::Result<ExitCode> {
    let formats = load_formats(&a.dir.data_dir)?;
    if let Some(spec) = &a.check {
        let f = formats.get(spec).map_err(|e| anyhow::anyhow!("{e}"))?;
        println!("{spec}: compiles ({})", f.name());
        return Ok(ExitCode::SUCCESS);
    }
    for f in formats.list() {
        if a.json {
            println!("{}", serde_json::to_string(&f)?);
        } else {
            println!("{:<18} {:<13} {}", f.name, f.kind, f.source);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Where a detection was found: JSON members appended to `--json` output
/// (`"file":…,"line":…`) and the text form (`file:line`).
pub(crate) struct Place<'a> {
    /// Already-serialised JSON string of the file name (computed once per file).
    pub file_json: Option<&'a str>,
    pub line: Option<u64>,
    pub access_log_id: Option<i64>,
    pub shown: &'a dyn Fn() -> String,
}

/// Prints one detection to a buffered stdout; `json` reuses `scratch` so the common
/// case allocates nothing beyond the detection itself.
pub(crate) fn print_detection(
    out: &mut impl Write,
    scratch: &mut Vec<u8>,
    d: &bulwark_detect::Detection,
    json: bool,
    place: &Place<'_>,
) -> anyhow::Result<()> {
    if json {
        scratch.clear();
        serde_json::to_writer(&mut *scratch, d)?;
        // `d` serialises as an object: re-open it to add where it was found.
        if scratch.last() == Some(&b'}') {
            scratch.pop();
            if let Some(f) = place.file_json {
                scratch.extend_from_slice(b",\"file\":");
                scratch.extend_from_slice(f.as_bytes());
            }
            if let Some(l) = place.line {
                write!(scratch, ",\"line\":{l}")?;
            }
            if let Some(id) = place.access_log_id {
                write!(scratch, ",\"access_log_id\":{id}")?;
            }
            scratch.push(b'}');
        }
        scratch.push(b'\n');
        out.write_all(scratch)?;
    } else {
        let fields: Vec<String> = d
            .group_key
            .iter()
            .chain(d.fields.iter())
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        writeln!(
            out,
            "[{}] {}  {}  {}  ({}){}",
            d.level.as_str(),
            d.rule_title,
            d.timestamp.as_deref().unwrap_or("-"),
            fields.join(" "),
            (place.shown)(),
            if d.matched_after_decoding {
                "  matched after decoding"
            } else {
                ""
            }
        )?;
    }
    Ok(())
}

/// Counts per (rule title, level) for the summary; takes the title without copying.
fn count(by_rule: &mut BTreeMap<(String, String), u64>, d: bulwark_detect::Detection) {
    let level = d.level.as_str();
    let key = (d.rule_title, level.to_owned());
    *by_rule.entry(key).or_default() += 1;
}

/// Loads and compiles rules, printing each rejected file and the count (hunt and tail).
pub(crate) fn compile_reporting(sources: &[(String, String)]) -> bulwark_detect::Engine {
    let (set, reports) = RuleSet::load(sources, CompileOptions::ecs());
    let rejected: Vec<&LintReport> = reports.iter().filter(|r| !r.is_loaded()).collect();
    for r in &rejected {
        eprintln!("{r} (rule not loaded)");
    }
    let engine = set.compile();
    eprintln!(
        "{} rules loaded ({} rejected)",
        engine.rule_count(),
        rejected.len()
    );
    engine
}

/// See [`HUNT_EXIT`] for the exit status.
pub fn hunt(a: HuntArgs) -> anyhow::Result<ExitCode> {
    let sources = rule_sources(a.rules.as_deref(), a.with_sigmahq_web)?;
    let formats = load_formats(&a.dir.data_dir)?;
    let forced = match a.format.as_str() {
        "auto" => None,
        f => Some(
            formats
                .get(f)
                .map_err(|e| anyhow::anyhow!("--format: {e}"))?,
        ),
    };
    let mut engine = compile_reporting(&sources);
    let logsource = a.logsource.as_deref().map(Logsource::parse_triple);
    let progress = std::io::stderr().is_terminal();
    let parse_only = a.parse_only;
    let started = std::time::Instant::now();
    let mut by_rule: BTreeMap<(String, String), u64> = BTreeMap::new();
    let (mut lines_total, mut found, mut malformed_total) = (0u64, 0u64, 0u64);
    let mut status = 0u8;
    let mut skipped: Vec<String> = Vec::new();
    let mut suspicious: Vec<String> = Vec::new();
    // Detections can number one per line: buffer them (stdout is line-buffered).
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut scratch = Vec::with_capacity(1024);
    for path in &a.files {
        let shown_path = path.display().to_string();
        let file_json = serde_json::to_string(&shown_path)?;
        let mut reader = match open(path) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{shown_path}: skipped: {e:#}");
                skipped.push(format!("{shown_path} (cannot be opened)"));
                status |= UNREADABLE;
                continue;
            }
        };
        let mut buf = Vec::new();
        let mut head: Vec<(String, usize)> = Vec::new();
        // Auto-detection looks at the first lines; they are kept and processed afterwards.
        let mut read_error = None;
        let mut parser = match &forced {
            Some(f) => {
                let mut p = f.parser();
                p.max_line = a.max_line;
                p
            }
            None => {
                while head.len() < 50 {
                    match read_line_bounded(&mut *reader, &mut buf, a.max_line) {
                        Ok(Some(len)) => head.push((
                            String::from_utf8_lossy(&buf)
                                .trim_end_matches(['\n', '\r'])
                                .to_owned(),
                            len,
                        )),
                        Ok(None) => break,
                        Err(e) => {
                            read_error = Some(e);
                            break;
                        }
                    }
                }
                let sample: Vec<&str> = head
                    .iter()
                    .filter(|(_, len)| *len <= a.max_line)
                    .map(|(l, _)| l.as_str())
                    .collect();
                match formats.detect(&sample) {
                    Some(d) => {
                        eprintln!(
                            "{shown_path}: format {} ({} of {} sample lines read)",
                            d.format.name(),
                            d.matched,
                            d.sampled
                        );
                        let mut p = formats.parser_with_fallback(d.format);
                        p.max_line = a.max_line;
                        p
                    }
                    None if head.is_empty() && read_error.is_none() => {
                        eprintln!("{shown_path}: empty");
                        continue;
                    }
                    None => {
                        eprintln!(
                            "{shown_path}: skipped: no known format reads its first lines; pass --format (see `bulwark formats`)"
                        );
                        skipped.push(format!("{shown_path} (format unknown)"));
                        status |= UNREADABLE;
                        continue;
                    }
                }
            }
        };
        let relevant_before = engine.stats().events_with_rule_fields;
        let (mut line_no, mut events, mut malformed) = (0u64, 0u64, 0u64);
        let mut malformed_shown = 0;
        let mut handle = |line: &str, len: usize, line_no: u64| -> anyhow::Result<()> {
            let result = if len > a.max_line {
                Err(bulwark_detect::MalformedLine {
                    line_no,
                    reason: format!(
                        "the line is {len} bytes, longer than the maximum of {} (--max-line)",
                        a.max_line
                    ),
                })
            } else if parse_only {
                parser.parse(line, line_no).map(|e| {
                    e.map(|ev| {
                        std::hint::black_box(ev);
                        Vec::new()
                    })
                })
            } else {
                engine.process_with(&mut parser, line, line_no, logsource.as_ref())
            };
            match result {
                Err(m) => {
                    malformed += 1;
                    if malformed_shown < 20 {
                        eprintln!("{shown_path}:{}: malformed line: {}", m.line_no, m.reason);
                        malformed_shown += 1;
                    }
                }
                Ok(None) => {}
                Ok(Some(detections)) => {
                    events += 1;
                    for d in detections {
                        found += 1;
                        let shown = || format!("{shown_path}:{line_no}");
                        let place = Place {
                            file_json: Some(&file_json),
                            line: Some(line_no),
                            access_log_id: None,
                            shown: &shown,
                        };
                        print_detection(&mut out, &mut scratch, &d, a.json, &place)?;
                        count(&mut by_rule, d);
                    }
                }
            }
            Ok(())
        };
        for (line, len) in std::mem::take(&mut head) {
            line_no += 1;
            handle(&line, len, line_no)?;
        }
        if read_error.is_none() {
            loop {
                let len = match read_line_bounded(&mut *reader, &mut buf, a.max_line) {
                    Ok(Some(len)) => len,
                    Ok(None) => break,
                    Err(e) => {
                        read_error = Some(e);
                        break;
                    }
                };
                line_no += 1;
                // Valid UTF-8 is the rule: check it fast, and only fall back to the lossy copy.
                let line = match std::str::from_utf8(&buf) {
                    Ok(s) => std::borrow::Cow::Borrowed(s),
                    Err(_) => String::from_utf8_lossy(&buf),
                };
                handle(line.trim_end_matches(['\n', '\r']), len, line_no)?;
                if progress && line_no.is_multiple_of(200_000) {
                    eprint!("\r{shown_path}: {line_no} lines");
                }
            }
        }
        if progress {
            eprint!("\r");
        }
        if malformed_shown == 20 {
            eprintln!("{shown_path}: more malformed lines not shown");
        }
        if let Some(e) = read_error {
            eprintln!(
                "{shown_path}: reading stopped after line {line_no}: {e} (truncated or corrupt?)"
            );
            skipped.push(format!("{shown_path} (unreadable after line {line_no})"));
            status |= UNREADABLE;
        }
        for (f, n) in &parser.by_fallback {
            eprintln!("{shown_path}: {n} line(s) read as {f}");
        }
        if malformed > events {
            eprintln!(
                "WARNING {shown_path}: {malformed} of {} lines are malformed — wrong --format? This file was mostly not checked.",
                malformed + events
            );
            suspicious.push(format!("{shown_path} (mostly malformed)"));
            status |= SUSPICIOUS;
        } else if !parse_only
            && events > 0
            && engine.stats().events_with_rule_fields == relevant_before
        {
            eprintln!(
                "WARNING {shown_path}: none of its {events} events carries a field any loaded rule reads (format {}): no rule could fire on it. Wrong format, or JSON keys that need a mapping file (see `bulwark formats`)?",
                parser.format().name()
            );
            suspicious.push(format!("{shown_path} (no field a rule reads)"));
            status |= SUSPICIOUS;
        }
        lines_total += line_no;
        malformed_total += malformed;
    }
    if a.vault_access_log {
        let store = bulwark_store::Store::open(&a.dir.data_dir, None)?;
        let mut filter = bulwark_store::AccessFilter {
            limit: 10_000,
            ..Default::default()
        };
        let mut records = 0u64;
        loop {
            let page = store.access_log(&filter)?;
            for r in &page {
                records += 1;
                let Some(ev) = bulwark_server::detection::access_record_event(r) else {
                    continue;
                };
                for d in engine.process(&ev) {
                    found += 1;
                    let shown = || format!("access log #{}", r.id);
                    let place = Place {
                        file_json: None,
                        line: None,
                        access_log_id: Some(r.id),
                        shown: &shown,
                    };
                    print_detection(&mut out, &mut scratch, &d, a.json, &place)?;
                    count(&mut by_rule, d);
                }
            }
            match page.last() {
                Some(last) if page.len() == filter.limit => filter.after_id = Some(last.id),
                _ => break,
            }
        }
        eprintln!("{records} access-log records analysed");
    }
    out.flush()?;
    drop(out);
    // The process ends next: freeing the rules and the correlation windows (one
    // allocation per group, often hundreds of thousands) would only cost time.
    std::mem::forget(engine);
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "\n{lines_total} lines, {malformed_total} malformed, {found} detections in {secs:.2} s ({:.0} lines/s)",
        lines_total as f64 / secs.max(1e-9)
    );
    for ((title, level), n) in &by_rule {
        eprintln!("  {n:>8}  [{level}] {title}");
    }
    for s in &skipped {
        eprintln!("NOT READ: {s}");
    }
    for s in &suspicious {
        eprintln!("NOT TRUSTWORTHY: {s}");
    }
    if found > 0 {
        status |= FOUND;
    }
    Ok(ExitCode::from(status))
}

#[derive(Subcommand)]
pub enum RulesCmd {
    /// Load a rule directory and report each rule as loaded or rejected, with the reason.
    Lint {
        /// Default: the built-in e-commerce pack.
        dir: Option<PathBuf>,
        /// Lint the built-in SigmaHQ web set too.
        #[arg(long)]
        with_sigmahq_web: bool,
        #[arg(long)]
        json: bool,
    },
}

pub fn rules(c: RulesCmd) -> anyhow::Result<ExitCode> {
    let RulesCmd::Lint {
        dir,
        with_sigmahq_web,
        json,
    } = c;
    let sources = rule_sources(dir.as_deref(), with_sigmahq_web)?;
    let reports = bulwark_detect::lint(&sources, CompileOptions::ecs());
    for r in &reports {
        if json {
            println!("{}", serde_json::to_string(r)?);
            continue;
        }
        // A rejection prints as its own diagnostic; warnings follow as theirs.
        if r.is_loaded() {
            println!("{r}");
        }
        for d in r.diagnostics() {
            println!("{d}");
        }
    }
    let bad = reports.iter().filter(|r| !r.is_loaded()).count();
    eprintln!(
        "{} file(s), {} document(s): {} loaded, {} rejected",
        sources.len(),
        reports.len(),
        reports.len() - bad,
        bad
    );
    Ok(if bad > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Args)]
pub struct AlertsArgs {
    #[command(flatten)]
    dir: crate::DataDirArg,
    /// Only this level and above: informational, low, medium, high, critical.
    #[arg(long)]
    level: Option<String>,
    /// Only this rule id.
    #[arg(long)]
    rule: Option<String>,
    /// Seen since (RFC 3339 or a look-back such as 24h).
    #[arg(long)]
    since: Option<String>,
    #[arg(long, default_value_t = 1000)]
    limit: usize,
    #[arg(long)]
    json: bool,
    /// Drill runs' alerts too (left out by default).
    #[arg(long)]
    drills: bool,
}

pub fn alerts(a: AlertsArgs) -> anyhow::Result<ExitCode> {
    let store = bulwark_store::Store::open(&a.dir.data_dir, None)?;
    let items = store.alerts(&bulwark_store::AlertFilter {
        min_level: a.level,
        rule_id: a.rule,
        since_ms: a.since.as_deref().map(crate::parse_when).transpose()?,
        after_id: None,
        limit: a.limit,
        include_drills: a.drills,
    })?;
    for al in &items {
        if a.json {
            println!("{}", serde_json::to_string(al)?);
        } else {
            println!(
                "#{:<5} [{}] {}  x{}  {} .. {}  {}  ({})",
                al.id,
                al.level,
                al.rule_title,
                al.count,
                crate::fmt_ms(al.first_seen_ms),
                crate::fmt_ms(al.last_seen_ms),
                serde_json::to_string(&al.group_key)?,
                al.source
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
