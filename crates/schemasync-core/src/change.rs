//! Dialect-neutral changes: what [`crate::diff()`] emits and drivers plan from.
//!
//! Every change carries the whole object before and/or after it, so a list of changes
//! can be reversed (autogenerate's `down`) and planned without going back to a schema.

use crate::model::{
    Check, Column, ForeignKey, Index, PrimaryKey, Table, TableOptions, Trigger, Unique, View,
    VirtualTable,
};
use serde::{Deserialize, Serialize};

/// One dialect-neutral schema change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// Create a table with all its columns, keys and constraints (indexes come as [`Change::AddIndex`]).
    CreateTable {
        /// The table as desired.
        table: Table,
    },
    /// Drop a table and its rows.
    DropTable {
        /// The table as it was.
        table: Table,
    },
    /// Rename a table (from a rename hint).
    RenameTable {
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// Add a column at the end of a table.
    AddColumn {
        /// Table name (after any rename).
        table: String,
        /// The new column.
        column: Column,
    },
    /// Drop a column and its values.
    DropColumn {
        /// Table name.
        table: String,
        /// The column as it was.
        column: Column,
    },
    /// Rename a column (from a rename hint).
    RenameColumn {
        /// Table name.
        table: String,
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// Change a column's type, nullability, default, collation, generation or identity.
    AlterColumn {
        /// Table name.
        table: String,
        /// The column as it is (already carrying its new name after a rename).
        from: Column,
        /// The column as desired.
        to: Column,
    },
    /// Put a table's columns in a new order.
    ReorderColumns {
        /// Table name.
        table: String,
        /// Column names in the old order.
        from: Vec<String>,
        /// Column names in the desired order.
        to: Vec<String>,
    },
    /// Change, add or remove the primary key.
    SetPrimaryKey {
        /// Table name.
        table: String,
        /// The key as it was.
        from: Option<PrimaryKey>,
        /// The key as desired.
        to: Option<PrimaryKey>,
    },
    /// Add a foreign key.
    AddForeignKey {
        /// Table name.
        table: String,
        /// The new foreign key.
        foreign_key: ForeignKey,
    },
    /// Drop a foreign key.
    DropForeignKey {
        /// Table name.
        table: String,
        /// The foreign key as it was.
        foreign_key: ForeignKey,
    },
    /// Add a UNIQUE constraint.
    AddUnique {
        /// Table name.
        table: String,
        /// The new constraint.
        unique: Unique,
    },
    /// Drop a UNIQUE constraint.
    DropUnique {
        /// Table name.
        table: String,
        /// The constraint as it was.
        unique: Unique,
    },
    /// Add a CHECK constraint.
    AddCheck {
        /// Table name.
        table: String,
        /// The new constraint.
        check: Check,
    },
    /// Drop a CHECK constraint.
    DropCheck {
        /// Table name.
        table: String,
        /// The constraint as it was.
        check: Check,
    },
    /// Change storage options (SQLite WITHOUT ROWID, STRICT).
    SetTableOptions {
        /// Table name.
        table: String,
        /// Options as they were.
        from: TableOptions,
        /// Options as desired.
        to: TableOptions,
    },
    /// Create an index.
    AddIndex {
        /// Table name.
        table: String,
        /// The new index.
        index: Index,
    },
    /// Drop an index.
    DropIndex {
        /// Table name.
        table: String,
        /// The index as it was.
        index: Index,
    },
    /// Rename an index (from a rename hint).
    RenameIndex {
        /// Table name.
        table: String,
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// Create a view.
    CreateView {
        /// The view as desired.
        view: View,
    },
    /// Drop a view.
    DropView {
        /// The view as it was.
        view: View,
    },
    /// Create a trigger.
    CreateTrigger {
        /// The trigger as desired.
        trigger: Trigger,
    },
    /// Drop a trigger.
    DropTrigger {
        /// The trigger as it was.
        trigger: Trigger,
    },
    /// Create a virtual table (and build its index from its content, for external-content FTS5).
    CreateVirtualTable {
        /// The virtual table as desired.
        table: VirtualTable,
    },
    /// Drop a virtual table and whatever content it stores itself.
    DropVirtualTable {
        /// The virtual table as it was.
        table: VirtualTable,
    },
}

impl Change {
    /// The table this change alters in place, if it is a per-table alteration.
    ///
    /// Create, drop and rename of whole tables, and changes to views, triggers and
    /// virtual tables, return `None`.
    pub fn altered_table(&self) -> Option<&str> {
        match self {
            Change::AddColumn { table, .. }
            | Change::DropColumn { table, .. }
            | Change::RenameColumn { table, .. }
            | Change::AlterColumn { table, .. }
            | Change::ReorderColumns { table, .. }
            | Change::SetPrimaryKey { table, .. }
            | Change::AddForeignKey { table, .. }
            | Change::DropForeignKey { table, .. }
            | Change::AddUnique { table, .. }
            | Change::DropUnique { table, .. }
            | Change::AddCheck { table, .. }
            | Change::DropCheck { table, .. }
            | Change::SetTableOptions { table, .. }
            | Change::AddIndex { table, .. }
            | Change::DropIndex { table, .. }
            | Change::RenameIndex { table, .. } => Some(table),
            _ => None,
        }
    }

    /// A short human description, naming the object: `add column users.email`.
    pub fn describe(&self) -> String {
        match self {
            Change::CreateTable { table } => format!("create table {}", table.name),
            Change::DropTable { table } => format!("drop table {}", table.name),
            Change::RenameTable { from, to } => format!("rename table {from} to {to}"),
            Change::AddColumn { table, column } => format!("add column {table}.{}", column.name),
            Change::DropColumn { table, column } => {
                format!("drop column {table}.{}", column.name)
            }
            Change::RenameColumn { table, from, to } => {
                format!("rename column {table}.{from} to {to}")
            }
            Change::AlterColumn { table, from, to } => {
                format!(
                    "alter column {table}.{} ({})",
                    to.name,
                    column_delta(from, to)
                )
            }
            Change::ReorderColumns { table, .. } => format!("reorder columns of {table}"),
            Change::SetPrimaryKey { table, to, .. } => match to {
                Some(pk) => format!("set primary key of {table} to ({})", pk.columns.join(", ")),
                None => format!("drop primary key of {table}"),
            },
            Change::AddForeignKey { table, foreign_key } => format!(
                "add foreign key {table}({}) -> {}",
                foreign_key.columns.join(", "),
                foreign_key.referenced_table
            ),
            Change::DropForeignKey { table, foreign_key } => format!(
                "drop foreign key {table}({}) -> {}",
                foreign_key.columns.join(", "),
                foreign_key.referenced_table
            ),
            Change::AddUnique { table, unique } => {
                format!("add unique {table}({})", unique.columns.join(", "))
            }
            Change::DropUnique { table, unique } => {
                format!("drop unique {table}({})", unique.columns.join(", "))
            }
            Change::AddCheck { table, check } => {
                format!("add check on {table}: {}", check.expression)
            }
            Change::DropCheck { table, check } => {
                format!("drop check on {table}: {}", check.expression)
            }
            Change::SetTableOptions { table, to, .. } => format!(
                "set options of {table} (without_rowid={}, strict={})",
                to.without_rowid, to.strict
            ),
            Change::AddIndex { table, index } => format!("add index {} on {table}", index.name),
            Change::DropIndex { table, index } => format!("drop index {} on {table}", index.name),
            Change::RenameIndex { from, to, .. } => format!("rename index {from} to {to}"),
            Change::CreateView { view } => format!("create view {}", view.name),
            Change::DropView { view } => format!("drop view {}", view.name),
            Change::CreateTrigger { trigger } => format!("create trigger {}", trigger.name),
            Change::DropTrigger { trigger } => format!("drop trigger {}", trigger.name),
            Change::CreateVirtualTable { table } => {
                format!("create virtual table {} ({})", table.name, table.module)
            }
            Change::DropVirtualTable { table } => format!("drop virtual table {}", table.name),
        }
    }

    /// The change that undoes this one.
    pub fn reverse(&self) -> Change {
        match self.clone() {
            Change::CreateTable { table } => Change::DropTable { table },
            Change::DropTable { table } => Change::CreateTable { table },
            Change::RenameTable { from, to } => Change::RenameTable { from: to, to: from },
            Change::AddColumn { table, column } => Change::DropColumn { table, column },
            Change::DropColumn { table, column } => Change::AddColumn { table, column },
            Change::RenameColumn { table, from, to } => Change::RenameColumn {
                table,
                from: to,
                to: from,
            },
            Change::AlterColumn { table, from, to } => Change::AlterColumn {
                table,
                from: to,
                to: from,
            },
            Change::ReorderColumns { table, from, to } => Change::ReorderColumns {
                table,
                from: to,
                to: from,
            },
            Change::SetPrimaryKey { table, from, to } => Change::SetPrimaryKey {
                table,
                from: to,
                to: from,
            },
            Change::AddForeignKey { table, foreign_key } => {
                Change::DropForeignKey { table, foreign_key }
            }
            Change::DropForeignKey { table, foreign_key } => {
                Change::AddForeignKey { table, foreign_key }
            }
            Change::AddUnique { table, unique } => Change::DropUnique { table, unique },
            Change::DropUnique { table, unique } => Change::AddUnique { table, unique },
            Change::AddCheck { table, check } => Change::DropCheck { table, check },
            Change::DropCheck { table, check } => Change::AddCheck { table, check },
            Change::SetTableOptions { table, from, to } => Change::SetTableOptions {
                table,
                from: to,
                to: from,
            },
            Change::AddIndex { table, index } => Change::DropIndex { table, index },
            Change::DropIndex { table, index } => Change::AddIndex { table, index },
            Change::RenameIndex { table, from, to } => Change::RenameIndex {
                table,
                from: to,
                to: from,
            },
            Change::CreateView { view } => Change::DropView { view },
            Change::DropView { view } => Change::CreateView { view },
            Change::CreateTrigger { trigger } => Change::DropTrigger { trigger },
            Change::DropTrigger { trigger } => Change::CreateTrigger { trigger },
            Change::CreateVirtualTable { table } => Change::DropVirtualTable { table },
            Change::DropVirtualTable { table } => Change::CreateVirtualTable { table },
        }
    }
}

/// Which aspects of a column differ, as words: `type TEXT -> INTEGER, not null`.
pub fn column_delta(from: &Column, to: &Column) -> String {
    let mut parts = Vec::new();
    if from.data_type != to.data_type {
        parts.push(format!("type {} -> {}", from.data_type, to.data_type));
    }
    if from.nullable != to.nullable {
        parts.push(if to.nullable { "nullable" } else { "not null" }.to_string());
    }
    if from.default != to.default {
        match &to.default {
            Some(default) => parts.push(format!("default {default}")),
            None => parts.push("drop default".to_string()),
        }
    }
    if from.collation != to.collation {
        parts.push(format!(
            "collate {}",
            to.collation.as_deref().unwrap_or("default")
        ));
    }
    if from.generated != to.generated {
        parts.push("generation".to_string());
    }
    if from.identity != to.identity {
        parts.push("identity".to_string());
    }
    if from.comment != to.comment {
        parts.push("comment".to_string());
    }
    parts.join(", ")
}
