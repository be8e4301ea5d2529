//! Rendering an incident's notices into the outbox: the newest scope snapshot
//! says who and which elements; names and addresses are revealed through the
//! access log with the notification as purpose; [`bulwark_notice::Planner`]
//! decides every letter (channel, stencil, code, or refusal against its
//! jurisdiction's laws) and only letters that pass are sealed and queued. Each
//! render is a new notice version that sends nothing until the legal role
//! approves it (`outbox.rs`). This module only reveals, seals, inserts and
//! writes the ledger.

use std::collections::{BTreeMap, HashMap, HashSet};

use bulwark_incident::Role;
use bulwark_law::Evaluation;
use bulwark_model::{DataElement, Residency};
use bulwark_notice::{
    letter_rules, Addressee, Body, CodePool, DeliveryEvent, DeliveryState, NoticeFacts,
    PlannedStencil, Planner, RenderedLetter, Renderer, RowSpec, TemplateSet, VersionEvent,
    VersionState,
};
use rand::rngs::OsRng;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::Zeroizing;

pub use bulwark_notice::{Channels, LanguageFallback, LanguageFallbackGroup, RefusalGroup};

use crate::error::{Result, StoreError};
use crate::notice_error::{ApproveNoticesError, RenderNoticesError};
use crate::{Principal, Revealed, Store};

/// Customers revealed, planned and inserted per step; bounds memory.
const BATCH: usize = 8192;

#[derive(Debug, Clone)]
pub struct RenderNotices {
    pub incident: u64,
    pub facts: NoticeFacts,
    pub templates: TemplateSet,
    /// The incident's obligations (which laws apply to whom).
    pub evaluation: Evaluation,
    /// YYYY-MM-DD printed on the letters.
    pub notice_date: String,
    pub channels: Channels,
    pub actor: Principal,
    /// Letter customers who already have a notice in an approved version again
    /// (a corrected notice). Default: only customers not yet notified.
    pub reissue: bool,
}

/// A version still rendering stores `{}`: every field has its default.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RenderReport {
    pub incident: u64,
    pub version: u32,
    pub scope_version: u32,
    /// Customers in the scope snapshot.
    pub customers: u64,
    pub queued_email: u64,
    pub queued_print: u64,
    pub refused: Vec<RefusalGroup>,
    pub refused_total: u64,
    /// Skipped: already have a notice in an approved version.
    pub already_notified: u64,
    /// Skipped: erased since the scope was taken.
    pub erased: u64,
    /// Skipped: no e-mail or postal address on file for the chosen channels.
    pub no_contact: u64,
    /// Distinct letter shapes rendered from the templates.
    pub stencils: u64,
    /// Customers with a letter queued, by the letter's language.
    pub languages: BTreeMap<String, u64>,
    /// Customers whose letter is not in the language they prefer (no
    /// templates in it, or a law that prescribes English wording), grouped.
    pub language_fallbacks: Vec<LanguageFallbackGroup>,
    pub language_fallback_total: u64,
    /// Letter languages that the notice facts are neither written in nor
    /// translated into (`[translations.<lang>]`): those letters carry the
    /// facts' text as written.
    pub untranslated_facts: Vec<String>,
    /// SHA-256 of the template files used.
    pub digest: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct NoticeVersion {
    pub incident: u64,
    pub version: u32,
    pub created_ms: i64,
    pub created_by: String,
    pub scope_version: u32,
    pub notice_date: String,
    pub digest: String,
    pub state: VersionState,
    pub approved_by: Option<String>,
    pub approved_ms: Option<i64>,
    pub report: RenderReport,
}

/// The sealed personal part of one outbox row, as opened.
#[derive(Deserialize)]
pub(crate) struct Personal {
    pub name: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub code: Option<String>,
    /// The whole letter, for templates that could not be stencilled.
    #[serde(default)]
    pub letter: Option<RenderedLetter>,
}

/// [`Personal`] as sealed, borrowed from the revealed batch.
#[derive(Serialize)]
struct PersonalRef<'a> {
    name: Option<&'a str>,
    email: Option<&'a str>,
    address: Option<&'a str>,
    code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    letter: Option<&'a RenderedLetter>,
}

pub(crate) fn seal_label(incident: u64, version: u32, customer: &str, channel: &str) -> String {
    format!("outbox {incident} {version} {customer} {channel}")
}

#[derive(Deserialize)]
struct SnapshotCustomer {
    id: String,
    residency: Option<Residency>,
    elements: Vec<DataElement>,
}

/// A customer to reveal and plan.
struct Todo {
    uuid: Uuid,
    id: String,
    jurisdiction: String,
    /// The customer's preference, read at render time (not from the scope
    /// snapshot: a preference given since is honoured).
    language: Option<String>,
    elements: Vec<DataElement>,
}

/// One sealed outbox row.
struct Row {
    customer: String,
    channel: &'static str,
    stencil: i64,
    jurisdiction: String,
    personal: Vec<u8>,
    code: Option<String>,
}

/// The outbox's `stencil` column for a letter stored whole.
const NO_STENCIL: i64 = -1;

/// Names and addresses, the only elements a letter needs.
const WANTED: [DataElement; 3] = [
    DataElement::Name,
    DataElement::Email,
    DataElement::PostalAddress,
];

fn encode<T: Serialize>(what: &'static str, v: &T) -> Result<String, RenderNoticesError> {
    serde_json::to_string(v).map_err(|source| RenderNoticesError::Encode { what, source })
}

impl Store {
    /// The newest scope snapshot's customers: (version, customers).
    fn scope_customers(
        &self,
        incident: u64,
    ) -> Result<(u32, Vec<SnapshotCustomer>), RenderNoticesError> {
        let row: Option<(u32, String)> = self.read(|c| {
            Ok(c.query_row(
                "SELECT version, customers FROM scope_snapshots WHERE incident_id = ?1 ORDER BY version DESC LIMIT 1",
                [incident as i64],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
        })?;
        let (v, text) = row.ok_or(RenderNoticesError::NoScope { incident })?;
        let customers: Vec<SnapshotCustomer> = serde_json::from_str(&text)
            .map_err(|_| StoreError::Corrupt("scope snapshot".into()))?;
        Ok((v, customers))
    }

    /// Imports enrolment codes (e.g. credit-monitoring activation codes) into
    /// the incident's pool. Returns how many were new.
    pub fn import_remedy_codes(
        &self,
        incident: u64,
        codes: Vec<String>,
        actor: &str,
    ) -> Result<usize> {
        let actor = actor.to_owned();
        self.writer()
            .submit(move |ctx| {
                let mut n = 0;
                {
                    let mut stmt = ctx.main.prepare_cached(
                        "INSERT OR IGNORE INTO remedy_codes (incident_id, code) VALUES (?1, ?2)",
                    )?;
                    for c in &codes {
                        n += stmt.execute(params![incident as i64, c])?;
                    }
                }
                ctx.ledger(
                    &actor,
                    "notices.codes.import",
                    &incident.to_string(),
                    serde_json::json!({"added": n}),
                )?;
                Ok(n)
            })
            .wait_blocking()
    }

    /// Codes already assigned (customer → code) and the free ones, in code order.
    fn remedy_pool(&self, incident: u64) -> Result<CodePool> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT code, customer_id FROM remedy_codes WHERE incident_id = ?1 ORDER BY code",
            )?;
            let mut assigned = HashMap::new();
            let mut free = Vec::new();
            let mut rows = stmt.query([incident as i64])?;
            while let Some(r) = rows.next()? {
                let code: String = r.get(0)?;
                match r.get::<_, Option<String>>(1)? {
                    Some(cust) => {
                        assigned.insert(cust, code);
                    }
                    None => free.push(code),
                }
            }
            Ok(CodePool::new(assigned, free))
        })
    }

    /// Customers' language preferences (customer id → ISO 639-1 code); only
    /// the customers that have one.
    fn language_preferences(&self) -> Result<HashMap<String, String>> {
        self.read(|c| {
            let mut stmt =
                c.prepare("SELECT id, language FROM customers WHERE language IS NOT NULL")?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                .collect::<rusqlite::Result<HashMap<_, _>>>()?;
            Ok(rows)
        })
    }

    /// Customers with a letter in an approved version that is still on its way
    /// or delivered.
    fn already_notified(&self, incident: u64) -> Result<HashSet<String>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT DISTINCT o.customer_id FROM outbox o JOIN notice_versions v
                   ON v.incident_id = o.incident_id AND v.version = o.version
                 WHERE o.incident_id = ?1 AND v.state = ?2 AND o.state NOT IN (?3, ?4, ?5)",
            )?;
            let ids = stmt
                .query_map(
                    params![
                        incident as i64,
                        VersionState::Approved.as_str(),
                        DeliveryState::Superseded.as_str(),
                        DeliveryState::Failed.as_str(),
                        DeliveryState::Bounced.as_str(),
                    ],
                    |r| r.get::<_, String>(0),
                )?
                .collect::<rusqlite::Result<HashSet<_>>>()?;
            Ok(ids)
        })
    }

    /// Renders the incident's notices as a new version in state `draft`.
    pub fn render_notices(&self, req: &RenderNotices) -> Result<RenderReport, RenderNoticesError> {
        let incident = self.incident(req.incident)?;
        let (scope_version, customers) = self.scope_customers(req.incident)?;
        let renderer = Renderer::new(&req.templates)?;
        let rules = letter_rules(&req.evaluation);
        let mut facts = req.facts.clone();
        facts.affected_count = Some(customers.len() as u64);
        if facts.discovered.is_none() {
            facts.discovered = Some(incident.incident.discovered_at.date().to_string());
        }
        let prepared = renderer.prepare(&facts, &req.notice_date, &rules);
        let already = if req.reissue {
            HashSet::new()
        } else {
            self.already_notified(req.incident)?
        };
        let mut report = RenderReport {
            incident: req.incident,
            scope_version,
            customers: customers.len() as u64,
            digest: req.templates.digest(),
            ..RenderReport::default()
        };
        let mut preferences = self.language_preferences()?;
        let mut todo = Vec::new();
        for c in customers {
            if already.contains(&c.id) {
                report.already_notified += 1;
                continue;
            }
            let (Some(res), Ok(uuid)) = (&c.residency, Uuid::parse_str(&c.id)) else {
                report.erased += 1;
                continue;
            };
            let id = uuid.to_string();
            todo.push(Todo {
                uuid,
                language: preferences.remove(&id),
                id,
                jurisdiction: bulwark_law::jurisdiction_of(res),
                elements: c.elements,
            });
        }
        let pool = self.remedy_pool(req.incident)?;
        report.version = self.begin_version(req, scope_version, &facts)?;
        let mut planner = Planner::new(&prepared, req.channels, pool);
        report.erased += self.reveal_plan_insert(req, report.version, &todo, &mut planner)?;
        let plan = planner.finish();
        report.queued_email = plan.counts.email;
        report.queued_print = plan.counts.print;
        report.no_contact = plan.counts.no_contact;
        report.refused_total = plan.counts.refused;
        report.refused = plan.refused;
        report.stencils = plan.stencils.len() as u64;
        report.language_fallback_total = plan.fallbacks.iter().map(|g| g.count).sum();
        report.language_fallbacks = plan.fallbacks;
        report.untranslated_facts = plan
            .languages
            .keys()
            .filter(|l| !facts.speaks(l))
            .cloned()
            .collect();
        report.languages = plan.languages;
        self.finish_version(req, &report, plan.stencils)?;
        Ok(report)
    }

    /// The version row first, as `rendering`: a crash mid-render leaves a
    /// version that can never be approved and is cleared by the next render.
    fn begin_version(
        &self,
        req: &RenderNotices,
        scope_version: u32,
        facts: &NoticeFacts,
    ) -> Result<u32, RenderNoticesError> {
        let templates_json = encode("notice templates", req.templates.files())?;
        let facts_json = encode("notice facts", facts)?;
        let digest = req.templates.digest();
        let (stale_from, stale_to) = (
            VersionState::Rendering,
            VersionState::Rendering.transition(VersionEvent::Supersede)?,
        );
        let actor = req.actor.id.clone();
        let notice_date = req.notice_date.clone();
        let id = req.incident;
        let version = self
            .writer()
            .submit(move |ctx| -> crate::error::Result<_> {
                let stale: Vec<u32> = {
                    let mut s = ctx.main.prepare(
                        "SELECT version FROM notice_versions WHERE incident_id = ?1 AND state = ?2",
                    )?;
                    let v = s
                        .query_map(params![id as i64, stale_from.as_str()], |r| r.get(0))?
                        .collect::<rusqlite::Result<_>>()?;
                    v
                };
                for v in stale {
                    ctx.main.execute("DELETE FROM outbox WHERE incident_id = ?1 AND version = ?2", params![id as i64, v])?;
                    ctx.main.execute("DELETE FROM notice_stencils WHERE incident_id = ?1 AND version = ?2", params![id as i64, v])?;
                    ctx.main.execute(
                        "UPDATE notice_versions SET state = ?3 WHERE incident_id = ?1 AND version = ?2 AND state = ?4",
                        params![id as i64, v, stale_to.as_str(), stale_from.as_str()],
                    )?;
                }
                let version: u32 = ctx.main.query_row(
                    "SELECT coalesce(max(version), 0) + 1 FROM notice_versions WHERE incident_id = ?1",
                    [id as i64],
                    |r| r.get(0),
                )?;
                ctx.main.execute(
                    "INSERT INTO notice_versions (incident_id, version, created_ms, created_by, scope_version, notice_date, facts, templates, digest, state, report)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, '{}')",
                    params![id as i64, version, ctx.now_ms, actor, scope_version, notice_date, facts_json, templates_json, digest, VersionState::Rendering.as_str()],
                )?;
                Ok(version)
            })
            .wait_blocking()?;
        Ok(version)
    }

    /// Three stages: one thread decrypts the next batch while the writer makes
    /// the current batch's access-log rows durable and this thread plans and
    /// seals the batch before. Plaintext is used only after its access-log
    /// commit (the `Pending` resolves then). Returns how many customers were
    /// erased since the scope was taken.
    fn reveal_plan_insert(
        &self,
        req: &RenderNotices,
        version: u32,
        todo: &[Todo],
        planner: &mut Planner<'_, '_>,
    ) -> Result<u64, RenderNoticesError> {
        let purpose = format!("breach notification: incident {}", req.incident);
        let keyring = self.keyring()?;
        let mut erased = 0;
        let mut inserts = Vec::new();
        let (purpose, actor) = (&purpose, &req.actor);
        std::thread::scope(|scope| -> Result<(), RenderNoticesError> {
            type Stage = Result<(crate::PendingReveals, Vec<Uuid>), crate::RevealError>;
            let (tx, rx) = std::sync::mpsc::sync_channel::<Stage>(1);
            scope.spawn(move || {
                for chunk in todo.chunks(BATCH) {
                    let ids: Vec<Uuid> = chunk.iter().map(|c| c.uuid).collect();
                    let r = self.reveal_batch(actor, purpose, &ids, &WANTED);
                    let stop = r.is_err();
                    if tx.send(r).is_err() || stop {
                        break;
                    }
                }
            });
            for chunk in todo.chunks(BATCH) {
                let (pending, missing) =
                    rx.recv().map_err(|_| RenderNoticesError::RevealStopped)??;
                let revealed = pending.wait_blocking()?;
                erased += missing.len() as u64;
                let batch = addressees(chunk, &revealed);
                let specs = planner.plan(&batch)?;
                let rows = {
                    let kr = keyring
                        .read()
                        .map_err(|_| StoreError::Corrupt("keyring lock".into()))?;
                    seal_rows(&kr, req.incident, version, &specs)?
                };
                // Not awaited here: the writer inserts this batch while the next
                // one is read and decrypted.
                inserts.push(self.insert_outbox_rows(req.incident, version, rows));
            }
            Ok(())
        })?;
        for p in inserts {
            p.wait_blocking()??;
        }
        Ok(erased)
    }

    /// Inserts a batch's rows and takes their codes, or nothing if a code went
    /// to another customer meanwhile.
    fn insert_outbox_rows(
        &self,
        incident: u64,
        version: u32,
        rows: Vec<Row>,
    ) -> crate::Pending<Result<(), RenderNoticesError>> {
        let queued = DeliveryState::Queued.as_str();
        self.writer().submit(move |ctx| {
            ctx.main.execute_batch("SAVEPOINT outbox_rows")?;
            let taken_by_other = (|| -> Result<bool> {
                let mut ins = ctx.main.prepare_cached(
                    "INSERT INTO outbox (incident_id, version, customer_id, channel, stencil, jurisdiction, personal, state)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?;
                let mut take = ctx.main.prepare_cached(
                    "UPDATE remedy_codes SET customer_id = ?3 WHERE incident_id = ?1 AND code = ?2
                       AND (customer_id IS NULL OR customer_id = ?3)",
                )?;
                for r in &rows {
                    ins.execute(params![incident as i64, version, r.customer, r.channel, r.stencil, r.jurisdiction, r.personal, queued])?;
                    if let Some(c) = &r.code {
                        if take.execute(params![incident as i64, c, r.customer])? != 1 {
                            return Ok(true);
                        }
                    }
                }
                Ok(false)
            })()?;
            if taken_by_other {
                ctx.main
                    .execute_batch("ROLLBACK TO outbox_rows; RELEASE outbox_rows")?;
                return Ok(Err(RenderNoticesError::CodeTaken));
            }
            ctx.main.execute_batch("RELEASE outbox_rows")?;
            Ok(Ok(()))
        })
    }

    /// Stores the stencils, supersedes the drafts this version replaces and
    /// makes it a draft awaiting approval.
    fn finish_version(
        &self,
        req: &RenderNotices,
        report: &RenderReport,
        stencils: Vec<PlannedStencil>,
    ) -> Result<(), RenderNoticesError> {
        let (draft_from, draft_to) = (
            VersionState::Draft,
            VersionState::Draft.transition(VersionEvent::Supersede)?,
        );
        let letter_moves = DeliveryState::moves(DeliveryEvent::Superseded);
        let report_json = encode("render report", report)?;
        let summary =
            serde_json::to_value(report).map_err(|source| RenderNoticesError::Encode {
                what: "render report",
                source,
            })?;
        let (id, version) = (req.incident, report.version);
        let actor = req.actor.id.clone();
        self.writer()
            .submit(move |ctx| -> crate::error::Result<_> {
                // A render that took very long may have been cleared as stale by
                // another: then it must not come back as a draft.
                let state: String = ctx.main.query_row(
                    "SELECT state FROM notice_versions WHERE incident_id = ?1 AND version = ?2",
                    params![id as i64, version],
                    |r| r.get(0),
                )?;
                let from = VersionState::parse(&state).ok_or_else(|| {
                    StoreError::Corrupt(format!("notice version {version} has an unknown state"))
                })?;
                let to = match from.transition(VersionEvent::Rendered) {
                    Ok(to) => to,
                    Err(e) => return Ok(Err(RenderNoticesError::Lifecycle(e))),
                };
                {
                    let mut stmt = ctx.main.prepare_cached(
                        "INSERT INTO notice_stencils (incident_id, version, stencil, jurisdiction, language, template, subject, text, html)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    )?;
                    for s in &stencils {
                        let l = &s.letter;
                        stmt.execute(params![id as i64, version, i64::from(s.id.0), s.jurisdiction, l.language, l.template, l.subject, l.text, l.html])?;
                    }
                }
                // Drafts of earlier versions are replaced by this one.
                let drafts: Vec<u32> = {
                    let mut s = ctx.main.prepare(
                        "SELECT version FROM notice_versions WHERE incident_id = ?1 AND state = ?2",
                    )?;
                    let v = s
                        .query_map(params![id as i64, draft_from.as_str()], |r| r.get(0))?
                        .collect::<rusqlite::Result<_>>()?;
                    v
                };
                for old in drafts {
                    let mut letters = 0;
                    for (from, to) in &letter_moves {
                        letters += ctx.main.execute(
                            "UPDATE outbox SET state = ?3 WHERE incident_id = ?1 AND version = ?2 AND state = ?4",
                            params![id as i64, old, to.as_str(), from.as_str()],
                        )?;
                    }
                    ctx.main.execute(
                        "UPDATE notice_versions SET state = ?3 WHERE incident_id = ?1 AND version = ?2 AND state = ?4",
                        params![id as i64, old, draft_to.as_str(), draft_from.as_str()],
                    )?;
                    ctx.ledger(
                        &actor,
                        "notices.superseded",
                        &id.to_string(),
                        serde_json::json!({"version": old, "by_version": version, "letters": letters}),
                    )?;
                }
                ctx.main.execute(
                    "UPDATE notice_versions SET state = ?3, report = ?4 WHERE incident_id = ?1 AND version = ?2",
                    params![id as i64, version, to.as_str(), report_json],
                )?;
                ctx.ledger(&actor, "notices.rendered", &id.to_string(), summary.clone())?;
                let entry = bulwark_incident::TimelineEntry::new(
                    id,
                    crate::incidents::timestamp(ctx),
                    &actor,
                    bulwark_incident::EntryKind::Note,
                    format!(
                        "Notices v{version} rendered: {} e-mail, {} print, {} refused; awaiting legal approval",
                        summary["queued_email"], summary["queued_print"], summary["refused_total"]
                    ),
                    summary,
                );
                crate::incidents::append_timeline(ctx, id, &entry)?;
                Ok(Ok(()))
            })
            .wait_blocking()?
    }

    pub fn notice_versions(&self, incident: u64) -> Result<Vec<NoticeVersion>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT version, created_ms, created_by, scope_version, notice_date, digest, state, approved_by, approved_ms, report
                 FROM notice_versions WHERE incident_id = ?1 ORDER BY version",
            )?;
            let mut rows = stmt.query([incident as i64])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let version: u32 = r.get(0)?;
                let state: String = r.get(6)?;
                let state = VersionState::parse(&state).ok_or_else(|| {
                    StoreError::Corrupt(format!("notice version {version} has an unknown state"))
                })?;
                let report: String = r.get(9)?;
                out.push(NoticeVersion {
                    incident,
                    version,
                    created_ms: r.get(1)?,
                    created_by: r.get(2)?,
                    scope_version: r.get(3)?,
                    notice_date: r.get(4)?,
                    digest: r.get(5)?,
                    state,
                    approved_by: r.get(7)?,
                    approved_ms: r.get(8)?,
                    report: serde_json::from_str(&report).map_err(|e| {
                        StoreError::corrupt(format!("notice version {version}'s report: {e}"))
                    })?,
                });
            }
            Ok(out)
        })
    }

    /// The approval gate: only an enrolled, enabled operator who holds the
    /// legal role and is assigned legal on the incident's team (directly by
    /// operator id, or as a `team.json` person linked to the operator) may
    /// approve, and only a draft (not one still rendering or superseded).
    /// Nothing of a version is sent before this. The caller authenticates the
    /// operator (a console session after step-up, or `bulwark login`); the
    /// approval is recorded as theirs.
    pub fn approve_notices(
        &self,
        incident: u64,
        version: u32,
        operator: &str,
    ) -> Result<ApproveOutcome, ApproveNoticesError> {
        let record = self.incident(incident)?;
        let op = self
            .operator(operator)?
            .filter(|o| o.enrolled && !o.disabled)
            .ok_or(ApproveNoticesError::NotAnOperator)?;
        if !op.roles.has_team(Role::Legal) {
            return Err(ApproveNoticesError::NotLegalOperator);
        }
        let team = self
            .dir()
            .team()
            .map_err(StoreError::from)?
            .unwrap_or_default();
        let legal: Vec<&str> = record
            .incident
            .team
            .iter()
            .filter(|a| a.role == Role::Legal)
            .map(|a| a.person.as_str())
            .collect();
        if legal.is_empty() {
            return Err(ApproveNoticesError::NoLegalRole { incident });
        }
        // The incident's legal assignee, or the standing team's legal primary
        // and deputies (so a second approver can be found).
        let standing = team
            .roles
            .get(&Role::Legal)
            .map(|s| {
                std::iter::once(s.primary.as_str()).chain(s.deputies.iter().map(String::as_str))
            })
            .into_iter()
            .flatten();
        if !legal
            .iter()
            .copied()
            .chain(standing)
            .any(|p| team.is_operator(p, &op.id))
        {
            return Err(ApproveNoticesError::NotLegal { incident });
        }
        let actor = format!("operator:{}", op.id);
        let approver = op.id.clone();

        self.writer()
            .submit(move |ctx| -> crate::error::Result<_> {
                let state: Option<String> = ctx
                    .main
                    .query_row(
                        "SELECT state FROM notice_versions WHERE incident_id = ?1 AND version = ?2",
                        params![incident as i64, version],
                        |r| r.get(0),
                    )
                    .optional()?;
                let Some(state) = state else {
                    return Ok(Err(ApproveNoticesError::NoSuchVersion { incident, version }));
                };
                let from = VersionState::parse(&state).ok_or_else(|| {
                    StoreError::Corrupt(format!("notice version {version} has an unknown state"))
                })?;
                let Ok(to) = from.transition(VersionEvent::Approve) else {
                    return Ok(Err(ApproveNoticesError::NotADraft { version, state: from }));
                };
                let added = ctx.main.execute(
                    "INSERT OR IGNORE INTO notice_approvals (incident_id, version, operator_id, at_ms) VALUES (?1, ?2, ?3, ?4)",
                    params![incident as i64, version, approver, ctx.now_ms],
                )?;
                if added == 0 {
                    return Ok(Err(ApproveNoticesError::AlreadyApproved { version }));
                }
                let required = approvals_required(ctx.main)?;
                let approvers: Vec<String> = {
                    let mut stmt = ctx.main.prepare(
                        "SELECT operator_id FROM notice_approvals WHERE incident_id = ?1 AND version = ?2 ORDER BY at_ms, operator_id",
                    )?;
                    let rows = stmt.query_map(params![incident as i64, version], |r| r.get(0))?;
                    rows.collect::<rusqlite::Result<_>>()?
                };
                let have = approvers.len() as u32;
                let outcome = if have >= required {
                    let by = approvers.join(", ");
                    ctx.main.execute(
                        "UPDATE notice_versions SET state = ?3, approved_by = ?4, approved_ms = ?5 WHERE incident_id = ?1 AND version = ?2",
                        params![incident as i64, version, to.as_str(), by, ctx.now_ms],
                    )?;
                    ApproveOutcome::Approved
                } else {
                    ApproveOutcome::Awaiting { have, need: required }
                };
                let action = match outcome {
                    ApproveOutcome::Approved => "notices.approved",
                    ApproveOutcome::Awaiting { .. } => "notices.approval_given",
                };
                let details = serde_json::json!({"version": version, "approved_by": approver, "approvals": have, "required": required});
                ctx.ledger(&actor, action, &incident.to_string(), details.clone())?;
                let text = match outcome {
                    ApproveOutcome::Approved => format!("Notices v{version} approved by {approver} (legal)"),
                    ApproveOutcome::Awaiting { have, need } => format!(
                        "Notices v{version}: approval {have} of {need} given by {approver} (legal); a second legal operator must approve"
                    ),
                };
                let entry = bulwark_incident::TimelineEntry::new(
                    incident,
                    crate::incidents::timestamp(ctx),
                    &actor,
                    bulwark_incident::EntryKind::Note,
                    text,
                    details,
                );
                crate::incidents::append_timeline(ctx, incident, &entry)?;
                Ok(Ok(outcome))
            })
            .wait_blocking()?
    }

    /// How many distinct legal operators must approve a notice version (1 or 2).
    pub fn notice_approvals_required(&self) -> Result<u32> {
        self.read(approvals_required)
    }

    /// Requires one or two distinct legal approvals for versions approved from now on.
    pub fn set_notice_approvals_required(
        &self,
        n: u32,
        actor: &str,
    ) -> crate::Pending<(), StoreError> {
        let actor = actor.to_owned();
        self.writer().submit(move |ctx| {
            if !(1..=2).contains(&n) {
                return Err(StoreError::Corrupt(format!(
                    "{n} approvals: one or two are supported"
                )));
            }
            ctx.main.execute(
                "INSERT INTO meta (key, value) VALUES ('notice_approvals_required', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [n.to_string()],
            )?;
            ctx.ledger(
                &actor,
                "settings.notice_approvals",
                "notices",
                serde_json::json!({"required": n}),
            )?;
            Ok(())
        })
    }
}

/// What an approval did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ApproveOutcome {
    /// The version is approved; delivery may start.
    Approved,
    /// This approval is recorded; `need - have` more distinct legal operators must approve.
    Awaiting { have: u32, need: u32 },
}

fn approvals_required(c: &rusqlite::Connection) -> crate::error::Result<u32> {
    let v: Option<String> = c
        .query_row(
            "SELECT value FROM meta WHERE key = 'notice_approvals_required'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(v.and_then(|v| v.parse().ok()).unwrap_or(1))
}

/// The batch's customers as revealed, in the batch's order; erased ones are
/// left out.
fn addressees<'a>(chunk: &'a [Todo], revealed: &'a [Revealed]) -> Vec<Addressee<'a>> {
    let by_id: HashMap<Uuid, &Revealed> = revealed.iter().map(|r| (r.customer, r)).collect();
    chunk
        .iter()
        .filter_map(|t| {
            let r = by_id.get(&t.uuid)?;
            let field = |e: DataElement| r.fields.get(&e).map(|v| v.as_str());
            Some(Addressee {
                customer: &t.id,
                jurisdiction: &t.jurisdiction,
                language: t.language.as_deref(),
                elements: &t.elements,
                name: field(DataElement::Name),
                email: field(DataElement::Email),
                address: field(DataElement::PostalAddress),
            })
        })
        .collect()
}

/// Each row's personal values sealed under a key bound to the row's identity.
fn seal_rows(
    kr: &bulwark_vault::Keyring,
    incident: u64,
    version: u32,
    specs: &[RowSpec<'_>],
) -> Result<Vec<Row>, RenderNoticesError> {
    let mut rows = Vec::with_capacity(specs.len());
    for s in specs {
        let (stencil, letter) = match &s.body {
            Body::Stencil(id) => (i64::from(id.0), None),
            Body::Letter(l) => (NO_STENCIL, Some(l)),
        };
        let personal = PersonalRef {
            name: s.personal.name,
            email: s.personal.email,
            address: s.personal.address,
            code: s.code.as_deref(),
            letter,
        };
        let plain = Zeroizing::new(serde_json::to_vec(&personal).map_err(|source| {
            RenderNoticesError::Encode {
                what: "outbox row",
                source,
            }
        })?);
        let channel = s.channel.as_str();
        let sealed = kr.seal_secret(
            &seal_label(incident, version, s.customer, channel),
            &plain,
            &mut OsRng,
        );
        rows.push(Row {
            customer: s.customer.to_owned(),
            channel,
            stencil,
            jurisdiction: s.jurisdiction.to_owned(),
            personal: sealed,
            code: s.code.clone(),
        });
    }
    Ok(rows)
}
