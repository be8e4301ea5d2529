//! Times, on one thread and without HTTP, the store reads the console pages
//! are built from, on a data directory seeded by `bulwark-seed-console`, so a
//! slow page can be traced to the read behind it:
//!
//!     bulwark-probe-console --data-dir DIR [--big N] [--runs N]
//!
//! Opens the store locked (no read here needs the keyring) beside a running
//! server or not; for clean figures, run it alone.

use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use bulwark_incident::Phase;
use bulwark_law::evaluate;
use bulwark_store::{AlertFilter, BoardFilter, BoardSort, Store};

fn time<T>(runs: usize, mut f: impl FnMut() -> anyhow::Result<T>) -> anyhow::Result<Vec<Duration>> {
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        std::hint::black_box(f()?);
        out.push(t.elapsed());
    }
    out.sort();
    Ok(out)
}

fn main() -> anyhow::Result<()> {
    let mut dir = None;
    let mut big = None;
    let mut runs = 20usize;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| anyhow!("{flag} needs a value"));
        match flag.as_str() {
            "--data-dir" => dir = Some(std::path::PathBuf::from(value()?)),
            "--big" => big = Some(value()?.parse::<u64>().context("--big")?),
            "--runs" => runs = value()?.parse().context("--runs")?,
            "--bench" => {}
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    let dir = dir.ok_or_else(|| anyhow!("--data-dir DIR is required"))?;
    let store = Store::open(&dir, None)?;
    let big = match big {
        Some(b) => b,
        None => store
            .incidents()?
            .last()
            .map(|i| i.id)
            .ok_or_else(|| anyhow!("no incidents"))?,
    };
    let runs = runs.max(1);
    let mut rows: Vec<(String, Vec<Duration>)> = Vec::new();
    let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64;
    rows.push((
        "incident_board(default: open, by due, 50) — /incidents".into(),
        time(runs, || {
            Ok(store
                .incident_board(&BoardFilter::default(), now)?
                .rows
                .len())
        })?,
    ));
    rows.push((
        "incident_board(newest first, 50)".into(),
        time(runs, || {
            let f = BoardFilter {
                sort: BoardSort::Newest,
                ..BoardFilter::default()
            };
            Ok(store.incident_board(&f, now)?.rows.len())
        })?,
    ));
    let laws = store.dir().laws()?;
    rows.push((
        format!("incident_scenario({big}) — deadline board: incident + scope summary"),
        time(runs, || Ok(store.incident_scenario(big)?.map(|s| s.0)))?,
    ));
    let scenario = store
        .incident_scenario(big)?
        .map(|s| s.1)
        .ok_or_else(|| anyhow!("incident {big} has no scope"))?;
    rows.push((
        format!("evaluate(laws, scenario of {big}) — deadline board: the obligations"),
        time(runs, || Ok(evaluate(&laws, &scenario)?.obligations.len()))?,
    ));
    rows.push((
        "incidents() — every incident, parsed".into(),
        time(runs, || Ok(store.incidents()?.len()))?,
    ));
    rows.push((
        "home: incidents(), then 50 newest open: incident() + notice_versions()".into(),
        time(runs, || {
            let mut n = 0;
            for inc in store
                .incidents()?
                .into_iter()
                .filter(|i| i.phase != Phase::Closed)
                .rev()
                .take(50)
            {
                n += store.incident(inc.id)?.tasks.len();
                n += store.notice_versions(inc.id)?.len();
            }
            Ok(n)
        })?,
    ));
    rows.push((
        "  of which 50 × incident() alone".into(),
        time(runs, || {
            let mut n = 0;
            for id in (big.saturating_sub(60)..=big).rev().take(50) {
                n += store.incident(id)?.tasks.len();
            }
            Ok(n)
        })?,
    ));
    rows.push((
        format!("incident({big}) — the big one: incident, tasks, timeline"),
        time(runs, || Ok(store.incident(big)?.tasks.len()))?,
    ));
    rows.push((
        format!("notice_versions({big})"),
        time(runs, || Ok(store.notice_versions(big)?.len()))?,
    ));
    rows.push((
        format!("latest_scope({big}) — summary only"),
        time(runs, || Ok(store.latest_scope(big)?.map(|s| s.0)))?,
    ));
    rows.push((
        format!("scope_snapshot({big}) — summary and every customer"),
        time(runs, || {
            Ok(store
                .scope_snapshot(big)?
                .map(|s| s.customers.len())
                .unwrap_or(0))
        })?,
    ));
    rows.push((
        format!("outbox_status({big})"),
        time(runs, || Ok(store.outbox_status(big)?.total))?,
    ));
    rows.push((
        format!("outbox_counts({big})"),
        time(runs, || Ok(store.outbox_counts(big)?.len()))?,
    ));
    rows.push((
        "alerts(limit 1000)".into(),
        time(runs, || {
            Ok(store
                .alerts(&AlertFilter {
                    limit: 1000,
                    ..AlertFilter::default()
                })
                .map_err(|e| anyhow!("{e}"))?
                .len())
        })?,
    ));
    rows.push((
        "sessions(None)".into(),
        time(runs, || Ok(store.sessions(None)?.len()))?,
    ));
    println!("store reads behind the console pages, {runs} runs each, one thread:");
    println!();
    println!("| read | median ms | max ms |");
    println!("|---|---:|---:|");
    for (what, d) in rows {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "| {what} | {:.2} | {:.2} |",
            ms(d[d.len() / 2]),
            ms(d[d.len() - 1])
        );
    }
    Ok(())
}
