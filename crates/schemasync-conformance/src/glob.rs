//! Case-name patterns for `--case`: `*` matches any run of characters (`/` included),
//! `?` any one character, everything else itself.

/// Whether `name` matches `pattern` as a whole.
pub fn matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    // Classic wildcard matching with one backtrack point for the last `*`.
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == '?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((star_p, star_n)) => {
                    p = star_p + 1;
                    n = star_n + 1;
                    star = Some((star_p, star_n + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn stars_and_question_marks() {
        assert!(matches("*", "sqldef/postgres/CreateTable"));
        assert!(matches("sqldef/*/Create*", "sqldef/postgres/CreateTable"));
        assert!(matches("add_?olumn", "add_column"));
        assert!(matches("add_column", "add_column"));
        assert!(!matches("add_column", "add_column_x"));
        assert!(!matches("*Index", "CreateIndexes"));
        assert!(matches("*a*b*", "xxaxxbxx"));
    }
}
