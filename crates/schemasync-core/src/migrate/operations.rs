//! [`apply_changes`]: the schema after a list of dialect-neutral operations.
//!
//! The migrator never turns an operation into SQL itself: it computes the schema the
//! operations lead to and lets the driver plan from the live schema to that one (so
//! SQLite gets rebuilds). Renames set `renamed_from` hints, so the diff emits renames
//! instead of drop-and-create.

use crate::catalog::rename_object;
use crate::change::{Change, Commented};
use crate::error::{Error, Result};
use crate::model::{Policy, Schema, Table};

/// The schema that results from applying `changes`, in order, to `schema`.
///
/// Names are matched exactly, else ignoring ASCII case. An operation on an object that
/// is not there (or that creates one that already is) is an error naming the object.
///
/// ```
/// use schemasync_core::migrate::apply_changes;
/// use schemasync_core::{Change, Column, Schema, Table};
/// let create = Change::CreateTable { table: Table::new("users") };
/// let add = Change::AddColumn { schema: None, table: "users".into(), column: Column::new("email", "TEXT") };
/// let after = apply_changes(&Schema::default(), &[create, add])?;
/// assert!(after.table("users").and_then(|t| t.column("email")).is_some());
/// # Ok::<(), schemasync_core::Error>(())
/// ```
pub fn apply_changes(schema: &Schema, changes: &[Change]) -> Result<Schema> {
    let mut out = schema.clone();
    for change in changes {
        apply_one(&mut out, change, changes)?;
    }
    Ok(out)
}

fn missing(what: &str, name: &str, change: &Change) -> Error {
    Error::InvalidSchema(format!(
        "cannot {}: {what} {name} does not exist",
        change.describe()
    ))
}

fn exists(what: &str, name: &str, change: &Change) -> Error {
    Error::InvalidSchema(format!(
        "cannot {}: {what} {name} already exists",
        change.describe()
    ))
}

fn position<T>(items: &[T], name: &str, key: impl Fn(&T) -> &str) -> Option<usize> {
    items
        .iter()
        .position(|t| key(t) == name)
        .or_else(|| items.iter().position(|t| key(t).eq_ignore_ascii_case(name)))
}

/// The position of the table `name` in namespace `namespace`.
fn table_position(schema: &Schema, namespace: Option<&str>, name: &str) -> Option<usize> {
    let candidates: Vec<usize> = (0..schema.tables.len())
        .filter(|&i| schema.tables[i].schema.as_deref() == namespace)
        .collect();
    candidates
        .iter()
        .copied()
        .find(|&i| schema.tables[i].name == name)
        .or_else(|| {
            candidates
                .iter()
                .copied()
                .find(|&i| schema.tables[i].name.eq_ignore_ascii_case(name))
        })
}

/// The table an operation names; a diff may name a table by its new name before the
/// rename in the same list, so the other side of a rename in `all` is tried too.
fn table_mut<'a>(
    schema: &'a mut Schema,
    name: &str,
    change: &Change,
    all: &[Change],
) -> Result<&'a mut Table> {
    let namespace = change.altered_schema();
    let index = table_position(schema, namespace, name).or_else(|| {
        all.iter().find_map(|c| match c {
            Change::RenameTable { from, to, .. } if to.eq_ignore_ascii_case(name) => {
                table_position(schema, namespace, from)
            }
            Change::RenameTable { from, to, .. } if from.eq_ignore_ascii_case(name) => {
                table_position(schema, namespace, to)
            }
            _ => None,
        })
    });
    match index {
        Some(i) => Ok(&mut schema.tables[i]),
        None => Err(missing("table", name, change)),
    }
}

fn apply_one(schema: &mut Schema, change: &Change, all: &[Change]) -> Result<()> {
    match change {
        Change::CreateTable { table } => {
            if table_position(schema, table.schema.as_deref(), &table.name).is_some() {
                return Err(exists("table", &table.name, change));
            }
            schema.tables.push(table.clone());
        }
        Change::DropTable { table } => {
            let i = table_position(schema, table.schema.as_deref(), &table.name)
                .ok_or_else(|| missing("table", &table.name, change))?;
            schema.tables.remove(i);
        }
        Change::RenameTable {
            schema: namespace,
            from,
            to,
        } => {
            if table_position(schema, namespace.as_deref(), to).is_some()
                && !from.eq_ignore_ascii_case(to)
            {
                return Err(exists("table", to, change));
            }
            let i = table_position(schema, namespace.as_deref(), from)
                .ok_or_else(|| missing("table", from, change))?;
            let table = &mut schema.tables[i];
            table.renamed_from = Some(table.name.clone());
            table.name = to.clone();
        }
        Change::AddColumn { table, column, .. } => {
            let t = table_mut(schema, table, change, all)?;
            if position(&t.columns, &column.name, |c| &c.name).is_some() {
                return Err(exists(
                    "column",
                    &format!("{table}.{}", column.name),
                    change,
                ));
            }
            t.columns.push(column.clone());
        }
        Change::DropColumn { table, column, .. } => {
            let t = table_mut(schema, table, change, all)?;
            let i = position(&t.columns, &column.name, |c| &c.name)
                .ok_or_else(|| missing("column", &format!("{table}.{}", column.name), change))?;
            t.columns.remove(i);
        }
        Change::RenameColumn {
            table, from, to, ..
        } => {
            let t = table_mut(schema, table, change, all)?;
            let i = position(&t.columns, from, |c| &c.name)
                .ok_or_else(|| missing("column", &format!("{table}.{from}"), change))?;
            let column = &mut t.columns[i];
            column.renamed_from = Some(column.name.clone());
            column.name = to.clone();
            rename_in_table(t, from, to);
        }
        Change::AlterColumn {
            table, from, to, ..
        } => {
            let t = table_mut(schema, table, change, all)?;
            let i = position(&t.columns, &to.name, |c| &c.name)
                .or_else(|| position(&t.columns, &from.name, |c| &c.name))
                .ok_or_else(|| missing("column", &format!("{table}.{}", to.name), change))?;
            let hint = t.columns[i].renamed_from.take();
            t.columns[i] = to.clone();
            if t.columns[i].renamed_from.is_none() {
                t.columns[i].renamed_from = hint;
            }
        }
        Change::ReorderColumns { table, to, .. } => {
            let t = table_mut(schema, table, change, all)?;
            let mut reordered = Vec::with_capacity(t.columns.len());
            for name in to {
                let i = position(&t.columns, name, |c| &c.name)
                    .ok_or_else(|| missing("column", &format!("{table}.{name}"), change))?;
                reordered.push(t.columns.remove(i));
            }
            reordered.append(&mut t.columns);
            t.columns = reordered;
        }
        Change::SetPrimaryKey { table, to, .. } => {
            table_mut(schema, table, change, all)?.primary_key = to.clone();
        }
        Change::AddForeignKey {
            table, foreign_key, ..
        } => {
            table_mut(schema, table, change, all)?
                .foreign_keys
                .push(foreign_key.clone());
        }
        Change::DropForeignKey {
            table, foreign_key, ..
        } => {
            let t = table_mut(schema, table, change, all)?;
            let i = t
                .foreign_keys
                .iter()
                .position(|fk| fk == foreign_key)
                .or_else(|| {
                    t.foreign_keys
                        .iter()
                        .position(|fk| fk.same_definition(foreign_key))
                })
                .ok_or_else(|| missing("foreign key on", table, change))?;
            t.foreign_keys.remove(i);
        }
        Change::AddUnique { table, unique, .. } => {
            table_mut(schema, table, change, all)?
                .uniques
                .push(unique.clone());
        }
        Change::DropUnique { table, unique, .. } => {
            let t = table_mut(schema, table, change, all)?;
            let i = t
                .uniques
                .iter()
                .position(|u| u == unique)
                .or_else(|| t.uniques.iter().position(|u| u.columns == unique.columns))
                .ok_or_else(|| missing("unique constraint on", table, change))?;
            t.uniques.remove(i);
        }
        Change::AddCheck { table, check, .. } => {
            table_mut(schema, table, change, all)?
                .checks
                .push(check.clone());
        }
        Change::DropCheck { table, check, .. } => {
            let t = table_mut(schema, table, change, all)?;
            let i = t
                .checks
                .iter()
                .position(|c| c == check)
                .or_else(|| {
                    t.checks
                        .iter()
                        .position(|c| c.expression == check.expression)
                })
                .ok_or_else(|| missing("check on", table, change))?;
            t.checks.remove(i);
        }
        Change::SetTableOptions { table, to, .. } => {
            table_mut(schema, table, change, all)?.options = to.clone();
        }
        Change::AddIndex { table, index, .. } => {
            let t = table_mut(schema, table, change, all)?;
            if position(&t.indexes, &index.name, |i| &i.name).is_some() {
                return Err(exists("index", &index.name, change));
            }
            t.indexes.push(index.clone());
        }
        Change::DropIndex { table, index, .. } => {
            let t = table_mut(schema, table, change, all)?;
            let i = position(&t.indexes, &index.name, |i| &i.name)
                .ok_or_else(|| missing("index", &index.name, change))?;
            t.indexes.remove(i);
        }
        Change::RenameIndex {
            table, from, to, ..
        } => {
            let t = table_mut(schema, table, change, all)?;
            let i = position(&t.indexes, from, |i| &i.name)
                .ok_or_else(|| missing("index", from, change))?;
            t.indexes[i].renamed_from = Some(t.indexes[i].name.clone());
            t.indexes[i].name = to.clone();
        }
        Change::CreateView { view } => add(
            &mut schema.views,
            view,
            |v| v.name.eq_ignore_ascii_case(&view.name),
            ("view", &view.name),
            change,
        )?,
        Change::DropView { view } => remove(
            &mut schema.views,
            |v| v.name.eq_ignore_ascii_case(&view.name),
            ("view", &view.name),
            change,
        )?,
        Change::CreateTrigger { trigger } => add(
            &mut schema.triggers,
            trigger,
            |t| t.name.eq_ignore_ascii_case(&trigger.name),
            ("trigger", &trigger.name),
            change,
        )?,
        Change::DropTrigger { trigger } => remove(
            &mut schema.triggers,
            |t| t.name.eq_ignore_ascii_case(&trigger.name),
            ("trigger", &trigger.name),
            change,
        )?,
        Change::CreateVirtualTable { table } => add(
            &mut schema.virtual_tables,
            table,
            |t| t.name.eq_ignore_ascii_case(&table.name),
            ("virtual table", &table.name),
            change,
        )?,
        Change::DropVirtualTable { table } => remove(
            &mut schema.virtual_tables,
            |t| t.name.eq_ignore_ascii_case(&table.name),
            ("virtual table", &table.name),
            change,
        )?,
        Change::CreateNamespace { namespace } => add(
            &mut schema.namespaces,
            namespace,
            |n| n.name == namespace.name,
            ("schema", &namespace.name),
            change,
        )?,
        Change::DropNamespace { namespace } => remove(
            &mut schema.namespaces,
            |n| n.name == namespace.name,
            ("schema", &namespace.name),
            change,
        )?,
        Change::CreateEnum { enum_type } => add(
            &mut schema.enums,
            enum_type,
            |e| e.schema == enum_type.schema && e.name == enum_type.name,
            ("enum", &enum_type.name),
            change,
        )?,
        Change::DropEnum { enum_type } => remove(
            &mut schema.enums,
            |e| e.schema == enum_type.schema && e.name == enum_type.name,
            ("enum", &enum_type.name),
            change,
        )?,
        Change::AddEnumValue {
            enum_type,
            value,
            before,
        } => {
            let existing = schema
                .enums
                .iter_mut()
                .find(|e| e.schema == enum_type.schema && e.name == enum_type.name)
                .ok_or_else(|| missing("enum", &enum_type.name, change))?;
            let at = before
                .as_ref()
                .and_then(|b| existing.values.iter().position(|v| v == b))
                .unwrap_or(existing.values.len());
            existing.values.insert(at, value.clone());
        }
        Change::RecreateEnum { from, to } => replace(
            &mut schema.enums,
            |e| e.schema == from.schema && e.name == from.name,
            to,
            ("enum", &from.name),
            change,
        )?,
        Change::CreateSequence { sequence } => add(
            &mut schema.sequences,
            sequence,
            |q| q.schema == sequence.schema && q.name == sequence.name,
            ("sequence", &sequence.name),
            change,
        )?,
        Change::DropSequence { sequence } => remove(
            &mut schema.sequences,
            |q| q.schema == sequence.schema && q.name == sequence.name,
            ("sequence", &sequence.name),
            change,
        )?,
        Change::AlterSequence { from, to } => replace(
            &mut schema.sequences,
            |q| q.schema == from.schema && q.name == from.name,
            to,
            ("sequence", &from.name),
            change,
        )?,
        Change::CreateFunction { function } => add(
            &mut schema.functions,
            function,
            |f| f.same_identity(function),
            ("function", &function.name),
            change,
        )?,
        Change::ReplaceFunction { from, to } => replace(
            &mut schema.functions,
            |f| f.same_identity(from),
            to,
            ("function", &from.name),
            change,
        )?,
        Change::DropFunction { function } => remove(
            &mut schema.functions,
            |f| f.same_identity(function),
            ("function", &function.name),
            change,
        )?,
        Change::AddExclusion {
            table, exclusion, ..
        } => {
            let t = table_mut(schema, table, change, all)?;
            add(
                &mut t.exclusions,
                exclusion,
                |x| x.name == exclusion.name,
                ("exclusion constraint", &exclusion.name),
                change,
            )?;
        }
        Change::DropExclusion {
            table, exclusion, ..
        } => {
            let t = table_mut(schema, table, change, all)?;
            remove(
                &mut t.exclusions,
                |x| x.name == exclusion.name,
                ("exclusion constraint", &exclusion.name),
                change,
            )?;
        }
        Change::ValidateConstraint { table, name, .. } => {
            let t = table_mut(schema, table, change, all)?;
            let mut found = false;
            for fk in t
                .foreign_keys
                .iter_mut()
                .filter(|f| f.name.as_ref() == Some(name))
            {
                fk.not_valid = false;
                found = true;
            }
            for check in t
                .checks
                .iter_mut()
                .filter(|c| c.name.as_ref() == Some(name))
            {
                check.not_valid = false;
                found = true;
            }
            if !found {
                return Err(missing("constraint", name, change));
            }
        }
        Change::SetPartitionOf { table, to, .. } => {
            table_mut(schema, table, change, all)?.partition_of = to.clone();
        }
        Change::CreateDomain { domain } => add(
            &mut schema.domains,
            domain,
            |d| d.schema == domain.schema && d.name == domain.name,
            ("domain", &domain.name),
            change,
        )?,
        Change::DropDomain { domain } => remove(
            &mut schema.domains,
            |d| d.schema == domain.schema && d.name == domain.name,
            ("domain", &domain.name),
            change,
        )?,
        Change::AlterDomain { from, to } => replace(
            &mut schema.domains,
            |d| d.schema == from.schema && d.name == from.name,
            to,
            ("domain", &from.name),
            change,
        )?,
        Change::CreateExtension { extension } => add(
            &mut schema.extensions,
            extension,
            |e| e.name == extension.name,
            ("extension", &extension.name),
            change,
        )?,
        Change::DropExtension { extension } => remove(
            &mut schema.extensions,
            |e| e.name == extension.name,
            ("extension", &extension.name),
            change,
        )?,
        Change::CreateCollation { collation } => add(
            &mut schema.collations,
            collation,
            |c| c.schema == collation.schema && c.name == collation.name,
            ("collation", &collation.name),
            change,
        )?,
        Change::DropCollation { collation } => remove(
            &mut schema.collations,
            |c| c.schema == collation.schema && c.name == collation.name,
            ("collation", &collation.name),
            change,
        )?,
        Change::CreateCompositeType { composite_type } => add(
            &mut schema.composite_types,
            composite_type,
            |c| c.schema == composite_type.schema && c.name == composite_type.name,
            ("composite type", &composite_type.name),
            change,
        )?,
        Change::DropCompositeType { composite_type } => remove(
            &mut schema.composite_types,
            |c| c.schema == composite_type.schema && c.name == composite_type.name,
            ("composite type", &composite_type.name),
            change,
        )?,
        Change::AlterCompositeType { from, to } => replace(
            &mut schema.composite_types,
            |c| c.schema == from.schema && c.name == from.name,
            to,
            ("composite type", &from.name),
            change,
        )?,
        Change::CreateRangeType { range_type } => add(
            &mut schema.range_types,
            range_type,
            |r| r.schema == range_type.schema && r.name == range_type.name,
            ("range type", &range_type.name),
            change,
        )?,
        Change::DropRangeType { range_type } => remove(
            &mut schema.range_types,
            |r| r.schema == range_type.schema && r.name == range_type.name,
            ("range type", &range_type.name),
            change,
        )?,
        Change::ReplaceRangeType { from, to } => replace(
            &mut schema.range_types,
            |r| r.schema == from.schema && r.name == from.name,
            to,
            ("range type", &from.name),
            change,
        )?,
        Change::CreateTextSearchConfig { config } => add(
            &mut schema.text_search_configs,
            config,
            |c| c.schema == config.schema && c.name == config.name,
            ("text search configuration", &config.name),
            change,
        )?,
        Change::DropTextSearchConfig { config } => remove(
            &mut schema.text_search_configs,
            |c| c.schema == config.schema && c.name == config.name,
            ("text search configuration", &config.name),
            change,
        )?,
        Change::AlterTextSearchConfig { from, to } => replace(
            &mut schema.text_search_configs,
            |c| c.schema == from.schema && c.name == from.name,
            to,
            ("text search configuration", &from.name),
            change,
        )?,
        Change::RenameObject { object, from } => {
            if !rename_object(schema, object, from) {
                return Err(missing("object", from, change));
            }
        }
        Change::SetObjectComment { object, .. } => match object {
            Commented::Namespace(namespace) => replace(
                &mut schema.namespaces,
                |n| n.name == namespace.name,
                namespace,
                ("schema", &namespace.name),
                change,
            )?,
            Commented::Enum(enum_type) => replace(
                &mut schema.enums,
                |e| e.schema == enum_type.schema && e.name == enum_type.name,
                enum_type,
                ("enum", &enum_type.name),
                change,
            )?,
            Commented::Function(function) => replace(
                &mut schema.functions,
                |f| f.same_identity(function),
                function,
                ("function", &function.name),
                change,
            )?,
            Commented::Domain(domain) => replace(
                &mut schema.domains,
                |d| d.schema == domain.schema && d.name == domain.name,
                domain,
                ("domain", &domain.name),
                change,
            )?,
            Commented::View(view) => replace(
                &mut schema.views,
                |v| v.schema == view.schema && v.name == view.name,
                view,
                ("view", &view.name),
                change,
            )?,
            Commented::Policy { table, policy, .. } => replace(
                &mut table_mut(schema, table, change, all)?.policies,
                |p| p.name == policy.name,
                policy,
                ("policy", &policy.name),
                change,
            )?,
            Commented::Collation(collation) => replace(
                &mut schema.collations,
                |c| c.schema == collation.schema && c.name == collation.name,
                collation,
                ("collation", &collation.name),
                change,
            )?,
            Commented::CompositeType(composite_type) => replace(
                &mut schema.composite_types,
                |c| c.schema == composite_type.schema && c.name == composite_type.name,
                composite_type,
                ("composite type", &composite_type.name),
                change,
            )?,
            Commented::RangeType(range_type) => replace(
                &mut schema.range_types,
                |r| r.schema == range_type.schema && r.name == range_type.name,
                range_type,
                ("range type", &range_type.name),
                change,
            )?,
            Commented::TextSearchConfig(config) => replace(
                &mut schema.text_search_configs,
                |c| c.schema == config.schema && c.name == config.name,
                config,
                ("text search configuration", &config.name),
                change,
            )?,
        },
        Change::SetRowSecurity { table, to, .. } => {
            let t = table_mut(schema, table, change, all)?;
            t.row_security = to.enabled;
            t.force_row_security = to.forced;
        }
        Change::CreatePolicy { table, policy, .. } => add(
            &mut table_mut(schema, table, change, all)?.policies,
            policy,
            |p| p.name == policy.name,
            ("policy", &policy.name),
            change,
        )?,
        Change::DropPolicy { table, policy, .. } => remove(
            &mut table_mut(schema, table, change, all)?.policies,
            |p| p.name == policy.name,
            ("policy", &policy.name),
            change,
        )?,
        Change::AlterPolicy {
            table, from, to, ..
        } => {
            let t = table_mut(schema, table, change, all)?;
            let i = t
                .policies
                .iter()
                .position(|p| p.name == to.name || p.name == from.name)
                .ok_or_else(|| missing("policy", &to.name, change))?;
            let hint = t.policies[i].renamed_from.take();
            t.policies[i] = Policy {
                renamed_from: hint,
                ..to.clone()
            };
        }
        Change::RenamePolicy {
            table, from, to, ..
        } => {
            let t = table_mut(schema, table, change, all)?;
            let i = position(&t.policies, from, |p| &p.name)
                .ok_or_else(|| missing("policy", from, change))?;
            t.policies[i].renamed_from = Some(t.policies[i].name.clone());
            t.policies[i].name = to.clone();
        }
        Change::SetComment {
            table, column, to, ..
        } => {
            let t = table_mut(schema, table, change, all)?;
            match column {
                Some(column) => {
                    let i = position(&t.columns, column, |c| &c.name)
                        .ok_or_else(|| missing("column", column, change))?;
                    t.columns[i].comment = to.clone();
                }
                None => t.comment = to.clone(),
            }
        }
    }
    Ok(())
}

/// Adds `item` to `items` unless one it `is` already exists.
fn add<T: Clone>(
    items: &mut Vec<T>,
    item: &T,
    is: impl Fn(&T) -> bool,
    (what, name): (&str, &str),
    change: &Change,
) -> Result<()> {
    if items.iter().any(is) {
        return Err(exists(what, name, change));
    }
    items.push(item.clone());
    Ok(())
}

/// Removes the item `is` matches.
fn remove<T>(
    items: &mut Vec<T>,
    is: impl Fn(&T) -> bool,
    (what, name): (&str, &str),
    change: &Change,
) -> Result<()> {
    let i = items
        .iter()
        .position(is)
        .ok_or_else(|| missing(what, name, change))?;
    items.remove(i);
    Ok(())
}

/// Replaces the item `is` matches with `new`.
fn replace<T: Clone>(
    items: &mut [T],
    is: impl Fn(&T) -> bool,
    new: &T,
    (what, name): (&str, &str),
    change: &Change,
) -> Result<()> {
    let i = items
        .iter()
        .position(is)
        .ok_or_else(|| missing(what, name, change))?;
    items[i] = new.clone();
    Ok(())
}

/// Follows a column rename in the table's keys, constraints and index parts.
fn rename_in_table(table: &mut Table, from: &str, to: &str) {
    let rename = |name: &mut String| {
        if name.eq_ignore_ascii_case(from) {
            *name = to.to_string();
        }
    };
    if let Some(pk) = &mut table.primary_key {
        pk.columns.iter_mut().for_each(rename);
    }
    for fk in &mut table.foreign_keys {
        fk.columns.iter_mut().for_each(rename);
    }
    for unique in &mut table.uniques {
        unique.columns.iter_mut().for_each(rename);
    }
    for index in &mut table.indexes {
        for part in &mut index.parts {
            if let Some(column) = &mut part.column {
                rename(column);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::diff::{diff, DiffOptions};
    use crate::model::{Column, Index, IndexPart};

    fn users() -> Table {
        let mut table = Table::new("users");
        table.columns.push(Column::new("id", "INTEGER"));
        table.columns.push(Column::new("name", "TEXT"));
        table
    }

    fn schema(tables: Vec<Table>) -> Schema {
        Schema {
            tables,
            ..Schema::default()
        }
    }

    #[test]
    fn applying_a_diff_reaches_the_desired_schema() {
        let current = schema(vec![users()]);
        let mut desired_users = users();
        desired_users.columns.push(Column::new("email", "TEXT"));
        desired_users.indexes.push(Index {
            name: "users_email".into(),
            unique: true,
            parts: vec![IndexPart::column("email")],
            predicate: None,
            method: None,
            include: Vec::new(),
            renamed_from: None,
        });
        let mut posts = Table::new("posts");
        posts.columns.push(Column::new("id", "INTEGER"));
        let desired = schema(vec![desired_users, posts]);
        let changes = diff(&current, &desired, &DiffOptions::default());
        let after = apply_changes(&current, &changes).unwrap();
        assert!(diff(&after, &desired, &DiffOptions::default()).is_empty());
        let back: Vec<Change> = changes.iter().rev().map(Change::reverse).collect();
        let restored = apply_changes(&after, &back).unwrap();
        assert!(diff(&restored, &current, &DiffOptions::default()).is_empty());
    }

    #[test]
    fn policy_operations_reach_the_desired_schema_and_back() {
        let policy = |name: &str, using: &str| Policy {
            name: name.into(),
            restrictive: false,
            command: Default::default(),
            roles: vec![crate::model::PUBLIC_ROLE.into()],
            using: Some(using.into()),
            with_check: None,
            comment: None,
            renamed_from: None,
        };
        let mut table = users();
        table.schema = Some("app".into());
        table.policies = vec![policy("old", "id = 1"), policy("gone", "true")];
        let current = schema(vec![table.clone()]);
        table.row_security = true;
        table.force_row_security = true;
        table.policies = vec![
            Policy {
                renamed_from: Some("old".into()),
                comment: Some("mine".into()),
                ..policy("new", "id = 2")
            },
            policy("added", "name <> ''"),
        ];
        let desired = schema(vec![table]);
        let changes = diff(&current, &desired, &DiffOptions::default());
        let after = apply_changes(&current, &changes).unwrap();
        assert!(diff(&after, &desired, &DiffOptions::default()).is_empty());
        let back: Vec<Change> = changes.iter().rev().map(Change::reverse).collect();
        let restored = apply_changes(&after, &back).unwrap();
        assert!(diff(&restored, &current, &DiffOptions::default()).is_empty());
    }

    #[test]
    fn renames_leave_hints_so_the_diff_renames() {
        let current = schema(vec![users()]);
        let after = apply_changes(
            &current,
            &[
                Change::RenameTable {
                    schema: None,
                    from: "users".into(),
                    to: "people".into(),
                },
                Change::RenameColumn {
                    schema: None,
                    table: "people".into(),
                    from: "name".into(),
                    to: "full_name".into(),
                },
            ],
        )
        .unwrap();
        let table = after.table("people").unwrap();
        assert_eq!(table.renamed_from.as_deref(), Some("users"));
        assert_eq!(table.columns[1].renamed_from.as_deref(), Some("name"));
        let changes = diff(&current, &after, &DiffOptions::default());
        let described: Vec<String> = changes.iter().map(Change::describe).collect();
        assert_eq!(
            described,
            [
                "rename table users to people",
                "rename column people.name to full_name"
            ]
        );
    }

    #[test]
    fn operations_on_missing_objects_name_them() {
        let err = apply_changes(
            &Schema::default(),
            &[Change::AddColumn {
                schema: None,
                table: "users".into(),
                column: Column::new("email", "TEXT"),
            }],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid schema: cannot add column users.email: table users does not exist"
        );
        let err = apply_changes(
            &schema(vec![users()]),
            &[Change::CreateTable { table: users() }],
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("table users already exists"),
            "{err}"
        );
    }

    #[test]
    fn catalog_operations_edit_enums_sequences_and_functions() {
        let mood = crate::model::EnumType {
            schema: None,
            name: "mood".into(),
            values: vec!["sad".into(), "happy".into()],
            comment: None,
            renamed_from: None,
        };
        let function = crate::model::Function {
            schema: None,
            name: "f".into(),
            arguments: String::new(),
            definition: "CREATE FUNCTION f() …".into(),
            comment: None,
        };
        let changes = [
            Change::CreateEnum {
                enum_type: mood.clone(),
            },
            Change::AddEnumValue {
                enum_type: mood.clone(),
                value: "ok".into(),
                before: Some("happy".into()),
            },
            Change::CreateFunction {
                function: function.clone(),
            },
        ];
        let after = apply_changes(&Schema::default(), &changes).unwrap();
        assert_eq!(after.enums[0].values, ["sad", "ok", "happy"]);
        assert_eq!(after.functions, std::slice::from_ref(&function));
        let back: Vec<Change> = [
            Change::DropFunction { function },
            Change::DropEnum {
                enum_type: after.enums[0].clone(),
            },
        ]
        .to_vec();
        assert!(apply_changes(&after, &back).unwrap().is_empty());
        let twice = apply_changes(&after, &changes[..1]).unwrap_err();
        assert_eq!(
            twice.to_string(),
            "invalid schema: cannot create enum mood: enum mood already exists"
        );
    }
}
