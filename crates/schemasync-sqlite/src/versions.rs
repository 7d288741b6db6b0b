//! The SQLite side of versioned migrations: the `schemasync_version` table and
//! [`VersionStore`] for [`SqliteDriver`].
//!
//! Each revision runs in one `BEGIN IMMEDIATE` transaction, which is also the lock
//! against concurrent runs: under it the version table is read again, so a revision
//! another process applied meanwhile is skipped, and the version row is written in the
//! same transaction as the revision's changes. Introspection never reports the table
//! (it ignores `schemasync_*`).

use crate::apply::{now_rfc3339, run_plan, write_transaction};
use crate::driver::{sqlite_error, SqliteDriver};
use crate::quote::quote_literal;
use crate::{introspect, planner};
use rusqlite::{params, Connection, OptionalExtension};
use schemasync_core::migrate::{
    apply_changes, AppliedRevision, Direction, Executor, RevisionRun, RunOutcome, VersionStore,
    VERSION_TABLE,
};
use schemasync_core::{Driver, Error, Result};

fn create_table_sql() -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (
    revision TEXT PRIMARY KEY NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    tool_version TEXT NOT NULL
)"
    )
}

fn table_exists(conn: &Connection) -> Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
        [VERSION_TABLE],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
    .map_err(|e| sqlite_error("cannot read the version table", e))
}

fn read(conn: &Connection) -> Result<Vec<AppliedRevision>> {
    if !table_exists(conn)? {
        return Ok(Vec::new());
    }
    let context = "cannot read the version table";
    let mut statement = conn
        .prepare(&format!(
            "SELECT revision, checksum, applied_at, tool_version FROM {VERSION_TABLE} ORDER BY rowid"
        ))
        .map_err(|e| sqlite_error(context, e))?;
    let rows = statement
        .query_map([], |r| {
            Ok(AppliedRevision {
                revision: r.get(0)?,
                checksum: r.get(1)?,
                applied_at: r.get(2)?,
                tool_version: r.get(3)?,
            })
        })
        .map_err(|e| sqlite_error(context, e))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| sqlite_error(context, e))
}

fn insert(conn: &Connection, revision: &str, checksum: &str) -> Result<()> {
    conn.execute_batch(&create_table_sql())
        .map_err(|e| sqlite_error("cannot create the version table", e))?;
    conn.execute(
        &format!(
            "INSERT INTO {VERSION_TABLE} (revision, checksum, applied_at, tool_version) VALUES (?1, ?2, ?3, ?4)"
        ),
        params![revision, checksum, now_rfc3339(), env!("CARGO_PKG_VERSION")],
    )
    .map_err(|e| sqlite_error(format!("cannot record revision {revision}"), e))?;
    Ok(())
}

fn remove(conn: &Connection, revision: &str) -> Result<()> {
    conn.execute(
        &format!("DELETE FROM {VERSION_TABLE} WHERE revision = ?1"),
        [revision],
    )
    .map_err(|e| sqlite_error(format!("cannot remove revision {revision}"), e))?;
    Ok(())
}

/// The [`Executor`] Rust-code migrations get: the revision's transaction.
struct ConnExecutor<'a> {
    conn: &'a Connection,
}

impl Executor for ConnExecutor<'_> {
    fn execute(&mut self, sql: &str) -> Result<u64> {
        self.conn.execute_batch(sql).map_err(|e| {
            sqlite_error(
                format!("migration code failed running `{}`", preview(sql)),
                e,
            )
        })?;
        Ok(self.conn.changes())
    }

    fn query_i64(&mut self, sql: &str) -> Result<Option<i64>> {
        self.conn
            .query_row(sql, [], |r| r.get::<_, Option<i64>>(0))
            .optional()
            .map(Option::flatten)
            .map_err(|e| {
                sqlite_error(
                    format!("migration code failed running `{}`", preview(sql)),
                    e,
                )
            })
    }
}

/// The first line of a statement, shortened, for error messages.
fn preview(sql: &str) -> String {
    let line = sql.trim().lines().next().unwrap_or_default();
    if line.chars().count() > 60 {
        format!("{}…", line.chars().take(60).collect::<String>())
    } else {
        line.to_string()
    }
}

impl VersionStore for SqliteDriver {
    fn applied(&mut self) -> Result<Vec<AppliedRevision>> {
        read(&self.conn)
    }

    fn run_revision(&mut self, run: &RevisionRun<'_>) -> Result<RunOutcome> {
        let diff_options = self.diff_options();
        let database = self.path.as_deref();
        write_transaction(&self.conn, true, |conn| {
            let applied = read(conn)?.iter().any(|r| r.revision == run.revision);
            if applied == (run.direction == Direction::Up) {
                return Ok(RunOutcome::AlreadyDone);
            }
            if !run.operations.is_empty() {
                let live = introspect::introspect(conn)?;
                let after = apply_changes(&live, run.operations)?;
                let plan = planner::plan(&live, &after, &diff_options)?;
                if !plan.is_empty() {
                    run_plan(conn, database, &plan, &after, run.options, &diff_options)?;
                }
            }
            if let Some(sql) = run.sql {
                conn.execute_batch(sql).map_err(|e| {
                    Error::database(
                        schemasync_core::Dialect::Sqlite,
                        format!(
                            "{} {}: its SQL failed; nothing was changed",
                            run.direction, run.revision
                        ),
                        e,
                    )
                })?;
            }
            if let Some(code) = run.code {
                let mut executor = ConnExecutor { conn };
                match run.direction {
                    Direction::Up => code.up(&mut executor)?,
                    Direction::Down => code.down(&mut executor)?,
                }
            }
            match run.direction {
                Direction::Up => insert(conn, run.revision, run.checksum)?,
                Direction::Down => remove(conn, run.revision)?,
            }
            Ok(RunOutcome::Ran)
        })
    }

    fn stamp(&mut self, revisions: &[(String, String)]) -> Result<()> {
        write_transaction(&self.conn, true, |conn| {
            conn.execute_batch(&create_table_sql())
                .map_err(|e| sqlite_error("cannot create the version table", e))?;
            conn.execute(&format!("DELETE FROM {VERSION_TABLE}"), [])
                .map_err(|e| sqlite_error("cannot clear the version table", e))?;
            for (revision, checksum) in revisions {
                insert(conn, revision, checksum)?;
            }
            Ok(())
        })
    }

    fn version_sql(&self, revision: &str, checksum: &str, direction: Direction) -> Vec<String> {
        match direction {
            Direction::Up => vec![
                create_table_sql(),
                format!(
                    "INSERT INTO {VERSION_TABLE} (revision, checksum, applied_at, tool_version) VALUES ({}, {}, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), {})",
                    quote_literal(revision),
                    quote_literal(checksum),
                    quote_literal(env!("CARGO_PKG_VERSION"))
                ),
            ],
            Direction::Down => vec![format!(
                "DELETE FROM {VERSION_TABLE} WHERE revision = {}",
                quote_literal(revision)
            )],
        }
    }
}
