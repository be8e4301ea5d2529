//! Rendering an incident's notices into the outbox: the newest scope snapshot
//! says who and which elements; names and addresses are revealed through the
//! access log with the notification as purpose; every letter is checked against
//! its jurisdiction's laws ([`bulwark_notice`]) and only letters that pass are
//! queued. Each render is a new notice version that sends nothing until the
//! legal role approves it (`outbox.rs`).

use std::collections::{BTreeMap, HashMap, HashSet};

use bulwark_incident::Role;
use bulwark_law::Evaluation;
use bulwark_model::{DataElement, Residency};
use bulwark_notice::{
    letter_rules, Letter, LetterError, NoticeFacts, Renderer, Stencil, TemplateSet,
};
use rand::rngs::OsRng;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::{Result, StoreError};
use crate::{Principal, Store};

/// Customers revealed, rendered and inserted per step; bounds memory.
const BATCH: usize = 8192;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channels {
    /// E-mail; a printed letter for customers without an e-mail address.
    Email,
    Print,
    Both,
}

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

/// Letters refused for the same reasons in one jurisdiction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalGroup {
    pub jurisdiction: String,
    pub laws: Vec<String>,
    pub problems: Vec<String>,
    pub count: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
    /// `rendering`, `draft`, `approved` or `superseded`.
    pub state: String,
    pub approved_by: Option<String>,
    pub approved_ms: Option<i64>,
    pub report: RenderReport,
}

/// The sealed personal part of one outbox row.
#[derive(Serialize, Deserialize)]
pub(crate) struct Personal {
    pub name: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub code: Option<String>,
    /// The whole letter, for templates that could not be stencilled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub letter: Option<bulwark_notice::RenderedLetter>,
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

struct Row {
    customer: String,
    channel: &'static str,
    stencil: i64,
    jurisdiction: String,
    personal: Vec<u8>,
    code: Option<String>,
}

fn notice_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Notice(e.to_string())
}

/// Stencils by letter shape.
#[derive(Default)]
struct Shapes {
    ids: HashMap<(String, Vec<DataElement>, bool, bool), i64>,
    stencils: Vec<(i64, String, Stencil)>,
    refused: HashMap<(String, Vec<DataElement>, bool, bool), bulwark_notice::Refusal>,
    /// Shapes whose templates look at the name: rendered per letter.
    per_letter: HashSet<(String, Vec<DataElement>, bool, bool)>,
}

impl Store {
    /// The newest scope snapshot's customers: (version, customers).
    fn scope_customers(&self, incident: u64) -> Result<(u32, Vec<SnapshotCustomer>)> {
        let row: Option<(u32, String)> = self.read(|c| {
            Ok(c.query_row(
                "SELECT version, customers FROM scope_snapshots WHERE incident_id = ?1 ORDER BY version DESC LIMIT 1",
                [incident as i64],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
        })?;
        let (v, text) = row.ok_or_else(|| {
            StoreError::Notice(format!(
                "incident {incident} has no scope snapshot yet; run `bulwark scope --incident {incident} …` first"
            ))
        })?;
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

    /// Codes already assigned (customer → code) and the unassigned ones.
    fn remedy_pool(&self, incident: u64) -> Result<(HashMap<String, String>, Vec<String>)> {
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
            free.reverse();
            Ok((assigned, free))
        })
    }

    /// Renders the incident's notices as a new version in state `draft`.
    pub fn render_notices(&self, req: &RenderNotices) -> Result<RenderReport> {
        let incident = self.incident(req.incident)?;
        let (scope_version, customers) = self.scope_customers(req.incident)?;
        let renderer = Renderer::new(&req.templates).map_err(notice_err)?;
        let rules = letter_rules(&req.evaluation);
        let mut facts = req.facts.clone();
        facts.affected_count = Some(customers.len() as u64);
        if facts.discovered.is_none() {
            facts.discovered = Some(incident.incident.discovered_at.date().to_string());
        }
        let prepared = renderer.prepare(&facts, &req.notice_date, &rules);
        let already: HashSet<String> = if req.reissue {
            HashSet::new()
        } else {
            self.read(|c| {
                let mut stmt = c.prepare(
                    "SELECT DISTINCT o.customer_id FROM outbox o JOIN notice_versions v
                       ON v.incident_id = o.incident_id AND v.version = o.version
                     WHERE o.incident_id = ?1 AND v.state = 'approved'
                       AND o.state NOT IN ('superseded', 'failed', 'bounced')",
                )?;
                let ids = stmt
                    .query_map([req.incident as i64], |r| r.get::<_, String>(0))?
                    .collect::<rusqlite::Result<HashSet<_>>>()?;
                Ok(ids)
            })?
        };
        let (mut assigned, mut free) = self.remedy_pool(req.incident)?;
        let digest = req.templates.digest();
        let templates_json = serde_json::to_string(req.templates.files()).map_err(notice_err)?;
        let facts_json = serde_json::to_string(&facts).map_err(notice_err)?;
        let mut report = RenderReport {
            incident: req.incident,
            scope_version,
            customers: customers.len() as u64,
            digest: digest.clone(),
            ..RenderReport::default()
        };
        // The version row first, as `rendering`: a crash mid-render leaves a
        // version that can never be approved and is cleared by the next render.
        let actor = req.actor.id.clone();
        let notice_date = req.notice_date.clone();
        let id = req.incident;
        let version: u32 = self
            .writer()
            .submit(move |ctx| {
                let stale: Vec<u32> = {
                    let mut s = ctx.main.prepare(
                        "SELECT version FROM notice_versions WHERE incident_id = ?1 AND state = 'rendering'",
                    )?;
                    let v = s.query_map([id as i64], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
                    v
                };
                for v in stale {
                    ctx.main.execute("DELETE FROM outbox WHERE incident_id = ?1 AND version = ?2", params![id as i64, v])?;
                    ctx.main.execute("DELETE FROM notice_stencils WHERE incident_id = ?1 AND version = ?2", params![id as i64, v])?;
                    ctx.main.execute(
                        "UPDATE notice_versions SET state = 'superseded' WHERE incident_id = ?1 AND version = ?2",
                        params![id as i64, v],
                    )?;
                }
                let version: u32 = ctx.main.query_row(
                    "SELECT coalesce(max(version), 0) + 1 FROM notice_versions WHERE incident_id = ?1",
                    [id as i64],
                    |r| r.get(0),
                )?;
                ctx.main.execute(
                    "INSERT INTO notice_versions (incident_id, version, created_ms, created_by, scope_version, notice_date, facts, templates, digest, state, report)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'rendering', '{}')",
                    params![id as i64, version, ctx.now_ms, actor, scope_version, notice_date, facts_json, templates_json, digest],
                )?;
                Ok(version)
            })
            .wait_blocking()?;
        report.version = version;

        let purpose = format!("breach notification: incident {}", req.incident);
        let wanted = [
            DataElement::Name,
            DataElement::Email,
            DataElement::PostalAddress,
        ];
        let mut shapes = Shapes::default();
        let mut refused: BTreeMap<(String, Vec<String>, Vec<String>), u64> = BTreeMap::new();
        let keyring = self.keyring()?;
        let mut todo: Vec<(Uuid, String, Vec<DataElement>)> = Vec::new();
        for c in &customers {
            if already.contains(&c.id) {
                report.already_notified += 1;
                continue;
            }
            let (Some(res), Ok(uuid)) = (&c.residency, Uuid::parse_str(&c.id)) else {
                report.erased += 1;
                continue;
            };
            todo.push((uuid, bulwark_law::jurisdiction_of(res), c.elements.clone()));
        }
        let mut inserts = Vec::new();
        // Three stages: one thread decrypts the next batch while the writer makes
        // the current batch's access-log rows durable and this thread checks,
        // fills and seals the batch before. Plaintext is used only after its
        // access-log commit (the `Pending` resolves then).
        let (todo_ref, purpose_ref, wanted_ref, actor) = (&todo, &purpose, &wanted, &req.actor);
        std::thread::scope(|scope| -> Result<()> {
            type Stage = Result<(crate::Pending<Vec<crate::Revealed>>, Vec<Uuid>)>;
            let (tx, rx) = std::sync::mpsc::sync_channel::<Stage>(1);
            scope.spawn(move || {
                for chunk in todo_ref.chunks(BATCH) {
                    let ids: Vec<Uuid> = chunk.iter().map(|c| c.0).collect();
                    let r = self.reveal_batch(actor, purpose_ref, &ids, wanted_ref);
                    let stop = r.is_err();
                    if tx.send(r).is_err() || stop {
                        break;
                    }
                }
            });
            for chunk in todo.chunks(BATCH) {
                let (pending, missing) = rx
                    .recv()
                    .map_err(|_| StoreError::Corrupt("the reveal stage stopped".into()))??;
                let revealed = pending.wait_blocking()?;
                report.erased += missing.len() as u64;
                let by_id: HashMap<Uuid, &crate::Revealed> =
                    revealed.iter().map(|r| (r.customer, r)).collect();
                let mut rows = Vec::with_capacity(chunk.len());
                let kr = keyring
                    .read()
                    .map_err(|_| StoreError::Corrupt("keyring lock".into()))?;
                for (uuid, jurisdiction, elements) in chunk {
                    let Some(r) = by_id.get(uuid) else { continue };
                    let field = |e: DataElement| r.fields.get(&e).map(|v| v.as_str());
                    let (name, email, address) = (
                        field(DataElement::Name),
                        field(DataElement::Email),
                        field(DataElement::PostalAddress),
                    );
                    let channels: Vec<&'static str> =
                        match (req.channels, email.is_some(), address.is_some()) {
                            (Channels::Email, true, _) => vec!["email"],
                            (Channels::Email, false, true) | (Channels::Print, _, true) => {
                                vec!["print"]
                            }
                            (Channels::Both, e, a) => {
                                let mut v = Vec::new();
                                if e {
                                    v.push("email");
                                }
                                if a {
                                    v.push("print");
                                }
                                v
                            }
                            _ => vec![],
                        };
                    if channels.is_empty() {
                        report.no_contact += 1;
                        continue;
                    }
                    let cust = uuid.to_string();
                    let rules_here = prepared.rules_for(jurisdiction);
                    let wants_code = facts.remedy.as_ref().is_some_and(|o| {
                        o.offered_to(elements)
                            || rules_here.remedies.iter().any(|m| m.applies(elements))
                    });
                    let code = if wants_code {
                        assigned.get(&cust).cloned().or_else(|| free.pop())
                    } else {
                        None
                    };
                    let shape_key = (
                        jurisdiction.clone(),
                        elements.clone(),
                        name.is_some(),
                        code.is_some() || wants_code,
                    );
                    let letter = Letter {
                        name,
                        jurisdiction,
                        elements,
                        enrolment_code: code.as_deref(),
                    };
                    // Per-shape stencil, rendered and checked once.
                    let stencil_id = if let Some(id) = shapes.ids.get(&shape_key) {
                        Some(*id)
                    } else if shapes.refused.contains_key(&shape_key)
                        || shapes.per_letter.contains(&shape_key)
                        || code.is_none() && wants_code
                    {
                        None
                    } else {
                        let shape = Letter {
                            name: name.map(|_| ""),
                            enrolment_code: code.as_ref().map(|_| ""),
                            ..letter.clone()
                        };
                        match prepared.stencil(&shape) {
                            Ok(Some(s)) => {
                                let id = shapes.stencils.len() as i64;
                                shapes.stencils.push((id, jurisdiction.clone(), s));
                                shapes.ids.insert(shape_key.clone(), id);
                                Some(id)
                            }
                            Ok(None) => {
                                shapes.per_letter.insert(shape_key.clone());
                                None
                            }
                            Err(LetterError::Refused(r)) => {
                                shapes.refused.insert(shape_key.clone(), r);
                                None
                            }
                            Err(LetterError::Template(e)) => return Err(notice_err(e)),
                        }
                    };
                    let mut whole = None;
                    if stencil_id.is_none() {
                        let refusal = match shapes.refused.get(&shape_key) {
                            Some(r) => Some(r.clone()),
                            None => match prepared.letter(&letter) {
                                Ok(l) => {
                                    whole = Some(l);
                                    None
                                }
                                Err(LetterError::Refused(r)) => Some(r),
                                Err(LetterError::Template(e)) => return Err(notice_err(e)),
                            },
                        };
                        if let Some(r) = refusal {
                            *refused
                                .entry((r.jurisdiction.clone(), r.laws.clone(), r.problems.clone()))
                                .or_default() += 1;
                            report.refused_total += 1;
                            if let Some(c) = code.filter(|c| assigned.get(&cust) != Some(c)) {
                                free.push(c);
                            }
                            continue;
                        }
                    } else if let Some((_, _, s)) =
                        shapes.stencils.get(stencil_id.unwrap_or(0) as usize)
                    {
                        // The letter as it will be sent: every stand-in must have been replaced.
                        if s.fill(name, code.as_deref()).is_err() {
                            return Err(StoreError::Notice(format!(
                            "a {jurisdiction} letter kept a stand-in after filling; refusing the render"
                        )));
                        }
                    }
                    if let Some(c) = &code {
                        assigned.insert(cust.clone(), c.clone());
                    }
                    for channel in channels {
                        let personal = Personal {
                            name: name.map(str::to_owned),
                            email: if channel == "email" {
                                email.map(str::to_owned)
                            } else {
                                None
                            },
                            address: if channel == "print" {
                                address.map(str::to_owned)
                            } else {
                                None
                            },
                            code: code.clone(),
                            letter: whole.clone(),
                        };
                        let plain =
                            Zeroizing::new(serde_json::to_vec(&personal).map_err(notice_err)?);
                        let sealed = kr.seal_secret(
                            &seal_label(req.incident, version, &cust, channel),
                            &plain,
                            &mut OsRng,
                        );
                        match channel {
                            "email" => report.queued_email += 1,
                            _ => report.queued_print += 1,
                        }
                        rows.push(Row {
                            customer: cust.clone(),
                            channel,
                            stencil: stencil_id.unwrap_or(-1),
                            jurisdiction: jurisdiction.clone(),
                            personal: sealed,
                            code: code.clone(),
                        });
                    }
                }
                drop(kr);
                // Not awaited here: the writer inserts this batch while the next
                // one is read and decrypted.
                inserts.push(self.insert_outbox_rows(req.incident, version, rows));
            }
            Ok(())
        })?;
        for p in inserts {
            p.wait_blocking()?;
        }
        report.stencils = shapes.stencils.len() as u64;
        report.refused = refused
            .into_iter()
            .map(|((jurisdiction, laws, problems), count)| RefusalGroup {
                jurisdiction,
                laws,
                problems,
                count,
            })
            .collect();
        let stencils: Vec<(i64, String, bulwark_notice::RenderedLetter)> = shapes
            .stencils
            .into_iter()
            .map(|(id, j, s)| (id, j, s.letter().clone()))
            .collect();
        let report_json = serde_json::to_string(&report).map_err(notice_err)?;
        let actor = req.actor.id.clone();
        let summary = serde_json::to_value(&report).map_err(notice_err)?;
        self.writer()
            .submit(move |ctx| {
                {
                    let mut stmt = ctx.main.prepare_cached(
                        "INSERT INTO notice_stencils (incident_id, version, stencil, jurisdiction, language, template, subject, text, html)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    )?;
                    for (sid, j, l) in &stencils {
                        stmt.execute(params![id as i64, version, sid, j, l.language, l.template, l.subject, l.text, l.html])?;
                    }
                }
                // Drafts of earlier versions are replaced by this one.
                ctx.main.execute(
                    "UPDATE outbox SET state = 'superseded' WHERE incident_id = ?1 AND version IN
                       (SELECT version FROM notice_versions WHERE incident_id = ?1 AND state = 'draft')",
                    [id as i64],
                )?;
                ctx.main.execute(
                    "UPDATE notice_versions SET state = 'superseded' WHERE incident_id = ?1 AND state = 'draft'",
                    [id as i64],
                )?;
                ctx.main.execute(
                    "UPDATE notice_versions SET state = 'draft', report = ?3 WHERE incident_id = ?1 AND version = ?2",
                    params![id as i64, version, report_json],
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
                Ok(())
            })
            .wait_blocking()?;
        Ok(report)
    }

    fn insert_outbox_rows(
        &self,
        incident: u64,
        version: u32,
        rows: Vec<Row>,
    ) -> crate::Pending<()> {
        self.writer()
            .submit(move |ctx| {
                let mut ins = ctx.main.prepare_cached(
                    "INSERT INTO outbox (incident_id, version, customer_id, channel, stencil, jurisdiction, personal, state)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued')",
                )?;
                let mut take = ctx.main.prepare_cached(
                    "UPDATE remedy_codes SET customer_id = ?3 WHERE incident_id = ?1 AND code = ?2
                       AND (customer_id IS NULL OR customer_id = ?3)",
                )?;
                for r in &rows {
                    ins.execute(params![incident as i64, version, r.customer, r.channel, r.stencil, r.jurisdiction, r.personal])?;
                    if let Some(c) = &r.code {
                        if take.execute(params![incident as i64, c, r.customer])? != 1 {
                            return Err(StoreError::Notice(
                                "an enrolment code was taken by a concurrent render; render again".into(),
                            ));
                        }
                    }
                }
                Ok(())
            })
    }

    pub fn notice_versions(&self, incident: u64) -> Result<Vec<NoticeVersion>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT version, created_ms, created_by, scope_version, notice_date, digest, state, approved_by, approved_ms, report
                 FROM notice_versions WHERE incident_id = ?1 ORDER BY version",
            )?;
            let rows = stmt.query_map([incident as i64], |r| {
                let report: String = r.get(9)?;
                Ok(NoticeVersion {
                    incident,
                    version: r.get(0)?,
                    created_ms: r.get(1)?,
                    created_by: r.get(2)?,
                    scope_version: r.get(3)?,
                    notice_date: r.get(4)?,
                    digest: r.get(5)?,
                    state: r.get(6)?,
                    approved_by: r.get(7)?,
                    approved_ms: r.get(8)?,
                    report: serde_json::from_str(&report).unwrap_or_default(),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// The approval gate: only a person who holds the legal role on the
    /// incident's team may approve, and only a draft (not one still rendering
    /// or superseded). Nothing of a version is sent before this.
    pub fn approve_notices(
        &self,
        incident: u64,
        version: u32,
        approver: &str,
        actor: &str,
    ) -> Result<()> {
        let record = self.incident(incident)?;
        let legal: Vec<&str> = record
            .incident
            .team
            .iter()
            .filter(|a| a.role == Role::Legal)
            .map(|a| a.person.as_str())
            .collect();
        if !legal.contains(&approver) {
            return Err(StoreError::Notice(if legal.is_empty() {
                format!("incident {incident} has nobody in the legal role; assign one with `bulwark incident assign {incident} legal <person>`")
            } else {
                format!("`{approver}` does not hold the legal role on incident {incident}; legal approval is required")
            }));
        }
        let approver = approver.to_owned();
        let actor = actor.to_owned();
        self.writer()
            .submit(move |ctx| {
                let state: Option<String> = ctx
                    .main
                    .query_row(
                        "SELECT state FROM notice_versions WHERE incident_id = ?1 AND version = ?2",
                        params![incident as i64, version],
                        |r| r.get(0),
                    )
                    .optional()?;
                match state.as_deref() {
                    None => return Err(StoreError::Notice(format!("incident {incident} has no notice version {version}"))),
                    Some("draft") => {}
                    Some(s) => return Err(StoreError::Notice(format!("notice version {version} is {s}; only a draft can be approved"))),
                }
                ctx.main.execute(
                    "UPDATE notice_versions SET state = 'approved', approved_by = ?3, approved_ms = ?4 WHERE incident_id = ?1 AND version = ?2",
                    params![incident as i64, version, approver, ctx.now_ms],
                )?;
                ctx.ledger(&actor, "notices.approved", &incident.to_string(), serde_json::json!({"version": version, "approved_by": approver}))?;
                let entry = bulwark_incident::TimelineEntry::new(
                    incident,
                    crate::incidents::timestamp(ctx),
                    &actor,
                    bulwark_incident::EntryKind::Note,
                    format!("Notices v{version} approved by {approver} (legal)"),
                    serde_json::json!({"version": version, "approved_by": approver}),
                );
                crate::incidents::append_timeline(ctx, incident, &entry)?;
                Ok(())
            })
            .wait_blocking()
    }
}
