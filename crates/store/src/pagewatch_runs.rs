//! What the crawls of a watched page found, and who authorised its scripts
//! (PCI DSS 6.4.3): each run with its changes and the locker hashes of its
//! snapshot and manifest, the page's inventory after the latest run, and the
//! approvals in force. A run and the inventory it produced are written in one
//! transaction, and only if no other run of the page was recorded since the
//! inventory it was computed from (a crawl from the CLI and one from `serve`
//! cannot overwrite each other).

use bulwark_pagewatch::inventory::{
    Approval, ApprovalScope, Approvals, Change, Inventory, ScriptKey, State,
};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use crate::error::{Result, StoreError};
use crate::{Store, ValidationErrors};

/// Longest owner or approver name, and justification, in characters.
const MAX_OWNER: usize = 200;
const MAX_JUSTIFICATION: usize = 2000;
/// Most approvals in force per page.
const MAX_APPROVALS: usize = 2000;

/// The inventory of a page, and the run that produced it (`None` before the first).
#[derive(Debug, Clone, Default)]
pub struct PageInventory {
    pub inventory: Inventory,
    pub run: Option<i64>,
}

/// A finished crawl to record.
pub struct NewPageRun {
    pub page_id: i64,
    /// The run [`PageInventory::run`] that `inventory` was computed from.
    pub based_on: Option<i64>,
    pub started_ms: i64,
    pub elapsed_ms: i64,
    pub final_url: String,
    pub http_status: u16,
    pub scripts: usize,
    pub truncated: bool,
    pub inventory: Inventory,
    pub changes: Vec<Change>,
    /// Locker hashes of the rendered page, the document as served, and the
    /// run's manifest (what it saw, as JSON).
    pub snapshot_sha256: String,
    pub document_sha256: Option<String>,
    pub manifest_sha256: String,
}

/// One run of a page, as listed.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PageRun {
    pub id: i64,
    pub page: String,
    pub started_ms: i64,
    pub elapsed_ms: i64,
    /// `ok`, or `failed` with `error`.
    pub outcome: String,
    pub error: Option<String>,
    pub final_url: Option<String>,
    pub http_status: Option<u16>,
    pub scripts: usize,
    pub truncated: bool,
    /// The changes the run showed (script added/changed/removed, new host,
    /// weakened header, changed iframe).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub changes: Vec<Change>,
    pub snapshot_sha256: Option<String>,
    pub document_sha256: Option<String>,
    pub manifest_sha256: Option<String>,
    /// Alerts the run's events raised, and the incident they opened or joined.
    pub alerts: Vec<i64>,
    pub incident: Option<u64>,
}

/// An approval as stored: the engine's [`Approval`] with its id and whether
/// it was revoked.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredApproval {
    pub id: i64,
    pub page: String,
    pub owner: String,
    pub justification: String,
    pub approver: String,
    pub approved_ms: i64,
    /// `script` (one script's bodies), `dynamic` (a vendor origin, any body)
    /// or `host` (an outbound host).
    pub kind: String,
    pub script: Option<String>,
    pub sha256: Vec<String>,
    pub origin: Option<String>,
    pub allowed_hosts: Vec<String>,
    pub host: Option<String>,
    pub revoked_ms: Option<i64>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
}

/// What to authorise on a page.
#[derive(Debug, Clone)]
pub enum ApproveWhat {
    /// The script's body as the latest run saw it.
    Script(ScriptKey),
    /// Any body from `origin`, reaching only `allowed_hosts`.
    Dynamic {
        origin: String,
        allowed_hosts: Vec<String>,
    },
    /// An outbound host.
    Host(String),
}

#[derive(Debug, thiserror::Error)]
pub enum RecordRunError {
    #[error("no watched page has id {0}")]
    NoPage(i64),
    #[error("another run of this page was recorded meanwhile; run it again")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum ApproveScriptError {
    #[error("invalid input: {0}")]
    Invalid(#[from] ValidationErrors),
    #[error("no watched page is named `{0}` (see `bulwark pagewatch list`)")]
    NoPage(String),
    #[error("the inventory of `{page}` has no script `{script}` (see `bulwark pagewatch scripts {page}`)")]
    NoScript { page: String, script: String },
    #[error("`{0}` is no longer on the page: there is no body to approve")]
    Removed(String),
    #[error("the page has {MAX_APPROVALS} approvals in force; revoke some first")]
    TooMany,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, thiserror::Error)]
pub enum RevokeApprovalError {
    #[error("`{page}` has no approval #{id} in force")]
    NotFound { page: String, id: i64 },
    #[error("a reason is required (1 to {MAX_JUSTIFICATION} characters)")]
    NoReason,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn json<T: Serialize>(v: &T, what: &str) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::corrupt(format!("{what}: {e}")))
}

fn page_id(c: &rusqlite::Connection, name: &str) -> Result<Option<i64>> {
    Ok(c.query_row(
        "SELECT id FROM watched_pages WHERE name = ?1",
        [name],
        |r| r.get(0),
    )
    .optional()?)
}

fn read_inventory(c: &rusqlite::Connection, page: i64) -> Result<PageInventory> {
    let row: Option<(String, i64)> = c
        .query_row(
            "SELECT inventory, run_id FROM pagewatch_inventory WHERE page_id = ?1",
            [page],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match row {
        None => Ok(PageInventory::default()),
        Some((text, run)) => Ok(PageInventory {
            inventory: serde_json::from_str(&text).map_err(|_| {
                StoreError::corrupt(format!("the script inventory of watched page {page}"))
            })?,
            run: Some(run),
        }),
    }
}

/// Writes back the states of an inventory changed by an approval or a
/// revocation (the run it came from stays its run).
fn restate(c: &rusqlite::Connection, page: i64, inv: &PageInventory) -> Result<()> {
    if let Some(run) = inv.run {
        c.execute(
            "UPDATE pagewatch_inventory SET inventory = ?2 WHERE page_id = ?1 AND run_id = ?3",
            params![page, json(&inv.inventory, "inventory")?, run],
        )?;
    }
    Ok(())
}

const APPROVAL_COLUMNS: &str = "a.id, p.name, a.owner, a.justification, a.approver, a.approved_ms, a.kind, a.script, a.sha256, a.origin, a.allowed_hosts, a.host, a.revoked_ms, a.revoked_by, a.revoke_reason";

fn approval_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredApproval> {
    let list = |col: usize, s: Option<String>| -> rusqlite::Result<Vec<String>> {
        match s {
            None => Ok(Vec::new()),
            Some(s) => serde_json::from_str(&s).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    col,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            }),
        }
    };
    Ok(StoredApproval {
        id: r.get(0)?,
        page: r.get(1)?,
        owner: r.get(2)?,
        justification: r.get(3)?,
        approver: r.get(4)?,
        approved_ms: r.get(5)?,
        kind: r.get(6)?,
        script: r.get(7)?,
        sha256: list(8, r.get(8)?)?,
        origin: r.get(9)?,
        allowed_hosts: list(10, r.get(10)?)?,
        host: r.get(11)?,
        revoked_ms: r.get(12)?,
        revoked_by: r.get(13)?,
        revoke_reason: r.get(14)?,
    })
}

impl StoredApproval {
    /// The engine's form of this approval.
    pub fn to_approval(&self) -> Approval {
        let scope = match self.kind.as_str() {
            "dynamic" => ApprovalScope::Dynamic {
                origin: self.origin.clone().unwrap_or_default(),
                allowed_hosts: self.allowed_hosts.clone(),
            },
            "host" => ApprovalScope::Host {
                host: self.host.clone().unwrap_or_default(),
            },
            _ => ApprovalScope::Script {
                key: ScriptKey(self.script.clone().unwrap_or_default()),
                sha256: self.sha256.clone(),
            },
        };
        Approval {
            owner: self.owner.clone(),
            justification: self.justification.clone(),
            approver: self.approver.clone(),
            at: time::OffsetDateTime::from_unix_timestamp_nanos(
                i128::from(self.approved_ms) * 1_000_000,
            )
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
            scope,
        }
    }
}

fn approvals_of(c: &rusqlite::Connection, page: i64, all: bool) -> Result<Vec<StoredApproval>> {
    let sql = format!(
        "SELECT {APPROVAL_COLUMNS} FROM pagewatch_approvals a JOIN watched_pages p ON p.id = a.page_id
         WHERE a.page_id = ?1 AND (?2 OR a.revoked_ms IS NULL) ORDER BY a.id"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![page, all], approval_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b':')
}

impl Store {
    /// The page's inventory after its latest recorded run.
    pub fn page_inventory(&self, page_id: i64) -> Result<PageInventory> {
        self.read(|c| read_inventory(c, page_id))
    }

    /// The approvals in force on a page (with revoked ones when `all`).
    pub fn page_approvals(&self, page: &str, all: bool) -> Result<Option<Vec<StoredApproval>>> {
        self.read(|c| match page_id(c, page)? {
            None => Ok(None),
            Some(id) => Ok(Some(approvals_of(c, id, all)?)),
        })
    }

    /// The engine's [`Approvals`] in force on a page.
    pub fn page_approvals_in_force(&self, page_id: i64) -> Result<Approvals> {
        let stored = self.read(|c| approvals_of(c, page_id, false))?;
        Ok(Approvals(
            stored.iter().map(StoredApproval::to_approval).collect(),
        ))
    }

    /// Records a finished run and the page's inventory after it, in one
    /// transaction, ledgered as `pagewatch.run` with the locker hashes.
    pub fn record_page_run(
        &self,
        run: NewPageRun,
        actor: &str,
    ) -> std::result::Result<i64, RecordRunError> {
        let actor = actor.to_owned();
        self.writer()
            .submit(move |ctx| -> std::result::Result<i64, RecordRunError> {
                let name: Option<String> = ctx
                    .main
                    .query_row(
                        "SELECT name FROM watched_pages WHERE id = ?1",
                        [run.page_id],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(StoreError::from)?;
                let name = name.ok_or(RecordRunError::NoPage(run.page_id))?;
                if read_inventory(ctx.main, run.page_id)?.run != run.based_on {
                    return Err(RecordRunError::Conflict);
                }
                let changes = json(&run.changes, "run changes")?;
                ctx.main
                    .execute(
                        "INSERT INTO pagewatch_runs (page_id, started_ms, elapsed_ms, outcome, final_url, http_status, scripts, truncated, changes, snapshot_sha256, document_sha256, manifest_sha256, alerts)
                         VALUES (?1, ?2, ?3, 'ok', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, '[]')",
                        params![run.page_id, run.started_ms, run.elapsed_ms, run.final_url, run.http_status, run.scripts as i64, run.truncated, changes, run.snapshot_sha256, run.document_sha256, run.manifest_sha256],
                    )
                    .map_err(StoreError::from)?;
                let id = ctx.main.last_insert_rowid();
                ctx.main
                    .execute(
                        "INSERT INTO pagewatch_inventory (page_id, run_id, inventory) VALUES (?1, ?2, ?3)
                         ON CONFLICT (page_id) DO UPDATE SET run_id = excluded.run_id, inventory = excluded.inventory",
                        params![run.page_id, id, json(&run.inventory, "inventory")?],
                    )
                    .map_err(StoreError::from)?;
                let kinds: Vec<&str> = run.changes.iter().map(Change::action).collect();
                ctx.ledger(
                    &actor,
                    "pagewatch.run",
                    &format!("page:{name}"),
                    serde_json::json!({
                        "run": id, "scripts": run.scripts, "changes": kinds,
                        "snapshot_sha256": run.snapshot_sha256,
                        "document_sha256": run.document_sha256,
                        "manifest_sha256": run.manifest_sha256,
                    }),
                )?;
                Ok(id)
            })
            .wait_blocking()
    }

    /// Records a crawl that failed (the inventory is left as it was).
    pub fn record_failed_page_run(
        &self,
        page_id: i64,
        started_ms: i64,
        elapsed_ms: i64,
        error: &str,
    ) -> Result<i64> {
        let error: String = error.chars().take(1000).collect();
        self.writer()
            .submit(move |ctx| -> Result<i64> {
                ctx.main.execute(
                    "INSERT INTO pagewatch_runs (page_id, started_ms, elapsed_ms, outcome, error, scripts, truncated, changes, alerts)
                     VALUES (?1, ?2, ?3, 'failed', ?4, 0, 0, '[]', '[]')",
                    params![page_id, started_ms, elapsed_ms, error],
                )?;
                Ok(ctx.main.last_insert_rowid())
            })
            .wait_blocking()
    }

    /// What a run's events raised: its alerts and the incident they went to.
    pub fn set_page_run_alerts(
        &self,
        run: i64,
        alerts: Vec<i64>,
        incident: Option<u64>,
    ) -> Result<()> {
        self.writer()
            .submit(move |ctx| -> Result<()> {
                ctx.main.execute(
                    "UPDATE pagewatch_runs SET alerts = ?2, incident_id = ?3 WHERE id = ?1",
                    params![
                        run,
                        json(&alerts, "run alerts")?,
                        incident.map(|i| i as i64)
                    ],
                )?;
                Ok(())
            })
            .wait_blocking()
    }

    /// The latest runs of a page (newest first); `None` if no such page.
    pub fn page_runs(&self, page: &str, limit: usize) -> Result<Option<Vec<PageRun>>> {
        self.read(|c| {
            let Some(id) = page_id(c, page)? else {
                return Ok(None);
            };
            let mut stmt = c.prepare_cached(
                "SELECT r.id, p.name, r.started_ms, r.elapsed_ms, r.outcome, r.error, r.final_url, r.http_status, r.scripts, r.truncated, r.changes, r.snapshot_sha256, r.document_sha256, r.manifest_sha256, r.alerts, r.incident_id
                 FROM pagewatch_runs r JOIN watched_pages p ON p.id = r.page_id
                 WHERE r.page_id = ?1 ORDER BY r.id DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![id, limit as i64], |r| {
                Ok((
                    PageRun {
                        id: r.get(0)?,
                        page: r.get(1)?,
                        started_ms: r.get(2)?,
                        elapsed_ms: r.get(3)?,
                        outcome: r.get(4)?,
                        error: r.get(5)?,
                        final_url: r.get(6)?,
                        http_status: r.get(7)?,
                        scripts: r.get::<_, i64>(8)?.max(0) as usize,
                        truncated: r.get(9)?,
                        changes: Vec::new(),
                        snapshot_sha256: r.get(11)?,
                        document_sha256: r.get(12)?,
                        manifest_sha256: r.get(13)?,
                        alerts: Vec::new(),
                        incident: r.get::<_, Option<i64>>(15)?.map(|i| i as u64),
                    },
                    r.get::<_, String>(10)?,
                    r.get::<_, String>(14)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (mut run, changes, alerts) = row?;
                run.changes = serde_json::from_str(&changes)
                    .map_err(|_| StoreError::corrupt(format!("the changes of page run {}", run.id)))?;
                run.alerts = serde_json::from_str(&alerts)
                    .map_err(|_| StoreError::corrupt(format!("the alerts of page run {}", run.id)))?;
                out.push(run);
            }
            Ok(Some(out))
        })
    }

    /// When each page last ran (ok or failed), for the scheduler.
    pub fn page_last_runs(&self) -> Result<std::collections::HashMap<i64, i64>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT page_id, MAX(started_ms) FROM pagewatch_runs GROUP BY page_id",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// When each page last had a successful crawl.
    pub fn page_last_checks(&self) -> Result<std::collections::HashMap<i64, i64>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT page_id, MAX(started_ms) FROM pagewatch_runs WHERE outcome = 'ok' GROUP BY page_id",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Authorises a script, a vendor origin or a host on a page (6.4.3: with
    /// its owner and justification; the approver is `actor`). A script is
    /// approved with the body the latest run saw, which becomes `authorised`
    /// at once. Ledgered as `pagewatch.approved`.
    pub fn approve_on_page(
        &self,
        page: &str,
        what: ApproveWhat,
        owner: &str,
        justification: &str,
        actor: &str,
    ) -> std::result::Result<StoredApproval, ApproveScriptError> {
        let mut errors = ValidationErrors::default();
        let owner = owner.trim().to_owned();
        let justification = justification.trim().to_owned();
        if owner.is_empty() || owner.chars().count() > MAX_OWNER {
            errors.push(
                "owner",
                format!("1 to {MAX_OWNER} characters: who owns the script (a team, a vendor)"),
            );
        }
        if justification.is_empty() || justification.chars().count() > MAX_JUSTIFICATION {
            errors.push(
                "justification",
                format!(
                    "1 to {MAX_JUSTIFICATION} characters: why the page needs it (PCI DSS 6.4.3)"
                ),
            );
        }
        match &what {
            ApproveWhat::Dynamic {
                origin,
                allowed_hosts,
            } => {
                if bulwark_pagewatch::csp::origin_of(origin).is_none() {
                    errors.push(
                        "origin",
                        "expected an origin such as https://js.vendor.example",
                    );
                }
                if allowed_hosts.len() > 50 || !allowed_hosts.iter().all(|h| valid_host(h)) {
                    errors.push("allowed_hosts", "at most 50 host names");
                }
            }
            ApproveWhat::Host(h) if !valid_host(h) => errors.push("host", "expected a host name"),
            _ => {}
        }
        errors.into_result()?;
        let (page, actor) = (page.to_owned(), actor.to_owned());
        let id = self
            .writer()
            .submit(move |ctx| -> std::result::Result<i64, ApproveScriptError> {
                let pid = page_id(ctx.main, &page)?.ok_or_else(|| ApproveScriptError::NoPage(page.clone()))?;
                let in_force: i64 = ctx
                    .main
                    .query_row(
                        "SELECT COUNT(*) FROM pagewatch_approvals WHERE page_id = ?1 AND revoked_ms IS NULL",
                        [pid],
                        |r| r.get(0),
                    )
                    .map_err(StoreError::from)?;
                if in_force as usize >= MAX_APPROVALS {
                    return Err(ApproveScriptError::TooMany);
                }
                let mut inv = read_inventory(ctx.main, pid)?;
                let (kind, script, sha, origin, hosts, host) = match &what {
                    ApproveWhat::Script(key) => {
                        let entry = inv.inventory.scripts.get_mut(key).ok_or_else(|| {
                            ApproveScriptError::NoScript {
                                page: page.clone(),
                                script: key.0.chars().take(200).collect(),
                            }
                        })?;
                        if entry.state == State::Removed {
                            return Err(ApproveScriptError::Removed(key.0.chars().take(200).collect()));
                        }
                        entry.state = State::Authorised;
                        let sha = vec![entry.digests.sha256.clone()];
                        ("script", Some(key.0.clone()), Some(json(&sha, "hashes")?), None, None, None)
                    }
                    ApproveWhat::Dynamic { origin, allowed_hosts } => {
                        let hosts: Vec<String> = allowed_hosts.iter().map(|h| h.to_ascii_lowercase()).collect();
                        // Every script from the origin is covered from now on.
                        let o = bulwark_pagewatch::csp::origin_of(origin);
                        for (k, e) in inv.inventory.scripts.iter_mut() {
                            if e.state != State::Removed && bulwark_pagewatch::csp::origin_of(&k.0) == o {
                                e.state = State::Authorised;
                            }
                        }
                        ("dynamic", None, None, o, Some(json(&hosts, "hosts")?), None)
                    }
                    ApproveWhat::Host(h) => ("host", None, None, None, None, Some(h.to_ascii_lowercase())),
                };
                ctx.main
                    .execute(
                        "INSERT INTO pagewatch_approvals (page_id, owner, justification, approver, approved_ms, kind, script, sha256, origin, allowed_hosts, host)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                        params![pid, owner, justification, actor, ctx.now_ms, kind, script, sha, origin, hosts, host],
                    )
                    .map_err(StoreError::from)?;
                let id = ctx.main.last_insert_rowid();
                restate(ctx.main, pid, &inv)?;
                ctx.ledger(
                    &actor,
                    "pagewatch.approved",
                    &format!("page:{page}"),
                    serde_json::json!({
                        "approval": id, "kind": kind, "script": script, "sha256": sha,
                        "origin": origin, "host": host, "owner": owner, "justification": justification,
                    }),
                )?;
                Ok(id)
            })
            .wait_blocking()?;
        self.read(|c| {
            Ok(c.query_row(
                &format!("SELECT {APPROVAL_COLUMNS} FROM pagewatch_approvals a JOIN watched_pages p ON p.id = a.page_id WHERE a.id = ?1"),
                [id],
                approval_row,
            )?)
        })
        .map_err(ApproveScriptError::Store)
    }

    /// Revokes an approval: the next run reports what it covered as
    /// unauthorised. Scripts it covered lose their `authorised` state now.
    /// Ledgered as `pagewatch.revoked`.
    pub fn revoke_page_approval(
        &self,
        page: &str,
        id: i64,
        reason: &str,
        actor: &str,
    ) -> std::result::Result<(), RevokeApprovalError> {
        let reason = reason.trim().to_owned();
        if reason.is_empty() || reason.chars().count() > MAX_JUSTIFICATION {
            return Err(RevokeApprovalError::NoReason);
        }
        let (page, actor) = (page.to_owned(), actor.to_owned());
        self.writer()
            .submit(move |ctx| -> std::result::Result<(), RevokeApprovalError> {
                let not_found = || RevokeApprovalError::NotFound {
                    page: page.chars().take(64).collect(),
                    id,
                };
                let pid = page_id(ctx.main, &page)?.ok_or_else(not_found)?;
                let n = ctx
                    .main
                    .execute(
                        "UPDATE pagewatch_approvals SET revoked_ms = ?3, revoked_by = ?4, revoke_reason = ?5
                         WHERE id = ?1 AND page_id = ?2 AND revoked_ms IS NULL",
                        params![id, pid, ctx.now_ms, actor, reason],
                    )
                    .map_err(StoreError::from)?;
                if n == 0 {
                    return Err(not_found());
                }
                // States follow the approvals still in force.
                let approvals = Approvals(
                    approvals_of(ctx.main, pid, false)?
                        .iter()
                        .map(StoredApproval::to_approval)
                        .collect(),
                );
                let mut inv = read_inventory(ctx.main, pid)?;
                for (k, e) in inv.inventory.scripts.iter_mut() {
                    if e.state != State::Authorised {
                        continue;
                    }
                    if approvals.covering(k, &e.observed()).is_none() {
                        e.state = State::New;
                    }
                }
                restate(ctx.main, pid, &inv)?;
                ctx.ledger(
                    &actor,
                    "pagewatch.revoked",
                    &format!("page:{page}"),
                    serde_json::json!({"approval": id, "reason": reason}),
                )?;
                Ok(())
            })
            .wait_blocking()
    }
}
