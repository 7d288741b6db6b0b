//! Quoting of identifiers and literals: the only way a name or value enters our SQL.

/// Quotes an identifier for PostgreSQL: `"a ""b"""`.
///
/// ```
/// assert_eq!(schemasync_postgres::quote_ident("Order Items"), "\"Order Items\"");
/// ```
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a string literal for PostgreSQL (standard-conforming strings): `'it''s'`.
///
/// ```
/// assert_eq!(schemasync_postgres::quote_literal("it's"), "'it''s'");
/// ```
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// A possibly schema-qualified name: `"app"."users"`, or `"users"` in the default schema.
pub(crate) fn qualified(schema: Option<&str>, name: &str) -> String {
    match schema {
        Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(name)),
        None => quote_ident(name),
    }
}
