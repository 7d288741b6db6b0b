//! Reads the CREATE statements SQLite keeps in `sqlite_schema`, for what its PRAGMAs do
//! not report: constraint names, CHECK and generated-column expressions, AUTOINCREMENT,
//! column collations, foreign-key deferral, index keys and predicates, view and virtual
//! table definitions.
//!
//! It works on the tokens of [`schemasync_core::sqltext::lex_spanned`] and only on text SQLite
//! has already accepted, so it recognises the grammar's shape rather than validating it.
//! It never touches a database and never decides what the model holds: introspection
//! combines its findings with the PRAGMAs.

use schemasync_core::sqltext::{fold_whitespace, lex_spanned, Token};
use schemasync_core::{Check, Deferrable, IndexPart, Unique};

/// What a CREATE TABLE statement declares beyond what the PRAGMAs report.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ParsedTable {
    /// Column definitions, in order.
    pub columns: Vec<ParsedColumn>,
    /// The PRIMARY KEY constraint (column-level or table-level), if declared.
    pub primary_key: Option<ParsedPrimaryKey>,
    /// UNIQUE constraints in declaration order, columns as written.
    pub uniques: Vec<Unique>,
    /// CHECK constraints in declaration order, expressions whitespace-folded.
    pub checks: Vec<Check>,
    /// FOREIGN KEY constraints in declaration order.
    pub foreign_keys: Vec<ParsedForeignKey>,
}

/// One column definition.
#[derive(Debug, PartialEq)]
pub(crate) struct ParsedColumn {
    /// Column name as declared.
    pub name: String,
    /// `COLLATE` name, upper-cased.
    pub collation: Option<String>,
    /// Generated-column expression (`AS (…)`), whitespace-folded.
    pub generated: Option<String>,
}

/// The parts of a PRIMARY KEY the PRAGMAs do not give.
#[derive(Debug, PartialEq)]
pub(crate) struct ParsedPrimaryKey {
    /// `CONSTRAINT name`, when written.
    pub name: Option<String>,
    /// Whether `AUTOINCREMENT` is declared.
    pub autoincrement: bool,
}

/// The parts of a FOREIGN KEY the PRAGMAs do not give, with its columns to match it by.
#[derive(Debug, PartialEq)]
pub(crate) struct ParsedForeignKey {
    /// `CONSTRAINT name`, when written.
    pub name: Option<String>,
    /// Referencing columns, as written.
    pub columns: Vec<String>,
    /// Referenced table, as written.
    pub referenced_table: String,
    /// Deferral mode.
    pub deferrable: Deferrable,
}

/// A parsed CREATE INDEX statement.
#[derive(Debug, PartialEq)]
pub(crate) struct ParsedIndex {
    /// `CREATE UNIQUE INDEX`.
    pub unique: bool,
    /// Keys, in order.
    pub parts: Vec<IndexPart>,
    /// `WHERE` predicate, whitespace-folded.
    pub predicate: Option<String>,
}

/// A parsed CREATE VIEW statement.
#[derive(Debug, PartialEq)]
pub(crate) struct ParsedView {
    /// Explicit column names, if given.
    pub columns: Vec<String>,
    /// The text after the top-level `AS`, whitespace-folded.
    pub definition: String,
}

/// A parsed CREATE VIRTUAL TABLE statement.
#[derive(Debug, PartialEq)]
pub(crate) struct ParsedVirtualTable {
    /// Module name, lower-cased.
    pub module: String,
    /// Text inside the module's parentheses, whitespace-folded (empty without them).
    pub arguments: String,
}

/// A significant token (not whitespace, not a comment) and its byte span in the text.
#[derive(Debug, Clone)]
struct Tok<'a> {
    token: Token<'a>,
    start: usize,
    end: usize,
}

/// Lexes `sql`, keeping the significant tokens with their spans.
fn tokenize(sql: &str) -> Vec<Tok<'_>> {
    lex_spanned(sql)
        .into_iter()
        .filter(|(token, _)| !matches!(token, Token::Space | Token::Comment(_)))
        .map(|(token, span)| Tok {
            token,
            start: span.start,
            end: span.end,
        })
        .collect()
}

/// Whether `tok` is the bare word `keyword` (any case).
fn is_kw(tok: Option<&Tok<'_>>, keyword: &str) -> bool {
    matches!(tok, Some(Tok { token: Token::Word(w), .. }) if w.eq_ignore_ascii_case(keyword))
}

/// Whether `tok` is the punctuation `symbol`.
fn is_sym(tok: Option<&Tok<'_>>, symbol: &str) -> bool {
    matches!(tok, Some(Tok { token: Token::Other(s), .. }) if *s == symbol)
}

/// The name a token spells, if it can be an identifier: a bare word, a quoted name, or
/// (as SQLite accepts) a string literal.
fn ident_of(tok: &Tok<'_>) -> Option<String> {
    match &tok.token {
        Token::Word(w) => Some((*w).to_string()),
        Token::QuotedIdent(s) => Some(s.clone()),
        Token::Literal(s) => {
            let inner = s.strip_prefix('\'')?;
            let inner = inner.strip_suffix('\'').unwrap_or(inner);
            Some(inner.replace("''", "'"))
        }
        _ => None,
    }
}

/// The source text the tokens cover, whitespace-folded and comments dropped.
fn folded_text(sql: &str, toks: &[Tok<'_>]) -> String {
    match (toks.first(), toks.last()) {
        (Some(first), Some(last)) => fold_whitespace(&sql[first.start..last.end]),
        _ => String::new(),
    }
}

/// Index of the `)` matching the `(` at `open`, if any.
fn matching_paren(toks: &[Tok<'_>], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, tok) in toks.iter().enumerate().skip(open) {
        if is_sym(Some(tok), "(") {
            depth += 1;
        } else if is_sym(Some(tok), ")") {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// Splits tokens at top-level commas (outside parentheses).
fn split_top_level<'t, 'a>(toks: &'t [Tok<'a>]) -> Vec<&'t [Tok<'a>]> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut begin = 0;
    for (i, tok) in toks.iter().enumerate() {
        if is_sym(Some(tok), "(") {
            depth += 1;
        } else if is_sym(Some(tok), ")") {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && is_sym(Some(tok), ",") {
            parts.push(&toks[begin..i]);
            begin = i + 1;
        }
    }
    if begin < toks.len() {
        parts.push(&toks[begin..]);
    }
    parts
}

/// A position in a token slice, with the small steps the statement parsers share.
struct Cursor<'t, 'a> {
    toks: &'t [Tok<'a>],
    pos: usize,
}

impl<'t, 'a> Cursor<'t, 'a> {
    fn new(toks: &'t [Tok<'a>]) -> Self {
        Cursor { toks, pos: 0 }
    }

    fn peek(&self) -> Option<&'t Tok<'a>> {
        self.toks.get(self.pos)
    }

    fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    /// Consumes the keyword if it is next.
    fn eat_kw(&mut self, keyword: &str) -> bool {
        let found = is_kw(self.peek(), keyword);
        if found {
            self.pos += 1;
        }
        found
    }

    fn expect_kw(&mut self, keyword: &str) -> Result<(), String> {
        if self.eat_kw(keyword) {
            Ok(())
        } else {
            Err(format!("expected {keyword} {}", self.where_()))
        }
    }

    /// Consumes an identifier.
    fn ident(&mut self) -> Result<String, String> {
        let name = self.peek().and_then(ident_of);
        match name {
            Some(name) => {
                self.pos += 1;
                Ok(name)
            }
            None => Err(format!("expected a name {}", self.where_())),
        }
    }

    /// Consumes `[IF NOT EXISTS] [schema.]name` and returns the name.
    fn object_name(&mut self) -> Result<String, String> {
        if is_kw(self.peek(), "IF") {
            self.pos += 1;
            self.expect_kw("NOT")?;
            self.expect_kw("EXISTS")?;
        }
        let mut name = self.ident()?;
        if is_sym(self.peek(), ".") {
            self.pos += 1;
            name = self.ident()?;
        }
        Ok(name)
    }

    /// If a `(` is next, consumes the group and returns the tokens inside it.
    fn group(&mut self) -> Result<Option<&'t [Tok<'a>]>, String> {
        if !is_sym(self.peek(), "(") {
            return Ok(None);
        }
        let close = matching_paren(self.toks, self.pos)
            .ok_or_else(|| format!("unbalanced parentheses {}", self.where_()))?;
        let inner = &self.toks[self.pos + 1..close];
        self.pos = close + 1;
        Ok(Some(inner))
    }

    /// Like [`Cursor::group`], but the group is required.
    fn expect_group(&mut self) -> Result<&'t [Tok<'a>], String> {
        self.group()?
            .ok_or_else(|| format!("expected ( {}", self.where_()))
    }

    /// The rest of the tokens, consuming them.
    fn rest(&mut self) -> &'t [Tok<'a>] {
        let rest = &self.toks[self.pos.min(self.toks.len())..];
        self.pos = self.toks.len();
        rest
    }

    fn where_(&self) -> String {
        match self.peek() {
            Some(tok) => format!("at byte {}", tok.start),
            None => "at the end".to_string(),
        }
    }
}

/// Consumes `CREATE [TEMP|TEMPORARY]` and then each of `words`.
fn create_header(cursor: &mut Cursor<'_, '_>, words: &[&str]) -> Result<(), String> {
    cursor.expect_kw("CREATE")?;
    let _ = cursor.eat_kw("TEMP") || cursor.eat_kw("TEMPORARY");
    for word in words {
        cursor.expect_kw(word)?;
    }
    Ok(())
}

/// Words that start a table constraint (they cannot start a column name unquoted).
const TABLE_CONSTRAINT_WORDS: [&str; 5] = ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"];

/// Parses a stored `CREATE TABLE` statement.
pub(crate) fn parse_create_table(sql: &str) -> Result<ParsedTable, String> {
    let toks = tokenize(sql);
    let mut cursor = Cursor::new(&toks);
    create_header(&mut cursor, &["TABLE"])?;
    cursor.object_name()?;
    let body = cursor.expect_group()?;
    let mut table = ParsedTable::default();
    for item in split_top_level(body) {
        let first = item.first();
        if TABLE_CONSTRAINT_WORDS.iter().any(|w| is_kw(first, w)) {
            parse_table_constraints(sql, item, &mut table)?;
        } else {
            parse_column(sql, item, &mut table)?;
        }
    }
    Ok(table)
}

/// Parses one column definition, recording its column-level constraints in `table`.
fn parse_column(sql: &str, item: &[Tok<'_>], table: &mut ParsedTable) -> Result<(), String> {
    let mut cursor = Cursor::new(item);
    let name = cursor.ident()?;
    let mut column = ParsedColumn {
        name: name.clone(),
        collation: None,
        generated: None,
    };
    let mut constraint_name: Option<String> = None;
    while let Some(tok) = cursor.peek() {
        if is_sym(Some(tok), "(") {
            // A type's size, such as VARCHAR(10).
            cursor.group()?;
            continue;
        }
        cursor.pos += 1;
        let Token::Word(word) = tok.token else {
            continue;
        };
        match word.to_ascii_uppercase().as_str() {
            "CONSTRAINT" => constraint_name = Some(cursor.ident()?),
            "PRIMARY" => {
                table.primary_key = Some(ParsedPrimaryKey {
                    name: constraint_name.take(),
                    autoincrement: false,
                });
            }
            "AUTOINCREMENT" => {
                if let Some(pk) = table.primary_key.as_mut() {
                    pk.autoincrement = true;
                }
            }
            "UNIQUE" => table.uniques.push(Unique {
                name: constraint_name.take(),
                columns: vec![name.clone()],
            }),
            "CHECK" => {
                let expr = cursor.expect_group()?;
                table.checks.push(Check {
                    not_valid: false,
                    name: constraint_name.take(),
                    expression: folded_text(sql, expr),
                });
            }
            "NOT" | "NULL" => constraint_name = None,
            "DEFAULT" => {
                constraint_name = None;
                if is_sym(cursor.peek(), "+") || is_sym(cursor.peek(), "-") {
                    cursor.pos += 1;
                }
                if cursor.group()?.is_none() {
                    cursor.pos += 1;
                }
            }
            "COLLATE" => {
                constraint_name = None;
                column.collation = Some(cursor.ident()?.to_ascii_uppercase());
            }
            "REFERENCES" => {
                let (referenced_table, deferrable) = parse_references(&mut cursor)?;
                table.foreign_keys.push(ParsedForeignKey {
                    name: constraint_name.take(),
                    columns: vec![name.clone()],
                    referenced_table,
                    deferrable,
                });
            }
            "AS" => {
                constraint_name = None;
                let expr = cursor.expect_group()?;
                column.generated = Some(folded_text(sql, expr));
            }
            _ => {}
        }
    }
    table.columns.push(column);
    Ok(())
}

/// Parses the table constraints of one comma-separated item (SQLite allows several in a
/// row without commas).
fn parse_table_constraints(
    sql: &str,
    item: &[Tok<'_>],
    table: &mut ParsedTable,
) -> Result<(), String> {
    let mut cursor = Cursor::new(item);
    let mut constraint_name: Option<String> = None;
    while let Some(tok) = cursor.peek() {
        cursor.pos += 1;
        let Token::Word(word) = tok.token else {
            continue;
        };
        match word.to_ascii_uppercase().as_str() {
            "CONSTRAINT" => constraint_name = Some(cursor.ident()?),
            "PRIMARY" => {
                cursor.expect_kw("KEY")?;
                let keys = cursor.expect_group()?;
                table.primary_key = Some(ParsedPrimaryKey {
                    name: constraint_name.take(),
                    autoincrement: keys.iter().any(|t| is_kw(Some(t), "AUTOINCREMENT")),
                });
            }
            "UNIQUE" => {
                let keys = cursor.expect_group()?;
                table.uniques.push(Unique {
                    name: constraint_name.take(),
                    columns: leading_idents(keys)?,
                });
            }
            "CHECK" => {
                let expr = cursor.expect_group()?;
                table.checks.push(Check {
                    not_valid: false,
                    name: constraint_name.take(),
                    expression: folded_text(sql, expr),
                });
            }
            "FOREIGN" => {
                cursor.expect_kw("KEY")?;
                let columns = leading_idents(cursor.expect_group()?)?;
                cursor.expect_kw("REFERENCES")?;
                let (referenced_table, deferrable) = parse_references(&mut cursor)?;
                table.foreign_keys.push(ParsedForeignKey {
                    name: constraint_name.take(),
                    columns,
                    referenced_table,
                    deferrable,
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// The first identifier of each comma-separated key (`a COLLATE x DESC` → `a`).
fn leading_idents(keys: &[Tok<'_>]) -> Result<Vec<String>, String> {
    split_top_level(keys)
        .into_iter()
        .map(|key| {
            key.first()
                .and_then(ident_of)
                .ok_or_else(|| "expected a column name in a key list".to_string())
        })
        .collect()
}

/// Parses what follows `REFERENCES`: the table, optional columns, actions, MATCH and
/// deferral. Returns the referenced table and the deferral mode; stops at the first token
/// that is not part of the clause.
fn parse_references(cursor: &mut Cursor<'_, '_>) -> Result<(String, Deferrable), String> {
    let table = cursor.ident()?;
    cursor.group()?;
    let mut deferrable = Deferrable::NotDeferrable;
    loop {
        if cursor.eat_kw("ON") {
            // ON DELETE|UPDATE SET NULL|SET DEFAULT|CASCADE|RESTRICT|NO ACTION
            cursor.pos += 1;
            let _ = cursor.eat_kw("SET") || cursor.eat_kw("NO");
            cursor.pos += 1;
        } else if cursor.eat_kw("MATCH") {
            cursor.pos += 1;
        } else if is_kw(cursor.peek(), "NOT")
            && is_kw(cursor.toks.get(cursor.pos + 1), "DEFERRABLE")
        {
            cursor.pos += 2;
            deferrable = Deferrable::NotDeferrable;
            skip_initially(cursor);
        } else if cursor.eat_kw("DEFERRABLE") {
            deferrable = match skip_initially(cursor) {
                Some(true) => Deferrable::InitiallyDeferred,
                _ => Deferrable::InitiallyImmediate,
            };
        } else {
            break;
        }
    }
    Ok((table, deferrable))
}

/// Consumes `INITIALLY DEFERRED|IMMEDIATE` if present: `Some(true)` for DEFERRED.
fn skip_initially(cursor: &mut Cursor<'_, '_>) -> Option<bool> {
    if !cursor.eat_kw("INITIALLY") {
        return None;
    }
    let deferred = is_kw(cursor.peek(), "DEFERRED");
    cursor.pos += 1;
    Some(deferred)
}

/// Parses a stored `CREATE [UNIQUE] INDEX` statement. A key that is a single name
/// matching one of `columns` (case-insensitively) becomes that column, spelled as the
/// table declares it; any other key is an expression.
pub(crate) fn parse_create_index(sql: &str, columns: &[String]) -> Result<ParsedIndex, String> {
    let toks = tokenize(sql);
    let mut cursor = Cursor::new(&toks);
    cursor.expect_kw("CREATE")?;
    let unique = cursor.eat_kw("UNIQUE");
    cursor.expect_kw("INDEX")?;
    cursor.object_name()?;
    cursor.expect_kw("ON")?;
    cursor.ident()?;
    let keys = cursor.expect_group()?;
    let parts = split_top_level(keys)
        .into_iter()
        .map(|key| index_part(sql, key, columns))
        .collect::<Result<Vec<_>, _>>()?;
    let predicate = if cursor.eat_kw("WHERE") {
        Some(folded_text(sql, cursor.rest()))
    } else {
        None
    };
    if !cursor.at_end() {
        return Err(format!("unexpected text {}", cursor.where_()));
    }
    Ok(ParsedIndex {
        unique,
        parts,
        predicate,
    })
}

/// One index key: `expr [COLLATE name] [ASC|DESC]`.
fn index_part(sql: &str, key: &[Tok<'_>], columns: &[String]) -> Result<IndexPart, String> {
    let mut key = key;
    let mut descending = false;
    if let Some((last, rest)) = key.split_last() {
        if is_kw(Some(last), "DESC") || is_kw(Some(last), "ASC") {
            descending = is_kw(Some(last), "DESC");
            key = rest;
        }
    }
    let mut collation = None;
    if let [rest @ .., collate, name] = key {
        if is_kw(Some(collate), "COLLATE") {
            collation = ident_of(name).map(|c| c.to_ascii_uppercase());
            key = rest;
        }
    }
    if key.is_empty() {
        return Err("empty index key".to_string());
    }
    let column = match key {
        // SQLite reads a lone string literal in an index key as a column name, too.
        [tok] => ident_of(tok).and_then(|name| {
            columns
                .iter()
                .find(|c| c.eq_ignore_ascii_case(&name))
                .cloned()
        }),
        _ => None,
    };
    let expression = match column {
        Some(_) => None,
        None => Some(folded_text(sql, key)),
    };
    Ok(IndexPart {
        column,
        expression,
        descending,
        collation,
    })
}

/// Parses a stored `CREATE VIEW` statement.
pub(crate) fn parse_create_view(sql: &str) -> Result<ParsedView, String> {
    let toks = tokenize(sql);
    let mut cursor = Cursor::new(&toks);
    create_header(&mut cursor, &["VIEW"])?;
    cursor.object_name()?;
    let columns = match cursor.group()? {
        Some(names) => leading_idents(names)?,
        None => Vec::new(),
    };
    cursor.expect_kw("AS")?;
    let definition = folded_text(sql, cursor.rest());
    if definition.is_empty() {
        return Err("the view has no query after AS".to_string());
    }
    Ok(ParsedView {
        columns,
        definition,
    })
}

/// Parses a stored `CREATE VIRTUAL TABLE` statement.
pub(crate) fn parse_create_virtual_table(sql: &str) -> Result<ParsedVirtualTable, String> {
    let toks = tokenize(sql);
    let mut cursor = Cursor::new(&toks);
    create_header(&mut cursor, &["VIRTUAL", "TABLE"])?;
    cursor.object_name()?;
    cursor.expect_kw("USING")?;
    let module = cursor.ident()?.to_ascii_lowercase();
    let arguments = match cursor.group()? {
        Some(args) => folded_text(sql, args),
        None => String::new(),
    };
    if !cursor.at_end() {
        return Err(format!("unexpected text {}", cursor.where_()));
    }
    Ok(ParsedVirtualTable { module, arguments })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cols(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn splits_columns_from_table_constraints_and_reads_their_names() {
        let parsed = parse_create_table(
            "CREATE TABLE [Album]\n(\n  [AlbumId] INTEGER NOT NULL,\n  [Title] NVARCHAR(160) NOT NULL,\n  \
             CONSTRAINT [PK_Album] PRIMARY KEY ([AlbumId]),\n  FOREIGN KEY ([ArtistId]) REFERENCES [Artist] ([ArtistId])\n  \
             ON DELETE NO ACTION ON UPDATE NO ACTION\n)",
        )
        .unwrap();
        let names: Vec<_> = parsed.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["AlbumId", "Title"]);
        assert_eq!(
            parsed.primary_key,
            Some(ParsedPrimaryKey {
                name: Some("PK_Album".into()),
                autoincrement: false
            })
        );
        assert_eq!(
            parsed.foreign_keys,
            vec![ParsedForeignKey {
                name: None,
                columns: cols(&["ArtistId"]),
                referenced_table: "Artist".into(),
                deferrable: Deferrable::NotDeferrable,
            }]
        );
    }

    #[test]
    fn reads_column_level_constraints_in_declaration_order() {
        let parsed = parse_create_table(
            "CREATE TABLE t (id INTEGER CONSTRAINT pk PRIMARY KEY AUTOINCREMENT, \
             n INT DEFAULT (1 + 2) CONSTRAINT positive CHECK ( n  >  0 ) UNIQUE, \
             name TEXT COLLATE nocase NOT NULL DEFAULT 'check (x)', \
             p INT CONSTRAINT fk_p REFERENCES parent (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED NOT NULL, \
             g INT GENERATED ALWAYS AS (n *  2) STORED, \
             CHECK (n < 100))",
        )
        .unwrap();
        assert_eq!(
            parsed.primary_key,
            Some(ParsedPrimaryKey {
                name: Some("pk".into()),
                autoincrement: true
            })
        );
        assert_eq!(
            parsed.checks,
            vec![
                Check {
                    not_valid: false,
                    name: Some("positive".into()),
                    expression: "n > 0".into()
                },
                Check {
                    not_valid: false,
                    name: None,
                    expression: "n < 100".into()
                },
            ]
        );
        assert_eq!(
            parsed.uniques,
            vec![Unique {
                name: None,
                columns: cols(&["n"])
            }]
        );
        assert_eq!(parsed.columns[2].collation.as_deref(), Some("NOCASE"));
        assert_eq!(parsed.columns[4].generated.as_deref(), Some("n * 2"));
        assert_eq!(
            parsed.foreign_keys[0].deferrable,
            Deferrable::InitiallyDeferred
        );
        assert_eq!(parsed.foreign_keys[0].name.as_deref(), Some("fk_p"));
    }

    #[test]
    fn deferrable_without_initially_is_initially_immediate() {
        let parsed = parse_create_table(
            "CREATE TABLE c (a REFERENCES p DEFERRABLE, b REFERENCES p NOT DEFERRABLE INITIALLY DEFERRED)",
        )
        .unwrap();
        let modes: Vec<_> = parsed.foreign_keys.iter().map(|f| f.deferrable).collect();
        assert_eq!(
            modes,
            [Deferrable::InitiallyImmediate, Deferrable::NotDeferrable]
        );
    }

    #[test]
    fn table_constraints_without_commas_between_them_are_all_read() {
        let parsed =
            parse_create_table("CREATE TABLE t (a, b, PRIMARY KEY (a) UNIQUE (b) CHECK (a <> b))")
                .unwrap();
        assert!(parsed.primary_key.is_some());
        assert_eq!(parsed.uniques.len(), 1);
        assert_eq!(parsed.checks.len(), 1);
    }

    #[test]
    fn index_keys_are_columns_only_when_a_single_name_of_the_table() {
        let parsed = parse_create_index(
            "CREATE UNIQUE INDEX \"ix\" ON t (\"Email\" COLLATE nocase DESC, lower( name ), b ASC) WHERE  b > 0",
            &cols(&["email", "name", "b"]),
        )
        .unwrap();
        assert!(parsed.unique);
        assert_eq!(
            parsed.parts,
            vec![
                IndexPart {
                    column: Some("email".into()),
                    expression: None,
                    descending: true,
                    collation: Some("NOCASE".into()),
                },
                IndexPart::expression("lower( name )"),
                IndexPart::column("b"),
            ]
        );
        assert_eq!(parsed.predicate.as_deref(), Some("b > 0"));
    }

    #[test]
    fn view_definition_is_the_text_after_the_top_level_as() {
        let parsed = parse_create_view(
            "CREATE VIEW IF NOT EXISTS main.\"v x\" (a, \"B\") AS\n  SELECT x AS a, y AS b -- note\n FROM t",
        )
        .unwrap();
        assert_eq!(parsed.columns, cols(&["a", "B"]));
        assert_eq!(parsed.definition, "SELECT x AS a, y AS b FROM t");
    }

    #[test]
    fn virtual_table_module_is_lower_cased_and_arguments_folded() {
        let parsed = parse_create_virtual_table(
            "CREATE VIRTUAL TABLE docs_fts USING FTS5(title,  body, content='docs', content_rowid='id')",
        )
        .unwrap();
        assert_eq!(parsed.module, "fts5");
        assert_eq!(
            parsed.arguments,
            "title, body, content='docs', content_rowid='id'"
        );
    }

    #[test]
    fn quoted_names_keep_their_spelling() {
        let parsed = parse_create_table(
            "CREATE TABLE \"we\"\"ird;name\" (\"order\" INT CONSTRAINT \"c;1\" CHECK (\"order\" > 0), `my col` TEXT)",
        )
        .unwrap();
        assert_eq!(parsed.columns[0].name, "order");
        assert_eq!(parsed.columns[1].name, "my col");
        assert_eq!(parsed.checks[0].name.as_deref(), Some("c;1"));
        assert_eq!(parsed.checks[0].expression, "\"order\" > 0");
    }
}
