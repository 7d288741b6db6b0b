//! Versioned migrations (SPEC §7): revisions with up and down bodies, a registry that
//! checks their graph, targets as Alembic users know them, and a [`Migrator`] that runs
//! revisions through a driver, each in its own transaction, recording them in the
//! `schemasync_version` table.
//!
//! A body is dialect-neutral operations (a list of [`Change`]s, planned by the driver
//! from the live schema to [`apply_changes`]'s result, so SQLite gets rebuilds) and/or
//! raw SQL per dialect, run after the operations; a revision registered in code may also
//! carry a Rust [`Migration`] (data migrations), run last. Drivers take part through
//! [`VersionStore`]; the SQL of the version table lives in each driver.
//!
//! ```
//! use schemasync_core::migrate::{Registry, Revision, Target};
//! use std::collections::BTreeSet;
//! let first = Revision::new(Vec::new(), "create users");
//! let second = Revision::new(vec![first.id.clone()], "add email");
//! let registry = Registry::new(vec![second.clone(), first.clone()])?;
//! let path = registry.upgrade_path(&BTreeSet::new(), &Target::Head)?;
//! assert_eq!(path, [first.id, second.id]);
//! # Ok::<(), schemasync_core::Error>(())
//! ```

mod code;
mod migrator;
mod operations;
mod registry;
mod revision;

pub use code::{update_in_batches, Code, Executor, Migration};
pub use migrator::{Migrator, Ran, Verification};
pub use operations::apply_changes;
pub use registry::{Registry, Target};
pub use revision::{dialect_key, new_id, slug, Body, Revision, ANY_DIALECT, ID_LENGTH};

use crate::change::Change;
use crate::driver::{ApplyOptions, Driver};
use crate::error::Result;

/// Name of the table that records applied revisions.
pub const VERSION_TABLE: &str = "schemasync_version";

/// Which way a revision runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `upgrade`: run the up body, record the revision.
    Up,
    /// `downgrade`: run the down body, remove the revision's record.
    Down,
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Direction::Up => "upgrade",
            Direction::Down => "downgrade",
        })
    }
}

/// One row of the version table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedRevision {
    /// The revision id.
    pub revision: String,
    /// The checksum of its body when it was applied.
    pub checksum: String,
    /// When it was applied (UTC, RFC 3339).
    pub applied_at: String,
    /// The schemasync version that applied it.
    pub tool_version: String,
}

/// One revision to run in one direction, in one transaction.
#[derive(Clone)]
pub struct RevisionRun<'a> {
    /// The revision id.
    pub revision: &'a str,
    /// The checksum to record (for [`Direction::Up`]).
    pub checksum: &'a str,
    /// Which way.
    pub direction: Direction,
    /// Dialect-neutral operations: the driver plans from the live schema (read inside
    /// the transaction) to `apply_changes(live, operations)`, runs and verifies the plan.
    pub operations: &'a [Change],
    /// Raw SQL of the driver's dialect, run after the operations.
    pub sql: Option<&'a str>,
    /// Rust code, run last through an [`Executor`] on the transaction
    /// ([`Migration::up`] or [`Migration::down`] by `direction`).
    pub code: Option<&'a dyn Migration>,
    /// Options for running the plan (backup folder, progress, history label).
    pub options: &'a ApplyOptions,
}

/// What [`VersionStore::run_revision`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// The revision ran and the version table was updated, in one transaction.
    Ran,
    /// Another run had already done it (found under the lock); nothing was changed.
    AlreadyDone,
}

/// A driver that can run revisions and keep the version table.
///
/// Implementations hold a lock for the whole of [`VersionStore::run_revision`] (SQLite:
/// `BEGIN IMMEDIATE`; PostgreSQL: an advisory lock and a transaction), re-read the
/// version table under it, and write the version row in the same transaction as the
/// revision's changes, so concurrent runs apply each revision exactly once.
pub trait VersionStore: Driver {
    /// Every applied revision, in the order they were applied (empty when the version
    /// table does not exist yet). Never writes.
    fn applied(&mut self) -> Result<Vec<AppliedRevision>>;

    /// Runs one revision in one direction (see the trait documentation). On any failure
    /// nothing is changed.
    fn run_revision(&mut self, run: &RevisionRun<'_>) -> Result<RunOutcome>;

    /// Replaces the version table's rows with these `(revision, checksum)` pairs without
    /// running anything (`stamp`).
    fn stamp(&mut self, revisions: &[(String, String)]) -> Result<()>;

    /// The statements that record (up) or remove (down) a revision in the version
    /// table, creating the table if needed, for offline `--sql` output.
    fn version_sql(&self, revision: &str, checksum: &str, direction: Direction) -> Vec<String>;
}
