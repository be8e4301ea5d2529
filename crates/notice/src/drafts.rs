//! Drafts for everyone who is not an individual: regulators and attorneys
//! general, card brands and the acquirer, consumer reporting agencies and law
//! enforcement. One Markdown document per obligation, with the fields the
//! law file says the filing must contain and the facts Bulwark knows.

use bulwark_law::{Obligation, Recipient};
use bulwark_model::DataElement;
use minijinja::{context, Value};
use serde::Serialize;

use crate::error::NoticeError;
use crate::facts::{is_language_code, NoticeFacts};
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
    /// The language of the regulators' drafts (ISO 639-1), where
    /// `drafts/<lang>/` has a template; default: the language of the
    /// regulator's country (`languages.toml`), else English. Drafts for card
    /// brands, the acquirer, bureaus and the police stay in English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Draft {
    pub jurisdiction: String,
    pub law: String,
    pub recipient: Recipient,
    /// The language it is written in.
    pub language: String,
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
            // Supervisory authorities take filings in their national language;
            // card brands, acquirers and US bodies in English.
            let lang = match o.recipient {
                Recipient::Regulator => cx
                    .language
                    .as_deref()
                    .unwrap_or_else(|| self.mapped_language(&o.jurisdiction)),
                _ => "en",
            };
            let rec = o.recipient.code();
            let mut names = vec![format!("drafts/{}/{rec}.md.j2", o.jurisdiction)];
            if lang != "en" && is_language_code(lang) {
                names.push(format!("drafts/{lang}/{rec}.md.j2"));
                names.push(format!("drafts/{lang}/filing.md.j2"));
            }
            names.push(format!("drafts/{rec}.md.j2"));
            names.push("drafts/filing.md.j2".to_owned());
            let name = names
                .into_iter()
                .find(|n| self.templates().get(n).is_some())
                .ok_or_else(|| NoticeError::Missing("drafts/filing.md.j2".into()))?;
            let language = match name.split('/').nth(1) {
                Some(l) if is_language_code(l) => l.to_owned(),
                _ => "en".to_owned(),
            };
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
                // A filing in a language the facts are translated into says them in it.
                facts => Value::from_serialize(&*facts.in_language(&language)),
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
                language,
                file_name: format!("{}-{}-{}.md", o.jurisdiction, o.law, o.recipient.code()),
                markdown,
            });
        }
        Ok(out)
    }
}
