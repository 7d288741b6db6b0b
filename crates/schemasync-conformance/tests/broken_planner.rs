//! The suite catches a broken planner: a driver wrapper whose plans forget to recreate
//! triggers (every `CREATE TRIGGER` statement removed) must make the trigger cases fail,
//! while the real driver passes them. Runs on SQLite only, so it needs no server.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use schemasync_conformance::suite::{real_engine, run, Cell, Options};
use schemasync_core::{
    ApplyOptions, ApplyReport, Dialect, DiffOptions, Driver, Plan, Result, Schema, Status,
};
use std::path::{Path, PathBuf};

/// Delegates everything to the real driver except `plan`, which drops every
/// `CREATE TRIGGER` statement (and steps left empty).
struct ForgetsTriggers(Box<dyn Driver>);

impl Driver for ForgetsTriggers {
    fn dialect(&self) -> Dialect {
        self.0.dialect()
    }
    fn diff_options(&self) -> DiffOptions {
        self.0.diff_options()
    }
    fn introspect(&mut self) -> Result<Schema> {
        self.0.introspect()
    }
    fn normalize_sql(&mut self, sql: &str) -> Result<Schema> {
        self.0.normalize_sql(sql)
    }
    fn normalize_model(&mut self, schema: &Schema) -> Result<Schema> {
        self.0.normalize_model(schema)
    }
    fn render_sql(&self, schema: &Schema) -> Vec<String> {
        self.0.render_sql(schema)
    }
    fn plan(&mut self, current: &Schema, desired: &Schema) -> Result<Plan> {
        let mut plan = self.0.plan(current, desired)?;
        for step in &mut plan.steps {
            step.sql.retain(|sql| {
                !sql.trim_start()
                    .to_ascii_uppercase()
                    .starts_with("CREATE TRIGGER")
            });
        }
        plan.steps.retain(|step| !step.sql.is_empty());
        Ok(plan)
    }
    fn apply(
        &mut self,
        plan: &Plan,
        desired: &Schema,
        options: &ApplyOptions,
    ) -> Result<ApplyReport> {
        self.0.apply(plan, desired, options)
    }
    fn backup(&mut self, destination: &Path) -> Result<()> {
        self.0.backup(destination)
    }
    fn restore(&mut self, source: &Path) -> Result<()> {
        self.0.restore(source)
    }
    fn status(&mut self) -> Result<Status> {
        self.0.status()
    }
}

fn options() -> Options {
    Options {
        dialects: vec![Dialect::Sqlite],
        case_pattern: Some("triggers/*".to_string()),
        cases_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance"),
        external_dir: None,
    }
}

fn cell<'a>(report: &'a schemasync_conformance::Report, name: &str) -> &'a Cell {
    let row = report.rows.iter().find(|r| r.name == name).unwrap();
    &row.cells[0].1
}

#[test]
fn a_planner_that_forgets_triggers_fails_the_suite() {
    let wrap = |driver: Box<dyn Driver>| -> Box<dyn Driver> { Box::new(ForgetsTriggers(driver)) };
    let report = run(&options(), &real_engine, Some(&wrap)).unwrap();
    assert!(report.failed(), "the suite passed a broken planner");
    for name in ["triggers/kept_through_rebuild", "triggers/create"] {
        assert!(
            matches!(cell(&report, name), Cell::Fail(_)),
            "{name}: {:?}",
            cell(&report, name)
        );
    }
}

#[test]
fn the_real_planner_passes_the_same_cases() {
    let report = run(&options(), &real_engine, None).unwrap();
    assert!(!report.failed(), "{report:?}");
    assert!(report.rows.len() >= 4);
}
