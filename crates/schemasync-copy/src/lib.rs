//! Copy a SQLite database into PostgreSQL, exactly (SPEC §9).
//!
//! This crate is the one place that knows both dialects at once. It maps the SQLite
//! schema (read through [`schemasync_sqlite::SqliteDriver`] into the core model) to
//! PostgreSQL types after profiling the rows ([`TargetType`]), renders the tables with
//! `schemasync_postgres::ddl`, and streams rows with binary `COPY`. Everything happens in
//! one PostgreSQL transaction: tables without indexes or foreign keys, rows in batches,
//! then primary keys, UNIQUE constraints, indexes, validated foreign keys, identity
//! sequences past the largest id, views, and finally a row count and an
//! order-independent checksum per table compared on both sides. Any failure rolls the
//! whole copy back, so the target never holds half a copy.
//!
//! ```no_run
//! use schemasync_copy::{copy, CopyOptions, PgDriver, PgOptions, SqliteDriver};
//! let mut source = SqliteDriver::open("app.db", std::time::Duration::from_secs(5))?;
//! let mut target = PgDriver::connect("postgres://postgres@127.0.0.1/app", PgOptions::default())?;
//! let report = copy(&mut source, &mut target, &CopyOptions::default())?;
//! for table in &report.tables {
//!     println!("{}: {} rows", table.name, table.rows);
//! }
//! # Ok::<(), schemasync_copy::CopyError>(())
//! ```

mod clock;
mod error;
mod mapping;
mod run;
mod value;

pub use error::CopyError;
pub use mapping::{ColumnPlan, TablePlan};
pub use value::TargetType;

// What a caller needs to open both ends, so one dependency is enough.
pub use schemasync_core::{Progress, Schema};
pub use schemasync_postgres::{PgDriver, PgOptions};
pub use schemasync_sqlite::SqliteDriver;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;

/// How many unconvertible values an error keeps to show.
pub const MAX_SAMPLES: usize = 20;

/// What to copy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CopyMode {
    /// Schema and rows.
    #[default]
    All,
    /// Only the schema (tables, constraints, indexes, views); no rows.
    SchemaOnly,
    /// Only rows, into tables that already exist in the target with the mapped types.
    DataOnly,
}

/// What to do with a row holding a value that cannot be converted exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum OnError {
    /// Refuse the whole copy, naming the values (nothing is written).
    #[default]
    Stop,
    /// Leave such rows out and write each one to this report file (JSON lines).
    SkipRow(PathBuf),
}

/// Options of [`copy`] and [`plan`].
#[derive(Clone)]
pub struct CopyOptions {
    /// Tables to copy (names as in SQLite, case-insensitive); empty copies every table
    /// and the views.
    pub tables: Vec<String>,
    /// Schema, rows, or both.
    pub mode: CopyMode,
    /// Rows per `COPY` statement (progress is reported per batch).
    pub batch_rows: usize,
    /// Keep DATE/DATETIME/TIMESTAMP columns whose values do not all parse as text
    /// instead of refusing those values.
    pub keep_text_dates: bool,
    /// Rows with unconvertible values: refuse or skip.
    pub on_error: OnError,
    /// Drop the copied tables (and views) in the target first, in the same transaction
    /// (with [`CopyMode::DataOnly`]: empty them).
    pub replace: bool,
    /// Where to report progress (one unit per table).
    pub progress: Option<Arc<dyn Progress>>,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            tables: Vec::new(),
            mode: CopyMode::All,
            batch_rows: 100_000,
            keep_text_dates: false,
            on_error: OnError::Stop,
            replace: false,
            progress: None,
        }
    }
}

impl std::fmt::Debug for CopyOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopyOptions")
            .field("tables", &self.tables)
            .field("mode", &self.mode)
            .field("batch_rows", &self.batch_rows)
            .field("keep_text_dates", &self.keep_text_dates)
            .field("on_error", &self.on_error)
            .field("replace", &self.replace)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// The kind of a point the plan reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteKind {
    /// Copied, but something is not carried over exactly (a collation, an offset).
    Lossy,
    /// Not copied at all (a trigger, an FTS5 table, a view PostgreSQL refuses).
    NotCopied,
    /// Copied as a PostgreSQL equivalent written differently (a default that reads
    /// SQLite's clock).
    Translated,
    /// Rows hold values that cannot be converted: the copy refuses them, or skips their
    /// rows with [`OnError::SkipRow`].
    Values,
}

/// One lossy or unsupported point of a copy, found before anything is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// What kind of point.
    pub kind: NoteKind,
    /// The object (`table`, `table.column`, a view's name).
    pub object: String,
    /// What happens and why.
    pub message: String,
}

impl Note {
    /// A note on `object`.
    ///
    /// ```
    /// use schemasync_copy::{Note, NoteKind};
    /// let note = Note::new(NoteKind::NotCopied, "docs_fts", "FTS5 virtual table");
    /// assert_eq!(note.to_string(), "not copied: docs_fts — FTS5 virtual table");
    /// ```
    pub fn new(kind: NoteKind, object: impl Into<String>, message: impl Into<String>) -> Note {
        Note {
            kind,
            object: object.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            NoteKind::Lossy => "lossy",
            NoteKind::NotCopied => "not copied",
            NoteKind::Translated => "translated",
            NoteKind::Values => "values",
        };
        write!(f, "{kind}: {} — {}", self.object, self.message)
    }
}

/// A value that cannot be converted exactly, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadValue {
    /// The table.
    pub table: String,
    /// The row's key (`id=7`, `a=1, b='x'`, or `rowid=7`).
    pub key: String,
    /// The column.
    pub column: String,
    /// The value as SQLite holds it (`'abc'`, `x'ff00'`, `1.5`), shortened when long.
    pub value: String,
    /// Why it cannot be converted.
    pub reason: String,
}

impl std::fmt::Display for BadValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}.{} at {}: {} is {}",
            self.table, self.column, self.key, self.value, self.reason
        )
    }
}

/// What a copy will do (or, from [`plan`], would do), as PostgreSQL judged it in a
/// transaction that was rolled back.
#[derive(Debug, Clone, Serialize)]
pub struct CopyPlan {
    /// The tables, with each column's mapping.
    pub tables: Vec<TablePlan>,
    /// Every lossy or unsupported point.
    pub notes: Vec<Note>,
    /// The PostgreSQL schema the copy creates: what PostgreSQL accepted of the mapping.
    /// `schemasync_postgres::ddl::create_schema` renders it as a `.sql` file that
    /// `schemasync check --schema` accepts after the copy.
    #[serde(skip)]
    pub schema: Schema,
}

/// One copied table in a [`CopyReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableReport {
    /// The table.
    pub name: String,
    /// Rows written (and counted in PostgreSQL).
    pub rows: u64,
    /// Rows left out with [`OnError::SkipRow`].
    pub skipped: u64,
    /// The order-independent checksum both sides agreed on (decimal).
    pub checksum: String,
}

/// What a copy did.
#[derive(Debug, Clone, Serialize)]
pub struct CopyReport {
    /// The plan it followed.
    pub plan: CopyPlan,
    /// Each table, verified (empty for [`CopyMode::SchemaOnly`]).
    pub tables: Vec<TableReport>,
}

/// Maps the source's schema, profiles its rows and tries the result in the target in a
/// transaction that is rolled back: the mapping and every lossy or unsupported point,
/// with nothing written.
pub fn plan(
    source: &mut SqliteDriver,
    target: &mut PgDriver,
    options: &CopyOptions,
) -> Result<CopyPlan, CopyError> {
    run::run(source, target, options, run::Run::Plan).map(|report| report.plan)
}

/// Copies the source into the target in one transaction, verifies every table, and
/// commits; on any error nothing is committed.
pub fn copy(
    source: &mut SqliteDriver,
    target: &mut PgDriver,
    options: &CopyOptions,
) -> Result<CopyReport, CopyError> {
    run::run(source, target, options, run::Run::Copy)
}
