//! Real databases for cases: an [`Engine`] makes a fresh, empty database per case (a
//! [`Fixture`]), which runs raw SQL, reads rows, runs the engine's own integrity checks
//! and opens schemasync drivers on itself.

use crate::error::{ConformanceError, Result};
use postgres::{Client, NoTls};
use schemasync_core::{Dialect, Driver, Schema, Table};
use schemasync_postgres::testing::{server_url, DEFAULT_TEST_URL, TEST_URL_VARIABLE};
use schemasync_postgres::{PgDriver, PgOptions};
use schemasync_sqlite::SqliteDriver;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A dialect's source of fresh databases.
pub trait Engine {
    /// The dialect.
    fn dialect(&self) -> Dialect;
    /// The engine's version (`3.50.4`, `15.20`), for sqldef's version bounds.
    fn version(&self) -> &str;
    /// A new, empty database, removed when the fixture is dropped.
    fn fresh(&self) -> Result<Box<dyn Fixture + '_>>;
}

/// One fresh database.
pub trait Fixture {
    /// Runs SQL text (several statements) as is.
    fn execute(&mut self, sql: &str) -> Result<()>;
    /// A new schemasync driver connected to this database.
    fn driver(&mut self) -> Result<Box<dyn Driver>>;
    /// `sql` in the engine's canonical form: `driver`'s `normalize_sql`, or the same
    /// (run the SQL in an empty database, introspect it with the driver) in a scratch
    /// database the engine keeps for the run.
    fn normalize_sql(&mut self, driver: &mut dyn Driver, sql: &str) -> Result<Schema>;
    /// Every row of `table` as the quoted literals of `columns` (`NULL`, `'text'`, `1`),
    /// rows sorted; an empty list per row when `columns` is empty.
    fn rows(&mut self, table: &Table, columns: &[String]) -> Result<Vec<Vec<String>>>;
    /// The first column of the first row of `sql`, as text (`NULL` for null).
    fn scalar(&mut self, sql: &str) -> Result<String>;
    /// What the engine's own checks find wrong (empty when clean). `allow_not_valid`:
    /// PostgreSQL constraints left `NOT VALID` are expected.
    fn integrity_problems(&mut self, allow_not_valid: bool) -> Result<Vec<String>>;
}

/// The select list of [`Fixture::rows`]: one expression per column, or `1`.
fn select_list(columns: &[String], render: impl Fn(&str) -> String) -> String {
    if columns.is_empty() {
        "1".to_string()
    } else {
        columns
            .iter()
            .map(|c| render(c))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// SQLite: a database file in a temporary folder per case.
#[derive(Debug)]
pub struct SqliteEngine {
    version: String,
}

impl SqliteEngine {
    /// The bundled SQLite.
    pub fn new() -> SqliteEngine {
        SqliteEngine {
            version: rusqlite::version().to_string(),
        }
    }
}

impl Default for SqliteEngine {
    fn default() -> Self {
        SqliteEngine::new()
    }
}

impl Engine for SqliteEngine {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn version(&self) -> &str {
        &self.version
    }

    fn fresh(&self) -> Result<Box<dyn Fixture + '_>> {
        let dir = tempfile::tempdir().map_err(|e| ConformanceError::io("temporary folder", e))?;
        let path = dir.path().join("case.db");
        let conn = rusqlite::Connection::open(&path)
            .map_err(|e| ConformanceError::Database(format!("cannot create {path:?}: {e}")))?;
        Ok(Box::new(SqliteFixture {
            conn,
            path,
            _dir: dir,
        }))
    }
}

struct SqliteFixture {
    conn: rusqlite::Connection,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

fn sqlite_error(context: &str, err: rusqlite::Error) -> ConformanceError {
    ConformanceError::Database(format!("{context}: SQLite says: {err}"))
}

impl Fixture for SqliteFixture {
    fn execute(&mut self, sql: &str) -> Result<()> {
        self.conn
            .execute_batch(sql)
            .map_err(|e| sqlite_error("the SQL fails", e))
    }

    fn normalize_sql(&mut self, driver: &mut dyn Driver, sql: &str) -> Result<Schema> {
        Ok(driver.normalize_sql(sql)?)
    }

    fn driver(&mut self) -> Result<Box<dyn Driver>> {
        Ok(Box::new(SqliteDriver::open(
            &self.path,
            Duration::from_secs(5),
        )?))
    }

    fn rows(&mut self, table: &Table, columns: &[String]) -> Result<Vec<Vec<String>>> {
        let values = select_list(columns, |c| {
            format!("quote({})", schemasync_sqlite::quote_ident(c))
        });
        let sql = format!(
            "SELECT {values} FROM {}",
            schemasync_sqlite::quote_ident(&table.name)
        );
        let context = format!("cannot read the rows of {}", table.name);
        let mut statement = self
            .conn
            .prepare(&sql)
            .map_err(|e| sqlite_error(&context, e))?;
        let mut rows = statement
            .query_map([], |row| {
                (0..columns.len())
                    .map(|i| row.get::<_, String>(i))
                    .collect::<rusqlite::Result<Vec<String>>>()
            })
            .map_err(|e| sqlite_error(&context, e))?
            .collect::<rusqlite::Result<Vec<Vec<String>>>>()
            .map_err(|e| sqlite_error(&context, e))?;
        rows.sort();
        Ok(rows)
    }

    fn scalar(&mut self, sql: &str) -> Result<String> {
        self.conn
            .query_row(sql, [], |row| {
                Ok(match row.get::<_, rusqlite::types::Value>(0)? {
                    rusqlite::types::Value::Null => "NULL".to_string(),
                    rusqlite::types::Value::Integer(i) => i.to_string(),
                    rusqlite::types::Value::Real(r) => r.to_string(),
                    rusqlite::types::Value::Text(t) => t,
                    rusqlite::types::Value::Blob(b) => format!("{b:?}"),
                })
            })
            .map_err(|e| sqlite_error(&format!("probe `{sql}` failed"), e))
    }

    fn integrity_problems(&mut self, _allow_not_valid: bool) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let integrity: Vec<String> = self
            .conn
            .prepare("PRAGMA integrity_check")
            .and_then(|mut s| {
                s.query_map([], |r| r.get::<_, String>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| sqlite_error("PRAGMA integrity_check failed", e))?;
        if integrity != ["ok"] {
            problems.push(format!("integrity_check: {}", integrity.join("; ")));
        }
        let violations: i64 = self
            .conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .map_err(|e| sqlite_error("PRAGMA foreign_key_check failed", e))?;
        if violations > 0 {
            problems.push(format!("foreign_key_check: {violations} violation(s)"));
        }
        Ok(problems)
    }
}

/// PostgreSQL, on the test server (`SCHEMASYNC_TEST_POSTGRES_URL`, else
/// `postgres://postgres@127.0.0.1:5432/postgres`).
///
/// The engine creates two databases for the whole run, one for cases and one to
/// normalise desired SQL in, and empties both before every case (every non-system
/// schema dropped with what it holds, `public` recreated as a new database has it):
/// `CREATE`/`DROP DATABASE` take seconds on a busy server, a reset milliseconds. Both
/// databases are dropped with the engine.
#[derive(Debug)]
pub struct PgEngine {
    server_url: String,
    version: String,
    case_db: String,
    scratch_db: String,
}

/// Numbers databases made by this process.
static DATABASES: AtomicU64 = AtomicU64::new(0);

/// Empties a database: every schema but the system ones is dropped with its content,
/// and `public` is recreated as `CREATE DATABASE` makes it.
const RESET_SQL: &str = "\
DO $$ DECLARE s text; BEGIN
  FOR s IN SELECT nspname FROM pg_namespace
           WHERE nspname NOT IN ('pg_catalog', 'information_schema')
             AND nspname NOT LIKE 'pg\\_toast%' AND nspname NOT LIKE 'pg\\_temp\\_%'
  LOOP EXECUTE format('DROP SCHEMA %I CASCADE', s); END LOOP;
END $$;
CREATE SCHEMA public AUTHORIZATION pg_database_owner;
COMMENT ON SCHEMA public IS 'standard public schema';
GRANT USAGE ON SCHEMA public TO PUBLIC;";

impl PgEngine {
    /// Connects to the test server and creates the run's two databases; the error says
    /// how to provide a server when none is reachable.
    pub fn connect() -> Result<PgEngine> {
        let server_url = server_url();
        let mut client = Client::connect(&server_url, NoTls).map_err(|e| {
            ConformanceError::Database(format!(
                "no PostgreSQL server is reachable ({e}); the suite connects to \
                 ${TEST_URL_VARIABLE} if set, else to {DEFAULT_TEST_URL}: start a local \
                 server or set {TEST_URL_VARIABLE}=postgres://user:password@host:port/db \
                 (a user that may create databases), or run `--dialect sqlite`"
            ))
        })?;
        let version: String = client
            .query_one("SHOW server_version", &[])
            .and_then(|row| row.try_get(0))
            .map_err(|e| ConformanceError::Database(format!("cannot read server_version: {e}")))?;
        let prefix = format!(
            "schemasync_conformance_{}_{}",
            std::process::id(),
            DATABASES.fetch_add(1, Ordering::Relaxed)
        );
        let engine = PgEngine {
            server_url,
            version,
            case_db: format!("{prefix}_case"),
            scratch_db: format!("{prefix}_scratch"),
        };
        for name in [&engine.case_db, &engine.scratch_db] {
            let quoted = schemasync_postgres::quote_ident(name);
            // Two statements: CREATE DATABASE cannot run in the implicit transaction of one.
            for sql in [
                format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"),
                format!("CREATE DATABASE {quoted}"),
            ] {
                client
                    .batch_execute(&sql)
                    .map_err(|e| pg_error(&format!("cannot create database {name}"), &e))?;
            }
        }
        Ok(engine)
    }

    /// A connection to `database`, emptied first.
    fn reset(&self, database: &str) -> Result<(Client, String)> {
        let url = url_with_database(&self.server_url, database);
        let mut client = Client::connect(&url, NoTls)
            .map_err(|e| pg_error(&format!("cannot connect to {database}"), &e))?;
        client
            .batch_execute(RESET_SQL)
            .map_err(|e| pg_error(&format!("cannot empty {database}"), &e))?;
        Ok((client, url))
    }
}

impl Engine for PgEngine {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn version(&self) -> &str {
        &self.version
    }

    fn fresh(&self) -> Result<Box<dyn Fixture + '_>> {
        let (client, url) = self.reset(&self.case_db)?;
        Ok(Box::new(PgFixture {
            client,
            url,
            engine: self,
        }))
    }
}

impl Drop for PgEngine {
    fn drop(&mut self) {
        // Best effort: a leftover of a killed run is dropped by the next run of the
        // same process id, and carries the prefix `schemasync_conformance_`.
        if let Ok(mut client) = Client::connect(&self.server_url, NoTls) {
            for name in [&self.case_db, &self.scratch_db] {
                let _ = client.batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    schemasync_postgres::quote_ident(name)
                ));
            }
        }
    }
}

/// `url` with its database name replaced by `database`.
fn url_with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{database}", &base[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

struct PgFixture<'a> {
    client: Client,
    url: String,
    engine: &'a PgEngine,
}

/// The server's message for `err`.
fn db_message(err: &postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => db.message().to_string(),
        None => err.to_string(),
    }
}

fn pg_error(context: &str, err: &postgres::Error) -> ConformanceError {
    ConformanceError::Database(format!("{context}: PostgreSQL says: {}", db_message(err)))
}

impl Fixture for PgFixture<'_> {
    fn execute(&mut self, sql: &str) -> Result<()> {
        self.client
            .batch_execute(sql)
            .map_err(|e| pg_error("the SQL fails", &e))
    }

    fn driver(&mut self) -> Result<Box<dyn Driver>> {
        Ok(Box::new(PgDriver::connect(
            &self.url,
            PgOptions::default(),
        )?))
    }

    fn normalize_sql(&mut self, _driver: &mut dyn Driver, sql: &str) -> Result<Schema> {
        let (_, url) = self.engine.reset(&self.engine.scratch_db)?;
        Ok(PgDriver::connect(&url, PgOptions::default())?.normalize_sql_in_place(sql)?)
    }

    fn rows(&mut self, table: &Table, columns: &[String]) -> Result<Vec<Vec<String>>> {
        let values = select_list(columns, |c| {
            format!(
                "quote_nullable({}::text)",
                schemasync_postgres::quote_ident(c)
            )
        });
        let name = match &table.schema {
            Some(schema) => format!(
                "{}.{}",
                schemasync_postgres::quote_ident(schema),
                schemasync_postgres::quote_ident(&table.name)
            ),
            None => schemasync_postgres::quote_ident(&table.name),
        };
        let mut rows: Vec<Vec<String>> = self
            .client
            // ONLY: a partitioned table's rows are read (and kept) in its partitions.
            .query(&format!("SELECT {values} FROM ONLY {name}"), &[])
            .map_err(|e| pg_error(&format!("cannot read the rows of {name}"), &e))?
            .iter()
            .map(|row| {
                (0..columns.len())
                    .map(|i| row.try_get::<_, String>(i))
                    .collect()
            })
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| pg_error(&format!("cannot read the rows of {name}"), &e))?;
        rows.sort();
        Ok(rows)
    }

    fn scalar(&mut self, sql: &str) -> Result<String> {
        let context = format!("probe `{sql}` failed");
        let row = self
            .client
            .query_one(&format!("SELECT ({sql})::text"), &[])
            .map_err(|e| pg_error(&context, &e))?;
        let value: Option<String> = row.try_get(0).map_err(|e| pg_error(&context, &e))?;
        Ok(value.unwrap_or_else(|| "NULL".to_string()))
    }

    fn integrity_problems(&mut self, allow_not_valid: bool) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let invalid = self
            .client
            .query(
                "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid",
                &[],
            )
            .map_err(|e| pg_error("cannot list invalid indexes", &e))?;
        for row in invalid {
            let name: String = row
                .try_get(0)
                .map_err(|e| pg_error("cannot list invalid indexes", &e))?;
            problems.push(format!("invalid index {name}"));
        }
        if !allow_not_valid {
            let not_valid = self
                .client
                .query(
                    "SELECT conrelid::regclass::text || '.' || conname::text \
                     FROM pg_constraint WHERE NOT convalidated",
                    &[],
                )
                .map_err(|e| pg_error("cannot list NOT VALID constraints", &e))?;
            for row in not_valid {
                let name: String = row
                    .try_get(0)
                    .map_err(|e| pg_error("cannot list NOT VALID constraints", &e))?;
                problems.push(format!("constraint {name} is NOT VALID"));
            }
        }
        Ok(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::url_with_database;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            url_with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "x"),
            "postgres://u:p@h:5432/x?sslmode=disable"
        );
        assert_eq!(url_with_database("postgres://h", "x"), "postgres://h/x");
    }
}
