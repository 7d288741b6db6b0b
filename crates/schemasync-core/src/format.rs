//! The file forms of the schema model: TOML, JSON and YAML text, the JSON Schema that
//! documents them, and the structural validation of a hand-written [`Schema`].
//!
//! This module owns parsing and rendering the serde form of the model and checking that
//! a schema is well formed on its own terms (names present, no duplicates, referenced
//! columns exist). It never reads files, never fills in names (see [`crate::naming`]) and
//! never judges whether a dialect can hold the schema: that is the driver's job.

use crate::error::{Error, Result};
use crate::model::{Schema, Table};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// A text form of the schema model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchemaFormat {
    /// TOML (`.toml`).
    Toml,
    /// JSON (`.json`).
    Json,
    /// YAML (`.yaml`, `.yml`).
    Yaml,
}

impl SchemaFormat {
    /// The format for a file extension without its dot (`toml`, `json`, `yaml`, `yml`),
    /// compared ASCII case-insensitively; `None` for any other extension.
    ///
    /// ```
    /// use schemasync_core::format::SchemaFormat;
    /// assert_eq!(SchemaFormat::from_extension("YML"), Some(SchemaFormat::Yaml));
    /// assert_eq!(SchemaFormat::from_extension("sql"), None);
    /// ```
    pub fn from_extension(extension: &str) -> Option<SchemaFormat> {
        match extension.to_ascii_lowercase().as_str() {
            "toml" => Some(SchemaFormat::Toml),
            "json" => Some(SchemaFormat::Json),
            "yaml" | "yml" => Some(SchemaFormat::Yaml),
            _ => None,
        }
    }

    /// The format for a file, from its extension; `None` when it has no known one.
    pub fn from_path(path: &Path) -> Option<SchemaFormat> {
        path.extension()
            .and_then(|ext| ext.to_str())
            .and_then(SchemaFormat::from_extension)
    }
}

impl fmt::Display for SchemaFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SchemaFormat::Toml => "TOML",
            SchemaFormat::Json => "JSON",
            SchemaFormat::Yaml => "YAML",
        })
    }
}

/// Parses the serde form of a schema.
///
/// Errors are [`Error::InvalidSchema`] in one sentence that starts with the position
/// (`line 3, column 1: unknown field `nam`, …`) when the parser reports one; TOML and
/// JSON errors also quote the offending line, and YAML errors name the path of the field.
/// The result is not validated: call [`validate`] for that.
///
/// ```
/// use schemasync_core::format::{parse_schema, SchemaFormat};
/// let schema = parse_schema("[[tables]]\nname = \"users\"\n", SchemaFormat::Toml).unwrap();
/// assert_eq!(schema.tables[0].name, "users");
/// ```
pub fn parse_schema(text: &str, format: SchemaFormat) -> Result<Schema> {
    match format {
        SchemaFormat::Toml => toml::from_str(text).map_err(|err| {
            let position = err.span().map(|span| line_and_column(text, span.start));
            parse_error(text, position, err.message())
        }),
        SchemaFormat::Json => serde_json::from_str(text).map_err(|err| {
            let position = (err.line() > 0).then(|| (err.line(), err.column()));
            let message = err.to_string();
            let message = match position {
                Some((line, column)) => {
                    message.replacen(&format!(" at line {line} column {column}"), "", 1)
                }
                None => message,
            };
            parse_error(text, position, &message)
        }),
        SchemaFormat::Yaml => serde_norway::from_str(text).map_err(|err| {
            let position = err.location().map(|l| (l.line(), l.column()));
            let message = err.to_string();
            let message = match position {
                Some((line, column)) => {
                    message.replacen(&format!(" at line {line} column {column}"), "", 1)
                }
                None => message,
            };
            // YAML messages already name the field's path; the line adds nothing.
            parse_error("", position, &message)
        }),
    }
}

/// Renders a schema in the given form; `parse_schema(render_schema(s, f)?, f)` gives `s` back.
pub fn render_schema(schema: &Schema, format: SchemaFormat) -> Result<String> {
    let rendered = match format {
        SchemaFormat::Toml => toml::to_string_pretty(schema).map_err(|e| e.to_string()),
        SchemaFormat::Json => serde_json::to_string_pretty(schema)
            .map(|mut text| {
                text.push('\n');
                text
            })
            .map_err(|e| e.to_string()),
        SchemaFormat::Yaml => serde_norway::to_string(schema).map_err(|e| e.to_string()),
    };
    rendered.map_err(|message| {
        Error::InvalidSchema(format!("cannot render the schema as {format}: {message}"))
    })
}

/// The JSON Schema (draft 2020-12) of the file form, as published in `docs/schema.json`.
pub fn json_schema() -> serde_json::Value {
    schemars::schema_for!(Schema).to_value()
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// One-sentence parse error: position, the offending line when short, the parser's words.
fn parse_error(text: &str, position: Option<(usize, usize)>, message: &str) -> Error {
    let message = message
        .trim()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let Some((line, column)) = position else {
        return Error::InvalidSchema(message);
    };
    let source_line = text
        .lines()
        .nth(line.saturating_sub(1))
        .map(str::trim)
        .unwrap_or("");
    if source_line.is_empty() || source_line.chars().count() > 80 {
        Error::InvalidSchema(format!("line {line}, column {column}: {message}"))
    } else {
        Error::InvalidSchema(format!(
            "line {line}, column {column} (`{source_line}`): {message}"
        ))
    }
}

/// Checks that a hand-written schema is well formed on its own terms.
///
/// - every table, column, view, trigger and virtual table has a non-empty name, and a
///   constraint name, when given, is not empty (leave it out to use the naming convention);
/// - no name anywhere contains a NUL character;
/// - no two tables, views or virtual tables share a name, nor do two triggers, nor two
///   named indexes; no two columns of a table share a name (all compared ASCII
///   case-insensitively, so the schema holds in every dialect);
/// - every column named by a primary key, unique constraint, foreign key or index exists in
///   its table, and a foreign key's referenced columns exist in the referenced table when
///   that table is part of the schema.
///
/// An index may have an empty name: the naming convention fills it.
///
/// ```
/// use schemasync_core::{format::validate, Column, Schema, Table};
/// let mut users = Table::new("users");
/// users.columns.push(Column::new("email", "TEXT"));
/// users.columns.push(Column::new("email", "TEXT"));
/// let schema = Schema { tables: vec![users], ..Schema::default() };
/// assert_eq!(
///     validate(&schema).unwrap_err().to_string(),
///     "invalid schema: table \"users\": column \"email\" is declared twice"
/// );
/// ```
pub fn validate(schema: &Schema) -> Result<()> {
    let invalid = |message: String| Err(Error::InvalidSchema(message));
    let mut relations = Names::default();
    let mut triggers = Names::default();
    let mut indexes = Names::default();
    for (position, table) in schema.tables.iter().enumerate() {
        let label = named("table", table.schema.as_deref(), &table.name, position);
        check_name(&label, "", &table.name)?;
        if let Some(ns) = &table.schema {
            check_name(&label, "schema ", ns)?;
        }
        if let Some(other) = relations.insert(table.schema.as_deref(), &table.name, &label) {
            return invalid(clash(&label, &other));
        }
        validate_table(schema, table, &label, &mut indexes)?;
    }
    for (position, view) in schema.views.iter().enumerate() {
        let label = named("view", view.schema.as_deref(), &view.name, position);
        check_name(&label, "", &view.name)?;
        if let Some(ns) = &view.schema {
            check_name(&label, "schema ", ns)?;
        }
        for column in &view.columns {
            check_name(&label, "column ", column)?;
        }
        if let Some(other) = relations.insert(view.schema.as_deref(), &view.name, &label) {
            return invalid(clash(&label, &other));
        }
    }
    for (position, vtable) in schema.virtual_tables.iter().enumerate() {
        let label = named("virtual table", None, &vtable.name, position);
        check_name(&label, "", &vtable.name)?;
        check_name(&label, "module ", &vtable.module)?;
        if let Some(other) = relations.insert(None, &vtable.name, &label) {
            return invalid(clash(&label, &other));
        }
    }
    for (position, trigger) in schema.triggers.iter().enumerate() {
        let label = named(
            "trigger",
            trigger.schema.as_deref(),
            &trigger.name,
            position,
        );
        check_name(&label, "", &trigger.name)?;
        check_name(&label, "table ", &trigger.table)?;
        if let Some(other) = triggers.insert(trigger.schema.as_deref(), &trigger.name, &label) {
            return invalid(clash(&label, &other));
        }
    }
    Ok(())
}

fn validate_table(schema: &Schema, table: &Table, label: &str, indexes: &mut Names) -> Result<()> {
    let invalid = |message: String| Err(Error::InvalidSchema(message));
    let mut columns = Names::default();
    for (position, column) in table.columns.iter().enumerate() {
        let column_label = named("column", None, &column.name, position);
        if column.name.is_empty() {
            return invalid(format!("{label}: column #{} has no name", position + 1));
        }
        check_name(label, "column ", &column.name)?;
        if let Some(collation) = &column.collation {
            check_name(label, &format!("{column_label} collation "), collation)?;
        }
        if columns.insert(None, &column.name, &column_label).is_some() {
            return invalid(format!("{label}: {column_label} is declared twice"));
        }
    }
    let has_column = |name: &str| table.columns.iter().any(|c| same(&c.name, name));
    let require = |what: &str, listed: &[String]| -> Result<()> {
        if listed.is_empty() {
            return invalid(format!("{label}: {what} names no column"));
        }
        for column in listed {
            check_name(label, &format!("{what} column "), column)?;
            if !has_column(column) {
                return invalid(format!(
                    "{label}: {what} names column {column:?}, which the table does not have"
                ));
            }
        }
        Ok(())
    };
    let constraint_name = |kind: &str, name: &Option<String>| -> Result<String> {
        match name {
            Some(name) => {
                check_name(label, &format!("{kind} "), name)?;
                Ok(format!("{kind} {name:?}"))
            }
            None => Ok(kind.to_string()),
        }
    };
    if let Some(pk) = &table.primary_key {
        let what = constraint_name("primary key", &pk.name)?;
        require(&what, &pk.columns)?;
    }
    for unique in &table.uniques {
        let what = constraint_name("unique constraint", &unique.name)?;
        require(&what, &unique.columns)?;
    }
    for check in &table.checks {
        constraint_name("check constraint", &check.name)?;
    }
    for fk in &table.foreign_keys {
        let what = constraint_name("foreign key", &fk.name)?;
        require(&what, &fk.columns)?;
        check_name(
            label,
            &format!("{what} referenced table "),
            &fk.referenced_table,
        )?;
        if let Some(ns) = &fk.referenced_schema {
            check_name(label, &format!("{what} referenced schema "), ns)?;
        }
        if !fk.referenced_columns.is_empty() && fk.referenced_columns.len() != fk.columns.len() {
            return invalid(format!(
                "{label}: {what} has {} column(s) but references {}",
                fk.columns.len(),
                fk.referenced_columns.len()
            ));
        }
        let referenced = schema.tables.iter().find(|t| {
            same(&t.name, &fk.referenced_table)
                && same_namespace(t.schema.as_deref(), fk.referenced_schema.as_deref())
        });
        for column in &fk.referenced_columns {
            check_name(label, &format!("{what} referenced column "), column)?;
            if let Some(referenced) = referenced {
                if !referenced.columns.iter().any(|c| same(&c.name, column)) {
                    return invalid(format!(
                        "{label}: {what} references column {column:?} of table {:?}, which that table does not have",
                        referenced.name
                    ));
                }
            }
        }
    }
    for index in &table.indexes {
        let what = if index.name.is_empty() {
            "unnamed index".to_string()
        } else {
            check_name(label, "index ", &index.name)?;
            format!("index {:?}", index.name)
        };
        if !index.name.is_empty() {
            if let Some(other) = indexes.insert(table.schema.as_deref(), &index.name, label) {
                return invalid(if other == label {
                    format!("{label}: {what} is declared twice")
                } else {
                    format!("{what} is declared twice, on {other} and on {label}")
                });
            }
        }
        if index.parts.is_empty() {
            return invalid(format!("{label}: {what} has no key"));
        }
        for part in &index.parts {
            match (&part.column, &part.expression) {
                (Some(column), None) => require(&what, std::slice::from_ref(column))?,
                (None, Some(expression)) if !expression.trim().is_empty() => {}
                _ => {
                    return invalid(format!(
                        "{label}: {what} has a key that is not exactly one of a column or an expression"
                    ))
                }
            }
            if let Some(collation) = &part.collation {
                check_name(label, &format!("{what} collation "), collation)?;
            }
        }
    }
    let mut policies = Names::default();
    for (position, policy) in table.policies.iter().enumerate() {
        check_name(label, "policy ", &policy.name)?;
        let policy_label = named("policy", None, &policy.name, position);
        if policies.insert(None, &policy.name, &policy_label).is_some() {
            return invalid(format!("{label}: {policy_label} is declared twice"));
        }
        for role in &policy.roles {
            check_name(label, &format!("{policy_label} role "), role)?;
        }
    }
    Ok(())
}

/// `table "users"`, `table "app.users"`, or `table #3` when the name is empty.
fn named(kind: &str, namespace: Option<&str>, name: &str, position: usize) -> String {
    match (name.is_empty(), namespace) {
        (true, _) => format!("{kind} #{}", position + 1),
        (false, Some(ns)) => format!("{kind} {:?}", format!("{ns}.{name}")),
        (false, None) => format!("{kind} {name:?}"),
    }
}

fn clash(label: &str, other: &str) -> String {
    if label == other {
        format!("{label} is declared twice")
    } else {
        format!("{label} has the same name as {other}")
    }
}

/// Rejects an empty name or one with a NUL character; `what` prefixes the name's role.
fn check_name(owner: &str, what: &str, name: &str) -> Result<()> {
    if name.is_empty() && what.is_empty() {
        return Err(Error::InvalidSchema(format!("{owner} has an empty name")));
    }
    if name.is_empty() {
        return Err(Error::InvalidSchema(format!(
            "{owner}: {what}name is empty"
        )));
    }
    if name.contains('\0') {
        return Err(Error::InvalidSchema(format!(
            "{owner}: {what}name {name:?} contains a NUL character"
        )));
    }
    Ok(())
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn same_namespace(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => same(a, b),
        (None, None) => true,
        _ => false,
    }
}

/// Names already seen in one namespace, folded to ASCII lower case.
#[derive(Default)]
struct Names(HashMap<(Option<String>, String), String>);

impl Names {
    /// Records `name` for `label`; returns the label that already held it, if any.
    fn insert(&mut self, namespace: Option<&str>, name: &str, label: &str) -> Option<String> {
        let key = (
            namespace.map(str::to_ascii_lowercase),
            name.to_ascii_lowercase(),
        );
        match self.0.get(&key) {
            Some(existing) => Some(existing.clone()),
            None => {
                self.0.insert(key, label.to_string());
                None
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::*;
    use std::path::PathBuf;

    /// A schema that sets every field of the model at least once.
    fn every_field_schema() -> Schema {
        let mut users = Table::new("users");
        users.schema = Some("app".into());
        users.columns = vec![
            Column {
                nullable: false,
                identity: Some(Identity::Always),
                comment: Some("the key".into()),
                ..Column::new("id", "bigint")
            },
            Column {
                default: Some("'x'".into()),
                collation: Some("NOCASE".into()),
                renamed_from: Some("mail".into()),
                ..Column::new("email", "text")
            },
            Column {
                generated: Some(Generated {
                    expression: "lower(email)".into(),
                    stored: true,
                }),
                identity: Some(Identity::ByDefault),
                ..Column::new("email_lower", "text")
            },
        ];
        users.primary_key = Some(PrimaryKey {
            name: Some("pk_users".into()),
            columns: vec!["id".into()],
            autoincrement: true,
        });
        users.foreign_keys = vec![ForeignKey {
            not_valid: false,
            name: Some("fk_users_id_people".into()),
            columns: vec!["id".into()],
            referenced_schema: Some("app".into()),
            referenced_table: "people".into(),
            referenced_columns: vec!["id".into()],
            on_delete: ReferentialAction::Cascade,
            on_update: ReferentialAction::SetNull,
            deferrable: Deferrable::InitiallyDeferred,
        }];
        users.uniques = vec![Unique {
            name: Some("uq_users_email".into()),
            columns: vec!["email".into()],
        }];
        users.checks = vec![Check {
            not_valid: false,
            name: Some("ck_users_email".into()),
            expression: "email <> ''".into(),
        }];
        users.indexes = vec![Index {
            include: Vec::new(),
            name: "ix_users_email".into(),
            unique: true,
            parts: vec![
                IndexPart {
                    descending: true,
                    collation: Some("NOCASE".into()),
                    ..IndexPart::column("email")
                },
                IndexPart::expression("lower(email)"),
            ],
            predicate: Some("email IS NOT NULL".into()),
            method: Some("btree".into()),
            renamed_from: Some("users_email".into()),
        }];
        users.options = TableOptions {
            without_rowid: true,
            strict: true,
        };
        users.comment = Some("people who log in".into());
        users.renamed_from = Some("accounts".into());
        users.row_security = true;
        users.force_row_security = true;
        users.policies = vec![Policy {
            name: "users_own_row".into(),
            restrictive: true,
            command: PolicyCommand::Update,
            roles: vec!["app_user".into()],
            using: Some("(id = 1)".into()),
            with_check: Some("(email <> '')".into()),
            comment: Some("a user edits only their own row".into()),
            renamed_from: Some("users_self".into()),
        }];
        let mut people = Table::new("people");
        people.columns.push(Column::new("id", "bigint"));
        Schema {
            namespaces: Vec::new(),
            enums: Vec::new(),
            sequences: Vec::new(),
            functions: Vec::new(),
            domains: vec![Domain {
                schema: Some("app".into()),
                name: "year".into(),
                data_type: "integer".into(),
                default: Some("2000".into()),
                not_null: true,
                collation: None,
                checks: vec![Check {
                    name: Some("year_check".into()),
                    expression: "VALUE >= 1901".into(),
                    not_valid: false,
                }],
                comment: Some("a calendar year".into()),
                renamed_from: Some("yr".into()),
            }],
            extensions: vec![Extension {
                name: "pg_trgm".into(),
                schema: None,
            }],
            collations: vec![Collation {
                schema: Some("app".into()),
                name: "nocase".into(),
                provider: "icu".into(),
                locale: Some("und-u-ks-level2".into()),
                lc_collate: Some("C".into()),
                lc_ctype: Some("C".into()),
                deterministic: false,
                comment: Some("case-insensitive".into()),
                renamed_from: Some("ci".into()),
            }],
            composite_types: vec![CompositeType {
                schema: Some("app".into()),
                name: "address".into(),
                attributes: vec![Attribute {
                    name: "street".into(),
                    data_type: "text".into(),
                    collation: Some("C".into()),
                }],
                comment: Some("a postal address".into()),
                renamed_from: Some("addr".into()),
            }],
            range_types: vec![RangeType {
                schema: None,
                name: "floatrange".into(),
                subtype: "double precision".into(),
                collation: None,
                canonical: Some("floatrange_canonical".into()),
                subtype_diff: Some("float8mi".into()),
                comment: Some("a range of doubles".into()),
                renamed_from: Some("frange".into()),
            }],
            text_search_configs: vec![TextSearchConfig {
                schema: Some("app".into()),
                name: "search".into(),
                parser: "default".into(),
                mappings: vec![TextSearchMapping {
                    token: "asciiword".into(),
                    dictionaries: vec!["english_stem".into()],
                }],
                comment: Some("search in English".into()),
                renamed_from: Some("fts".into()),
            }],
            tables: vec![users, people],
            views: vec![View {
                schema: Some("app".into()),
                name: "emails".into(),
                columns: vec!["email".into()],
                definition: "SELECT email FROM users".into(),
                materialized: true,
                comment: Some("all emails".into()),
                indexes: Vec::new(),
            }],
            triggers: vec![Trigger {
                schema: Some("app".into()),
                name: "users_touch".into(),
                table: "users".into(),
                definition: "CREATE TRIGGER users_touch AFTER UPDATE ON users BEGIN SELECT 1; END"
                    .into(),
            }],
            virtual_tables: vec![VirtualTable {
                name: "docs".into(),
                module: "fts5".into(),
                arguments: "title, body".into(),
            }],
        }
    }

    fn message(result: Result<impl fmt::Debug>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn every_format_round_trips_a_schema_that_uses_every_field() {
        let schema = every_field_schema();
        for format in [SchemaFormat::Toml, SchemaFormat::Json, SchemaFormat::Yaml] {
            let text = render_schema(&schema, format).unwrap();
            assert_eq!(
                parse_schema(&text, format).unwrap(),
                schema,
                "{format}:\n{text}"
            );
        }
    }

    #[test]
    fn malformed_toml_error_names_the_line_and_the_field() {
        let text = "[[tables]]\nname = \"users\"\n\n[[tables.columns]]\nnam = \"id\"\n";
        assert_eq!(
            message(parse_schema(text, SchemaFormat::Toml)),
            "invalid schema: line 5, column 1 (`nam = \"id\"`): unknown field `nam`, expected one of \
             `name`, `type`, `nullable`, `default`, `generated`, `collation`, `identity`, `comment`, `renamed_from`"
        );
    }

    #[test]
    fn toml_syntax_error_is_one_line() {
        let error = message(parse_schema("[[tables]\nname = 1\n", SchemaFormat::Toml));
        assert!(
            error.starts_with("invalid schema: line 1, column "),
            "{error}"
        );
        assert!(!error.contains('\n'), "{error}");
    }

    #[test]
    fn json_error_names_the_line_and_the_offending_text() {
        let text =
            "{\"tables\": [\n  {\"name\": \"users\",\n   \"options\": {\"strict\": \"yes\"}}\n]}";
        assert_eq!(
            message(parse_schema(text, SchemaFormat::Json)),
            "invalid schema: line 3, column 30 (`\"options\": {\"strict\": \"yes\"}}`): invalid type: \
             string \"yes\", expected a boolean"
        );
    }

    #[test]
    fn yaml_error_names_the_line_and_the_field_path() {
        let text =
            "tables:\n  - name: users\n    columns:\n      - name: id\n        nullable: maybe\n";
        assert_eq!(
            message(parse_schema(text, SchemaFormat::Yaml)),
            "invalid schema: line 5, column 19: tables[0].columns[0].nullable: invalid type: \
             string \"maybe\", expected a boolean"
        );
    }

    #[test]
    fn format_follows_the_file_extension() {
        assert_eq!(
            SchemaFormat::from_path(Path::new("a/schema.TOML")),
            Some(SchemaFormat::Toml)
        );
        assert_eq!(
            SchemaFormat::from_path(Path::new("s.json")),
            Some(SchemaFormat::Json)
        );
        assert_eq!(
            SchemaFormat::from_path(Path::new("s.yaml")),
            Some(SchemaFormat::Yaml)
        );
        assert_eq!(SchemaFormat::from_path(Path::new("s.sql")), None);
        assert_eq!(SchemaFormat::from_path(Path::new("schema")), None);
    }

    #[test]
    fn docs_schema_json_is_up_to_date() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema.json");
        let expected = serde_json::to_string_pretty(&json_schema()).unwrap() + "\n";
        let actual = std::fs::read_to_string(&path).unwrap_or_default();
        if actual == expected {
            return;
        }
        if std::env::var_os("UPDATE_SCHEMA").is_some() {
            std::fs::write(&path, &expected).unwrap();
            return;
        }
        panic!(
            "{} is out of date; run `UPDATE_SCHEMA=1 cargo test -p schemasync-core` to regenerate it",
            path.display()
        );
    }

    /// The first TOML block of docs/schema-format.md.
    fn documented_example_text() -> String {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema-format.md");
        let doc = std::fs::read_to_string(path).unwrap();
        let start = doc.find("```toml\n").unwrap() + "```toml\n".len();
        let end = start + doc[start..].find("```").unwrap();
        doc[start..end].to_string()
    }

    #[test]
    fn documented_example_is_valid_and_named_as_its_comments_say() {
        let mut schema = parse_schema(&documented_example_text(), SchemaFormat::Toml).unwrap();
        validate(&schema).unwrap();
        crate::naming::NamingConvention::default().apply(&mut schema);
        let users = &schema.tables[0];
        assert_eq!(users.uniques[0].name.as_deref(), Some("uq_users_email"));
        assert_eq!(users.checks[1].name.as_deref(), Some("ck_users_email"));
        assert_eq!(
            schema.tables[1]
                .primary_key
                .as_ref()
                .unwrap()
                .name
                .as_deref(),
            Some("pk_teams")
        );
    }

    /// Every property name that appears anywhere in `value`.
    fn keys(value: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map {
                    out.insert(key.clone());
                    keys(inner, out);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| keys(i, out)),
            _ => {}
        }
    }

    #[test]
    fn documented_example_uses_every_field_of_the_model() {
        let mut used = std::collections::BTreeSet::new();
        let written: serde_json::Value = toml::from_str(&documented_example_text()).unwrap();
        keys(&written, &mut used);
        let schema = json_schema();
        let mut declared = std::collections::BTreeSet::new();
        let definitions = schema["$defs"].as_object().unwrap().values();
        for properties in definitions
            .chain([&schema])
            .filter_map(|d| d["properties"].as_object())
        {
            declared.extend(properties.keys().cloned());
        }
        let missing: Vec<_> = declared.difference(&used).collect();
        assert!(missing.is_empty(), "the example lacks {missing:?}");
    }

    #[test]
    fn json_schema_describes_the_schema_type() {
        let schema = json_schema();
        assert_eq!(schema["title"], "Schema");
        assert!(schema["$defs"]["Table"]["properties"]["renamed_from"].is_object());
    }

    #[test]
    fn a_valid_schema_passes_validation() {
        validate(&every_field_schema()).unwrap();
    }

    #[test]
    fn duplicate_column_is_named_with_its_table() {
        let mut schema = every_field_schema();
        schema.tables[1].columns.push(Column::new("ID", "integer"));
        assert_eq!(
            message(validate(&schema)),
            "invalid schema: table \"people\": column \"ID\" is declared twice"
        );
    }

    #[test]
    fn tables_differing_only_in_case_are_duplicates() {
        let schema = Schema {
            tables: vec![Table::new("users"), Table::new("Users")],
            ..Schema::default()
        };
        assert_eq!(
            message(validate(&schema)),
            "invalid schema: table \"Users\" has the same name as table \"users\""
        );
    }

    #[test]
    fn a_view_may_not_take_a_table_name() {
        let mut schema = every_field_schema();
        schema.views[0].schema = None;
        schema.views[0].name = "PEOPLE".into();
        assert_eq!(
            message(validate(&schema)),
            "invalid schema: view \"PEOPLE\" has the same name as table \"people\""
        );
    }

    #[test]
    fn duplicate_trigger_and_virtual_table_names_are_rejected() {
        let mut schema = every_field_schema();
        schema.triggers.push(schema.triggers[0].clone());
        assert_eq!(
            message(validate(&schema)),
            "invalid schema: trigger \"app.users_touch\" is declared twice"
        );
        let mut schema = every_field_schema();
        schema.virtual_tables[0].name = "people".into();
        assert_eq!(
            message(validate(&schema)),
            "invalid schema: virtual table \"people\" has the same name as table \"people\""
        );
    }

    #[test]
    fn empty_and_nul_names_are_rejected() {
        let schema = Schema {
            tables: vec![Table::new("")],
            ..Schema::default()
        };
        assert_eq!(
            message(validate(&schema)),
            "invalid schema: table #1 has an empty name"
        );
        let mut schema = every_field_schema();
        schema.tables[1].columns[0].name = String::new();
        assert_eq!(
            message(validate(&schema)),
            "invalid schema: table \"people\": column #1 has no name"
        );
        let mut schema = every_field_schema();
        schema.tables[1].columns[0].name = "i\0d".into();
        assert_eq!(
            message(validate(&schema)),
            "invalid schema: table \"people\": column name \"i\\0d\" contains a NUL character"
        );
        let mut schema = every_field_schema();
        schema.tables[0].checks[0].name = Some(String::new());
        assert_eq!(
            message(validate(&schema)),
            "invalid schema: table \"app.users\": check constraint name is empty"
        );
    }

    #[test]
    fn constraint_and_index_columns_must_exist() {
        let mut schema = every_field_schema();
        schema.tables[0].primary_key.as_mut().unwrap().columns = vec!["idd".into()];
        assert_eq!(
            message(validate(&schema)),
            "invalid schema: table \"app.users\": primary key \"pk_users\" names column \"idd\", \
             which the table does not have"
        );
        let mut schema = every_field_schema();
        schema.tables[0].uniques[0].name = None;
        schema.tables[0].uniques[0].columns = vec!["mail".into()];
        assert_eq!(
            message(validate(&schema)),
            "invalid schema: table \"app.users\": unique constraint names column \"mail\", \
             which the table does not have"
        );
        let mut schema = every_field_schema();
        schema.tables[0].foreign_keys[0].columns = vec!["person".into()];
        assert_eq!(
            message(validate(&schema)),
            "invalid schema: table \"app.users\": foreign key \"fk_users_id_people\" names column \
             \"person\", which the table does not have"
        );
        let mut schema = every_field_schema();
        schema.tables[0].indexes[0].parts[0].column = Some("nope".into());
        assert_eq!(
            message(validate(&schema)),
            "invalid schema: table \"app.users\": index \"ix_users_email\" names column \"nope\", \
             which the table does not have"
        );
    }

    #[test]
    fn referenced_columns_must_exist_when_the_table_is_in_the_schema() {
        let mut schema = every_field_schema();
        schema.tables[0].foreign_keys[0].referenced_schema = None;
        schema.tables[0].foreign_keys[0].referenced_columns = vec!["uid".into()];
        assert_eq!(
            message(validate(&schema)),
            "invalid schema: table \"app.users\": foreign key \"fk_users_id_people\" references \
             column \"uid\" of table \"people\", which that table does not have"
        );
        // A table outside the document is not checked.
        schema.tables[0].foreign_keys[0].referenced_table = "elsewhere".into();
        validate(&schema).unwrap();
    }

    #[test]
    fn an_unnamed_index_is_valid_but_a_twice_named_one_is_not() {
        let mut schema = every_field_schema();
        schema.tables[0].indexes[0].name = String::new();
        validate(&schema).unwrap();
        let mut schema = every_field_schema();
        let mut copy = schema.tables[0].indexes[0].clone();
        copy.parts.truncate(1);
        schema.tables[0].indexes.push(copy);
        assert_eq!(
            message(validate(&schema)),
            "invalid schema: table \"app.users\": index \"ix_users_email\" is declared twice"
        );
    }
}
