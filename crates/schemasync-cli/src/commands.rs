//! What each subcommand does: resolve settings, open the driver, call the library,
//! print the result.
//!
//! Every schema decision (diff, plan, hazards, guards, backup naming) belongs to the
//! library crates; this module only wires them to arguments and output. It writes
//! results to the `out` it is given and nothing else to stdout.

use crate::cli::{ApplyArgs, Cli, Command, InspectFormat, MoveArgs, PlanFormat, StatusFormat};
use crate::config::{self, Config};
use crate::database::Database;
use crate::migrations;
use crate::progress::TerminalProgress;
use crate::render;
use crate::url::DatabaseUrl;
use crate::Exit;
use schemasync_core::format::{render_schema, SchemaFormat};
use schemasync_core::migrate::{Direction, Revision};
use schemasync_core::source::load_desired;
use schemasync_core::{ApplyOptions, Driver, Error, Plan, Result, Schema};
use schemasync_postgres::{PgDriver, PgOptions};
use schemasync_sqlite::SqliteDriver;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Settings every command needs, resolved once from flags, environment and config.
struct Context {
    url: DatabaseUrl,
    config: Config,
    busy_timeout: Duration,
    postgres: PgOptions,
}

/// Whether a command may create a missing database file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Missing {
    /// A missing file is an error (read-only commands, backup).
    Refuse,
    /// A missing file is created (apply, restore).
    Create,
}

/// The PostgreSQL options the global flags ask for.
pub(crate) fn pg_options(cli: &Cli) -> PgOptions {
    PgOptions {
        lock_timeout: Duration::from_millis(cli.lock_timeout),
        lock_retries: cli.lock_retries,
        statement_timeout: Duration::from_millis(cli.statement_timeout),
        unsafe_plain_ddl: cli.unsafe_plain_ddl,
        dev_url: cli.dev_url.clone(),
    }
}

/// Runs the parsed command line, writing results to `out`.
pub(crate) fn execute(cli: Cli, in_code: &[Revision], out: &mut dyn Write) -> Result<Exit> {
    let config = Config::load(cli.config.as_deref())?;
    let naming = config.naming.clone();
    let dir = cli.migrations.as_path();
    let src = migrations::Source { dir, in_code };
    // Resolved now, reported only by commands that need a database.
    let ctx = config::resolve_database_url(
        cli.database_url.as_deref(),
        |name| std::env::var(name).ok(),
        &config,
    )
    .and_then(|(url, _)| {
        let busy_timeout = config::resolve_busy_timeout(cli.busy_timeout, &config)?;
        Ok((url, busy_timeout))
    })
    .map(|(url, busy_timeout)| Context {
        url,
        config,
        busy_timeout,
        postgres: pg_options(&cli),
    });
    match cli.command {
        Command::Inspect { format } => inspect(&ctx?, format, out),
        Command::Plan { schema, format } => plan(&ctx?, &schema.schema, format, out),
        Command::Apply(args) => apply(&ctx?, &args, out),
        Command::Check { schema } => check(&ctx?, src, &schema.schema, out),
        Command::Status { format } => status(&ctx?, src, format, out),
        Command::Backup { to } => backup(&ctx?, to.as_deref(), out),
        Command::Restore { file, no_backup } => restore(&ctx?, &file, no_backup, out),
        Command::Init => migrations::init(dir, out),
        Command::Revision(args) => {
            migrations::revision(src, &args, &naming, &mut || scratch(&ctx), out)
        }
        Command::Upgrade(args) => migrate(&ctx?, src, Direction::Up, &args, out),
        Command::Downgrade(args) => migrate(&ctx?, src, Direction::Down, &args, out),
        Command::Current => {
            let registry = src.registry()?;
            let mut database = open(&ctx?, Missing::Refuse)?;
            migrations::current(database.versions(), &registry, out)
        }
        Command::History { range, verbose } => {
            migrations::history(src, range.as_deref(), verbose, out)
        }
        Command::Heads => migrations::heads(src, out),
        Command::Branches => migrations::branches(src, out),
        Command::Merge { message, revisions } => migrations::merge(src, &message, &revisions, out),
        Command::Stamp { target } => {
            let registry = src.registry()?;
            let mut database = open(&ctx?, Missing::Create)?;
            migrations::stamp(database.versions(), &registry, &target, out)
        }
        Command::Show { revision } => migrations::show(src, &revision, out),
        Command::Verify => migrations::verify(src, scratch(&ctx)?, out),
        Command::Copy(ref args) => crate::copy::run(&cli, args, out),
    }
}

/// `upgrade` and `downgrade`. `--sql` never creates or writes the database (a missing
/// file reads as empty); a run that created the file removes it again if it fails
/// before committing anything.
fn migrate(
    ctx: &Context,
    src: migrations::Source<'_>,
    direction: Direction,
    args: &MoveArgs,
    out: &mut dyn Write,
) -> Result<Exit> {
    let registry = src.registry()?;
    if args.sql {
        let mut database = if sqlite_file_missing(&ctx.url) {
            Database::Sqlite(SqliteDriver::open_in_memory()?)
        } else {
            open(ctx, Missing::Refuse)?
        };
        return migrations::migrate(database.versions(), &registry, direction, args, out);
    }
    let missing = if direction == Direction::Up {
        Missing::Create
    } else {
        Missing::Refuse
    };
    let created = sqlite_file_missing(&ctx.url);
    let result = open(ctx, missing).and_then(|mut database| {
        migrations::migrate(database.versions(), &registry, direction, args, out)
    });
    if let (true, Err(_), DatabaseUrl::Sqlite { path }) = (created, &result, &ctx.url) {
        // Only a file nothing was committed to: a failure after some revisions keeps them.
        if std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
            let _ = std::fs::remove_file(path);
        }
    }
    result
}

fn inspect(ctx: &Context, format: InspectFormat, out: &mut dyn Write) -> Result<Exit> {
    let mut database = open(ctx, Missing::Refuse)?;
    let driver = database.driver();
    let schema = driver.introspect()?;
    let text = match format {
        InspectFormat::Sql => driver
            .render_sql(&schema)
            .iter()
            .map(|statement| format!("{statement};\n"))
            .collect::<Vec<_>>()
            .join("\n"),
        InspectFormat::Toml => render_schema(&schema, SchemaFormat::Toml)?,
        InspectFormat::Json => render_schema(&schema, SchemaFormat::Json)?,
        InspectFormat::Yaml => render_schema(&schema, SchemaFormat::Yaml)?,
    };
    emit(out, &text)?;
    Ok(Exit::Success)
}

fn plan(
    ctx: &Context,
    schema_file: &Path,
    format: PlanFormat,
    out: &mut dyn Write,
) -> Result<Exit> {
    let mut database = match open(ctx, Missing::Refuse) {
        Err(_) if sqlite_file_missing(&ctx.url) => {
            eprintln!(
                "note: {} does not exist yet; planning against an empty database",
                ctx.url
            );
            Database::Sqlite(SqliteDriver::open_in_memory()?)
        }
        opened => opened?,
    };
    let driver = database.driver();
    let (plan, _) = plan_for(driver, ctx, schema_file)?;
    let text = match format {
        PlanFormat::Text => {
            render::plan_text(&plan) + &render::unmanaged_text(&driver.unmanaged()?)
        }
        PlanFormat::Sql => render::plan_sql(&plan, |plan| driver.script(plan)),
        PlanFormat::Json => render::plan_json(&plan)?,
    };
    emit(out, &text)?;
    Ok(Exit::Success)
}

fn apply(ctx: &Context, args: &ApplyArgs, out: &mut dyn Write) -> Result<Exit> {
    let created = sqlite_file_missing(&ctx.url);
    let result = apply_to_database(ctx, args, out);
    // A file this command created is removed again unless the schema landed in it.
    if created && (result.is_err() || args.dry_run) {
        if let DatabaseUrl::Sqlite { path } = &ctx.url {
            let _ = std::fs::remove_file(path);
        }
    }
    result
}

fn apply_to_database(ctx: &Context, args: &ApplyArgs, out: &mut dyn Write) -> Result<Exit> {
    let mut database = open(ctx, Missing::Create)?;
    let driver = database.driver();
    let (plan, desired) = plan_for(driver, ctx, &args.schema.schema)?;
    if plan.is_empty() {
        emit(out, &format!("{}\n", render::NO_CHANGES))?;
        return Ok(Exit::Success);
    }
    emit(out, &render::plan_text(&plan))?;
    let backup_dir = if args.no_backup {
        None
    } else {
        backup_dir(ctx)?
    };
    let options = ApplyOptions {
        allow_data_loss: args.allow_data_loss,
        backup_dir,
        dry_run: args.dry_run,
        label: args.label.clone(),
        progress: TerminalProgress::for_stderr(),
    };
    let report = driver.apply(&plan, &desired, &options)?;
    if let Some(backup) = &report.backup {
        emit(out, &format!("Backup: {}\n", shown(backup)))?;
    }
    let done = if args.dry_run {
        format!(
            "Dry run: {} checked, nothing changed.\n",
            steps(plan.steps.len())
        )
    } else {
        format!("Applied {}.\n", steps(report.steps_run))
    };
    emit(out, &done)?;
    Ok(Exit::Success)
}

fn check(
    ctx: &Context,
    src: migrations::Source<'_>,
    schema_file: &Path,
    out: &mut dyn Write,
) -> Result<Exit> {
    let mut database = open(ctx, Missing::Refuse)?;
    let (plan, _) = plan_for(database.driver(), ctx, schema_file)?;
    let shown = schema_file.display().to_string();
    if let Some(line) = migrations::revision_status(database.versions(), src)? {
        emit(out, &line)?;
    }
    if plan.is_empty() {
        emit(out, &format!("No drift: the database matches {shown}.\n"))?;
        Ok(Exit::Success)
    } else {
        emit(out, &render::drift_text(&plan, &shown))?;
        Ok(Exit::Difference)
    }
}

fn status(
    ctx: &Context,
    src: migrations::Source<'_>,
    format: StatusFormat,
    out: &mut dyn Write,
) -> Result<Exit> {
    let mut database = open(ctx, Missing::Refuse)?;
    let status = database.driver().status()?;
    let text = match format {
        StatusFormat::Text => {
            let mut text = render::status_text(&ctx.url, &status);
            if let Some(line) = migrations::revision_status(database.versions(), src)? {
                text.push_str(&line);
            }
            text
        }
        StatusFormat::Json => render::status_json(&ctx.url, &status)?,
    };
    emit(out, &text)?;
    Ok(Exit::Success)
}

fn backup(ctx: &Context, to: Option<&Path>, out: &mut dyn Write) -> Result<Exit> {
    let mut database = open(ctx, Missing::Refuse)?;
    let written = match to {
        Some(file) => {
            database.driver().backup(file)?;
            file.to_path_buf()
        }
        None => database.backup_into(&required_backup_dir(ctx)?)?,
    };
    emit(out, &format!("Backup written to {}.\n", shown(&written)))?;
    Ok(Exit::Success)
}

fn restore(ctx: &Context, file: &Path, no_backup: bool, out: &mut dyn Write) -> Result<Exit> {
    if !file.is_file() {
        return Err(Error::Usage(format!(
            "backup file {} does not exist",
            file.display()
        )));
    }
    let had_content = match &ctx.url {
        DatabaseUrl::Sqlite { path } => std::fs::metadata(path).is_ok_and(|m| m.len() > 0),
        DatabaseUrl::Postgres(_) => true,
        DatabaseUrl::SqliteMemory => false,
    };
    let mut database = open(ctx, Missing::Create)?;
    if had_content && !no_backup {
        let saved = database.backup_into(&required_backup_dir(ctx)?)?;
        emit(
            out,
            &format!("Backup of the current database: {}\n", shown(&saved)),
        )?;
    }
    database.driver().restore(file)?;
    emit(
        out,
        &format!("Restored {} into {}.\n", file.display(), ctx.url),
    )?;
    Ok(Exit::Success)
}

/// Loads the desired schema through `driver` (from a file, or by introspecting the
/// database another URL names), introspects the live one and plans.
fn plan_for(driver: &mut dyn Driver, ctx: &Context, schema: &Path) -> Result<(Plan, Schema)> {
    let desired = match other_database(ctx, schema)? {
        Some(mut other) => {
            let other = other.driver();
            if other.dialect() != driver.dialect() {
                return Err(Error::Usage(format!(
                    "cannot compare a {} database with a {} one",
                    driver.dialect(),
                    other.dialect()
                )));
            }
            other.introspect()?
        }
        None => load_desired(schema, driver, &ctx.config.naming)?,
    };
    let current = driver.introspect()?;
    let plan = driver.plan(&current, &desired)?;
    Ok((plan, desired))
}

/// An empty database of the target's dialect for running revisions: a scratch database
/// on the PostgreSQL server (or `--dev-url`), else in-memory SQLite (also when no
/// database is configured, so revision files can be written offline).
fn scratch(ctx: &Result<Context>) -> Result<Database> {
    match ctx {
        Ok(Context {
            url: DatabaseUrl::Postgres(postgres),
            postgres: options,
            ..
        }) => {
            let server = options
                .dev_url
                .clone()
                .unwrap_or_else(|| postgres.connection_string());
            PgDriver::connect_scratch(&server, options.clone())
                .map(|driver| Database::Postgres(Box::new(driver)))
        }
        _ => SqliteDriver::open_in_memory().map(Database::Sqlite),
    }
}

/// The database a `--schema` argument names when it is a URL rather than a file.
fn other_database(ctx: &Context, schema: &Path) -> Result<Option<Database>> {
    let text = schema.to_string_lossy();
    if !["sqlite:", "postgres:", "postgresql:"]
        .iter()
        .any(|scheme| text.starts_with(scheme))
    {
        return Ok(None);
    }
    let url: DatabaseUrl = text.parse()?;
    open_url(ctx, &url, Missing::Refuse).map(Some)
}

/// Opens the database the context names.
fn open(ctx: &Context, missing: Missing) -> Result<Database> {
    open_url(ctx, &ctx.url, missing)
}

fn open_url(ctx: &Context, url: &DatabaseUrl, missing: Missing) -> Result<Database> {
    match url {
        DatabaseUrl::Sqlite { path } => {
            if missing == Missing::Refuse && !path.exists() {
                return Err(Error::Usage(format!(
                    "database file {} does not exist (`apply` creates it)",
                    path.display()
                )));
            }
            SqliteDriver::open(path, ctx.busy_timeout).map(Database::Sqlite)
        }
        DatabaseUrl::SqliteMemory => SqliteDriver::open_in_memory().map(Database::Sqlite),
        DatabaseUrl::Postgres(postgres) => {
            PgDriver::connect(&postgres.connection_string(), ctx.postgres.clone())
                .map(|driver| Database::Postgres(Box::new(driver)))
        }
    }
}

fn sqlite_file_missing(url: &DatabaseUrl) -> bool {
    matches!(url, DatabaseUrl::Sqlite { path } if !path.exists())
}

/// The backup folder: `backup_dir` from the config (created if missing), else the
/// database file's folder (SQLite) or the current folder (PostgreSQL); `None` for an
/// in-memory database.
fn backup_dir(ctx: &Context) -> Result<Option<PathBuf>> {
    if let Some(dir) = ctx.config.backup_dir() {
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        return Ok(Some(dir));
    }
    Ok(match &ctx.url {
        DatabaseUrl::Sqlite { path } => Some(match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        }),
        DatabaseUrl::Postgres(_) => Some(PathBuf::from(".")),
        DatabaseUrl::SqliteMemory => None,
    })
}

fn required_backup_dir(ctx: &Context) -> Result<PathBuf> {
    backup_dir(ctx)?.ok_or_else(|| {
        Error::Usage(
            "an in-memory database has no backup folder; pass --to FILE or set backup_dir"
                .to_string(),
        )
    })
}

/// A path for output, without a leading `./`.
fn shown(path: &Path) -> std::path::Display<'_> {
    path.strip_prefix(".").unwrap_or(path).display()
}

fn steps(n: usize) -> String {
    format!("{n} {}", if n == 1 { "step" } else { "steps" })
}

pub(crate) fn emit(out: &mut dyn Write, text: &str) -> Result<()> {
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::io(crate::STDOUT, e))
}
