//! Drafts for everyone who is not an individual: regulators and attorneys
//! general, card brands and the acquirer, consumer reporting agencies and law
//! enforcement. One Markdown document per obligation, with the fields the
//! law file says the filing must contain and the facts Bulwark knows.

use bulwark_law::{Obligation, Recipient};
use bulwark_model::DataElement;
use minijinja::{context, Value};
use serde::Serialize;

use crate::error::NoticeError;
use crate::facts::NoticeFacts;
use crate::render::Renderer;

/// Incident-wide facts a draft needs besides the notice facts.
#[derive(Debug, Clone, Serialize)]
pub struct DraftContext {
    /// RFC 3339.
    pub aware_at: String,
    pub notice_date: String,
    pub total: u64,
    pub elements: Vec<DataElement>,
    pub encrypted: bool,
    pub key_compromised: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Draft {
    pub jurisdiction: String,
    pub law: String,
    pub recipient: Recipient,
    /// A file name for it (`US-CA-regulator.md`).
    pub file_name: String,
    pub markdown: String,
}

fn recipient_label(r: Recipient) -> &'static str {
    match r {
        Recipient::Individuals => "Notice to individuals",
        Recipient::Regulator => "Regulator / attorney general",
        Recipient::ConsumerReportingAgencies => "Consumer reporting agencies",
        Recipient::CardBrands => "Card brands",
        Recipient::Acquirer => "Acquirer",
        Recipient::LawEnforcement => "Law enforcement",
    }
}

impl Renderer {
    /// One draft per obligation that is not a notice to individuals.
    pub fn drafts(
        &self,
        obligations: &[Obligation],
        facts: &NoticeFacts,
        cx: &DraftContext,
    ) -> Result<Vec<Draft>, NoticeError> {
        let mut out = Vec::new();
        for o in obligations
            .iter()
            .filter(|o| o.recipient != Recipient::Individuals)
        {
            let name = [
                format!("drafts/{}/{}.md.j2", o.jurisdiction, o.recipient.code()),
                format!("drafts/{}.md.j2", o.recipient.code()),
                "drafts/filing.md.j2".to_owned(),
            ]
            .into_iter()
            .find(|n| self.templates().get(n).is_some())
            .ok_or_else(|| NoticeError::Missing("drafts/filing.md.j2".into()))?;
            let labels: Vec<&str> = cx.elements.iter().map(|e| e.code()).collect();
            let card: Vec<&str> = cx
                .elements
                .iter()
                .filter(|e| e.is_card())
                .map(|e| e.code())
                .collect();
            let mut ov = serde_json::to_value(o).map_err(|e| NoticeError::Template {
                name: name.clone(),
                message: e.to_string(),
            })?;
            if let Some(m) = ov.as_object_mut() {
                m.insert(
                    "recipient_label".into(),
                    recipient_label(o.recipient).into(),
                );
            }
            let ctx = context! {
                o => Value::from_serialize(&ov),
                facts => Value::from_serialize(facts),
                aware_at => cx.aware_at.as_str(),
                notice_date => cx.notice_date.as_str(),
                total => cx.total,
                elements => labels,
                card_elements => card,
                encrypted => cx.encrypted,
                key_compromised => cx.key_compromised,
            };
            let markdown = self.render_named(&name, &ctx)?;
            out.push(Draft {
                jurisdiction: o.jurisdiction.clone(),
                law: o.law.clone(),
                recipient: o.recipient,
                file_name: format!("{}-{}-{}.md", o.jurisdiction, o.law, o.recipient.code()),
                markdown,
            });
        }
        Ok(out)
    }
}
