//! Letters in every shipped language: each passes the checks of its
//! jurisdiction's laws, is in its language and names the customer's elements
//! with that language's labels; residency and preference decide the
//! language; regulator drafts are in the authority's language.

use std::collections::{BTreeMap, BTreeSet};

use bulwark_law::{evaluate, Catalogue, Evaluation, Recipient, Scenario};
use bulwark_model::DataElement::{self, *};
use bulwark_notice::{
    letter_rules, Addressee, Channels, CodePool, DraftContext, LanguageFallback, Letter,
    LetterError, LetterRules, NoticeFacts, Planner, RenderedLetter, Renderer, TemplateSet,
};

const FACTS: &str = r#"
store = "Example Outdoor Gear"
what_happened = "An attacker used a stolen administrator key to read customer records."
breach_start = "2026-10-01"
breach_end = "2026-10-20"
discovered = "2026-10-21"
store_actions = "We revoked the key, reset all administrator access and engaged forensic investigators."
consequences = "Your information could be used for fraud or phishing."
regulator_notified = "We have notified the data protection authority."
complaint_process = "To complain to us, write to privacy@example.test; our privacy officer answers within 30 days."
[contact]
phone = "1-800-555-0100"
email = "privacy@example.test"
[dpo]
name = "Dana Officer"
contact = "dpo@example.test"
[remedy]
kind = "credit_monitoring"
label = "credit monitoring"
provider = "Acme Monitoring"
months = 24
enrol_url = "https://enrol.example.test"
"#;

/// Each language: a home jurisdiction, a heading only its letter has, and its
/// `elements` sentence.
/// How a language's `elements` sentence is built: intro, separator, end.
type Sentence = (&'static str, &'static str, &'static str);

const LANGS: [(&str, &str, &str, Sentence); 10] = [
    (
        "en",
        "GB",
        "What Information Was Involved",
        ("The information involved was: ", ", ", "."),
    ),
    (
        "de",
        "DE",
        "Welche Daten sind betroffen?",
        ("Betroffen sind: ", ", ", "."),
    ),
    (
        "fr",
        "FR",
        "Quelles données sont concernées ?",
        ("Données concernées : ", ", ", "."),
    ),
    (
        "es",
        "ES",
        "Qué información se ha visto afectada",
        ("La información afectada es: ", ", ", "."),
    ),
    (
        "it",
        "IT",
        "Quali informazioni sono coinvolte",
        ("Le informazioni coinvolte sono: ", ", ", "."),
    ),
    (
        "nl",
        "NL",
        "Om welke gegevens gaat het",
        ("Het gaat om de volgende gegevens: ", ", ", "."),
    ),
    (
        "pl",
        "PL",
        "Jakich informacji dotyczy naruszenie",
        ("Naruszenie dotyczy następujących informacji: ", ", ", "."),
    ),
    (
        "pt",
        "PT",
        "Que informações foram envolvidas",
        ("As informações envolvidas foram: ", ", ", "."),
    ),
    (
        "sv",
        "SE",
        "Vilka uppgifter berörs",
        ("Följande uppgifter berörs: ", ", ", "."),
    ),
    (
        "ja",
        "JP",
        "対象となる情報",
        ("対象となる情報は次のとおりです：", "、", "。"),
    ),
];

const ELEMENTS: &[DataElement] = &[Name, Email, Password, CardNumber];

fn evaluation(jurisdictions: &[&str], elements: &[DataElement]) -> Evaluation {
    let affected: Vec<serde_json::Value> = jurisdictions
        .iter()
        .map(|j| serde_json::json!({"jurisdiction": j, "elements": elements, "count": 10}))
        .collect();
    let scenario: Scenario = serde_json::from_value(serde_json::json!({
        "aware_at": "2026-10-21T09:00:00Z", "encrypted": false, "key_compromised": false,
        "affected": affected,
    }))
    .unwrap();
    evaluate(&Catalogue::builtin().unwrap(), &scenario).unwrap()
}

fn rules(jurisdictions: &[&str], elements: &[DataElement]) -> BTreeMap<String, LetterRules> {
    letter_rules(&evaluation(jurisdictions, elements))
}

fn strings(set: &TemplateSet, lang: &str) -> toml::Table {
    let text = set
        .get(&format!("{lang}/strings.toml"))
        .unwrap_or_else(|| panic!("{lang}/strings.toml"));
    toml::from_str(text).unwrap()
}

fn labels(set: &TemplateSet, lang: &str, elements: &[DataElement]) -> Vec<String> {
    let s = strings(set, lang);
    elements
        .iter()
        .map(|e| s["labels"][e.code()].as_str().unwrap().to_owned())
        .collect()
}

fn letter(
    jurisdiction: &str,
    language: Option<&str>,
    elements: &[DataElement],
) -> Result<RenderedLetter, LetterError> {
    let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
    let facts = NoticeFacts::from_toml(FACTS).unwrap();
    let rules = rules(&[jurisdiction], elements);
    let p = renderer.prepare(&facts, "2026-11-02", &rules);
    p.letter(&Letter {
        name: Some("Jane Doe"),
        jurisdiction,
        language,
        elements,
        enrolment_code: Some("ENR-7"),
    })
}

fn heading(lang: &str) -> &'static str {
    LANGS.iter().find(|l| l.0 == lang).unwrap().2
}

#[test]
fn every_strings_file_has_exactly_the_english_keys() {
    let set = TemplateSet::builtin();
    let keys = |t: &toml::Table, part: &str| -> BTreeSet<String> {
        t[part].as_table().unwrap().keys().cloned().collect()
    };
    let en = strings(&set, "en");
    let every: BTreeSet<String> = DataElement::ALL
        .iter()
        .map(|e| e.code().to_owned())
        .collect();
    assert_eq!(keys(&en, "labels"), every, "English labels every element");
    let mut langs = Vec::new();
    for path in set.files().keys() {
        let Some(lang) = path.strip_suffix("/strings.toml") else {
            continue;
        };
        langs.push(lang);
        let s = strings(&set, lang);
        for part in ["labels", "advice"] {
            assert_eq!(
                keys(&s, part),
                keys(&en, part),
                "{lang}/strings.toml [{part}] must have exactly the English keys"
            );
        }
        // A label must not be English left untranslated.
        if lang != "en" {
            for (k, v) in s["labels"].as_table().unwrap() {
                assert_ne!(v.as_str(), en["labels"][k].as_str(), "{lang} label {k}");
            }
        }
    }
    let shipped: Vec<&str> = LANGS.iter().map(|l| l.0).collect();
    let mut sorted = shipped.clone();
    sorted.sort();
    assert_eq!(langs, sorted, "every shipped language is tested here");
}

#[test]
fn every_language_keeps_the_english_sections_and_blocks() {
    let set = TemplateSet::builtin();
    let markers = |text: &str| -> Vec<String> {
        let mut out = Vec::new();
        for open in ["section(\"", "{% block "] {
            let mut rest = text;
            while let Some(i) = rest.find(open) {
                rest = &rest[i + open.len()..];
                let end = rest.find(['"', ' ']).unwrap();
                out.push(format!("{open}{}", &rest[..end]));
            }
        }
        out
    };
    for file in ["body.txt.j2", "body.html.j2"] {
        let en = markers(set.get(&format!("en/{file}")).unwrap());
        assert!(en.len() > 20, "{en:?}");
        for (lang, ..) in LANGS {
            let text = set.get(&format!("{lang}/{file}")).unwrap();
            assert_eq!(markers(text), en, "{lang}/{file}");
        }
    }
}

#[test]
fn a_letter_in_each_language_passes_its_checks_and_names_the_elements_in_that_language() {
    let set = TemplateSet::builtin();
    let renderer = Renderer::new(&set).unwrap();
    for (lang, home, head, (intro, sep, end)) in LANGS {
        assert_eq!(renderer.language_for(home), lang, "{home}");
        let l = letter(home, None, ELEMENTS).unwrap_or_else(|e| panic!("{lang} ({home}): {e}"));
        assert_eq!(l.language, lang);
        assert_eq!(l.template, format!("{lang}/body.txt.j2"));
        assert!(l.text.contains(head), "{lang}: {}", l.text);
        assert!(
            l.html.contains(&format!("<html lang=\"{lang}\">")),
            "{lang}"
        );
        let sentence = format!("{intro}{}{end}", labels(&set, lang, ELEMENTS).join(sep));
        assert!(l.text.contains(&sentence), "{lang}: {sentence}\n{}", l.text);
        assert!(l.html.contains(&sentence), "{lang}: {sentence}\n{}", l.html);
        assert!(
            l.text.contains("ENR-7") && l.text.contains("Jane Doe"),
            "{lang}"
        );
        assert!(l.text.contains("dpo@example.test"), "{lang}: the DPO");
        assert!(!l.text.contains("{{") && !l.text.contains("{%"), "{lang}");
        if lang != "en" {
            for english in [
                "What Happened",
                "your name",
                "Dear ",
                "your account password",
            ] {
                assert!(!l.text.contains(english), "{lang} letter has {english:?}");
            }
        }
    }
}

#[test]
fn a_preferred_language_passes_in_every_kind_of_jurisdiction() {
    // US states (bureaus, FTC, attorney general, police report; MA forbids
    // describing the breach and needs the remedy), GDPR countries, other laws.
    let places = [
        "US-TX", "US-MA", "US-NY", "US-MD", "DE", "FR", "IE", "GB", "AU", "CA-QC", "CA-ON", "JP",
        "BR",
    ];
    let elements = [Name, NationalId, Email];
    let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
    let facts = NoticeFacts::from_toml(FACTS).unwrap();
    let rules = rules(&places, &elements);
    let p = renderer.prepare(&facts, "2026-11-02", &rules);
    for (lang, ..) in LANGS {
        for j in places {
            let l = p
                .letter(&Letter {
                    name: Some("Jane Doe"),
                    jurisdiction: j,
                    language: Some(lang),
                    elements: &elements,
                    enrolment_code: Some("ENR-7"),
                })
                .unwrap_or_else(|e| panic!("{lang} in {j}: {e}"));
            assert_eq!(l.language, lang, "{j}");
            assert!(l.text.contains(heading(lang)), "{lang} in {j}");
            if j.starts_with("US-") {
                assert!(l.text.contains("Equifax") && l.text.contains("identitytheft.gov"));
            }
        }
    }
}

#[test]
fn quebec_gets_french_and_ontario_english() {
    let qc = letter("CA-QC", None, ELEMENTS).unwrap();
    assert_eq!(qc.language, "fr");
    assert!(qc.text.contains(heading("fr")));
    assert!(qc
        .text
        .contains("Commission d'accès à l'information du Québec"));
    let on = letter("CA-ON", None, ELEMENTS).unwrap();
    assert_eq!(on.language, "en");
    assert!(on.text.contains("What Information Was Involved"));
    assert!(on
        .text
        .contains("Office of the Privacy Commissioner of Canada"));
}

#[test]
fn a_texan_who_prefers_spanish_gets_the_us_letter_in_spanish() {
    let l = letter("US-TX", Some("es"), &[Name, NationalId]).unwrap();
    assert_eq!(l.language, "es");
    assert!(l.text.starts_with("NOTIFICACIÓN DE UNA BRECHA"));
    assert!(l.text.contains("Estimado/a Jane Doe:"));
    assert!(l
        .text
        .contains("su número de identificación nacional o de la Seguridad Social"));
    assert!(l
        .text
        .contains("congelamiento de seguridad (security freeze)"));
    assert!(l.text.contains("Comisión Federal de Comercio"));
    assert!(l.text.contains("informes de crédito gratuitos"));
    assert!(l.text.contains("Equifax"));
    // Residency alone gives English.
    assert_eq!(letter("US-TX", None, &[Name]).unwrap().language, "en");
}

#[test]
fn a_preference_without_templates_falls_back_to_residency() {
    let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
    let r = rules(&["DE", "US-TX", "FI"], &[Name]);
    let facts = NoticeFacts::from_toml(FACTS).unwrap();
    let p = renderer.prepare(&facts, "2026-11-02", &r);
    for (j, expect) in [("DE", "de"), ("US-TX", "en"), ("FI", "en")] {
        let c = p.language(j, Some("fi"));
        assert_eq!(c.language, expect, "{j}");
        assert_eq!(c.fallback, Some(LanguageFallback::NoTemplates), "{j}");
    }
    assert_eq!(p.language("DE", Some("de")).fallback, None);
    assert_eq!(p.language("DE", None).fallback, None);
    assert_eq!(letter("DE", Some("fi"), ELEMENTS).unwrap().language, "de");
}

#[test]
fn california_keeps_the_english_letter_its_headings_are_checked_in() {
    let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
    let r = rules(&["US-CA"], &[Name, CardNumber, CardSecurityCode]);
    let facts = NoticeFacts::from_toml(FACTS).unwrap();
    let p = renderer.prepare(&facts, "2026-11-02", &r);
    let c = p.language("US-CA", Some("es"));
    assert_eq!(c.language, "en");
    assert_eq!(c.fallback, Some(LanguageFallback::LawRequiresEnglish));
    let l = letter("US-CA", Some("es"), &[Name, CardNumber, CardSecurityCode]).unwrap();
    assert_eq!(l.language, "en");
    assert!(l.text.starts_with("NOTICE OF DATA BREACH"));

    // Should the English templates be gone, a letter in another language is
    // refused rather than sent without the checks California needs.
    let files = TemplateSet::builtin()
        .files()
        .iter()
        .filter(|(p, _)| !p.starts_with("en/"))
        .map(|(p, t)| {
            let t = if p == "languages.toml" {
                t.replace("default = \"en\"", "default = \"es\"")
            } else {
                t.clone()
            };
            (p.clone(), t)
        })
        .collect();
    let set = TemplateSet::from_files(files);
    let renderer = Renderer::new(&set).unwrap();
    let facts = NoticeFacts::from_toml(FACTS).unwrap();
    let p = renderer.prepare(&facts, "2026-11-02", &r);
    let err = p
        .letter(&Letter {
            name: Some("Jane Doe"),
            jurisdiction: "US-CA",
            language: None,
            elements: &[Name, CardNumber, CardSecurityCode],
            enrolment_code: Some("ENR-7"),
        })
        .unwrap_err();
    assert!(
        err.to_string().contains("`title` in English wording") && err.to_string().contains("`es`"),
        "{err}"
    );
}

#[test]
fn residency_picks_the_language_down_to_the_subdivision() {
    let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
    for (j, lang) in [
        ("BE", "fr"),
        ("BE-BRU", "fr"),
        ("BE-WAL", "fr"),
        ("BE-WLG", "fr"),
        ("BE-VLG", "nl"),
        ("BE-VAN", "nl"),
        ("BE-VWV", "nl"),
        ("CH", "de"),
        ("CH-ZH", "de"),
        ("CH-GE", "fr"),
        ("CH-VD", "fr"),
        ("CH-NE", "fr"),
        ("CH-JU", "fr"),
        ("CH-TI", "it"),
        ("CA", "en"),
        ("CA-ON", "en"),
        ("CA-QC", "fr"),
        ("ES", "es"),
        ("MX", "es"),
        ("AR", "es"),
        ("CO", "es"),
        ("CL", "es"),
        ("PE", "es"),
        ("US-PR", "es"),
        ("IT", "it"),
        ("SM", "it"),
        ("VA", "it"),
        ("NL", "nl"),
        ("SR", "nl"),
        ("PL", "pl"),
        ("PT", "pt"),
        ("BR", "pt"),
        ("AO", "pt"),
        ("MZ", "pt"),
        ("SE", "sv"),
        ("FI-01", "sv"),
        ("AX", "sv"),
        ("FI", "en"),
        ("JP", "ja"),
        ("US-TX", "en"),
        ("GB", "en"),
    ] {
        assert_eq!(renderer.language_for(j), lang, "{j}");
    }
}

#[test]
fn two_customers_of_one_jurisdiction_in_two_languages_get_two_stencils() {
    let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
    let facts = NoticeFacts::from_toml(FACTS).unwrap();
    // Covered in California only with the security code.
    let elements = [Name, CardNumber, CardSecurityCode];
    let r = rules(&["DE", "US-CA"], &elements);
    let p = renderer.prepare(&facts, "2026-11-02", &r);
    let codes: Vec<String> = (0..6).map(|i| format!("C-{i}")).collect();
    let mut planner = Planner::new(
        &p,
        Channels::Email,
        CodePool::new(Default::default(), codes),
    );
    let who = |customer, jurisdiction, language| Addressee {
        customer,
        jurisdiction,
        language,
        elements: &elements,
        name: Some("Jane Doe"),
        email: Some("jane@example.test"),
        address: None,
    };
    let batch = [
        who("a", "DE", None),
        who("b", "DE", Some("es")),
        who("c", "DE", Some("es")),
        who("d", "DE", Some("fi")),
        who("e", "US-CA", Some("es")),
        who("f", "DE", Some("de")),
    ];
    let rows = planner.plan(&batch).unwrap();
    assert_eq!(rows.len(), 6);
    let plan = planner.finish();
    let mut stencils: Vec<(&str, &str)> = plan
        .stencils
        .iter()
        .map(|s| (s.jurisdiction.as_str(), s.letter.language.as_str()))
        .collect();
    stencils.sort();
    assert_eq!(stencils, [("DE", "de"), ("DE", "es"), ("US-CA", "en")]);
    assert_eq!(
        plan.languages,
        BTreeMap::from([("de".into(), 3), ("en".into(), 1), ("es".into(), 2)])
    );
    let fallbacks: Vec<(&str, &str, LanguageFallback, u64)> = plan
        .fallbacks
        .iter()
        .map(|g| (g.preferred.as_str(), g.language.as_str(), g.reason, g.count))
        .collect();
    assert_eq!(
        fallbacks,
        [
            ("es", "en", LanguageFallback::LawRequiresEnglish, 1),
            ("fi", "de", LanguageFallback::NoTemplates, 1),
        ]
    );
}

#[test]
fn translated_facts_are_shown_in_letters_of_that_language() {
    let facts = format!(
        "{FACTS}\n[translations.es]\nwhat_happened = \"Un atacante utilizó una clave robada.\"\nremedy_label = \"supervisión del crédito\"\n"
    );
    let facts = NoticeFacts::from_toml(&facts).unwrap();
    assert!(facts.speaks("en") && facts.speaks("es") && !facts.speaks("de"));
    let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
    let r = rules(&["ES", "DE"], ELEMENTS);
    let p = renderer.prepare(&facts, "2026-11-02", &r);
    let one = |j| {
        p.letter(&Letter {
            name: None,
            jurisdiction: j,
            language: None,
            elements: ELEMENTS,
            enrolment_code: Some("ENR-7"),
        })
        .unwrap()
    };
    let es = one("ES");
    assert!(es.text.contains("Un atacante utilizó una clave robada."));
    assert!(es.text.contains("24 meses de supervisión del crédito"));
    assert!(es.text.contains("Estimado/a cliente:"));
    let de = one("DE");
    assert!(
        de.text.contains("stolen administrator key"),
        "untranslated: as written"
    );
    assert!(de.text.contains("Guten Tag,"));

    let bad = format!("{FACTS}\n[translations.Spanish]\nwhat_happened = \"x\"\n");
    let err = NoticeFacts::from_toml(&bad).unwrap_err().to_string();
    assert!(
        err.contains("ISO 639-1") && !err.contains("Spanish"),
        "{err}"
    );
}

#[test]
fn regulator_drafts_are_in_the_authoritys_language_and_carry_the_facts() {
    let countries = [
        "DE", "AT", "FR", "BE", "BE-VLG", "LU", "ES", "IT", "NL", "PL", "SE",
    ];
    let elements = [Name, Email, Password, Health];
    let ev = evaluation(&countries, &elements);
    let renderer = Renderer::new(&TemplateSet::builtin()).unwrap();
    let facts = NoticeFacts::from_toml(FACTS).unwrap();
    let cx = |language: Option<&str>| DraftContext {
        aware_at: "2026-10-21T09:00:00Z".into(),
        notice_date: "2026-11-02".into(),
        total: 110,
        elements: elements.to_vec(),
        encrypted: false,
        key_compromised: false,
        language: language.map(str::to_owned),
    };
    let drafts = renderer.drafts(&ev.obligations, &facts, &cx(None)).unwrap();
    // (language, the Art. 33(3)(c) heading, the e-mail category, "special categories: yes")
    let expect: BTreeMap<&str, (&str, &str, &str, &str)> = BTreeMap::from([
        (
            "de",
            (
                "Wahrscheinliche Folgen der Verletzung",
                "E-Mail-Adresse",
                "Besondere Kategorien (Art. 9 DSGVO):** ja",
            ),
        ),
        (
            "fr",
            (
                "Conséquences probables de la violation",
                "adresse e-mail",
                "Catégories particulières (art. 9 RGPD):** oui",
            ),
        ),
        (
            "es",
            (
                "Posibles consecuencias de la violación",
                "dirección de correo electrónico",
                "Categorías especiales (art. 9 RGPD):** sí",
            ),
        ),
        (
            "it",
            (
                "Probabili conseguenze della violazione",
                "indirizzo e-mail",
                "Categorie particolari (art. 9 GDPR):** sì",
            ),
        ),
        (
            "nl",
            (
                "Waarschijnlijke gevolgen van de inbreuk",
                "e-mailadres",
                "Bijzondere categorieën (art. 9 AVG):** ja",
            ),
        ),
        (
            "pl",
            (
                "Możliwe konsekwencje naruszenia",
                "adres e-mail",
                "Szczególne kategorie danych (art. 9 RODO):** tak",
            ),
        ),
    ])
    .into_iter()
    .map(|(l, (a, b, c))| (l, (l, a, b, c)))
    .collect();
    let by_country = |j: &str| -> &'static str {
        match j {
            "DE" | "AT" => "de",
            "FR" | "BE" | "LU" => "fr",
            "BE-VLG" | "NL" => "nl",
            "ES" => "es",
            "IT" => "it",
            "PL" => "pl",
            _ => "en",
        }
    };
    let regulators: Vec<_> = drafts
        .iter()
        .filter(|d| d.recipient == Recipient::Regulator)
        .collect();
    let seen: BTreeSet<&str> = regulators.iter().map(|d| d.jurisdiction.as_str()).collect();
    assert_eq!(
        seen,
        countries.iter().copied().collect(),
        "one filing per country"
    );
    for d in regulators {
        let lang = by_country(&d.jurisdiction);
        assert_eq!(d.language, lang, "{}", d.jurisdiction);
        let m = &d.markdown;
        // The same facts in every language (GDPR Art. 33(3)(a)-(d)).
        for fact in [
            "Example Outdoor Gear",
            "stolen administrator key",
            "Dana Officer, dpo@example.test",
            "Your information could be used for fraud or phishing.",
            "engaged forensic investigators",
            "2026-10-01",
            "2026-10-21T09:00:00Z",
            "privacy@example.test",
        ] {
            assert!(
                m.contains(fact),
                "{} ({lang}) lacks {fact:?}:\n{m}",
                d.jurisdiction
            );
        }
        assert!(
            m.contains(":** 10"),
            "{}: people affected\n{m}",
            d.jurisdiction
        );
        match expect.get(lang) {
            Some((_, consequences, email, special)) => {
                assert!(m.contains(consequences), "{lang}:\n{m}");
                assert!(m.contains(email), "{lang}: categories in {lang}\n{m}");
                assert!(m.contains(special), "{lang}:\n{m}");
                assert!(
                    m.contains("2026-11-02"),
                    "{lang}: the notices to individuals"
                );
                assert!(!m.contains("People affected under this law"), "{lang}");
            }
            None => assert!(m.contains("People affected under this law:** 10"), "{m}"),
        }
    }
    // An explicit language wins; drafts for others than regulators stay English.
    let drafts = renderer
        .drafts(&ev.obligations, &facts, &cx(Some("pl")))
        .unwrap();
    assert!(drafts
        .iter()
        .filter(|d| d.recipient == Recipient::Regulator)
        .all(|d| d.language == "pl" && d.markdown.contains("Możliwe konsekwencje")));
    let card = evaluation(&["DE"], &[Name, CardNumber]);
    let drafts = renderer
        .drafts(&card.obligations, &facts, &cx(Some("de")))
        .unwrap();
    let brand = drafts
        .iter()
        .find(|d| d.recipient == Recipient::CardBrands)
        .expect("card-brand draft");
    assert_eq!(brand.language, "en");
    assert!(brand.markdown.contains("Card data elements"));
}
