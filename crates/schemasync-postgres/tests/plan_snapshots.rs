//! The exact script and hazards the PostgreSQL planner produces, as insta snapshots.
//! Regenerate with `INSTA_UPDATE=always cargo test -p schemasync-postgres --test
//! plan_snapshots` after an intended change, and read the diff.
#![allow(clippy::unwrap_used, missing_docs)]

use schemasync_postgres::testing::TestDatabase;
use schemasync_postgres::{Driver, PgDriver, PgOptions};

/// Plans `current` → `desired` on a fresh database and renders the script the driver
/// runs, then each hazard and data check.
fn render(current: &str, desired: &str) -> String {
    let database = TestDatabase::create();
    database.connect().batch_execute(current).unwrap();
    let mut driver = PgDriver::connect(database.url(), PgOptions::default()).unwrap();
    let desired = driver.normalize_sql(desired).unwrap();
    let live = driver.introspect().unwrap();
    let plan = driver.plan(&live, &desired).unwrap();
    let mut out = driver.script(&plan);
    for step in &plan.steps {
        if let Some(lock) = &step.lock {
            out.push_str(&format!("# {}: lock {lock}\n", step.description));
        }
        for hazard in &step.hazards {
            out.push_str(&format!(
                "! {}: {} — {}\n",
                hazard.kind, hazard.object, hazard.message
            ));
        }
        for check in &step.checks {
            out.push_str(&format!(
                "? {}: {}\n",
                check.description, check.violations_sql
            ));
        }
    }
    out
}

#[test]
fn constraints_and_an_index_on_a_table_with_rows_use_the_lock_safe_forms() {
    insta::assert_snapshot!(render(
        "CREATE TABLE parent (id int PRIMARY KEY);
         CREATE TABLE t (id int PRIMARY KEY, parent_id int, a text, n int);",
        "CREATE TABLE parent (id int PRIMARY KEY);
         CREATE TABLE t (id int PRIMARY KEY, parent_id int REFERENCES parent(id), a text NOT NULL,
                         n int CHECK (n > 0), note text DEFAULT '');
         CREATE INDEX t_a ON t (a);",
    ));
}

#[test]
fn a_type_change_drops_and_recreates_the_views_that_read_the_table() {
    insta::assert_snapshot!(render(
        "CREATE TABLE t (id int PRIMARY KEY, n int);
         CREATE VIEW v AS SELECT id, n FROM t;",
        "CREATE TABLE t (id int PRIMARY KEY, n bigint);
         CREATE VIEW v AS SELECT id, n FROM t;",
    ));
}

#[test]
fn enum_values_are_added_before_the_transaction_and_new_objects_in_it() {
    insta::assert_snapshot!(render(
        "CREATE TYPE mood AS ENUM ('sad', 'happy');",
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
         CREATE SCHEMA app;
         CREATE TABLE app.people (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, m mood DEFAULT 'ok');
         COMMENT ON TABLE app.people IS 'people';",
    ));
}

#[test]
fn drops_carry_data_loss_hazards() {
    insta::assert_snapshot!(render(
        "CREATE TABLE keep (id int PRIMARY KEY, gone text); CREATE TABLE old (id int);",
        "CREATE TABLE keep (id int PRIMARY KEY);",
    ));
}
