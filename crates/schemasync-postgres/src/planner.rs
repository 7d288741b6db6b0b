//! Turns dialect-neutral changes into lock-safe PostgreSQL steps.
//!
//! A plan has three phases, in this order (SPEC §6):
//! 1. **before**: idempotent statements that must commit before the transaction can use
//!    them (`ALTER TYPE … ADD VALUE IF NOT EXISTS`), and `DROP INDEX CONCURRENTLY` of an
//!    index that uses a type, collation or text search configuration the transaction
//!    drops;
//! 2. **transaction**: every quick DDL statement, in one transaction, each under a short
//!    `lock_timeout` (constraints on existing tables are added `NOT VALID` here);
//! 3. **after**: idempotent statements that must not hold their lock inside a transaction:
//!    `CREATE INDEX CONCURRENTLY` (dropping an invalid leftover first), `VALIDATE
//!    CONSTRAINT`, `SET NOT NULL` through a validated CHECK.
//!
//! `unsafe_plain_ddl` puts everything in the transaction in its plain form (for empty
//! databases). The planner only writes SQL text; it never touches a database.

mod types;

use crate::ddl;
use crate::driver::PgOptions;
use crate::quote::{qualified, quote_ident, quote_literal};
use schemasync_core::sqltext::{lex, lex_spanned, mentions, Token};
use schemasync_core::{
    diff_recreating, qualify, Change, Column, Commented, DataCheck, Dialect, DiffOptions, Domain,
    EnumType, Error, Function, Hazard, HazardKind, Index, PartitionOf, Plan, Policy, PrimaryKey,
    Result, RowSecurity, Schema, Sequence, Step, Table, PUBLIC_ROLE,
};

/// The three phases of a plan.
#[derive(Default)]
struct Phases {
    before: Vec<Step>,
    transaction: Vec<Step>,
    after: Vec<Step>,
}

/// Plans the PostgreSQL steps that turn `current` into `desired`.
pub(crate) fn plan(
    current: &Schema,
    desired: &Schema,
    diff_options: &DiffOptions,
    options: &PgOptions,
) -> Result<Plan> {
    // Views read columns: a column whose type changes or that goes must have the views
    // on its table dropped first and recreated after (PostgreSQL refuses otherwise).
    let first = schemasync_core::diff(current, desired, diff_options);
    let mut recreate: Vec<String> = Vec::new();
    for change in &first {
        let table = match change {
            Change::AlterColumn {
                table, from, to, ..
            } if from.data_type != to.data_type || from.collation != to.collation => table,
            Change::DropColumn { table, .. } => table,
            _ => continue,
        };
        if !recreate.contains(table) {
            recreate.push(table.clone());
        }
    }
    // Views reading a column of a recreated enum type are recreated around it too.
    for change in &first {
        if let Change::RecreateEnum { from, .. } = change {
            for table in tables_using_enum(current, from) {
                if !recreate.contains(&table.name) {
                    recreate.push(table.name.clone());
                }
            }
        }
    }
    let changes = if recreate.is_empty() {
        first
    } else {
        diff_recreating(current, desired, diff_options, &recreate)
    };

    for table in &desired.tables {
        let repartitioned = current.tables.iter().find(|t| {
            t.schema == table.schema && t.name == table.name && t.partition_by != table.partition_by
        });
        if let Some(existing) = repartitioned {
            let key =
                |k: &Option<String>| k.clone().unwrap_or_else(|| "not partitioned".to_string());
            return Err(Error::Unsupported(format!(
                "PostgreSQL cannot change how {} is partitioned in place ({} to {}); create a new table and move the rows",
                qualify(table.schema.as_deref(), &table.name),
                key(&existing.partition_by),
                key(&table.partition_by)
            )));
        }
    }
    let planner = Planner {
        current,
        desired,
        options,
        changes: &changes,
    };
    let mut phases = Phases::default();
    for change in &changes {
        planner.add(change, &mut phases)?;
    }
    // Sequences owned by columns get their owner once every table exists.
    for sequence in &desired.sequences {
        let created = changes.iter().any(|c| {
            matches!(c, Change::CreateSequence { sequence: s } if s.name == sequence.name && s.schema == sequence.schema)
        });
        if let (true, Some(owner)) = (created, &sequence.owned_by) {
            phases.transaction.push(Step::new(
                format!("set owner of sequence {}", sequence.name),
                vec![ddl::sequence_owned_by(sequence, owner, &desired.tables)],
            ));
        }
    }
    let mut steps = phases.before;
    steps.extend(phases.transaction);
    steps.extend(phases.after);
    Ok(Plan {
        dialect: Dialect::Postgres,
        changes,
        steps,
    })
}

/// Tables with a column of this enum type.
fn tables_using_enum<'s>(schema: &'s Schema, enum_type: &EnumType) -> Vec<&'s Table> {
    schema
        .tables
        .iter()
        .filter(|t| t.columns.iter().any(|c| uses_enum(c, enum_type)))
        .collect()
}

fn uses_enum(column: &Column, enum_type: &EnumType) -> bool {
    has_type(column, &enum_type.schema, &enum_type.name)
}

/// Whether a column's type, or the element type of its array type, is the type `name`
/// (in `schema`), as `format_type` prints it: `mood`, `"Mood"`, `app.mood`.
fn has_type(column: &Column, schema: &Option<String>, name: &str) -> bool {
    schemasync_core::catalog::names_type(&column.data_type, schema.as_deref(), name)
}

struct Planner<'a> {
    current: &'a Schema,
    desired: &'a Schema,
    options: &'a PgOptions,
    changes: &'a [Change],
}

/// The lock a statement kind takes, as `plan` output shows it.
const ACCESS_EXCLUSIVE: &str = "ACCESS EXCLUSIVE (brief, under lock_timeout)";
const SHARE_UPDATE_EXCLUSIVE: &str = "SHARE UPDATE EXCLUSIVE (reads and writes continue)";

impl Planner<'_> {
    /// Whether the table exists before the plan (so it may hold rows and have readers).
    /// Follows a rename in the plan: `table` is the desired name, the result is the
    /// current table (data checks read it by its current name, [`current_name`]).
    fn existing(&self, schema: &Option<String>, table: &str) -> Option<&Table> {
        let current = self
            .changes
            .iter()
            .find_map(|c| match c {
                Change::RenameTable {
                    schema: s,
                    from,
                    to,
                    ..
                } if s == schema && to == table => Some(from.as_str()),
                _ => None,
            })
            .unwrap_or(table);
        self.current
            .tables
            .iter()
            .find(|t| &t.schema == schema && t.name == current)
    }

    /// What must hold before a partition gets `partition`'s bound: the parent's current
    /// default partition holds no row inside the bound (PostgreSQL would refuse to
    /// attach; rows are never moved, see `docs/decisions.md`), and every row of an
    /// `attached` existing table is inside it.
    fn partition_checks(
        &self,
        partition: &PartitionOf,
        attached: Option<&Table>,
    ) -> Vec<DataCheck> {
        // A new parent has no rows yet; the probe needs the parent as it is now.
        let parent_table = match self.existing(&partition.schema, &partition.table) {
            Some(parent) if !partition.is_default() => parent,
            _ => return Vec::new(),
        };
        let parent = current_name(parent_table);
        let named = |t: &Table| qualify(t.schema.as_deref(), &t.name);
        let check =
            |relation: &Table, inside: bool, description: String, remedy: String| DataCheck {
                description,
                remedy,
                violations_sql: format!(
                    "SELECT * FROM {}({}, {}, {}, {}, {inside})",
                    crate::apply::PARTITION_MISFITS,
                    quote_literal(&parent),
                    quote_literal(&partition.bound),
                    quote_literal(&current_name(relation)),
                    // A partition's key is its parent's (partitions inherit it).
                    quote_literal(&key_expression(if relation.primary_key.is_some() {
                        relation
                    } else {
                        parent_table
                    })),
                ),
            };
        let default = self.current.tables.iter().find(|t| {
            t.partition_of.as_ref().is_some_and(|p| {
                p.schema == parent_table.schema && p.table == parent_table.name && p.is_default()
            })
        });
        let mut checks = Vec::new();
        if let Some(default) = default {
            checks.push(check(
                default,
                true,
                format!(
                    "give {} a partition {} while its default partition {} holds no row inside it",
                    named(parent_table),
                    partition.bound,
                    named(default)
                ),
                format!(
                    "move those rows out of {} first (they would belong to the new partition)",
                    named(default)
                ),
            ));
        }
        if let Some(attached) = attached {
            checks.push(check(
                attached,
                false,
                format!(
                    "attach {} to {} {}",
                    named(attached),
                    named(parent_table),
                    partition.bound
                ),
                "move or delete the rows outside the bound first".to_string(),
            ));
        }
        checks
    }

    fn desired_table(&self, schema: &Option<String>, table: &str) -> Option<&Table> {
        self.desired
            .tables
            .iter()
            .find(|t| &t.schema == schema && t.name == table)
    }

    /// The current name of a desired column, for data checks that run before the plan
    /// (and so before its renames); `None` when it is new (or its table is).
    fn current_column(&self, schema: &Option<String>, table: &str, name: &str) -> Option<String> {
        let existing = self.existing(schema, table)?;
        let renamed = self.changes.iter().find_map(|c| match c {
            Change::RenameColumn {
                schema: s,
                table: t,
                from,
                to,
            } if s == schema && t == table && to == name => Some(from.clone()),
            _ => None,
        });
        renamed.or_else(|| existing.column(name).map(|c| c.name.clone()))
    }

    /// [`Planner::current_column`] of each name; `None` when one is new.
    fn current_columns(
        &self,
        schema: &Option<String>,
        table: &str,
        names: &[String],
    ) -> Option<Vec<String>> {
        names
            .iter()
            .map(|name| self.current_column(schema, table, name))
            .collect()
    }

    /// For data checks over the current rows: per desired column, the SQL giving the
    /// value each row will hold — the current column (by its current name), or a new
    /// column's default. `None` when a column will be NULL in every row (new, no
    /// default: nothing can collide or dangle), when its default is volatile
    /// (evaluating it could advance a sequence), or when the table is new.
    fn row_values(
        &self,
        schema: &Option<String>,
        table: &str,
        names: &[String],
        alias: &str,
    ) -> Option<Vec<String>> {
        self.existing(schema, table)?;
        let desired = self.desired_table(schema, table)?;
        names
            .iter()
            .map(|name| match self.current_column(schema, table, name) {
                Some(current) => Some(format!("{alias}{}", quote_ident(&current))),
                None => {
                    let default = desired.column(name)?.default.as_deref()?;
                    (!is_volatile_default(default, &self.desired.functions))
                        .then(|| format!("({default})"))
                }
            })
            .collect()
    }

    /// Lock-safe forms apply to tables that exist, unless turned off.
    fn safe_for(&self, schema: &Option<String>, table: &str) -> bool {
        !self.options.unsafe_plain_ddl && self.existing(schema, table).is_some()
    }

    fn add(&self, change: &Change, phases: &mut Phases) -> Result<()> {
        let describe = change.describe();
        let quick = |sql: Vec<String>| {
            let mut step = Step::new(describe.clone(), sql);
            step.lock = Some(ACCESS_EXCLUSIVE.to_string());
            step
        };
        match change {
            Change::CreateNamespace { namespace } => phases.transaction.push(Step::new(
                describe,
                ddl::created_with_comment(
                    ddl::create_namespace(namespace),
                    &Commented::Namespace(namespace.clone()),
                ),
            )),
            Change::DropNamespace { namespace } => phases.transaction.push(Step::new(
                describe,
                vec![format!("DROP SCHEMA {}", quote_ident(&namespace.name))],
            )),
            Change::CreateEnum { enum_type } => phases.transaction.push(Step::new(
                describe,
                ddl::created_with_comment(
                    ddl::create_enum(enum_type),
                    &Commented::Enum(enum_type.clone()),
                ),
            )),
            Change::DropEnum { enum_type } => phases.transaction.push(Step::new(
                describe,
                vec![format!(
                    "DROP TYPE {}",
                    qualified(enum_type.schema.as_deref(), &enum_type.name)
                )],
            )),
            Change::AddEnumValue {
                enum_type,
                value,
                before,
            } => {
                // At the end: say after which label, so the order is explicit.
                let previous = self
                    .desired
                    .enums
                    .iter()
                    .find(|e| e.schema == enum_type.schema && e.name == enum_type.name)
                    .and_then(|e| {
                        let at = e.values.iter().position(|v| v == value)?;
                        at.checked_sub(1).map(|p| &e.values[p])
                    });
                let position = match (before, previous) {
                    (Some(before), _) => format!(" BEFORE {}", quote_literal(before)),
                    (None, Some(previous)) => format!(" AFTER {}", quote_literal(previous)),
                    (None, None) => String::new(),
                };
                // Must commit before the transaction may use the new label.
                let mut step = Step::new(
                    describe,
                    vec![format!(
                        "ALTER TYPE {} ADD VALUE IF NOT EXISTS {}{position}",
                        qualified(enum_type.schema.as_deref(), &enum_type.name),
                        quote_literal(value)
                    )],
                );
                step.transactional = false;
                phases.before.push(step);
            }
            Change::RecreateEnum { from, to } => {
                phases
                    .transaction
                    .push(self.recreate_enum(from, to, describe));
            }
            Change::CreateSequence { sequence } => phases
                .transaction
                .push(Step::new(describe, vec![ddl::create_sequence(sequence)])),
            Change::DropSequence { sequence } => phases.transaction.push(Step::new(
                describe,
                // An owned sequence may already be gone with its table.
                vec![format!(
                    "DROP SEQUENCE IF EXISTS {}",
                    qualified(sequence.schema.as_deref(), &sequence.name)
                )],
            )),
            Change::AlterSequence { from, to } => phases.transaction.push(Step::new(
                describe,
                alter_sequence(from, to, &self.desired.tables),
            )),
            Change::CreateFunction { function } => phases.transaction.push(Step::new(
                describe,
                ddl::created_with_comment(
                    function.definition.clone(),
                    &Commented::Function(function.clone()),
                ),
            )),
            Change::ReplaceFunction { from, to } => {
                // `CREATE OR REPLACE` cannot change what a function returns.
                let mut sql = Vec::new();
                let dropped = returns_clause(&from.definition) != returns_clause(&to.definition);
                if dropped {
                    sql.push(ddl::drop_routine(from));
                }
                sql.push(to.definition.clone());
                if (dropped && to.comment.is_some()) || from.comment != to.comment {
                    sql.push(ddl::comment_on_object(
                        &Commented::Function(to.clone()),
                        to.comment.as_deref(),
                    ));
                }
                phases.transaction.push(Step::new(describe, sql));
            }
            Change::DropFunction { function } => phases
                .transaction
                .push(Step::new(describe, vec![ddl::drop_routine(function)])),
            Change::SetPartitionOf {
                schema,
                table,
                from,
                to,
            } => {
                let mut sql = Vec::new();
                if let Some(from) = from {
                    sql.push(ddl::detach_partition(schema.as_deref(), table, from));
                }
                if let (Some(to), Some(desired)) = (to, self.desired_table(schema, table)) {
                    sql.push(ddl::attach_partition(desired, to));
                }
                let mut step = quick(sql);
                if let Some(from) = from {
                    // DETACH … CONCURRENTLY cannot run in a transaction (and is refused
                    // beside a default partition), so the detach stays in the transaction
                    // with the rest of the plan: see docs/decisions.md.
                    step.hazards.push(Hazard::new(
                        HazardKind::LongLock,
                        qualify(from.schema.as_deref(), &from.table),
                        format!(
                            "detaching {table} takes ACCESS EXCLUSIVE on {}: its reads and writes wait until the plan commits",
                            from.table
                        ),
                    ));
                }
                if let (Some(to), Some(existing)) = (to, self.existing(schema, table)) {
                    step.checks
                        .extend(self.partition_checks(to, Some(existing)));
                    step.hazards.push(Hazard::new(
                        HazardKind::LongLock,
                        qualify(schema.as_deref(), table),
                        format!(
                            "scans {table} under ACCESS EXCLUSIVE to check its rows fit {} (the parent takes SHARE UPDATE EXCLUSIVE)",
                            to.bound
                        ),
                    ));
                    step.hazards.push(Hazard::new(
                        HazardKind::Validation,
                        qualify(schema.as_deref(), table),
                        format!(
                            "fails if a row of {table}, or of a default partition of {}, does not fit {}",
                            to.table, to.bound
                        ),
                    ));
                }
                phases.transaction.push(step);
            }
            Change::CreateDomain { domain } => phases.transaction.push(Step::new(
                describe,
                ddl::created_with_comment(
                    ddl::create_domain(domain),
                    &Commented::Domain(domain.clone()),
                ),
            )),
            Change::DropDomain { domain } => phases.transaction.push(Step::new(
                describe,
                vec![format!(
                    "DROP DOMAIN {}",
                    qualified(domain.schema.as_deref(), &domain.name)
                )],
            )),
            Change::AlterDomain { from, to } => self.alter_domain(from, to, describe, phases)?,
            Change::CreateExtension { extension } => phases
                .transaction
                .push(Step::new(describe, vec![ddl::create_extension(extension)])),
            Change::DropExtension { extension } => {
                let mut step = Step::new(
                    describe,
                    vec![format!("DROP EXTENSION {}", quote_ident(&extension.name))],
                );
                step.hazards.push(Hazard::new(
                    HazardKind::DataLoss,
                    format!("extension {}", extension.name),
                    format!(
                        "drops extension {} and every object it owns (types, functions, their data)",
                        extension.name
                    ),
                ));
                phases.transaction.push(step);
            }
            Change::CreateTable { table } => {
                let mut sql = vec![ddl::create_table(table)];
                sql.extend(
                    table
                        .partition_of
                        .as_ref()
                        .map(|p| ddl::attach_partition(table, p)),
                );
                sql.extend(ddl::table_comments(table).into_iter().map(|(_, sql)| sql));
                let security = RowSecurity::of(table);
                sql.extend(ddl::row_security(
                    table.schema.as_deref(),
                    &table.name,
                    RowSecurity::default(),
                    security,
                ));
                let note = row_security_note(table, RowSecurity::default(), security);
                let mut step = Step::new(format!("{describe}{note}"), sql);
                if let Some(partition) = &table.partition_of {
                    step.checks.extend(self.partition_checks(partition, None));
                }
                phases.transaction.push(step);
                for fk in &table.foreign_keys {
                    phases.transaction.push(Step::new(
                        format!(
                            "add foreign key {}({}) -> {}",
                            qualify(table.schema.as_deref(), &table.name),
                            fk.columns.join(", "),
                            fk.referenced_table
                        ),
                        vec![ddl::add_foreign_key(table, fk, false)],
                    ));
                }
            }
            Change::DropTable { table } => {
                let mut step = quick(vec![format!(
                    "DROP TABLE {}",
                    qualified(table.schema.as_deref(), &table.name)
                )]);
                step.hazards.push(Hazard::new(
                    HazardKind::DataLoss,
                    qualify(table.schema.as_deref(), &table.name),
                    format!("drops table {} and every row in it", table.name),
                ));
                phases.transaction.push(step);
            }
            Change::RenameTable { schema, from, to } => {
                phases.transaction.push(quick(vec![format!(
                    "ALTER TABLE {} RENAME TO {}",
                    qualified(schema.as_deref(), from),
                    quote_ident(to)
                )]))
            }
            Change::AddColumn {
                schema,
                table,
                column,
            } => phases
                .transaction
                .push(self.add_column(schema, table, column, describe)),
            Change::DropColumn {
                schema,
                table,
                column,
            } => {
                let mut step = quick(vec![format!(
                    "ALTER TABLE {} DROP COLUMN {}",
                    qualified(schema.as_deref(), table),
                    quote_ident(&column.name)
                )]);
                step.hazards.push(Hazard::new(
                    HazardKind::DataLoss,
                    format!("{}.{}", qualify(schema.as_deref(), table), column.name),
                    format!("drops column {table}.{} and its values", column.name),
                ));
                phases.transaction.push(step);
            }
            Change::RenameColumn {
                schema,
                table,
                from,
                to,
            } => phases.transaction.push(quick(vec![format!(
                "ALTER TABLE {} RENAME COLUMN {} TO {}",
                qualified(schema.as_deref(), table),
                quote_ident(from),
                quote_ident(to)
            )])),
            Change::AlterColumn {
                schema,
                table,
                from,
                to,
            } => self.alter_column(schema, table, from, to, phases)?,
            Change::SetPrimaryKey {
                schema,
                table,
                from,
                to,
            } => {
                let target = qualified(schema.as_deref(), table);
                // The same key under another name (a renamed table's `old_pkey`): the
                // drop becomes a rename and the add is then already done.
                if let Some((old, new)) = self.renamed_primary_key(schema, table) {
                    if from.is_some() && to.is_none() {
                        phases.transaction.push(quick(vec![format!(
                            "ALTER TABLE {target} RENAME CONSTRAINT {} TO {}",
                            quote_ident(old.name.as_deref().unwrap_or_default()),
                            quote_ident(new.name.as_deref().unwrap_or_default())
                        )]));
                    }
                    return Ok(());
                }
                if let (None, Some(new)) = (from, to) {
                    if self.safe_for(schema, table)
                        && !self.referenced_by_new_foreign_key(schema, table)
                    {
                        phases
                            .after
                            .push(self.add_primary_key_concurrently(schema, table, new, describe));
                        return Ok(());
                    }
                }
                let mut sql = Vec::new();
                if let Some(old) = from {
                    let name = old.name.clone().unwrap_or_else(|| format!("{table}_pkey"));
                    sql.push(format!(
                        "ALTER TABLE {target} DROP CONSTRAINT {}",
                        quote_ident(&name)
                    ));
                }
                if let Some(new) = to {
                    let named = Table {
                        schema: schema.clone(),
                        ..Table::new(table.as_str())
                    };
                    sql.push(ddl::add_primary_key(&named, new));
                }
                let mut step = quick(sql);
                if let (Some(new), Some(existing)) = (to, self.existing(schema, table)) {
                    step.hazards.push(Hazard::new(
                        HazardKind::IndexBuild,
                        qualify(schema.as_deref(), table),
                        "builds the primary key's index while holding ACCESS EXCLUSIVE",
                    ));
                    step.hazards.push(Hazard::new(
                        HazardKind::Validation,
                        qualify(schema.as_deref(), table),
                        format!(
                            "fails if ({}) holds duplicates or NULLs",
                            new.columns.join(", ")
                        ),
                    ));
                    if let Some(columns) = self.row_values(schema, table, &new.columns, "") {
                        step.checks.push(duplicates_check(
                            existing,
                            &columns,
                            &format!(
                                "make ({}) the primary key of {table}",
                                new.columns.join(", ")
                            ),
                        ));
                    }
                }
                phases.transaction.push(step);
            }
            Change::AddForeignKey {
                schema,
                table,
                foreign_key,
            } => {
                let Some(desired) = self.desired_table(schema, table) else {
                    return Err(Error::InvalidSchema(format!(
                        "foreign key on {table}, which the desired schema lacks"
                    )));
                };
                if self.safe_for(schema, table) {
                    let name = foreign_key.name.clone().unwrap_or_default();
                    phases.transaction.push(quick(vec![ddl::add_foreign_key(
                        desired,
                        foreign_key,
                        true,
                    )]));
                    let mut validate = self.validate_step(schema, table, &name);
                    validate.hazards.push(Hazard::new(
                        HazardKind::Validation,
                        format!("{}({})", table, foreign_key.columns.join(", ")),
                        format!(
                            "fails if rows of {table} reference missing rows of {}",
                            foreign_key.referenced_table
                        ),
                    ));
                    if let Some(check) = self.existing(schema, table).and_then(|existing| {
                        self.foreign_key_check(schema, table, existing, foreign_key)
                    }) {
                        validate.checks.push(check);
                    }
                    phases.after.push(validate);
                } else {
                    phases.transaction.push(quick(vec![ddl::add_foreign_key(
                        desired,
                        foreign_key,
                        false,
                    )]));
                }
            }
            Change::DropForeignKey {
                schema,
                table,
                foreign_key,
            } => phases.transaction.push(quick(vec![drop_constraint(
                schema,
                table,
                foreign_key.name.as_deref().unwrap_or_default(),
            )])),
            Change::AddUnique {
                schema,
                table,
                unique,
            } => {
                let name = unique
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("{table}_{}_key", unique.columns.join("_")));
                let target = qualified(schema.as_deref(), table);
                let columns = unique
                    .columns
                    .iter()
                    .map(|c| quote_ident(c))
                    .collect::<Vec<_>>()
                    .join(", ");
                match self
                    .existing(schema, table)
                    .filter(|_| !self.options.unsafe_plain_ddl)
                {
                    Some(existing) => {
                        // Build the index without blocking writes, then attach it.
                        let index = qualified(schema.as_deref(), &name);
                        let mut step = Step::new(
                            describe,
                            vec![
                                format!("DROP INDEX CONCURRENTLY IF EXISTS {index}"),
                                format!(
                                    "CREATE UNIQUE INDEX CONCURRENTLY {} ON {target} ({columns})",
                                    quote_ident(&name)
                                ),
                                format!(
                                    "ALTER TABLE {target} ADD CONSTRAINT {} UNIQUE USING INDEX {}",
                                    quote_ident(&name),
                                    quote_ident(&name)
                                ),
                            ],
                        );
                        step.transactional = false;
                        step.lock = Some(SHARE_UPDATE_EXCLUSIVE.to_string());
                        step.hazards.push(Hazard::new(
                            HazardKind::IndexBuild,
                            format!("{table}.{name}"),
                            format!("builds unique index {name} concurrently"),
                        ));
                        step.hazards.push(Hazard::new(
                            HazardKind::Validation,
                            format!("{table}({})", unique.columns.join(", ")),
                            format!("fails if {table} holds duplicates"),
                        ));
                        if let Some(columns) = self.row_values(schema, table, &unique.columns, "") {
                            step.checks.push(duplicates_check(
                                existing,
                                &columns,
                                &format!("add UNIQUE ({}) to {table}", unique.columns.join(", ")),
                            ));
                        }
                        phases.after.push(step);
                    }
                    None => phases.transaction.push(quick(vec![format!(
                        "ALTER TABLE {target} ADD CONSTRAINT {} UNIQUE ({columns})",
                        quote_ident(&name)
                    )])),
                }
            }
            Change::DropUnique {
                schema,
                table,
                unique,
            } => phases.transaction.push(quick(vec![drop_constraint(
                schema,
                table,
                unique.name.as_deref().unwrap_or_default(),
            )])),
            Change::AddCheck {
                schema,
                table,
                check,
            } => {
                let name = check
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("{table}_check"));
                let target = qualified(schema.as_deref(), table);
                if self.safe_for(schema, table) {
                    phases.transaction.push(quick(vec![format!(
                        "ALTER TABLE {target} ADD CONSTRAINT {} CHECK ({}) NOT VALID",
                        quote_ident(&name),
                        check.expression
                    )]));
                    let mut validate = self.validate_step(schema, table, &name);
                    validate.hazards.push(Hazard::new(
                        HazardKind::Validation,
                        qualify(schema.as_deref(), table),
                        format!(
                            "fails if rows of {table} violate CHECK ({})",
                            check.expression
                        ),
                    ));
                    // A check that reads a column this plan adds cannot be evaluated
                    // beforehand; VALIDATE checks it.
                    let reads_new_column = self.desired_table(schema, table).is_some_and(|d| {
                        d.columns.iter().any(|c| {
                            self.existing(schema, table)
                                .is_some_and(|e| e.column(&c.name).is_none())
                                && mentions(&check.expression, &c.name, false)
                        })
                    });
                    if let Some(existing) =
                        self.existing(schema, table).filter(|_| !reads_new_column)
                    {
                        validate.checks.push(DataCheck {
                            description: format!("add CHECK ({}) to {table}", check.expression),
                            remedy: "fix those rows first".to_string(),
                            violations_sql: format!(
                                "SELECT {} FROM {} WHERE NOT ({})",
                                key_expression(existing),
                                current_name(existing),
                                check.expression
                            ),
                        });
                    }
                    phases.after.push(validate);
                } else {
                    phases.transaction.push(quick(vec![format!(
                        "ALTER TABLE {target} ADD CONSTRAINT {} CHECK ({})",
                        quote_ident(&name),
                        check.expression
                    )]));
                }
            }
            Change::DropCheck {
                schema,
                table,
                check,
            } => phases.transaction.push(quick(vec![drop_constraint(
                schema,
                table,
                check.name.as_deref().unwrap_or_default(),
            )])),
            Change::AddExclusion {
                schema,
                table,
                exclusion,
            } => {
                let mut step = quick(vec![format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} {}",
                    qualified(schema.as_deref(), table),
                    quote_ident(&exclusion.name),
                    exclusion.definition
                )]);
                if self.existing(schema, table).is_some() {
                    step.hazards.push(Hazard::new(
                        HazardKind::LongLock,
                        qualify(schema.as_deref(), table),
                        "builds the exclusion constraint's index while holding ACCESS EXCLUSIVE (PostgreSQL has no concurrent form)",
                    ));
                }
                phases.transaction.push(step);
            }
            Change::DropExclusion {
                schema,
                table,
                exclusion,
            } => phases.transaction.push(quick(vec![drop_constraint(
                schema,
                table,
                &exclusion.name,
            )])),
            Change::ValidateConstraint {
                schema,
                table,
                name,
            } => phases.after.push(self.validate_step(schema, table, name)),
            Change::AddIndex {
                schema,
                table,
                index,
            } => self.add_index(schema, table, index, describe, phases)?,
            Change::DropIndex {
                schema,
                table,
                index,
            } => {
                let name = qualified(schema.as_deref(), &index.name);
                // An index whose name another one takes in the transaction goes in it.
                let name_reused = self.changes.iter().any(|c| {
                    matches!(c, Change::RenameIndex { schema: s, to, .. } if s == schema && *to == index.name)
                });
                if self.safe_for(schema, table) && !name_reused {
                    let mut step = Step::new(
                        describe,
                        vec![format!("DROP INDEX CONCURRENTLY IF EXISTS {name}")],
                    );
                    step.transactional = false;
                    step.lock = Some(SHARE_UPDATE_EXCLUSIVE.to_string());
                    // Before the transaction when it drops a type, collation or text
                    // search configuration the index uses (PostgreSQL refuses otherwise).
                    if self.uses_dropped_object(index) {
                        phases.before.push(step);
                    } else {
                        phases.after.push(step);
                    }
                } else {
                    phases
                        .transaction
                        .push(quick(vec![format!("DROP INDEX IF EXISTS {name}")]));
                }
            }
            Change::RenameIndex {
                schema, from, to, ..
            } => phases.transaction.push(quick(vec![format!(
                "ALTER INDEX {} RENAME TO {}",
                qualified(schema.as_deref(), from),
                quote_ident(to)
            )])),
            Change::CreateView { view } => {
                let mut sql = ddl::created_with_comment(
                    ddl::create_view(view),
                    &Commented::View(view.clone()),
                );
                sql.splice(1..1, ddl::view_indexes(view));
                phases.transaction.push(Step::new(describe, sql));
            }
            Change::DropView { view } => phases.transaction.push(Step::new(
                describe,
                vec![format!(
                    "DROP {}VIEW IF EXISTS {}",
                    if view.materialized {
                        "MATERIALIZED "
                    } else {
                        ""
                    },
                    qualified(view.schema.as_deref(), &view.name)
                )],
            )),
            Change::CreateTrigger { trigger } => phases
                .transaction
                .push(quick(vec![trigger.definition.clone()])),
            Change::DropTrigger { trigger } => phases.transaction.push(quick(vec![format!(
                "DROP TRIGGER IF EXISTS {} ON {}",
                quote_ident(&trigger.name),
                qualified(trigger.schema.as_deref(), &trigger.table)
            )])),
            Change::SetComment {
                schema,
                table,
                column,
                to,
                ..
            } => {
                let sql = match column {
                    Some(column) => {
                        ddl::comment_on_column(schema.as_deref(), table, column, to.as_deref())
                    }
                    None => ddl::comment_on_table(schema.as_deref(), table, to.as_deref()),
                };
                phases.transaction.push(Step::new(describe, vec![sql]));
            }
            Change::CreateCollation { .. }
            | Change::DropCollation { .. }
            | Change::CreateCompositeType { .. }
            | Change::DropCompositeType { .. }
            | Change::AlterCompositeType { .. }
            | Change::CreateRangeType { .. }
            | Change::DropRangeType { .. }
            | Change::ReplaceRangeType { .. }
            | Change::CreateTextSearchConfig { .. }
            | Change::DropTextSearchConfig { .. }
            | Change::AlterTextSearchConfig { .. }
            | Change::RenameObject { .. } => self.add_catalog_object(change, describe, phases)?,
            Change::SetObjectComment { object, to, .. } => phases.transaction.push(Step::new(
                describe,
                vec![ddl::comment_on_object(object, to.as_deref())],
            )),
            Change::SetRowSecurity {
                schema,
                table,
                from,
                to,
            } => {
                let note = self
                    .desired_table(schema, table)
                    .map(|desired| row_security_note(desired, *from, *to))
                    .unwrap_or_default();
                let mut step = quick(ddl::row_security(schema.as_deref(), table, *from, *to));
                step.description = format!("{describe}{note}");
                phases.transaction.push(step);
            }
            Change::CreatePolicy {
                schema,
                table,
                policy,
            } => {
                let commented = Commented::Policy {
                    schema: schema.clone(),
                    table: table.clone(),
                    policy: policy.clone(),
                };
                let create = ddl::create_policy(schema.as_deref(), table, policy);
                let mut step = quick(ddl::created_with_comment(create, &commented));
                let enforced = self
                    .desired_table(schema, table)
                    .is_some_and(|t| t.row_security);
                step.description =
                    format!("{describe}{}", policy_access_note(policy, true, enforced));
                step.checks.extend(roles_check(&describe, policy));
                phases.transaction.push(step);
            }
            Change::DropPolicy {
                schema,
                table,
                policy,
            } => {
                let mut step = quick(vec![ddl::drop_policy(
                    schema.as_deref(),
                    table,
                    &policy.name,
                )]);
                let enforced = self
                    .current
                    .tables
                    .iter()
                    .any(|t| &t.schema == schema && &t.name == table && t.row_security);
                step.description =
                    format!("{describe}{}", policy_access_note(policy, false, enforced));
                phases.transaction.push(step);
            }
            Change::AlterPolicy {
                schema,
                table,
                from,
                to,
            } => {
                let (mut sql, description) =
                    match ddl::alter_policy(schema.as_deref(), table, from, to) {
                        Some(alter) => (vec![alter], describe.clone()),
                        None => (
                            vec![
                                ddl::drop_policy(schema.as_deref(), table, &from.name),
                                ddl::create_policy(schema.as_deref(), table, to),
                            ],
                            format!(
                                "{describe}: dropped and created again in the transaction (PostgreSQL cannot change this in place)"
                            ),
                        ),
                    };
                let recreated = sql.len() > 1;
                if from.comment != to.comment || (recreated && to.comment.is_some()) {
                    let commented = Commented::Policy {
                        schema: schema.clone(),
                        table: table.clone(),
                        policy: to.clone(),
                    };
                    sql.push(ddl::comment_on_object(&commented, to.comment.as_deref()));
                }
                let mut step = quick(sql);
                step.description = description;
                if from.roles != to.roles {
                    step.checks.extend(roles_check(&describe, to));
                }
                phases.transaction.push(step);
            }
            Change::RenamePolicy {
                schema,
                table,
                from,
                to,
            } => phases.transaction.push(quick(vec![ddl::rename_policy(
                schema.as_deref(),
                table,
                from,
                to,
            )])),
            Change::ReorderColumns { .. }
            | Change::SetTableOptions { .. }
            | Change::CreateVirtualTable { .. }
            | Change::DropVirtualTable { .. } => {
                return Err(Error::Unsupported(format!("PostgreSQL cannot {describe}")))
            }
        }
        Ok(())
    }

    fn add_column(
        &self,
        schema: &Option<String>,
        table: &str,
        column: &Column,
        describe: String,
    ) -> Step {
        let target = qualified(schema.as_deref(), table);
        let mut sql = vec![format!(
            "ALTER TABLE {target} ADD COLUMN {} {}",
            quote_ident(&column.name),
            ddl::column_definition(column)
        )];
        if let Some(comment) = &column.comment {
            sql.push(ddl::comment_on_column(
                schema.as_deref(),
                table,
                &column.name,
                Some(comment),
            ));
        }
        let mut step = Step::new(describe, sql);
        step.lock = Some(ACCESS_EXCLUSIVE.to_string());
        if let Some(existing) = self.existing(schema, table) {
            let rewrites = column.identity.is_some()
                || column.generated.is_some()
                || column
                    .default
                    .as_deref()
                    .is_some_and(|d| is_volatile_default(d, &self.desired.functions));
            if rewrites {
                step.hazards.push(Hazard::new(
                    HazardKind::TableRewrite,
                    format!("{table}.{}", column.name),
                    format!("fills {table}.{} for every row, rewriting the table under ACCESS EXCLUSIVE", column.name),
                ));
            }
            if !column.nullable
                && column.default.is_none()
                && column.identity.is_none()
                && column.generated.is_none()
            {
                step.hazards.push(Hazard::new(
                    HazardKind::Validation,
                    format!("{table}.{}", column.name),
                    format!(
                        "fails if {table} has rows: the NOT NULL column {} has no default",
                        column.name
                    ),
                ));
                step.checks.push(DataCheck {
                    description: format!(
                        "add NOT NULL column {table}.{} without a default",
                        column.name
                    ),
                    remedy: "give the column a DEFAULT, or add it nullable and backfill it"
                        .to_string(),
                    violations_sql: format!(
                        "SELECT {} FROM {}",
                        key_expression(existing),
                        current_name(existing)
                    ),
                });
            }
        }
        step
    }

    fn alter_column(
        &self,
        schema: &Option<String>,
        table: &str,
        from: &Column,
        to: &Column,
        phases: &mut Phases,
    ) -> Result<()> {
        let target = qualified(schema.as_deref(), table);
        let column = quote_ident(&to.name);
        let object = format!("{}.{}", qualify(schema.as_deref(), table), to.name);
        let existing = self.existing(schema, table);
        if from.generated != to.generated {
            return match (&from.generated, &to.generated) {
                (Some(_), None) => {
                    phases.transaction.push(Step::new(
                        format!("stop generating {object}"),
                        vec![format!("ALTER TABLE {target} ALTER COLUMN {column} DROP EXPRESSION")],
                    ));
                    self.alter_rest(schema, table, &Column { generated: None, ..from.clone() }, to, phases)
                }
                _ => Err(Error::Unsupported(format!(
                    "PostgreSQL cannot change the generation expression of {object} in place; drop the column and add it again"
                ))),
            };
        }
        let mut from = from.clone();
        if from.data_type != to.data_type || from.collation != to.collation {
            let collate = to
                .collation
                .as_ref()
                .map(|c| format!(" COLLATE {}", quote_ident(c)))
                .unwrap_or_default();
            // A length limit is enforced by the assignment cast (an explicit cast would
            // truncate silently); every other change converts with an explicit cast.
            let limit = length_limit(&to.data_type);
            // There is no cast between two enum types: go through text.
            let from_enum = self.current.enums.iter().any(|e| uses_enum(&from, e));
            let using = match limit {
                Some(_) => String::new(),
                None if from_enum => format!(" USING {column}::text::{}", to.data_type),
                None => format!(" USING {column}::{}", to.data_type),
            };
            let mut sql = Vec::new();
            // A default is not converted with the column: drop it, set it again after.
            if from.default.take().is_some() {
                sql.push(format!(
                    "ALTER TABLE {target} ALTER COLUMN {column} DROP DEFAULT"
                ));
            }
            sql.push(format!(
                "ALTER TABLE {target} ALTER COLUMN {column} TYPE {}{collate}{using}",
                to.data_type
            ));
            let mut step = Step::new(format!("change type of {object} to {}", to.data_type), sql);
            step.lock = Some("ACCESS EXCLUSIVE (held while the table is rewritten)".to_string());
            if let Some(existing) =
                existing.filter(|_| !binary_coercible(&from.data_type, &to.data_type))
            {
                step.hazards.push(Hazard::new(
                    HazardKind::TableRewrite,
                    object.clone(),
                    format!(
                        "rewrites {table} to convert {} from {} to {}",
                        to.name, from.data_type, to.data_type
                    ),
                ));
                step.hazards.push(Hazard::new(
                    HazardKind::Validation,
                    object.clone(),
                    format!(
                        "fails if a value of {} cannot be cast to {}",
                        to.name, to.data_type
                    ),
                ));
                if let Some([current]) = self
                    .current_columns(schema, table, std::slice::from_ref(&to.name))
                    .as_deref()
                {
                    let labels = self
                        .desired
                        .enums
                        .iter()
                        .find(|e| uses_enum(to, e))
                        .map(|e| e.values.as_slice());
                    let conversion = match (labels, limit) {
                        (Some(labels), _) => Conversion::Labels(labels),
                        (None, Some(limit)) => Conversion::Length(limit),
                        (None, None) => Conversion::Cast,
                    };
                    if !cast_cannot_fail(&from.data_type, &to.data_type) {
                        step.checks.push(cast_check(
                            existing,
                            current,
                            &to.data_type,
                            conversion,
                            &object,
                        ));
                    }
                }
            }
            phases.transaction.push(step);
        }
        self.alter_rest(schema, table, &from, to, phases)
    }

    /// Nullability, default and identity.
    fn alter_rest(
        &self,
        schema: &Option<String>,
        table: &str,
        from: &Column,
        to: &Column,
        phases: &mut Phases,
    ) -> Result<()> {
        let target = qualified(schema.as_deref(), table);
        let column = quote_ident(&to.name);
        let object = format!("{}.{}", qualify(schema.as_deref(), table), to.name);
        if from.default != to.default {
            let sql = match &to.default {
                Some(default) => {
                    format!("ALTER TABLE {target} ALTER COLUMN {column} SET DEFAULT {default}")
                }
                None => format!("ALTER TABLE {target} ALTER COLUMN {column} DROP DEFAULT"),
            };
            phases
                .transaction
                .push(Step::new(format!("set default of {object}"), vec![sql]));
        }
        if from.identity != to.identity {
            let generated = |identity| match identity {
                schemasync_core::Identity::Always => "ALWAYS",
                schemasync_core::Identity::ByDefault => "BY DEFAULT",
            };
            let sql = match (from.identity, to.identity) {
                (Some(_), Some(identity)) => format!(
                    "ALTER TABLE {target} ALTER COLUMN {column} SET GENERATED {}",
                    generated(identity)
                ),
                (None, Some(identity)) => format!(
                    "ALTER TABLE {target} ALTER COLUMN {column} ADD GENERATED {} AS IDENTITY",
                    generated(identity)
                ),
                (_, None) => format!("ALTER TABLE {target} ALTER COLUMN {column} DROP IDENTITY"),
            };
            phases
                .transaction
                .push(Step::new(format!("change identity of {object}"), vec![sql]));
        }
        if from.nullable && !to.nullable {
            self.set_not_null(schema, table, to, phases);
        } else if !from.nullable && to.nullable {
            phases.transaction.push(Step::new(
                format!("drop NOT NULL of {object}"),
                vec![format!(
                    "ALTER TABLE {target} ALTER COLUMN {column} DROP NOT NULL"
                )],
            ));
        }
        Ok(())
    }

    /// `SET NOT NULL`; on an existing table through a validated CHECK, so the final
    /// statement does not scan the table under ACCESS EXCLUSIVE.
    fn set_not_null(
        &self,
        schema: &Option<String>,
        table: &str,
        column: &Column,
        phases: &mut Phases,
    ) {
        let target = qualified(schema.as_deref(), table);
        let quoted = quote_ident(&column.name);
        let object = format!("{}.{}", qualify(schema.as_deref(), table), column.name);
        let Some(existing) = self
            .existing(schema, table)
            .filter(|_| !self.options.unsafe_plain_ddl)
        else {
            phases.transaction.push(Step::new(
                format!("set NOT NULL on {object}"),
                vec![format!(
                    "ALTER TABLE {target} ALTER COLUMN {quoted} SET NOT NULL"
                )],
            ));
            return;
        };
        let check = format!("{table}_{}_not_null", column.name);
        let check_name = quote_ident(&check);
        let mut step = Step::new(
            format!("set NOT NULL on {object} through a validated CHECK"),
            vec![
                format!("{TEMPORARY_CHECK_DROP}ALTER TABLE {target} DROP CONSTRAINT IF EXISTS {check_name}"),
                format!("ALTER TABLE {target} ADD CONSTRAINT {check_name} CHECK ({quoted} IS NOT NULL) NOT VALID"),
                format!("ALTER TABLE {target} VALIDATE CONSTRAINT {check_name}"),
                format!("ALTER TABLE {target} ALTER COLUMN {quoted} SET NOT NULL"),
                format!("{TEMPORARY_CHECK_DROP}ALTER TABLE {target} DROP CONSTRAINT {check_name}"),
            ],
        );
        step.transactional = false;
        step.lock = Some(format!(
            "{SHARE_UPDATE_EXCLUSIVE} for the scan; ACCESS EXCLUSIVE briefly for each ALTER"
        ));
        step.hazards.push(Hazard::new(
            HazardKind::Validation,
            object.clone(),
            format!("fails if {object} holds NULLs"),
        ));
        if let Some([current]) = self
            .current_columns(schema, table, std::slice::from_ref(&column.name))
            .as_deref()
        {
            step.checks.push(DataCheck {
                description: format!("add NOT NULL to {object}"),
                remedy: "backfill them or give a default first".to_string(),
                violations_sql: format!(
                    "SELECT {} FROM {} WHERE {} IS NULL",
                    key_expression(existing),
                    current_name(existing),
                    quote_ident(current)
                ),
            });
        }
        phases.after.push(step);
    }

    fn add_index(
        &self,
        schema: &Option<String>,
        table: &str,
        index: &Index,
        describe: String,
        phases: &mut Phases,
    ) -> Result<()> {
        let Some(desired) = self.desired_table(schema, table) else {
            return Err(Error::InvalidSchema(format!(
                "index {} on {table}, which the desired schema lacks",
                index.name
            )));
        };
        match self
            .existing(schema, table)
            .filter(|_| !self.options.unsafe_plain_ddl)
        {
            Some(existing) => {
                // An invalid index left by a failed concurrent build is dropped first.
                let mut step = Step::new(
                    describe,
                    vec![
                        format!(
                            "DROP INDEX CONCURRENTLY IF EXISTS {}",
                            qualified(schema.as_deref(), &index.name)
                        ),
                        ddl::create_index(desired, index, true),
                    ],
                );
                step.transactional = false;
                step.lock = Some(SHARE_UPDATE_EXCLUSIVE.to_string());
                step.hazards.push(Hazard::new(
                    HazardKind::IndexBuild,
                    format!("{table}.{}", index.name),
                    format!(
                        "builds index {} concurrently over the rows of {table}",
                        index.name
                    ),
                ));
                if index.unique {
                    let columns: Option<Vec<String>> =
                        index.parts.iter().map(|p| p.column.clone()).collect();
                    step.hazards.push(Hazard::new(
                        HazardKind::Validation,
                        format!("{table}.{}", index.name),
                        format!(
                            "fails if {table} holds duplicates for unique index {}",
                            index.name
                        ),
                    ));
                    let columns = columns.and_then(|c| self.row_values(schema, table, &c, ""));
                    if let (Some(columns), None) = (columns, &index.predicate) {
                        step.checks.push(duplicates_check(
                            existing,
                            &columns,
                            &format!("create unique index {} on {table}", index.name),
                        ));
                    }
                }
                phases.after.push(step);
            }
            None => phases.transaction.push(Step::new(
                describe,
                vec![ddl::create_index(desired, index, false)],
            )),
        }
        Ok(())
    }

    fn validate_step(&self, schema: &Option<String>, table: &str, name: &str) -> Step {
        let mut step = Step::new(
            format!("validate constraint {name} on {table}"),
            vec![format!(
                "ALTER TABLE {} VALIDATE CONSTRAINT {}",
                qualified(schema.as_deref(), table),
                quote_ident(name)
            )],
        );
        step.transactional = false;
        step.lock = Some(SHARE_UPDATE_EXCLUSIVE.to_string());
        step
    }

    /// Rows of `existing` whose values for `fk` reference no row of its parent; `None`
    /// when no row can violate it (see [`Planner::row_values`]).
    fn foreign_key_check(
        &self,
        schema: &Option<String>,
        table: &str,
        existing: &Table,
        fk: &schemasync_core::ForeignKey,
    ) -> Option<DataCheck> {
        let values = self.row_values(schema, table, &fk.columns, "c.")?;
        let child = qualified(existing.schema.as_deref(), &existing.name);
        let not_null = values
            .iter()
            .map(|v| format!("{v} IS NOT NULL"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let parent = self.existing(&fk.referenced_schema, &fk.referenced_table);
        let violations_sql = if let Some(parent_table) = parent {
            let parent = current_name(parent_table);
            let referenced = self.current_columns(
                &fk.referenced_schema,
                &fk.referenced_table,
                &fk.referenced_columns,
            )?;
            let joined = values
                .iter()
                .zip(&referenced)
                .map(|(v, p)| format!("p.{} = {v}", quote_ident(p)))
                .collect::<Vec<_>>()
                .join(" AND ");
            format!(
                "SELECT {} FROM {child} AS c WHERE {not_null} AND NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE {joined})",
                key_expression_for(existing, "c.")
            )
        } else {
            format!(
                "SELECT {} FROM {child} AS c WHERE {not_null}",
                key_expression_for(existing, "c.")
            )
        };
        Some(DataCheck {
            description: format!(
                "add FOREIGN KEY ({}) REFERENCES {} to {}",
                fk.columns.join(", "),
                fk.referenced_table,
                existing.name
            ),
            remedy: "delete or fix the rows that reference nothing first".to_string(),
            violations_sql,
        })
    }

    /// A domain's default, NOT NULL and CHECKs changed in place. A new CHECK or NOT NULL
    /// is checked first against every column of the domain, then added `NOT VALID` and
    /// validated after the transaction; the base type cannot change in place.
    fn alter_domain(
        &self,
        from: &Domain,
        to: &Domain,
        describe: String,
        phases: &mut Phases,
    ) -> Result<()> {
        let name = qualified(to.schema.as_deref(), &to.name);
        let object = qualify(to.schema.as_deref(), &to.name);
        if from.data_type != to.data_type || from.collation != to.collation {
            return Err(Error::Unsupported(format!(
                "PostgreSQL cannot change the base type or collation of domain {object} in place; create a new domain and move the columns to it"
            )));
        }
        let columns = self.domain_columns(from);
        let mut sql = Vec::new();
        let mut step_checks = Vec::new();
        let mut hazards = Vec::new();
        if from.default != to.default {
            sql.push(match &to.default {
                Some(default) => format!("ALTER DOMAIN {name} SET DEFAULT {default}"),
                None => format!("ALTER DOMAIN {name} DROP DEFAULT"),
            });
        }
        for check in from.checks.iter().filter(|c| !to.checks.contains(c)) {
            sql.push(format!(
                "ALTER DOMAIN {name} DROP CONSTRAINT {}",
                quote_ident(check.name.as_deref().unwrap_or_default())
            ));
        }
        if from.not_null && !to.not_null {
            sql.push(format!("ALTER DOMAIN {name} DROP NOT NULL"));
        }
        let mut validations = Vec::new();
        for check in to.checks.iter().filter(|c| !from.checks.contains(c)) {
            let constraint = quote_ident(check.name.as_deref().unwrap_or_default());
            sql.push(format!(
                "ALTER DOMAIN {name} ADD{} NOT VALID",
                ddl::domain_check(check)
            ));
            validations.push(format!(
                "ALTER DOMAIN {name} VALIDATE CONSTRAINT {constraint}"
            ));
            hazards.push(Hazard::new(
                HazardKind::Validation,
                object.clone(),
                format!(
                    "fails if a column of domain {object} holds a value outside CHECK ({})",
                    check.expression
                ),
            ));
            for (table, column) in &columns {
                step_checks.push(DataCheck {
                    description: format!(
                        "add CHECK ({}) to domain {object} ({}.{column})",
                        check.expression, table.name
                    ),
                    remedy: "fix those values first".to_string(),
                    violations_sql: format!(
                        "SELECT {} FROM {} WHERE {} IS NOT NULL AND NOT ({})",
                        key_expression(table),
                        qualified(table.schema.as_deref(), &table.name),
                        quote_ident(column),
                        replace_value(&check.expression, &quote_ident(column))
                    ),
                });
            }
        }
        if !from.not_null && to.not_null {
            // No NOT VALID form: SET NOT NULL scans every column of the domain at once.
            sql.push(format!("ALTER DOMAIN {name} SET NOT NULL"));
            hazards.push(Hazard::new(
                HazardKind::Validation,
                object.clone(),
                format!("fails if a column of domain {object} holds NULLs"),
            ));
            for (table, column) in &columns {
                step_checks.push(DataCheck {
                    description: format!(
                        "add NOT NULL to domain {object} ({}.{column})",
                        table.name
                    ),
                    remedy: "backfill them first".to_string(),
                    violations_sql: format!(
                        "SELECT {} FROM {} WHERE {} IS NULL",
                        key_expression(table),
                        qualified(table.schema.as_deref(), &table.name),
                        quote_ident(column)
                    ),
                });
            }
        }
        if from.comment != to.comment {
            sql.push(ddl::comment_on_object(
                &Commented::Domain(to.clone()),
                to.comment.as_deref(),
            ));
        }
        let mut step = Step::new(describe.clone(), sql);
        step.hazards = hazards;
        step.checks = step_checks;
        phases.transaction.push(step);
        if !validations.is_empty() {
            let mut validate = Step::new(format!("validate {describe}"), validations);
            validate.transactional = false;
            validate.lock = Some(SHARE_UPDATE_EXCLUSIVE.to_string());
            phases.after.push(validate);
        }
        Ok(())
    }

    /// The current tables and columns whose type is `domain`.
    fn domain_columns(&self, domain: &Domain) -> Vec<(&Table, String)> {
        self.current
            .tables
            .iter()
            .flat_map(|table| {
                table
                    .columns
                    .iter()
                    .filter(|c| {
                        !c.data_type.ends_with("[]") && has_type(c, &domain.schema, &domain.name)
                    })
                    .map(move |c| (table, c.name.clone()))
            })
            .collect()
    }

    /// The table's primary key dropped and added again with the same columns under
    /// another name, both named: `(old, new)`, planned as one `RENAME CONSTRAINT`.
    fn renamed_primary_key(
        &self,
        schema: &Option<String>,
        table: &str,
    ) -> Option<(&PrimaryKey, &PrimaryKey)> {
        let (mut dropped, mut added) = (None, None);
        for change in self.changes {
            if let Change::SetPrimaryKey {
                schema: s,
                table: t,
                from,
                to,
            } = change
            {
                if s == schema && t == table {
                    match (from, to) {
                        (Some(old), None) => dropped = Some(old),
                        (None, Some(new)) => added = Some(new),
                        _ => {}
                    }
                }
            }
        }
        let (old, new) = (dropped?, added?);
        (old.columns == new.columns && old.name.is_some() && new.name.is_some())
            .then_some((old, new))
    }

    /// Whether a foreign key the plan adds (or a table it creates) references `table`:
    /// then the key it needs must exist inside the transaction.
    fn referenced_by_new_foreign_key(&self, schema: &Option<String>, table: &str) -> bool {
        let references = |fk: &schemasync_core::ForeignKey| {
            fk.referenced_table == table && &fk.referenced_schema == schema
        };
        self.changes.iter().any(|c| match c {
            Change::AddForeignKey { foreign_key, .. } => references(foreign_key),
            Change::CreateTable { table } => table.foreign_keys.iter().any(references),
            _ => false,
        })
    }

    /// A primary key on an existing table: its unique index built concurrently, then
    /// attached (`USING INDEX`), after the transaction. Its columns are NOT NULL by then
    /// (set through validated CHECKs earlier in the same phase), so attaching only takes
    /// a brief ACCESS EXCLUSIVE lock.
    fn add_primary_key_concurrently(
        &self,
        schema: &Option<String>,
        table: &str,
        key: &PrimaryKey,
        describe: String,
    ) -> Step {
        let target = qualified(schema.as_deref(), table);
        let name = key.name.clone().unwrap_or_else(|| format!("{table}_pkey"));
        let index = quote_ident(&name);
        let columns = key
            .columns
            .iter()
            .map(|c| quote_ident(c))
            .collect::<Vec<_>>()
            .join(", ");
        let mut step = Step::new(
            describe,
            vec![
                format!(
                    "DROP INDEX CONCURRENTLY IF EXISTS {}",
                    qualified(schema.as_deref(), &name)
                ),
                format!("CREATE UNIQUE INDEX CONCURRENTLY {index} ON {target} ({columns})"),
                format!(
                    "ALTER TABLE {target} ADD CONSTRAINT {index} PRIMARY KEY USING INDEX {index}"
                ),
            ],
        );
        step.transactional = false;
        step.lock = Some(format!(
            "{SHARE_UPDATE_EXCLUSIVE} for the build; ACCESS EXCLUSIVE briefly to attach it"
        ));
        step.hazards.push(Hazard::new(
            HazardKind::IndexBuild,
            qualify(schema.as_deref(), table),
            "builds the primary key's index concurrently",
        ));
        step.hazards.push(Hazard::new(
            HazardKind::Validation,
            qualify(schema.as_deref(), table),
            format!(
                "fails if ({}) holds duplicates or NULLs",
                key.columns.join(", ")
            ),
        ));
        if let (Some(existing), Some(values)) = (
            self.existing(schema, table),
            self.row_values(schema, table, &key.columns, ""),
        ) {
            step.checks.push(duplicates_check(
                existing,
                &values,
                &format!(
                    "make ({}) the primary key of {table}",
                    key.columns.join(", ")
                ),
            ));
        }
        step
    }

    /// Recreates an enum whose labels were removed or reordered, converting its columns.
    fn recreate_enum(&self, from: &EnumType, to: &EnumType, describe: String) -> Step {
        let old = qualified(from.schema.as_deref(), &from.name);
        let new_type = qualified(to.schema.as_deref(), &to.name);
        let scratch = format!("{}_schemasync_old", from.name);
        let mut sql = vec![format!(
            "ALTER TYPE {old} RENAME TO {}",
            quote_ident(&scratch)
        )];
        sql.extend(ddl::created_with_comment(
            ddl::create_enum(to),
            &Commented::Enum(to.clone()),
        ));
        let mut step_hazards = Vec::new();
        let mut checks = Vec::new();
        for table in tables_using_enum(self.current, from) {
            for column in table.columns.iter().filter(|c| uses_enum(c, from)) {
                if !column.data_type.ends_with("[]") {
                    checks.push(cast_check(
                        table,
                        &column.name,
                        &to.name,
                        Conversion::Labels(&to.values),
                        &qualify(
                            table.schema.as_deref(),
                            &format!("{}.{}", table.name, column.name),
                        ),
                    ));
                }
                let target = qualified(table.schema.as_deref(), &table.name);
                let quoted = quote_ident(&column.name);
                if let Some(default) = &column.default {
                    sql.push(format!(
                        "ALTER TABLE {target} ALTER COLUMN {quoted} DROP DEFAULT"
                    ));
                    sql.push(format!(
                        "ALTER TABLE {target} ALTER COLUMN {quoted} TYPE {new_type} USING {quoted}::text::{new_type}"
                    ));
                    sql.push(format!(
                        "ALTER TABLE {target} ALTER COLUMN {quoted} SET DEFAULT {}",
                        default.replace(&format!("::{}", from.name), &format!("::{}", to.name))
                    ));
                } else {
                    sql.push(format!(
                        "ALTER TABLE {target} ALTER COLUMN {quoted} TYPE {new_type} USING {quoted}::text::{new_type}"
                    ));
                }
                step_hazards.push(Hazard::new(
                    HazardKind::Validation,
                    format!("{}.{}", table.name, column.name),
                    format!(
                        "fails if {}.{} holds a label {} no longer has",
                        table.name, column.name, to.name
                    ),
                ));
                step_hazards.push(Hazard::new(
                    HazardKind::TableRewrite,
                    format!("{}.{}", table.name, column.name),
                    format!("rewrites {} to convert {}", table.name, column.name),
                ));
            }
        }
        sql.push(format!(
            "DROP TYPE {}",
            qualified(from.schema.as_deref(), &scratch)
        ));
        let mut step = Step::new(describe, sql);
        step.hazards = step_hazards;
        step.checks = checks;
        step
    }
}

/// What switching a table's row-level security from `from` to `to` does to access, for
/// the step's text (no hazard kind of SPEC §4 fits a change of who sees which rows).
fn row_security_note(table: &Table, from: RowSecurity, to: RowSecurity) -> String {
    let name = qualify(table.schema.as_deref(), &table.name);
    let mut notes = Vec::new();
    if to.enabled && !from.enabled {
        notes.push(if table.policies.is_empty() {
            format!("warning: {name} has no policy, so every role but its owner (and superusers and BYPASSRLS roles) sees no row of it and can change none")
        } else {
            format!("access narrows: roles other than the owner see and change only the rows the policies of {name} allow")
        });
    }
    if from.enabled && !to.enabled {
        notes.push(format!(
            "access widens: every role with privileges on {name} sees and changes every row again"
        ));
    }
    if to.forced && !from.forced {
        notes.push(format!(
            "access narrows for the owner of {name}, who is held to its policies too"
        ));
    }
    if from.forced && !to.forced {
        notes.push(format!(
            "access widens for the owner of {name}, who bypasses its policies again"
        ));
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    }
}

/// What creating or dropping `policy` does to access when its table enforces row-level
/// security, for the step's text.
fn policy_access_note(policy: &Policy, created: bool, enforced: bool) -> &'static str {
    if !enforced {
        return "";
    }
    match (policy.restrictive, created) {
        (false, true) => " (access widens: its roles may see and change the rows it allows)",
        (false, false) => {
            " (access narrows: rows only this policy allowed are hidden from its roles)"
        }
        (true, true) => " (access narrows: its roles see and change only rows it also allows)",
        (true, false) => {
            " (access widens: rows this policy refused become reachable for its roles)"
        }
    }
}

/// A check, before anything changes, that every role a policy names exists (roles are
/// not managed: PostgreSQL would refuse the policy in the middle of the plan).
fn roles_check(describe: &str, policy: &Policy) -> Option<DataCheck> {
    let named: Vec<String> = policy
        .roles
        .iter()
        .filter(|r| r.as_str() != PUBLIC_ROLE)
        .map(|r| quote_literal(r))
        .collect();
    if named.is_empty() {
        return None;
    }
    Some(DataCheck {
        description: format!(
            "{describe}: its role(s) {} must exist",
            policy.roles.join(", ")
        ),
        remedy: "create the missing role(s) first (schemasync does not manage roles)".to_string(),
        violations_sql: format!(
            "SELECT 'role ' || r || ' does not exist' FROM unnest(ARRAY[{}]::text[]) AS r \
             WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r)",
            named.join(", ")
        ),
    })
}

/// The `RETURNS …` line of a `pg_get_functiondef` text (procedures have none).
fn returns_clause(definition: &str) -> Option<&str> {
    definition
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("RETURNS "))
}

/// Heads the statements that drop our own temporary NOT NULL check: squawk's
/// `ban-drop-constraint` protects guarantees clients rely on, and this one was added
/// by the same step a moment before (the column's NOT NULL replaces it).
const TEMPORARY_CHECK_DROP: &str =
    "-- our temporary check: NOT NULL replaces it\n-- squawk-ignore ban-drop-constraint\n";

fn drop_constraint(schema: &Option<String>, table: &str, name: &str) -> String {
    format!(
        "ALTER TABLE {} DROP CONSTRAINT {}",
        qualified(schema.as_deref(), table),
        quote_ident(name)
    )
}

/// Built-in volatile functions a default may call (`provolatile = 'v'` in `pg_proc`).
const VOLATILE_BUILTINS: &[&str] = &[
    "random",
    "clock_timestamp",
    "timeofday",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "nextval",
    "currval",
    "lastval",
    "txid_current",
    "pg_current_xact_id",
];

/// Whether a default calls a volatile function, so PostgreSQL evaluates it per row and
/// rewrites the table to add the column. A function of the desired schema is volatile
/// unless its canonical definition says `IMMUTABLE` or `STABLE` (volatile is
/// PostgreSQL's default and `pg_get_functiondef` leaves it out).
fn is_volatile_default(default: &str, functions: &[Function]) -> bool {
    let tokens: Vec<Token> = lex(default)
        .into_iter()
        .filter(|t| !matches!(t, Token::Space | Token::Comment(_)))
        .collect();
    tokens.windows(2).any(|pair| {
        let name = match &pair[0] {
            Token::Word(word) => word.to_ascii_lowercase(),
            Token::QuotedIdent(name) => name.clone(),
            _ => return false,
        };
        if !matches!(pair[1], Token::Other(text) if text.starts_with('(')) {
            return false;
        }
        VOLATILE_BUILTINS.contains(&name.as_str())
            || functions.iter().any(|f| {
                f.name == name && {
                    let definition = f.definition.to_ascii_uppercase();
                    !definition.contains(" IMMUTABLE") && !definition.contains(" STABLE")
                }
            })
    })
}

/// The `n` of `character varying(n)` or `character(n)`: the types whose limit only
/// the assignment cast enforces.
fn length_limit(data_type: &str) -> Option<u32> {
    ["character varying(", "character("]
        .iter()
        .find_map(|prefix| {
            data_type
                .strip_prefix(prefix)?
                .strip_suffix(')')?
                .parse()
                .ok()
        })
}

/// A domain CHECK's expression with `VALUE` replaced by `column`.
fn replace_value(expression: &str, column: &str) -> String {
    let mut out = String::with_capacity(expression.len());
    let mut copied = 0;
    for (token, span) in lex_spanned(expression) {
        if matches!(token, Token::Word(word) if word.eq_ignore_ascii_case("value")) {
            out.push_str(&expression[copied..span.start]);
            out.push_str(column);
            copied = span.end;
        }
    }
    out.push_str(&expression[copied..]);
    out
}

/// How a type change's data check finds the values that will not convert.
enum Conversion<'a> {
    /// To an enum (which may not exist before the plan): values outside its labels.
    Labels(&'a [String]),
    /// To `character varying(n)` or `character(n)`: values longer than `n`.
    Length(u32),
    /// Anything else: values the cast rejects ([`crate::apply::CAST_FAILURES`]).
    Cast,
}

/// Rows of `existing` whose `column` will not convert to `data_type`.
fn cast_check(
    existing: &Table,
    column: &str,
    data_type: &str,
    conversion: Conversion,
    object: &str,
) -> DataCheck {
    let target = qualified(existing.schema.as_deref(), &existing.name);
    let quoted = quote_ident(column);
    let rejected = |condition: String| {
        format!(
            "SELECT {} || ' (' || left({quoted}::text, 40) || ')' FROM {target} WHERE {condition}",
            key_expression(existing),
        )
    };
    let violations_sql = match conversion {
        Conversion::Labels(labels) => rejected(format!(
            "{quoted}::text NOT IN ({})",
            labels
                .iter()
                .map(|l| quote_literal(l))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Conversion::Length(limit) => rejected(format!("char_length({quoted}::text) > {limit}")),
        Conversion::Cast => format!(
            "SELECT * FROM {}({}, {}, {}, {})",
            crate::apply::CAST_FAILURES,
            quote_literal(&target),
            quote_literal(column),
            quote_literal(data_type),
            quote_literal(&key_expression(existing))
        ),
    };
    DataCheck {
        description: format!("convert {object} to {data_type}"),
        remedy: "fix or clear those values first".to_string(),
        violations_sql,
    }
}

/// Conversions that succeed for every value: to text, and integer widening.
fn cast_cannot_fail(from: &str, to: &str) -> bool {
    const INTEGERS: [&str; 3] = ["smallint", "integer", "bigint"];
    let rank = |t: &str| INTEGERS.iter().position(|i| *i == t);
    to == "text"
        || (from == "real" && to == "double precision")
        || (rank(from).is_some() && (to == "numeric" || to == "double precision"))
        || matches!((rank(from), rank(to)), (Some(a), Some(b)) if b >= a)
}

/// Type changes PostgreSQL makes without rewriting the table.
fn binary_coercible(from: &str, to: &str) -> bool {
    let widen = |prefix: &str| {
        let size = |t: &str| {
            t.strip_prefix(prefix)
                .and_then(|r| r.strip_prefix('('))
                .and_then(|r| r.strip_suffix(')'))
                .and_then(|n| n.parse::<u32>().ok())
        };
        matches!((size(from), size(to)), (Some(a), Some(b)) if b >= a)
            || (from.starts_with(prefix) && to == prefix)
    };
    widen("character varying") || (from.starts_with("character varying") && to == "text")
}

/// The qualified current name of a table, for data checks (which run before the plan).
fn current_name(table: &Table) -> String {
    qualified(table.schema.as_deref(), &table.name)
}

/// An SQL expression naming a row for error messages: `id=4`.
fn key_expression(table: &Table) -> String {
    key_expression_for(table, "")
}

fn key_expression_for(table: &Table, alias: &str) -> String {
    match &table.primary_key {
        Some(pk) if !pk.columns.is_empty() => pk
            .columns
            .iter()
            .map(|c| {
                format!(
                    "{} || '=' || coalesce({alias}{}::text, 'NULL')",
                    quote_literal(c),
                    quote_ident(c)
                )
            })
            .collect::<Vec<_>>()
            .join(" || ', ' || "),
        _ => format!("'ctid=' || {alias}ctid::text"),
    }
}

/// Rows whose `values` (SQL over the table's current rows, from
/// [`Planner::row_values`]) appear more than once; NULLs never collide.
fn duplicates_check(table: &Table, values: &[String], description: &str) -> DataCheck {
    let target = qualified(table.schema.as_deref(), &table.name);
    let names: Vec<String> = (1..=values.len()).map(|i| format!("v{i}")).collect();
    let selected = values
        .iter()
        .zip(&names)
        .map(|(value, name)| format!("{value} AS {name}"))
        .collect::<Vec<_>>()
        .join(", ");
    let not_null = names
        .iter()
        .map(|n| format!("{n} IS NOT NULL"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let names = names.join(", ");
    DataCheck {
        description: description.to_string(),
        remedy: "remove the duplicates first".to_string(),
        violations_sql: format!(
            "WITH v AS (SELECT {} AS row_key, {selected} FROM {target}) \
             SELECT row_key FROM v WHERE {not_null} AND ({names}) IN \
             (SELECT {names} FROM v WHERE {not_null} GROUP BY {names} HAVING count(*) > 1)",
            key_expression(table),
        ),
    }
}

fn alter_sequence(from: &Sequence, to: &Sequence, tables: &[Table]) -> Vec<String> {
    let mut sql = vec![format!(
        "ALTER SEQUENCE {} {}",
        qualified(to.schema.as_deref(), &to.name),
        ddl::sequence_options(to)
    )];
    if from.owned_by != to.owned_by {
        sql.push(ddl::sequence_owned_by(
            to,
            to.owned_by.as_deref().unwrap_or(""),
            tables,
        ));
    }
    sql
}
