//! `bulwark hunt` (offline hunting over log files) and `bulwark rules lint`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use bulwark_detect::{detect_format_of, CompileOptions, LintReport, LogFormat, Logsource, RuleSet};
use clap::{Args, Subcommand};

use bulwark_store::{builtin_rules, rule_dir, RulePacks};

/// The rules to run: a directory, or the built-in e-commerce pack (plus SigmaHQ's web rules on request).
fn rule_sources(dir: Option<&Path>, with_web: bool) -> anyhow::Result<Vec<(String, String)>> {
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
pub struct HuntArgs {
    /// Log files: JSON lines (ECS), nginx/Apache combined or common format; .gz is read too.
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
    /// Input format.
    #[arg(long, default_value = "auto", value_parser = ["auto", "jsonl", "combined", "common"])]
    format: String,
    /// What the events are, as product/category/service (empty parts allowed), when the file does not say.
    #[arg(long)]
    logsource: Option<String>,
    /// One detection per line as JSON; the summary goes to stderr.
    #[arg(long)]
    json: bool,
    /// Only read and parse the files (every field), run no rules: checks a file and
    /// shows the parsing ceiling.
    #[arg(long)]
    parse_only: bool,
}

fn open(path: &Path) -> anyhow::Result<Box<dyn BufRead>> {
    let f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let r: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::MultiGzDecoder::new(f))
    } else {
        Box::new(f)
    };
    Ok(Box::new(BufReader::with_capacity(1 << 20, r)))
}

/// Where a detection was found: JSON members appended to `--json` output
/// (`"file":…,"line":…`) and the text form (`file:line`).
struct Place<'a> {
    /// Already-serialised JSON string of the file name (computed once per file).
    file_json: Option<&'a str>,
    line: Option<u64>,
    access_log_id: Option<i64>,
    shown: &'a dyn Fn() -> String,
}

/// Prints one detection to a buffered stdout; `json` reuses `scratch` so the common
/// case allocates nothing beyond the detection itself.
fn print_detection(
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
            "[{}] {}  {}  {}  ({})",
            d.level.as_str(),
            d.rule_title,
            d.timestamp.as_deref().unwrap_or("-"),
            fields.join(" "),
            (place.shown)()
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

/// Exit status: 0 nothing found, 1 detections, 2 error (like a linter, so pipelines can gate on it).
pub fn hunt(a: HuntArgs) -> anyhow::Result<ExitCode> {
    let sources = rule_sources(a.rules.as_deref(), a.with_sigmahq_web)?;
    let (set, reports) = RuleSet::load(&sources, CompileOptions::ecs());
    let rejected: Vec<&LintReport> = reports.iter().filter(|r| !r.is_loaded()).collect();
    for r in &rejected {
        eprintln!("{r} (rule not loaded)");
    }
    let mut engine = set.compile();
    eprintln!(
        "{} rules loaded ({} rejected)",
        engine.rule_count(),
        rejected.len()
    );
    let logsource = a.logsource.as_deref().map(Logsource::parse_triple);
    let progress = std::io::stderr().is_terminal();
    let parse_only = a.parse_only;
    let started = std::time::Instant::now();
    let mut by_rule: BTreeMap<(String, String), u64> = BTreeMap::new();
    let (mut lines_total, mut found, mut malformed_total) = (0u64, 0u64, 0u64);
    // Detections can number one per line: buffer them (stdout is line-buffered).
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut scratch = Vec::with_capacity(1024);
    for path in &a.files {
        let file_json = serde_json::to_string(&path.display().to_string())?;
        let mut reader = open(path)?;
        let mut buf = Vec::new();
        let mut head: Vec<String> = Vec::new();
        let format = match a.format.as_str() {
            "jsonl" => Some(LogFormat::JsonLines),
            "combined" => Some(LogFormat::Combined),
            "common" => Some(LogFormat::Common),
            _ => None,
        };
        // Auto-detection looks at the first lines; they are kept and processed afterwards.
        let format = match format {
            Some(f) => f,
            None => {
                while head.len() < 50 {
                    buf.clear();
                    if reader.read_until(b'\n', &mut buf)? == 0 {
                        break;
                    }
                    head.push(
                        String::from_utf8_lossy(&buf)
                            .trim_end_matches(['\n', '\r'])
                            .to_owned(),
                    );
                }
                detect_format_of(
                    head.iter()
                        .map(String::as_str)
                        .filter(|l| !l.trim().is_empty()),
                )
                .with_context(|| {
                    format!(
                        "{}: cannot tell the log format; pass --format",
                        path.display()
                    )
                })?
            }
        };
        let mut line_no = 0u64;
        let mut malformed_shown = 0;
        let mut handle = |line: &str, line_no: u64| -> anyhow::Result<()> {
            if line.trim().is_empty() {
                return Ok(());
            }
            if parse_only {
                match bulwark_detect::parse_line(format, line, line_no) {
                    Ok(ev) => {
                        std::hint::black_box(ev);
                    }
                    Err(m) => {
                        malformed_total += 1;
                        if malformed_shown < 20 {
                            eprintln!(
                                "{}:{}: malformed line: {}",
                                path.display(),
                                m.line_no,
                                m.reason
                            );
                            malformed_shown += 1;
                        }
                    }
                }
                return Ok(());
            }
            match engine.process_line(format, line, line_no, logsource.as_ref()) {
                Err(m) => {
                    malformed_total += 1;
                    if malformed_shown < 20 {
                        eprintln!(
                            "{}:{}: malformed line: {}",
                            path.display(),
                            m.line_no,
                            m.reason
                        );
                        malformed_shown += 1;
                    }
                }
                Ok(detections) => {
                    for d in detections {
                        found += 1;
                        let shown = || format!("{}:{line_no}", path.display());
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
        for line in std::mem::take(&mut head) {
            line_no += 1;
            handle(&line, line_no)?;
        }
        loop {
            buf.clear();
            if reader
                .read_until(b'\n', &mut buf)
                .with_context(|| format!("reading {} (truncated or corrupt?)", path.display()))?
                == 0
            {
                break;
            }
            line_no += 1;
            // Valid UTF-8 is the rule: check it fast, and only fall back to the lossy copy.
            let line = match std::str::from_utf8(&buf) {
                Ok(s) => std::borrow::Cow::Borrowed(s),
                Err(_) => String::from_utf8_lossy(&buf),
            };
            handle(line.trim_end_matches(['\n', '\r']), line_no)?;
            if progress && line_no.is_multiple_of(200_000) {
                eprint!("\r{}: {line_no} lines", path.display());
            }
        }
        if progress {
            eprint!("\r");
        }
        if malformed_shown == 20 {
            eprintln!("{}: more malformed lines not shown", path.display());
        }
        lines_total += line_no;
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
    Ok(if found > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
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
}

pub fn alerts(a: AlertsArgs) -> anyhow::Result<ExitCode> {
    let store = bulwark_store::Store::open(&a.dir.data_dir, None)?;
    let items = store.alerts(&bulwark_store::AlertFilter {
        min_level: a.level,
        rule_id: a.rule,
        since_ms: a.since.as_deref().map(crate::parse_when).transpose()?,
        after_id: None,
        limit: a.limit,
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
