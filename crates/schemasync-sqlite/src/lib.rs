//! SQLite driver for schemasync.
//!
//! [`SqliteDriver`] implements [`schemasync_core::Driver`] on one `rusqlite` connection:
//! introspection (PRAGMAs plus the stored CREATE text), planning with native
//! `ALTER TABLE` where SQLite allows it and one rebuild per table where it does not,
//! and an apply that is one `BEGIN IMMEDIATE` transaction preceded by a verified
//! online backup.
//!
//! ```
//! use schemasync_sqlite::{Driver, SqliteDriver};
//! let mut driver = SqliteDriver::open_in_memory()?;
//! let desired = driver.normalize_sql("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);")?;
//! let current = driver.introspect()?;
//! let plan = driver.plan(&current, &desired)?;
//! driver.apply(&plan, &desired, &Default::default())?;
//! assert!(driver.introspect()?.table("users").is_some());
//! # Ok::<(), schemasync_sqlite::Error>(())
//! ```

mod apply;
mod backup;
mod ddl;
mod driver;
mod history;
mod introspect;
mod parse;
mod planner;
mod quote;
mod versions;

pub use driver::{SqliteDriver, DEFAULT_BUSY_TIMEOUT};
pub use history::HistoryEntry;
pub use quote::{quote_ident, quote_literal};
pub use schemasync_core;
pub use schemasync_core::{
    diff, ApplyOptions, ApplyReport, Change, Column, Dialect, DiffOptions, Driver, Error, Hazard,
    HazardKind, Plan, Progress, Result, Schema, Status, Step, Table,
};
