//! Dialect-neutral handling of SQL text: a lexer that knows quotes and comments,
//! whitespace folding, and "does this SQL mention that name".
//!
//! It understands only what every dialect shares (`'…'` literals, `"…"`, `` `…` `` and
//! `[…]` identifiers, `--` and `/* */` comments); it never parses statements.

/// One lexical token of SQL text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token<'a> {
    /// A bare word: keyword or unquoted identifier.
    Word(&'a str),
    /// A quoted identifier, with its quotes removed and doubled quotes undone.
    QuotedIdent(String),
    /// A string literal, quotes included, as written.
    Literal(&'a str),
    /// A run of whitespace.
    Space,
    /// A comment, as written.
    Comment(&'a str),
    /// Any other character or run (numbers, operators, punctuation).
    Other(&'a str),
}

/// Splits SQL text into tokens. Never fails: unterminated quotes run to the end.
///
/// ```
/// use schemasync_core::sqltext::{lex, Token};
/// let tokens: Vec<_> = lex("select \"a b\" -- c").into_iter().filter(|t| *t != Token::Space).collect();
/// assert_eq!(tokens[1], Token::QuotedIdent("a b".into()));
/// ```
pub fn lex(sql: &str) -> Vec<Token<'_>> {
    lex_spanned(sql)
        .into_iter()
        .map(|(token, _)| token)
        .collect()
}

/// Like [`lex`], with each token's byte range in `sql`.
///
/// ```
/// let tokens = schemasync_core::sqltext::lex_spanned("a [b c]");
/// assert_eq!(tokens[2].1, 2..7);
/// ```
pub fn lex_spanned(sql: &str) -> Vec<(Token<'_>, std::ops::Range<usize>)> {
    let bytes = sql.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            tokens.push((Token::Space, start..i));
        } else if c == b'-' && bytes.get(i + 1) == Some(&b'-') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            tokens.push((Token::Comment(&sql[start..i]), start..i));
        } else if c == b'/' && bytes.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                i += 1;
            }
            i = (i + 2).min(bytes.len());
            tokens.push((Token::Comment(&sql[start..i]), start..i));
        } else if c == b'\'' {
            i = end_of_quoted(bytes, i, b'\'');
            tokens.push((Token::Literal(&sql[start..i]), start..i));
        } else if c == b'"' || c == b'`' || c == b'[' {
            let close = if c == b'[' { b']' } else { c };
            i = end_of_quoted(bytes, i, close);
            let inner_end = if i > start + 1 && bytes[i - 1] == close {
                i - 1
            } else {
                i
            };
            let inner = &sql[start + 1..inner_end];
            let doubled = [close as char, close as char].iter().collect::<String>();
            tokens.push((
                Token::QuotedIdent(inner.replace(&doubled, &(close as char).to_string())),
                start..i,
            ));
        } else if is_word_byte(c) {
            while i < bytes.len() && is_word_byte(bytes[i]) {
                i += 1;
            }
            tokens.push((Token::Word(&sql[start..i]), start..i));
        } else {
            // One character (whole UTF-8 sequence) of punctuation or operator.
            i += sql[i..].chars().next().map_or(1, char::len_utf8);
            tokens.push((Token::Other(&sql[start..i]), start..i));
        }
    }
    tokens
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

/// Index just past the quote that closes the one at `start`; doubled quotes do not close
/// (except for `]`, which has no escape).
fn end_of_quoted(bytes: &[u8], start: usize, close: u8) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == close {
            if close != b']' && bytes.get(i + 1) == Some(&close) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// Folds every run of whitespace outside literals and quoted names to one space, drops
/// comments, and trims the ends and any trailing semicolons.
///
/// ```
/// assert_eq!(schemasync_core::sqltext::fold_whitespace("select  a,\n  'x  y' -- c\n;"), "select a, 'x  y'");
/// ```
pub fn fold_whitespace(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut pending_space = false;
    for (token, span) in lex_spanned(sql) {
        match token {
            Token::Space | Token::Comment(_) => pending_space = true,
            _ => {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push_str(&sql[span]);
            }
        }
    }
    out.trim_end_matches([';', ' ']).to_string()
}

/// Whether `sql` mentions the identifier `name` (bare or quoted).
///
/// A conservative test used for dependency order: a match inside a string literal or
/// comment does not count; a column or alias of the same name does.
///
/// ```
/// use schemasync_core::sqltext::mentions;
/// assert!(mentions("SELECT * FROM \"Order Items\"", "Order Items", false));
/// assert!(!mentions("SELECT 'users' FROM t", "users", true));
/// ```
pub fn mentions(sql: &str, name: &str, case_insensitive: bool) -> bool {
    lex(sql).iter().any(|token| match token {
        Token::Word(word) => {
            if case_insensitive {
                word.eq_ignore_ascii_case(name)
            } else {
                *word == name
            }
        }
        Token::QuotedIdent(ident) => {
            if case_insensitive {
                ident.eq_ignore_ascii_case(name)
            } else {
                ident == name
            }
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_whitespace_but_keeps_literals_and_quoted_names() {
        assert_eq!(
            fold_whitespace("CREATE  VIEW \"a  b\"\nAS select '  x' /* c */ from t;;"),
            "CREATE VIEW \"a  b\" AS select '  x' from t"
        );
    }

    #[test]
    fn lexes_doubled_quotes_inside_identifiers() {
        let tokens = lex(r#""we""ird" [br]acket] `b``q`"#);
        let idents: Vec<_> = tokens
            .into_iter()
            .filter_map(|t| match t {
                Token::QuotedIdent(s) => Some(s),
                _ => None,
            })
            .collect();
        assert_eq!(idents, vec!["we\"ird", "br", "b`q"]);
    }

    #[test]
    fn mentions_ignores_comments_and_literals() {
        assert!(!mentions("select 1 -- users", "users", false));
        assert!(mentions("select * from Users", "users", true));
        assert!(!mentions("select * from Users", "users", false));
    }
}
