//! The shipped catalogue lints clean; broken files get precise messages.

use bulwark_law::{lint, Catalogue, CatalogueError, Severity, BUILTIN_FILES};
use bulwark_model::{Pos, EEA_COUNTRIES};

#[test]
fn shipped_catalogue_is_clean() {
    let found = lint(BUILTIN_FILES);
    assert!(
        found.is_empty(),
        "{}",
        found
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn builtin_list_matches_laws_directory() {
    // Tests may read files: the crate itself does not.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../laws");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".toml"))
        .map(|n| format!("laws/{n}"))
        .collect();
    on_disk.sort();
    let built: Vec<String> = BUILTIN_FILES.iter().map(|(p, _)| p.to_string()).collect();
    assert_eq!(on_disk, built, "regenerate src/builtin.rs");
}

fn texas() -> String {
    BUILTIN_FILES
        .iter()
        .find(|(p, _)| p.ends_with("US-TX.toml"))
        .unwrap()
        .1
        .to_owned()
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn unknown_element_is_reported_with_position() {
    let broken = texas().replacen("[\"name\", \"national_id\"]", "[\"name\", \"ssn\"]", 1);
    let line = line_of(&broken, "\"ssn\"");
    let found = lint(&[("laws/US-TX.toml", broken.as_str())]);
    assert_eq!(found.len(), 1, "{found:?}");
    let d = &found[0];
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(d.pos, Some(Pos::new(line, 12)));
    assert!(d.message.contains("unknown variant `ssn`"), "{}", d.message);
    assert!(
        d.to_string().starts_with(&format!(
            "laws/US-TX.toml:{line}:12: error: unknown variant `ssn`"
        )),
        "{d}"
    );
    // Loading fails with the same position.
    match Catalogue::load(&[("laws/US-TX.toml", broken.as_str())]).unwrap_err() {
        CatalogueError::Parse { path, position, .. } => {
            assert_eq!(path, "laws/US-TX.toml");
            assert_eq!(position.unwrap().line, line);
        }
        e => panic!("{e}"),
    }
}

#[test]
fn semantic_errors_are_reported() {
    let broken = texas()
        .replace("jurisdictions = [\"US-TX\"]", "jurisdictions = [\"US-ZZ\"]")
        .replace("citation = \"", "citation = \"\" # was \"")
        .replace("at_least = 250", "at_least = 250, more_than = 249");
    let found = lint(&[("laws/US-TX.toml", broken.as_str())]);
    let msgs: Vec<String> = found.iter().map(|d| d.to_string()).collect();
    let has = |s: &str| msgs.iter().any(|m| m.contains(s));
    assert!(has("unknown jurisdiction code `US-ZZ`"), "{msgs:?}");
    assert!(has("missing citation"), "{msgs:?}");
    assert!(has("give either more_than or at_least"), "{msgs:?}");
    // A deadline of 60,000 days is a unit typo.
    let typo = texas().replacen("within = 60", "within = 60000", 1);
    let typo_found = lint(&[("laws/US-TX.toml", typo.as_str())]);
    assert!(
        typo_found.iter().any(|d| d
            .message
            .contains("timing.within = 60000 is more than a year")),
        "{typo_found:?}"
    );
    let zz = found.iter().find(|d| d.message.contains("US-ZZ")).unwrap();
    assert_eq!(zz.pos.map(|p| p.line), Some(line_of(&broken, "US-ZZ")));
    let cit = found
        .iter()
        .find(|d| d.message.contains("missing citation"))
        .unwrap();
    assert_eq!(
        cit.pos.map(|p| p.line),
        Some(line_of(&broken, "citation = "))
    );
    // Wrong file name and duplicate ids.
    let tx = texas();
    let found = lint(&[
        ("laws/US-TX.toml", tx.as_str()),
        ("laws/copy.toml", tx.as_str()),
    ]);
    let msgs: Vec<String> = found.iter().map(|d| d.to_string()).collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("does not match the file name `copy`")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("also defined in laws/US-TX.toml")),
        "{msgs:?}"
    );
}

#[test]
fn unknown_field_is_rejected() {
    let broken = texas().replace(
        "encryption_safe_harbour = true",
        "encryption_safe_harbor = true",
    );
    let found = lint(&[("laws/US-TX.toml", broken.as_str())]);
    assert!(
        found[0]
            .message
            .contains("unknown field `encryption_safe_harbor`"),
        "{}",
        found[0]
    );
    assert_eq!(
        found[0].pos.map(|p| p.line),
        Some(line_of(&broken, "encryption_safe_harbor"))
    );
}

#[test]
fn missing_review_notes_is_a_warning() {
    let text = texas();
    let without: String = text
        .lines()
        .filter(|l| !l.starts_with("review_notes"))
        .collect::<Vec<_>>()
        .join("\n");
    let found = lint(&[("laws/US-TX.toml", without.as_str())]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].severity, Severity::Warning);
    assert!(found[0].message.contains("review_notes"));
}

#[test]
fn findings_point_at_their_own_occurrence_not_the_first_similar_text() {
    // A second regulator obligation whose deadline is a unit typo: the same
    // `recipient = "regulator"` and a `within = 60…` prefix appear earlier.
    let text = texas()
        + "\n[[obligations]]\nrecipient = \"regulator\"\nbody = \"Texas Attorney General\"\n[obligations.timing]\nstandard = \"as soon as practicable\"\nwithin = 60000\nunit = \"calendar_days\"\nfrom = \"determination\"\n";
    let found = lint(&[("laws/US-TX.toml", text.as_str())]);
    let d = found
        .iter()
        .find(|d| d.message.contains("timing.within = 60000"))
        .unwrap_or_else(|| panic!("{found:?}"));
    assert!(d.message.starts_with("obligations[3]."), "{d}");
    let line = text.lines().position(|l| l == "within = 60000").unwrap() + 1;
    assert!(
        line > line_of(&text, "within = 60"),
        "the text occurs earlier too"
    );
    assert_eq!(d.pos, Some(Pos::new(line, 1)), "{d}");

    // A jurisdiction code that a comment mentions first.
    let text = format!(
        "# \"US-ZZ\" is not a state\n{}",
        texas().replace("jurisdictions = [\"US-TX\"]", "jurisdictions = [\"US-ZZ\"]")
    );
    let found = lint(&[("laws/US-TX.toml", text.as_str())]);
    let d = found.iter().find(|d| d.message.contains("US-ZZ")).unwrap();
    let line = line_of(&text, "jurisdictions = [\"US-ZZ\"]");
    assert_eq!(d.pos, Some(Pos::new(line, 18)), "{d}");
}

#[test]
fn loading_reports_semantic_errors_with_their_position() {
    let broken = texas().replace("at_least = 250", "at_least = 250, more_than = 249");
    match Catalogue::load(&[("laws/US-TX.toml", broken.as_str())]).unwrap_err() {
        CatalogueError::Invalid { position, .. } => {
            let line = line_of(&broken, "more_than = 249");
            assert_eq!(position, Some(Pos::new(line, 1)));
        }
        e => panic!("{e}"),
    }
}

#[test]
fn the_eu_law_covers_exactly_the_eea() {
    let eu = Catalogue::builtin().unwrap();
    let eu = eu.get("EU").unwrap();
    let mut listed: Vec<&str> = eu
        .applies
        .jurisdictions
        .iter()
        .map(String::as_str)
        .collect();
    listed.sort_unstable();
    assert_eq!(listed, EEA_COUNTRIES);
    // And lint says so when a copy drifts.
    let text = BUILTIN_FILES
        .iter()
        .find(|(p, _)| p.ends_with("/EU.toml"))
        .unwrap()
        .1
        .replace(", \"NO\"]", ", \"GB\"]");
    let found = lint(&[("laws/EU.toml", text.as_str())]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].severity, Severity::Warning);
    assert!(
        found[0]
            .message
            .ends_with("missing: [NO], not members: [GB]"),
        "{}",
        found[0]
    );
    assert_eq!(
        found[0].pos.map(|p| p.line),
        Some(line_of(&text, "jurisdictions = ["))
    );
}

fn strict(files: &[(&str, &str)], today: time::Date) -> Vec<bulwark_law::Diagnostic> {
    bulwark_law::lint_with(
        files,
        bulwark_law::LintOptions {
            strict: true,
            today: Some(today),
        },
    )
}

#[test]
fn strict_lint_enforces_the_review_rules() {
    let text = texas();
    let today = time::macros::date!(2026 - 12 - 02);
    let clean = strict(&[("laws/US-TX.toml", text.as_str())], today);
    assert!(clean.is_empty(), "{clean:?}");

    // An obligation without its section.
    let uncited = text.replacen("citation = \"Tex. Bus. & Com. Code 521.053(i)\"\n", "", 1);
    let found = strict(&[("laws/US-TX.toml", uncited.as_str())], today);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].severity, Severity::Error);
    assert!(found[0]
        .message
        .contains("obligations[1] (regulator) has no `citation`"));
    // The plain lint does not apply the review rules.
    assert!(lint(&[("laws/US-TX.toml", uncited.as_str())]).is_empty());

    // A review more than 12 months old on the day of the run.
    let found = strict(
        &[("laws/US-TX.toml", text.as_str())],
        time::macros::date!(2027 - 12 - 03),
    );
    assert!(
        found
            .iter()
            .any(|d| d.message.contains("more than 12 months before 2027-12-03")),
        "{found:?}"
    );
    assert!(strict(
        &[("laws/US-TX.toml", text.as_str())],
        time::macros::date!(2027 - 12 - 02)
    )
    .is_empty());

    // Medium confidence without saying what is unverified.
    let medium = text.replacen("confidence = \"high\"", "confidence = \"medium\"", 1);
    let found = strict(&[("laws/US-TX.toml", medium.as_str())], today);
    assert!(
        found
            .iter()
            .any(|d| d.message.contains("needs `unverified`")),
        "{found:?}"
    );

    // An amendment in force that is newer than the encoded text.
    let stale = text.replacen(
        "]\nchangelog",
        "  { act = \"HB 9 (2026)\", effective = \"2026-09-01\", summary = \"new element\" },\n]\nchangelog",
        1,
    );
    let found = strict(&[("laws/US-TX.toml", stale.as_str())], today);
    assert!(
        found
            .iter()
            .any(|d| d.message.contains("older than HB 9 (2026)")),
        "{found:?}"
    );
    // Not yet in force: fine.
    assert!(strict(
        &[("laws/US-TX.toml", stale.as_str())],
        time::macros::date!(2026 - 08 - 31)
    )
    .is_empty());

    // No amendments at all.
    let start = text.find("amendments = [").unwrap();
    let end = start + text[start..].find("]\n").unwrap() + 2;
    let bare = format!("{}{}", &text[..start], &text[end..]);
    let found = strict(&[("laws/US-TX.toml", bare.as_str())], today);
    assert!(
        found.iter().any(|d| d.message.contains("no `amendments`")),
        "{found:?}"
    );
}

#[test]
fn changes_since_a_date_list_amendments_edits_and_reviews() {
    let cat = Catalogue::builtin().unwrap();
    let found = bulwark_law::changes(cat.laws(), time::macros::date!(2026 - 12 - 01));
    let ct: Vec<_> = found.iter().filter(|c| c.law == "US-CT").collect();
    assert!(
        ct.iter()
            .any(|c| c.kind == bulwark_law::ChangeKind::Catalogue
                && c.summary.contains("geolocation"))
    );
    assert!(ct.iter().any(|c| c.kind == bulwark_law::ChangeKind::Review));
    // Old amendments are before the date: not listed.
    assert!(found
        .iter()
        .all(|c| c.kind != bulwark_law::ChangeKind::Amendment
            || c.date >= time::macros::date!(2026 - 12 - 01)));
    let since_2025 = bulwark_law::changes(cat.laws(), time::macros::date!(2025 - 01 - 01));
    assert!(since_2025.iter().any(|c| c.law == "US-OK"
        && c.kind == bulwark_law::ChangeKind::Amendment
        && c.act.as_deref() == Some("SB 626 (2025)")));
    // Oldest first.
    assert!(since_2025.windows(2).all(|w| w[0].date <= w[1].date));
}

/// The review rules hold for the shipped catalogue as of its last review.
/// Pinned to that date so the suite does not start failing a year later;
/// `bulwark laws lint --strict` with today's date is the live check.
#[test]
fn shipped_catalogue_passes_the_review_rules() {
    let found = strict(BUILTIN_FILES, time::macros::date!(2026 - 12 - 02));
    assert!(
        found.is_empty(),
        "{}",
        found
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
}
