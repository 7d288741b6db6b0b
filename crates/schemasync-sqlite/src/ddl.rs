//! Renders model objects as SQLite DDL: CREATE TABLE, CREATE INDEX, CREATE VIEW and
//! CREATE VIRTUAL TABLE text.
//!
//! Every name goes through [`crate::quote_ident`]; expressions are emitted as the model
//! holds them, whitespace folded (comments dropped). The output is chosen so that
//! running it and introspecting gives back exactly the model it came from, when that
//! model is in canonical form (see [`crate::introspect`]). This module never runs SQL and
//! never decides what to create or drop.
//!
//! Defaults are always written as `DEFAULT (<text>)`. SQLite reports a default
//! (`table_xinfo.dflt_value`) as the text of the expression without the outer
//! parentheses, so `DEFAULT 0`, `DEFAULT (0)` both read back as `0`, `DEFAULT 'x'` as
//! `'x'`, `DEFAULT -1` as `-1`, `DEFAULT (1+1)` as `1+1`, `DEFAULT CURRENT_TIMESTAMP` as
//! `CURRENT_TIMESTAMP` and `DEFAULT (datetime('now'))` as `datetime('now')`. Wrapping
//! the stored text in parentheses is valid for every one of them and reads back
//! unchanged, whereas writing it bare would fail for expressions such as `1+1`.

use crate::quote_ident;
use schemasync_core::sqltext::fold_whitespace;
use schemasync_core::{
    Column, Deferrable, ForeignKey, Index, IndexPart, PrimaryKey, ReferentialAction, Schema, Table,
    View, VirtualTable,
};

/// Every statement that creates `schema` in an empty database, in dependency order
/// (tables, their indexes, virtual tables, views, triggers), each with a label naming its
/// object for error messages.
pub(crate) fn create_schema(schema: &Schema) -> Vec<(String, String)> {
    let mut statements = Vec::new();
    for table in &schema.tables {
        statements.push((
            format!("table {}", table.name),
            create_table(table, &table.name),
        ));
    }
    for table in &schema.tables {
        for index in &table.indexes {
            statements.push((
                format!("index {} on table {}", index.name, table.name),
                create_index(&table.name, index),
            ));
        }
    }
    for virtual_table in &schema.virtual_tables {
        statements.push((
            format!("virtual table {}", virtual_table.name),
            create_virtual_table(virtual_table),
        ));
    }
    for view in &schema.views {
        statements.push((format!("view {}", view.name), create_view(view)));
    }
    for trigger in &schema.triggers {
        statements.push((
            format!("trigger {}", trigger.name),
            trigger.definition.clone(),
        ));
    }
    statements
}

/// `CREATE TABLE <name> (...)` for `table` under the given name (rebuilds use a scratch name).
pub(crate) fn create_table(table: &Table, name: &str) -> String {
    let inline_key = table
        .primary_key
        .as_ref()
        .filter(|pk| pk.autoincrement && pk.columns.len() == 1);
    let mut items: Vec<String> = table
        .columns
        .iter()
        .map(|column| {
            let key = inline_key.filter(|pk| pk.columns[0].eq_ignore_ascii_case(&column.name));
            column_definition(column, key)
        })
        .collect();
    let key_is_inline = inline_key.is_some_and(|pk| {
        table
            .columns
            .iter()
            .any(|c| pk.columns[0].eq_ignore_ascii_case(&c.name))
    });
    if let Some(pk) = table.primary_key.as_ref().filter(|_| !key_is_inline) {
        items.push(primary_key_constraint(pk));
    }
    for unique in &table.uniques {
        items.push(format!(
            "{}UNIQUE ({})",
            constraint_name(unique.name.as_deref()),
            name_list(&unique.columns)
        ));
    }
    for check in &table.checks {
        items.push(format!(
            "{}CHECK ({})",
            constraint_name(check.name.as_deref()),
            fold_whitespace(&check.expression)
        ));
    }
    for foreign_key in &table.foreign_keys {
        items.push(foreign_key_constraint(foreign_key));
    }
    let mut options = Vec::new();
    if table.options.without_rowid {
        options.push("WITHOUT ROWID");
    }
    if table.options.strict {
        options.push("STRICT");
    }
    let mut sql = format!(
        "CREATE TABLE {} (\n  {}\n)",
        quote_ident(name),
        items.join(",\n  ")
    );
    if !options.is_empty() {
        sql.push(' ');
        sql.push_str(&options.join(", "));
    }
    sql
}

/// One column definition, as in CREATE TABLE or `ALTER TABLE … ADD COLUMN`. `key` is the
/// table's AUTOINCREMENT primary key when it belongs inline on this column.
pub(crate) fn column_definition(column: &Column, key: Option<&PrimaryKey>) -> String {
    let mut sql = quote_ident(&column.name);
    if !column.data_type.is_empty() {
        sql.push(' ');
        sql.push_str(&column.data_type);
    }
    if let Some(pk) = key {
        sql.push(' ');
        sql.push_str(&constraint_name(pk.name.as_deref()));
        sql.push_str("PRIMARY KEY AUTOINCREMENT");
    }
    if !column.nullable {
        sql.push_str(" NOT NULL");
    }
    if let Some(default) = &column.default {
        sql.push_str(&format!(" DEFAULT ({})", fold_whitespace(default)));
    }
    if let Some(collation) = &column.collation {
        sql.push_str(&format!(" COLLATE {}", quote_ident(collation)));
    }
    if let Some(generated) = &column.generated {
        sql.push_str(&format!(
            " GENERATED ALWAYS AS ({}) {}",
            fold_whitespace(&generated.expression),
            if generated.stored {
                "STORED"
            } else {
                "VIRTUAL"
            }
        ));
    }
    sql
}

/// `CONSTRAINT "name" ` when named, else nothing.
fn constraint_name(name: Option<&str>) -> String {
    name.map(|n| format!("CONSTRAINT {} ", quote_ident(n)))
        .unwrap_or_default()
}

/// Quoted names separated by commas.
fn name_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| quote_ident(n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A table-level PRIMARY KEY (an AUTOINCREMENT key here is one SQLite will refuse, as it
/// should: only a single INTEGER column may have it, and that one is written inline).
fn primary_key_constraint(pk: &PrimaryKey) -> String {
    format!(
        "{}PRIMARY KEY ({}{})",
        constraint_name(pk.name.as_deref()),
        name_list(&pk.columns),
        if pk.autoincrement {
            " AUTOINCREMENT"
        } else {
            ""
        }
    )
}

/// A table-level FOREIGN KEY with its actions and deferral.
fn foreign_key_constraint(fk: &ForeignKey) -> String {
    let mut sql = format!(
        "{}FOREIGN KEY ({}) REFERENCES {}",
        constraint_name(fk.name.as_deref()),
        name_list(&fk.columns),
        quote_ident(&fk.referenced_table)
    );
    if !fk.referenced_columns.is_empty() {
        sql.push_str(&format!(" ({})", name_list(&fk.referenced_columns)));
    }
    if fk.on_delete != ReferentialAction::NoAction {
        sql.push_str(&format!(" ON DELETE {}", fk.on_delete.as_sql()));
    }
    if fk.on_update != ReferentialAction::NoAction {
        sql.push_str(&format!(" ON UPDATE {}", fk.on_update.as_sql()));
    }
    match fk.deferrable {
        Deferrable::NotDeferrable => {}
        Deferrable::InitiallyImmediate => sql.push_str(" DEFERRABLE INITIALLY IMMEDIATE"),
        Deferrable::InitiallyDeferred => sql.push_str(" DEFERRABLE INITIALLY DEFERRED"),
    }
    sql
}

/// `CREATE [UNIQUE] INDEX ... ON <table> (...) [WHERE ...]`.
pub(crate) fn create_index(table: &str, index: &Index) -> String {
    let parts = index
        .parts
        .iter()
        .map(index_part)
        .collect::<Vec<_>>()
        .join(", ");
    let mut sql = format!(
        "CREATE {}INDEX {} ON {} ({parts})",
        if index.unique { "UNIQUE " } else { "" },
        quote_ident(&index.name),
        quote_ident(table)
    );
    if let Some(predicate) = &index.predicate {
        sql.push_str(" WHERE ");
        sql.push_str(&fold_whitespace(predicate));
    }
    sql
}

/// One index key: a quoted column or the expression as written, then COLLATE and DESC.
fn index_part(part: &IndexPart) -> String {
    let mut sql = match (&part.column, &part.expression) {
        (Some(column), _) => quote_ident(column),
        (None, Some(expression)) => fold_whitespace(expression),
        (None, None) => String::new(),
    };
    if let Some(collation) = &part.collation {
        sql.push_str(" COLLATE ");
        sql.push_str(&quote_ident(collation));
    }
    if part.descending {
        sql.push_str(" DESC");
    }
    sql
}

/// `CREATE VIEW ...`.
pub(crate) fn create_view(view: &View) -> String {
    let columns = if view.columns.is_empty() {
        String::new()
    } else {
        format!(" ({})", name_list(&view.columns))
    };
    format!(
        "CREATE VIEW {}{columns} AS {}",
        quote_ident(&view.name),
        fold_whitespace(&view.definition)
    )
}

/// `CREATE VIRTUAL TABLE ... USING module(args)`.
pub(crate) fn create_virtual_table(table: &VirtualTable) -> String {
    let plain = table
        .module
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && table
            .module
            .bytes()
            .next()
            .is_some_and(|b| !b.is_ascii_digit());
    let module = if plain {
        table.module.clone()
    } else {
        quote_ident(&table.module)
    };
    let arguments = fold_whitespace(&table.arguments);
    if arguments.is_empty() {
        format!(
            "CREATE VIRTUAL TABLE {} USING {module}",
            quote_ident(&table.name)
        )
    } else {
        format!(
            "CREATE VIRTUAL TABLE {} USING {module}({arguments})",
            quote_ident(&table.name)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use schemasync_core::{Check, Generated, TableOptions, Unique};

    #[test]
    fn autoincrement_key_is_written_inline_and_other_keys_as_constraints() {
        let mut table = Table::new("t");
        table.columns.push(Column::new("id", "INTEGER"));
        table.columns.push(Column {
            default: Some("'x'".into()),
            collation: Some("NOCASE".into()),
            ..Column::new("we\"ird;name", "TEXT")
        });
        table.columns.push(Column {
            generated: Some(Generated {
                expression: "id * 2".into(),
                stored: true,
            }),
            ..Column::new("g", "")
        });
        table.primary_key = Some(PrimaryKey {
            name: Some("pk".into()),
            columns: vec!["id".into()],
            autoincrement: true,
        });
        table.uniques.push(Unique {
            name: None,
            columns: vec!["we\"ird;name".into()],
        });
        table.checks.push(Check {
            not_valid: false,
            name: Some("positive".into()),
            expression: "id > 0".into(),
        });
        table.foreign_keys.push(ForeignKey {
            not_valid: false,
            name: None,
            columns: vec!["id".into()],
            referenced_schema: None,
            referenced_table: "order".into(),
            referenced_columns: vec![],
            on_delete: ReferentialAction::Cascade,
            on_update: ReferentialAction::NoAction,
            deferrable: Deferrable::InitiallyDeferred,
        });
        table.options = TableOptions {
            without_rowid: false,
            strict: true,
        };
        assert_eq!(
            create_table(&table, "new t"),
            "CREATE TABLE \"new t\" (\n  \
             \"id\" INTEGER CONSTRAINT \"pk\" PRIMARY KEY AUTOINCREMENT,\n  \
             \"we\"\"ird;name\" TEXT DEFAULT ('x') COLLATE \"NOCASE\",\n  \
             \"g\" GENERATED ALWAYS AS (id * 2) STORED,\n  \
             UNIQUE (\"we\"\"ird;name\"),\n  \
             CONSTRAINT \"positive\" CHECK (id > 0),\n  \
             FOREIGN KEY (\"id\") REFERENCES \"order\" ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED\n\
             ) STRICT"
        );
    }

    #[test]
    fn index_keys_quote_columns_and_keep_expressions() {
        let index = Index {
            include: Vec::new(),
            name: "ix".into(),
            unique: true,
            parts: vec![
                IndexPart {
                    descending: true,
                    collation: Some("NOCASE".into()),
                    ..IndexPart::column("Email")
                },
                IndexPart::expression("lower(name)"),
            ],
            predicate: Some("deleted IS NULL".into()),
            method: None,
            renamed_from: None,
        };
        assert_eq!(
            create_index("users", &index),
            "CREATE UNIQUE INDEX \"ix\" ON \"users\" (\"Email\" COLLATE \"NOCASE\" DESC, lower(name)) WHERE deleted IS NULL"
        );
    }

    #[test]
    fn virtual_table_without_arguments_has_no_parentheses() {
        let table = VirtualTable {
            name: "v".into(),
            module: "fts5".into(),
            arguments: "a, b".into(),
        };
        assert_eq!(
            create_virtual_table(&table),
            "CREATE VIRTUAL TABLE \"v\" USING fts5(a, b)"
        );
        let bare = VirtualTable {
            arguments: String::new(),
            ..table
        };
        assert_eq!(
            create_virtual_table(&bare),
            "CREATE VIRTUAL TABLE \"v\" USING fts5"
        );
    }
}
