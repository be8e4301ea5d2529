//! Rendering one letter per customer and checking it against the laws of the
//! customer's jurisdiction before it may be queued.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bulwark_law::NoticeContent;
use bulwark_model::DataElement;
use minijinja::{context, AutoEscape, Environment, Value};
use serde::{Deserialize, Serialize};

use crate::error::NoticeError;
use crate::facts::{NoticeFacts, RemedyOffer};
use crate::rules::LetterRules;
use crate::section::{section_filter, split, strip_markers, visible_text};
use crate::templates::TemplateSet;

/// California's headings (Civ. Code 1798.82(d)(1)), in order.
const CA_HEADINGS: [&str; 5] = [
    "What Happened",
    "What Information Was Involved",
    "What We Are Doing",
    "What You Can Do",
    "For More Information",
];

/// Content whose check is English text (California's title and headings): a
/// letter under a law that requires it is in English, whatever the customer's
/// preference.
const ENGLISH_ONLY: [NoticeContent; 2] = [NoticeContent::Title, NoticeContent::StandardHeadings];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Languages {
    default: String,
    #[serde(default)]
    languages: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Strings {
    labels: BTreeMap<DataElement, String>,
    #[serde(default)]
    advice: BTreeMap<DataElement, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entity {
    name: String,
    phone: String,
    address: String,
    website: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Contacts {
    #[allow(dead_code)]
    last_reviewed: String,
    bureaus: Vec<Entity>,
    ftc: Entity,
    #[serde(default)]
    ag: BTreeMap<String, Entity>,
    /// English phrases ("the Information Commissioner's Office (…)").
    regulators: BTreeMap<String, String>,
    /// The authorities' own names, for letters in other languages.
    #[serde(default)]
    authorities: BTreeMap<String, Authority>,
}

/// An authority's name, or its name per letter language.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Authority {
    Name(String),
    ByLanguage(BTreeMap<String, String>),
}

impl Authority {
    fn name(&self, lang: &str) -> Option<&str> {
        match self {
            Authority::Name(n) => Some(n),
            Authority::ByLanguage(m) => m
                .get(lang)
                .or_else(|| m.get("en"))
                .or_else(|| m.values().next())
                .map(String::as_str),
        }
    }
}

/// Why a customer's letter is not in the language they asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LanguageFallback {
    /// There are no templates in that language.
    NoTemplates,
    /// A law of the customer's jurisdiction prescribes an English title and
    /// headings (California), which only the English letter is checked for.
    LawRequiresEnglish,
}

impl LanguageFallback {
    pub fn as_str(self) -> &'static str {
        match self {
            LanguageFallback::NoTemplates => "no_templates",
            LanguageFallback::LawRequiresEnglish => "law_requires_english",
        }
    }
}

/// The language a letter is written in, and why it is not the customer's
/// preference when it is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LanguageChoice<'a> {
    pub language: &'a str,
    pub fallback: Option<LanguageFallback>,
}

/// One customer's letter input. `name` is the only personal value templates see.
#[derive(Debug, Clone)]
pub struct Letter<'a> {
    pub name: Option<&'a str>,
    /// `US-CA`, `DE`…
    pub jurisdiction: &'a str,
    /// The customer's language preference (ISO 639-1); `None`: by residency.
    /// It decides when templates exist for it and the jurisdiction's laws
    /// allow it ([`Prepared::language`]).
    pub language: Option<&'a str>,
    /// This customer's exposed elements.
    pub elements: &'a [DataElement],
    pub enrolment_code: Option<&'a str>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedLetter {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub language: String,
    /// The body template used (`en/US-MA/body.txt.j2`).
    pub template: String,
}

/// Why a letter may not be sent: the laws it was checked against and every
/// problem found. Carries no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("notice for {jurisdiction} refused: {}", problems.join("; "))]
pub struct Refusal {
    pub jurisdiction: String,
    pub laws: Vec<String>,
    pub problems: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LetterError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Template(#[from] NoticeError),
}

#[derive(Serialize)]
struct ElementView<'a> {
    code: &'static str,
    label: &'a str,
    advice: Option<&'a str>,
}

// Stand-ins for a stencil: private-use characters (which no input may carry)
// around ASCII, so they pass HTML escaping unchanged.
const NAME_A: &str = "\u{E010}name\u{E010}";
const NAME_B: &str = "\u{E011}NAME\u{E011}";
const CODE_A: &str = "\u{E012}code\u{E012}";
const CODE_B: &str = "\u{E013}CODE\u{E013}";

fn is_stand_in(c: char) -> bool {
    ('\u{E010}'..='\u{E013}').contains(&c)
}

/// A filled letter still holds a stand-in: the templates changed a stand-in
/// (e.g. a filter applied to the name) so that filling did not find it. The
/// letter must not be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the letter's {part} kept a stand-in after filling")]
pub struct StandInError {
    /// `subject`, `text` or `html`.
    pub part: &'static str,
}

/// A checked letter with stand-ins for the name and the enrolment code,
/// pre-split so that filling it is one copy per part.
#[derive(Debug, Clone)]
pub struct Stencil {
    letter: RenderedLetter,
    parts: [Vec<Part>; 3],
}

#[derive(Debug, Clone, Copy)]
enum Part {
    Lit(usize, usize),
    Name,
    Code,
}

fn parts(s: &str) -> Vec<Part> {
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        let next = [
            (s[at..].find(NAME_A), Part::Name, NAME_A.len()),
            (s[at..].find(CODE_A), Part::Code, CODE_A.len()),
        ]
        .into_iter()
        .filter_map(|(i, p, len)| i.map(|i| (at + i, p, len)))
        .min_by_key(|(i, _, _)| *i);
        match next {
            Some((i, p, len)) => {
                if i > at {
                    out.push(Part::Lit(at, i));
                }
                out.push(p);
                at = i + len;
            }
            None => {
                if at < s.len() {
                    out.push(Part::Lit(at, s.len()));
                }
                return out;
            }
        }
    }
}

fn join(src: &str, parts: &[Part], name: &str, code: &str) -> String {
    let len: usize = parts
        .iter()
        .map(|p| match p {
            Part::Lit(a, b) => b - a,
            Part::Name => name.len(),
            Part::Code => code.len(),
        })
        .sum();
    let mut out = String::with_capacity(len);
    for p in parts {
        match p {
            Part::Lit(a, b) => out.push_str(&src[*a..*b]),
            Part::Name => out.push_str(name),
            Part::Code => out.push_str(code),
        }
    }
    out
}

impl Stencil {
    /// This customer's letter. `name` and `code` must be present exactly when
    /// they were for the shape. Refuses a letter in which a stand-in survived.
    pub fn fill(
        &self,
        name: Option<&str>,
        code: Option<&str>,
    ) -> Result<RenderedLetter, StandInError> {
        let name = name.map(strip_markers).unwrap_or_default();
        let code = code.map(strip_markers).unwrap_or_default();
        let html_name = minijinja::HtmlEscape(&name).to_string();
        let html_code = minijinja::HtmlEscape(&code).to_string();
        let l = &self.letter;
        let filled = RenderedLetter {
            subject: join(&l.subject, &self.parts[0], &name, &code),
            text: join(&l.text, &self.parts[1], &name, &code),
            html: join(&l.html, &self.parts[2], &html_name, &html_code),
            language: l.language.clone(),
            template: l.template.clone(),
        };
        for (part, t) in [
            ("subject", &filled.subject),
            ("text", &filled.text),
            ("html", &filled.html),
        ] {
            if t.contains(is_stand_in) {
                return Err(StandInError { part });
            }
        }
        Ok(filled)
    }

    /// The stencil itself (stand-ins in place): identical for every letter of
    /// the shape and free of personal data, so it can be stored once.
    pub fn letter(&self) -> &RenderedLetter {
        &self.letter
    }

    pub fn from_letter(letter: RenderedLetter) -> Stencil {
        let parts = [
            parts(&letter.subject),
            parts(&letter.text),
            parts(&letter.html),
        ];
        Stencil { letter, parts }
    }
}

/// Compiled templates and their data files.
pub struct Renderer {
    env: Environment<'static>,
    languages: Languages,
    strings: BTreeMap<String, Strings>,
    /// Languages with strings and all three templates.
    available: BTreeSet<String>,
    contacts: Contacts,
    us_contacts: (Value, Value),
    set: TemplateSet,
}

fn parse_toml<T: serde::de::DeserializeOwned>(
    set: &TemplateSet,
    file: &str,
) -> Result<T, NoticeError> {
    let text = set.get(file).ok_or_else(|| NoticeError::Data {
        file: file.to_owned(),
        message: "missing".into(),
    })?;
    toml::from_str(text).map_err(|e| NoticeError::Data {
        file: file.to_owned(),
        message: e.message().to_owned(),
    })
}

fn country(jurisdiction: &str) -> &str {
    jurisdiction.split('-').next().unwrap_or(jurisdiction)
}

impl Renderer {
    /// Compiles every template of the set; a template that does not compile is
    /// an error naming it and its line.
    pub fn new(set: &TemplateSet) -> Result<Renderer, NoticeError> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html.j2") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        env.add_filter("section", |body: Value, code: String| {
            section_filter(body, &code)
        });
        let mut strings = BTreeMap::new();
        for (path, text) in set.files() {
            if path.ends_with(".j2") {
                env.add_template_owned(path.clone(), text.clone())
                    .map_err(|e| NoticeError::template(path, &e))?;
            } else if let Some(lang) = path.strip_suffix("/strings.toml") {
                let s: Strings = parse_toml(set, path)?;
                if let Some((e, _)) = s.labels.iter().find(|(_, l)| l.trim().is_empty()) {
                    return Err(NoticeError::Data {
                        file: path.clone(),
                        message: format!("the label of `{}` is blank", e.code()),
                    });
                }
                strings.insert(lang.to_owned(), s);
            }
        }
        let languages: Languages = parse_toml(set, "languages.toml")?;
        let contacts: Contacts = parse_toml(set, "contacts.toml")?;
        let us_contacts = (
            Value::from_serialize(&contacts.bureaus),
            Value::from_serialize(&contacts.ftc),
        );
        let available = strings
            .keys()
            .filter(|lang| {
                ["subject.txt.j2", "body.txt.j2", "body.html.j2"]
                    .iter()
                    .all(|f| env.get_template(&format!("{lang}/{f}")).is_ok())
            })
            .cloned()
            .collect();
        let r = Renderer {
            env,
            languages,
            strings,
            available,
            contacts,
            us_contacts,
            set: set.clone(),
        };
        for file in ["subject.txt.j2", "body.txt.j2", "body.html.j2"] {
            let name = format!("{}/{file}", r.languages.default);
            r.env
                .get_template(&name)
                .map_err(|_| NoticeError::Missing(name.clone()))?;
        }
        if !r.strings.contains_key(&r.languages.default) {
            return Err(NoticeError::Missing(format!(
                "{}/strings.toml",
                r.languages.default
            )));
        }
        Ok(r)
    }

    pub(crate) fn render_named(&self, name: &str, ctx: &Value) -> Result<String, NoticeError> {
        let t = self
            .env
            .get_template(name)
            .map_err(|e| NoticeError::template(name, &e))?;
        t.render(ctx).map_err(|e| NoticeError::template(name, &e))
    }

    pub fn templates(&self) -> &TemplateSet {
        &self.set
    }

    /// Language of the letter for a resident of `jurisdiction`: the most
    /// specific code listed, else the default; a language without templates
    /// falls back to the default.
    pub fn language_for(&self, jurisdiction: &str) -> &str {
        let lang = self.mapped_language(jurisdiction);
        match self.available.get(lang) {
            Some(l) => l,
            None => &self.languages.default,
        }
    }

    /// The language `languages.toml` gives `jurisdiction`, templates or not.
    pub(crate) fn mapped_language(&self, jurisdiction: &str) -> &str {
        self.languages
            .languages
            .get(jurisdiction)
            .or_else(|| self.languages.languages.get(country(jurisdiction)))
            .unwrap_or(&self.languages.default)
    }

    /// Whether letters can be written in `lang` (strings and all three templates).
    pub fn has_language(&self, lang: &str) -> bool {
        self.available.contains(lang)
    }

    /// The languages letters can be written in.
    pub fn languages(&self) -> impl Iterator<Item = &str> {
        self.available.iter().map(String::as_str)
    }

    /// The language of a letter to a resident of `jurisdiction` whose own
    /// preference is `preference`, under that jurisdiction's `rules`: the
    /// preference when templates exist for it and no law there prescribes
    /// English wording; else the residency's language (English where a law
    /// prescribes English wording).
    pub fn choose_language<'a>(
        &'a self,
        jurisdiction: &str,
        preference: Option<&str>,
        rules: &LetterRules,
    ) -> LanguageChoice<'a> {
        let english = ENGLISH_ONLY.iter().any(|c| rules.requires.contains(c));
        let by_residency = match self.available.get("en") {
            Some(en) if english => en.as_str(),
            _ => self.language_for(jurisdiction),
        };
        let chosen = |language, fallback| LanguageChoice { language, fallback };
        match preference {
            None => chosen(by_residency, None),
            Some(p) if p == by_residency => chosen(by_residency, None),
            Some(p) => match self.available.get(p) {
                None => chosen(by_residency, Some(LanguageFallback::NoTemplates)),
                Some(_) if english => {
                    chosen(by_residency, Some(LanguageFallback::LawRequiresEnglish))
                }
                Some(l) => chosen(l, None),
            },
        }
    }

    /// The most specific template for this language and jurisdiction.
    fn pick(&self, lang: &str, jurisdiction: &str, file: &str) -> String {
        for scope in [jurisdiction, country(jurisdiction)] {
            let name = format!("{lang}/{scope}/{file}");
            if self.set.get(&name).is_some() {
                return name;
            }
        }
        format!("{lang}/{file}")
    }

    fn label(&self, lang: &str, e: DataElement) -> &str {
        self.strings
            .get(lang)
            .and_then(|s| s.labels.get(&e))
            .or_else(|| {
                self.strings
                    .get(&self.languages.default)
                    .and_then(|s| s.labels.get(&e))
            })
            .map(String::as_str)
            .unwrap_or(e.code())
    }

    fn regulator(&self, jurisdiction: &str) -> &str {
        let r = &self.contacts.regulators;
        r.get(jurisdiction)
            .or_else(|| r.get(country(jurisdiction)))
            .or_else(|| r.get("default"))
            .map(String::as_str)
            .unwrap_or("the data protection authority")
    }

    /// The authority's own name for a letter in `lang`, when one is listed
    /// for the jurisdiction or its country.
    fn authority(&self, jurisdiction: &str, lang: &str) -> Option<&str> {
        let a = &self.contacts.authorities;
        a.get(jurisdiction)
            .or_else(|| a.get(country(jurisdiction)))
            .and_then(|a| a.name(lang))
    }

    /// Fixes the facts and the notice date for a batch of letters.
    pub fn prepare<'r>(
        &'r self,
        facts: &'r NoticeFacts,
        notice_date: &str,
        rules: &'r BTreeMap<String, LetterRules>,
    ) -> Prepared<'r> {
        let mut per: HashMap<String, HashMap<String, JurisdictionCtx>> = HashMap::new();
        for (j, r) in rules {
            let by_lang = self
                .available
                .iter()
                .map(|lang| (lang.clone(), self.jurisdiction_ctx(j, lang, r)))
                .collect();
            per.insert(j.clone(), by_lang);
        }
        let translated = facts
            .translations
            .keys()
            .filter(|lang| self.available.contains(*lang))
            .map(|lang| (lang.clone(), FactsView::of(&facts.in_language(lang))))
            .collect();
        Prepared {
            r: self,
            facts,
            facts_view: FactsView::of(facts),
            translated,
            notice_date: notice_date.to_owned(),
            rules,
            per,
            empty: LetterRules::default(),
        }
    }

    fn jurisdiction_ctx(&self, j: &str, lang: &str, rules: &LetterRules) -> JurisdictionCtx {
        let lang = lang.to_owned();
        let flags = |set: &BTreeSet<NoticeContent>| {
            Value::from_serialize(
                set.iter()
                    .map(|c| (c.code(), true))
                    .collect::<BTreeMap<_, _>>(),
            )
        };
        let contacts = context! {
            bureaus => self.us_contacts.0.clone(),
            ftc => self.us_contacts.1.clone(),
            ag => self.contacts.ag.get(j).map(Value::from_serialize),
            regulator => self.regulator(j),
            authority => self.authority(j, &lang),
        };
        JurisdictionCtx {
            subject: self.pick(&lang, j, "subject.txt.j2"),
            text: self.pick(&lang, j, "body.txt.j2"),
            html: self.pick(&lang, j, "body.html.j2"),
            required: flags(&rules.requires),
            prohibited: flags(&rules.prohibits),
            contacts,
            country: country(j).to_owned(),
            lang,
        }
    }
}

struct JurisdictionCtx {
    lang: String,
    country: String,
    subject: String,
    text: String,
    html: String,
    required: Value,
    prohibited: Value,
    contacts: Value,
}

/// The facts as templates see them in one language.
struct FactsView {
    value: Value,
    remedy: Option<Value>,
}

impl FactsView {
    fn of(facts: &NoticeFacts) -> FactsView {
        FactsView {
            value: Value::from_serialize(facts),
            remedy: facts.remedy.as_ref().map(Value::from_serialize),
        }
    }
}

/// A renderer with this notice version's facts; renders and checks letters.
/// `Sync`: render from as many threads as there are cores.
pub struct Prepared<'r> {
    r: &'r Renderer,
    facts: &'r NoticeFacts,
    facts_view: FactsView,
    /// The facts in each language they are translated into.
    translated: HashMap<String, FactsView>,
    notice_date: String,
    rules: &'r BTreeMap<String, LetterRules>,
    /// Per jurisdiction of the rules, per language.
    per: HashMap<String, HashMap<String, JurisdictionCtx>>,
    empty: LetterRules,
}

impl<'r> Prepared<'r> {
    pub fn rules_for(&self, jurisdiction: &str) -> &LetterRules {
        self.rules.get(jurisdiction).unwrap_or(&self.empty)
    }

    /// The language of a letter to a resident of `jurisdiction` who prefers
    /// `preference` ([`Renderer::choose_language`] under this render's rules).
    pub fn language(&self, jurisdiction: &str, preference: Option<&str>) -> LanguageChoice<'r> {
        self.r
            .choose_language(jurisdiction, preference, self.rules_for(jurisdiction))
    }

    /// Whether a letter to this customer carries an enrolment code: the offer
    /// covers them, or a law owes them a remedy (which only the offer can give).
    pub fn wants_code(&self, jurisdiction: &str, elements: &[DataElement]) -> bool {
        let rules = self.rules_for(jurisdiction);
        self.facts.remedy.as_ref().is_some_and(|o| {
            o.offered_to(elements) || rules.remedies.iter().any(|m| m.applies(elements))
        })
    }

    /// The remedy this customer gets: the store's offer when it covers them,
    /// or `None`. Problems when a law owes one the offer does not give.
    fn remedy_for(
        &self,
        letter: &Letter<'_>,
        rules: &LetterRules,
        problems: &mut Vec<String>,
    ) -> Option<&RemedyOffer> {
        let owed: Vec<_> = rules
            .remedies
            .iter()
            .filter(|m| m.applies(letter.elements))
            .collect();
        let offer = self
            .facts
            .remedy
            .as_ref()
            .filter(|o| o.offered_to(letter.elements) || !owed.is_empty());
        for m in &owed {
            match offer {
                None => problems.push(format!(
                    "{} requires {}{} for this person's data; the notice facts offer no remedy",
                    m.law,
                    m.kind,
                    m.months
                        .map(|n| format!(" ({n} months)"))
                        .unwrap_or_default()
                )),
                Some(o) => {
                    if let Some(n) = m.months.filter(|n| o.months < *n) {
                        problems.push(format!(
                            "{} requires {} for at least {n} months; the offer is {} months",
                            m.law, m.kind, o.months
                        ));
                    }
                }
            }
        }
        if offer.is_some() && letter.enrolment_code.is_none_or(|c| c.trim().is_empty()) {
            problems.push("a remedy is offered but no enrolment code was assigned (import codes into the pool)".into());
        }
        offer
    }

    /// Renders one customer's letter and checks it; a letter failing any check
    /// is returned as a [`Refusal`] and must not be queued.
    pub fn letter(&self, letter: &Letter<'_>) -> Result<RenderedLetter, LetterError> {
        self.render_checked(letter, letter.name.map(strip_markers))
    }

    /// A stencil for every letter of one shape (jurisdiction, exposed elements,
    /// whether a name and an enrolment code are present): rendered and checked
    /// once with stand-in tokens, then filled per customer. Rendering it with two
    /// different tokens must give the same letter up to the token, which proves
    /// the templates treat name and code as opaque values; when they do not
    /// (a template that inspects the name), this returns `None` and the caller
    /// renders per letter with [`Prepared::letter`].
    pub fn stencil(&self, shape: &Letter<'_>) -> Result<Option<Stencil>, LetterError> {
        let with = |name: &str, code: &str| {
            let l = Letter {
                name: shape.name.map(|_| name),
                enrolment_code: shape.enrolment_code.map(|_| code),
                ..shape.clone()
            };
            self.render_checked(&l, l.name.map(str::to_owned))
        };
        let a = with(NAME_A, CODE_A)?;
        let b = with(NAME_B, CODE_B)?;
        let swap = |s: &str| s.replace(NAME_A, NAME_B).replace(CODE_A, CODE_B);
        if swap(&a.subject) != b.subject || swap(&a.text) != b.text || swap(&a.html) != b.html {
            return Ok(None);
        }
        Ok(Some(Stencil::from_letter(a)))
    }

    fn render_checked(
        &self,
        letter: &Letter<'_>,
        name: Option<String>,
    ) -> Result<RenderedLetter, LetterError> {
        let rules = self.rules_for(letter.jurisdiction);
        let lang = self.language(letter.jurisdiction, letter.language).language;
        let computed;
        let jc = match self
            .per
            .get(letter.jurisdiction)
            .and_then(|by_lang| by_lang.get(lang))
        {
            Some(c) => c,
            None => {
                computed = self.r.jurisdiction_ctx(letter.jurisdiction, lang, rules);
                &computed
            }
        };
        let facts = self.translated.get(lang).unwrap_or(&self.facts_view);
        let mut problems = Vec::new();
        let remedy = self.remedy_for(letter, rules, &mut problems);
        let strings = self.r.strings.get(&jc.lang);
        let elements: Vec<ElementView<'_>> = letter
            .elements
            .iter()
            .map(|e| ElementView {
                code: e.code(),
                label: self.r.label(&jc.lang, *e),
                advice: strings.and_then(|s| s.advice.get(e)).map(String::as_str),
            })
            .collect();
        let ctx = context! {
            customer => context! {
                name => name,
                elements => Value::from_serialize(&elements),
                enrolment_code => letter.enrolment_code,
                remedy => remedy.and(facts.remedy.clone()),
            },
            facts => facts.value.clone(),
            notice_date => self.notice_date.as_str(),
            jurisdiction => letter.jurisdiction,
            country => jc.country.as_str(),
            language => jc.lang.as_str(),
            contacts => jc.contacts.clone(),
            required => jc.required.clone(),
            prohibited => jc.prohibited.clone(),
        };
        let render = |name: &str| -> Result<String, NoticeError> {
            let t = self
                .r
                .env
                .get_template(name)
                .map_err(|e| NoticeError::template(name, &e))?;
            t.render(&ctx).map_err(|e| NoticeError::template(name, &e))
        };
        let subject = render(&jc.subject)?;
        let text = render(&jc.text)?;
        let html = render(&jc.html)?;
        let subject = split(&subject).map_err(|m| bad_markers(&jc.subject, m))?;
        let text = split(&text).map_err(|m| bad_markers(&jc.text, m))?;
        let html = split(&html).map_err(|m| bad_markers(&jc.html, m))?;
        if jc.lang != "en" {
            for c in ENGLISH_ONLY.iter().filter(|c| rules.requires.contains(c)) {
                problems.push(format!(
                    "{} requires `{}` in English wording, which only an English letter is checked for; this letter is in `{}`",
                    rules.laws.join(", "),
                    c.code(),
                    jc.lang
                ));
            }
        }
        let html_sections: BTreeMap<NoticeContent, String> = html
            .sections
            .iter()
            .map(|(k, v)| (*k, visible_text(v)))
            .collect();
        for (format, sections) in [("text", &text.sections), ("HTML", &html_sections)] {
            self.check(
                letter,
                rules,
                remedy,
                &jc.lang,
                format,
                sections,
                &mut problems,
            );
        }
        if !problems.is_empty() {
            problems.dedup();
            return Err(Refusal {
                jurisdiction: letter.jurisdiction.to_owned(),
                laws: rules.laws.clone(),
                problems,
            }
            .into());
        }
        Ok(RenderedLetter {
            subject: subject.clean.trim().to_owned(),
            text: text.clean,
            html: html.clean,
            language: jc.lang.clone(),
            template: jc.text.clone(),
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn check(
        &self,
        letter: &Letter<'_>,
        rules: &LetterRules,
        remedy: Option<&RemedyOffer>,
        lang: &str,
        format: &str,
        sections: &BTreeMap<NoticeContent, String>,
        problems: &mut Vec<String>,
    ) {
        let has = |c: NoticeContent| sections.get(&c).is_some_and(|t| !t.trim().is_empty());
        let laws = |c: NoticeContent| -> String {
            let ids: Vec<&str> = rules.laws.iter().map(String::as_str).collect();
            if rules.requires.contains(&c) || rules.prohibits.contains(&c) {
                ids.join(", ")
            } else {
                "Bulwark".into()
            }
        };
        let f = self.facts;
        for c in &rules.requires {
            let needed = match c {
                NoticeContent::DpoContact => f.dpo.is_some(),
                NoticeContent::ParentCompany => f.parent_company.is_some(),
                NoticeContent::DelayReasons => f.delay_reasons.is_some(),
                NoticeContent::Remedy => remedy.is_some(),
                _ => true,
            };
            if needed && !has(*c) {
                let hint = match c {
                    NoticeContent::RegulatorNotified => {
                        " (set `regulator_notified` in the notice facts)"
                    }
                    NoticeContent::ComplaintProcess => {
                        " (set `complaint_process` in the notice facts)"
                    }
                    NoticeContent::Consequences => " (set `consequences` in the notice facts)",
                    NoticeContent::AffectedCount => " (the affected count is unknown)",
                    _ => "",
                };
                problems.push(format!(
                    "{} requires `{}`; the {format} body has no such section{hint}",
                    laws(*c),
                    c.code()
                ));
            }
        }
        for c in &rules.prohibits {
            if has(*c) {
                problems.push(format!(
                    "{} prohibits `{}`; the {format} body contains it",
                    laws(*c),
                    c.code()
                ));
            }
        }
        // Every letter names this customer's exposed elements, whatever the law.
        match sections.get(&NoticeContent::Elements) {
            None => problems.push(format!("the {format} body has no `elements` section")),
            Some(t) => {
                for e in letter.elements {
                    let label = self.r.label(lang, *e);
                    if !t.contains(label) {
                        problems.push(format!(
                            "the {format} body's `elements` section does not name `{}`",
                            e.code()
                        ));
                    }
                }
            }
        }
        if let (Some(_), Some(code)) = (remedy, letter.enrolment_code) {
            if !sections
                .get(&NoticeContent::Remedy)
                .is_some_and(|t| t.contains(code))
            {
                problems.push(format!(
                    "the {format} body's `remedy` section does not carry the enrolment code"
                ));
            }
        }
        if rules.requires.contains(&NoticeContent::NoticeDate)
            && !sections
                .get(&NoticeContent::NoticeDate)
                .is_some_and(|t| t.contains(&self.notice_date))
        {
            problems.push(format!("the {format} body does not show the notice date"));
        }
        if lang == "en" {
            if rules.requires.contains(&NoticeContent::Title)
                && !sections
                    .get(&NoticeContent::Title)
                    .is_some_and(|t| t.to_lowercase().contains("notice of data breach"))
            {
                problems.push(format!(
                    "{} requires the title \"Notice of Data Breach\" ({format} body)",
                    laws(NoticeContent::Title)
                ));
            }
            if rules.requires.contains(&NoticeContent::StandardHeadings) {
                let t = sections
                    .get(&NoticeContent::StandardHeadings)
                    .map(String::as_str)
                    .unwrap_or("");
                let mut at = 0;
                for h in CA_HEADINGS {
                    match t[at..].find(h) {
                        Some(i) => at += i + h.len(),
                        None => {
                            problems.push(format!(
                                "{} requires the heading \"{h}\" in order ({format} body)",
                                laws(NoticeContent::StandardHeadings)
                            ));
                            break;
                        }
                    }
                }
            }
        }
    }
}

fn bad_markers(name: &str, message: String) -> NoticeError {
    NoticeError::Template {
        name: name.to_owned(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(text: &str) -> RenderedLetter {
        RenderedLetter {
            subject: "Notice".into(),
            text: text.into(),
            html: "<p>Notice</p>".into(),
            language: "en".into(),
            template: "en/body.txt.j2".into(),
        }
    }

    #[test]
    fn filling_replaces_the_stand_ins() {
        let s = Stencil::from_letter(letter(&format!("Dear {NAME_A}, your code: {CODE_A}.")));
        let l = s.fill(Some("Ann \u{E010}Lee"), Some("C-1")).unwrap();
        assert_eq!(l.text, "Dear Ann Lee, your code: C-1.");
    }

    #[test]
    fn a_stand_in_that_survives_filling_is_an_error() {
        // A template that changed the stand-in (here: upper-cased it) leaves one
        // that filling does not find.
        let s = Stencil::from_letter(letter(&format!("Dear {NAME_B},")));
        assert_eq!(
            s.fill(Some("Ann"), None),
            Err(StandInError { part: "text" })
        );
        let mut l = letter("Dear reader");
        l.html = format!("<p>{}</p>", CODE_A.to_uppercase());
        let s = Stencil::from_letter(l);
        let e = s.fill(None, Some("C-1")).unwrap_err();
        assert_eq!(e, StandInError { part: "html" });
        assert_eq!(
            e.to_string(),
            "the letter's html kept a stand-in after filling"
        );
    }
}
