//! Parser for the `condition` expression language.
//!
//! Precedence, least to most binding: `or`, `and`, `not`, `x of y`, parentheses.
//! Errors carry the character offset inside the condition string.

use crate::ast::{Condition, Quantifier};

#[derive(Debug, Clone, PartialEq)]
pub struct ConditionError {
    pub offset: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Of,
    All,
    Them,
    Number(usize),
    Ident(String),
}

fn tokenize(s: &str) -> Result<Vec<(Tok, usize)>, ConditionError> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (off, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        match c {
            '(' => {
                out.push((Tok::LParen, off));
                i += 1;
            }
            ')' => {
                out.push((Tok::RParen, off));
                i += 1;
            }
            '|' => {
                return Err(ConditionError {
                    offset: off,
                    message: "aggregation expressions ('| count() ...') are obsolete; write a correlation rule".into(),
                })
            }
            c if c.is_alphanumeric() || matches!(c, '_' | '*' | '-' | '.' | '?') => {
                let start = i;
                while i < chars.len()
                    && (chars[i].1.is_alphanumeric() || matches!(chars[i].1, '_' | '*' | '-' | '.' | '?'))
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().map(|(_, c)| *c).collect();
                let tok = match word.to_ascii_lowercase().as_str() {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    "of" => Tok::Of,
                    "all" => Tok::All,
                    "them" => Tok::Them,
                    _ if word.bytes().all(|b| b.is_ascii_digit()) => match word.parse() {
                        Ok(n) => Tok::Number(n),
                        Err(_) => {
                            return Err(ConditionError {
                                offset: off,
                                message: "number too large".into(),
                            })
                        }
                    },
                    _ => Tok::Ident(word),
                };
                out.push((tok, off));
            }
            other => {
                return Err(ConditionError {
                    offset: off,
                    message: format!("unexpected character '{other}'"),
                })
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    i: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|(t, _)| t)
    }
    fn offset(&self) -> usize {
        self.toks.get(self.i).map(|(_, o)| *o).unwrap_or(self.end)
    }
    fn err<T>(&self, message: impl Into<String>) -> Result<T, ConditionError> {
        Err(ConditionError {
            offset: self.offset(),
            message: message.into(),
        })
    }

    fn or(&mut self, depth: usize) -> Result<Condition, ConditionError> {
        let mut items = vec![self.and(depth)?];
        while self.peek() == Some(&Tok::Or) {
            self.i += 1;
            items.push(self.and(depth)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Condition::Or(items)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Condition, ConditionError> {
        let mut items = vec![self.not(depth)?];
        while self.peek() == Some(&Tok::And) {
            self.i += 1;
            items.push(self.not(depth)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Condition::And(items)
        })
    }

    fn not(&mut self, depth: usize) -> Result<Condition, ConditionError> {
        if self.peek() == Some(&Tok::Not) {
            if depth > 64 {
                return self.err("expression nested too deeply");
            }
            self.i += 1;
            return Ok(Condition::Not(Box::new(self.not(depth + 1)?)));
        }
        self.primary(depth)
    }

    fn primary(&mut self, depth: usize) -> Result<Condition, ConditionError> {
        // Bounded nesting keeps hostile rules from overflowing the stack.
        if depth > 64 {
            return self.err("expression nested too deeply");
        }
        match self.peek().cloned() {
            Some(Tok::LParen) => {
                self.i += 1;
                let inner = self.or(depth + 1)?;
                if self.peek() != Some(&Tok::RParen) {
                    return self.err("expected ')'");
                }
                self.i += 1;
                Ok(inner)
            }
            Some(Tok::Number(n)) => {
                self.i += 1;
                if n == 0 {
                    self.i -= 1;
                    return self.err("'0 of' can never match; use 'not 1 of'");
                }
                self.of(Quantifier::AtLeast(n))
            }
            Some(Tok::All) => {
                self.i += 1;
                self.of(Quantifier::All)
            }
            Some(Tok::Ident(name)) => {
                self.i += 1;
                if name.contains(['*', '?']) {
                    self.i -= 1;
                    return self.err(format!(
                        "wildcard identifier '{name}' is only allowed after '1 of' or 'all of'"
                    ));
                }
                Ok(Condition::Ref(name))
            }
            Some(t) => self.err(format!("unexpected {}", describe(&t))),
            None => self.err("unexpected end of condition"),
        }
    }

    fn of(&mut self, quantifier: Quantifier) -> Result<Condition, ConditionError> {
        if self.peek() != Some(&Tok::Of) {
            return self.err("expected 'of'");
        }
        self.i += 1;
        match self.peek().cloned() {
            Some(Tok::Them) => {
                self.i += 1;
                Ok(Condition::Of {
                    quantifier,
                    pattern: None,
                })
            }
            Some(Tok::Ident(p)) => {
                self.i += 1;
                Ok(Condition::Of {
                    quantifier,
                    pattern: Some(p),
                })
            }
            _ => self.err("expected 'them' or a search identifier pattern after 'of'"),
        }
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::And => "'and'".into(),
        Tok::Or => "'or'".into(),
        Tok::Not => "'not'".into(),
        Tok::Of => "'of'".into(),
        Tok::All => "'all'".into(),
        Tok::Them => "'them'".into(),
        Tok::Number(n) => format!("number {n}"),
        Tok::Ident(s) => format!("identifier '{s}'"),
    }
}

/// Parses one condition expression.
pub fn parse_condition(s: &str) -> Result<Condition, ConditionError> {
    let toks = tokenize(s)?;
    let mut p = Parser {
        toks,
        i: 0,
        end: s.len(),
    };
    let c = p.or(0)?;
    if p.i != p.toks.len() {
        return p.err(format!(
            "unexpected {} after a complete expression",
            p.peek().map(describe).unwrap_or_default()
        ));
    }
    Ok(c)
}

/// Matches a search identifier against an `x of` pattern (`*` any run, `?` one char).
///
/// Linear backtracking (to the last `*` only), so at most
/// `pattern.len() × name.len()` steps: trying every split at every `*`
/// would be exponential in the number of stars, and both the pattern and the
/// names come from the rule file.
pub fn identifier_matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    // After the last `*` seen: where the pattern resumes, and the name
    // position the star's run currently ends at.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi + 1, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                // Let the last star take one more character.
                Some((resume, end)) => {
                    star = Some((resume, end + 1));
                    pi = resume;
                    ni = end + 1;
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use Condition::*;

    fn r(s: &str) -> Condition {
        Ref(s.into())
    }

    #[test]
    fn precedence() {
        assert_eq!(
            parse_condition("a or b and not c").unwrap(),
            Or(vec![r("a"), And(vec![r("b"), Not(Box::new(r("c")))])])
        );
        assert_eq!(
            parse_condition("(a or b) and c").unwrap(),
            And(vec![Or(vec![r("a"), r("b")]), r("c")])
        );
    }

    #[test]
    fn of_forms() {
        assert_eq!(
            parse_condition("1 of selection_* and not all of filter*").unwrap(),
            And(vec![
                Of {
                    quantifier: Quantifier::AtLeast(1),
                    pattern: Some("selection_*".into())
                },
                Not(Box::new(Of {
                    quantifier: Quantifier::All,
                    pattern: Some("filter*".into())
                }))
            ])
        );
        assert_eq!(
            parse_condition("2 of them").unwrap(),
            Of {
                quantifier: Quantifier::AtLeast(2),
                pattern: None
            }
        );
    }

    #[test]
    fn errors_have_offsets() {
        let e = parse_condition("a and (b or c").unwrap_err();
        assert_eq!(e.offset, 13);
        let e = parse_condition("a and and b").unwrap_err();
        assert_eq!(e.offset, 6);
        let e = parse_condition("selection | count() > 5").unwrap_err();
        assert_eq!(e.offset, 10);
        assert!(parse_condition("sel*").is_err());
        assert!(parse_condition("").is_err());
        assert!(parse_condition("a b").is_err());
    }

    #[test]
    fn identifier_patterns() {
        assert!(identifier_matches("selection_*", "selection_img"));
        assert!(!identifier_matches("selection_*", "selection"));
        assert!(identifier_matches("*", "x"));
        assert!(identifier_matches("sel*tion", "selection"));
    }

    /// The definition, tried split by split (exponential in stars).
    fn reference(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|k| reference(rest, &n[k..])),
            Some(('?', rest)) => !n.is_empty() && reference(rest, &n[1..]),
            Some((c, rest)) => n.first() == Some(c) && reference(rest, &n[1..]),
        }
    }

    #[test]
    fn identifier_patterns_agree_with_the_definition() {
        // Every pattern and name of up to 5 characters over a small alphabet.
        fn all(alphabet: &[char], max: usize) -> Vec<String> {
            let mut out = vec![String::new()];
            let mut last = vec![String::new()];
            for _ in 0..max {
                last = last
                    .iter()
                    .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                    .collect();
                out.extend(last.iter().cloned());
            }
            out
        }
        let patterns = all(&['a', 'b', '*', '?'], 5);
        let names = all(&['a', 'b', 'é'], 5);
        for p in &patterns {
            let pc: Vec<char> = p.chars().collect();
            for n in &names {
                let nc: Vec<char> = n.chars().collect();
                assert_eq!(
                    identifier_matches(p, n),
                    reference(&pc, &nc),
                    "{p:?} vs {n:?}"
                );
            }
        }
    }

    #[test]
    fn many_stars_take_linear_time() {
        // Exponential for a matcher that tries every split: 2^40 here.
        let pattern = format!("{}b", "*a".repeat(40));
        assert!(!identifier_matches(&pattern, &"a".repeat(120)));
        assert!(identifier_matches(
            &pattern,
            &format!("{}b", "a".repeat(120))
        ));
    }
}
