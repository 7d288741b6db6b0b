//! Row-level security and policies on a real PostgreSQL server: a policy applied by
//! schemasync filters rows for the role it names, the database then shows no drift, and
//! a changed policy changes the filter in place. Roles are not managed: each test makes
//! its own, uniquely named, and drops it afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use postgres::{Client, NoTls};
use schemasync_postgres::testing::{server_url, TestDatabase};
use schemasync_postgres::{ApplyOptions, Change, Driver, PgDriver, PgOptions, Plan, Schema};
use std::time::{SystemTime, UNIX_EPOCH};

/// A login-less role for one test, dropped (after the test's database) when dropped.
struct TestRole {
    name: String,
}

impl TestRole {
    fn create() -> TestRole {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("schemasync_rls_{}_{nanos}", std::process::id());
        Client::connect(&server_url(), NoTls)
            .unwrap()
            .batch_execute(&format!("CREATE ROLE {name} NOLOGIN"))
            .unwrap();
        TestRole { name }
    }
}

impl Drop for TestRole {
    fn drop(&mut self) {
        // Best effort: a test that already panicked must not panic again here.
        if let Ok(mut client) = Client::connect(&server_url(), NoTls) {
            let _ = client.batch_execute(&format!("DROP ROLE IF EXISTS {}", self.name));
        }
    }
}

fn driver(db: &TestDatabase) -> PgDriver {
    PgDriver::connect(db.url(), PgOptions::default()).unwrap()
}

fn plan(db: &TestDatabase, desired: &Schema) -> Plan {
    let mut driver = driver(db);
    let current = driver.introspect().unwrap();
    driver.plan(&current, desired).unwrap()
}

/// Applies `sql` as the desired schema and checks that a second plan is empty.
fn sync(db: &TestDatabase, sql: &str) -> Plan {
    let desired = driver(db).normalize_sql(sql).unwrap();
    let applied = plan(db, &desired);
    driver(db)
        .apply(&applied, &desired, &ApplyOptions::default())
        .unwrap();
    let second = plan(db, &desired);
    assert!(second.is_empty(), "drift after apply:\n{}", second.to_sql());
    applied
}

/// The ids of `docs` the role sees.
fn visible_ids(db: &TestDatabase, role: &TestRole) -> Vec<i32> {
    let mut client = db.connect();
    let mut transaction = client.transaction().unwrap();
    transaction
        .batch_execute(&format!("SET LOCAL ROLE {}", role.name))
        .unwrap();
    transaction
        .query("SELECT id FROM docs ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

fn kinds(plan: &Plan) -> Vec<&'static str> {
    plan.changes
        .iter()
        .map(|change| match change {
            Change::SetRowSecurity { .. } => "set_row_security",
            Change::CreatePolicy { .. } => "create_policy",
            Change::AlterPolicy { .. } => "alter_policy",
            _ => "other",
        })
        .collect()
}

const TABLE: &str =
    "CREATE TABLE docs (id integer PRIMARY KEY, owner text NOT NULL, level integer NOT NULL);";

#[test]
fn a_policy_filters_rows_for_its_role_shows_no_drift_and_changes_in_place() {
    let role = TestRole::create();
    let db = TestDatabase::create();
    db.connect()
        .batch_execute(&format!(
            "{TABLE}
             INSERT INTO docs VALUES (1, '{0}', 1), (2, 'someone else', 1), (3, '{0}', 5);",
            role.name
        ))
        .unwrap();

    let first = sync(
        &db,
        &format!(
            "{TABLE}
             ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
             CREATE POLICY docs_own ON docs FOR SELECT TO {} USING (owner = current_user);",
            role.name
        ),
    );
    assert_eq!(kinds(&first), ["create_policy", "set_row_security"]);
    // Grants are not managed: given by hand, and left alone by the next plans.
    db.connect()
        .batch_execute(&format!("GRANT SELECT ON docs TO {}", role.name))
        .unwrap();
    assert_eq!(visible_ids(&db, &role), [1, 3]);

    let changed = sync(
        &db,
        &format!(
            "{TABLE}
             ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
             CREATE POLICY docs_own ON docs FOR SELECT TO {} USING (owner = current_user AND level < 3);",
            role.name
        ),
    );
    assert_eq!(kinds(&changed), ["alter_policy"]);
    assert!(
        changed
            .to_sql()
            .contains("ALTER POLICY \"docs_own\" ON \"docs\" USING"),
        "{}",
        changed.to_sql()
    );
    assert_eq!(visible_ids(&db, &role), [1]);
}

#[test]
fn enabling_row_security_without_a_policy_warns_of_the_lock_out() {
    let db = TestDatabase::create();
    db.connect().batch_execute(TABLE).unwrap();
    let plan = sync(
        &db,
        &format!("{TABLE} ALTER TABLE docs ENABLE ROW LEVEL SECURITY;"),
    );
    let text = &plan.steps[0].description;
    assert!(
        text.contains("warning: docs has no policy"),
        "the step does not warn: {text}"
    );
}

#[test]
fn a_policy_for_a_missing_role_is_refused_before_anything_changes_naming_role_and_policy() {
    let role = TestRole::create();
    let db = TestDatabase::create();
    db.connect().batch_execute(TABLE).unwrap();
    let mut desired = driver(&db)
        .normalize_sql(&format!(
            "{TABLE} CREATE POLICY docs_own ON docs TO {} USING (true);",
            role.name
        ))
        .unwrap();
    let ghost = format!("{}_ghost", role.name);
    desired.tables[0].policies[0].roles = vec![ghost.clone()];
    let error = driver(&db)
        .apply(&plan(&db, &desired), &desired, &ApplyOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("create policy docs_own on docs") && error.contains(&ghost),
        "{error}"
    );
    assert!(driver(&db).introspect().unwrap().tables[0]
        .policies
        .is_empty());
    // A desired .sql file naming the missing role fails to load, saying which policy.
    let error = driver(&db)
        .normalize_sql(&format!(
            "{TABLE} CREATE POLICY docs_own ON docs TO {ghost} USING (true);"
        ))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(&format!("role \"{ghost}\" does not exist"))
            && error.contains("named by policy docs_own on docs"),
        "{error}"
    );
}
