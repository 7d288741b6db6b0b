//! The whole suite: which cases run where, with what outcome.

use crate::case::{self, Case, Origin, DIALECTS};
use crate::engine::{Engine, PgEngine, SqliteEngine};
use crate::error::Result;
use crate::run::{run_case, DriverWrapper};
use crate::skips::{Skips, SKIPS_FILE};
use crate::{glob, sqldef};
use schemasync_core::Dialect;
use std::path::PathBuf;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Dialects to run (cells of others are left empty).
    pub dialects: Vec<Dialect>,
    /// Only cases whose name matches this pattern (see [`glob::matches`]).
    pub case_pattern: Option<String>,
    /// Our corpus (`tests/conformance`), which also holds the external skip list.
    pub cases_dir: PathBuf,
    /// External corpora (`../shared/conformance`); skipped with a note when absent.
    pub external_dir: Option<PathBuf>,
}

/// The outcome of one case on one dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Passed.
    Pass,
    /// Failed, with why.
    Fail(String),
    /// Not run, with why.
    Skipped(String),
    /// Failed as a listed known bug expects.
    KnownBug(String),
}

/// One case's outcomes, by dialect (dialects it does not apply to are absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The case name.
    pub name: String,
    /// Whether the case is from an external corpus.
    pub external: bool,
    /// Outcomes by dialect, in [`DIALECTS`] order.
    pub cells: Vec<(Dialect, Cell)>,
}

/// Everything a run found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// One row per case, sorted by name.
    pub rows: Vec<Row>,
    /// Failures that belong to no case (a skip-list entry naming no case).
    pub failures: Vec<String>,
    /// Things worth saying that are not failures (external corpus absent).
    pub notes: Vec<String>,
}

impl Report {
    /// Whether anything failed.
    pub fn failed(&self) -> bool {
        !self.failures.is_empty()
            || self
                .rows
                .iter()
                .any(|r| r.cells.iter().any(|(_, c)| matches!(c, Cell::Fail(_))))
    }
}

/// Makes the engine of a dialect; the error says why none is available.
pub type EngineFactory = dyn Fn(Dialect) -> Result<Box<dyn Engine>>;

/// The real engines: bundled SQLite, and the PostgreSQL test server.
pub fn real_engine(dialect: Dialect) -> Result<Box<dyn Engine>> {
    Ok(match dialect {
        Dialect::Sqlite => Box::new(SqliteEngine::new()),
        Dialect::Postgres => Box::new(PgEngine::connect()?),
    })
}

/// An engine, or why there is none.
type Available = std::result::Result<Box<dyn Engine>, String>;

/// Runs the suite. `wrap` replaces the drivers (tests of the suite itself).
pub fn run(
    options: &Options,
    engines: &EngineFactory,
    wrap: Option<&DriverWrapper>,
) -> Result<Report> {
    let mut report = Report::default();
    // Each dialect's engine, or why there is none (then every case there fails).
    let available: Vec<(Dialect, Available)> = options
        .dialects
        .iter()
        .map(|d| (*d, engines(*d).map_err(|e| e.to_string())))
        .collect();
    let mut cases = case::load_dir(&options.cases_dir)?;
    let skips = Skips::load(&options.cases_dir.join(SKIPS_FILE))?;
    let external_loaded = options.external_dir.as_ref().is_some_and(|d| d.is_dir());
    match &options.external_dir {
        Some(dir) if dir.is_dir() => {
            for (dialect, engine) in &available {
                let folder = dir.join("sqldef").join(case::dialect_name(*dialect));
                if folder.is_dir() {
                    let version = engine.as_ref().map_or("0", |e| e.version());
                    cases.extend(sqldef::load_dir(&folder, *dialect, version)?);
                }
            }
        }
        Some(dir) => report.notes.push(format!(
            "external cases not found at {}: not run",
            dir.display()
        )),
        None => {}
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    let selected: Vec<&Case> = cases
        .iter()
        .filter(|c| {
            options
                .case_pattern
                .as_deref()
                .is_none_or(|p| glob::matches(p, &c.name))
        })
        .collect();
    let total = selected.len();
    for (done, case) in selected.into_iter().enumerate() {
        let external = matches!(case.origin, Origin::External(_));
        let mut cells = Vec::new();
        for (dialect, engine) in &available {
            if !case.applies_to(*dialect) {
                continue;
            }
            let cell = match engine {
                Err(unavailable) => Cell::Fail(unavailable.clone()),
                Ok(engine) => judge(case, *dialect, engine.as_ref(), &skips, wrap),
            };
            cells.push((*dialect, cell));
        }
        if !cells.is_empty() {
            report.rows.push(Row {
                name: case.name.clone(),
                external,
                cells,
            });
        }
        if (done + 1) % 50 == 0 {
            eprintln!("conformance: {} of {total} cases run", done + 1);
        }
    }
    // Stale entries can only be told on a full run.
    if external_loaded && options.case_pattern.is_none() && options.dialects == DIALECTS {
        for key in skips.skip.keys().chain(skips.known_bug.keys()) {
            let name = key.split_once('@').map_or(key.as_str(), |(name, _)| name);
            if !cases.iter().any(|c| c.name == name) {
                report.failures.push(format!(
                    "{SKIPS_FILE} lists {key}, which is no case: remove the entry"
                ));
            }
        }
    }
    Ok(report)
}

/// The outcome of `case` on `dialect`, with the skip list applied.
fn judge(
    case: &Case,
    dialect: Dialect,
    engine: &dyn Engine,
    skips: &Skips,
    wrap: Option<&DriverWrapper>,
) -> Cell {
    if let Some(reason) = skips.skipped(&case.name, dialect) {
        return Cell::Skipped(reason.to_string());
    }
    let resolved = match case.resolve(dialect) {
        Ok(resolved) => resolved,
        Err(reason) => return Cell::Skipped(reason),
    };
    let outcome = run_case(engine, &resolved, wrap);
    match (outcome, skips.known_bug(&case.name, dialect)) {
        (Ok(_), None) => Cell::Pass,
        (Err(failure), None) => Cell::Fail(failure),
        (Err(_), Some(bug)) => Cell::KnownBug(bug.to_string()),
        (Ok(_), Some(_)) => Cell::Fail(format!(
            "listed as a known bug in {SKIPS_FILE} but passes: remove the entry"
        )),
    }
}
