//! Quoting of identifiers and literals: the only way a name or value enters our SQL.

/// Quotes an identifier for SQLite: `"a ""b"""`. Every name we emit goes through here.
///
/// ```
/// assert_eq!(schemasync_sqlite::quote_ident("my \"table\""), "\"my \"\"table\"\"\"");
/// ```
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a string literal for SQLite: `'it''s'`.
///
/// ```
/// assert_eq!(schemasync_sqlite::quote_literal("it's"), "'it''s'");
/// ```
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}
