//! `SqliteDriver`: one connection, and the [`Driver`] implementation that ties the
//! modules of this crate together.

use crate::{apply, backup, ddl, introspect, planner};
use rusqlite::Connection;
use schemasync_core::{
    ApplyOptions, ApplyReport, Dialect, DiffOptions, Driver, Error, Plan, Result, Schema, Status,
    TableStatus,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Default time a statement waits for another connection's lock (SPEC §5).
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A SQLite database opened for schemasync.
pub struct SqliteDriver {
    pub(crate) conn: Connection,
    /// The database file; `None` for an in-memory database.
    pub(crate) path: Option<PathBuf>,
}

/// Wraps a rusqlite error as a schemasync error saying what we were doing.
pub(crate) fn sqlite_error(context: impl Into<String>, err: rusqlite::Error) -> Error {
    Error::database(Dialect::Sqlite, context, err)
}

impl SqliteDriver {
    /// Opens (creating if needed) the database file at `path`, with a busy timeout.
    pub fn open(path: impl AsRef<Path>, busy_timeout: Duration) -> Result<Self> {
        let path = path.as_ref();
        let conn = Connection::open(path)
            .map_err(|e| sqlite_error(format!("cannot open {}", path.display()), e))?;
        conn.busy_timeout(busy_timeout)
            .map_err(|e| sqlite_error("cannot set busy_timeout", e))?;
        Ok(SqliteDriver {
            conn,
            path: Some(path.to_path_buf()),
        })
    }

    /// Opens a fresh in-memory database.
    pub fn open_in_memory() -> Result<Self> {
        let conn = Connection::open_in_memory()
            .map_err(|e| sqlite_error("cannot open an in-memory database", e))?;
        Ok(SqliteDriver { conn, path: None })
    }

    /// The underlying connection, for callers that need to run their own SQL.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The database file, or `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

impl Driver for SqliteDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn diff_options(&self) -> DiffOptions {
        DiffOptions {
            case_insensitive_names: true,
            column_order_matters: true,
        }
    }

    fn introspect(&mut self) -> Result<Schema> {
        introspect::introspect(&self.conn)
    }

    fn normalize_sql(&mut self, sql: &str) -> Result<Schema> {
        introspect::normalize_sql(sql)
    }

    fn normalize_model(&mut self, schema: &Schema) -> Result<Schema> {
        introspect::normalize_model(schema)
    }

    fn render_sql(&self, schema: &Schema) -> Vec<String> {
        ddl::create_schema(schema)
            .into_iter()
            .map(|(_, sql)| sql)
            .collect()
    }

    fn plan(&mut self, current: &Schema, desired: &Schema) -> Result<Plan> {
        planner::plan(current, desired, &self.diff_options())
    }

    fn apply(
        &mut self,
        plan: &Plan,
        desired: &Schema,
        options: &ApplyOptions,
    ) -> Result<ApplyReport> {
        apply::apply(self, plan, desired, options)
    }

    fn backup(&mut self, destination: &Path) -> Result<()> {
        backup::backup_to(&self.conn, destination, None)
    }

    fn restore(&mut self, source: &Path) -> Result<()> {
        backup::restore_from(&mut self.conn, source, None)
    }

    fn status(&mut self) -> Result<Status> {
        let schema = self.introspect()?;
        let journal_mode: String = self
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .map_err(|e| sqlite_error("cannot read journal_mode", e))?;
        let mut tables = Vec::new();
        for table in &schema.tables {
            let sql = format!("SELECT count(*) FROM {}", crate::quote_ident(&table.name));
            let rows: i64 = self
                .conn
                .query_row(&sql, [], |r| r.get(0))
                .map_err(|e| sqlite_error(format!("cannot count rows of {}", table.name), e))?;
            tables.push(TableStatus {
                name: table.name.clone(),
                rows: u64::try_from(rows).unwrap_or(0),
                rows_estimated: false,
                size_bytes: None,
            });
        }
        Ok(Status {
            dialect: Dialect::Sqlite,
            properties: vec![
                ("journal_mode".to_string(), journal_mode),
                (
                    "sqlite_version".to_string(),
                    rusqlite::version().to_string(),
                ),
            ],
            tables,
        })
    }
}
