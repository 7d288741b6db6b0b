//! Backups with PostgreSQL's own tools: `pg_dump` in its custom format, checked by
//! `pg_restore --list`, and restored by `pg_restore` in one transaction.
//!
//! The connection reaches the tools through libpq's environment variables (`PGHOST`,
//! `PGPASSWORD`, …), never on the command line, where other users could read a password.

use crate::driver::PgDriver;
use crate::history;
use postgres::Client;
use schemasync_core::{Dialect, Error, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

impl PgDriver {
    /// Writes a verified `pg_dump` (custom format) of the database into `dir`, named
    /// `<database>.<UTC timestamp>.<from version>.dump`, and returns its path.
    pub fn backup_into(&mut self, dir: &Path) -> Result<PathBuf> {
        backup_into(&mut self.client, &self.url, dir)
    }
}

/// [`PgDriver::backup_into`] with the driver's parts.
pub(crate) fn backup_into(client: &mut Client, url: &str, dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let version = history::last_version(client)?.unwrap_or_else(|| "initial".to_string());
    let stem = config(url)?.get_dbname().unwrap_or("postgres").to_string();
    let path = schemasync_core::backup_path(dir, &stem, &version, "dump");
    dump(url, &path)?;
    Ok(path)
}

/// Dumps the database `url` names into `destination` and checks that `pg_restore` can
/// read the archive back.
pub(crate) fn dump(url: &str, destination: &Path) -> Result<()> {
    let mut command = tool("pg_dump", url)?;
    command
        .arg("--format=custom")
        .arg("--file")
        .arg(destination);
    let dumped = run(
        command,
        "pg_dump",
        &format!("cannot back up to {}", destination.display()),
    );
    if dumped.is_err() {
        // A half-written archive must not pass for a backup.
        let _ = std::fs::remove_file(destination);
    }
    dumped?;
    let mut list = Command::new("pg_restore");
    list.arg("--list").arg(destination);
    run(
        list,
        "pg_restore",
        &format!("backup {} cannot be read back", destination.display()),
    )
    .map(drop)
}

/// Restores the archive `source` into the database `url` names: every object in the
/// archive is dropped and recreated with its data, in one transaction, so a failure
/// changes nothing. Objects created after the backup was taken are left alone.
pub(crate) fn restore(url: &str, source: &Path) -> Result<()> {
    let config = config(url)?;
    let mut command = tool("pg_restore", url)?;
    command
        .args([
            "--clean",
            "--if-exists",
            "--single-transaction",
            "--exit-on-error",
        ])
        .arg("--dbname")
        .arg(config.get_dbname().unwrap_or("postgres"))
        .arg(source);
    run(
        command,
        "pg_restore",
        &format!("cannot restore {}", source.display()),
    )
    .map(drop)
}

fn config(url: &str) -> Result<postgres::Config> {
    url.parse()
        .map_err(|e: postgres::Error| Error::Usage(format!("the PostgreSQL URL is not valid: {e}")))
}

/// `program` with the connection of `url` in its environment.
fn tool(program: &str, url: &str) -> Result<Command> {
    let config = config(url)?;
    let mut command = Command::new(program);
    command.arg("--no-password");
    for (name, value) in libpq_environment(&config) {
        command.env(name, value);
    }
    Ok(command)
}

/// The libpq environment variables that reproduce `config`.
fn libpq_environment(config: &postgres::Config) -> Vec<(&'static str, OsString)> {
    let mut env = Vec::new();
    let hosts: Vec<OsString> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            postgres::config::Host::Tcp(name) => OsString::from(name),
            postgres::config::Host::Unix(path) => path.clone().into_os_string(),
        })
        .collect();
    if !hosts.is_empty() {
        env.push(("PGHOST", join(&hosts)));
    }
    let ports: Vec<OsString> = config
        .get_ports()
        .iter()
        .map(|p| OsString::from(p.to_string()))
        .collect();
    if !ports.is_empty() {
        env.push(("PGPORT", join(&ports)));
    }
    if let Some(user) = config.get_user() {
        env.push(("PGUSER", OsString::from(user)));
    }
    if let Some(password) = config.get_password() {
        env.push((
            "PGPASSWORD",
            OsString::from(String::from_utf8_lossy(password).into_owned()),
        ));
    }
    if let Some(dbname) = config.get_dbname() {
        env.push(("PGDATABASE", OsString::from(dbname)));
    }
    let ssl_mode = match config.get_ssl_mode() {
        postgres::config::SslMode::Disable => "disable",
        postgres::config::SslMode::Prefer => "prefer",
        _ => "require",
    };
    env.push(("PGSSLMODE", OsString::from(ssl_mode)));
    env.push(("PGAPPNAME", OsString::from("schemasync")));
    env
}

fn join(parts: &[OsString]) -> OsString {
    let mut joined = OsString::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            joined.push(",");
        }
        joined.push(part);
    }
    joined
}

/// Runs `command`; a tool that is missing or fails becomes an error with its first line
/// of complaint.
fn run(mut command: Command, program: &str, context: &str) -> Result<Output> {
    let output = command.output().map_err(|e| {
        Error::database(
            Dialect::Postgres,
            context.to_string(),
            format!("{program} could not be run ({e}); install the PostgreSQL client tools"),
        )
    })?;
    if output.status.success() {
        return Ok(output);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let message = stderr
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("no message")
        .trim()
        .to_string();
    Err(Error::database(
        Dialect::Postgres,
        context.to_string(),
        format!("{program} failed: {message}"),
    ))
}
