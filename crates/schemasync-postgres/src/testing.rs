//! Fresh PostgreSQL databases for tests: [`TestDatabase`].
//!
//! Owns creating one uniquely named database per test on the server named by
//! `SCHEMASYNC_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! and dropping it again. It never skips: when no server is reachable it panics with a
//! message saying how to provide one (SPEC §11), so a test that needs PostgreSQL never
//! passes silently. Meant for tests only (ours and other crates'); library code never
//! calls it.

use crate::quote::quote_ident;
use crate::scratch::{unique_database_name, url_with_database};
use postgres::{Client, NoTls};

/// The environment variable naming the server tests use.
pub const TEST_URL_VARIABLE: &str = "SCHEMASYNC_TEST_POSTGRES_URL";

/// The server tests use when [`TEST_URL_VARIABLE`] is not set.
pub const DEFAULT_TEST_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A fresh, empty database created for one test and dropped (`WITH (FORCE)`) when the
/// value is dropped.
///
/// ```no_run
/// let db = schemasync_postgres::testing::TestDatabase::create();
/// let mut client = postgres::Client::connect(db.url(), postgres::NoTls).unwrap();
/// client.batch_execute("CREATE TABLE t (id int)").unwrap();
/// ```
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    name: String,
    server_url: String,
}

impl TestDatabase {
    /// Creates a database named `schemasync_test_<pid>_<counter>_<nanos>` on the test
    /// server.
    ///
    /// # Panics
    ///
    /// When the server cannot be reached or refuses to create the database; the message
    /// says how to point the tests at a server.
    pub fn create() -> TestDatabase {
        let server_url = server_url();
        let mut client = match Client::connect(&server_url, NoTls) {
            Ok(client) => client,
            Err(error) => panic!(
                "this test needs a PostgreSQL server and none is reachable ({error}). \
                 Tests connect to ${TEST_URL_VARIABLE} if it is set, else to \
                 {DEFAULT_TEST_URL}; start a local server (e.g. `pg_ctlcluster 15 main \
                 start`, or `docker run -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust \
                 postgres:15`) or set {TEST_URL_VARIABLE}=postgres://user:password@host:port/db \
                 to a server where that user may create databases. Tests that need \
                 PostgreSQL never pass without one."
            ),
        };
        let name = unique_database_name("schemasync_test");
        if let Err(error) = client.batch_execute(&format!("CREATE DATABASE {}", quote_ident(&name)))
        {
            panic!("cannot create the test database {name}: {error}");
        }
        TestDatabase {
            url: url_with_database(&server_url, &name),
            name,
            server_url,
        }
    }

    /// The connection URL of the test database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A new connection to the test database.
    ///
    /// # Panics
    ///
    /// When the connection fails.
    pub fn connect(&self) -> Client {
        match Client::connect(&self.url, NoTls) {
            Ok(client) => client,
            Err(error) => panic!("cannot connect to the test database {}: {error}", self.name),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Best effort: a test that already panicked must not panic again here.
        if let Ok(mut client) = Client::connect(&self.server_url, NoTls) {
            let _ = client.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&self.name)
            ));
        }
    }
}

/// The URL of the server tests use: `$SCHEMASYNC_TEST_POSTGRES_URL`, else the default.
pub fn server_url() -> String {
    std::env::var(TEST_URL_VARIABLE)
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_TEST_URL.to_string())
}
