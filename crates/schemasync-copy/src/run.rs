//! Running a copy (or trying one, for the plan) in one PostgreSQL transaction.
//!
//! Order: drop what `--replace` replaces; create each table without keys, indexes and
//! foreign keys (defaults and CHECKs that PostgreSQL refuses are found on a throwaway
//! probe table under a savepoint, reported and left out); stream the rows with binary
//! `COPY` in batches; add primary keys and UNIQUE constraints; build the indexes (one
//! PostgreSQL cannot express is reported); add the foreign keys, validated; set identity
//! sequences past the largest id; create the views PostgreSQL accepts; read each table
//! back with binary `COPY … TO` and compare its row count and checksum with what was
//! sent. A plan does all of it but the rows and rolls back; a copy commits only when
//! every table verified.

use crate::mapping::{map_tables, TablePlan};
use crate::value::{encode, real_as_text, Refusal};
use crate::{
    BadValue, CopyError, CopyMode, CopyOptions, CopyPlan, CopyReport, Note, NoteKind, OnError,
    TableReport, MAX_SAMPLES,
};
use md5::{Digest, Md5};
use postgres::{CopyInWriter, Transaction};
use rusqlite::types::ValueRef;
use schemasync_core::{Dialect, Driver, Error, Schema, Table, View};
use schemasync_postgres::{ddl, quote_ident, quote_literal, PgDriver};
use schemasync_sqlite::SqliteDriver;
use std::io::Write;

/// Whether to write the rows and commit, or only try the schema and roll back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Run {
    Plan,
    Copy,
}

/// The name of the throwaway table defaults and CHECKs are tried on.
const PROBE: &str = "schemasync_copy_probe";

fn pg(context: impl Into<String>, err: &postgres::Error) -> CopyError {
    let message = match err.as_db_error() {
        Some(db) => format!("{}, SQLSTATE {}", db.message(), db.code().code()),
        None => err.to_string(),
    };
    CopyError::Schemasync(Error::database(Dialect::Postgres, context, message))
}

fn sqlite(context: impl Into<String>, err: rusqlite::Error) -> CopyError {
    CopyError::Schemasync(Error::database(Dialect::Sqlite, context, err))
}

/// The server's message alone, for notes.
fn pg_message(err: &postgres::Error) -> String {
    err.as_db_error()
        .map_or_else(|| err.to_string(), |db| db.message().to_string())
}

/// Whether a PostgreSQL error is about the rows (class 23: integrity constraint
/// violation) rather than about the SQL.
fn is_data_error(err: &postgres::Error) -> bool {
    err.as_db_error()
        .is_some_and(|db| db.code().code().starts_with("23"))
}

/// Runs `sql` under a savepoint: `Ok(None)` when it worked, `Ok(Some(error))` when
/// PostgreSQL refused it (rolled back to the savepoint). A `probe` is rolled back even
/// when it works.
fn attempt(
    tx: &mut Transaction<'_>,
    sql: &str,
    probe: bool,
) -> Result<Option<postgres::Error>, CopyError> {
    let mut savepoint = tx
        .transaction()
        .map_err(|e| pg("cannot create a savepoint", &e))?;
    match savepoint.batch_execute(sql) {
        Ok(()) if probe => {
            savepoint
                .rollback()
                .map_err(|e| pg("cannot roll back to a savepoint", &e))?;
            Ok(None)
        }
        Ok(()) => {
            savepoint
                .commit()
                .map_err(|e| pg("cannot release a savepoint", &e))?;
            Ok(None)
        }
        Err(err) => {
            savepoint
                .rollback()
                .map_err(|e| pg("cannot roll back to a savepoint", &e))?;
            Ok(Some(err))
        }
    }
}

/// Maps, creates (or tries) and, for [`Run::Copy`], streams and verifies; see the
/// module documentation for the order.
pub(crate) fn run(
    source: &mut SqliteDriver,
    target: &mut PgDriver,
    options: &CopyOptions,
    run: Run,
) -> Result<CopyReport, CopyError> {
    let source_schema = source.introspect()?;
    let mut notes = Vec::new();
    let all = options.tables.is_empty();
    let mut tables = map_tables(
        source.connection(),
        &source_schema,
        options,
        run == Run::Plan,
        &mut notes,
    )?;
    source_only_notes(&source_schema, &tables, all, &mut notes);
    let views: Vec<View> = if all {
        source_schema.views.clone()
    } else {
        Vec::new()
    };
    let existing = target.introspect()?;
    target.set_session()?;
    let client = target.client();
    let encoding: String = client
        .query_one("SHOW server_encoding", &[])
        .map_err(|e| pg("cannot read server_encoding", &e))?
        .get(0);
    if encoding != "UTF8" {
        return Err(CopyError::Schemasync(Error::Unsupported(format!(
            "the target database's encoding is {encoding}; copies need UTF8"
        ))));
    }
    let mut tx = client
        .transaction()
        .map_err(|e| pg("cannot begin a transaction", &e))?;
    // Index builds after the rows sort in memory where they can (local to this transaction).
    tx.batch_execute("SET LOCAL maintenance_work_mem = '256MB'")
        .map_err(|e| pg("cannot set maintenance_work_mem", &e))?;
    let mut created_views = Vec::new();
    match options.mode {
        CopyMode::DataOnly => {
            prepare_data_only(&mut tx, &existing, &tables, options, run, &mut notes)?
        }
        CopyMode::All | CopyMode::SchemaOnly => {
            clear_target(
                &mut tx, &existing, &tables, &views, options, run, &mut notes,
            )?;
            for plan in &mut tables {
                create_table(&mut tx, plan, &mut notes)?;
            }
        }
    }
    let write_rows = run == Run::Copy && options.mode != CopyMode::SchemaOnly;
    let mut copied = Vec::new();
    if write_rows {
        copied = stream_all(source, &mut tx, &tables, options)?;
    }
    // Spinners for the phases after the rows (a plan runs them on empty tables).
    let phase = |label: &str| {
        if let (Some(progress), Run::Copy) = (&options.progress, run) {
            progress.begin(label, None);
        }
    };
    if options.mode != CopyMode::DataOnly {
        phase("keys, indexes, foreign keys and views");
        for plan in &mut tables {
            add_keys_and_indexes(&mut tx, plan, &mut notes)?;
        }
        for plan in &tables {
            for fk in &plan.table.foreign_keys {
                tx.batch_execute(&ddl::add_foreign_key(&plan.table, fk, false))
                    .map_err(|e| {
                        pg(
                            format!(
                                "cannot add foreign key ({}) of {} → {}",
                                fk.columns.join(", "),
                                plan.name,
                                fk.referenced_table
                            ),
                            &e,
                        )
                    })?;
            }
        }
        created_views = create_views(&mut tx, views, &mut notes)?;
    }
    if write_rows {
        set_sequences(&mut tx, &tables)?;
        for report in &copied {
            phase(&format!("verify {}", report.name));
            verify(&mut tx, &tables, report)?;
        }
    }
    if let Some(progress) = &options.progress {
        progress.finish();
    }
    match run {
        Run::Copy => tx.commit().map_err(|e| pg("cannot commit the copy", &e))?,
        Run::Plan => tx
            .rollback()
            .map_err(|e| pg("cannot roll back the trial", &e))?,
    }
    let schema = Schema {
        tables: tables.iter().map(|t| t.table.clone()).collect(),
        views: created_views,
        ..Schema::default()
    };
    Ok(CopyReport {
        plan: CopyPlan {
            tables,
            notes,
            schema,
        },
        tables: copied,
    })
}

/// Notes on what the source holds that a copy never carries over: triggers and
/// virtual tables (and views, when only some tables are copied).
fn source_only_notes(source: &Schema, tables: &[TablePlan], all: bool, notes: &mut Vec<Note>) {
    for trigger in &source.triggers {
        if tables
            .iter()
            .any(|t| t.name.eq_ignore_ascii_case(&trigger.table))
            || all
        {
            notes.push(Note::new(
                NoteKind::NotCopied,
                format!("trigger {}", trigger.name),
                "a SQLite trigger body is SQLite SQL; PostgreSQL triggers call a function \
                 (write one by hand)",
            ));
        }
    }
    if all {
        for virtual_table in &source.virtual_tables {
            notes.push(Note::new(
                NoteKind::NotCopied,
                format!("virtual table {}", virtual_table.name),
                format!(
                    "{} is a SQLite module with no PostgreSQL equivalent (for full-text \
                     search use a tsvector column with a GIN index); its rows are not copied",
                    virtual_table.module
                ),
            ));
        }
    } else if !source.views.is_empty() {
        notes.push(Note::new(
            NoteKind::NotCopied,
            "views",
            "only whole-database copies create views (--tables was given)",
        ));
    }
}

/// The target's table of this name in the default namespace (where the copy writes).
fn public_table<'s>(existing: &'s Schema, name: &str) -> Option<&'s Table> {
    existing
        .tables
        .iter()
        .find(|t| t.schema.is_none() && t.name == name)
}

/// Drops what the copy replaces (or refuses when `--replace` is missing; a plan only
/// notes it and drops, since it rolls back).
fn clear_target(
    tx: &mut Transaction<'_>,
    existing: &Schema,
    tables: &[TablePlan],
    views: &[View],
    options: &CopyOptions,
    run: Run,
    notes: &mut Vec<Note>,
) -> Result<(), CopyError> {
    let present_tables: Vec<&str> = tables
        .iter()
        .filter(|t| public_table(existing, &t.name).is_some())
        .map(|t| t.name.as_str())
        .collect();
    let present_views: Vec<&str> = views
        .iter()
        .filter(|v| {
            existing
                .views
                .iter()
                .any(|e| e.schema.is_none() && e.name == v.name)
        })
        .map(|v| v.name.as_str())
        .collect();
    if let Some(first) = present_tables.first().or(present_views.first()) {
        if !options.replace {
            let message = format!(
                "{first} already exists in the target; pass --replace to drop the copied \
                 tables and views and copy them again"
            );
            if run == Run::Copy {
                return Err(CopyError::TargetInUse(message));
            }
            notes.push(Note::new(NoteKind::NotCopied, *first, message));
        }
    }
    let list = |names: &[&str]| {
        names
            .iter()
            .map(|n| quote_ident(n))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !present_views.is_empty() {
        tx.batch_execute(&format!("DROP VIEW {}", list(&present_views)))
            .map_err(|e| pg("cannot drop the views --replace replaces", &e))?;
    }
    if !present_tables.is_empty() {
        tx.batch_execute(&format!("DROP TABLE {}", list(&present_tables)))
            .map_err(|e| pg("cannot drop the tables --replace replaces", &e))?;
    }
    Ok(())
}

/// `--data-only`: every table must exist with the mapped column types; tables holding
/// rows are emptied with `--replace`, refused without.
fn prepare_data_only(
    tx: &mut Transaction<'_>,
    existing: &Schema,
    tables: &[TablePlan],
    options: &CopyOptions,
    run: Run,
    notes: &mut Vec<Note>,
) -> Result<(), CopyError> {
    for plan in tables {
        let live = public_table(existing, &plan.name).ok_or_else(|| {
            CopyError::TargetMismatch(format!("table {} does not exist in the target", plan.name))
        })?;
        for column in &plan.columns {
            let live_type = live.column(&column.name).map(|c| c.data_type.as_str());
            if live_type != Some(column.target.sql()) {
                return Err(CopyError::TargetMismatch(format!(
                    "column {}.{} is {} in the target; the copy writes {}",
                    plan.name,
                    column.name,
                    live_type.unwrap_or("missing"),
                    column.target
                )));
            }
        }
        let name = quote_ident(&plan.name);
        let has_rows: bool = tx
            .query_one(&format!("SELECT EXISTS (SELECT FROM {name})"), &[])
            .map_err(|e| pg(format!("cannot read {}", plan.name), &e))?
            .get(0);
        if has_rows {
            if !options.replace {
                let message = format!(
                    "table {} already holds rows in the target; pass --replace to empty it first",
                    plan.name
                );
                if run == Run::Copy {
                    return Err(CopyError::TargetInUse(message));
                }
                notes.push(Note::new(NoteKind::NotCopied, &plan.name, message));
            }
            tx.batch_execute(&format!("TRUNCATE {name}"))
                .map_err(|e| pg(format!("cannot empty {}", plan.name), &e))?;
        }
    }
    Ok(())
}

/// Creates a table without keys, indexes and foreign keys, after trying each default
/// and CHECK on a probe table: those PostgreSQL refuses are reported and left out of
/// `plan.table`.
fn create_table(
    tx: &mut Transaction<'_>,
    plan: &mut TablePlan,
    notes: &mut Vec<Note>,
) -> Result<(), CopyError> {
    let mut bare = Table::new(PROBE);
    bare.columns = plan.table.columns.clone();
    for column in &mut bare.columns {
        column.default = None;
    }
    for i in 0..plan.table.columns.len() {
        let Some(default) = plan.table.columns[i].default.clone() else {
            continue;
        };
        let mut probe = bare.clone();
        probe.columns[i].default = Some(default.clone());
        if let Some(err) = attempt(tx, &ddl::create_table(&probe), true)? {
            notes.push(Note::new(
                NoteKind::NotCopied,
                format!("{}.{}", plan.name, plan.table.columns[i].name),
                format!(
                    "DEFAULT {default}: PostgreSQL refuses it ({})",
                    pg_message(&err)
                ),
            ));
            plan.table.columns[i].default = None;
        }
    }
    let checks = std::mem::take(&mut plan.table.checks);
    for check in checks {
        let mut probe = bare.clone();
        probe.checks.push(check.clone());
        match attempt(tx, &ddl::create_table(&probe), true)? {
            None => plan.table.checks.push(check),
            Some(err) => notes.push(Note::new(
                NoteKind::NotCopied,
                &plan.name,
                format!(
                    "CHECK ({}): PostgreSQL refuses it ({})",
                    check.expression,
                    pg_message(&err)
                ),
            )),
        }
    }
    let table = Table {
        primary_key: None,
        uniques: Vec::new(),
        foreign_keys: Vec::new(),
        indexes: Vec::new(),
        ..plan.table.clone()
    };
    tx.batch_execute(&ddl::create_table(&table))
        .map_err(|e| pg(format!("cannot create table {}", plan.name), &e))
}

/// Primary key and UNIQUE constraints (rows that violate them fail the copy), then the
/// indexes: one PostgreSQL cannot express is reported and left out.
fn add_keys_and_indexes(
    tx: &mut Transaction<'_>,
    plan: &mut TablePlan,
    notes: &mut Vec<Note>,
) -> Result<(), CopyError> {
    if let Some(pk) = &plan.table.primary_key {
        tx.batch_execute(&ddl::add_primary_key(&plan.table, pk))
            .map_err(|e| pg(format!("cannot add the primary key of {}", plan.name), &e))?;
    }
    for unique in &plan.table.uniques {
        tx.batch_execute(&ddl::add_unique(&plan.table, unique))
            .map_err(|e| {
                pg(
                    format!(
                        "cannot add UNIQUE ({}) to {}",
                        unique.columns.join(", "),
                        plan.name
                    ),
                    &e,
                )
            })?;
    }
    let indexes = std::mem::take(&mut plan.table.indexes);
    for index in indexes {
        match attempt(tx, &ddl::create_index(&plan.table, &index, false), false)? {
            None => plan.table.indexes.push(index),
            Some(err) if is_data_error(&err) => {
                return Err(pg(
                    format!("cannot build index {} on {}", index.name, plan.name),
                    &err,
                ))
            }
            Some(err) => notes.push(Note::new(
                NoteKind::NotCopied,
                format!("index {}", index.name),
                format!("PostgreSQL refuses it ({})", pg_message(&err)),
            )),
        }
    }
    Ok(())
}

/// Creates the views PostgreSQL accepts, each after the views it reads (tried again
/// while any succeeds); the rest are reported with PostgreSQL's reason.
fn create_views(
    tx: &mut Transaction<'_>,
    mut pending: Vec<View>,
    notes: &mut Vec<Note>,
) -> Result<Vec<View>, CopyError> {
    let mut created = Vec::new();
    loop {
        let mut failures = Vec::new();
        let before = pending.len();
        for view in std::mem::take(&mut pending) {
            match attempt(tx, &ddl::create_view(&view), false)? {
                None => created.push(view),
                Some(err) => failures.push((view, pg_message(&err))),
            }
        }
        if failures.is_empty() || failures.len() == before {
            for (view, reason) in failures {
                notes.push(Note::new(
                    NoteKind::NotCopied,
                    format!("view {}", view.name),
                    format!("its SQL is not valid in PostgreSQL ({reason})"),
                ));
            }
            return Ok(created);
        }
        pending = failures.into_iter().map(|(view, _)| view).collect();
    }
}

/// Identity sequences continue after the largest copied id, or after the largest id
/// an AUTOINCREMENT table ever handed out (`sqlite_sequence`), whichever is larger, so
/// no id is reused.
fn set_sequences(tx: &mut Transaction<'_>, tables: &[TablePlan]) -> Result<(), CopyError> {
    for plan in tables {
        for column in plan.columns.iter().filter(|c| c.identity) {
            let floor = plan
                .autoincrement_seq
                .map_or("NULL".to_string(), |seq| seq.to_string());
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence({}, {}), last) \
                 FROM (SELECT greatest(max({}), {floor}) AS last FROM {}) ids WHERE last IS NOT NULL",
                quote_literal(&quote_ident(&plan.name)),
                quote_literal(&column.name),
                quote_ident(&column.name),
                quote_ident(&plan.name),
            );
            tx.batch_execute(&sql).map_err(|e| {
                pg(
                    format!(
                        "cannot set the identity sequence of {}.{}",
                        plan.name, column.name
                    ),
                    &e,
                )
            })?;
        }
    }
    Ok(())
}

/// One binary `COPY … FROM STDIN (FORMAT binary)` stream, written through the
/// `postgres` crate's buffered [`CopyInWriter`]: the 19-byte header, one tuple per row
/// (see [`encode_tuple`]), and the -1 trailer.
///
/// `postgres::binary_copy::BinaryCopyInWriter` writes the same format, but makes one
/// round trip through the client's runtime per row; for a million rows that cost more
/// than the server's work (see `docs/decisions.md`).
struct BinaryCopy<'a> {
    writer: CopyInWriter<'a>,
}

impl<'a> BinaryCopy<'a> {
    const HEADER: &'static [u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

    fn start(mut writer: CopyInWriter<'a>) -> std::io::Result<BinaryCopy<'a>> {
        writer.write_all(Self::HEADER)?;
        Ok(BinaryCopy { writer })
    }

    /// Writes one tuple, already in the binary COPY form.
    fn write_tuple(&mut self, tuple: &[u8]) -> std::io::Result<()> {
        self.writer.write_all(tuple)
    }

    fn finish(mut self, plan: &TablePlan) -> Result<u64, CopyError> {
        self.writer
            .write_all(&(-1i16).to_be_bytes())
            .map_err(|e| copy_failed(plan, &e))?;
        self.writer.finish().map_err(|e| copy_failed(plan, &e))
    }
}

/// The error for a COPY stream that failed: the server's reason when it gave one.
fn copy_failed(plan: &TablePlan, error: &dyn std::fmt::Display) -> CopyError {
    CopyError::Schemasync(Error::database(
        Dialect::Postgres,
        format!("cannot COPY rows into {}", plan.name),
        error,
    ))
}

/// Unconvertible values found while streaming.
#[derive(Default)]
struct Problems {
    count: u64,
    samples: Vec<BadValue>,
    report: Option<(std::path::PathBuf, std::io::BufWriter<std::fs::File>)>,
}

impl Problems {
    fn record(&mut self, bad: BadValue) -> Result<(), CopyError> {
        self.count += 1;
        if let Some((path, file)) = &mut self.report {
            let line = serde_json::to_string(&bad).unwrap_or_default();
            writeln!(file, "{line}").map_err(|e| Error::io(path.clone(), e))?;
        }
        if self.samples.len() < MAX_SAMPLES {
            self.samples.push(bad);
        }
        Ok(())
    }
}

/// Streams every table; with `--on-error=stop`, the first unconvertible value aborts
/// the COPY and the rest is only read, to name every such value.
fn stream_all(
    source: &SqliteDriver,
    tx: &mut Transaction<'_>,
    tables: &[TablePlan],
    options: &CopyOptions,
) -> Result<Vec<TableReport>, CopyError> {
    let mut problems = Problems::default();
    if let OnError::SkipRow(path) = &options.on_error {
        let file = std::fs::File::create(path).map_err(|e| Error::io(path.clone(), e))?;
        problems.report = Some((path.clone(), std::io::BufWriter::new(file)));
    }
    let mut reports = Vec::new();
    for plan in tables {
        reports.push(stream_table(source, tx, plan, options, &mut problems)?);
    }
    if let Some((path, file)) = &mut problems.report {
        file.flush().map_err(|e| Error::io(path.clone(), e))?;
    }
    if options.on_error == OnError::Stop && problems.count > 0 {
        let first = problems
            .samples
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        return Err(CopyError::Unconvertible {
            count: problems.count,
            first,
            more: if problems.count > 1 { ", …" } else { "" }.to_string(),
            samples: problems.samples,
        });
    }
    Ok(reports)
}

/// The row's key for reports: its primary key values, or its rowid.
fn row_key(plan: &TablePlan, row: &rusqlite::Row<'_>) -> String {
    if plan.key.is_empty() {
        let rowid = row
            .get_ref(plan.columns.len())
            .map(show_value)
            .unwrap_or_default();
        return format!("rowid={rowid}");
    }
    plan.key
        .iter()
        .map(|&i| {
            let value = row.get_ref(i).map(show_value).unwrap_or_default();
            format!("{}={value}", plan.columns[i].name)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A SQLite value as a person reads it, shortened when long.
fn show_value(value: ValueRef<'_>) -> String {
    const LONG: usize = 64;
    let hex = |bytes: &[u8]| {
        let shown: String = bytes
            .iter()
            .take(LONG / 2)
            .map(|b| format!("{b:02x}"))
            .collect();
        let more = if bytes.len() > LONG / 2 { "…" } else { "" };
        format!("x'{shown}{more}'")
    };
    match value {
        ValueRef::Null => "NULL".to_string(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(r) => real_as_text(r),
        ValueRef::Text(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) if !text.contains('\0') => {
                let shown: String = text.chars().take(LONG).collect();
                let more = if text.chars().count() > LONG {
                    "…"
                } else {
                    ""
                };
                format!("'{}{more}'", shown.replace('\'', "''"))
            }
            _ => format!("text {}", hex(bytes)),
        },
        ValueRef::Blob(bytes) => hex(bytes),
    }
}

/// Streams one table with binary COPY, one COPY statement per batch, hashing each row's
/// encoded values as they go (see [`row_hash`]).
fn stream_table(
    source: &SqliteDriver,
    tx: &mut Transaction<'_>,
    plan: &TablePlan,
    options: &CopyOptions,
    problems: &mut Problems,
) -> Result<TableReport, CopyError> {
    let sqlite_columns: Vec<String> = plan
        .columns
        .iter()
        .map(|c| schemasync_sqlite::quote_ident(&c.name))
        .collect();
    let select = format!(
        "SELECT {}{} FROM {}",
        sqlite_columns.join(", "),
        if plan.rowid { ", rowid" } else { "" },
        schemasync_sqlite::quote_ident(&plan.name)
    );
    let copy_sql = format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary)",
        quote_ident(&plan.name),
        plan.columns
            .iter()
            .map(|c| quote_ident(&c.name))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let context = || format!("cannot read the rows of {}", plan.name);
    let mut stmt = source
        .connection()
        .prepare(&select)
        .map_err(|e| sqlite(context(), e))?;
    let mut rows = stmt.query([]).map_err(|e| sqlite(context(), e))?;
    if let Some(progress) = &options.progress {
        progress.begin(&format!("copy {}", plan.name), Some(plan.rows));
    }
    let stop = options.on_error == OnError::Stop;
    let batch_rows = options.batch_rows.max(1);
    let (mut written, mut skipped, mut read) = (0u64, 0u64, 0u64);
    let mut sum: i128 = 0;
    let mut tuple: Vec<u8> = Vec::new();
    let mut done = false;
    while !done {
        // One COPY per batch; none once a refused value has aborted the copy.
        let mut writer = if stop && problems.count > 0 {
            None
        } else {
            let copy_in = tx
                .copy_in(&copy_sql)
                .map_err(|e| pg(format!("cannot start COPY into {}", plan.name), &e))?;
            Some(BinaryCopy::start(copy_in).map_err(|e| copy_failed(plan, &e))?)
        };
        let mut in_batch = 0usize;
        while in_batch < batch_rows {
            let Some(row) = rows.next().map_err(|e| sqlite(context(), e))? else {
                done = true;
                break;
            };
            read += 1;
            in_batch += 1;
            let mut bad = false;
            encode_tuple(plan, row, &mut tuple, |i, value, refusal| {
                bad = true;
                problems.record(bad_value(plan, row, i, value, refusal))
            })?;
            if bad {
                skipped += 1;
                if stop {
                    // Dropping the writer aborts the COPY; the transaction rolls back.
                    writer = None;
                }
                continue;
            }
            let Some(w) = writer.as_mut() else {
                continue;
            };
            sum += i128::from(tuple_hash(&tuple));
            w.write_tuple(&tuple).map_err(|e| copy_failed(plan, &e))?;
            written += 1;
        }
        if let Some(writer) = writer {
            writer.finish(plan)?;
        }
        if let Some(progress) = &options.progress {
            progress.advance(read);
        }
    }
    if let Some(progress) = &options.progress {
        progress.finish();
    }
    Ok(TableReport {
        name: plan.name.clone(),
        rows: written,
        skipped,
        checksum: sum.to_string(),
    })
}

/// Encodes a row as one binary COPY tuple into `tuple`: the field count (i16), then
/// per column its length (i32, -1 for NULL) and its binary form. A value that cannot be
/// converted goes to `refused` and leaves no field.
fn encode_tuple(
    plan: &TablePlan,
    row: &rusqlite::Row<'_>,
    tuple: &mut Vec<u8>,
    mut refused: impl FnMut(usize, ValueRef<'_>, &Refusal) -> Result<(), CopyError>,
) -> Result<(), CopyError> {
    tuple.clear();
    let count = i16::try_from(plan.columns.len()).unwrap_or(i16::MAX);
    tuple.extend_from_slice(&count.to_be_bytes());
    for (i, column) in plan.columns.iter().enumerate() {
        let value = row
            .get_ref(i)
            .map_err(|e| sqlite(format!("cannot read the rows of {}", plan.name), e))?;
        let start = tuple.len();
        tuple.extend_from_slice(&[0, 0, 0, 0]);
        match encode(value, column.target, tuple) {
            Ok(true) => {
                let len = i32::try_from(tuple.len() - start - 4).unwrap_or(i32::MAX);
                tuple[start..start + 4].copy_from_slice(&len.to_be_bytes());
            }
            Ok(false) => tuple[start..start + 4].copy_from_slice(&(-1i32).to_be_bytes()),
            Err(refusal) => {
                tuple.truncate(start);
                refused(i, value, &refusal)?;
            }
        }
    }
    Ok(())
}

fn bad_value(
    plan: &TablePlan,
    row: &rusqlite::Row<'_>,
    column: usize,
    value: ValueRef<'_>,
    refusal: &Refusal,
) -> BadValue {
    let target = plan.columns[column].target;
    BadValue {
        table: plan.name.clone(),
        key: row_key(plan, row),
        column: plan.columns[column].name.clone(),
        value: show_value(value),
        reason: format!("{refusal} (cannot become {target})"),
    }
}

/// A row's hash: the first 8 bytes of the MD5 of its binary COPY tuple, as a signed
/// big-endian integer. A table's checksum is the sum of its rows' hashes, so it does not
/// depend on row order; [`verify`] computes it again from what PostgreSQL stored.
fn tuple_hash(tuple: &[u8]) -> i64 {
    let digest = Md5::digest(tuple);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// Reads the table back with `COPY … TO STDOUT (FORMAT binary)` — each stored value as
/// the server's `*_send` function gives it — and compares row count and checksum with
/// what was sent.
fn verify(
    tx: &mut Transaction<'_>,
    tables: &[TablePlan],
    report: &TableReport,
) -> Result<(), CopyError> {
    let Some(plan) = tables.iter().find(|t| t.name == report.name) else {
        return Ok(());
    };
    let columns = plan
        .columns
        .iter()
        .map(|c| quote_ident(&c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "COPY {} ({columns}) TO STDOUT (FORMAT binary)",
        quote_ident(&plan.name)
    );
    let failed = |e: &dyn std::fmt::Display| {
        CopyError::Schemasync(Error::database(
            Dialect::Postgres,
            format!("cannot read {} back to verify it", plan.name),
            e,
        ))
    };
    let reader = tx.copy_out(&sql).map_err(|e| failed(&e))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, reader);
    let (count, sum) = read_back(&mut reader).map_err(|e| failed(&e))?;
    if count != report.rows {
        return Err(CopyError::VerificationFailed {
            table: plan.name.clone(),
            detail: format!("{} rows sent, {count} in PostgreSQL", report.rows),
        });
    }
    if sum.to_string() != report.checksum {
        return Err(CopyError::VerificationFailed {
            table: plan.name.clone(),
            detail: format!("checksum {} sent, {sum} in PostgreSQL", report.checksum),
        });
    }
    Ok(())
}

/// Row count and checksum of a binary COPY stream.
fn read_back<R: std::io::Read>(reader: &mut R) -> std::io::Result<(u64, i128)> {
    let mut header = [0u8; 19];
    reader.read_exact(&mut header)?;
    if &header[..11] != b"PGCOPY\n\xff\r\n\0" {
        return Err(std::io::Error::other("not a binary COPY stream"));
    }
    let extension = u32::from_be_bytes([header[15], header[16], header[17], header[18]]);
    let mut skipped = vec![0u8; usize::try_from(extension).unwrap_or(0)];
    reader.read_exact(&mut skipped)?;
    let (mut count, mut sum) = (0u64, 0i128);
    let mut tuple = Vec::new();
    loop {
        tuple.clear();
        let mut fields = [0u8; 2];
        reader.read_exact(&mut fields)?;
        let fields_count = i16::from_be_bytes(fields);
        if fields_count < 0 {
            return Ok((count, sum));
        }
        tuple.extend_from_slice(&fields);
        for _ in 0..fields_count {
            let mut len = [0u8; 4];
            reader.read_exact(&mut len)?;
            tuple.extend_from_slice(&len);
            if let Ok(len) = usize::try_from(i32::from_be_bytes(len)) {
                let start = tuple.len();
                tuple.resize(start + len, 0);
                reader.read_exact(&mut tuple[start..])?;
            }
        }
        count += 1;
        sum += i128::from(tuple_hash(&tuple));
    }
}
