//! Online backups with SQLite's backup API, verified with `PRAGMA integrity_check`, and
//! restore from them.
//!
//! A backup never overwrites an existing file, and a restore never starts from a file
//! that fails its integrity check.

use crate::driver::{sqlite_error, SqliteDriver};
use crate::history;
use rusqlite::backup::{Backup, StepResult};
use rusqlite::Connection;
use schemasync_core::{Error, Progress, Result};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Pages copied per backup step; small enough to report progress often.
const PAGES_PER_STEP: std::ffi::c_int = 1024;

/// How long a backup waits, in total, for another connection's lock.
const LOCK_WAIT: Duration = Duration::from_secs(10);
const LOCK_POLL: Duration = Duration::from_millis(50);

/// Copies the `main` database of `conn` to `destination` (a new file) and verifies the copy.
pub(crate) fn backup_to(
    conn: &Connection,
    destination: &Path,
    progress: Option<&dyn Progress>,
) -> Result<()> {
    if destination.exists() {
        return Err(Error::Usage(format!(
            "backup file {} already exists; choose another name",
            destination.display()
        )));
    }
    let context = || format!("cannot back up to {}", destination.display());
    let mut target = Connection::open(destination).map_err(|e| sqlite_error(context(), e))?;
    copy_pages(conn, &mut target, progress).map_err(|e| sqlite_error(context(), e))?;
    drop(target);
    verify(destination)
}

/// Replaces the `main` database of `conn` with the verified backup at `source`.
pub(crate) fn restore_from(
    conn: &mut Connection,
    source: &Path,
    progress: Option<&dyn Progress>,
) -> Result<()> {
    if !source.is_file() {
        return Err(Error::Usage(format!(
            "backup file {} does not exist",
            source.display()
        )));
    }
    verify(source)?;
    let context = || format!("cannot restore from {}", source.display());
    let backup = Connection::open(source).map_err(|e| sqlite_error(context(), e))?;
    copy_pages(&backup, conn, progress).map_err(|e| sqlite_error(context(), e))
}

fn copy_pages(
    from: &Connection,
    to: &mut Connection,
    progress: Option<&dyn Progress>,
) -> rusqlite::Result<()> {
    let backup = Backup::new(from, to)?;
    let mut started = false;
    let mut waited = Duration::ZERO;
    loop {
        let step = backup.step(PAGES_PER_STEP)?;
        if let Some(progress) = progress {
            let p = backup.progress();
            if !started {
                progress.begin("backup", Some(u64::try_from(p.pagecount).unwrap_or(0)));
                started = true;
            }
            progress.advance(u64::try_from(p.pagecount - p.remaining).unwrap_or(0));
        }
        match step {
            StepResult::Done => break,
            StepResult::More => {}
            // Another connection holds a lock: wait a little, as the backup API expects.
            StepResult::Busy | StepResult::Locked if waited < LOCK_WAIT => {
                std::thread::sleep(LOCK_POLL);
                waited += LOCK_POLL;
            }
            _ => {
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                    Some(format!(
                        "the database stayed locked for {} s",
                        LOCK_WAIT.as_secs()
                    )),
                ))
            }
        }
    }
    if let Some(progress) = progress {
        progress.finish();
    }
    Ok(())
}

/// Runs `PRAGMA integrity_check` on the file at `path`; anything but `ok` is an error.
pub(crate) fn verify(path: &Path) -> Result<()> {
    let context = || format!("cannot verify backup {}", path.display());
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| sqlite_error(context(), e))?;
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| sqlite_error(context(), e))?;
    if verdict == "ok" {
        Ok(())
    } else {
        Err(Error::database(
            schemasync_core::Dialect::Sqlite,
            format!("backup {} failed its integrity check", path.display()),
            verdict,
        ))
    }
}

/// The SPEC §5 name of a backup of the database at `database`, in `dir`.
fn backup_path(dir: &Path, database: Option<&Path>, from_version: &str) -> PathBuf {
    let stem = database.and_then(Path::file_name).map_or_else(
        || "memory".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    schemasync_core::backup_path(dir, &stem, from_version, "bak")
}

impl SqliteDriver {
    /// Writes a verified backup into `dir`, named `<db>.<UTC timestamp>.<from version>.bak`
    /// (the version is the label or schema hash of the last apply, or `initial`), and
    /// returns its path.
    pub fn backup_into(&mut self, dir: &Path) -> Result<PathBuf> {
        backup_into(&self.conn, self.path.as_deref(), dir, None)
    }
}

/// [`SqliteDriver::backup_into`] on a borrowed connection.
fn backup_into(
    conn: &Connection,
    database: Option<&Path>,
    dir: &Path,
    progress: Option<&dyn Progress>,
) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let version = history::last_version(conn)?.unwrap_or_else(|| "initial".to_string());
    let path = backup_path(dir, database, &version);
    backup_to(conn, &path, progress)?;
    Ok(path)
}

/// Backs up the database file while `conn` holds the write lock of an apply.
///
/// SQLite's backup API cannot read through a connection that is writing, so the copy
/// reads through a second, read-only connection: it sees the last committed state, which
/// is the state before the apply, and no other writer can change it meanwhile.
pub(crate) fn backup_during_apply(
    conn: &Connection,
    database: &Path,
    dir: &Path,
    progress: Option<&dyn Progress>,
) -> Result<PathBuf> {
    let reader = Connection::open_with_flags(database, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| {
            sqlite_error(
                format!("cannot open {} to back it up", database.display()),
                e,
            )
        })?;
    let version = history::last_version(conn)?.unwrap_or_else(|| "initial".to_string());
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let path = backup_path(dir, Some(database), &version);
    backup_to(&reader, &path, progress)?;
    Ok(path)
}
