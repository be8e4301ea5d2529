//! The positioned tree: positions, quoting, typed scalars, and the bounds that
//! keep hostile documents (alias bombs, deep nesting) cheap to refuse.

use bulwark_yaml::{
    parse_document, parse_documents, Aliases, DuplicateKeys, ErrorKind, NodeKind, Options, Pos,
    Scalar,
};

fn strict() -> Options {
    Options {
        max_depth: 32,
        aliases: Aliases::Refuse,
        duplicate_keys: DuplicateKeys::Refuse,
    }
}

#[test]
fn keeps_positions_and_quoting() {
    let docs = parse_documents(
        "a: 0x17\nb: '5'\nc: 5\n---\nx: [1, 2]\n",
        &Options::default(),
    )
    .unwrap();
    assert_eq!(docs.len(), 2);
    let a = docs[0].get("a").unwrap();
    assert_eq!(a.scalar(), Some(Scalar::Str("0x17")));
    assert_eq!(a.pos, Pos::new(1, 4));
    assert_eq!(docs[0].get("b").unwrap().scalar(), Some(Scalar::Str("5")));
    assert_eq!(docs[0].get("c").unwrap().scalar(), Some(Scalar::Int(5)));
    assert_eq!(docs[0].get("c").unwrap().pos.line, 3);
    assert_eq!(
        docs[1].get("x").unwrap().as_seq().unwrap()[1].pos,
        Pos::new(5, 8)
    );

    // Mappings start at their first key, block or flow.
    let doc = parse_document("top:\n  key: v\n  - {a: 1}\n", &Options::default());
    assert!(doc.is_err(), "not valid YAML");
    let doc = parse_document("top:\n  key: v\nlist:\n  - k: 1\n  - {a: 1}\n", &strict()).unwrap();
    assert_eq!(doc.pos, Pos::START);
    assert_eq!(doc.get("top").unwrap().pos, Pos::new(2, 3));
    let list = doc.get("list").unwrap().as_seq().unwrap();
    assert_eq!((list[0].pos, list[1].pos), (Pos::new(4, 5), Pos::new(5, 5)));

    let doc = parse_document("a: 1\nb:\n  - x\n  - 'y'\n", &strict()).unwrap();
    let map = doc.as_map().unwrap();
    assert_eq!(map[1].1.as_seq().unwrap()[1].pos, Pos::new(4, 5));
    assert_eq!(
        map[1].1.as_seq().unwrap()[1].kind,
        NodeKind::Scalar {
            text: "y".into(),
            plain: false
        }
    );
}

#[test]
fn plain_scalars_follow_the_core_schema_but_keep_odd_numbers_as_text() {
    let doc = parse_document(
        "n: ~\ne:\nt: true\nf: FALSE\ni: -42\nx: 1.5\no: 0777\nh: 0x1F\nq: 'true'\ns: hello\n",
        &Options::default(),
    )
    .unwrap();
    let s = |k: &str| doc.get(k).unwrap().scalar().unwrap();
    assert_eq!(s("n"), Scalar::Null);
    assert_eq!(s("e"), Scalar::Null);
    assert_eq!(s("t"), Scalar::Bool(true));
    assert_eq!(s("f"), Scalar::Bool(false));
    assert_eq!(s("i"), Scalar::Int(-42));
    assert_eq!(s("x"), Scalar::Float(1.5));
    assert_eq!(s("o"), Scalar::Str("0777"));
    assert_eq!(s("h"), Scalar::Str("0x1F"));
    assert_eq!(s("q"), Scalar::Str("true"));
    assert_eq!(doc.get("q").unwrap().as_bool(), None);
    assert_eq!(doc.get("t").unwrap().as_bool(), Some(true));
    assert_eq!(s("s"), Scalar::Str("hello"));
    assert_eq!(doc.get("s").unwrap().kind_name(), "a scalar");
    assert_eq!(doc.kind_name(), "a mapping");
}

#[test]
fn syntax_errors_have_positions() {
    let e = parse_documents("a: b\n  c: [\n", &Options::default()).unwrap_err();
    assert!(e.pos.line >= 2, "{e:?}");
    assert!(matches!(e.kind, ErrorKind::Syntax(_)), "{e:?}");
    assert!(e.to_string().starts_with(&format!("{}: ", e.pos)), "{e}");
}

#[test]
fn duplicate_keys_are_kept_or_refused() {
    let doc = parse_document("a: 1\na: 2\n", &Options::default()).unwrap();
    assert_eq!(doc.get("a").unwrap().as_str(), Some("1"));
    let e = parse_document("a: 1\na: 2\n", &strict()).unwrap_err();
    assert_eq!(
        (e.pos, e.kind.to_string()),
        (Pos::new(2, 1), "duplicate key `a`".to_owned())
    );
    // The same key in different mappings is fine.
    assert!(parse_document("x: {a: 1}\ny: {a: 2}\n", &strict()).is_ok());
}

#[test]
fn one_document_is_exactly_one() {
    let e = parse_document("", &strict()).unwrap_err();
    assert_eq!((e.pos, e.kind), (Pos::START, ErrorKind::Empty));
    let e = parse_document("a: 1\n---\nb: 2\n", &strict()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::SecondDocument);
    assert_eq!(e.pos.line, 3);
}

#[test]
fn aliases_expand_positioned_at_the_alias() {
    let text = "base: &ua\n  - curl\n  - wget\nsel:\n  agents: *ua\n";
    let doc = parse_document(text, &Options::default()).unwrap();
    let copy = doc.get("sel").unwrap().get("agents").unwrap();
    assert_eq!(copy.pos, Pos::new(5, 11));
    let items = copy.as_seq().unwrap();
    assert_eq!(items[1].as_str(), Some("wget"));
    // The copied content points at where it is written.
    assert_eq!(items[1].pos, Pos::new(3, 5));
    // Scalars can be anchored too, and an anchor may be redefined.
    let doc = parse_document("a: &x 1\nb: *x\nc: &x 2\nd: *x\n", &Options::default()).unwrap();
    assert_eq!(doc.get("b").unwrap().scalar(), Some(Scalar::Int(1)));
    assert_eq!(doc.get("d").unwrap().scalar(), Some(Scalar::Int(2)));
}

#[test]
fn aliases_can_be_refused() {
    // Refused at the anchored node (its value, after the anchor).
    for (text, line) in [
        ("a: &x 1\nb: *x\n", 1),
        ("a: &x [1]\n", 1),
        ("a: &x\n  k: v\n", 2),
    ] {
        let e = parse_document(text, &strict()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::AliasRefused, "{text:?}");
        assert_eq!(e.pos.line, line, "{text:?}");
    }
}

/// Nine levels of nine aliases: fully expanded this is 9^9 (387 million)
/// strings. The budget refuses it after copying fewer than 100,000 nodes.
fn alias_bomb() -> String {
    let mut text = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in names.windows(2) {
        let (prev, name) = (w[0], w[1]);
        let aliases = vec![format!("*{prev}"); 9].join(",");
        text.push_str(&format!("{name}: &{name} [{aliases}]\n"));
    }
    text
}

#[test]
fn an_alias_bomb_is_refused_with_a_position() {
    let text = alias_bomb();
    assert_eq!(text.lines().count(), 9);
    let e = parse_documents(&text, &Options::default()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::AliasBudget(100_000), "{e}");
    // Level `f` would be the first to cross the budget (e holds 66,430 nodes).
    assert_eq!(e.pos.line, 6, "{e}");
    assert!(
        e.to_string().starts_with("6:") && e.to_string().contains("more than 100000 nodes"),
        "{e}"
    );
    // A smaller budget refuses it earlier.
    let tight = Options {
        aliases: Aliases::Expand {
            max_nodes: 50,
            max_bytes: bulwark_yaml::DEFAULT_ALIAS_BYTES,
        },
        ..Options::default()
    };
    let e = parse_documents(&text, &tight).unwrap_err();
    assert_eq!((e.kind, e.pos.line), (ErrorKind::AliasBudget(50), 2));
}

#[test]
fn an_alias_inside_its_own_anchor_is_refused() {
    let e = parse_documents("a: &a [1, *a]\n", &Options::default()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::RecursiveAlias);
    assert_eq!(e.pos, Pos::new(1, 11));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    // Block nesting reaches the tree's bound.
    for text in [
        "a:\n".to_string() + &" b: [".repeat(50_000),
        "- ".repeat(100_000),
    ] {
        let e = parse_documents(&text, &Options::default()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::TooDeep(64), "{e}");
    }
    // Deep flow nesting hits the scanner's own guard (255 levels) while it
    // looks ahead for keys; an error either way.
    for text in ["[".repeat(100_000), "{a: ".repeat(100_000)] {
        assert!(parse_documents(&text, &Options::default()).is_err());
    }
    // Exactly at the bound is fine, one more is not.
    let at = format!("{}{}", "[".repeat(64), "]".repeat(64));
    assert!(parse_documents(&at, &Options::default()).is_ok());
    let over = format!("{}{}", "[".repeat(65), "]".repeat(65));
    let e = parse_documents(&over, &Options::default()).unwrap_err();
    assert_eq!((e.kind, e.pos), (ErrorKind::TooDeep(64), Pos::new(1, 65)));
}

#[test]
fn aliases_cannot_smuggle_depth_past_the_bound() {
    // 40 levels anchored, then copied 40 levels down: 80 > 64.
    let deep = format!("{}x{}", "[".repeat(40), "]".repeat(40));
    let text = format!(
        "a: &deep {deep}\nb: {}*deep{}\n",
        "[".repeat(40),
        "]".repeat(40)
    );
    let e = parse_documents(&text, &Options::default()).unwrap_err();
    assert_eq!(e.kind, ErrorKind::TooDeep(64), "{e}");
    assert_eq!(e.pos.line, 2);
}

/// A tree as text, for comparing with what yaml-rust2's own loader builds.
fn show(n: &bulwark_yaml::Node) -> String {
    match &n.kind {
        NodeKind::Scalar { text, .. } => text.clone(),
        NodeKind::Seq(items) => {
            format!("[{}]", items.iter().map(show).collect::<Vec<_>>().join(","))
        }
        NodeKind::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{}:{}", show(k), show(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

fn show_reference(y: &yaml_rust2::Yaml) -> String {
    use yaml_rust2::Yaml;
    match y {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(show_reference)
                .collect::<Vec<_>>()
                .join(",")
        ),
        Yaml::Hash(h) => format!(
            "{{{}}}",
            h.iter()
                .map(|(k, v)| format!("{}:{}", show_reference(k), show_reference(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => panic!("not in these documents: {other:?}"),
    }
}

#[test]
fn aliases_copy_what_the_reference_loader_copies() {
    // Anchors are found again in the tree (not kept as copies): anchored
    // keys, values, items, nodes inside other anchored nodes, nodes whose
    // frames have closed, redefined names, several documents.
    for text in [
        "a: &x {k: &y [1, 2]}\nb: *x\nc: *y\n",
        "&k key: *k\nother: *k\n",
        "- &a [&b x, [&c y, z]]\n- *a\n- *b\n- *c\n",
        "top:\n  mid:\n    - &deep {q: [&leaf w]}\n  other: *deep\nleaf: *leaf\nagain: [*deep, *leaf]\n",
        "? &ck [p, q]\n: v\nref: *ck\n",
        "a: &x one\nb: *x\nc: &x two\nd: *x\n",
        "a: &a [x]\nb: &b [*a, *a]\nc: [*b, *a, {k: *b}]\n",
        "a: &m {x: &n {y: &o [z]}}\nb: [*o, *n, *m]\nc: {*o : 1}\n",
        "---\na: &x 1\nb: *x\n---\nc: &x [2]\nd: *x\n",
        "- [&p1 a, &p2 b, &p3 c]\n- {x: *p3, y: *p2, z: *p1}\n- &w [[[*p1]]]\n- *w\n",
    ] {
        let ours = parse_documents(text, &Options::default()).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        let reference = yaml_rust2::YamlLoader::load_from_str(text).unwrap();
        let ours: Vec<String> = ours.iter().map(show).collect();
        let reference: Vec<String> = reference.iter().map(show_reference).collect();
        assert_eq!(ours, reference, "{text:?}");
    }
}

#[test]
fn the_byte_budget_bounds_what_aliases_copy() {
    // One anchored KiB copied 20 times: 20 KiB, past a 16 KiB budget at the
    // 17th alias, while the node budget (20 nodes) is nowhere near.
    let text = format!(
        "big: &big {}\ncopies: [{}]\n",
        "x".repeat(1024),
        vec!["*big"; 20].join(", ")
    );
    let small = Options {
        aliases: Aliases::Expand {
            max_nodes: 100_000,
            max_bytes: 16 << 10,
        },
        ..Options::default()
    };
    let e = parse_documents(&text, &small).unwrap_err();
    assert_eq!(e.kind, ErrorKind::AliasBytes(16 << 10), "{e}");
    // Column of the 17th alias: `copies: [` then 16 × `*big, `.
    assert_eq!(e.pos, Pos::new(2, 10 + 16 * 6), "{e}");
    assert_eq!(
        e.kind.to_string(),
        "aliases would copy more than 16 KiB of text (an alias bomb?); \
         expand them by hand if this is intended"
    );
    // Sixteen copies fit exactly.
    let fits = text.replace(&vec!["*big"; 20].join(", "), &vec!["*big"; 16].join(", "));
    assert!(parse_documents(&fits, &small).is_ok());
    // Keys count as text too.
    let keys = format!("k: &k {{{}: v}}\nc: [*k, *k]\n", "y".repeat(1000));
    let tight = Options {
        aliases: Aliases::Expand {
            max_nodes: 100_000,
            max_bytes: 1500,
        },
        ..Options::default()
    };
    let e = parse_documents(&keys, &tight).unwrap_err();
    assert_eq!(e.kind, ErrorKind::AliasBytes(1500), "{e}");
    assert!(e.to_string().contains("1.5 KiB"), "{e}");
}

#[test]
fn default_budgets_refuse_a_big_scalar_copied_many_times() {
    // 100,000 aliases of one MiB: within the node budget; the bytes stop it
    // at the 17th copy.
    let text = format!(
        "big: &big \"{}\"\ncopies: [{}]\n",
        "A".repeat(1 << 20),
        vec!["*big"; 100_000].join(", ")
    );
    let e = parse_documents(&text, &Options::default()).unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::AliasBytes(bulwark_yaml::DEFAULT_ALIAS_BYTES)
    );
    assert_eq!(e.pos, Pos::new(2, 10 + 16 * 6), "{e}");
    assert!(e.to_string().contains("more than 16 MiB of text"), "{e}");
    assert!(
        !e.to_string().contains("AAAA"),
        "no content in the message: {e}"
    );
}
