//! The exact SQL and hazards the SQLite planner produces, as insta snapshots.
//! Regenerate with `INSTA_UPDATE=always cargo test -p schemasync-sqlite --test plan_snapshots`
//! (or `cargo insta review`) after an intended change, and read the diff.
#![allow(clippy::unwrap_used, missing_docs)]

use schemasync_sqlite::schemasync_core::RenameHints;
use schemasync_sqlite::{Driver, Plan, SqliteDriver};

/// Plans `current` → `desired` on a fresh in-memory database, without applying.
fn plan(current: &str, desired: &str) -> Plan {
    let mut driver = SqliteDriver::open_in_memory().unwrap();
    driver.connection().execute_batch(current).unwrap();
    let mut desired_schema = driver.normalize_sql(desired).unwrap();
    RenameHints::from_sql(desired)
        .apply(&mut desired_schema, true)
        .unwrap();
    let desired = desired_schema;
    let live = driver.introspect().unwrap();
    driver.plan(&live, &desired).unwrap()
}

/// The plan as a reader sees it: SQL, then each hazard and data check.
fn render(plan: &Plan) -> String {
    let mut out = plan.to_sql();
    for step in &plan.steps {
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
fn adding_a_nullable_column_and_an_index_is_native() {
    insta::assert_snapshot!(render(&plan(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT DEFAULT '');
         CREATE INDEX users_email ON users (email);",
    )));
}

#[test]
fn a_type_change_rebuilds_the_table_around_its_view_and_trigger() {
    insta::assert_snapshot!(render(&plan(
        "CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, price TEXT);
         CREATE INDEX items_price ON items (price);
         CREATE VIEW cheap AS SELECT id FROM items WHERE price < 10;
         CREATE TRIGGER items_touch AFTER UPDATE ON items BEGIN SELECT 1; END;",
        "CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, price REAL NOT NULL);
         CREATE INDEX items_price ON items (price);
         CREATE VIEW cheap AS SELECT id FROM items WHERE price < 10;
         CREATE TRIGGER items_touch AFTER UPDATE ON items BEGIN SELECT 1; END;",
    )));
}

#[test]
fn constraint_changes_rewrite_the_schema_without_copying() {
    insta::assert_snapshot!(render(&plan(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, status TEXT DEFAULT 'new', owner INTEGER);
         CREATE TABLE owners (id INTEGER PRIMARY KEY);",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, status TEXT NOT NULL DEFAULT 'open',
           owner INTEGER REFERENCES owners(id), CHECK (status <> ''));
         CREATE TABLE owners (id INTEGER PRIMARY KEY);",
    )));
}

#[test]
fn drops_and_renames_carry_their_hazards() {
    insta::assert_snapshot!(render(&plan(
        "CREATE TABLE old_name (id INTEGER PRIMARY KEY, a TEXT, b TEXT);
         CREATE TABLE gone (x INTEGER);
         CREATE VIRTUAL TABLE notes USING fts5(body);",
        "CREATE TABLE new_name ( -- schemasync: renamed_from=old_name
           id INTEGER PRIMARY KEY, a TEXT);",
    )));
}

#[test]
fn a_unique_constraint_is_added_by_a_rebuild_checked_for_duplicates() {
    insta::assert_snapshot!(render(&plan(
        "CREATE TABLE u (id INTEGER PRIMARY KEY, email TEXT, \"first name\" TEXT);",
        "CREATE TABLE u (id INTEGER PRIMARY KEY, email TEXT UNIQUE, \"first name\" TEXT);",
    )));
}
