//! Sampled values are the store's data, and some of it was typed by anyone:
//! no value, however long or strange, panics or runs away (a fixed-seed
//! loop over generated values).

use bulwark_discover::classify::{column, json_column, key_values, Options};
use bulwark_discover::{findings, value};

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const PIECES: &[&str] = &[
    "4111",
    "1111",
    " ",
    "-",
    "@",
    ".",
    "example",
    "com",
    "$2y$10$",
    "$argon2id$",
    "+44",
    "(",
    ")",
    "{",
    "}",
    "\"",
    ":",
    "[",
    "]",
    ",",
    "\u{202e}",
    "\u{0}",
    "é",
    "straße",
    "12",
    "/",
    "cvv",
    "GB82",
    "WEST",
    "::",
    "ffff",
    "\\",
    "\n",
    "0",
    "9",
];

fn sample(r: &mut XorShift) -> String {
    let n = (r.next() % 24) as usize;
    (0..n)
        .map(|_| PIECES[(r.next() % PIECES.len() as u64) as usize])
        .collect()
}

#[test]
fn generated_values_never_panic() {
    let mut r = XorShift(0x9e37_79b9_7f4a_7c15);
    let values: Vec<String> = (0..20_000).map(|_| sample(&mut r)).collect();
    for v in &values {
        let _ = value::hits(v);
        let _ = value::cards_in_text(v);
    }
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    for name in ["email", "cc_number", "password", "notes", "x"] {
        let report = column(
            "t",
            name,
            refs.iter().copied(),
            Options { show_masked: true },
        );
        let _ = findings::of(&report);
    }
    let _ = json_column("t", "doc", refs.iter().copied(), Options::default());
    let _ = key_values("t", "v", refs.iter().map(|v| (*v, *v)), Options::default());
    // Deep nesting and a huge value are bounded, not recursed into without end.
    let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let _ = json_column("t", "doc", [deep.as_str()], Options::default());
    let huge = "4".repeat(10 << 20);
    let _ = column("t", "notes", [huge.as_str()], Options::default());
}
