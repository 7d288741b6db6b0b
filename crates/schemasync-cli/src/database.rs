//! An open database of either dialect, as the commands use it: the driver for declarative
//! work, the version store for migrations, and the SQLite-only backups.
//!
//! This is the one place the CLI names a driver type; it makes no schema decision.

use schemasync_core::migrate::VersionStore;
use schemasync_core::{Driver, Result};
use schemasync_postgres::PgDriver;
use schemasync_sqlite::SqliteDriver;
use std::path::{Path, PathBuf};

/// An open database of either dialect.
pub(crate) enum Database {
    /// A SQLite file or in-memory database.
    Sqlite(SqliteDriver),
    /// A PostgreSQL database (boxed: its driver is large).
    Postgres(Box<PgDriver>),
}

impl Database {
    /// The driver, for everything declarative.
    pub(crate) fn driver(&mut self) -> &mut dyn Driver {
        match self {
            Database::Sqlite(driver) => driver,
            Database::Postgres(driver) => driver.as_mut(),
        }
    }

    /// The driver as a version store, for versioned migrations and revision status.
    pub(crate) fn versions(&mut self) -> &mut dyn VersionStore {
        match self {
            Database::Sqlite(driver) => driver,
            Database::Postgres(driver) => driver.as_mut(),
        }
    }

    /// A verified backup in `dir`, named per SPEC §5.
    pub(crate) fn backup_into(&mut self, dir: &Path) -> Result<PathBuf> {
        match self {
            Database::Sqlite(driver) => driver.backup_into(dir),
            Database::Postgres(driver) => driver.backup_into(dir),
        }
    }
}
