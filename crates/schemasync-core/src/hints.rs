//! Rename hints: which table, column, index, policy, type, domain, collation or text
//! search configuration used to have another name (SPEC §3).
//!
//! This module owns finding hints in SQL text (`-- schemasync: renamed_from=old`,
//! sqldef's `-- @renamed from=old` and `/* @renamed from=old */`), collecting them from a
//! hand-written model, and putting them back on a normalised schema as `renamed_from`.
//! It never guesses a rename, never parses SQL beyond lexing, and never checks that the
//! old name exists: the diff decides what a hint that matches nothing means.
//!
//! # Which object a hint belongs to
//!
//! A hint belongs to the object defined on the line of the comment:
//!
//! - a table: the lines from `CREATE TABLE` to its name and the `(` that opens its body;
//! - a column: the lines of a column definition inside a `CREATE TABLE` body, from its
//!   name to the `,` that ends it (or its last token before the closing `)`);
//! - an index: the lines of a `CREATE [UNIQUE] INDEX name … ;` statement;
//! - a policy: the lines of a `CREATE POLICY name ON table … ;` statement (PostgreSQL).
//! - a type (enum, composite or range), domain, collation or text search configuration:
//!   the lines of its `CREATE TYPE`, `CREATE DOMAIN`, `CREATE COLLATION` or `CREATE TEXT
//!   SEARCH CONFIGURATION` statement.
//!
//! When several objects share the line, the hint belongs to the last one that starts
//! before the comment (`CREATE TABLE t ( -- …` is the table's; `a int, -- …` the
//! column's), else to the first that starts after it. `IF NOT EXISTS` is skipped and a
//! qualified name `a.b` gives `b`. Old names may be quoted (`"old name"`, `` `old` ``,
//! `[old]`, `'old'`); bare ones run to the next space. Hints on other lines (a table
//! constraint, a view) have no model object to go to and are listed in
//! [`RenameHints::ignored`].

use crate::error::{Error, Result};
use crate::model::Schema;
use crate::sqltext::{lex, lex_spanned, Token};

/// A table's previous name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRename {
    /// The table's name in the desired schema.
    pub table: String,
    /// Its previous name.
    pub from: String,
}

/// A column's previous name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRename {
    /// The table's name in the desired schema.
    pub table: String,
    /// The column's name in the desired schema.
    pub column: String,
    /// Its previous name.
    pub from: String,
}

/// An index's previous name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexRename {
    /// The index's name in the desired schema.
    pub index: String,
    /// Its previous name.
    pub from: String,
}

/// A policy's previous name (on the same table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRename {
    /// The table the policy is on, by its name in the desired schema.
    pub table: String,
    /// The policy's name in the desired schema.
    pub policy: String,
    /// Its previous name.
    pub from: String,
}

/// What kind of catalog object an [`ObjectRename`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// An enum, composite or range type (`CREATE TYPE`).
    Type,
    /// A domain (`CREATE DOMAIN`).
    Domain,
    /// A collation (`CREATE COLLATION`).
    Collation,
    /// A text search configuration (`CREATE TEXT SEARCH CONFIGURATION`).
    TextSearchConfig,
}

impl ObjectKind {
    /// The kind in words, as errors name it.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Type => "type",
            ObjectKind::Domain => "domain",
            ObjectKind::Collation => "collation",
            ObjectKind::TextSearchConfig => "text search configuration",
        }
    }
}

/// A type's, domain's, collation's or text search configuration's previous name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRename {
    /// What kind of object it is.
    pub kind: ObjectKind,
    /// Its name in the desired schema.
    pub object: String,
    /// Its previous name.
    pub from: String,
}

/// A rename hint that names no table, column or index, so it cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredHint {
    /// 1-based line of the comment.
    pub line: usize,
    /// The comment, as written.
    pub comment: String,
    /// Why it was not applied, in a few words.
    pub reason: String,
}

/// Rename hints of a desired schema, keyed by the new names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenameHints {
    /// Renamed tables.
    pub tables: Vec<TableRename>,
    /// Renamed columns.
    pub columns: Vec<ColumnRename>,
    /// Renamed indexes.
    pub indexes: Vec<IndexRename>,
    /// Renamed policies.
    pub policies: Vec<PolicyRename>,
    /// Renamed types, domains, collations and text search configurations.
    pub objects: Vec<ObjectRename>,
    /// Hints found in SQL text that belong to no object definition, or that give no old
    /// name; the caller may warn about them.
    pub ignored: Vec<IgnoredHint>,
}

/// A token with its byte offset and 1-based line.
struct Spanned<'a> {
    token: Token<'a>,
    offset: usize,
    line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Table(String),
    Column { table: String, column: String },
    Index(String),
    Policy { table: String, policy: String },
    Object(ObjectKind, String),
}

/// An object definition and the lines it occupies for hint purposes.
struct Definition {
    target: Target,
    offset: usize,
    first_line: usize,
    last_line: usize,
}

impl RenameHints {
    /// Finds the rename hints in DDL text.
    ///
    /// ```
    /// use schemasync_core::hints::{ColumnRename, RenameHints, TableRename};
    /// let hints = RenameHints::from_sql(
    ///     "CREATE TABLE people ( -- schemasync: renamed_from=users\n  \
    ///        email TEXT -- @renamed from=\"mail\"\n);",
    /// );
    /// assert_eq!(hints.tables, [TableRename { table: "people".into(), from: "users".into() }]);
    /// assert_eq!(
    ///     hints.columns,
    ///     [ColumnRename { table: "people".into(), column: "email".into(), from: "mail".into() }]
    /// );
    /// ```
    pub fn from_sql(sql: &str) -> RenameHints {
        let tokens = spanned(sql);
        let definitions = definitions(&tokens);
        let mut hints = RenameHints::default();
        for spanned in &tokens {
            let Token::Comment(comment) = spanned.token else {
                continue;
            };
            let Some(old) = parse_hint(comment) else {
                continue;
            };
            let ignore = |reason: &str| IgnoredHint {
                line: spanned.line,
                comment: comment.to_string(),
                reason: reason.to_string(),
            };
            let Some(from) = old else {
                hints.ignored.push(ignore("it gives no old name"));
                continue;
            };
            match owner(&definitions, spanned) {
                Some(Target::Table(table)) => hints.tables.push(TableRename { table, from }),
                Some(Target::Column { table, column }) => hints.columns.push(ColumnRename {
                    table,
                    column,
                    from,
                }),
                Some(Target::Index(index)) => hints.indexes.push(IndexRename { index, from }),
                Some(Target::Policy { table, policy }) => hints.policies.push(PolicyRename {
                    table,
                    policy,
                    from,
                }),
                Some(Target::Object(kind, object)) => {
                    hints.objects.push(ObjectRename { kind, object, from })
                }
                None => hints.ignored.push(ignore(
                    "it is not on the line of a table, column, index, policy, type, domain, collation or text search configuration definition",
                )),
            }
        }
        hints
    }

    /// The hints a hand-written model carries (`renamed_from` fields), so they survive
    /// normalisation by a driver.
    pub fn from_model(schema: &Schema) -> RenameHints {
        let mut hints = RenameHints::default();
        for table in &schema.tables {
            if let Some(from) = &table.renamed_from {
                hints.tables.push(TableRename {
                    table: table.name.clone(),
                    from: from.clone(),
                });
            }
            for column in &table.columns {
                if let Some(from) = &column.renamed_from {
                    hints.columns.push(ColumnRename {
                        table: table.name.clone(),
                        column: column.name.clone(),
                        from: from.clone(),
                    });
                }
            }
            for index in &table.indexes {
                if let Some(from) = &index.renamed_from {
                    hints.indexes.push(IndexRename {
                        index: index.name.clone(),
                        from: from.clone(),
                    });
                }
            }
            for policy in &table.policies {
                if let Some(from) = &policy.renamed_from {
                    hints.policies.push(PolicyRename {
                        table: table.name.clone(),
                        policy: policy.name.clone(),
                        from: from.clone(),
                    });
                }
            }
        }
        let objects = schema
            .enums
            .iter()
            .map(|e| (ObjectKind::Type, &e.name, &e.renamed_from))
            .chain(
                schema
                    .composite_types
                    .iter()
                    .map(|c| (ObjectKind::Type, &c.name, &c.renamed_from)),
            )
            .chain(
                schema
                    .range_types
                    .iter()
                    .map(|r| (ObjectKind::Type, &r.name, &r.renamed_from)),
            )
            .chain(
                schema
                    .domains
                    .iter()
                    .map(|d| (ObjectKind::Domain, &d.name, &d.renamed_from)),
            )
            .chain(
                schema
                    .collations
                    .iter()
                    .map(|c| (ObjectKind::Collation, &c.name, &c.renamed_from)),
            )
            .chain(
                schema
                    .text_search_configs
                    .iter()
                    .map(|c| (ObjectKind::TextSearchConfig, &c.name, &c.renamed_from)),
            );
        for (kind, name, renamed_from) in objects {
            if let Some(from) = renamed_from {
                hints.objects.push(ObjectRename {
                    kind,
                    object: name.clone(),
                    from: from.clone(),
                });
            }
        }
        hints
    }

    /// Whether there is no hint to apply.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
            && self.columns.is_empty()
            && self.indexes.is_empty()
            && self.policies.is_empty()
            && self.objects.is_empty()
    }

    /// Sets `renamed_from` on the objects the hints name.
    ///
    /// Names match exactly, or ASCII case-insensitively when `case_insensitive` (SQLite).
    /// A name that matches nothing also matches its ASCII lower-case form, so a hint on
    /// an unquoted `CREATE TABLE Users` finds PostgreSQL's `users`. Hints that match
    /// nothing are left out. A hint whose old name is still in the schema is a
    /// contradiction and an [`Error::InvalidSchema`] naming both.
    pub fn apply(&self, schema: &mut Schema, case_insensitive: bool) -> Result<()> {
        let ci = case_insensitive;
        let contradiction = |what: &str, name: &str, from: &str, place: &str| {
            Err(Error::InvalidSchema(format!(
                "{what} {name} is marked as renamed from {from}, but {place} still has a {what} named {from}"
            )))
        };
        for hint in &self.tables {
            let names = || schema.tables.iter().map(|t| &t.name);
            if let Some(t) = find_name(names(), &hint.table, ci) {
                if still_there(names(), &hint.from, ci, t) {
                    return contradiction("table", &hint.table, &hint.from, "the desired schema");
                }
                schema.tables[t].renamed_from = Some(hint.from.clone());
            }
        }
        for hint in &self.columns {
            let Some(t) = find_name(schema.tables.iter().map(|t| &t.name), &hint.table, ci) else {
                continue;
            };
            let table = &mut schema.tables[t];
            let names = || table.columns.iter().map(|c| &c.name);
            if let Some(c) = find_name(names(), &hint.column, ci) {
                if still_there(names(), &hint.from, ci, c) {
                    return contradiction(
                        "column",
                        &format!("{}.{}", hint.table, hint.column),
                        &hint.from,
                        &format!("table {}", hint.table),
                    );
                }
                table.columns[c].renamed_from = Some(hint.from.clone());
            }
        }
        let positions: Vec<(usize, usize)> = schema
            .tables
            .iter()
            .enumerate()
            .flat_map(|(t, table)| (0..table.indexes.len()).map(move |i| (t, i)))
            .collect();
        for hint in &self.indexes {
            let names = || {
                positions
                    .iter()
                    .map(|&(t, i)| &schema.tables[t].indexes[i].name)
            };
            if let Some(k) = find_name(names(), &hint.index, ci) {
                if still_there(names(), &hint.from, ci, k) {
                    return contradiction("index", &hint.index, &hint.from, "the desired schema");
                }
                let (t, i) = positions[k];
                schema.tables[t].indexes[i].renamed_from = Some(hint.from.clone());
            }
        }
        for hint in &self.policies {
            let Some(t) = find_name(schema.tables.iter().map(|t| &t.name), &hint.table, ci) else {
                continue;
            };
            let table = &mut schema.tables[t];
            let names = || table.policies.iter().map(|p| &p.name);
            if let Some(p) = find_name(names(), &hint.policy, ci) {
                if still_there(names(), &hint.from, ci, p) {
                    return contradiction(
                        "policy",
                        &hint.policy,
                        &hint.from,
                        &format!("table {}", hint.table),
                    );
                }
                table.policies[p].renamed_from = Some(hint.from.clone());
            }
        }

        for hint in &self.objects {
            let mut hinted = hinted_objects(schema, hint.kind);
            let names: Vec<String> = hinted.iter().map(|(name, _)| name.to_string()).collect();
            if let Some(k) = find_name(&names, &hint.object, ci) {
                if still_there(&names, &hint.from, ci, k) {
                    return contradiction(
                        hint.kind.as_str(),
                        &hint.object,
                        &hint.from,
                        "the desired schema",
                    );
                }
                *hinted[k].1 = Some(hint.from.clone());
            }
        }
        Ok(())
    }
}

/// The name and rename hint of every object of `kind`: the types are the enum,
/// composite and range types (they share one namespace).
fn hinted_objects(schema: &mut Schema, kind: ObjectKind) -> Vec<(&str, &mut Option<String>)> {
    match kind {
        ObjectKind::Type => schema
            .enums
            .iter_mut()
            .map(|e| (e.name.as_str(), &mut e.renamed_from))
            .chain(
                schema
                    .composite_types
                    .iter_mut()
                    .map(|c| (c.name.as_str(), &mut c.renamed_from)),
            )
            .chain(
                schema
                    .range_types
                    .iter_mut()
                    .map(|r| (r.name.as_str(), &mut r.renamed_from)),
            )
            .collect(),
        ObjectKind::Domain => schema
            .domains
            .iter_mut()
            .map(|d| (d.name.as_str(), &mut d.renamed_from))
            .collect(),
        ObjectKind::Collation => schema
            .collations
            .iter_mut()
            .map(|c| (c.name.as_str(), &mut c.renamed_from))
            .collect(),
        ObjectKind::TextSearchConfig => schema
            .text_search_configs
            .iter_mut()
            .map(|c| (c.name.as_str(), &mut c.renamed_from))
            .collect(),
    }
}

/// Position of the name that matches `wanted` (see [`RenameHints::apply`]).
fn find_name<'a>(
    names: impl IntoIterator<Item = &'a String>,
    wanted: &str,
    case_insensitive: bool,
) -> Option<usize> {
    let folded = wanted.to_ascii_lowercase();
    let mut fallback = None;
    for (i, name) in names.into_iter().enumerate() {
        if name == wanted || (case_insensitive && name.eq_ignore_ascii_case(wanted)) {
            return Some(i);
        }
        if fallback.is_none() && *name == folded {
            fallback = Some(i);
        }
    }
    fallback
}

/// Whether an object other than the one at `renamed` still has the old name `from`
/// (matched exactly, or ASCII case-insensitively when `case_insensitive`: a quoted
/// `"UserName"` renamed to `username` is no contradiction on PostgreSQL).
fn still_there<'a>(
    names: impl IntoIterator<Item = &'a String>,
    from: &str,
    case_insensitive: bool,
    renamed: usize,
) -> bool {
    names.into_iter().enumerate().any(|(i, name)| {
        i != renamed && (name == from || (case_insensitive && name.eq_ignore_ascii_case(from)))
    })
}

/// Reads a hint comment: `None` when the comment is no hint, `Some(None)` when it is one
/// without an old name, `Some(Some(old))` otherwise.
fn parse_hint(comment: &str) -> Option<Option<String>> {
    let body = if let Some(rest) = comment.strip_prefix("--") {
        rest
    } else {
        let rest = comment.strip_prefix("/*")?;
        rest.strip_suffix("*/").unwrap_or(rest)
    };
    let lower = body.to_ascii_lowercase();
    let (start, key) = [("schemasync:", "renamed_from"), ("@renamed", "from")]
        .iter()
        .find_map(|(marker, key)| Some((lower.find(marker)? + marker.len(), *key)))?;
    let rest = lower[start..].trim_start();
    if !rest.starts_with(key) {
        return Some(None);
    }
    let rest = body[body.len() - rest.len() + key.len()..].trim_start();
    let Some(value) = rest.strip_prefix('=') else {
        return Some(None);
    };
    let value = value.trim_start();
    let old = match value.chars().next() {
        Some('"' | '`' | '[') => match lex(value).into_iter().next() {
            Some(Token::QuotedIdent(ident)) => ident,
            _ => String::new(),
        },
        Some('\'') => match lex(value).into_iter().next() {
            Some(Token::Literal(literal)) => {
                let inner = literal.strip_prefix('\'').unwrap_or(literal);
                inner.strip_suffix('\'').unwrap_or(inner).replace("''", "'")
            }
            _ => String::new(),
        },
        _ => value.split_whitespace().next().unwrap_or("").to_string(),
    };
    Some((!old.is_empty()).then_some(old))
}

/// Lexes `sql` and gives each token its offset and line.
fn spanned(sql: &str) -> Vec<Spanned<'_>> {
    let mut line = 1;
    lex_spanned(sql)
        .into_iter()
        .map(|(token, span)| {
            let spanned = Spanned {
                token,
                offset: span.start,
                line,
            };
            line += sql[span].matches('\n').count();
            spanned
        })
        .collect()
}

fn is_word(token: &Token<'_>, word: &str) -> bool {
    matches!(token, Token::Word(w) if w.eq_ignore_ascii_case(word))
}

fn is_other(token: &Token<'_>, text: &str) -> bool {
    matches!(token, Token::Other(o) if *o == text)
}

fn identifier(token: &Token<'_>) -> Option<String> {
    match token {
        Token::Word(word) => Some((*word).to_string()),
        Token::QuotedIdent(ident) => Some(ident.clone()),
        _ => None,
    }
}

/// The table, column and index definitions of the text, statement by statement.
fn definitions(tokens: &[Spanned<'_>]) -> Vec<Definition> {
    let significant: Vec<&Spanned<'_>> = tokens
        .iter()
        .filter(|s| !matches!(s.token, Token::Space | Token::Comment(_)))
        .collect();
    let mut definitions = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, spanned) in significant.iter().enumerate() {
        match spanned.token {
            Token::Other("(") => depth += 1,
            Token::Other(")") => depth = depth.saturating_sub(1),
            Token::Other(";") if depth == 0 => {
                statement(&significant[start..=i], &mut definitions);
                start = i + 1;
            }
            _ => {}
        }
    }
    statement(&significant[start..], &mut definitions);
    definitions
}

/// Adds the definitions of one statement (its significant tokens, `;` included if any).
fn statement(tokens: &[&Spanned<'_>], definitions: &mut Vec<Definition>) {
    let Some(first) = tokens.first() else {
        return;
    };
    if !is_word(&first.token, "create") {
        return;
    }
    let mut i = 1;
    let modifiers = ["temp", "temporary", "unlogged", "global", "local", "unique"];
    while tokens
        .get(i)
        .is_some_and(|t| modifiers.iter().any(|m| is_word(&t.token, m)))
    {
        i += 1;
    }
    if tokens.get(i).is_some_and(|t| is_word(&t.token, "policy")) {
        policy(tokens, i + 1, definitions);
        return;
    }

    if let Some(kind) = object_kind(&tokens[i..]) {
        object(kind, tokens, i, definitions);
        return;
    }
    let is_table = tokens.get(i).is_some_and(|t| is_word(&t.token, "table"));
    let is_index = tokens.get(i).is_some_and(|t| is_word(&t.token, "index"));
    if !is_table && !is_index {
        return;
    }
    i += 1;
    if is_index
        && tokens
            .get(i)
            .is_some_and(|t| is_word(&t.token, "concurrently"))
    {
        i += 1;
    }
    if tokens.get(i).is_some_and(|t| is_word(&t.token, "if")) {
        i += 3; // IF NOT EXISTS
    }
    let Some((name, name_at)) = qualified_name(tokens, i) else {
        return;
    };
    if is_index && name_at == i && name.eq_ignore_ascii_case("on") {
        return; // PostgreSQL's unnamed CREATE INDEX ON t (…)
    }
    let last = tokens.last().map_or(first.line, |t| t.line);
    if is_index {
        definitions.push(Definition {
            target: Target::Index(name),
            offset: first.offset,
            first_line: first.line,
            last_line: last,
        });
        return;
    }
    let body = tokens.get(name_at + 1).filter(|t| is_other(&t.token, "("));
    definitions.push(Definition {
        target: Target::Table(name.clone()),
        offset: first.offset,
        first_line: first.line,
        last_line: body.map_or(tokens[name_at].line, |t| t.line),
    });
    if body.is_some() {
        columns(&name, &tokens[name_at + 2..], definitions);
    }
}

/// The qualified name `ident ( "." ident )*` at `i`: its last part (the object's name)
/// and where that part is.
fn qualified_name(tokens: &[&Spanned<'_>], mut i: usize) -> Option<(String, usize)> {
    let mut name = tokens.get(i).and_then(|t| identifier(&t.token))?;
    while tokens.get(i + 1).is_some_and(|t| is_other(&t.token, ".")) {
        match tokens.get(i + 2).and_then(|t| identifier(&t.token)) {
            Some(part) => {
                name = part;
                i += 2;
            }
            None => break,
        }
    }
    Some((name, i))
}

/// The kind of object a `CREATE` statement makes, from the words after `CREATE` (and
/// `OR REPLACE`): `TYPE`, `DOMAIN`, `COLLATION` or `TEXT SEARCH CONFIGURATION`.
fn object_kind(tokens: &[&Spanned<'_>]) -> Option<ObjectKind> {
    let word = |k: usize, w: &str| tokens.get(k).is_some_and(|t| is_word(&t.token, w));
    if word(0, "type") {
        Some(ObjectKind::Type)
    } else if word(0, "domain") {
        Some(ObjectKind::Domain)
    } else if word(0, "collation") {
        Some(ObjectKind::Collation)
    } else if word(0, "text") && word(1, "search") && word(2, "configuration") {
        Some(ObjectKind::TextSearchConfig)
    } else {
        None
    }
}

/// Adds the definition of a `CREATE TYPE|DOMAIN|COLLATION|TEXT SEARCH CONFIGURATION`
/// statement, whose kind word starts at `at`: the whole statement is its lines.
fn object(kind: ObjectKind, tokens: &[&Spanned<'_>], at: usize, definitions: &mut Vec<Definition>) {
    let mut i = at
        + if kind == ObjectKind::TextSearchConfig {
            3
        } else {
            1
        };
    if tokens.get(i).is_some_and(|t| is_word(&t.token, "if")) {
        i += 3; // IF NOT EXISTS
    }
    let Some((name, _)) = qualified_name(tokens, i) else {
        return;
    };
    let (Some(first), Some(last)) = (tokens.first(), tokens.last()) else {
        return;
    };
    definitions.push(Definition {
        target: Target::Object(kind, name),
        offset: first.offset,
        first_line: first.line,
        last_line: last.line,
    });
}

/// Adds the policy of `CREATE POLICY name ON table …` (`name_at` is where its name is).
fn policy(tokens: &[&Spanned<'_>], name_at: usize, definitions: &mut Vec<Definition>) {
    let Some(policy) = tokens.get(name_at).and_then(|t| identifier(&t.token)) else {
        return;
    };
    if !tokens
        .get(name_at + 1)
        .is_some_and(|t| is_word(&t.token, "on"))
    {
        return;
    }
    let (Some(first), Some((table, _))) = (tokens.first(), qualified_name(tokens, name_at + 2))
    else {
        return;
    };
    definitions.push(Definition {
        target: Target::Policy { table, policy },
        offset: first.offset,
        first_line: first.line,
        last_line: tokens.last().map_or(first.line, |t| t.line),
    });
}

/// Adds the column definitions of a table body (`tokens` starts after its `(`).
fn columns(table: &str, tokens: &[&Spanned<'_>], definitions: &mut Vec<Definition>) {
    const CONSTRAINTS: [&str; 7] = [
        "constraint",
        "primary",
        "unique",
        "check",
        "foreign",
        "exclude",
        "like",
    ];
    let mut depth = 1usize;
    let mut item_start = true;
    let mut open: Option<Definition> = None;
    for spanned in tokens {
        match spanned.token {
            Token::Other("(") => depth += 1,
            Token::Other(")") => {
                depth -= 1;
                if depth == 0 {
                    definitions.extend(open.take());
                    return;
                }
            }
            Token::Other(",") if depth == 1 => {
                if let Some(mut column) = open.take() {
                    column.last_line = spanned.line;
                    definitions.push(column);
                }
                item_start = true;
                continue;
            }
            _ => {}
        }
        if let Some(column) = open.as_mut() {
            column.last_line = spanned.line;
        }
        if item_start {
            item_start = false;
            let constraint = CONSTRAINTS.iter().any(|k| is_word(&spanned.token, k));
            if let (false, Some(column)) = (constraint, identifier(&spanned.token)) {
                open = Some(Definition {
                    target: Target::Column {
                        table: table.to_string(),
                        column,
                    },
                    offset: spanned.offset,
                    first_line: spanned.line,
                    last_line: spanned.line,
                });
            }
        }
    }
    definitions.extend(open);
}

/// The object a hint comment belongs to (see the module documentation).
fn owner(definitions: &[Definition], comment: &Spanned<'_>) -> Option<Target> {
    let on_line = || {
        definitions
            .iter()
            .filter(|d| d.first_line <= comment.line && comment.line <= d.last_line)
    };
    on_line()
        .filter(|d| d.offset < comment.offset)
        .max_by_key(|d| d.offset)
        .or_else(|| on_line().min_by_key(|d| d.offset))
        .map(|d| d.target.clone())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{Column, Index, IndexPart, Table};

    fn table(table: &str, from: &str) -> TableRename {
        TableRename {
            table: table.into(),
            from: from.into(),
        }
    }

    fn column(table: &str, column: &str, from: &str) -> ColumnRename {
        ColumnRename {
            table: table.into(),
            column: column.into(),
            from: from.into(),
        }
    }

    fn index(index: &str, from: &str) -> IndexRename {
        IndexRename {
            index: index.into(),
            from: from.into(),
        }
    }

    #[test]
    fn schemasync_comment_renames_a_column() {
        let hints = RenameHints::from_sql(
            "CREATE TABLE users (\n  id bigint NOT NULL,\n  user_name text, -- schemasync: renamed_from=username\n  age integer\n);",
        );
        assert_eq!(hints.columns, [column("users", "user_name", "username")]);
        assert!(hints.tables.is_empty() && hints.indexes.is_empty() && hints.ignored.is_empty());
    }

    #[test]
    fn sqldef_line_comment_renames_table_and_columns() {
        let hints = RenameHints::from_sql(
            "CREATE TABLE accounts ( -- @renamed from=old_accounts\n  id bigint NOT NULL,\n  \
             username varchar(100) NOT NULL, -- @renamed from=user_name\n  \
             is_active integer DEFAULT 1\n);",
        );
        assert_eq!(hints.tables, [table("accounts", "old_accounts")]);
        assert_eq!(hints.columns, [column("accounts", "username", "user_name")]);
    }

    #[test]
    fn sqldef_block_comment_rename_is_accepted() {
        let hints = RenameHints::from_sql(
            "CREATE TABLE new_users /* @renamed from=old_users */ (\n  id bigint NOT NULL\n);\n\
             CREATE UNIQUE INDEX unique_email /* @renamed from=old_unique_email */ ON users (email);\n\
             CREATE INDEX active_users_idx /* @renamed from=old_active_users */ ON users (email) WHERE is_active = 1;",
        );
        assert_eq!(hints.tables, [table("new_users", "old_users")]);
        assert_eq!(
            hints.indexes,
            [
                index("unique_email", "old_unique_email"),
                index("active_users_idx", "old_active_users")
            ]
        );
        assert!(hints.columns.is_empty());
    }

    #[test]
    fn quoted_old_and_new_names_are_unquoted() {
        let hints = RenameHints::from_sql(
            "CREATE TABLE \"user_profiles\" ( -- @renamed from=\"user accounts\"\n  \
             foobar text, -- @renamed from=\"foo \"\"bar\"\"\"\n  \
             `b c` text, -- schemasync: renamed_from=`old b`\n  \
             [d] text, /* schemasync: renamed_from=[old d] */\n  \
             e text -- schemasync: renamed_from='it''s'\n);",
        );
        assert_eq!(hints.tables, [table("user_profiles", "user accounts")]);
        assert_eq!(
            hints.columns,
            [
                column("user_profiles", "foobar", "foo \"bar\""),
                column("user_profiles", "b c", "old b"),
                column("user_profiles", "d", "old d"),
                column("user_profiles", "e", "it's"),
            ]
        );
    }

    #[test]
    fn if_not_exists_and_schema_qualifiers_are_skipped() {
        let hints = RenameHints::from_sql(
            "CREATE TEMP TABLE IF NOT EXISTS main.\"people\" ( -- schemasync: renamed_from=users\n  a int\n);\n\
             CREATE INDEX CONCURRENTLY IF NOT EXISTS app.ix_a -- schemasync: renamed_from=ix_old\n  ON people (a);",
        );
        assert_eq!(hints.tables, [table("people", "users")]);
        assert_eq!(hints.indexes, [index("ix_a", "ix_old")]);
    }

    #[test]
    fn hint_on_a_continuation_line_belongs_to_the_definition_it_ends() {
        let hints = RenameHints::from_sql(
            "CREATE TABLE t (\n  price numeric\n    CHECK (price > 0), -- @renamed from=cost\n  \
             qty int\n    DEFAULT 1 -- @renamed from=quantity\n);\nCREATE INDEX ix_t_qty\n  ON t (qty); -- @renamed from=ix_q",
        );
        assert_eq!(
            hints.columns,
            [column("t", "price", "cost"), column("t", "qty", "quantity")]
        );
        assert_eq!(hints.indexes, [index("ix_t_qty", "ix_q")]);
    }

    #[test]
    fn one_line_table_hint_goes_to_the_object_before_the_comment() {
        let hints = RenameHints::from_sql(
            "CREATE TABLE t (a int, b int); -- @renamed from=old_b\n\
             /* @renamed from=old_t */ CREATE TABLE u (x int);",
        );
        assert_eq!(hints.columns, [column("t", "b", "old_b")]);
        assert_eq!(hints.tables, [table("u", "old_t")]);
    }

    #[test]
    fn hints_without_an_object_are_listed_as_ignored() {
        let hints = RenameHints::from_sql(
            "CREATE TABLE users (\n  email text,\n  CONSTRAINT unique_email UNIQUE (email) -- @renamed from=old_unique_email\n);\n\
             -- schemasync: renamed_from=\nCREATE VIEW s /* @renamed from=t */ AS SELECT 1;",
        );
        assert!(hints.is_empty());
        let ignored: Vec<_> = hints
            .ignored
            .iter()
            .map(|i| (i.line, i.reason.as_str()))
            .collect();
        let elsewhere = "it is not on the line of a table, column, index, policy, type, domain, collation or text search configuration definition";
        assert_eq!(
            ignored,
            [(3, elsewhere), (5, "it gives no old name"), (6, elsewhere),]
        );
    }

    #[test]
    fn a_hint_inside_create_policy_renames_the_policy_on_its_table() {
        let hints = RenameHints::from_sql(
            "CREATE POLICY own_rows ON app.\"Users\" -- schemasync: renamed_from=mine\n  \
             FOR SELECT USING (true);\n\
             CREATE POLICY p ON t USING (true); /* @renamed from=q */",
        );
        assert_eq!(
            hints.policies,
            [
                PolicyRename {
                    table: "Users".into(),
                    policy: "own_rows".into(),
                    from: "mine".into()
                },
                PolicyRename {
                    table: "t".into(),
                    policy: "p".into(),
                    from: "q".into()
                }
            ]
        );
        assert!(hints.tables.is_empty() && hints.ignored.is_empty());
        let mut schema = Schema {
            tables: vec![Table {
                policies: vec![crate::model::Policy {
                    name: "p".into(),
                    restrictive: false,
                    command: Default::default(),
                    roles: vec![crate::model::PUBLIC_ROLE.into()],
                    using: Some("true".into()),
                    with_check: None,
                    comment: None,
                    renamed_from: None,
                }],
                ..Table::new("t")
            }],
            ..Schema::default()
        };
        hints.apply(&mut schema, false).unwrap();
        assert_eq!(
            schema.tables[0].policies[0].renamed_from.as_deref(),
            Some("q")
        );
        assert_eq!(
            RenameHints::from_model(&schema).policies,
            hints.policies[1..]
        );
    }

    #[test]
    fn ordinary_comments_and_literals_are_not_hints() {
        let hints = RenameHints::from_sql(
            "CREATE TABLE t (\n  a text DEFAULT '-- @renamed from=x', -- renamed from a typo\n  b int /* @renamed */\n);",
        );
        assert_eq!(hints.ignored.len(), 1);
        assert_eq!(hints.ignored[0].reason, "it gives no old name");
        assert!(hints.is_empty());
    }

    fn sample() -> Schema {
        let mut users = Table::new("users");
        users.columns = vec![Column::new("id", "INTEGER"), Column::new("Email", "TEXT")];
        users.indexes.push(Index {
            include: Vec::new(),
            name: "ix_users_email".into(),
            unique: false,
            parts: vec![IndexPart::column("Email")],
            predicate: None,
            method: None,
            renamed_from: None,
        });
        Schema {
            tables: vec![Table::new("other"), users],
            ..Schema::default()
        }
    }

    #[test]
    fn apply_sets_renamed_from_and_from_model_reads_it_back() {
        let hints = RenameHints::from_sql(
            "CREATE TABLE USERS ( -- @renamed from=people\n  email TEXT -- @renamed from=mail\n);\n\
             CREATE INDEX IX_USERS_EMAIL /* @renamed from=ix_mail */ ON users (email);",
        );
        let mut schema = sample();
        hints.apply(&mut schema, true).unwrap();
        let users = &schema.tables[1];
        assert_eq!(users.renamed_from.as_deref(), Some("people"));
        assert_eq!(users.columns[1].renamed_from.as_deref(), Some("mail"));
        assert_eq!(users.indexes[0].renamed_from.as_deref(), Some("ix_mail"));
        assert_eq!(
            RenameHints::from_model(&schema),
            RenameHints {
                tables: vec![table("users", "people")],
                columns: vec![column("users", "Email", "mail")],
                indexes: vec![index("ix_users_email", "ix_mail")],
                policies: vec![],
                objects: vec![],
                ignored: vec![],
            }
        );
    }

    #[test]
    fn case_sensitive_apply_matches_exact_names_or_the_lower_case_fold() {
        let hints = RenameHints::from_sql(
            "CREATE TABLE Users ( -- @renamed from=people\n  email TEXT -- @renamed from=mail\n);",
        );
        let mut schema = sample();
        hints.apply(&mut schema, false).unwrap();
        assert_eq!(schema.tables[1].renamed_from.as_deref(), Some("people"));
        // "email" is neither "Email" nor its lower-case fold's match: left out.
        assert_eq!(schema.tables[1].columns[1].renamed_from, None);
    }

    #[test]
    fn a_hint_whose_old_name_is_still_there_is_an_error_naming_both() {
        let mut schema = sample();
        let hints =
            RenameHints::from_sql("CREATE TABLE users (\n  email TEXT -- @renamed from=id\n);");
        assert_eq!(
            hints.apply(&mut schema, true).unwrap_err().to_string(),
            "invalid schema: column users.email is marked as renamed from id, but table users still has a column named id"
        );
        let hints = RenameHints::from_sql("CREATE TABLE users ( -- @renamed from=other\n id INT);");
        assert!(hints
            .apply(&mut sample(), true)
            .unwrap_err()
            .to_string()
            .contains("table users is marked as renamed from other"));
    }

    fn object(kind: ObjectKind, object: &str, from: &str) -> ObjectRename {
        ObjectRename {
            kind,
            object: object.into(),
            from: from.into(),
        }
    }

    #[test]
    fn types_domains_collations_and_text_search_configurations_take_hints() {
        let hints = RenameHints::from_sql(
            "CREATE TYPE app.address AS ( -- schemasync: renamed_from=addr\n  street text\n);\n\
             CREATE TYPE mood AS ENUM ('a'); -- @renamed from=feeling\n\
             CREATE TYPE span AS RANGE (subtype = float8) /* @renamed from=period */;\n\
             CREATE DOMAIN year AS integer; -- @renamed from=yr\n\
             CREATE COLLATION IF NOT EXISTS ci (provider = icu, locale = 'und-u-ks-level2'); -- @renamed from=nocase\n\
             CREATE TEXT SEARCH CONFIGURATION app.search (COPY = english); -- @renamed from=fts",
        );
        assert_eq!(
            hints.objects,
            [
                object(ObjectKind::Type, "address", "addr"),
                object(ObjectKind::Type, "mood", "feeling"),
                object(ObjectKind::Type, "span", "period"),
                object(ObjectKind::Domain, "year", "yr"),
                object(ObjectKind::Collation, "ci", "nocase"),
                object(ObjectKind::TextSearchConfig, "search", "fts"),
            ]
        );
        assert!(hints.ignored.is_empty() && hints.columns.is_empty());
    }

    #[test]
    fn an_object_hint_whose_old_name_is_still_there_is_an_error() {
        let mood = |name: &str| crate::model::EnumType {
            schema: None,
            name: name.into(),
            values: vec!["a".into()],
            comment: None,
            renamed_from: None,
        };
        let mut schema = Schema {
            enums: vec![mood("mood"), mood("feeling")],
            ..Schema::default()
        };
        let hints =
            RenameHints::from_sql("CREATE TYPE mood AS ENUM ('a'); -- @renamed from=feeling");
        assert_eq!(
            hints.apply(&mut schema, false).unwrap_err().to_string(),
            "invalid schema: type mood is marked as renamed from feeling, but the desired schema still has a type named feeling"
        );
        schema.enums.pop();
        hints.apply(&mut schema, false).unwrap();
        assert_eq!(schema.enums[0].renamed_from.as_deref(), Some("feeling"));
        assert_eq!(RenameHints::from_model(&schema).objects, hints.objects);
    }
}
