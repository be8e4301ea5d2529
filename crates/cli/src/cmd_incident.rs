//! `bulwark incident …`: open and work an incident from the shell. Every change
//! lands on the incident's timeline and in the ledger.

use std::collections::BTreeSet;
use std::process::ExitCode;

use anyhow::Context;
use bulwark_incident::{
    render_report, Classification, Format, NewIncident, Phase, PlaybookSet, Severity,
};
use bulwark_model::DataElement;
use bulwark_store::Store;
use clap::Subcommand;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::{operator, DataDirArg};

#[derive(Subcommand)]
pub enum IncidentCmd {
    /// Open an incident; the playbooks for its classification become tasks with due times.
    Open {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long)]
        title: String,
        #[arg(long, default_value = "")]
        summary: String,
        /// sev1 (worst) … sev4.
        #[arg(long)]
        severity: String,
        /// credential_theft, web_skimmer, sql_injection_exfiltration, malware_ransomware,
        /// insider_misuse, lost_device, third_party_breach, misdelivery.
        #[arg(long)]
        classification: String,
        /// When the store became aware (RFC 3339; default now). Legal clocks start here.
        #[arg(long)]
        aware_at: Option<String>,
        /// When the breach was discovered (default: aware-at).
        #[arg(long)]
        discovered_at: Option<String>,
        /// An affected system; repeat for several.
        #[arg(long = "system")]
        systems: Vec<String>,
        /// A data element involved; repeat for several.
        #[arg(long = "element")]
        elements: Vec<String>,
        /// A jurisdiction involved (US-CA, DE, EU…); repeat for several.
        #[arg(long = "jurisdiction")]
        jurisdictions: Vec<String>,
        #[arg(long)]
        owner: Option<String>,
    },
    /// List incidents.
    List {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long)]
        json: bool,
    },
    /// Show an incident with its tasks (overdue ones flagged) and timeline.
    Show {
        #[command(flatten)]
        dir: DataDirArg,
        id: u64,
        #[arg(long)]
        json: bool,
    },
    /// Move to another phase (triage, contained, investigating, notifying, remediating,
    /// monitoring, closed); from closed this reopens and needs --reason.
    Advance {
        #[command(flatten)]
        dir: DataDirArg,
        id: u64,
        phase: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Change fields: title, severity, times, root cause, the review (as JSON with --patch).
    Update {
        #[command(flatten)]
        dir: DataDirArg,
        id: u64,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        severity: Option<String>,
        #[arg(long)]
        aware_at: Option<String>,
        #[arg(long)]
        root_cause: Option<String>,
        /// When the attacker first acted (for time to detect).
        #[arg(long)]
        first_malicious_activity: Option<String>,
        /// Any other fields as a JSON object (e.g. {"review": {"what_worked": […]}}).
        #[arg(long)]
        patch: Option<String>,
    },
    /// Put a team member in a role for this incident.
    Assign {
        #[command(flatten)]
        dir: DataDirArg,
        id: u64,
        /// incident_commander, security_lead, legal, pr_comms, customer_service, executive_sponsor.
        role: String,
        person: String,
    },
    /// Complete, skip or reopen a task (keys are in `incident show`).
    Task {
        #[command(flatten)]
        dir: DataDirArg,
        id: u64,
        key: String,
        #[arg(value_parser = ["done", "skip", "reopen"])]
        action: String,
        /// Note for done; reason for skip and reopen.
        #[arg(long)]
        note: Option<String>,
    },
    /// Run a containment action and record it: revoke_api_key (--target KEY_ID),
    /// vault_lockdown (--undo lifts it), rotate_data_key.
    Contain {
        #[command(flatten)]
        dir: DataDirArg,
        id: u64,
        #[arg(value_parser = ["revoke_api_key", "vault_lockdown", "rotate_data_key", "webhook"])]
        action: String,
        /// For webhook: the store event to call, e.g. checkout.pause.
        #[arg(long)]
        event: Option<String>,
        #[arg(long)]
        target: Option<String>,
        #[arg(long)]
        undo: bool,
        /// Why (recorded).
        #[arg(long)]
        reason: String,
    },
    /// Publish an update on the incident's public page (served at /updates/<slug>).
    Publish {
        #[command(flatten)]
        dir: DataDirArg,
        id: u64,
        text: String,
    },
    /// Add a note to the timeline.
    Note {
        #[command(flatten)]
        dir: DataDirArg,
        id: u64,
        text: String,
    },
    /// Render the post-incident review.
    Report {
        #[command(flatten)]
        dir: DataDirArg,
        id: u64,
        #[arg(long, default_value = "md", value_parser = ["md", "html"])]
        format: String,
    },
}

fn when(v: Option<&str>) -> anyhow::Result<Option<OffsetDateTime>> {
    v.map(|t| {
        OffsetDateTime::parse(t, &Rfc3339).with_context(|| format!("`{t}` is not an RFC 3339 time"))
    })
    .transpose()
}

/// Built-in playbooks with the data directory's `playbooks/` replacing or adding.
pub fn playbooks(dir: &DataDirArg) -> anyhow::Result<PlaybookSet> {
    Ok(dir.files().playbooks()?)
}

fn fmt_time(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

pub fn incident(c: IncidentCmd) -> anyhow::Result<ExitCode> {
    let actor = operator().id;
    match c {
        IncidentCmd::Open {
            dir,
            title,
            summary,
            severity,
            classification,
            aware_at,
            discovered_at,
            systems,
            elements,
            jurisdictions,
            owner,
        } => {
            let aware = when(aware_at.as_deref())?.unwrap_or_else(OffsetDateTime::now_utc);
            let mut els = BTreeSet::new();
            for e in &elements {
                els.insert(e.parse::<DataElement>()?);
            }
            let new = NewIncident {
                title,
                summary,
                severity: severity
                    .parse::<Severity>()
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                classification: classification
                    .parse::<Classification>()
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                discovered_at: when(discovered_at.as_deref())?.unwrap_or(aware),
                aware_at: aware,
                affected_systems: systems,
                alerts: Vec::new(),
                owner,
                card_data: els.iter().any(|e| e.is_card()),
                elements: els,
                jurisdictions: jurisdictions.into_iter().collect(),
                drill: None,
            };
            let set = playbooks(&dir)?;
            let store = Store::open(&dir.data_dir, None)?;
            let id = store.open_incident(new, set, &actor).wait_blocking()?;
            let rec = store.incident(id)?;
            println!(
                "opened incident {} ({}) with {} tasks",
                rec.incident.id,
                rec.incident.slug,
                rec.tasks.len()
            );
        }
        IncidentCmd::List { dir, json } => {
            let store = Store::open(&dir.data_dir, None)?;
            for i in store.incidents()? {
                if json {
                    println!("{}", serde_json::to_string(&i)?);
                } else {
                    println!(
                        "{:>4}  {:<5} {:<13} aware {}  {}",
                        i.id,
                        serde_json::to_value(i.severity)?.as_str().unwrap_or(""),
                        serde_json::to_value(i.phase)?.as_str().unwrap_or(""),
                        fmt_time(i.aware_at),
                        i.title
                    );
                }
            }
        }
        IncidentCmd::Show { dir, id, json } => {
            let store = Store::open(&dir.data_dir, None)?;
            let rec = store.incident(id)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rec)?);
                return Ok(ExitCode::SUCCESS);
            }
            let i = &rec.incident;
            println!(
                "#{} {}  [{} / {}]  aware {}",
                i.id,
                i.title,
                serde_json::to_value(i.severity)?.as_str().unwrap_or(""),
                serde_json::to_value(i.phase)?.as_str().unwrap_or(""),
                fmt_time(i.aware_at)
            );
            let now = OffsetDateTime::now_utc();
            println!("\ntasks:");
            for t in &rec.tasks {
                let due = t
                    .due_at
                    .map(fmt_time)
                    .unwrap_or_else(|| "when its phase starts".into());
                let flag = if t.is_overdue(now) { "  OVERDUE" } else { "" };
                println!(
                    "  {:<32} [{}] {:<10} {:<20} due {}  {}{}",
                    t.key,
                    serde_json::to_value(&t.status)?
                        .get("state")
                        .and_then(|s| s.as_str())
                        .unwrap_or("·"),
                    serde_json::to_value(t.phase)?.as_str().unwrap_or(""),
                    serde_json::to_value(t.role)?.as_str().unwrap_or(""),
                    due,
                    t.title,
                    flag
                );
            }
            println!("\ntimeline:");
            for e in &rec.timeline {
                println!("  {}  {:<24} {}", fmt_time(e.at), e.actor, e.text);
            }
        }
        IncidentCmd::Advance {
            dir,
            id,
            phase,
            reason,
        } => {
            let to = phase.parse::<Phase>().map_err(|e| anyhow::anyhow!("{e}"))?;
            let store = Store::open(&dir.data_dir, None)?;
            store
                .advance_incident(id, to, reason, &actor)
                .wait_blocking()?;
            println!("incident {id} is now {phase}");
        }
        IncidentCmd::Task {
            dir,
            id,
            key,
            action,
            note,
        } => {
            let change = match action.as_str() {
                "done" => bulwark_store::TaskChange::Done { note },
                "skip" => bulwark_store::TaskChange::Skip {
                    reason: note.context("skipping a task needs --note with the reason")?,
                },
                _ => bulwark_store::TaskChange::Reopen {
                    reason: note.context("reopening a task needs --note with the reason")?,
                },
            };
            let store = Store::open(&dir.data_dir, None)?;
            store
                .update_task(id, key.clone(), change, &actor)
                .wait_blocking()?;
            println!("task {key} of incident {id}: {action}");
        }
        IncidentCmd::Contain {
            dir,
            id,
            action,
            event,
            target,
            undo,
            reason,
        } => {
            let action = match action.as_str() {
                "revoke_api_key" => bulwark_incident::ContainmentAction::RevokeApiKey,
                "vault_lockdown" => bulwark_incident::ContainmentAction::VaultLockdown,
                "webhook" => bulwark_incident::ContainmentAction::Webhook {
                    event: event.context("a webhook action needs --event, e.g. checkout.pause")?,
                },
                _ => bulwark_incident::ContainmentAction::RotateDataKey,
            };
            // Rotation needs the data keys; webhooks need their sealed signing secrets.
            let needs_keys = matches!(
                action,
                bulwark_incident::ContainmentAction::RotateDataKey
                    | bulwark_incident::ContainmentAction::Webhook { .. }
            );
            let secret = if needs_keys {
                Some(crate::secrets::unlock()?)
            } else {
                None
            };
            let store = Store::open(&dir.data_dir, secret.as_ref())?;
            let payload =
                serde_json::json!({"incident": id, "reason": reason, "undo": undo, "by": actor});
            let deliver = |event: &str| {
                let mut p = payload.clone();
                p["event"] = serde_json::json!(event);
                bulwark_server::webhook::deliver(&store, event, &p)
            };
            let rec = store.contain_blocking(
                id,
                bulwark_store::Contain {
                    action,
                    target,
                    undo,
                    reason: reason.clone(),
                },
                &actor,
                &deliver,
            )?;
            println!("{}", rec.result);
        }
        IncidentCmd::Update {
            dir,
            id,
            title,
            severity,
            aware_at,
            root_cause,
            first_malicious_activity,
            patch,
        } => {
            let mut p: serde_json::Value = match &patch {
                Some(text) => serde_json::from_str(text).map_err(|e| {
                    anyhow::anyhow!(
                        "--patch is not valid: {}",
                        bulwark_store::describe_json_error(&e)
                    )
                })?,
                None => serde_json::json!({}),
            };
            for (k, v) in [
                ("title", title),
                ("severity", severity),
                ("aware_at", aware_at),
                ("root_cause", root_cause),
                ("first_malicious_activity", first_malicious_activity),
            ] {
                if let Some(v) = v {
                    p[k] = serde_json::json!(v);
                }
            }
            let patch: bulwark_incident::IncidentPatch =
                serde_json::from_value(p).map_err(|e| {
                    anyhow::anyhow!(
                        "the update is not valid: {}",
                        bulwark_store::describe_json_error(&e)
                    )
                })?;
            let store = Store::open(&dir.data_dir, None)?;
            store.update_incident(id, patch, &actor).wait_blocking()?;
            println!("incident {id} updated");
        }
        IncidentCmd::Assign {
            dir,
            id,
            role,
            person,
        } => {
            let role = role
                .parse::<bulwark_incident::Role>()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let store = Store::open(&dir.data_dir, None)?;
            store
                .assign_incident(id, role, person, &actor)
                .wait_blocking()?;
        }
        IncidentCmd::Publish { dir, id, text } => {
            let store = Store::open(&dir.data_dir, None)?;
            store.publish_update(id, text, &actor).wait_blocking()?;
            println!(
                "published on /updates/{}",
                store.incident(id)?.incident.slug
            );
        }
        IncidentCmd::Note { dir, id, text } => {
            let store = Store::open(&dir.data_dir, None)?;
            store.note_incident(id, text, &actor).wait_blocking()?;
        }
        IncidentCmd::Report { dir, id, format } => {
            let store = Store::open(&dir.data_dir, None)?;
            let rec = store.incident(id)?;
            store
                .record_event(
                    &actor,
                    "incident.review_rendered",
                    &format!("incident:{id}"),
                    serde_json::json!({"format": format}),
                )
                .wait_blocking()?;
            let format = if format == "html" {
                Format::Html
            } else {
                Format::Markdown
            };
            let (scope, notices) = store.review_summaries(id)?;
            print!(
                "{}",
                render_report(
                    &rec.incident,
                    &rec.timeline,
                    &rec.tasks,
                    scope.as_ref(),
                    notices.as_ref(),
                    format
                )?
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum WebhooksCmd {
    /// Register the store's webhook for an event (checkout.pause, sessions.revoke_all,
    /// admin.force_password_reset, system.isolate…); prints the signing secret once.
    Add {
        #[command(flatten)]
        dir: DataDirArg,
        #[arg(long)]
        event: String,
        #[arg(long)]
        url: String,
    },
    /// List registered webhooks (without secrets).
    List {
        #[command(flatten)]
        dir: DataDirArg,
    },
}

pub fn webhooks(c: WebhooksCmd) -> anyhow::Result<ExitCode> {
    match c {
        WebhooksCmd::Add { dir, event, url } => {
            let store = Store::open(&dir.data_dir, Some(&crate::secrets::unlock()?))?;
            let (hook, secret) = store.add_webhook(&event, &url, &operator().id)?;
            println!(
                "webhook {} for {} -> {}\nsigning secret (shown once; the receiver checks Bulwark-Signature with it):\n\n    {}\n",
                hook.id,
                hook.event,
                hook.url,
                secret.as_str()
            );
        }
        WebhooksCmd::List { dir } => {
            let store = Store::open(&dir.data_dir, None)?;
            for h in store.list_webhooks()? {
                println!("{}  {:<28} {}", h.id, h.event, h.url);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
