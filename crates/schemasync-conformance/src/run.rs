//! Running one resolved case on one engine: create `current` with its seed rows, load
//! `desired` the way the CLI does, plan, apply, and judge the result (SPEC §10).

use crate::case::{Expect, Resolved};
use crate::engine::{Engine, Fixture};
use crate::{kinds, squawk};
use schemasync_core::{
    diff, ApplyOptions, Dialect, Driver, Error, HazardKind, Plan, RenameHints, Schema, Table,
};
use std::sync::OnceLock;

/// Replaces the driver a case runs with (for testing the suite itself: a wrapper that
/// breaks the planner must make cases fail).
pub type DriverWrapper = dyn Fn(Box<dyn Driver>) -> Box<dyn Driver>;

/// Why a case failed, in one or a few lines.
pub type Failure = String;

/// Every table's rows (all columns) before a change, to compare with afterwards.
struct Snapshot {
    schema: Schema,
    rows: Vec<Vec<Vec<String>>>,
}

/// How a case that passed ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// The plan applied and the database converged.
    Converged,
    /// The plan was refused or failed as the case allows, and nothing changed.
    Refused,
}

/// Runs `case` on a fresh database of `engine`; `Ok` when it passes.
pub fn run_case(
    engine: &dyn Engine,
    case: &Resolved,
    wrap: Option<&DriverWrapper>,
) -> Result<RunOutcome, Failure> {
    let mut fixture = engine.fresh().map_err(|e| e.to_string())?;
    let fixture = fixture.as_mut();
    fixture
        .execute(&case.current)
        .map_err(|e| format!("creating `current`: {e}"))?;
    if !case.seed.trim().is_empty() {
        fixture
            .execute(&case.seed)
            .map_err(|e| format!("inserting the seed rows: {e}"))?;
    }
    let mut driver = fixture.driver().map_err(|e| e.to_string())?;
    if let Some(wrap) = wrap {
        driver = wrap(driver);
    }
    let driver = driver.as_mut();
    let before = snapshot(fixture, driver)?;
    match (
        case.expect,
        attempt(fixture, driver, &before.schema, &case.desired, case, false),
    ) {
        (Expect::Applies | Expect::AppliesUnlessRefused(_), Attempt::Applied(desired)) => {
            converged(fixture, driver, &desired, &before, case.allow_not_valid)?;
            for probe in &case.probes {
                let value = fixture.scalar(&probe.sql).map_err(|e| e.to_string())?;
                if value != probe.expect {
                    return Err(format!(
                        "probe `{}` returned {value}, expected {}",
                        probe.sql, probe.expect
                    ));
                }
            }
            if case.reversible {
                reverse(fixture, driver, case)
                    .map_err(|e| format!("reverse direction (desired → current): {e}"))?;
            }
            Ok(RunOutcome::Converged)
        }
        (_, Attempt::Failed(failure)) => Err(failure),
        (Expect::Applies, Attempt::Refused(refusal)) => Err(refusal),
        (Expect::Refused(kind), Attempt::Applied(_)) => Err(format!(
            "expected a refusal with a {kind} hazard, but the plan applied"
        )),
        (Expect::Error, Attempt::Applied(_)) => {
            Err("expected an error, but the plan applied".to_string())
        }
        (
            Expect::Refused(_) | Expect::Error | Expect::AppliesUnlessRefused(_),
            Attempt::Refused(_),
        ) => unchanged(fixture, driver, &before).map(|()| RunOutcome::Refused),
    }
}

/// Desired → current after a successful apply, with data loss allowed.
fn reverse(
    fixture: &mut dyn Fixture,
    driver: &mut dyn Driver,
    case: &Resolved,
) -> Result<(), Failure> {
    let middle = snapshot(fixture, driver)?;
    match attempt(fixture, driver, &middle.schema, &case.current, case, true) {
        Attempt::Applied(original) => {
            converged(fixture, driver, &original, &middle, case.allow_not_valid)
        }
        Attempt::Refused(failure) | Attempt::Failed(failure) => Err(failure),
    }
}

/// How an attempt to reach a desired schema ended.
enum Attempt {
    /// Applied; the desired schema as loaded.
    Applied(Box<Schema>),
    /// Stopped in the way the case expects (a refusal with its hazard, or any error
    /// for a case that expects one).
    Refused(String),
    /// Failed in a way the case does not expect.
    Failed(Failure),
}

/// Loads `desired_sql` through the driver (with its rename hints, as the CLI does),
/// plans from `current`, checks the hazards and changes the case promises, and applies.
/// `reverse`: the reverse direction, which allows data loss and expects success.
fn attempt(
    fixture: &mut dyn Fixture,
    driver: &mut dyn Driver,
    current: &Schema,
    desired_sql: &str,
    case: &Resolved,
    reverse: bool,
) -> Attempt {
    let expected_error = |message: String| {
        if case.expect == Expect::Error && !reverse {
            Attempt::Refused(message)
        } else {
            Attempt::Failed(message)
        }
    };
    let mut desired = match fixture.normalize_sql(driver, desired_sql) {
        Ok(desired) => desired,
        Err(e) => return expected_error(format!("loading the desired schema: {e}")),
    };
    if let Err(e) = RenameHints::from_sql(desired_sql)
        .apply(&mut desired, driver.diff_options().case_insensitive_names)
    {
        return expected_error(format!("loading the desired schema: {e}"));
    }
    let plan = match driver.plan(current, &desired) {
        Ok(plan) => plan,
        Err(e) => return expected_error(format!("planning: {e}")),
    };
    if !reverse {
        if let Err(failure) = check_promises(&plan, case) {
            return Attempt::Failed(failure);
        }
        if let Err(failure) = squawk_judges(driver, &plan) {
            return Attempt::Failed(failure);
        }
    }
    let options = ApplyOptions {
        allow_data_loss: reverse || case.allow_data_loss,
        ..ApplyOptions::default()
    };
    match driver.apply(&plan, &desired, &options) {
        Ok(_) => Attempt::Applied(Box::new(desired)),
        Err(error) => {
            let expected = !reverse
                && matches!(
                    (case.expect, &error),
                    (
                        Expect::Refused(HazardKind::DataLoss)
                            | Expect::AppliesUnlessRefused(HazardKind::DataLoss),
                        Error::DataLossRefused { .. }
                    ) | (
                        Expect::Refused(HazardKind::Validation)
                            | Expect::AppliesUnlessRefused(HazardKind::Validation),
                        Error::ValidationFailed { .. }
                    ) | (Expect::Error, _)
                );
            let message = format!("applying:\n{}{error}", plan.to_sql());
            if expected {
                Attempt::Refused(message)
            } else {
                Attempt::Failed(message)
            }
        }
    }
}

/// squawk's findings on a PostgreSQL plan that the plan does not explain (when squawk
/// is installed; `.ci/run` installs it).
fn squawk_judges(driver: &dyn Driver, plan: &Plan) -> Result<(), Failure> {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    if driver.dialect() != Dialect::Postgres
        || plan.is_empty()
        || !*INSTALLED.get_or_init(squawk::installed)
    {
        return Ok(());
    }
    let script = driver.script(plan);
    let findings = squawk::unexplained(&script, plan)?;
    if findings.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "squawk found what the plan does not declare: {}\n{script}",
            findings.join("; ")
        ))
    }
}

/// The hazards and change kinds the case says the plan carries.
fn check_promises(plan: &Plan, case: &Resolved) -> Result<(), Failure> {
    for hazard in &case.hazards {
        if !plan.has_hazard(*hazard) {
            return Err(format!(
                "the plan carries no {hazard} hazard:\n{}",
                plan.to_sql()
            ));
        }
    }
    for expected in &case.changes {
        if !plan.changes.iter().any(|c| kinds::kind(c) == expected) {
            let found: Vec<&str> = plan.changes.iter().map(kinds::kind).collect();
            return Err(format!(
                "the plan has no {expected} change (it has: {})",
                found.join(", ")
            ));
        }
    }
    Ok(())
}

/// The live schema and every table's rows.
fn snapshot(fixture: &mut dyn Fixture, driver: &mut dyn Driver) -> Result<Snapshot, Failure> {
    let schema = driver
        .introspect()
        .map_err(|e| format!("introspecting: {e}"))?;
    let mut rows = Vec::new();
    for table in &schema.tables {
        let columns: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
        rows.push(fixture.rows(table, &columns).map_err(|e| e.to_string())?);
    }
    Ok(Snapshot { schema, rows })
}

/// After a refusal or an expected error: schema and rows exactly as before.
fn unchanged(
    fixture: &mut dyn Fixture,
    driver: &mut dyn Driver,
    before: &Snapshot,
) -> Result<(), Failure> {
    let after = snapshot(fixture, driver)?;
    let drift = diff(&before.schema, &after.schema, &driver.diff_options());
    if !drift.is_empty() || before.schema != after.schema {
        let changes: Vec<String> = drift.iter().map(|c| c.describe()).collect();
        return Err(format!(
            "the refused apply changed the schema: {}",
            changes.join("; ")
        ));
    }
    if before.rows != after.rows {
        return Err("the refused apply changed rows".to_string());
    }
    Ok(())
}

/// After an apply: the live schema equals `desired`, a second plan is empty, the kept
/// columns of kept tables hold the same values, and the engine's checks are clean.
fn converged(
    fixture: &mut dyn Fixture,
    driver: &mut dyn Driver,
    desired: &Schema,
    before: &Snapshot,
    allow_not_valid: bool,
) -> Result<(), Failure> {
    let options = driver.diff_options();
    let live = driver
        .introspect()
        .map_err(|e| format!("introspecting after the apply: {e}"))?;
    let drift = diff(&live, desired, &options);
    if !drift.is_empty() {
        let changes: Vec<String> = drift.iter().map(|c| c.describe()).collect();
        return Err(format!(
            "after the apply the schema differs from desired: {}",
            changes.join("; ")
        ));
    }
    let second = driver
        .plan(&live, desired)
        .map_err(|e| format!("second plan: {e}"))?;
    if !second.is_empty() {
        return Err(format!(
            "the second plan is not empty:\n{}",
            second.to_sql()
        ));
    }
    let same = |a: &str, b: &str| {
        if options.case_insensitive_names {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    };
    for (old, old_rows) in before.schema.tables.iter().zip(&before.rows) {
        let Some(new) = live.tables.iter().find(|t| {
            t.schema == old.schema
                && (same(&t.name, &old.name)
                    || desired_table(desired, t)
                        .and_then(|d| d.renamed_from.as_deref())
                        .is_some_and(|from| same(from, &old.name)))
        }) else {
            continue;
        };
        let wanted = desired_table(desired, new);
        // (position in the old row, name in the new table) of each kept column.
        let mut kept = Vec::new();
        for (position, column) in old.columns.iter().enumerate() {
            let found = new.columns.iter().find(|c| {
                same(&c.name, &column.name)
                    || wanted
                        .and_then(|w| w.columns.iter().find(|d| same(&d.name, &c.name)))
                        .and_then(|d| d.renamed_from.as_deref())
                        .is_some_and(|from| same(from, &column.name))
            });
            if let Some(found) = found {
                if found.data_type == column.data_type && found.generated == column.generated {
                    kept.push((position, found.name.clone()));
                }
            }
        }
        let names: Vec<String> = kept.iter().map(|(_, name)| name.clone()).collect();
        let now = fixture.rows(new, &names).map_err(|e| e.to_string())?;
        let mut then: Vec<Vec<String>> = old_rows
            .iter()
            .map(|row| {
                kept.iter()
                    .filter_map(|(position, _)| row.get(*position).cloned())
                    .collect()
            })
            .collect();
        then.sort();
        if then != now {
            return Err(format!(
                "rows of {} changed in kept columns ({}): before {then:?}, after {now:?}",
                new.name,
                names.join(", ")
            ));
        }
    }
    let problems = fixture
        .integrity_problems(allow_not_valid)
        .map_err(|e| e.to_string())?;
    if !problems.is_empty() {
        return Err(format!("integrity checks: {}", problems.join("; ")));
    }
    Ok(())
}

/// The desired table that `live` is.
fn desired_table<'a>(desired: &'a Schema, live: &Table) -> Option<&'a Table> {
    desired
        .tables
        .iter()
        .find(|t| t.schema == live.schema && t.name == live.name)
}
