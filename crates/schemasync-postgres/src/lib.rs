//! PostgreSQL driver for schemasync.
//!
//! [`PgDriver`] implements [`schemasync_core::Driver`] on one `postgres` connection:
//! introspection from `pg_catalog` (one query per object kind), desired `.sql` normalised
//! in a scratch database that is always dropped, and lock-safe plans: every step under a
//! short `lock_timeout` with bounded retries, indexes on existing tables built
//! `CONCURRENTLY`, foreign keys and CHECKs added `NOT VALID` then validated, and a session
//! advisory lock so two runs never interleave.

mod apply;
mod backup;
pub mod ddl;
mod driver;
mod history;
mod introspect;
mod planner;
mod quote;
mod scratch;
pub mod testing;
mod versions;

pub use driver::{PgDriver, PgOptions};
pub use quote::{quote_ident, quote_literal};
pub use schemasync_core;
pub use schemasync_core::{
    diff, ApplyOptions, ApplyReport, Change, Column, Dialect, DiffOptions, Driver, Error, Hazard,
    HazardKind, Plan, Progress, Result, Schema, Status, Step, Table,
};
