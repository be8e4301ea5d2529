//! `bulwark tail` and `serve --watch`: followed files, killed and restarted,
//! store every attack line's alert exactly once (alerts and checkpoint commit together).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::common::*;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Line `i` of a combined access log. Every 97th line is a path traversal.
/// Lines are two hours apart, so no two attacks fold into one alert (the
/// de-duplication window is an hour): each attack line is one alert row.
fn access_line(i: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(1_790_000_000 + i as i64 * 7200).unwrap();
    let ts = format!(
        "{:02}/{}/{}:{:02}:{:02}:{:02} +0000",
        t.day(),
        MONTHS[t.month() as usize - 1],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if i % 97 == 5 {
        format!("203.0.113.9 - - [{ts}] \"GET /static/../../../etc/passwd?n={i} HTTP/1.1\" 404 0 \"-\" \"Mozilla/5.0\"")
    } else {
        format!(
            "198.51.100.{} - - [{ts}] \"GET /products/{i} HTTP/1.1\" 200 512 \"https://shop.example/\" \"Mozilla/5.0\"",
            i % 250
        )
    }
}

/// Appends lines `from..to` to `path` and to the oracle file `all`.
fn write_lines(path: &Path, all: &Path, from: u64, to: u64) {
    let mut text = String::new();
    for i in from..to {
        text.push_str(&access_line(i));
        text.push('\n');
    }
    for p in [path, all] {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
}

fn lines_read(dir: &Path) -> u64 {
    let db = rusqlite::Connection::open_with_flags(
        dir.join("bulwark.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    db.query_row(
        "SELECT COALESCE(SUM(lines_read), 0) FROM tail_checkpoints",
        [],
        |r| r.get::<_, i64>(0),
    )
    .unwrap() as u64
}

/// Alert rows per rule: (rows, sum of their counts).
fn stored_alerts(dir: &Path) -> BTreeMap<String, (u64, u64)> {
    let db = rusqlite::Connection::open_with_flags(
        dir.join("bulwark.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut stmt = db
        .prepare("SELECT rule_id, COUNT(*), SUM(count) FROM alerts GROUP BY rule_id")
        .unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            (r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)? as u64),
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// What `bulwark hunt` finds in the oracle file, per rule id.
/// `serve --watch` has stored its first checkpoint: it is following.
fn wait_for_first_checkpoint(dir: &Path) {
    wait_until(Duration::from_secs(120), "the initial checkpoint", || {
        run(&[
            "tail",
            "--status",
            "--json",
            "--data-dir",
            dir.to_str().unwrap(),
        ])
        .stdout
        .starts_with(b"{")
    });
}

fn hunted(all: &Path) -> BTreeMap<String, u64> {
    let o = run(&["hunt", all.to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let mut by_rule = BTreeMap::new();
    for l in stdout(&o).lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        *by_rule
            .entry(v["rule_id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    by_rule
}

fn start_tail(dir: &Path, log: &Path, err: &Path) -> Child {
    bulwark()
        .args([
            "tail",
            log.to_str().unwrap(),
            "--data-dir",
            dir.to_str().unwrap(),
            "--from-start",
            "--format",
            "combined",
            "--json",
            "--poll-ms",
            "50",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(err)
                .unwrap(),
        )
        .spawn()
        .unwrap()
}

fn sibling(p: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", p.display()))
}

fn gzip(from: &Path, to: &Path) {
    let data = std::fs::read(from).unwrap();
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(to).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&data).unwrap();
    enc.finish().unwrap();
    std::fs::remove_file(from).unwrap();
}

#[test]
fn tail_killed_mid_stream_again_and_again_stores_each_attack_line_once() {
    let (t, dir) = tempdir();
    init(&dir);
    let log = t.path().join("access.log");
    let all = t.path().join("all.log");
    let err = t.path().join("tail.stderr");
    let chunk = 15_000;
    let mut written = 0;
    write_lines(&log, &all, 0, chunk);
    written += chunk;
    let mut seen = 0;
    let mut killed_mid_stream = 0;
    for round in 0..6 {
        let mut child = start_tail(&dir, &log, &err);
        // Killed with SIGKILL as soon as it has committed something past where it was.
        wait_until(
            Duration::from_secs(240),
            "the tailer to make progress",
            || lines_read(&dir) > seen,
        );
        child.kill().unwrap();
        child.wait().unwrap();
        seen = lines_read(&dir);
        assert!(seen <= written, "counted {seen} of {written} lines");
        killed_mid_stream += u32::from(seen < written);
        match round {
            // Rotated by rename while it is down.
            0 => {
                std::fs::rename(&log, sibling(&log, ".1")).unwrap();
                write_lines(&log, &all, written, written + chunk);
            }
            // copytruncate while it is down, the copy gzip'd.
            2 => {
                std::fs::rename(sibling(&log, ".1"), sibling(&log, ".2")).unwrap();
                std::fs::copy(&log, sibling(&log, ".1")).unwrap();
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&log)
                    .unwrap()
                    .set_len(0)
                    .unwrap();
                gzip(&sibling(&log, ".1"), &sibling(&log, ".1.gz"));
                write_lines(&log, &all, written, written + chunk);
            }
            _ => write_lines(&log, &all, written, written + chunk),
        }
        written += chunk;
    }
    assert!(killed_mid_stream > 0, "no kill landed mid-stream");
    // The last run reads to the end and stops cleanly on SIGTERM.
    let mut child = start_tail(&dir, &log, &err);
    wait_until(Duration::from_secs(300), "every line to be read", || {
        lines_read(&dir) == written
    });
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    let log_text = std::fs::read_to_string(&err).unwrap();
    assert!(status.success(), "{log_text}");
    assert!(log_text.contains("stopped:"), "{log_text}");

    let expected = hunted(&all);
    assert!(!expected.is_empty());
    let stored = stored_alerts(&dir);
    let stored_counts: BTreeMap<String, u64> =
        stored.iter().map(|(k, (_, n))| (k.clone(), *n)).collect();
    assert_eq!(
        stored_counts, expected,
        "each attack line's detection stored exactly once (what hunt finds in one pass)"
    );
    for (rule, (rows, count)) in &stored {
        assert_eq!(rows, count, "{rule}: one alert row per attack line");
    }
    let attacks = (0..written).filter(|i| i % 97 == 5).count() as u64;
    assert!(
        expected.values().all(|n| *n == attacks),
        "{expected:?} vs {attacks} attack lines"
    );

    let o = run(&[
        "tail",
        "--status",
        "--json",
        "--data-dir",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let st: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(st["lines_read"], written);
    assert_eq!(st["malformed"], 0);
    let o = run(&["ledger", "verify", "--data-dir", dir.to_str().unwrap()]);
    assert!(
        o.status.success(),
        "the ledger verifies after the kills: {}",
        stderr(&o)
    );
}

#[test]
fn two_followers_of_one_file_are_refused() {
    let (t, dir) = tempdir();
    init(&dir);
    let log = t.path().join("access.log");
    std::fs::write(&log, format!("{}\n", access_line(1))).unwrap();
    let err = t.path().join("tail.stderr");
    let mut first = start_tail(&dir, &log, &err);
    wait_until(Duration::from_secs(120), "the first follower", || {
        lines_read(&dir) == 1
    });
    let o = run(&[
        "tail",
        log.to_str().unwrap(),
        "--data-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("already followed"), "{}", stderr(&o));
    first.kill().unwrap();
    first.wait().unwrap();
}

#[test]
fn serve_watch_raises_alerts_and_continues_after_a_restart() {
    let (t, dir) = tempdir();
    let admin = init(&dir);
    let log = t.path().join("shop:access.log");
    let all = t.path().join("after-start.log");
    // Written before the server starts: without a checkpoint it starts at the end.
    write_lines(&log, &t.path().join("before.log"), 0, 100);
    let watch = format!("{}:combined", log.display());
    let mut server = Server::start(&dir, &["--watch", &watch], &[]);
    let alerts = |addr| {
        let (s, v) = http(
            addr,
            "GET",
            "/v1/alerts?limit=1000",
            Some(&admin),
            &[],
            None,
        )
        .unwrap();
        assert_eq!(s, 200, "{v}");
        v["items"].as_array().unwrap().clone()
    };
    wait_for_first_checkpoint(&dir);
    assert!(
        alerts(server.addr).is_empty(),
        "lines before the start are not read"
    );
    write_lines(&log, &all, 100, 300);
    let expected: u64 = hunted(&all).values().sum();
    assert!(expected >= 3, "three attack lines at least");
    wait_until(
        Duration::from_secs(120),
        "alerts from the watched file",
        || alerts(server.addr).len() as u64 == expected,
    );
    server.stop();
    // Lines written while the server is down are read after its restart, once.
    write_lines(&log, &all, 300, 500);
    let expected: u64 = hunted(&all).values().sum();
    let server = Server::start(&dir, &["--watch", &watch], &[]);
    wait_until(Duration::from_secs(120), "alerts after the restart", || {
        alerts(server.addr).len() as u64 == expected
    });
    let items = alerts(server.addr);
    assert!(items.iter().all(|a| a["count"] == 1), "{items:?}");
    let source = std::fs::canonicalize(t.path())
        .unwrap()
        .join("shop:access.log");
    assert!(
        items
            .iter()
            .all(|a| a["source"] == source.display().to_string()),
        "{items:?}"
    );
}

/// `serve --watch PATH:NAME` knows the data directory's mapping files, as
/// `hunt` and `tail` do: JSON with the store's own keys is read through one.
#[test]
fn serve_watch_reads_with_the_data_directorys_mapping_files() {
    let (t, dir) = tempdir();
    let admin = init(&dir);
    write_shop_json_mapping(&dir);
    let log = t.path().join("shop.jsonl");
    std::fs::write(&log, "").unwrap();
    let watch = format!("{}:shop-json", log.display());
    let server = Server::start(&dir, &["--watch", &watch], &[]);
    wait_for_first_checkpoint(&dir);
    let line = |i: u32, uri: &str| {
        format!(
            "{{\"ts\":\"2026-11-20T10:00:{i:02}Z\",\"client\":\"203.0.113.9\",\"uri\":\"{uri}\",\"agent\":\"Mozilla/5.0\"}}\n"
        )
    };
    let text = [
        line(1, "/products/12"),
        line(
            2,
            "/products?id=1%27%20UNION%20SELECT%20password%20FROM%20users--",
        ),
        line(3, "/cart"),
    ]
    .concat();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let titles = || {
        let (s, v) = http(server.addr, "GET", "/v1/alerts", Some(&admin), &[], None).unwrap();
        assert_eq!(s, 200, "{v}");
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["rule_title"].as_str().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    wait_until(Duration::from_secs(120), "the SQL injection alert", || {
        titles().iter().any(|t| t.contains("SQL Injection"))
    });
    assert_eq!(titles().len(), 1, "{:?}", titles());
}
