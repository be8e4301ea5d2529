//! Where something is in a text file: the one position type every loader and
//! linter reports with, so findings from rules, playbooks and laws all read
//! `path:line:col`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A 1-based line and column; the column counts characters, not bytes, as
/// editors do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    /// The first character of a file.
    pub const START: Pos = Pos { line: 1, column: 1 };

    pub const fn new(line: usize, column: usize) -> Pos {
        Pos { line, column }
    }

    /// The position of a byte offset in `text` (clamped to its end; an offset
    /// inside a multi-byte character counts as that character).
    pub fn of_offset(text: &str, offset: usize) -> Pos {
        let mut end = offset.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let before = &text[..end];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Pos { line, column }
    }
}

/// `line:col`, the form compilers and editors understand.
impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_one_based_positions() {
        let t = "a\nbc\nd";
        assert_eq!(Pos::of_offset(t, 0), Pos::new(1, 1));
        assert_eq!(Pos::of_offset(t, 3), Pos::new(2, 2));
        assert_eq!(Pos::of_offset(t, 5), Pos::new(3, 1));
        assert_eq!(Pos::of_offset(t, 99), Pos::new(3, 2));
        // Columns count characters: `é` is two bytes, one column.
        assert_eq!(Pos::of_offset("é = 1", 3), Pos::new(1, 3));
        assert_eq!(Pos::of_offset("é", 1), Pos::new(1, 1));
        assert_eq!(Pos::new(4, 7).to_string(), "4:7");
    }
}
