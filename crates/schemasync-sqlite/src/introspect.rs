//! Reads a live SQLite schema (`main`) into the model, and normalises desired schemas by
//! running them in a scratch in-memory database and reading that back.
//!
//! The PRAGMAs (`table_list`, `table_xinfo`, `foreign_key_list`, `index_list`,
//! `index_info`) are the authority for what they report; the stored CREATE text, read by
//! [`crate::parse`], supplies the rest (constraint names, CHECK and generated
//! expressions, AUTOINCREMENT, collations, deferral, index keys, views). Introspection
//! never writes to the database it reads, and never decides what a change should be.
//!
//! Canonical form (what `.sql` files and TOML models both come out as):
//! - column type: the declared type, whitespace folded, ASCII upper case (may be empty);
//! - default: `table_xinfo.dflt_value` whitespace folded (`0`, `'x'`, `-1`, `1+1`,
//!   `CURRENT_TIMESTAMP`, `datetime('now')`: SQLite drops the outer parentheses);
//! - collations (columns and index keys): upper case, only when written;
//! - CHECK, generated, index expressions and predicates, view queries, virtual-table
//!   arguments and trigger statements: the text as written, whitespace folded, comments
//!   dropped ([`schemasync_core::sqltext::fold_whitespace`]).

use crate::driver::sqlite_error;
use crate::{ddl, parse};
use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::{Batch, Connection};
use schemasync_core::sqltext::fold_whitespace;
use schemasync_core::{
    Column, Error, ForeignKey, Generated, Index, PrimaryKey, ReferentialAction, Result, Schema,
    Table, TableOptions, Trigger, Unique, View, VirtualTable,
};
use std::collections::HashMap;

/// One row of `sqlite_schema`.
struct SchemaObject {
    kind: String,
    name: String,
    table: String,
    sql: Option<String>,
}

/// What `PRAGMA table_list` says about one table.
struct TableListEntry {
    kind: String,
    without_rowid: bool,
    strict: bool,
}

/// Whether a name belongs to SQLite or to schemasync itself, never to the user's schema.
fn is_internal(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("sqlite_") || lower.starts_with("schemasync_")
}

/// Reads the schema of `main`. Never writes.
pub(crate) fn introspect(conn: &Connection) -> Result<Schema> {
    let objects = schema_objects(conn)?;
    let table_list = table_list(conn)?;
    let mut schema = Schema::default();
    for object in objects.iter().filter(|o| o.kind == "table") {
        if is_internal(&object.name) {
            continue;
        }
        let Some(entry) = table_list.get(&object.name) else {
            continue;
        };
        let sql = stored_sql(object)?;
        match entry.kind.as_str() {
            "virtual" => {
                let parsed = parse::parse_create_virtual_table(sql)
                    .map_err(|e| unreadable("virtual table", &object.name, &e))?;
                schema.virtual_tables.push(VirtualTable {
                    name: object.name.clone(),
                    module: parsed.module,
                    arguments: parsed.arguments,
                });
            }
            "table" => schema
                .tables
                .push(read_table(conn, &object.name, sql, entry)?),
            // Shadow tables of virtual tables (FTS5 `_data`, `_idx`, …) belong to them.
            _ => {}
        }
    }
    for object in objects.iter().filter(|o| o.kind == "index") {
        let Some(sql) = object.sql.as_deref() else {
            continue; // an automatic index of a PRIMARY KEY or UNIQUE constraint
        };
        let Some(table) = schema.tables.iter_mut().find(|t| t.name == object.table) else {
            continue;
        };
        let columns: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
        let parsed = parse::parse_create_index(sql, &columns)
            .map_err(|e| unreadable("index", &object.name, &e))?;
        table.indexes.push(Index {
            include: Vec::new(),
            name: object.name.clone(),
            unique: parsed.unique,
            parts: parsed.parts,
            predicate: parsed.predicate,
            method: None,
            renamed_from: None,
        });
    }
    for object in &objects {
        if is_internal(&object.name) || is_internal(&object.table) {
            continue;
        }
        match object.kind.as_str() {
            "view" => {
                let parsed = parse::parse_create_view(stored_sql(object)?)
                    .map_err(|e| unreadable("view", &object.name, &e))?;
                schema.views.push(View {
                    schema: None,
                    name: object.name.clone(),
                    columns: parsed.columns,
                    definition: parsed.definition,
                    materialized: false,
                    comment: None,
                    indexes: Vec::new(),
                });
            }
            "trigger" => schema.triggers.push(Trigger {
                schema: None,
                name: object.name.clone(),
                table: object.table.clone(),
                definition: fold_whitespace(stored_sql(object)?),
            }),
            _ => {}
        }
    }
    Ok(schema)
}

/// The error for stored CREATE text this module cannot read.
fn unreadable(kind: &str, name: &str, problem: &str) -> Error {
    Error::Unsupported(format!(
        "cannot read the stored definition of {kind} {name}: {problem}"
    ))
}

/// The CREATE text of an object that must have one.
fn stored_sql(object: &SchemaObject) -> Result<&str> {
    object.sql.as_deref().ok_or_else(|| {
        unreadable(
            &object.kind,
            &object.name,
            "sqlite_schema holds no SQL for it",
        )
    })
}

/// Every row of `main.sqlite_schema`, in creation (rowid) order.
fn schema_objects(conn: &Connection) -> Result<Vec<SchemaObject>> {
    let context = "cannot read sqlite_schema";
    let mut stmt = conn
        .prepare("SELECT type, name, tbl_name, sql FROM main.sqlite_schema ORDER BY rowid")
        .map_err(|e| sqlite_error(context, e))?;
    let rows = stmt
        .query_map([], |row| {
            Ok(SchemaObject {
                kind: row.get(0)?,
                name: row.get(1)?,
                table: row.get(2)?,
                sql: row.get(3)?,
            })
        })
        .map_err(|e| sqlite_error(context, e))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| sqlite_error(context, e))
}

/// `PRAGMA table_list` for `main`, by table name.
fn table_list(conn: &Connection) -> Result<HashMap<String, TableListEntry>> {
    let context = "cannot read PRAGMA table_list";
    let mut stmt = conn
        .prepare("SELECT name, type, wr, strict FROM pragma_table_list WHERE schema = 'main'")
        .map_err(|e| sqlite_error(context, e))?;
    let rows = stmt
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                TableListEntry {
                    kind: row.get(1)?,
                    without_rowid: row.get::<_, i64>(2)? != 0,
                    strict: row.get::<_, i64>(3)? != 0,
                },
            ))
        })
        .map_err(|e| sqlite_error(context, e))?;
    rows.collect::<rusqlite::Result<HashMap<_, _>>>()
        .map_err(|e| sqlite_error(context, e))
}

/// One row of `PRAGMA table_xinfo`.
struct ColumnInfo {
    name: String,
    declared_type: String,
    not_null: bool,
    default: Option<String>,
    pk: i64,
    hidden: i64,
}

/// Reads one ordinary table.
fn read_table(conn: &Connection, name: &str, sql: &str, entry: &TableListEntry) -> Result<Table> {
    let parsed = parse::parse_create_table(sql).map_err(|e| unreadable("table", name, &e))?;
    let mut table = Table::new(name);
    let mut key: Vec<(i64, String)> = Vec::new();
    for info in column_infos(conn, name)? {
        // hidden 1: a virtual table's hidden column; 2: generated VIRTUAL; 3: generated STORED.
        if info.hidden == 1 {
            continue;
        }
        let declared = parsed
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(&info.name));
        let generated = if info.hidden >= 2 {
            let expression = declared.and_then(|c| c.generated.clone()).ok_or_else(|| {
                unreadable(
                    "table",
                    name,
                    &format!("no expression found for generated column {}", info.name),
                )
            })?;
            Some(Generated {
                expression,
                stored: info.hidden == 3,
            })
        } else {
            None
        };
        if info.pk > 0 {
            key.push((info.pk, info.name.clone()));
        }
        table.columns.push(Column {
            data_type: fold_whitespace(&info.declared_type).to_ascii_uppercase(),
            nullable: !info.not_null,
            default: info.default.as_deref().map(fold_whitespace),
            generated,
            collation: declared.and_then(|c| c.collation.clone()),
            ..Column::new(info.name, "")
        });
    }
    key.sort();
    if !key.is_empty() {
        let declared = parsed.primary_key.as_ref();
        table.primary_key = Some(PrimaryKey {
            name: declared.and_then(|pk| pk.name.clone()),
            columns: key.into_iter().map(|(_, column)| column).collect(),
            autoincrement: declared.is_some_and(|pk| pk.autoincrement),
        });
    }
    table.foreign_keys = foreign_keys(conn, name, parsed.foreign_keys)?;
    table.uniques = uniques(conn, name, parsed.uniques)?;
    table.checks = parsed.checks;
    table.options = TableOptions {
        without_rowid: entry.without_rowid,
        strict: entry.strict,
    };
    Ok(table)
}

/// `PRAGMA table_xinfo` rows, in column order.
fn column_infos(conn: &Connection, table: &str) -> Result<Vec<ColumnInfo>> {
    let context = format!("cannot read the columns of table {table}");
    let mut stmt = conn
        .prepare(
            "SELECT name, type, \"notnull\", dflt_value, pk, hidden \
             FROM pragma_table_xinfo(?1, 'main') ORDER BY cid",
        )
        .map_err(|e| sqlite_error(context.clone(), e))?;
    let rows = stmt
        .query_map([table], |row| {
            Ok(ColumnInfo {
                name: row.get(0)?,
                declared_type: row.get(1)?,
                not_null: row.get::<_, i64>(2)? != 0,
                default: row.get(3)?,
                pk: row.get(4)?,
                hidden: row.get(5)?,
            })
        })
        .map_err(|e| sqlite_error(context.clone(), e))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| sqlite_error(context, e))
}

/// The foreign keys of `table` in declaration order, named and deferred as `declared` says.
fn foreign_keys(
    conn: &Connection,
    table: &str,
    mut declared: Vec<parse::ParsedForeignKey>,
) -> Result<Vec<ForeignKey>> {
    let context = format!("cannot read the foreign keys of table {table}");
    // SQLite numbers foreign keys from the last declared one: id descending is declaration order.
    let mut stmt = conn
        .prepare(
            "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete \
             FROM pragma_foreign_key_list(?1, 'main') ORDER BY id DESC, seq",
        )
        .map_err(|e| sqlite_error(context.clone(), e))?;
    let rows = stmt
        .query_map([table], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
            ))
        })
        .map_err(|e| sqlite_error(context.clone(), e))?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| sqlite_error(context, e))?;

    let mut keys: Vec<(ForeignKey, bool)> = Vec::new();
    let mut last_id = None;
    for (id, referenced_table, from, to, on_update, on_delete) in rows {
        if last_id != Some(id) {
            last_id = Some(id);
            keys.push((
                ForeignKey {
                    not_valid: false,
                    name: None,
                    columns: Vec::new(),
                    referenced_schema: None,
                    referenced_table,
                    referenced_columns: Vec::new(),
                    on_delete: action(table, &on_delete)?,
                    on_update: action(table, &on_update)?,
                    deferrable: Default::default(),
                },
                true,
            ));
        }
        if let Some((key, all_to_named)) = keys.last_mut() {
            key.columns.push(from);
            match to {
                Some(to) => key.referenced_columns.push(to),
                None => *all_to_named = false,
            }
        }
    }
    let mut result = Vec::with_capacity(keys.len());
    for (mut key, all_to_named) in keys {
        if !all_to_named {
            key.referenced_columns.clear();
        }
        let matching = declared.iter().position(|d| {
            d.referenced_table
                .eq_ignore_ascii_case(&key.referenced_table)
                && same_names(&d.columns, &key.columns)
        });
        if let Some(found) = matching {
            let found = declared.remove(found);
            key.name = found.name;
            key.deferrable = found.deferrable;
        }
        result.push(key);
    }
    Ok(result)
}

/// Whether two column lists name the same columns in the same order (SQLite compares
/// names without regard to ASCII case).
fn same_names(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.eq_ignore_ascii_case(y))
}

/// The model's action for a `foreign_key_list` action word.
fn action(table: &str, word: &str) -> Result<ReferentialAction> {
    Ok(match word.to_ascii_uppercase().as_str() {
        "NO ACTION" => ReferentialAction::NoAction,
        "RESTRICT" => ReferentialAction::Restrict,
        "CASCADE" => ReferentialAction::Cascade,
        "SET NULL" => ReferentialAction::SetNull,
        "SET DEFAULT" => ReferentialAction::SetDefault,
        other => {
            return Err(Error::Unsupported(format!(
                "table {table} has a foreign key action schemasync does not know: {other}"
            )))
        }
    })
}

/// The UNIQUE constraints of `table` in declaration order, named as `declared` says.
fn uniques(conn: &Connection, table: &str, mut declared: Vec<Unique>) -> Result<Vec<Unique>> {
    let context = format!("cannot read the UNIQUE constraints of table {table}");
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_index_list(?1, 'main') WHERE origin = 'u'")
        .map_err(|e| sqlite_error(context.clone(), e))?;
    let mut names = stmt
        .query_map([table], |row| row.get::<_, String>(0))
        .map_err(|e| sqlite_error(context.clone(), e))?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| sqlite_error(context.clone(), e))?;
    // `sqlite_autoindex_<table>_<n>`: n counts the table's constraints in declaration order.
    names.sort_by_key(|index| {
        index
            .rsplit('_')
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(u64::MAX)
    });
    let mut info = conn
        .prepare("SELECT name FROM pragma_index_info(?1, 'main') ORDER BY seqno")
        .map_err(|e| sqlite_error(context.clone(), e))?;
    let mut result = Vec::with_capacity(names.len());
    for index in names {
        let columns = info
            .query_map([&index], |row| row.get::<_, Option<String>>(0))
            .map_err(|e| sqlite_error(context.clone(), e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| sqlite_error(context.clone(), e))?
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect::<Vec<_>>();
        let name = declared
            .iter()
            .position(|d| same_names(&d.columns, &columns))
            .and_then(|found| declared.remove(found).name);
        result.push(Unique { name, columns });
    }
    Ok(result)
}

/// Runs DDL in a scratch in-memory database and introspects it.
pub(crate) fn normalize_sql(sql: &str) -> Result<Schema> {
    let conn = scratch_database()?;
    run_script(&conn, sql)?;
    introspect(&conn)
}

/// Objects SQLite has no place for are an error naming the first one, never dropped silently.
fn refuse_what_sqlite_lacks(schema: &Schema) -> Result<()> {
    let unsupported = |what: &str, name: &str| {
        Err(Error::Unsupported(format!(
            "SQLite has no {what}, so {name} cannot be created there"
        )))
    };
    if let Some(namespace) = schema.namespaces.first() {
        return unsupported(
            "schemas (namespaces)",
            &format!("schema {}", namespace.name),
        );
    }
    if let Some(enum_type) = schema.enums.first() {
        return unsupported("enum types", &format!("enum {}", enum_type.name));
    }
    if let Some(sequence) = schema.sequences.first() {
        return unsupported("sequences", &format!("sequence {}", sequence.name));
    }
    if let Some(function) = schema.functions.first() {
        return unsupported("stored functions", &format!("function {}", function.name));
    }
    if let Some(collation) = schema.collations.first() {
        return unsupported(
            "CREATE COLLATION (collations are registered by the application)",
            &format!("collation {}", collation.name),
        );
    }
    if let Some(composite) = schema.composite_types.first() {
        return unsupported(
            "composite types",
            &format!("composite type {}", composite.name),
        );
    }
    if let Some(range) = schema.range_types.first() {
        return unsupported("range types", &format!("range type {}", range.name));
    }
    if let Some(config) = schema.text_search_configs.first() {
        return unsupported(
            "text search configurations",
            &format!("text search configuration {}", config.name),
        );
    }
    for table in &schema.tables {
        if let Some(namespace) = &table.schema {
            return unsupported(
                "schemas (namespaces)",
                &format!("table {namespace}.{}", table.name),
            );
        }
        if let Some(exclusion) = table.exclusions.first() {
            return unsupported(
                "exclusion constraints",
                &format!("{} on table {}", exclusion.name, table.name),
            );
        }
        if let Some(index) = table.indexes.iter().find(|i| !i.include.is_empty()) {
            return unsupported(
                "INCLUDE columns on indexes",
                &format!("index {} on table {}", index.name, table.name),
            );
        }
    }
    Ok(())
}

/// Renders a model as DDL, runs it in a scratch database and introspects it, so a model
/// written by hand comes out exactly as the same schema written in SQL would. Rename
/// hints do not survive (the caller re-attaches them).
pub(crate) fn normalize_model(schema: &Schema) -> Result<Schema> {
    refuse_what_sqlite_lacks(schema)?;
    let conn = scratch_database()?;
    let statements = ddl::create_schema(schema);
    for (object, sql) in statements {
        conn.execute_batch(&sql).map_err(|e| {
            Error::InvalidSchema(format!(
                "{object} cannot be created in SQLite ({}): {e}",
                preview(&sql)
            ))
        })?;
    }
    introspect(&conn)
}

/// A fresh in-memory database.
fn scratch_database() -> Result<Connection> {
    Connection::open_in_memory()
        .map_err(|e| sqlite_error("cannot open a scratch in-memory database", e))
}

/// Runs a script statement by statement, so a failure can name its statement.
fn run_script(conn: &Connection, sql: &str) -> Result<()> {
    let mut batch = Batch::new(conn, sql);
    let mut done = 0usize;
    let mut consumed = 0usize;
    let (text, message) = loop {
        match batch.next() {
            Ok(None) => return Ok(()),
            Ok(Some(mut stmt)) => {
                let text = stmt.expanded_sql().unwrap_or_default();
                let outcome = stmt.query([]).and_then(|mut rows| {
                    while rows.next()?.is_some() {}
                    Ok(())
                });
                if let Err(e) = outcome {
                    break (text, e.to_string());
                }
                done += 1;
                if let Some(at) = sql[consumed..].find(&text) {
                    consumed += at + text.len();
                }
            }
            // A syntax error: SQLite gives the text from the failing statement on.
            Err(rusqlite::Error::SqlInputError { msg, sql, .. }) => break (sql, msg),
            Err(e) => break (sql[consumed..].to_string(), e.to_string()),
        }
    };
    Err(Error::InvalidSchema(format!(
        "statement {} of the SQL ({}) fails in SQLite: {message}",
        done + 1,
        preview(&text)
    )))
}

/// The start of a statement, folded to one line, to name it in a message.
fn preview(sql: &str) -> String {
    const LIMIT: usize = 60;
    let folded = fold_whitespace(sql);
    match folded.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("`{}…`", &folded[..cut]),
        None => format!("`{folded}`"),
    }
}
