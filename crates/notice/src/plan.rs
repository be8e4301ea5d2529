//! Planning a render: for each revealed customer, on which channels a letter
//! goes, whether it is a filled stencil or a whole letter, which enrolment
//! code it carries, or why it is refused. The caller reveals, seals and
//! stores; the planner is fed batch by batch and keeps across batches only
//! what does not grow with the customers: one entry per letter shape, the
//! refusal groups and the code pool.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use bulwark_model::DataElement;
use serde::{Deserialize, Serialize};

use crate::error::NoticeError;
use crate::render::{
    LanguageFallback, Letter, LetterError, Prepared, Refusal, RenderedLetter, StandInError,
};

/// The channels an operator chose for a render.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channels {
    /// E-mail; a printed letter for customers without an e-mail address.
    Email,
    Print,
    Both,
}

/// One channel a letter goes out on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Print,
}

impl Channel {
    /// The name stored in the outbox.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Print => "print",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl Channels {
    /// The channels a customer with these contact details gets.
    pub fn for_contact(self, email: bool, address: bool) -> &'static [Channel] {
        const EMAIL: &[Channel] = &[Channel::Email];
        const PRINT: &[Channel] = &[Channel::Print];
        const BOTH: &[Channel] = &[Channel::Email, Channel::Print];
        match (self, email, address) {
            (Channels::Email, true, _) => EMAIL,
            (Channels::Email, false, true) => PRINT,
            (Channels::Print, _, true) => PRINT,
            (Channels::Both, true, true) => BOTH,
            (Channels::Both, true, false) => EMAIL,
            (Channels::Both, false, true) => PRINT,
            _ => &[],
        }
    }
}

/// What makes two letters the same but for the name and the code: one
/// stencil (or one refusal) serves every letter of a shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Shape {
    pub jurisdiction: String,
    /// The letter's language: two customers of one jurisdiction who read
    /// different languages get different stencils.
    pub language: String,
    pub elements: Vec<DataElement>,
    pub has_name: bool,
    pub has_code: bool,
}

/// A stencil of this render; ids count from 0 in the order shapes appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StencilId(pub u32);

/// One customer of a batch, as revealed.
#[derive(Clone, Copy)]
pub struct Addressee<'a> {
    pub customer: &'a str,
    /// `US-CA`, `DE`…
    pub jurisdiction: &'a str,
    /// The customer's language preference (ISO 639-1), if any.
    pub language: Option<&'a str>,
    /// This customer's exposed elements.
    pub elements: &'a [DataElement],
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub address: Option<&'a str>,
}

/// Enrolment codes: those customers already hold (kept when a version is
/// rendered again) and the free ones.
#[derive(Clone, Default)]
pub struct CodePool {
    assigned: HashMap<String, String>,
    /// Handed out from the end.
    free: Vec<String>,
}

impl CodePool {
    /// `free` in the order the codes are to be handed out.
    pub fn new(assigned: HashMap<String, String>, mut free: Vec<String>) -> CodePool {
        free.reverse();
        CodePool { assigned, free }
    }

    pub fn free(&self) -> usize {
        self.free.len()
    }

    fn take(&mut self, customer: &str) -> Option<String> {
        self.assigned
            .get(customer)
            .cloned()
            .or_else(|| self.free.pop())
    }

    /// A refused letter's code goes back, unless the customer held it before.
    fn give_back(&mut self, customer: &str, code: String) {
        if self.assigned.get(customer) != Some(&code) {
            self.free.push(code);
        }
    }

    fn hold(&mut self, customer: &str, code: &str) {
        if self.assigned.get(customer).map(String::as_str) != Some(code) {
            self.assigned.insert(customer.to_owned(), code.to_owned());
        }
    }
}

/// What a letter is made from.
#[derive(Clone, PartialEq, Eq)]
pub enum Body {
    /// The shape's stencil, filled with the personal values at delivery.
    Stencil(StencilId),
    /// The whole letter, for templates that inspect the name (it contains
    /// the name, so it is personal data).
    Letter(RenderedLetter),
}

/// The personal values a letter needs on its channel: the name always, the
/// e-mail address only on e-mail, the postal address only on print.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PersonalValues<'a> {
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub address: Option<&'a str>,
}

/// One outbox row to insert: one letter to one customer on one channel.
#[derive(Clone)]
pub struct RowSpec<'a> {
    pub customer: &'a str,
    pub channel: Channel,
    pub body: Body,
    pub jurisdiction: &'a str,
    pub personal: PersonalValues<'a>,
    /// The enrolment code in the letter; the customer holds it from now on.
    pub code: Option<String>,
}

/// A stencil to store with the version: free of personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStencil {
    pub id: StencilId,
    pub jurisdiction: String,
    pub letter: RenderedLetter,
}

/// Letters refused for the same reasons in one jurisdiction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalGroup {
    pub jurisdiction: String,
    pub laws: Vec<String>,
    pub problems: Vec<String>,
    pub count: u64,
}

/// Customers whose letter is not in the language they prefer, for the same
/// reason. Carries no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageFallbackGroup {
    /// The language the customers asked for.
    pub preferred: String,
    /// The language their letters are in.
    pub language: String,
    pub reason: LanguageFallback,
    pub count: u64,
}

/// Letters planned so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanCounts {
    pub email: u64,
    pub print: u64,
    /// Customers without an address for any chosen channel.
    pub no_contact: u64,
    /// Customers whose letter was refused (once each, whatever the channels).
    pub refused: u64,
}

/// Everything a render keeps once the last batch is planned.
#[derive(Debug, Clone)]
pub struct Plan {
    pub stencils: Vec<PlannedStencil>,
    /// Ordered by jurisdiction, laws and problems.
    pub refused: Vec<RefusalGroup>,
    pub counts: PlanCounts,
    /// Customers whose letter is queued, by the letter's language.
    pub languages: BTreeMap<String, u64>,
    /// Customers (with a letter queued or refused) whose preference could not
    /// be followed, ordered by preference, language and reason.
    pub fallbacks: Vec<LanguageFallbackGroup>,
}

/// Why a render cannot go on. Carries no personal data.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Template(#[from] NoticeError),
    #[error("a {jurisdiction} letter kept a stand-in after filling; refusing the render")]
    StandIn {
        jurisdiction: String,
        #[source]
        source: StandInError,
    },
}

/// What a shape's letters are, once tried.
#[derive(Debug, Clone, Copy)]
enum Fate {
    Stencil(StencilId),
    /// The templates inspect the name: each letter is rendered and checked.
    PerLetter,
    /// Index into `Planner::groups`.
    Refused(usize),
}

/// Plans the letters of one notice version, batch by batch.
pub struct Planner<'p, 'r> {
    prepared: &'p Prepared<'r>,
    channels: Channels,
    pool: CodePool,
    shapes: HashMap<Shape, Fate>,
    stencils: Vec<PlannedStencil>,
    groups: Vec<RefusalGroup>,
    group_ids: HashMap<(String, Vec<String>, Vec<String>), usize>,
    counts: PlanCounts,
    languages: BTreeMap<String, u64>,
    /// Few distinct groups: searched in place.
    fallbacks: Vec<LanguageFallbackGroup>,
}

impl<'p, 'r> Planner<'p, 'r> {
    pub fn new(prepared: &'p Prepared<'r>, channels: Channels, pool: CodePool) -> Self {
        Planner {
            prepared,
            channels,
            pool,
            shapes: HashMap::new(),
            stencils: Vec::new(),
            groups: Vec::new(),
            group_ids: HashMap::new(),
            counts: PlanCounts::default(),
            languages: BTreeMap::new(),
            fallbacks: Vec::new(),
        }
    }

    /// The rows for this batch's letters, in the batch's order. Refused and
    /// unreachable customers get none (they are counted).
    pub fn plan<'a>(&mut self, batch: &[Addressee<'a>]) -> Result<Vec<RowSpec<'a>>, PlanError> {
        let mut rows = Vec::with_capacity(batch.len());
        for a in batch {
            self.plan_one(a, &mut rows)?;
        }
        Ok(rows)
    }

    pub fn counts(&self) -> PlanCounts {
        self.counts
    }

    /// The pool as it stands (codes handed out are gone from it).
    pub fn pool(&self) -> &CodePool {
        &self.pool
    }

    pub fn finish(self) -> Plan {
        let mut refused: Vec<RefusalGroup> =
            self.groups.into_iter().filter(|g| g.count > 0).collect();
        refused.sort_by(|a, b| {
            (&a.jurisdiction, &a.laws, &a.problems).cmp(&(&b.jurisdiction, &b.laws, &b.problems))
        });
        let mut fallbacks = self.fallbacks;
        fallbacks.sort_by(|a, b| {
            (&a.preferred, &a.language, a.reason).cmp(&(&b.preferred, &b.language, b.reason))
        });
        Plan {
            stencils: self.stencils,
            refused,
            counts: self.counts,
            languages: self.languages,
            fallbacks,
        }
    }

    fn plan_one<'a>(
        &mut self,
        a: &Addressee<'a>,
        rows: &mut Vec<RowSpec<'a>>,
    ) -> Result<(), PlanError> {
        let channels = self
            .channels
            .for_contact(a.email.is_some(), a.address.is_some());
        if channels.is_empty() {
            self.counts.no_contact += 1;
            return Ok(());
        }
        let choice = self.prepared.language(a.jurisdiction, a.language);
        if let (Some(reason), Some(preferred)) = (choice.fallback, a.language) {
            self.fell_back(preferred, choice.language, reason);
        }
        let wants_code = self.prepared.wants_code(a.jurisdiction, a.elements);
        let code = if wants_code {
            self.pool.take(a.customer)
        } else {
            None
        };
        let letter = Letter {
            name: a.name,
            jurisdiction: a.jurisdiction,
            // Already chosen: the renderer keeps a language it would choose.
            language: Some(choice.language),
            elements: a.elements,
            enrolment_code: code.as_deref(),
        };
        let shape = Shape {
            jurisdiction: a.jurisdiction.to_owned(),
            language: choice.language.to_owned(),
            elements: a.elements.to_vec(),
            has_name: a.name.is_some(),
            has_code: wants_code,
        };
        // A letter that needs a code and got none (the pool ran dry) is rendered
        // on its own, to be refused for it: the shape's stencil would fill the
        // code with nothing.
        let fate = if wants_code && code.is_none() {
            None
        } else if let Some(f) = self.shapes.get(&shape) {
            Some(*f)
        } else {
            let f = self.try_shape(&letter)?;
            self.shapes.insert(shape, f);
            Some(f)
        };
        let body = match fate {
            Some(Fate::Stencil(id)) => Body::Stencil(id),
            Some(Fate::Refused(group)) => {
                self.refuse(group, a.customer, code);
                return Ok(());
            }
            Some(Fate::PerLetter) | None => match self.prepared.letter(&letter) {
                Ok(l) => Body::Letter(l),
                Err(LetterError::Refused(r)) => {
                    let group = self.group_of(r);
                    self.refuse(group, a.customer, code);
                    return Ok(());
                }
                Err(LetterError::Template(e)) => return Err(e.into()),
            },
        };
        if let Some(c) = &code {
            self.pool.hold(a.customer, c);
        }
        match self.languages.get_mut(choice.language) {
            Some(n) => *n += 1,
            None => {
                self.languages.insert(choice.language.to_owned(), 1);
            }
        }
        for &channel in channels {
            match channel {
                Channel::Email => self.counts.email += 1,
                Channel::Print => self.counts.print += 1,
            }
            rows.push(RowSpec {
                customer: a.customer,
                channel,
                body: body.clone(),
                jurisdiction: a.jurisdiction,
                personal: PersonalValues {
                    name: a.name,
                    email: a.email.filter(|_| channel == Channel::Email),
                    address: a.address.filter(|_| channel == Channel::Print),
                },
                code: code.clone(),
            });
        }
        Ok(())
    }

    /// Renders and checks the shape of `letter` once.
    fn try_shape(&mut self, letter: &Letter<'_>) -> Result<Fate, PlanError> {
        let shape = Letter {
            name: letter.name.map(|_| ""),
            enrolment_code: letter.enrolment_code.map(|_| ""),
            ..letter.clone()
        };
        match self.prepared.stencil(&shape) {
            Ok(Some(s)) => {
                // Filling strips stand-in characters from the values, so whether
                // a stand-in survives depends on the stencil alone: one fill
                // proves every letter of the shape (and each is filled, and
                // checked again, when it is delivered).
                s.fill(
                    letter.name.map(|_| "name"),
                    letter.enrolment_code.map(|_| "code"),
                )
                .map_err(|source| PlanError::StandIn {
                    jurisdiction: letter.jurisdiction.to_owned(),
                    source,
                })?;
                let id = StencilId(self.stencils.len() as u32);
                self.stencils.push(PlannedStencil {
                    id,
                    jurisdiction: letter.jurisdiction.to_owned(),
                    letter: s.letter().clone(),
                });
                Ok(Fate::Stencil(id))
            }
            Ok(None) => Ok(Fate::PerLetter),
            Err(LetterError::Refused(r)) => Ok(Fate::Refused(self.group_of(r))),
            Err(LetterError::Template(e)) => Err(e.into()),
        }
    }

    fn fell_back(&mut self, preferred: &str, language: &str, reason: LanguageFallback) {
        match self
            .fallbacks
            .iter_mut()
            .find(|g| g.preferred == preferred && g.language == language && g.reason == reason)
        {
            Some(g) => g.count += 1,
            None => self.fallbacks.push(LanguageFallbackGroup {
                preferred: preferred.to_owned(),
                language: language.to_owned(),
                reason,
                count: 1,
            }),
        }
    }

    fn group_of(&mut self, r: Refusal) -> usize {
        let key = (r.jurisdiction, r.laws, r.problems);
        if let Some(&i) = self.group_ids.get(&key) {
            return i;
        }
        let i = self.groups.len();
        self.groups.push(RefusalGroup {
            jurisdiction: key.0.clone(),
            laws: key.1.clone(),
            problems: key.2.clone(),
            count: 0,
        });
        self.group_ids.insert(key, i);
        i
    }

    fn refuse(&mut self, group: usize, customer: &str, code: Option<String>) {
        if let Some(g) = self.groups.get_mut(group) {
            g.count += 1;
        }
        self.counts.refused += 1;
        if let Some(c) = code {
            self.pool.give_back(customer, c);
        }
    }
}

// Personal values never reach a log through `{:?}`: only whether they are present.
fn present(v: Option<&str>) -> &'static str {
    if v.is_some() {
        "Some(..)"
    } else {
        "None"
    }
}

impl fmt::Debug for Addressee<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Addressee")
            .field("customer", &self.customer)
            .field("jurisdiction", &self.jurisdiction)
            .field("language", &self.language)
            .field("elements", &self.elements)
            .field("name", &present(self.name))
            .field("email", &present(self.email))
            .field("address", &present(self.address))
            .finish()
    }
}

impl fmt::Debug for PersonalValues<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersonalValues")
            .field("name", &present(self.name))
            .field("email", &present(self.email))
            .field("address", &present(self.address))
            .finish()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Stencil(id) => f.debug_tuple("Stencil").field(id).finish(),
            Body::Letter(l) => f.debug_tuple("Letter").field(&l.template).finish(),
        }
    }
}

impl fmt::Debug for RowSpec<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RowSpec")
            .field("customer", &self.customer)
            .field("channel", &self.channel)
            .field("body", &self.body)
            .field("jurisdiction", &self.jurisdiction)
            .field("personal", &self.personal)
            .field("code", &present(self.code.as_deref()))
            .finish()
    }
}

impl fmt::Debug for CodePool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodePool")
            .field("assigned", &self.assigned.len())
            .field("free", &self.free.len())
            .finish()
    }
}
