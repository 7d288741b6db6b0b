//! The `Driver` trait: what a dialect crate provides to the rest of schemasync.
//!
//! A driver owns one connection and is the only place that knows its dialect's SQL.
//! The CLI and the migrator work through this trait alone.

use crate::diff::DiffOptions;
use crate::error::Result;
use crate::model::Schema;
use crate::plan::{Dialect, Plan};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Receives progress of long work (rebuilds, backups, copies); the CLI draws bars with it.
pub trait Progress: Send + Sync {
    /// A unit of work starts; `total` is its size when known (rows, pages).
    fn begin(&self, label: &str, total: Option<u64>);
    /// How much of the current unit is done.
    fn advance(&self, done: u64);
    /// The current unit is finished.
    fn finish(&self);
}

/// How [`Driver::apply`] may proceed.
#[derive(Clone, Default)]
pub struct ApplyOptions {
    /// Allow steps with a `data_loss` hazard.
    pub allow_data_loss: bool,
    /// Folder for the backup taken before a data-touching plan; `None` skips the backup.
    pub backup_dir: Option<PathBuf>,
    /// Check everything (guards, data checks) but change nothing.
    pub dry_run: bool,
    /// A label recorded in the history table (e.g. a version string).
    pub label: Option<String>,
    /// Where to report progress.
    pub progress: Option<Arc<dyn Progress>>,
}

impl std::fmt::Debug for ApplyOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplyOptions")
            .field("allow_data_loss", &self.allow_data_loss)
            .field("backup_dir", &self.backup_dir)
            .field("dry_run", &self.dry_run)
            .field("label", &self.label)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// What an apply did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Steps run (0 for an empty plan or a dry run).
    pub steps_run: usize,
    /// The verified backup taken before changing anything, if one was taken.
    pub backup: Option<PathBuf>,
}

/// One table in [`Status`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableStatus {
    /// Table name (qualified where the dialect has namespaces).
    pub name: String,
    /// Number of rows (an estimate when `rows_estimated`).
    pub rows: u64,
    /// Whether `rows` is the engine's estimate rather than a count.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub rows_estimated: bool,
    /// Bytes on disk with indexes and TOAST, where the engine reports it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
}

/// What `schemasync status` shows about a database.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    /// The dialect.
    pub dialect: Dialect,
    /// Engine facts worth showing (`journal_mode = wal`, server version, …).
    pub properties: Vec<(String, String)>,
    /// Every managed table with its row count.
    pub tables: Vec<TableStatus>,
}

/// A database connection that schemasync can inspect, plan for and change.
pub trait Driver {
    /// The dialect this driver speaks.
    fn dialect(&self) -> Dialect;

    /// How the diff must compare schemas of this dialect.
    fn diff_options(&self) -> DiffOptions;

    /// Reads the live schema. Never writes.
    fn introspect(&mut self) -> Result<Schema>;

    /// Turns DDL text into a schema in this engine's canonical form (by running it in a
    /// scratch database and introspecting that).
    fn normalize_sql(&mut self, sql: &str) -> Result<Schema>;

    /// Puts a schema written by hand (file or builder) into this engine's canonical form.
    fn normalize_model(&mut self, schema: &Schema) -> Result<Schema>;

    /// The DDL that creates `schema` in an empty database of this dialect, one statement
    /// per entry, in dependency order (what `inspect --format sql` prints).
    fn render_sql(&self, schema: &Schema) -> Vec<String>;

    /// The plan as the script that runs it, session settings and transaction boundaries
    /// included (what `plan --format sql` and offline `--sql` print).
    fn script(&self, plan: &Plan) -> String {
        plan.to_sql()
    }

    /// Plans the changes that turn `current` into `desired`.
    fn plan(&mut self, current: &Schema, desired: &Schema) -> Result<Plan>;

    /// Applies `plan` atomically: guards, data checks, backup, the steps, then verification
    /// that the database equals `desired`. On any failure the database is left as it was.
    fn apply(
        &mut self,
        plan: &Plan,
        desired: &Schema,
        options: &ApplyOptions,
    ) -> Result<ApplyReport>;

    /// Writes a verified copy of the database to `destination`.
    fn backup(&mut self, destination: &Path) -> Result<()>;

    /// Replaces the database's content with the backup at `source`.
    fn restore(&mut self, source: &Path) -> Result<()>;

    /// Tables with row counts and engine facts.
    fn status(&mut self) -> Result<Status>;

    /// Objects in the database this driver leaves alone (never planned, never drift),
    /// one line each (`rule t_log on t`), for `plan` to list once. None by default.
    fn unmanaged(&mut self) -> Result<Vec<String>> {
        Ok(Vec::new())
    }
}
