//! Running a copy (or trying one, for the plan) in one PostgreSQL transaction.
//!
//! Order: drop what `--replace` replaces; create each table without keys, indexes and
//! foreign keys (defaults and CHECKs that PostgreSQL refuses are found on a throwaway
//! probe table under a savepoint, reported and left out); stream the rows with binary
//! `COPY` in batches; add primary keys and UNIQUE constraints; build the indexes (one
//! PostgreSQL cannot express is reported); add the foreign keys, validated; set identity
//! sequences past the largest id; create the views PostgreSQL accepts; compare each
//! table's row count and checksum with the source's. A plan does all of it but the rows
//! and rolls back; a copy commits only when every table verified.

use crate::mapping::{map_tables, TablePlan};
use crate::value::{encode, real_as_text, Refusal};
use crate::{
    BadValue, CopyError, CopyMode, CopyOptions, CopyPlan, CopyReport, Note, NoteKind, OnError,
    TableReport, MAX_SAMPLES,
};
use bytes::BytesMut;
use md5::{Digest, Md5};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{IsNull, ToSql, Type};
use postgres::Transaction;
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

pub(crate) fn run(
    source: &mut SqliteDriver,
    target: &mut PgDriver,
    options: &CopyOptions,
    run: Run,
) -> Result<CopyReport, CopyError> {
    let source_schema = source.introspect()?;
    let mut notes = Vec::new();
    let all = options.tables.is_empty();
    let mut tables = map_tables(source.connection(), &source_schema, options, &mut notes)?;
    source_only_notes(&source_schema, &tables, all, &mut notes);
    let views: Vec<View> = if all {
        source_schema.views.clone()
    } else {
        Vec::new()
    };
    let existing = target.introspect()?;
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
    if options.mode != CopyMode::DataOnly {
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
            verify(&mut tx, &tables, report)?;
        }
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
        .filter(|t| existing.table(&t.name).is_some())
        .map(|t| t.name.as_str())
        .collect();
    let present_views: Vec<&str> = views
        .iter()
        .filter(|v| existing.view(&v.name).is_some())
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
        let live = existing.table(&plan.name).ok_or_else(|| {
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

/// Identity sequences continue after the largest copied id.
fn set_sequences(tx: &mut Transaction<'_>, tables: &[TablePlan]) -> Result<(), CopyError> {
    for plan in tables {
        for column in plan.columns.iter().filter(|c| c.identity) {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence({}, {}), max({})) FROM {} HAVING max({}) IS NOT NULL",
                quote_literal(&quote_ident(&plan.name)),
                quote_literal(&column.name),
                quote_ident(&column.name),
                quote_ident(&plan.name),
                quote_ident(&column.name),
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

/// A value already in binary form, handed to binary COPY as it is.
#[derive(Debug)]
struct Raw<'a>(Option<&'a [u8]>);

impl ToSql for Raw<'_> {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self.0 {
            Some(bytes) => {
                out.extend_from_slice(bytes);
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
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
    let types: Vec<Type> = plan.columns.iter().map(|c| c.target.pg_type()).collect();
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
    let mut buffer: Vec<u8> = Vec::new();
    let mut fields: Vec<Option<(usize, usize)>> = vec![None; plan.columns.len()];
    let mut done = false;
    while !done {
        // One COPY per batch; none once a refused value has aborted the copy.
        let mut writer = if stop && problems.count > 0 {
            None
        } else {
            let copy_in = tx
                .copy_in(&copy_sql)
                .map_err(|e| pg(format!("cannot start COPY into {}", plan.name), &e))?;
            Some(BinaryCopyInWriter::new(copy_in, &types))
        };
        let mut in_batch = 0usize;
        while in_batch < batch_rows {
            let Some(row) = rows.next().map_err(|e| sqlite(context(), e))? else {
                done = true;
                break;
            };
            read += 1;
            in_batch += 1;
            buffer.clear();
            let mut bad = false;
            for (i, column) in plan.columns.iter().enumerate() {
                let value = row.get_ref(i).map_err(|e| sqlite(context(), e))?;
                let start = buffer.len();
                buffer.extend_from_slice(&[1, 0, 0, 0, 0]);
                match encode(value, column.target, &mut buffer) {
                    Ok(true) => {
                        let len = u32::try_from(buffer.len() - start - 5).unwrap_or(u32::MAX);
                        buffer[start + 1..start + 5].copy_from_slice(&len.to_be_bytes());
                        fields[i] = Some((start + 5, buffer.len()));
                    }
                    Ok(false) => {
                        buffer.truncate(start);
                        buffer.push(0);
                        fields[i] = None;
                    }
                    Err(refusal) => {
                        buffer.truncate(start);
                        bad = true;
                        problems.record(bad_value(plan, row, i, value, &refusal))?;
                    }
                }
            }
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
            sum += i128::from(row_hash(&buffer));
            w.write_raw(fields.iter().map(|f| Raw(f.map(|(a, b)| &buffer[a..b]))))
                .map_err(|e| pg(format!("cannot COPY rows into {}", plan.name), &e))?;
            written += 1;
        }
        if let Some(writer) = writer {
            writer
                .finish()
                .map_err(|e| pg(format!("cannot COPY rows into {}", plan.name), &e))?;
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

/// A row's hash: the first 8 bytes of the MD5 of its encoded values, each as `0x00`
/// for NULL or `0x01`, its length (u32, big-endian) and its binary form, as a signed
/// big-endian integer. The checksum of a table is the sum of its rows' hashes, so it
/// does not depend on row order; [`verify`] computes the same on the server.
fn row_hash(encoded: &[u8]) -> i64 {
    let digest = Md5::digest(encoded);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// Compares the row count and checksum PostgreSQL computes from what it stored with
/// what was sent.
fn verify(
    tx: &mut Transaction<'_>,
    tables: &[TablePlan],
    report: &TableReport,
) -> Result<(), CopyError> {
    let Some(plan) = tables.iter().find(|t| t.name == report.name) else {
        return Ok(());
    };
    let row = plan
        .columns
        .iter()
        .map(|c| {
            let sent = c.target.send_sql(&quote_ident(&c.name));
            format!("coalesce('\\x01'::bytea || int4send(octet_length({sent})) || {sent}, '\\x00'::bytea)")
        })
        .collect::<Vec<_>>()
        .join(" || ");
    let sql = format!(
        "SELECT count(*), coalesce(sum(('x' || left(md5({row}), 16))::bit(64)::bigint::numeric), 0)::text FROM {}",
        quote_ident(&plan.name)
    );
    let result = tx
        .query_one(&sql, &[])
        .map_err(|e| pg(format!("cannot verify {}", plan.name), &e))?;
    let count: i64 = result.get(0);
    let checksum: String = result.get(1);
    if u64::try_from(count).ok() != Some(report.rows) {
        return Err(CopyError::VerificationFailed {
            table: plan.name.clone(),
            detail: format!("{} rows sent, {count} in PostgreSQL", report.rows),
        });
    }
    if checksum != report.checksum {
        return Err(CopyError::VerificationFailed {
            table: plan.name.clone(),
            detail: format!(
                "checksum {} sent, {checksum} in PostgreSQL",
                report.checksum
            ),
        });
    }
    Ok(())
}
