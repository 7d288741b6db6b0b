//! A driver on a scratch database (autogenerate, `verify`) drops that database when it
//! is dropped.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[test]
fn a_scratch_driver_drops_its_database_when_dropped() {
    let server = schemasync_postgres::testing::server_url();
    let mut driver = schemasync_postgres::PgDriver::connect_scratch(
        &server,
        schemasync_postgres::PgOptions::default(),
    )
    .unwrap();
    let name: String = driver
        .client()
        .query_one("SELECT current_database()::text", &[])
        .unwrap()
        .get(0);
    assert!(name.starts_with("schemasync_scratch"), "{name}");
    drop(driver);
    let mut admin = postgres::Client::connect(&server, postgres::NoTls).unwrap();
    let left: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "{name} was not dropped");
}
