//! The cross-dialect conformance suite (SPEC §10): case files, the sqldef importer, a
//! runner that takes each case through the real drivers on fresh SQLite and PostgreSQL
//! databases, and its report.
//!
//! A case is a TOML file (format in `docs/conformance.md`): `current` and `desired`
//! SQL, optional seed rows, optional per-dialect overrides, and the expectation. The
//! runner creates `current` in a fresh database, loads `desired` the way the CLI does
//! (normalised by the driver, with rename hints), plans, applies, and checks that the
//! database converged (live schema equals desired, second plan empty, kept values kept,
//! engine integrity checks clean) or that a refusal changed nothing.
//!
//! Every PostgreSQL plan is also judged by squawk when it is installed ([`squawk`]).
//!
//! `cargo xtask conformance` runs the binary of this crate.

pub mod case;
pub mod engine;
pub mod error;
pub mod glob;
pub mod kinds;
pub mod report;
pub mod run;
pub mod skips;
pub mod sqldef;
pub mod squawk;
pub mod suite;

pub use case::{Case, CaseFile, Expect, Fields, Resolved, DIALECTS};
pub use engine::{Engine, Fixture, PgEngine, SqliteEngine};
pub use error::{ConformanceError, Result};
pub use run::{run_case, DriverWrapper, RunOutcome};
pub use suite::{real_engine, run, Cell, Options, Report, Row};
