//! Rust-code migrations: a [`Migration`] runs arbitrary work (data migrations) through
//! an [`Executor`] the driver hands it inside the revision's transaction, after the
//! body's operations and SQL. [`update_in_batches`] is the stairway pattern's backfill
//! step: one statement per key range instead of one statement over the whole table.

use crate::error::Result;
use std::sync::Arc;

/// What Rust-code migrations may do with the database, inside the revision's transaction.
pub trait Executor {
    /// Runs one or more statements and returns the rows changed by the last one.
    fn execute(&mut self, sql: &str) -> Result<u64>;
    /// Runs a query whose first row's first column is an integer; `None` for no row or NULL.
    fn query_i64(&mut self, sql: &str) -> Result<Option<i64>>;
}

/// A revision written in Rust, registered in code (see [`super::Revision::from_code`]).
pub trait Migration: Send + Sync {
    /// A version string of the code, part of the revision's checksum: change it when you
    /// change what `up` or `down` does, as you would edit a revision file.
    fn version(&self) -> &str {
        "1"
    }
    /// What `upgrade` runs (after the revision's operations and SQL, if any).
    fn up(&self, db: &mut dyn Executor) -> Result<()>;
    /// What `downgrade` runs (after the revision's down operations and SQL, if any).
    fn down(&self, db: &mut dyn Executor) -> Result<()>;
}

/// A shared [`Migration`] as a revision holds it; equal only to itself.
#[derive(Clone)]
pub struct Code(pub Arc<dyn Migration>);

impl std::fmt::Debug for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Code(version {})", self.0.version())
    }
}

impl PartialEq for Code {
    fn eq(&self, other: &Code) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Code {}

/// Runs `statement` once per range of `batch_size` keys between the values that
/// `min_sql` and `max_sql` return (say `SELECT min(id) FROM users`), replacing `{lo}`
/// and `{hi}` in it with each range's bounds (`id >= {lo} AND id < {hi}`). Returns the
/// rows changed in all; nothing runs when the table is empty.
///
/// ```
/// # use schemasync_core::migrate::{update_in_batches, Executor};
/// # struct Log(Vec<String>);
/// # impl Executor for Log {
/// #     fn execute(&mut self, sql: &str) -> schemasync_core::Result<u64> { self.0.push(sql.into()); Ok(1) }
/// #     fn query_i64(&mut self, sql: &str) -> schemasync_core::Result<Option<i64>> {
/// #         Ok(Some(if sql.contains("min") { 1 } else { 25 }))
/// #     }
/// # }
/// let mut db = Log(Vec::new());
/// let changed = update_in_batches(
///     &mut db,
///     "SELECT min(id) FROM users",
///     "SELECT max(id) FROM users",
///     10,
///     "UPDATE users SET name = '' WHERE id >= {lo} AND id < {hi}",
/// )?;
/// assert_eq!(changed, 3);
/// assert_eq!(db.0[2], "UPDATE users SET name = '' WHERE id >= 21 AND id < 31");
/// # Ok::<(), schemasync_core::Error>(())
/// ```
pub fn update_in_batches(
    db: &mut dyn Executor,
    min_sql: &str,
    max_sql: &str,
    batch_size: i64,
    statement: &str,
) -> Result<u64> {
    let batch_size = batch_size.max(1);
    let (Some(min), Some(max)) = (db.query_i64(min_sql)?, db.query_i64(max_sql)?) else {
        return Ok(0);
    };
    let mut changed = 0;
    let mut lo = min;
    while lo <= max {
        let hi = lo.saturating_add(batch_size);
        let sql = statement
            .replace("{lo}", &lo.to_string())
            .replace("{hi}", &hi.to_string());
        changed += db.execute(&sql)?;
        lo = hi;
    }
    Ok(changed)
}
