//! Turns dialect-neutral changes into SQLite steps.
//!
//! Each altered table gets one of three treatments, chosen from all of its changes at once:
//! - **native**: `ALTER TABLE … ADD/DROP/RENAME COLUMN`, `CREATE/DROP INDEX`;
//! - **schema-only**: a change that touches no stored content (defaults, NOT NULL, CHECK,
//!   FOREIGN KEY) rewrites the table's entry in `sqlite_schema` (SQLite's documented
//!   "other schema changes" procedure), after the rows were checked against it;
//! - **rebuild**: one copy of the table per plan, following SQLite's 12-step procedure,
//!   keeping rowids, `sqlite_sequence`, indexes, and the views and triggers around it.
//!
//! The planner only writes SQL text; it never touches a database ([`crate::apply`] runs it).

use crate::ddl;
use crate::quote::{quote_ident, quote_literal};
use schemasync_core::sqltext::{lex, mentions, Token};
use schemasync_core::{
    diff, diff_recreating, Change, Column, DataCheck, Dialect, DiffOptions, Error, Hazard,
    HazardKind, Index, IndexPart, Plan, Result, Schema, Step, Table, VirtualTable,
};
use std::collections::BTreeMap;

/// Prefix of the scratch table a rebuild copies into.
pub(crate) const REBUILD_PREFIX: &str = "_schemasync_new_";

/// Marks the statement that rewrites a table's stored definition; [`crate::apply`] bumps
/// `schema_version` after it, as SQLite's procedure requires.
pub(crate) const SCHEMA_REWRITE_PREFIX: &str = "UPDATE sqlite_schema SET sql = ";

/// How one altered table is changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Treatment {
    Native,
    SchemaOnly,
    Rebuild,
}

/// The current and desired versions of one table that both exist.
struct TablePair<'a> {
    current: &'a Table,
    desired: &'a Table,
    treatment: Treatment,
}

impl TablePair<'_> {
    /// The current name of the desired column `name`, if the column already exists.
    fn source_column(&self, changes: &[Change], name: &str) -> Option<String> {
        let renamed_from = changes.iter().find_map(|c| match c {
            Change::RenameColumn {
                table, from, to, ..
            } if same(table, &self.desired.name) && same(to, name) => Some(from.clone()),
            _ => None,
        });
        match renamed_from {
            Some(from) => Some(from),
            None => self
                .current
                .columns
                .iter()
                .find(|c| same(&c.name, name))
                .map(|c| c.name.clone()),
        }
    }
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Plans the SQLite steps that turn `current` into `desired`.
pub(crate) fn plan(current: &Schema, desired: &Schema, options: &DiffOptions) -> Result<Plan> {
    let first = diff(current, desired, options);
    // SQLite has no row-level security: its introspection never reports any, so only a
    // hand-written model can ask for it.
    if let Some(table) = desired
        .tables
        .iter()
        .find(|t| t.row_security || t.force_row_security || !t.policies.is_empty())
    {
        return Err(Error::Unsupported(format!(
            "SQLite has no row-level security or policies (asked for on table {})",
            table.name
        )));
    }
    let pairs = pair_tables(current, desired, &first);
    // Tables whose views and triggers must be dropped around the change: rebuilt tables,
    // and tables losing a column natively (SQLite refuses DROP COLUMN a view reads).
    let mut sensitive = Vec::new();
    for pair in pairs.values() {
        // SQLite rewrites the text of views and triggers on a rename; recreating them
        // keeps their definitions exactly as desired.
        let renames_or_drops_column = first.iter().any(|c| {
            matches!(c, Change::DropColumn { table, .. } | Change::RenameColumn { table, .. }
                if same(table, &pair.desired.name))
        });
        let renamed = !same(&pair.current.name, &pair.desired.name);
        if pair.treatment == Treatment::Rebuild || renames_or_drops_column || renamed {
            sensitive.push(pair.desired.name.clone());
            sensitive.push(pair.current.name.clone());
        }
    }
    let changes = if sensitive.is_empty() {
        first
    } else {
        diff_recreating(current, desired, options, &sensitive)
    };

    let mut builder = StepBuilder {
        current,
        pairs: &pairs,
        changes: &changes,
        steps: Vec::new(),
        merged_emitted: false,
    };
    for change in &changes {
        builder.add(change)?;
    }
    builder.flush_merged()?;
    Ok(Plan {
        dialect: Dialect::Sqlite,
        changes: changes.clone(),
        steps: builder.steps,
    })
}

/// Pairs every kept table (keyed by lower-case desired name) and chooses its treatment.
fn pair_tables<'a>(
    current: &'a Schema,
    desired: &'a Schema,
    changes: &[Change],
) -> BTreeMap<String, TablePair<'a>> {
    let mut pairs = BTreeMap::new();
    for wanted in &desired.tables {
        let old_name = changes
            .iter()
            .find_map(|c| match c {
                Change::RenameTable { from, to, .. } if same(to, &wanted.name) => {
                    Some(from.as_str())
                }
                _ => None,
            })
            .unwrap_or(&wanted.name);
        let Some(existing) = current.tables.iter().find(|t| same(&t.name, old_name)) else {
            continue;
        };
        let table_changes: Vec<&Change> = changes
            .iter()
            .filter(|c| {
                c.altered_table()
                    .is_some_and(|t| same(t, &wanted.name) || same(t, &existing.name))
            })
            .collect();
        let treatment = choose_treatment(existing, wanted, &table_changes);
        pairs.insert(
            wanted.name.to_ascii_lowercase(),
            TablePair {
                current: existing,
                desired: wanted,
                treatment,
            },
        );
    }
    pairs
}

fn choose_treatment(current: &Table, desired: &Table, changes: &[&Change]) -> Treatment {
    let mut treatment = Treatment::Native;
    let mut drops_column = false;
    let dropped_columns = changes
        .iter()
        .filter(|c| matches!(c, Change::DropColumn { .. }))
        .count();
    // SQLite cannot drop a table's last column, even when others are added afterwards.
    if dropped_columns > 0 && dropped_columns >= current.columns.len() {
        return Treatment::Rebuild;
    }
    for change in changes {
        let needed = match change {
            Change::AddColumn { column, .. } => {
                if can_add_natively(column, desired) {
                    Treatment::Native
                } else {
                    Treatment::Rebuild
                }
            }
            Change::DropColumn { column, .. } => {
                drops_column = true;
                if can_drop_natively(&column.name, current) {
                    Treatment::Native
                } else {
                    Treatment::Rebuild
                }
            }
            Change::RenameColumn { .. }
            | Change::AddIndex { .. }
            | Change::DropIndex { .. }
            | Change::RenameIndex { .. } => Treatment::Native,
            Change::AlterColumn { from, to, .. } => {
                let only_constraints = Column {
                    default: to.default.clone(),
                    nullable: to.nullable,
                    comment: to.comment.clone(),
                    ..from.clone()
                } == *to;
                if only_constraints {
                    Treatment::SchemaOnly
                } else {
                    Treatment::Rebuild
                }
            }
            Change::AddCheck { .. }
            | Change::DropCheck { .. }
            | Change::AddForeignKey { .. }
            | Change::DropForeignKey { .. } => Treatment::SchemaOnly,
            _ => Treatment::Rebuild,
        };
        treatment = treatment.max(needed);
    }
    // Rewriting sqlite_schema is only safe when no automatic index's numbering depends on
    // the text, and it does not mix with a native DROP COLUMN.
    if treatment == Treatment::SchemaOnly && (has_automatic_index(current) || drops_column) {
        treatment = Treatment::Rebuild;
    }
    treatment
}

/// Whether SQLite keeps an automatic index (`sqlite_autoindex_*`) for this table.
fn has_automatic_index(table: &Table) -> bool {
    !table.uniques.is_empty()
        || table.options.without_rowid
        || (table.primary_key.is_some() && !has_rowid_alias(table))
}

/// Whether the table's primary key is an alias of the rowid (`INTEGER PRIMARY KEY`).
fn has_rowid_alias(table: &Table) -> bool {
    rowid_alias(table).is_some()
}

/// The column that aliases the rowid (`INTEGER PRIMARY KEY`), if any.
fn rowid_alias(table: &Table) -> Option<&str> {
    if table.options.without_rowid {
        return None;
    }
    match &table.primary_key {
        Some(pk) if pk.columns.len() == 1 => table
            .columns
            .iter()
            .find(|c| same(&c.name, &pk.columns[0]))
            .filter(|c| c.data_type.eq_ignore_ascii_case("INTEGER"))
            .map(|c| c.name.as_str()),
        _ => None,
    }
}

/// SQLite's restrictions on `ALTER TABLE ADD COLUMN`.
fn can_add_natively(column: &Column, table: &Table) -> bool {
    let in_key = table
        .primary_key
        .as_ref()
        .is_some_and(|pk| pk.columns.iter().any(|c| same(c, &column.name)))
        || table
            .uniques
            .iter()
            .any(|u| u.columns.iter().any(|c| same(c, &column.name)));
    let default_ok = match column.default.as_deref() {
        None => column.nullable,
        Some(default) => {
            is_literal(default) && (column.nullable || !default.trim().eq_ignore_ascii_case("NULL"))
        }
    };
    let generated_ok = column.generated.as_ref().is_none_or(|g| !g.stored);
    !in_key && default_ok && generated_ok
}

/// Whether a default is a literal, the only kind `ADD COLUMN` accepts: a string, blob or
/// (signed) number, NULL, TRUE or FALSE, possibly in parentheses. `(1+1)`, function calls
/// and `CURRENT_TIMESTAMP` are not.
fn is_literal(default: &str) -> bool {
    let mut text = default.trim();
    while let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        text = inner.trim();
    }
    let tokens: Vec<Token<'_>> = lex(text)
        .into_iter()
        .filter(|t| !matches!(t, Token::Space | Token::Comment(_)))
        .collect();
    match tokens.as_slice() {
        [Token::Literal(_)] => true,
        [Token::Word(w), Token::Literal(_)] => w.eq_ignore_ascii_case("x"),
        [Token::Word(w)]
            if ["NULL", "TRUE", "FALSE"]
                .iter()
                .any(|k| w.eq_ignore_ascii_case(k)) =>
        {
            true
        }
        _ => {
            let number = text.strip_prefix(['-', '+']).unwrap_or(text);
            !number.is_empty()
                && number.parse::<f64>().is_ok()
                && !number.contains(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        }
    }
}

/// SQLite's restrictions on `ALTER TABLE DROP COLUMN` that the table itself imposes.
fn can_drop_natively(column: &str, table: &Table) -> bool {
    let in_key = table
        .primary_key
        .as_ref()
        .is_some_and(|pk| pk.columns.iter().any(|c| same(c, column)))
        || table
            .uniques
            .iter()
            .any(|u| u.columns.iter().any(|c| same(c, column)))
        || table
            .foreign_keys
            .iter()
            .any(|fk| fk.columns.iter().any(|c| same(c, column)));
    let mentioned = table
        .checks
        .iter()
        .any(|c| mentions(&c.expression, column, true))
        || table.columns.iter().any(|c| {
            c.generated
                .as_ref()
                .is_some_and(|g| mentions(&g.expression, column, true))
        });
    !in_key && !mentioned
}

/// Whether a change alters the table definition itself (as opposed to its indexes).
fn is_table_definition_change(change: &Change) -> bool {
    change.altered_table().is_some()
        && !matches!(
            change,
            Change::AddIndex { .. } | Change::DropIndex { .. } | Change::RenameIndex { .. }
        )
}

struct StepBuilder<'a> {
    current: &'a Schema,
    pairs: &'a BTreeMap<String, TablePair<'a>>,
    changes: &'a [Change],
    steps: Vec<Step>,
    merged_emitted: bool,
}

impl StepBuilder<'_> {
    /// The kept table a per-table change belongs to (by its current or desired name).
    fn pair_of(&self, table: &str) -> Option<&TablePair<'_>> {
        self.pairs
            .values()
            .find(|p| same(&p.desired.name, table) || same(&p.current.name, table))
    }

    fn add(&mut self, change: &Change) -> Result<()> {
        if let Some(table) = change.altered_table() {
            if let Some(pair) = self.pair_of(table) {
                let treatment = pair.treatment;
                let merged_kind = is_table_definition_change(change);
                let is_removal = matches!(
                    change,
                    Change::DropIndex { .. }
                        | Change::DropForeignKey { .. }
                        | Change::DropUnique { .. }
                        | Change::DropCheck { .. }
                );
                if !is_removal {
                    self.flush_merged()?;
                }
                match treatment {
                    // A rebuild recreates the table with every index: nothing else to do.
                    Treatment::Rebuild => return Ok(()),
                    Treatment::SchemaOnly if merged_kind => return Ok(()),
                    _ => {}
                }
            } else if !matches!(change, Change::DropIndex { .. }) {
                self.flush_merged()?;
            }
        } else if !matches!(
            change,
            Change::DropTrigger { .. }
                | Change::DropView { .. }
                | Change::DropVirtualTable { .. }
                | Change::RenameTable { .. }
                | Change::CreateTable { .. }
        ) {
            self.flush_merged()?;
        }
        let step = self.native_step(change)?;
        self.steps.push(step);
        Ok(())
    }

    /// Emits the schema-only rewrites and rebuilds, once, after renames and creates.
    fn flush_merged(&mut self) -> Result<()> {
        if self.merged_emitted {
            return Ok(());
        }
        self.merged_emitted = true;
        let mut order: Vec<&TablePair<'_>> = self
            .pairs
            .values()
            .filter(|p| p.treatment != Treatment::Native)
            .collect();
        let position = |p: &TablePair<'_>| {
            self.changes
                .iter()
                .position(|c| {
                    c.altered_table()
                        .is_some_and(|t| same(t, &p.desired.name) || same(t, &p.current.name))
                })
                .unwrap_or(usize::MAX)
        };
        order.sort_by_key(|p| position(p));
        for pair in order {
            let step = match pair.treatment {
                Treatment::Rebuild => self.rebuild_step(pair),
                _ => self.schema_only_step(pair)?,
            };
            self.steps.push(step);
        }
        Ok(())
    }

    fn table_changes(&self, pair: &TablePair<'_>) -> Vec<&Change> {
        self.changes
            .iter()
            .filter(|c| {
                c.altered_table()
                    .is_some_and(|t| same(t, &pair.desired.name) || same(t, &pair.current.name))
            })
            .collect()
    }

    fn rebuild_step(&self, pair: &TablePair<'_>) -> Step {
        let desired = pair.desired;
        let name = &desired.name;
        let scratch = format!("{REBUILD_PREFIX}{name}");
        let reasons: Vec<String> = self
            .table_changes(pair)
            .iter()
            .map(|c| c.describe())
            .collect();
        let mut sql = vec![ddl::create_table(desired, &scratch)];

        let mut targets = Vec::new();
        let mut sources = Vec::new();
        for column in desired.columns.iter().filter(|c| c.generated.is_none()) {
            if let Some(source) = pair.source_column(self.changes, &column.name) {
                let source_is_generated = pair
                    .current
                    .columns
                    .iter()
                    .any(|c| c.name == source && c.generated.is_some());
                if !source_is_generated {
                    targets.push(quote_ident(&column.name));
                    sources.push(quote_ident(&source));
                }
            }
        }
        // Rowids survive the copy (FTS5 external content and other stored rowids rely on
        // them): into the new rowid alias when it is a new column, else into the rowid.
        if !pair.current.options.without_rowid && !desired.options.without_rowid {
            match rowid_alias(desired) {
                Some(alias) if pair.source_column(self.changes, alias).is_some() => {}
                Some(alias) => {
                    targets.insert(0, quote_ident(alias));
                    sources.insert(0, "rowid".to_string());
                }
                None => {
                    targets.insert(0, "rowid".to_string());
                    sources.insert(0, "rowid".to_string());
                }
            }
        }
        if targets.is_empty() {
            // Nothing is kept (a WITHOUT ROWID table whose every column is replaced): the
            // rows still are, holding the new defaults.
            if let Some(column) = desired.columns.iter().find(|c| c.generated.is_none()) {
                targets.push(quote_ident(&column.name));
                sources.push(
                    column
                        .default
                        .clone()
                        .map_or_else(|| "NULL".to_string(), |d| format!("({d})")),
                );
            }
        }
        sql.push(format!(
            "INSERT INTO {} ({}) SELECT {} FROM {}",
            quote_ident(&scratch),
            targets.join(", "),
            sources.join(", "),
            quote_ident(name)
        ));
        let autoincrement = |t: &Table| t.primary_key.as_ref().is_some_and(|pk| pk.autoincrement);
        if autoincrement(pair.current) && autoincrement(desired) {
            // Keep the AUTOINCREMENT high-water mark, which may exceed the largest id.
            let (old, new) = (quote_literal(name), quote_literal(&scratch));
            sql.push(format!(
                "INSERT INTO sqlite_sequence (name, seq) SELECT {new}, seq FROM sqlite_sequence WHERE name = {old} AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = {new})"
            ));
            sql.push(format!(
                "UPDATE sqlite_sequence SET seq = max(seq, (SELECT seq FROM sqlite_sequence WHERE name = {old})) WHERE name = {new} AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = {old})"
            ));
        }
        sql.push(format!("DROP TABLE {}", quote_ident(name)));
        sql.push(format!(
            "ALTER TABLE {} RENAME TO {}",
            quote_ident(&scratch),
            quote_ident(name)
        ));
        for index in &desired.indexes {
            sql.push(ddl::create_index(name, index));
        }

        let mut step = Step::new(
            format!("rebuild table {name} ({})", reasons.join("; ")),
            sql,
        )
        .with_hazard(Hazard::new(
            HazardKind::TableRewrite,
            name.clone(),
            format!("copies every row of {name} into a new table while holding the write lock"),
        ));
        step.lock = Some("database write lock (BEGIN IMMEDIATE)".to_string());
        for change in self.table_changes(pair) {
            step.hazards.extend(change_hazards(change));
            step.checks.extend(self.data_checks(change, pair));
        }
        step.checks.extend(self.uniqueness_checks(pair));
        step
    }

    fn schema_only_step(&self, pair: &TablePair<'_>) -> Result<Step> {
        let desired = pair.desired;
        let name = &desired.name;
        let mut sql = Vec::new();
        let mut reasons = Vec::new();
        let mut hazards = Vec::new();
        let mut checks = Vec::new();
        for change in self
            .table_changes(pair)
            .into_iter()
            .filter(|c| is_table_definition_change(c))
        {
            reasons.push(change.describe());
            hazards.extend(change_hazards(change));
            checks.extend(self.data_checks(change, pair));
            // Column additions and renames run natively first; the rewrite then carries
            // the final definition.
            if matches!(
                change,
                Change::AddColumn { .. } | Change::RenameColumn { .. }
            ) {
                sql.extend(native_sql(change)?);
            }
        }
        sql.push("PRAGMA writable_schema = ON".to_string());
        sql.push(format!(
            "{SCHEMA_REWRITE_PREFIX}{} WHERE type = 'table' AND name = {}",
            quote_literal(&ddl::create_table(desired, name)),
            quote_literal(name)
        ));
        sql.push("PRAGMA writable_schema = OFF".to_string());
        let mut step = Step::new(
            format!(
                "change constraints of {name} without copying it ({})",
                reasons.join("; ")
            ),
            sql,
        );
        step.hazards = hazards;
        step.checks = checks;
        step.lock = Some("database write lock (BEGIN IMMEDIATE)".to_string());
        Ok(step)
    }

    fn native_step(&self, change: &Change) -> Result<Step> {
        let mut step = Step::new(change.describe(), native_sql(change)?);
        step.hazards = change_hazards(change);
        if let Change::AddIndex { table, index, .. } = change {
            if let Some(pair) = self.pair_of(table) {
                step.hazards.push(Hazard::new(
                    HazardKind::IndexBuild,
                    format!("{table}.{}", index.name),
                    format!(
                        "builds index {} over the existing rows of {table}",
                        index.name
                    ),
                ));
                step.checks.extend(self.data_checks(change, pair));
            }
        }
        if let Change::RenameIndex { table, to, .. } = change {
            if let Some(pair) = self.pair_of(table) {
                if let Some(index) = pair.desired.indexes.iter().find(|i| same(&i.name, to)) {
                    step.sql.push(ddl::create_index(table, index));
                    step.hazards.push(Hazard::new(
                        HazardKind::IndexBuild,
                        format!("{table}.{to}"),
                        "SQLite cannot rename an index: it is dropped and built again under the new name",
                    ));
                }
            }
        }
        Ok(step)
    }

    /// Checks against the current rows for a change that existing data could violate.
    fn data_checks(&self, change: &Change, pair: &TablePair<'_>) -> Vec<DataCheck> {
        let table = quote_ident(&pair.current.name);
        let key = key_expression(pair.current);
        let name = &pair.desired.name;
        match change {
            Change::AlterColumn { from, to, .. } if from.nullable && !to.nullable => {
                let Some(column) = pair.source_column(self.changes, &to.name) else {
                    return Vec::new();
                };
                vec![DataCheck {
                    description: format!("add NOT NULL to {name}.{}", to.name),
                    remedy: "backfill them or give a default first".to_string(),
                    violations_sql: format!(
                        "SELECT {key} FROM {table} WHERE {} IS NULL",
                        quote_ident(&column)
                    ),
                }]
            }
            Change::AddColumn { column, .. }
                if !column.nullable && column.default.is_none() && column.generated.is_none() =>
            {
                vec![DataCheck {
                    description: format!(
                        "add NOT NULL column {name}.{} without a default",
                        column.name
                    ),
                    remedy: "give the column a DEFAULT, or add it nullable and backfill it"
                        .to_string(),
                    violations_sql: format!("SELECT {key} FROM {table}"),
                }]
            }
            Change::AddIndex { index, .. } if index.unique => self
                .duplicates_check(
                    pair,
                    &UniqueKey::of_index(index),
                    &format!("create unique index {} on {name}", index.name),
                )
                .into_iter()
                .collect(),
            // A check that reads a column this plan adds cannot be evaluated beforehand;
            // SQLite checks it during the copy or the quick_check after the rewrite.
            Change::AddCheck { check, .. }
                if !pair.desired.columns.iter().any(|c| {
                    pair.source_column(self.changes, &c.name).is_none()
                        && mentions(&check.expression, &c.name, true)
                }) =>
            {
                vec![DataCheck {
                    description: format!("add CHECK ({}) to {name}", check.expression),
                    remedy: "fix those rows first".to_string(),
                    violations_sql: format!(
                        "SELECT {key} FROM {table} WHERE NOT ({})",
                        check.expression
                    ),
                }]
            }
            Change::AddForeignKey { foreign_key, .. } => {
                // What each key column holds after the change: the current column, or
                // the default a new column gets (a generated one cannot be told here).
                let Some(values) = foreign_key
                    .columns
                    .iter()
                    .map(|c| match pair.source_column(self.changes, c) {
                        Some(source) => Some(format!("c.{}", quote_ident(&source))),
                        None => {
                            let column = pair.desired.columns.iter().find(|d| same(&d.name, c))?;
                            match (&column.generated, &column.default) {
                                (Some(_), _) => None,
                                (None, Some(default)) => Some(format!("({default})")),
                                (None, None) => Some("NULL".to_string()),
                            }
                        }
                    })
                    .collect::<Option<Vec<String>>>()
                else {
                    return Vec::new();
                };
                let not_null = values
                    .iter()
                    .map(|v| format!("{v} IS NOT NULL"))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                let parent = self
                    .pairs
                    .values()
                    .find(|p| same(&p.desired.name, &foreign_key.referenced_table))
                    .map(|p| p.current)
                    .or_else(|| {
                        self.current
                            .tables
                            .iter()
                            .find(|t| same(&t.name, &foreign_key.referenced_table))
                    });
                let violations_sql = match parent {
                    None => format!(
                        "SELECT {} FROM {table} AS c WHERE {not_null}",
                        prefixed(&key)
                    ),
                    Some(parent) => {
                        let referenced = if foreign_key.referenced_columns.is_empty() {
                            parent
                                .primary_key
                                .as_ref()
                                .map(|pk| pk.columns.clone())
                                .unwrap_or_default()
                        } else {
                            foreign_key.referenced_columns.clone()
                        };
                        let joined = values
                            .iter()
                            .zip(&referenced)
                            .map(|(v, p)| format!("p.{} = {v}", quote_ident(p)))
                            .collect::<Vec<_>>()
                            .join(" AND ");
                        format!(
                            "SELECT {} FROM {table} AS c WHERE {not_null} AND NOT EXISTS (SELECT 1 FROM {} AS p WHERE {joined})",
                            prefixed(&key),
                            quote_ident(&parent.name)
                        )
                    }
                };
                vec![DataCheck {
                    description: format!(
                        "add FOREIGN KEY ({}) REFERENCES {} to {name}",
                        foreign_key.columns.join(", "),
                        foreign_key.referenced_table
                    ),
                    remedy: "delete or fix the rows that reference nothing first".to_string(),
                    violations_sql,
                }]
            }
            _ => Vec::new(),
        }
    }

    /// Checks for every uniqueness rule of a rebuilt table that the rebuild could break:
    /// those that are new, and those whose key columns are added or altered (a collation
    /// or type change can make distinct values equal).
    fn uniqueness_checks(&self, pair: &TablePair<'_>) -> Vec<DataCheck> {
        let desired = pair.desired;
        let changed_column = |column: &str| {
            self.table_changes(pair).iter().any(|c| match c {
                Change::AddColumn { column: added, .. } => same(&added.name, column),
                Change::AlterColumn { from, to, .. } => {
                    same(&to.name, column)
                        && (from.data_type != to.data_type || from.collation != to.collation)
                }
                _ => false,
            })
        };
        let mut keys: Vec<(UniqueKey, String)> = Vec::new();
        if let Some(pk) = &desired.primary_key {
            let existed = pair
                .current
                .primary_key
                .as_ref()
                .is_some_and(|old| same_columns(&old.columns, &pk.columns));
            let is_rowid = has_rowid_alias(desired)
                && rowid_alias(pair.current).is_some_and(|old| {
                    pair.source_column(self.changes, &pk.columns[0])
                        .is_some_and(|s| same(&s, old))
                });
            if (!existed || pk.columns.iter().any(|c| changed_column(c))) && !is_rowid {
                keys.push((
                    UniqueKey::of_columns(&pk.columns),
                    format!(
                        "make ({}) the primary key of {}",
                        pk.columns.join(", "),
                        desired.name
                    ),
                ));
            }
        }
        for unique in &desired.uniques {
            let existed = pair
                .current
                .uniques
                .iter()
                .any(|old| same_columns(&old.columns, &unique.columns));
            if !existed || unique.columns.iter().any(|c| changed_column(c)) {
                keys.push((
                    UniqueKey::of_columns(&unique.columns),
                    format!(
                        "add UNIQUE ({}) to {}",
                        unique.columns.join(", "),
                        desired.name
                    ),
                ));
            }
        }
        for index in desired.indexes.iter().filter(|i| i.unique) {
            let existed = pair.current.indexes.iter().any(|old| {
                same(&old.name, &index.name)
                    && old.parts == index.parts
                    && old.predicate == index.predicate
            });
            let touches_changed = index
                .parts
                .iter()
                .filter_map(|p| p.column.as_deref())
                .any(changed_column);
            if !existed || touches_changed {
                keys.push((
                    UniqueKey::of_index(index),
                    format!("create unique index {} on {}", index.name, desired.name),
                ));
            }
        }
        keys.iter()
            .filter_map(|(key, description)| self.duplicates_check(pair, key, description))
            .collect()
    }

    /// Lists the rows whose key, evaluated as it will be after the change, is shared
    /// with another row (NULLs never collide, as in SQLite's UNIQUE).
    fn duplicates_check(
        &self,
        pair: &TablePair<'_>,
        key: &UniqueKey,
        description: &str,
    ) -> Option<DataCheck> {
        let values = key
            .parts
            .iter()
            .map(|part| self.value_after_change(pair, part))
            .collect::<Option<Vec<String>>>()?;
        let mut conditions: Vec<String> = values
            .iter()
            .map(|v| format!("({v}) IS NOT NULL"))
            .collect();
        if let Some(predicate) = &key.predicate {
            conditions.push(format!("({predicate})"));
        }
        let table = quote_ident(&pair.current.name);
        let row = if values.len() == 1 {
            values[0].clone()
        } else {
            format!("({})", values.join(", "))
        };
        // Group by aliases: a constant key (a new column's default) written directly in
        // GROUP BY would be read as a column position.
        let aliases: Vec<String> = (0..values.len()).map(|i| format!("k{i}")).collect();
        let selected = values
            .iter()
            .zip(&aliases)
            .map(|(value, alias)| format!("{value} AS {alias}"))
            .collect::<Vec<_>>()
            .join(", ");
        Some(DataCheck {
            description: description.to_string(),
            remedy: "remove the duplicates first".to_string(),
            violations_sql: format!(
                "SELECT {key} FROM {table} WHERE {where_} AND {row} IN (SELECT {selected} FROM {table} WHERE {where_} GROUP BY {grouped} HAVING count(*) > 1)",
                key = key_expression(pair.current),
                where_ = conditions.join(" AND "),
                grouped = aliases.join(", "),
            ),
        })
    }

    /// SQL that computes, from a current row, what one key part will hold after the
    /// change, with the collation the new key compares under.
    fn value_after_change(&self, pair: &TablePair<'_>, part: &IndexPart) -> Option<String> {
        let (value, column) = match (&part.column, &part.expression) {
            (Some(name), _) => {
                let column = pair.desired.columns.iter().find(|c| same(&c.name, name))?;
                let value = match pair.source_column(self.changes, name) {
                    Some(source) => quote_ident(&source),
                    None => match (&column.generated, &column.default) {
                        (Some(generated), _) => format!("({})", generated.expression),
                        (None, Some(default)) => format!("({default})"),
                        (None, None) => "NULL".to_string(),
                    },
                };
                (value, Some(column))
            }
            (None, Some(expression)) => (format!("({expression})"), None),
            (None, None) => return None,
        };
        let collation = part
            .collation
            .as_ref()
            .or_else(|| column.and_then(|c| c.collation.as_ref()));
        Some(match collation {
            Some(collation) => format!("{value} COLLATE {}", quote_ident(collation)),
            None => value,
        })
    }
}

/// A uniqueness rule to check: its key parts and, for a partial index, its predicate.
struct UniqueKey {
    parts: Vec<IndexPart>,
    predicate: Option<String>,
}

impl UniqueKey {
    fn of_columns(columns: &[String]) -> Self {
        UniqueKey {
            parts: columns.iter().map(IndexPart::column).collect(),
            predicate: None,
        }
    }

    fn of_index(index: &Index) -> Self {
        UniqueKey {
            parts: index.parts.clone(),
            predicate: index.predicate.clone(),
        }
    }
}

fn same_columns(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
}

/// An SQL expression naming a row of `table` for error messages: `id=4` or `rowid=9`.
fn key_expression(table: &Table) -> String {
    match &table.primary_key {
        Some(pk) if !pk.columns.is_empty() => pk
            .columns
            .iter()
            .map(|c| format!("{} || '=' || quote({})", quote_literal(c), quote_ident(c)))
            .collect::<Vec<_>>()
            .join(" || ', ' || "),
        _ if table.options.without_rowid => "'?'".to_string(),
        _ => "'rowid=' || rowid".to_string(),
    }
}

/// Qualifies the column references of a key expression with the alias `c`.
fn prefixed(key: &str) -> String {
    let mut out = String::new();
    for token in lex(key) {
        match token {
            Token::QuotedIdent(name) => {
                out.push_str("c.");
                out.push_str(&quote_ident(&name));
            }
            Token::Word(word) if word.eq_ignore_ascii_case("rowid") => out.push_str("c.rowid"),
            Token::Word(word)
            | Token::Literal(word)
            | Token::Other(word)
            | Token::Comment(word) => out.push_str(word),
            Token::Space => out.push(' '),
        }
    }
    out
}

/// The hazards a change carries whatever its treatment.
fn change_hazards(change: &Change) -> Vec<Hazard> {
    match change {
        Change::DropTable { table } => vec![Hazard::new(
            HazardKind::DataLoss,
            table.name.clone(),
            format!("drops table {} and every row in it", table.name),
        )],
        Change::DropColumn { table, column, .. } => vec![Hazard::new(
            HazardKind::DataLoss,
            format!("{table}.{}", column.name),
            format!("drops column {table}.{} and its values", column.name),
        )],
        Change::DropVirtualTable { table } if stores_content(table) => vec![Hazard::new(
            HazardKind::DataLoss,
            table.name.clone(),
            format!(
                "drops virtual table {} and the content it stores",
                table.name
            ),
        )],
        Change::AlterColumn {
            table, from, to, ..
        } if !to.nullable && from.nullable => {
            vec![Hazard::new(
                HazardKind::Validation,
                format!("{table}.{}", to.name),
                format!("fails if {table}.{} holds NULLs", to.name),
            )]
        }
        Change::AddColumn { table, column, .. }
            if !column.nullable && column.default.is_none() && column.generated.is_none() =>
        {
            vec![Hazard::new(
                HazardKind::Validation,
                format!("{table}.{}", column.name),
                format!(
                    "fails if {table} has rows: the NOT NULL column {} has no default",
                    column.name
                ),
            )]
        }
        Change::AddUnique { table, unique, .. } => vec![Hazard::new(
            HazardKind::Validation,
            format!("{table}({})", unique.columns.join(", ")),
            format!(
                "fails if {table} holds duplicates of ({})",
                unique.columns.join(", ")
            ),
        )],
        Change::SetPrimaryKey {
            table,
            to: Some(key),
            ..
        } => vec![Hazard::new(
            HazardKind::Validation,
            format!("{table}({})", key.columns.join(", ")),
            format!(
                "fails if {table} holds duplicates of ({})",
                key.columns.join(", ")
            ),
        )],
        Change::AddIndex { table, index, .. } if index.unique => vec![Hazard::new(
            HazardKind::Validation,
            format!("{table}.{}", index.name),
            format!(
                "fails if {table} holds duplicates for unique index {}",
                index.name
            ),
        )],
        Change::AddCheck { table, check, .. } => vec![Hazard::new(
            HazardKind::Validation,
            table.clone(),
            format!(
                "fails if rows of {table} violate CHECK ({})",
                check.expression
            ),
        )],
        Change::AddForeignKey {
            table, foreign_key, ..
        } => vec![Hazard::new(
            HazardKind::Validation,
            format!("{table}({})", foreign_key.columns.join(", ")),
            format!(
                "fails if rows of {table} reference missing rows of {}",
                foreign_key.referenced_table
            ),
        )],
        _ => Vec::new(),
    }
}

/// Whether dropping this virtual table loses data it stores itself (FTS5 without
/// external content, or any other module).
fn stores_content(table: &VirtualTable) -> bool {
    external_content(table).is_none() && !is_contentless(table)
}

/// The content table of an external-content FTS5 table.
fn external_content(table: &VirtualTable) -> Option<String> {
    if table.module != "fts5" {
        return None;
    }
    option_value(&table.arguments, "content").filter(|v| !v.is_empty())
}

fn is_contentless(table: &VirtualTable) -> bool {
    table.module == "fts5"
        && option_value(&table.arguments, "content").is_some_and(|v| v.is_empty())
}

/// The value of `key = value` among FTS5 module arguments.
fn option_value(arguments: &str, key: &str) -> Option<String> {
    let tokens: Vec<Token<'_>> = lex(arguments)
        .into_iter()
        .filter(|t| !matches!(t, Token::Space | Token::Comment(_)))
        .collect();
    tokens.windows(3).find_map(|w| match (&w[0], &w[1], &w[2]) {
        (Token::Word(k), Token::Other("="), value) if k.eq_ignore_ascii_case(key) => match value {
            Token::Literal(text) => {
                Some(text[1..text.len().saturating_sub(1).max(1)].replace("''", "'"))
            }
            Token::Word(text) => Some((*text).to_string()),
            Token::QuotedIdent(text) => Some(text.clone()),
            _ => None,
        },
        _ => None,
    })
}

/// The SQL of a change that SQLite can make directly.
fn native_sql(change: &Change) -> Result<Vec<String>> {
    Ok(match change {
        Change::CreateTable { table } => vec![ddl::create_table(table, &table.name)],
        Change::DropTable { table } => vec![format!("DROP TABLE {}", quote_ident(&table.name))],
        Change::RenameTable { from, to, .. } => vec![format!(
            "ALTER TABLE {} RENAME TO {}",
            quote_ident(from),
            quote_ident(to)
        )],
        Change::AddColumn { table, column, .. } => vec![format!(
            "ALTER TABLE {} ADD COLUMN {}",
            quote_ident(table),
            ddl::column_definition(column, None)
        )],
        Change::DropColumn { table, column, .. } => vec![format!(
            "ALTER TABLE {} DROP COLUMN {}",
            quote_ident(table),
            quote_ident(&column.name)
        )],
        Change::RenameColumn {
            table, from, to, ..
        } => vec![format!(
            "ALTER TABLE {} RENAME COLUMN {} TO {}",
            quote_ident(table),
            quote_ident(from),
            quote_ident(to)
        )],
        Change::AddIndex { table, index, .. } => vec![ddl::create_index(table, index)],
        Change::DropIndex { index, .. } => {
            vec![format!("DROP INDEX IF EXISTS {}", quote_ident(&index.name))]
        }
        Change::RenameIndex { from, .. } => vec![format!("DROP INDEX {}", quote_ident(from))],
        Change::CreateView { view } => vec![ddl::create_view(view)],
        Change::DropView { view } => {
            vec![format!("DROP VIEW IF EXISTS {}", quote_ident(&view.name))]
        }
        Change::CreateTrigger { trigger } => vec![trigger.definition.clone()],
        Change::DropTrigger { trigger } => {
            vec![format!(
                "DROP TRIGGER IF EXISTS {}",
                quote_ident(&trigger.name)
            )]
        }
        Change::CreateVirtualTable { table } => {
            let mut sql = vec![ddl::create_virtual_table(table)];
            if external_content(table).is_some() {
                // Build the full-text index from the rows already in the content table.
                sql.push(format!(
                    "INSERT INTO {0} ({0}) VALUES ('rebuild')",
                    quote_ident(&table.name)
                ));
            }
            sql
        }
        Change::DropVirtualTable { table } => {
            vec![format!("DROP TABLE {}", quote_ident(&table.name))]
        }
        other => {
            return Err(Error::Unsupported(format!(
                "SQLite cannot {} with ALTER TABLE; it needs a table rebuild",
                other.describe()
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::is_literal;

    #[test]
    fn only_literal_defaults_count_as_constant_for_add_column() {
        for constant in [
            "0", "-1", "+2.5", "1e3", "'x'", "('')", "NULL", "x'00'", "(-1)", "TRUE",
        ] {
            assert!(is_literal(constant), "{constant}");
        }
        for computed in [
            "(1+1)",
            "CURRENT_TIMESTAMP",
            "datetime('now')",
            "(lower('A'))",
            "inf",
            "nan",
        ] {
            assert!(!is_literal(computed), "{computed}");
        }
    }
}
