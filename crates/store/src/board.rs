//! The incident board: one page of incidents with what the team triages by
//! (severity, phase, owner, next deadline, overdue tasks), found by index so
//! it stays fast with tens of thousands of incidents.

use bulwark_incident::{Incident, Phase, Severity, Task};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::error::{Result, StoreError};
use crate::Store;

/// How the board is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BoardSort {
    /// The nearest open deadline first (none last), then the most severe.
    #[default]
    Due,
    Newest,
    Severity,
}

/// Whether drill incidents are on the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BoardDrills {
    /// Real incidents only: a drill never shows among (or counts as) real ones.
    #[default]
    Hide,
    Include,
    Only,
}

#[derive(Debug, Clone)]
pub struct BoardFilter {
    /// Closed incidents too.
    pub include_closed: bool,
    pub drills: BoardDrills,
    pub phase: Option<Phase>,
    pub severity: Option<Severity>,
    pub sort: BoardSort,
    pub limit: u32,
    pub offset: u32,
}

impl Default for BoardFilter {
    fn default() -> Self {
        BoardFilter {
            include_closed: false,
            drills: BoardDrills::Hide,
            phase: None,
            severity: None,
            sort: BoardSort::Due,
            limit: 50,
            offset: 0,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct BoardRow {
    pub id: u64,
    pub title: String,
    pub severity: Severity,
    pub phase: Phase,
    pub owner: Option<String>,
    pub opened_ms: i64,
    pub next_due_ms: Option<i64>,
    pub open_tasks: u32,
    pub overdue: u32,
    /// The drill run it belongs to (only with drills shown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drill: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Board {
    pub rows: Vec<BoardRow>,
    /// Incidents matching the filter, on every page.
    pub total: u64,
}

fn due_ms(t: &Task) -> Option<i64> {
    t.due_at
        .map(|d| (d.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// Keeps `incident_open_tasks` in step with one saved task.
pub(crate) fn index_task(c: &Connection, t: &Task) -> Result<()> {
    if t.is_open() {
        c.prepare_cached(
            "INSERT INTO incident_open_tasks (incident_id, key, due_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (incident_id, key) DO UPDATE SET due_ms = excluded.due_ms",
        )?
        .execute(params![t.incident as i64, t.key, due_ms(t)])?;
    } else {
        c.prepare_cached("DELETE FROM incident_open_tasks WHERE incident_id = ?1 AND key = ?2")?
            .execute(params![t.incident as i64, t.key])?;
    }
    Ok(())
}

/// Recomputes incident `id`'s row of `incident_due` (after its tasks changed).
pub(crate) fn index_incident(c: &Connection, id: u64) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO incident_due (incident_id, due_key, open_tasks)
         SELECT ?1, coalesce(min(due_ms), 9223372036854775807), count(*) FROM incident_open_tasks WHERE incident_id = ?1
         ON CONFLICT (incident_id) DO UPDATE SET due_key = excluded.due_key, open_tasks = excluded.open_tasks",
    )?
    .execute([id as i64])?;
    Ok(())
}

/// Fills `incident_due` and `scope_summaries` once for a data directory from
/// before them (marked in `meta`).
fn backfill_summaries(c: &Connection) -> Result<()> {
    let done: Option<String> = c
        .query_row(
            "SELECT value FROM meta WHERE key = 'board_summaries'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if done.is_some() {
        return Ok(());
    }
    let tx = c.unchecked_transaction()?;
    tx.execute(
        "INSERT OR REPLACE INTO incident_due (incident_id, due_key, open_tasks)
         SELECT i.id, coalesce(min(t.due_ms), 9223372036854775807), count(t.key)
         FROM incidents i LEFT JOIN incident_open_tasks t ON t.incident_id = i.id GROUP BY i.id",
        [],
    )?;
    tx.execute(
        "INSERT OR IGNORE INTO scope_summaries (incident_id, version, summary)
         SELECT incident_id, version, summary FROM scope_snapshots",
        [],
    )?;
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('board_summaries', '1')",
        [],
    )?;
    tx.commit()?;
    Ok(())
}

/// Fills `incident_open_tasks` once for a data directory created before it
/// existed (marked in `meta`), then the summaries built on it.
pub(crate) fn backfill(c: &Connection) -> Result<()> {
    backfill_open_tasks(c)?;
    backfill_summaries(c)
}

fn backfill_open_tasks(c: &Connection) -> Result<()> {
    let done: Option<String> = c
        .query_row(
            "SELECT value FROM meta WHERE key = 'open_tasks_indexed'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if done.is_some() {
        return Ok(());
    }
    let tx = c.unchecked_transaction()?;
    {
        let mut stmt = tx.prepare("SELECT body FROM incident_tasks")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let body: String = r.get(0)?;
            let t: Task = serde_json::from_str(&body)
                .map_err(|e| StoreError::corrupt(format!("a task: {e}")))?;
            index_task(&tx, &t)?;
        }
    }
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('open_tasks_indexed', '1')",
        [],
    )?;
    tx.commit()?;
    Ok(())
}

impl Store {
    /// One page of the incident board at `now_ms`.
    pub fn incident_board(&self, f: &BoardFilter, now_ms: i64) -> Result<Board> {
        let mut clauses = Vec::new();
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if !f.include_closed && f.phase != Some(Phase::Closed) {
            clauses.push("i.phase != 'closed'".to_owned());
        }
        match f.drills {
            BoardDrills::Hide => clauses.push(
                "NOT EXISTS (SELECT 1 FROM drill_incidents x WHERE x.incident_id = i.id)"
                    .to_owned(),
            ),
            BoardDrills::Only => clauses.push(
                "EXISTS (SELECT 1 FROM drill_incidents x WHERE x.incident_id = i.id)".to_owned(),
            ),
            BoardDrills::Include => {}
        }
        if let Some(p) = f.phase {
            args.push(p.code().to_owned().into());
            clauses.push(format!("i.phase = ?{}", args.len()));
        }
        if let Some(s) = f.severity {
            args.push(s.code().to_owned().into());
            clauses.push(format!("i.severity = ?{}", args.len()));
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        self.read(|c| {
            let total: i64 = c.query_row(
                &format!("SELECT count(*) FROM incidents i {filter}"),
                rusqlite::params_from_iter(args.iter()),
                |r| r.get(0),
            )?;
            let n = args.len();
            let mut page_args = args.clone();
            page_args.push(now_ms.into());
            page_args.push(i64::from(f.limit.clamp(1, 500)).into());
            page_args.push(i64::from(f.offset).into());
            // The order comes from small indexed columns and stops after one
            // page; only that page's bodies are read (a body is kilobytes)
            // and only its overdue tasks counted.
            let (from, order) = match f.sort {
                BoardSort::Due => (
                    "incident_due d JOIN incidents i ON i.id = d.incident_id",
                    "d.due_key, d.incident_id",
                ),
                BoardSort::Newest => (
                    "incidents i JOIN incident_due d ON d.incident_id = i.id",
                    "i.id DESC",
                ),
                BoardSort::Severity => (
                    "incidents i JOIN incident_due d ON d.incident_id = i.id",
                    "i.severity, d.due_key, i.id",
                ),
            };
            let sql = format!(
                "SELECT i.id, i.body, nullif(d.due_key, 9223372036854775807), d.open_tasks,
                        (SELECT count(*) FROM incident_open_tasks t WHERE t.incident_id = i.id AND t.due_ms < ?{now})
                 FROM {from} {filter} ORDER BY {order} LIMIT ?{lim} OFFSET ?{off}",
                now = n + 1,
                lim = n + 2,
                off = n + 3,
            );
            let mut stmt = c.prepare(&sql)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(page_args.iter()))?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let id: i64 = r.get(0)?;
                let body: String = r.get(1)?;
                let inc: Incident = serde_json::from_str(&body)
                    .map_err(|e| StoreError::corrupt(format!("incident {id}: {e}")))?;
                out.push(BoardRow {
                    id: inc.id,
                    title: inc.title,
                    severity: inc.severity,
                    phase: inc.phase,
                    owner: inc.owner,
                    opened_ms: (inc.opened_at.unix_timestamp_nanos() / 1_000_000) as i64,
                    next_due_ms: r.get(2)?,
                    open_tasks: r.get::<_, i64>(3)? as u32,
                    overdue: r.get::<_, i64>(4)? as u32,
                    drill: inc.drill,
                });
            }
            Ok(Board {
                rows: out,
                total: total as u64,
            })
        })
    }
}
