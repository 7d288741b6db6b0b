//! `schemasync copy`: its arguments, and wiring them to `schemasync_copy`.
//!
//! Every decision (mapping, what is lossy, conversion, verification) is the library's;
//! this module opens the two databases, prints the plan or the report, and turns
//! [`CopyError`] into a one-line error with exit code 1 (a refusal) or 2.

use crate::cli::Cli;
use crate::commands::emit;
use crate::progress::TerminalProgress;
use crate::url::DatabaseUrl;
use crate::Exit;
use clap::{Args, ValueEnum};
use schemasync_copy::{CopyError, CopyMode, CopyOptions, CopyPlan, OnError};
use schemasync_core::{Error, Result};
use schemasync_postgres::PgDriver;
use schemasync_sqlite::{SqliteDriver, DEFAULT_BUSY_TIMEOUT};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// Arguments of `copy`.
#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The SQLite database to copy: sqlite://path.db
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// The PostgreSQL database to copy into: postgres://user@host/db
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Copy only these tables (views are then not copied)
    #[arg(long, value_name = "T", num_args = 1..)]
    pub tables: Vec<String>,
    /// Create the tables, keys, indexes and views, without rows
    #[arg(long, conflicts_with = "data_only")]
    pub schema_only: bool,
    /// Copy rows into tables that already exist with the mapped types
    #[arg(long)]
    pub data_only: bool,
    /// Rows per COPY statement
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub batch_rows: usize,
    /// Keep DATE/DATETIME/TIMESTAMP columns whose values do not all parse as text
    #[arg(long)]
    pub keep_text_dates: bool,
    /// What to do with rows holding values that cannot be converted exactly
    #[arg(long, value_enum, default_value_t = OnErrorArg::Stop)]
    pub on_error: OnErrorArg,
    /// With --on-error=skip-row: file that lists every skipped value (JSON lines)
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Drop the copied tables and views in the target first (in the same transaction)
    #[arg(long)]
    pub replace: bool,
    /// Print the mapping and every lossy or unsupported point; write nothing
    #[arg(long)]
    pub plan: bool,
    /// Output format of --plan (sql: the mapped schema as PostgreSQL DDL)
    #[arg(long, value_enum, default_value_t = CopyFormat::Text, requires = "plan")]
    pub format: CopyFormat,
}

/// `copy --on-error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnErrorArg {
    /// Refuse the copy and name the values; nothing is written.
    Stop,
    /// Copy the other rows; list the skipped ones in --report FILE.
    SkipRow,
}

/// `copy --plan --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CopyFormat {
    /// The mapping and the lossy or unsupported points.
    Text,
    /// The mapped schema as PostgreSQL DDL (a schema file for `check --schema`).
    Sql,
    /// The mapping and the points as JSON.
    Json,
}

/// Runs `copy`.
pub(crate) fn run(cli: &Cli, args: &CopyArgs, out: &mut dyn Write) -> Result<Exit> {
    let from: DatabaseUrl = args.from.parse()?;
    let to: DatabaseUrl = args.to.parse()?;
    let DatabaseUrl::Sqlite { path } = &from else {
        return Err(Error::Usage(format!(
            "copy reads a SQLite database file (sqlite://path.db), not {from}"
        )));
    };
    let DatabaseUrl::Postgres(target_url) = &to else {
        return Err(Error::Usage(format!(
            "copy writes into PostgreSQL (postgres://user@host/db), not {to}"
        )));
    };
    if !path.exists() {
        return Err(Error::Usage(format!(
            "database file {} does not exist",
            path.display()
        )));
    }
    let on_error = match (args.on_error, &args.report) {
        (OnErrorArg::Stop, _) => OnError::Stop,
        (OnErrorArg::SkipRow, Some(report)) => OnError::SkipRow(report.clone()),
        (OnErrorArg::SkipRow, None) => {
            return Err(Error::Usage(
                "--on-error=skip-row needs --report FILE to list the skipped rows".to_string(),
            ))
        }
    };
    let busy_timeout = cli
        .busy_timeout
        .map_or(DEFAULT_BUSY_TIMEOUT, Duration::from_secs_f64);
    let mut source = SqliteDriver::open(path, busy_timeout)?;
    let mut target = PgDriver::connect(
        &target_url.connection_string(),
        crate::commands::pg_options(cli),
    )?;
    let options = CopyOptions {
        tables: args.tables.clone(),
        mode: if args.schema_only {
            CopyMode::SchemaOnly
        } else if args.data_only {
            CopyMode::DataOnly
        } else {
            CopyMode::All
        },
        batch_rows: args.batch_rows,
        keep_text_dates: args.keep_text_dates,
        on_error,
        replace: args.replace,
        progress: TerminalProgress::for_stderr(),
    };
    if args.plan {
        let plan = match schemasync_copy::plan(&mut source, &mut target, &options) {
            Ok(plan) => plan,
            Err(error) => return failed(error, out),
        };
        let text = match args.format {
            CopyFormat::Text => plan_text(&from, &to, &plan),
            CopyFormat::Sql => schemasync_postgres::ddl::create_schema(&plan.schema)
                .into_iter()
                .map(|(_, sql)| format!("{sql};\n"))
                .collect::<Vec<_>>()
                .join("\n"),
            CopyFormat::Json => serde_json::to_string_pretty(&plan)
                .map(|json| format!("{json}\n"))
                .map_err(|e| Error::Usage(format!("cannot render the plan as JSON: {e}")))?,
        };
        emit(out, &text)?;
        return Ok(Exit::Success);
    }
    let report = match schemasync_copy::copy(&mut source, &mut target, &options) {
        Ok(report) => report,
        Err(error) => return failed(error, out),
    };
    let mut text = notes_text(&report.plan);
    let mut total = 0;
    for table in &report.tables {
        total += table.rows;
        let skipped = if table.skipped > 0 {
            format!(", {} skipped", table.skipped)
        } else {
            String::new()
        };
        text.push_str(&format!(
            "Copied {}: {}{skipped}; count and checksum verified.\n",
            table.name,
            rows(table.rows)
        ));
    }
    text.push_str(&match options.mode {
        CopyMode::SchemaOnly => format!("Created {} tables in {to}.\n", report.plan.tables.len()),
        _ => format!(
            "Copy committed: {} tables, {} into {to}.\n",
            report.tables.len(),
            rows(total)
        ),
    });
    emit(out, &text)?;
    Ok(Exit::Success)
}

/// A refusal is printed here and exits 1 (the values it names listed on stdout, one a
/// line); anything else goes up as an error (exit 2).
fn failed(error: CopyError, out: &mut dyn Write) -> Result<Exit> {
    if let CopyError::Unconvertible { samples, count, .. } = &error {
        let mut text = format!("Values that cannot be converted exactly ({count}):\n");
        for bad in samples {
            text.push_str(&format!("  - {bad}\n"));
        }
        if *count > samples.len() as u64 {
            text.push_str(&format!("  … and {} more\n", *count - samples.len() as u64));
        }
        emit(out, &text)?;
    }
    if error.is_refusal() {
        eprintln!("error: {error}");
        return Ok(Exit::Refused);
    }
    match error {
        CopyError::Schemasync(error) => Err(error),
        other => Err(Error::Usage(other.to_string())),
    }
}

/// The mapping, table by table, then the points.
fn plan_text(from: &DatabaseUrl, to: &DatabaseUrl, plan: &CopyPlan) -> String {
    let mut text = format!("Copy plan: {from} → {to}\n");
    for table in &plan.tables {
        text.push_str(&format!("table {} ({})\n", table.name, rows(table.rows)));
        let width = table
            .columns
            .iter()
            .map(|c| c.name.len())
            .max()
            .unwrap_or(0);
        let type_width = table
            .columns
            .iter()
            .map(|c| c.sqlite_type.len().max(1))
            .max()
            .unwrap_or(0);
        for column in &table.columns {
            let declared = if column.sqlite_type.is_empty() {
                "-"
            } else {
                column.sqlite_type.as_str()
            };
            text.push_str(&format!(
                "  {:width$}  {declared:type_width$}  → {}{}\n",
                column.name,
                column.target,
                if column.identity { " identity" } else { "" }
            ));
        }
    }
    text.push_str(&notes_text(plan));
    text
}

/// `1 row`, `2 rows`.
fn rows(n: u64) -> String {
    format!("{n} {}", if n == 1 { "row" } else { "rows" })
}

fn notes_text(plan: &CopyPlan) -> String {
    if plan.notes.is_empty() {
        return "No lossy or unsupported points.\n".to_string();
    }
    let mut text = format!("Lossy or unsupported points ({}):\n", plan.notes.len());
    for note in &plan.notes {
        text.push_str(&format!("  ! {note}\n"));
    }
    text
}
