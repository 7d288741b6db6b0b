//! Runs a plan: guards, data checks, backup, the steps, verification, history — all in
//! one `BEGIN IMMEDIATE` transaction, so the database either ends at the desired schema
//! or stays exactly as it was.
//!
//! Foreign-key enforcement is switched off around the transaction (SQLite's rebuild
//! procedure: dropping a parent must never cascade into its children) and restored
//! afterwards; `PRAGMA foreign_key_check` then guards what enforcement would have.

use crate::backup;
use crate::driver::{sqlite_error, SqliteDriver};
use crate::history::{self, HistoryEntry};
use crate::introspect;
use crate::planner::{REBUILD_PREFIX, SCHEMA_REWRITE_PREFIX};
use crate::quote::quote_ident;
use rusqlite::Connection;
use schemasync_core::{
    diff, ApplyOptions, ApplyReport, Change, DataCheck, Dialect, Driver, Error, HazardKind, Plan,
    Result, Schema,
};
use std::collections::BTreeSet;

/// Applies `plan` to the driver's database; see the module documentation.
pub(crate) fn apply(
    driver: &mut SqliteDriver,
    plan: &Plan,
    desired: &Schema,
    options: &ApplyOptions,
) -> Result<ApplyReport> {
    if plan.is_empty() {
        return Ok(ApplyReport::default());
    }
    plan.refuse_data_loss(options.allow_data_loss)?;
    let diff_options = driver.diff_options();
    let database = driver.path.as_deref();
    write_transaction(&driver.conn, !options.dry_run, |conn| {
        run_plan(conn, database, plan, desired, options, &diff_options)
    })
}

/// Runs `body` in one `BEGIN IMMEDIATE` transaction with foreign-key enforcement off,
/// committing when it succeeds and `commit` is set, rolling back otherwise.
pub(crate) fn write_transaction<T>(
    conn: &Connection,
    commit: bool,
    body: impl FnOnce(&Connection) -> Result<T>,
) -> Result<T> {
    let foreign_keys_on: bool = conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .map_err(|e| sqlite_error("cannot read PRAGMA foreign_keys", e))?;
    if foreign_keys_on {
        set_foreign_keys(conn, false)?;
    }
    let outcome = conn
        .execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| sqlite_error("cannot take the write lock (BEGIN IMMEDIATE)", e))
        .and_then(|()| {
            let result = body(conn);
            let end = match &result {
                Ok(_) if commit => "COMMIT",
                _ => "ROLLBACK",
            };
            match conn.execute_batch(end) {
                Ok(()) => result,
                Err(e) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    result.and(Err(sqlite_error(format!("cannot {end}"), e)))
                }
            }
        });
    if foreign_keys_on {
        set_foreign_keys(conn, true)?;
    }
    outcome
}

/// Runs a non-empty plan inside a transaction the caller holds: data checks, backup,
/// the steps, verification against `desired`, history.
pub(crate) fn run_plan(
    conn: &Connection,
    database: Option<&std::path::Path>,
    plan: &Plan,
    desired: &Schema,
    options: &ApplyOptions,
    diff_options: &schemasync_core::DiffOptions,
) -> Result<ApplyReport> {
    Run {
        conn,
        database,
        plan,
        desired,
        options,
    }
    .inside_transaction(diff_options)
}

fn set_foreign_keys(conn: &Connection, on: bool) -> Result<()> {
    let value = if on { "ON" } else { "OFF" };
    conn.execute_batch(&format!("PRAGMA foreign_keys = {value}"))
        .map_err(|e| sqlite_error(format!("cannot set PRAGMA foreign_keys = {value}"), e))
}

struct Run<'a> {
    conn: &'a Connection,
    database: Option<&'a std::path::Path>,
    plan: &'a Plan,
    desired: &'a Schema,
    options: &'a ApplyOptions,
}

impl Run<'_> {
    fn inside_transaction(
        &self,
        diff_options: &schemasync_core::DiffOptions,
    ) -> Result<ApplyReport> {
        for check in self.plan.checks() {
            self.run_check(check)?;
        }
        let mut report = ApplyReport::default();
        if self.options.dry_run {
            return Ok(report);
        }
        if let (Some(dir), Some(database)) = (&self.options.backup_dir, self.database) {
            if touches_existing_data(self.plan) {
                report.backup = Some(backup::backup_during_apply(
                    self.conn,
                    database,
                    dir,
                    self.options.progress.as_deref(),
                )?);
            }
        }
        let checked = tables_to_check(self.plan, self.desired);
        let violations_before = foreign_key_violations(self.conn, &checked)?;
        let progress = self.options.progress.as_deref();
        let total = self.plan.steps.len();
        let mut rewrote_schema = false;
        for (number, step) in self.plan.steps.iter().enumerate() {
            // A step is one statement batch with no row count to report: show which step
            // runs, and for how long.
            if let Some(progress) = progress {
                progress.begin(
                    &format!("step {}/{total}: {}", number + 1, step.description),
                    None,
                );
            }
            for statement in &step.sql {
                self.conn.execute_batch(statement).map_err(|e| {
                    // SQLite names the rebuild's scratch table; the user knows the real one.
                    Error::database(
                        Dialect::Sqlite,
                        format!(
                            "step {} ({}) failed; nothing was changed",
                            number + 1,
                            step.description
                        ),
                        e.to_string().replace(REBUILD_PREFIX, ""),
                    )
                })?;
                if statement.starts_with(SCHEMA_REWRITE_PREFIX) {
                    bump_schema_version(self.conn)?;
                    rewrote_schema = true;
                }
            }
            report.steps_run += 1;
            if let Some(progress) = progress {
                progress.finish();
            }
        }
        // A rewrite that declared new constraints (NOT NULL, CHECK) is re-verified by
        // SQLite itself against every row, on top of our own data checks.
        if rewrote_schema && self.plan.has_hazard(HazardKind::Validation) {
            quick_check(self.conn, &checked)?;
        }
        self.verify(diff_options, &checked, &violations_before)?;
        history::record(
            self.conn,
            &HistoryEntry {
                applied_at: now_rfc3339(),
                schema_hash: self.desired.fingerprint(),
                label: self.options.label.clone(),
                summary: self
                    .plan
                    .changes
                    .iter()
                    .map(|c| c.describe())
                    .collect::<Vec<_>>()
                    .join("\n"),
                tool_version: env!("CARGO_PKG_VERSION").to_string(),
            },
        )?;
        Ok(report)
    }

    fn run_check(&self, check: &DataCheck) -> Result<()> {
        let context = || {
            format!(
                "cannot check whether existing rows allow: {}",
                check.description
            )
        };
        let mut statement = self
            .conn
            .prepare(&check.violations_sql)
            .map_err(|e| sqlite_error(context(), e))?;
        let mut rows = statement
            .query([])
            .map_err(|e| sqlite_error(context(), e))?;
        let mut count = 0u64;
        let mut sample = Vec::new();
        while let Some(row) = rows.next().map_err(|e| sqlite_error(context(), e))? {
            count += 1;
            if sample.len() < DataCheck::SAMPLE {
                let key: rusqlite::types::Value =
                    row.get(0).map_err(|e| sqlite_error(context(), e))?;
                sample.push(match key {
                    rusqlite::types::Value::Text(t) => t,
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Real(r) => r.to_string(),
                    rusqlite::types::Value::Null => "NULL".to_string(),
                    rusqlite::types::Value::Blob(_) => "<blob>".to_string(),
                });
            }
        }
        if count == 0 {
            Ok(())
        } else {
            Err(check.refusal(count, &sample))
        }
    }

    /// The database must now equal the desired schema, with no new foreign-key violation.
    fn verify(
        &self,
        diff_options: &schemasync_core::DiffOptions,
        checked: &BTreeSet<String>,
        violations_before: &BTreeSet<String>,
    ) -> Result<()> {
        let live = introspect::introspect(self.conn)?;
        let drift = diff(&live, &self.desired.clone().without_hints(), diff_options);
        if !drift.is_empty() {
            return Err(Error::VerificationFailed {
                drift: drift
                    .iter()
                    .map(|c| c.describe())
                    .collect::<Vec<_>>()
                    .join("; "),
            });
        }
        let after = foreign_key_violations(self.conn, checked)?;
        let new: Vec<&String> = after.difference(violations_before).collect();
        if let Some(first) = new.first() {
            return Err(Error::Database {
                dialect: Dialect::Sqlite,
                context: "rolled back: the change breaks foreign keys".to_string(),
                message: format!(
                    "PRAGMA foreign_key_check reports {} new violation(s), first: {first}",
                    new.len()
                ),
            });
        }
        Ok(())
    }
}

/// Whether a plan touches anything that existed before it (and so deserves a backup):
/// creating tables, their indexes, views and triggers does not.
fn touches_existing_data(plan: &Plan) -> bool {
    let created: BTreeSet<String> = plan
        .changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateTable { table } => Some(table.name.to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    plan.changes.iter().any(|c| match c {
        Change::CreateTable { .. } | Change::CreateView { .. } | Change::CreateTrigger { .. } => {
            false
        }
        other => other
            .altered_table()
            .is_none_or(|table| !created.contains(&table.to_ascii_lowercase())),
    })
}

/// The tables whose rows a plan can affect: every table it creates, alters or renames,
/// and every desired table with a foreign key to one of those or to a dropped table.
/// Post-apply checks look at these only, so a small change to a large database stays cheap.
fn tables_to_check(plan: &Plan, desired: &Schema) -> BTreeSet<String> {
    let mut touched = BTreeSet::new();
    for change in &plan.changes {
        match change {
            Change::CreateTable { table } | Change::DropTable { table } => {
                touched.insert(table.name.to_ascii_lowercase());
            }
            Change::RenameTable { from, to, .. } => {
                touched.insert(from.to_ascii_lowercase());
                touched.insert(to.to_ascii_lowercase());
            }
            other => {
                if let Some(table) = other.altered_table() {
                    touched.insert(table.to_ascii_lowercase());
                }
            }
        }
    }
    let children: Vec<String> = desired
        .tables
        .iter()
        .filter(|t| {
            t.foreign_keys
                .iter()
                .any(|fk| touched.contains(&fk.referenced_table.to_ascii_lowercase()))
        })
        .map(|t| t.name.to_ascii_lowercase())
        .collect();
    touched.extend(children);
    touched
}

/// Whether an ordinary table of this name exists now.
fn table_exists(conn: &Connection, name: &str) -> Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE",
        [name],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
    .map_err(|e| sqlite_error(format!("cannot look up table {name}"), e))
}

/// Every row `PRAGMA foreign_key_check` reports for these tables (as children), as
/// `row N of table references a missing row of parent`.
fn foreign_key_violations(
    conn: &Connection,
    tables: &BTreeSet<String>,
) -> Result<BTreeSet<String>> {
    let mut violations = BTreeSet::new();
    for table in tables {
        if !table_exists(conn, table)? {
            continue;
        }
        let context = || format!("cannot run PRAGMA foreign_key_check on {table}");
        let mut statement = conn
            .prepare(&format!("PRAGMA foreign_key_check({})", quote_ident(table)))
            .map_err(|e| sqlite_error(context(), e))?;
        let rows = statement
            .query_map([], |r| {
                Ok(format!(
                    "row {} of {} references a missing row of {}",
                    r.get::<_, Option<i64>>(1)?
                        .map_or_else(|| "?".to_string(), |id| id.to_string()),
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(2)?
                ))
            })
            .map_err(|e| sqlite_error(context(), e))?;
        for row in rows {
            violations.insert(row.map_err(|e| sqlite_error(context(), e))?);
        }
    }
    Ok(violations)
}

/// SQLite's procedure for editing `sqlite_schema`: bump `schema_version` so every
/// connection reloads the schema.
fn bump_schema_version(conn: &Connection) -> Result<()> {
    let version: i64 = conn
        .query_row("PRAGMA schema_version", [], |r| r.get(0))
        .map_err(|e| sqlite_error("cannot read schema_version", e))?;
    conn.execute_batch(&format!("PRAGMA schema_version = {}", version + 1))
        .map_err(|e| sqlite_error("cannot bump schema_version", e))
}

/// `PRAGMA quick_check` of each table that still exists: the rows must satisfy the
/// constraints the table's (rewritten) text declares.
fn quick_check(conn: &Connection, tables: &BTreeSet<String>) -> Result<()> {
    for table in tables {
        if !table_exists(conn, table)? {
            continue;
        }
        let verdict: String = conn
            .query_row(
                &format!("PRAGMA quick_check({})", quote_ident(table)),
                [],
                |r| r.get(0),
            )
            .map_err(|e| sqlite_error(format!("cannot run PRAGMA quick_check on {table}"), e))?;
        if verdict != "ok" {
            return Err(Error::database(
                Dialect::Sqlite,
                format!("rolled back: table {table} failed PRAGMA quick_check after the change"),
                verdict,
            ));
        }
    }
    Ok(())
}

pub(crate) fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
