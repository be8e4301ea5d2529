//! Training modules: the shipped ones load and match `training/`, broken
//! files name file and line, grading never panics, due dates follow hire and
//! the last pass.

use bulwark_learn::{parse_module, TrainingError, TrainingSet, TrainingState, BUILTIN_TRAINING};
use time::macros::date;

#[test]
fn builtin_list_matches_the_training_directory() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../training");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("training/{n}"))
        .collect();
    on_disk.sort();
    let built: Vec<String> = BUILTIN_TRAINING
        .iter()
        .map(|(p, _)| p.to_string())
        .collect();
    assert_eq!(on_disk, built, "update src/builtin.rs");
}

#[test]
fn the_shipped_modules_cover_the_four_subjects() {
    let set = TrainingSet::builtin().unwrap();
    let ids: Vec<&str> = set.modules().map(|m| m.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "customer-data",
            "incident-response",
            "payment-cards",
            "phishing"
        ]
    );
    let p = set.get("phishing").unwrap();
    assert!(p.is_for("legal") && p.is_for("anything"));
    assert!(p.requirement.contains("12.6.3.1"));
    assert!(p.body.starts_with("# Phishing"));
    let ir = set.get("incident-response").unwrap();
    assert!(ir.is_for("security_lead"));
    assert!(!set.get("payment-cards").unwrap().is_for("legal"));
}

#[test]
fn grading_counts_right_answers_and_never_panics() {
    let set = TrainingSet::builtin().unwrap();
    let p = set.get("phishing").unwrap();
    let right: Vec<usize> = [1, 1, 0, 1, 1].to_vec();
    let g = p.grade(&right);
    assert_eq!((g.correct, g.total, g.score, g.passed), (5, 5, 100, true));
    // 4 of 5 is 80 %, the pass mark.
    let g = p.grade(&[1, 1, 0, 1, 0]);
    assert_eq!((g.score, g.passed), (80, true));
    let g = p.grade(&[1, 1, 0]);
    assert_eq!((g.correct, g.score, g.passed), (3, 60, false));
    let g = p.grade(&[]);
    assert_eq!((g.score, g.passed), (0, false));
    let g = p.grade(&[usize::MAX; 40]);
    assert_eq!((g.correct, g.passed), (0, false));
}

#[test]
fn due_on_hire_plus_grace_then_a_year_after_the_last_pass() {
    let set = TrainingSet::builtin().unwrap();
    let p = set.get("phishing").unwrap();
    let s = p.status(date!(2027 - 01 - 10), None, date!(2027 - 01 - 11));
    assert_eq!(s.due, date!(2027 - 02 - 09));
    assert_eq!(s.state, TrainingState::Current);
    let s = p.status(date!(2027 - 01 - 10), None, date!(2027 - 02 - 12));
    assert_eq!((s.state, s.days_overdue), (TrainingState::Overdue, 3));
    // Passed on the leap day: due on 28 February the next year.
    let s = p.status(
        date!(2028 - 01 - 10),
        Some(date!(2028 - 02 - 29)),
        date!(2029 - 02 - 20),
    );
    assert_eq!(s.due, date!(2029 - 02 - 28));
    assert_eq!(s.state, TrainingState::DueSoon);
    // The end of the calendar is far away, not a panic.
    let s = p.status(date!(9999 - 12 - 30), None, date!(9999 - 12 - 31));
    assert_eq!(s.due, time::Date::MAX);
}

#[test]
fn broken_files_name_the_file_and_line() {
    let good = BUILTIN_TRAINING[3].1;
    let e = parse_module("training/phishing.md", "# no front matter\n").unwrap_err();
    assert!(matches!(e, TrainingError::NoFrontMatter { .. }), "{e}");
    let bad = good.replacen("pass_mark = 80", "pass_mark = \"high\"", 1);
    let e = parse_module("training/phishing.md", &bad).unwrap_err();
    let TrainingError::Parse { line, .. } = &e else {
        panic!("{e}")
    };
    assert_eq!(*line, 7, "{e}");
    assert!(e.to_string().starts_with("training/phishing.md:7: "), "{e}");
    let bad = good.replacen("answer = 1", "answer = 7", 1);
    let e = parse_module("training/phishing.md", &bad).unwrap_err();
    assert!(e.to_string().contains("0-based index"), "{e}");
    let bad = good.replacen("validity = \"yearly\"", "validity = \"sometimes\"", 1);
    let e = parse_module("training/phishing.md", &bad).unwrap_err();
    assert!(e.to_string().contains("is not a cadence"), "{e}");
    let e = parse_module("training/other.md", good).unwrap_err();
    assert!(e.to_string().contains("file's name"), "{e}");
    let twice = [("a/phishing.md", good), ("b/phishing.md", good)];
    assert!(matches!(
        TrainingSet::load(&twice),
        Err(TrainingError::Duplicate { .. })
    ));
}
