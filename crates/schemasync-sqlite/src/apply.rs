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
use crate::planner::SCHEMA_REWRITE_PREFIX;
use rusqlite::Connection;
use schemasync_core::{
    diff, ApplyOptions, ApplyReport, DataCheck, Driver, Error, HazardKind, Plan, Result, Schema,
};
use std::collections::BTreeSet;

/// How many offending keys a validation error shows.
const SAMPLE_KEYS: usize = 5;

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
    refuse_data_loss(plan, options)?;
    let diff_options = driver.diff_options();
    let conn = &driver.conn;
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
            let run = Run {
                conn,
                database: driver.path.as_deref(),
                plan,
                desired,
                options,
            };
            let result = run.inside_transaction(&diff_options);
            let end = match &result {
                Ok(_) if !options.dry_run => "COMMIT",
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

fn set_foreign_keys(conn: &Connection, on: bool) -> Result<()> {
    let value = if on { "ON" } else { "OFF" };
    conn.execute_batch(&format!("PRAGMA foreign_keys = {value}"))
        .map_err(|e| sqlite_error(format!("cannot set PRAGMA foreign_keys = {value}"), e))
}

/// Refuses a plan with `data_loss` hazards unless the caller allowed them.
fn refuse_data_loss(plan: &Plan, options: &ApplyOptions) -> Result<()> {
    if options.allow_data_loss {
        return Ok(());
    }
    let objects: Vec<&str> = plan
        .hazards()
        .filter(|h| h.kind == HazardKind::DataLoss)
        .map(|h| h.object.as_str())
        .collect();
    if objects.is_empty() {
        Ok(())
    } else {
        Err(Error::DataLossRefused {
            objects: objects.join(", "),
        })
    }
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
        let violations_before = foreign_key_violations(self.conn)?;
        let progress = self.options.progress.as_deref();
        if let Some(progress) = progress {
            progress.begin("apply", Some(self.plan.steps.len() as u64));
        }
        let mut rewrote_schema = false;
        for (number, step) in self.plan.steps.iter().enumerate() {
            for statement in &step.sql {
                self.conn.execute_batch(statement).map_err(|e| {
                    sqlite_error(
                        format!(
                            "step {} ({}) failed; nothing was changed",
                            number + 1,
                            step.description
                        ),
                        e,
                    )
                })?;
                if statement.starts_with(SCHEMA_REWRITE_PREFIX) {
                    bump_schema_version(self.conn)?;
                    rewrote_schema = true;
                }
            }
            report.steps_run += 1;
            if let Some(progress) = progress {
                progress.advance(report.steps_run as u64);
            }
        }
        if let Some(progress) = progress {
            progress.finish();
        }
        if rewrote_schema {
            quick_check(self.conn)?;
        }
        self.verify(diff_options, &violations_before)?;
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
            if sample.len() < SAMPLE_KEYS {
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
            return Ok(());
        }
        let more = if count as usize > sample.len() {
            ", …"
        } else {
            ""
        };
        Err(Error::ValidationFailed {
            description: check.description.clone(),
            count,
            sample: format!("{}{more}", sample.join("; ")),
            remedy: check.remedy.clone(),
        })
    }

    /// The database must now equal the desired schema, with no new foreign-key violation.
    fn verify(
        &self,
        diff_options: &schemasync_core::DiffOptions,
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
        let after = foreign_key_violations(self.conn)?;
        let new: Vec<&String> = after.difference(violations_before).collect();
        if let Some(first) = new.first() {
            return Err(Error::Database {
                dialect: schemasync_core::Dialect::Sqlite,
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

/// A plan touches existing data (and deserves a backup) unless it only creates objects.
fn touches_existing_data(plan: &Plan) -> bool {
    plan.changes.iter().any(|c| {
        !matches!(
            c,
            schemasync_core::Change::CreateTable { .. }
                | schemasync_core::Change::CreateView { .. }
                | schemasync_core::Change::CreateTrigger { .. }
        )
    })
}

/// Every row `PRAGMA foreign_key_check` reports, as `table rowid → parent`.
fn foreign_key_violations(conn: &Connection) -> Result<BTreeSet<String>> {
    let context = "cannot run PRAGMA foreign_key_check";
    let mut statement = conn
        .prepare("PRAGMA foreign_key_check")
        .map_err(|e| sqlite_error(context, e))?;
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
        .map_err(|e| sqlite_error(context, e))?;
    rows.collect::<rusqlite::Result<BTreeSet<_>>>()
        .map_err(|e| sqlite_error(context, e))
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

fn quick_check(conn: &Connection) -> Result<()> {
    let verdict: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|e| sqlite_error("cannot run PRAGMA quick_check", e))?;
    if verdict == "ok" {
        Ok(())
    } else {
        Err(Error::database(
            schemasync_core::Dialect::Sqlite,
            "rolled back: the database failed PRAGMA quick_check after the change",
            verdict,
        ))
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
