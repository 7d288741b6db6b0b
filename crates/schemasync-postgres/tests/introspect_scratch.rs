//! Scratch and test databases are always dropped: after a successful normalisation,
//! after SQL that fails, and when a `TestDatabase` goes out of scope.
//!
//! One test in its own binary, so no other test of this process creates databases
//! while it counts them.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use schemasync_postgres::testing::TestDatabase;
use schemasync_postgres::{Driver, Error, PgDriver, PgOptions};

/// Databases of this process whose name starts with `prefix`.
fn leftovers(client: &mut postgres::Client, prefix: &str) -> i64 {
    let pattern = format!("{prefix}\\_{}\\_%", std::process::id());
    client
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname LIKE $1",
            &[&pattern],
        )
        .unwrap()
        .get(0)
}

#[test]
fn scratch_and_test_databases_are_always_dropped() {
    let db = TestDatabase::create();
    let mut driver = PgDriver::connect(db.url(), PgOptions::default()).unwrap();

    let schema = driver
        .normalize_sql("CREATE SCHEMA app; CREATE TABLE app.t (id int PRIMARY KEY)")
        .unwrap();
    assert_eq!(schema.tables.len(), 1);
    assert_eq!(leftovers(driver.client(), "schemasync\\_scratch"), 0);

    let error = driver
        .normalize_sql("CREATE TABLE t (id int); CREATE TABLE t (id int)")
        .unwrap_err();
    assert!(
        matches!(&error, Error::InvalidSchema(message) if message.contains("already exists")),
        "{error}"
    );
    assert_eq!(leftovers(driver.client(), "schemasync\\_scratch"), 0);

    // A model the server refuses fails the same way, and is cleaned up too.
    let mut bad = schema.clone();
    bad.tables[0].columns[0].data_type = "no_such_type".into();
    assert!(driver.normalize_model(&bad).is_err());
    assert_eq!(leftovers(driver.client(), "schemasync\\_scratch"), 0);

    // The database we normalised against is untouched.
    assert!(driver.introspect().unwrap().is_empty());

    let name = db.name().to_string();
    drop(driver);
    drop(db);
    let mut server =
        postgres::Client::connect(&schemasync_postgres::testing::server_url(), postgres::NoTls)
            .unwrap();
    let remaining: i64 = server
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .unwrap()
        .get(0);
    assert_eq!(remaining, 0, "the test database {name} was not dropped");
    assert_eq!(leftovers(&mut server, "schemasync\\_test"), 0);
}
