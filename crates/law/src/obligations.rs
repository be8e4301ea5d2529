//! The obligations engine: catalogue + incident facts → who must be told, by
//! when, saying what; and, for every jurisdiction in scope that triggers
//! nothing, why not. Pure: the clock is the scenario's `aware_at`.

use std::collections::{BTreeMap, HashMap};

use bulwark_model::{is_country, is_subdivision, DataElement};
use time::OffsetDateTime;

use crate::calendar;
use crate::catalogue::{mask_of, Catalogue, CompiledLaw, ElementMask};
use crate::error::EvalError;
use crate::report::{Evaluation, NotTriggered, Obligation, DISCLAIMER};
use crate::scenario::{Affected, BreachCause, HarmLevel, Scenario};
use crate::schema::{
    Anchor, CountBasis, HarmCondition, HarmException, Law, ObligationRule, Recipient, Relation,
    TimeUnit, Trigger,
};
use crate::wording::{anchor_word, cause_word, harm_word, join_elements, rfc3339, unit_word};

/// Targets used when a law sets no hard limit and its file gives no `target`.
fn default_target(recipient: Recipient) -> (u32, TimeUnit) {
    match recipient {
        // Card brands, acquirers and police expect hours, not weeks.
        Recipient::CardBrands | Recipient::Acquirer | Recipient::LawEnforcement => {
            (24, TimeUnit::Hours)
        }
        // 30 days is the shortest common fixed US limit; aiming for it keeps a
        // "without unreasonable delay" notice defensible.
        _ => (30, TimeUnit::CalendarDays),
    }
}

/// One affected group, normalised for matching.
struct Group<'a> {
    jurisdiction: String,
    mask: ElementMask,
    src: &'a Affected,
    exposed_in_clear: bool,
    key_taken: bool,
    /// False when only unauthorised access is established for this group.
    acquired: bool,
}

/// Evaluates `scenario` against `catalogue`.
pub fn evaluate(catalogue: &Catalogue, scenario: &Scenario) -> Result<Evaluation, EvalError> {
    let mut groups = Vec::with_capacity(scenario.affected.len());
    for (index, a) in scenario.affected.iter().enumerate() {
        let code = a.jurisdiction.trim().to_ascii_uppercase();
        if !(is_country(&code) || is_subdivision(&code)) {
            return Err(EvalError::UnknownJurisdiction {
                index,
                code: a.jurisdiction.chars().take(16).collect(),
            });
        }
        let encrypted = a.encrypted.unwrap_or(scenario.encrypted);
        let key_taken = a.key_compromised.unwrap_or(scenario.key_compromised);
        groups.push(Group {
            jurisdiction: code,
            mask: mask_of(&a.elements),
            src: a,
            exposed_in_clear: !encrypted,
            key_taken,
            // Unknown counts as acquired: the conservative reading.
            acquired: a.acquired.or(scenario.acquired).unwrap_or(true),
        });
    }
    let mut by_jurisdiction: BTreeMap<&str, Vec<&Group>> = BTreeMap::new();
    for g in &groups {
        by_jurisdiction.entry(&g.jurisdiction).or_default().push(g);
    }

    let mut ev = Engine {
        scenario,
        all: &groups,
        totals: HashMap::new(),
        out: Vec::new(),
        not: Vec::new(),
    };
    for (code, gs) in &by_jurisdiction {
        let laws = catalogue.resolve_idx(code);
        if laws.is_empty() {
            ev.not.push(NotTriggered {
                jurisdiction: (*code).to_owned(),
                law: None,
                recipient: None,
                count: gs.iter().map(|g| g.src.count).sum(),
                reason: if catalogue.has_subdivision_laws(code) {
                    // e.g. "US": the laws here apply per state of residence.
                    format!("{code}: breach laws here apply per subdivision of residence; give codes such as {code}-XX")
                } else {
                    format!(
                        "no breach-notification law for {code} ({}) in the catalogue; check local law",
                        bulwark_model::country_name(code).unwrap_or("unknown")
                    )
                },
            });
        }
        for i in laws {
            ev.law(i, &catalogue.laws[i], code, gs)?;
        }
    }
    let all: Vec<&Group> = groups.iter().collect();
    for &i in &catalogue.everywhere {
        let law = &catalogue.laws[i];
        ev.law(i, law, &law.law.id, &all)?;
    }

    let Engine {
        mut out, mut not, ..
    } = ev;
    out.sort_by(|a, b| {
        let key = |o: &Obligation| (o.deadline.is_none(), o.deadline, o.recommended_target);
        key(a)
            .cmp(&key(b))
            .then_with(|| a.jurisdiction.cmp(&b.jurisdiction))
            .then_with(|| a.recipient.cmp(&b.recipient))
    });
    not.sort_by(|a, b| {
        a.jurisdiction
            .cmp(&b.jurisdiction)
            .then(a.recipient.cmp(&b.recipient))
    });
    Ok(Evaluation {
        disclaimer: DISCLAIMER.to_owned(),
        aware_at: scenario.aware_at,
        obligations: out,
        not_triggered: not,
    })
}

struct Engine<'a> {
    scenario: &'a Scenario,
    all: &'a [Group<'a>],
    /// Breach-wide covered counts per (law, rule), for `basis = "total"`.
    totals: HashMap<(usize, usize), u64>,
    out: Vec<Obligation>,
    not: Vec<NotTriggered>,
}

/// Counts of one jurisdiction's groups under one rule.
#[derive(Default)]
struct Tally {
    covered: u64,
    not_covered: u64,
    harboured: u64,
    /// Covered records only accessed, under a law that needs acquisition.
    access_only: u64,
    waived: bool,
    /// Some covered records were encrypted but their key was taken.
    encrypted_but_counted: bool,
    /// Union of the elements exposed in the covered groups.
    exposed: ElementMask,
}

impl Tally {
    fn elements(&self) -> Vec<DataElement> {
        crate::catalogue::elements_of(self.exposed)
    }
}

fn matches(mask: ElementMask, combos: &[ElementMask]) -> bool {
    combos.iter().any(|c| mask & c == *c)
}

fn safe_harbour(law: &Law, rule: &ObligationRule) -> bool {
    rule.encryption_safe_harbour
        .unwrap_or(law.breach.encryption_safe_harbour)
}

fn tally(law: &CompiledLaw, r: usize, groups: &[&Group]) -> Tally {
    let rule = &law.law.obligations[r];
    let harbour = safe_harbour(&law.law, rule);
    let mut t = Tally::default();
    for g in groups {
        if !matches(g.mask, &law.rule_combos[r]) {
            t.not_covered += g.src.count;
            continue;
        }
        if !g.acquired && law.law.breach.trigger == Trigger::Acquisition {
            t.access_only += g.src.count;
            continue;
        }
        // Protected = encrypted and the key is either safe or, under this law, irrelevant.
        let key_voids = g.key_taken && law.law.breach.key_compromise_voids;
        let protected = !(g.exposed_in_clear || key_voids);
        if harbour && protected {
            t.harboured += g.src.count;
            continue;
        }
        t.covered += g.src.count;
        t.encrypted_but_counted |= !g.exposed_in_clear;
        if matches(g.mask, &law.rule_waivers[r]) {
            t.waived = true;
        }
        t.exposed |= g.mask;
    }
    t
}

fn access_only_reason(law: &Law) -> String {
    format!(
        "only unauthorised access is established; {} requires acquisition",
        law.citation
    )
}

use bulwark_model::parse_date;

fn sc_date(s: &Scenario) -> time::Date {
    s.aware_at.to_offset(time::UtcOffset::UTC).date()
}

impl Engine<'_> {
    fn total(&mut self, li: usize, law: &CompiledLaw, r: usize) -> u64 {
        let all: Vec<&Group> = self.all.iter().collect();
        *self
            .totals
            .entry((li, r))
            .or_insert_with(|| tally(law, r, &all).covered)
    }

    fn law(
        &mut self,
        li: usize,
        cl: &CompiledLaw,
        code: &str,
        groups: &[&Group],
    ) -> Result<(), EvalError> {
        let law = &cl.law;
        let people: u64 = groups.iter().map(|g| g.src.count).sum();
        let not = |reason: String, recipient: Option<Recipient>, count: u64| NotTriggered {
            jurisdiction: code.to_owned(),
            law: Some(law.id.clone()),
            recipient,
            count,
            reason,
        };

        if let Some(reg) = &law.applies.regulated_by {
            let listed = self
                .scenario
                .regulated_by
                .iter()
                .any(|r| r.trim().eq_ignore_ascii_case(reg));
            if !listed {
                self.not.push(not(
                    format!(
                        "{} binds only stores regulated by {reg}; the scenario does not list {reg} in `regulated_by`",
                        law.citation
                    ),
                    None,
                    people,
                ));
                return Ok(());
            }
        }
        let tallies: Vec<Tally> = (0..law.obligations.len())
            .map(|r| tally(cl, r, groups))
            .collect();
        if law.obligations.is_empty() || tallies.iter().all(|t| t.covered == 0) {
            self.not.push(not(
                self.why_not_covered(cl, groups, &tallies),
                None,
                people,
            ));
            return Ok(());
        }

        let harm = self
            .scenario
            .harm
            .get(code)
            .or_else(|| self.scenario.harm.get(&law.id))
            .copied();
        let excusable = match law.breach.harm_exception {
            HarmException::Any => true,
            HarmException::InadvertentAuthorised => {
                self.scenario.cause == Some(BreachCause::InadvertentAuthorisedDisclosure)
            }
        };
        let claimed_no_harm = law.breach.harm_test.is_some() && harm == Some(HarmLevel::Unlikely);
        let no_harm = claimed_no_harm && excusable;
        let harm_refused = (claimed_no_harm && !excusable).then(|| {
            format!(
                "the store recorded harm as unlikely, but {}'s exception covers only an inadvertent disclosure by persons authorised to access the data (scenario cause: {}), so notice is due",
                law.citation,
                self.scenario.cause.map(cause_word).unwrap_or("not recorded")
            )
        });

        // Fixed-anchor rules first, so notice-anchored ones can refer to them.
        let mut computed: HashMap<Recipient, (Option<OffsetDateTime>, Option<OffsetDateTime>)> =
            HashMap::new();
        let mut order: Vec<usize> = (0..law.obligations.len()).collect();
        order.sort_by_key(|&r| {
            matches!(
                law.obligations[r].timing.from,
                Anchor::IndividualsNotice | Anchor::RegulatorNotice
            )
        });
        let mut fired_any = false;
        let mut pending_not = Vec::new();
        for r in order {
            let rule = &law.obligations[r];
            let t = &tallies[r];
            if t.covered == 0 {
                let reason = if t.harboured > 0 {
                    "safe harbour: data encrypted and key not compromised".to_owned()
                } else if t.access_only > 0 {
                    access_only_reason(law)
                } else {
                    format!(
                        "none of the exposed records is covered for this notice under {}",
                        law.citation
                    )
                };
                pending_not.push(not(reason, Some(rule.recipient), 0));
                continue;
            }
            if let Some(eff) = rule.effective.as_deref().and_then(parse_date) {
                if sc_date(self.scenario) < eff {
                    pending_not.push(not(
                        format!("not yet in force: this obligation applies from {eff}"),
                        Some(rule.recipient),
                        t.covered,
                    ));
                    continue;
                }
            }
            let applies = match rule.when {
                HarmCondition::Notifiable => !no_harm,
                HarmCondition::HighRisk => !no_harm && matches!(harm, None | Some(HarmLevel::High)),
                HarmCondition::NoHarmDetermination => no_harm,
            };
            if !applies {
                let reason = match rule.when {
                    HarmCondition::NoHarmDetermination => {
                        "only required when harm is determined unlikely; no such determination recorded".to_owned()
                    }
                    HarmCondition::HighRisk => format!(
                        "only required when the risk is high; the recorded assessment is \"{}\"",
                        harm_word(harm.unwrap_or(HarmLevel::High))
                    ),
                    HarmCondition::Notifiable => format!(
                        "risk-of-harm test ({}): the store recorded that harm is unlikely — keep that assessment on file",
                        law.breach.harm_test.as_deref().unwrap_or("")
                    ),
                };
                pending_not.push(not(reason, Some(rule.recipient), t.covered));
                continue;
            }
            let count_for_threshold = match rule.threshold.as_ref().map(|t| t.basis) {
                Some(CountBasis::Total) => self.total(li, cl, r),
                _ => t.covered,
            };
            if let Some(th) = &rule.threshold {
                if !th.met(count_for_threshold) && !t.waived {
                    pending_not.push(not(
                        format!(
                            "threshold not met: requires {}, breach has {count_for_threshold}",
                            th.describe()
                        ),
                        Some(rule.recipient),
                        t.covered,
                    ));
                    continue;
                }
            }
            let mut ob =
                self.obligation(cl, code, rule, t, harm, count_for_threshold, &mut computed)?;
            if let Some(w) = &harm_refused {
                ob.why.push(w.clone());
            }
            fired_any = true;
            self.out.push(ob);
        }
        if fired_any {
            self.not.extend(pending_not);
        } else {
            // Nothing fired: one line per law says it best.
            let mut reasons: Vec<String> = pending_not.into_iter().map(|n| n.reason).collect();
            reasons.dedup();
            self.not.push(not(reasons.join("; "), None, people));
        }
        Ok(())
    }

    fn why_not_covered(&self, cl: &CompiledLaw, groups: &[&Group], tallies: &[Tally]) -> String {
        let law = &cl.law;
        if law.obligations.is_empty() {
            return format!("{} sets no notification duty", law.citation);
        }
        if tallies.iter().any(|t| t.harboured > 0) {
            return format!(
                "safe harbour: data encrypted and key not compromised ({})",
                law.citation
            );
        }
        if tallies.iter().any(|t| t.access_only > 0) {
            return access_only_reason(law);
        }
        // Name the element sets that fell short, e.g. "email + password".
        let mut sets: Vec<String> = groups
            .iter()
            .map(|g| join_elements(&g.src.elements))
            .collect();
        sets.sort();
        sets.dedup();
        let what = sets.join("; ");
        let verb = if groups.len() == 1 && groups[0].src.elements.len() == 1 {
            "alone is"
        } else {
            "is"
        };
        format!(
            "{what} {verb} not personal information under {}",
            law.citation
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn obligation(
        &self,
        cl: &CompiledLaw,
        code: &str,
        rule: &ObligationRule,
        t: &Tally,
        harm: Option<HarmLevel>,
        threshold_count: u64,
        computed: &mut HashMap<Recipient, (Option<OffsetDateTime>, Option<OffsetDateTime>)>,
    ) -> Result<Obligation, EvalError> {
        let law = &cl.law;
        let sc = self.scenario;
        let cal = law.applies.calendar;
        let timing = &rule.timing;
        let mut why = Vec::new();
        let mut caveats = law.caveats.clone();

        let (base, base_target, base_word) = match timing.from {
            Anchor::Awareness | Anchor::Determination => {
                (Some(sc.aware_at), Some(sc.aware_at), None)
            }
            Anchor::Discovery => {
                let d = sc.discovered_at.unwrap_or(sc.aware_at);
                (Some(d), Some(d), None)
            }
            Anchor::IndividualsNotice | Anchor::RegulatorNotice => {
                let other = if timing.from == Anchor::IndividualsNotice {
                    Recipient::Individuals
                } else {
                    Recipient::Regulator
                };
                match computed.get(&other) {
                    Some((d, tgt)) => (*d, d.or(*tgt), Some(other)),
                    None => {
                        caveats.push(format!(
                            "the {} notice this deadline counts from is not required here; counted from awareness",
                            other.code()
                        ));
                        (Some(sc.aware_at), Some(sc.aware_at), None)
                    }
                }
            }
        };
        let add = |from: Option<OffsetDateTime>,
                   n: u32,
                   unit|
         -> Result<Option<OffsetDateTime>, EvalError> {
            match from {
                None => Ok(None),
                Some(f) => calendar::add(f, n, unit, cal)
                    .map(Some)
                    .ok_or(EvalError::DateOutOfRange),
            }
        };
        let (mut deadline, mut target, basis) = match timing.within {
            Some(n) => {
                let d = add(base, n, timing.unit)?;
                let tgt = match timing.target {
                    Some(tn) => add(base_target, tn, timing.unit)?,
                    None => add(base_target, n, timing.unit)?,
                };
                // "0 days from the notice to individuals" reads as "no later than" it.
                let span = if n == 0 {
                    format!("no later than {}", anchor_word(timing.from))
                } else {
                    format!(
                        "{n} {} from {}",
                        unit_word(timing.unit),
                        anchor_word(timing.from)
                    )
                };
                let basis = match base {
                    Some(b) => format!("{span} ({})", rfc3339(b)),
                    None => {
                        format!("{span}, which has no fixed deadline: see the recommended target")
                    }
                };
                (d, tgt, basis)
            }
            None => {
                let (tn, tu) = match timing.target {
                    Some(tn) => (tn, timing.unit),
                    None if base_word.is_some() => (0, TimeUnit::Hours),
                    None => default_target(rule.recipient),
                };
                let tgt = add(base_target, tn, tu)?;
                (
                    None,
                    tgt,
                    format!(
                        "no fixed limit ({}); recommended internal target {tn} {} from {}",
                        timing.standard,
                        unit_word(tu),
                        anchor_word(timing.from)
                    ),
                )
            }
        };

        if rule.recipient == Recipient::Individuals && law.breach.law_enforcement_delay {
            if let Some(le) = &sc.law_enforcement_delay {
                deadline = deadline.map(|d| d.max(le.until));
                target = target.map(|d| d.max(le.until));
                why.push(format!(
                    "law enforcement asked for a delay until {}: notice may wait until then, then must go promptly",
                    rfc3339(le.until)
                ));
            }
        }
        computed.insert(rule.recipient, (deadline, target));

        let who = if law.applies.everywhere {
            "affected person(s), wherever they live,".to_owned()
        } else {
            format!("{code} resident(s)")
        };
        let exposed = t.elements();
        why.push(format!(
            "{} {who} whose exposed data ({}) is covered information under {}",
            t.covered,
            join_elements(&exposed),
            law.citation
        ));
        if t.not_covered > 0 {
            why.push(format!(
                "{} further record(s) are not covered by this law's definition",
                t.not_covered
            ));
        }
        if t.harboured > 0 {
            why.push(format!(
                "{} further record(s) fall under the encryption safe harbour",
                t.harboured
            ));
        }
        if t.access_only > 0 {
            why.push(format!(
                "{} further record(s) were only accessed, and this law requires acquisition",
                t.access_only
            ));
        }
        let harbour = safe_harbour(law, rule);
        if harbour && t.encrypted_but_counted {
            why.push(
                "data was encrypted but the key was compromised: the safe harbour does not apply"
                    .into(),
            );
        } else if !harbour && t.encrypted_but_counted {
            why.push(
                "data was encrypted, but this law has no encryption safe harbour for this notice"
                    .into(),
            );
        }
        if let Some(test) = &law.breach.harm_test {
            why.push(match harm {
                None => format!(
                    "risk-of-harm test ({test}): no assessment recorded, so harm is presumed; record one to change this"
                ),
                Some(h) => format!("risk-of-harm test ({test}): assessment recorded as \"{}\"", harm_word(h)),
            });
        }
        if let Some(th) = &rule.threshold {
            why.push(if t.waived {
                format!(
                    "threshold ({}) waived: records in a class notifiable at any count",
                    th.describe()
                )
            } else {
                format!(
                    "threshold met: {} required, {threshold_count} counted",
                    th.describe()
                )
            });
        }
        if let Some(c) = rule.confidence {
            if c < law.confidence {
                caveats.push(format!("this obligation's details are {c:?} confidence"));
            }
        }
        if let Some(n) = &rule.notes {
            caveats.push(n.clone());
        }

        let remedies = rule
            .remedies
            .iter()
            .filter(|r| {
                r.when_elements.is_empty() || r.when_elements.iter().any(|e| exposed.contains(e))
            })
            .cloned()
            .collect();
        let order = rule.order.as_ref().map(|o| {
            let rel = match o.relation {
                Relation::Before => "before",
                Relation::With => "at the same time as",
                Relation::After => "after",
            };
            format!("{rel} the {} notice", o.notice.code())
        });
        Ok(Obligation {
            jurisdiction: code.to_owned(),
            law: law.id.clone(),
            law_name: law.name.clone(),
            recipient: rule.recipient,
            body: rule.body.clone(),
            deadline,
            standard: timing.standard.clone(),
            deadline_basis: basis,
            recommended_target: target,
            count: t.covered,
            threshold: rule.threshold.as_ref().map(|t| t.describe()),
            citation: rule
                .citation
                .clone()
                .unwrap_or_else(|| law.citation.clone()),
            confidence: rule
                .confidence
                .unwrap_or(law.confidence)
                .min(law.confidence),
            order,
            required_content: rule.content.clone(),
            forbidden_content: rule.forbidden.clone(),
            requires: rule.requires.clone(),
            prohibits: rule.prohibits.clone(),
            methods: rule.methods.clone(),
            substitute_notice: rule.substitute_notice.clone(),
            remedies,
            why,
            caveats,
        })
    }
}
