//! Crash safety on PostgreSQL (SPEC §6): a `schemasync apply` killed with SIGKILL leaves
//! the database as it was when it dies inside the transaction (a table rewrite), or with
//! the whole transaction applied when it dies in a later lock-safe step (an index built
//! `CONCURRENTLY`); either way every row is kept, and re-running `apply` completes the
//! plan (an invalid index left by the killed build is rebuilt) so `check` is clean.
//!
//! The test watches `pg_stat_activity` for the statement it wants to interrupt and only
//! then kills the process, so it never depends on timing guesses.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use postgres::Client;
use schemasync_postgres::testing::TestDatabase;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ROWS: i64 = 600_000;

const CURRENT: &str = "
CREATE TABLE items (id bigint PRIMARY KEY, email text, score int);
CREATE VIEW top_items AS SELECT id, email FROM items WHERE score > 90;";

/// A rewrite (`score` to bigint) and a new column in the transaction; then NOT NULL
/// through a validated CHECK and two indexes built `CONCURRENTLY` after it.
const DESIRED: &str = "
CREATE TABLE items (id bigint PRIMARY KEY, email text NOT NULL, score bigint CHECK (score >= 0),
                    note text DEFAULT 'none');
CREATE INDEX items_email ON items (email);
CREATE INDEX items_score ON items (score);
CREATE VIEW top_items AS SELECT id, email FROM items WHERE score > 90;";

fn loaded_database() -> TestDatabase {
    let database = TestDatabase::create();
    let mut client = database.connect();
    client.batch_execute(CURRENT).unwrap();
    client
        .batch_execute(&format!(
            "INSERT INTO items SELECT i, 'user' || i || '@example.com', i % 100
             FROM generate_series(1, {ROWS}) AS i"
        ))
        .unwrap();
    database
}

/// What must survive: the rows, summed over every kept column.
fn rows(client: &mut Client) -> (i64, i64, i64, i64) {
    let row = client
        .query_one(
            "SELECT count(*), sum(id)::bigint, sum(length(email))::bigint, sum(score)::bigint FROM items",
            &[],
        )
        .unwrap();
    (row.get(0), row.get(1), row.get(2), row.get(3))
}

/// The columns of `items` with their types and nullability, and its constraints.
fn shape(client: &mut Client) -> Vec<String> {
    client
        .query(
            "SELECT attname || ' ' || format_type(atttypid, atttypmod) || CASE WHEN attnotnull THEN ' not null' ELSE '' END
             FROM pg_attribute WHERE attrelid = 'items'::regclass AND attnum > 0 AND NOT attisdropped
             UNION ALL SELECT 'constraint ' || conname FROM pg_constraint WHERE conrelid = 'items'::regclass
             ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

fn spawn_apply(dir: &Path, url: &str, schema: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_schemasync"))
        .args(["--database-url", url, "apply", "--schema"])
        .arg(schema)
        .env_remove("SCHEMASYNC_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join("stdout")).unwrap())
        .stderr(std::fs::File::create(dir.join("stderr")).unwrap())
        .spawn()
        .unwrap()
}

/// Waits until the apply's session runs a statement matching `pattern` (SQL LIKE), then
/// kills the process with SIGKILL.
fn kill_during(child: &mut Child, monitor: &mut Client, database: &str, pattern: &str) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the apply ended ({status}) before it ran `{pattern}`; enlarge ROWS");
        }
        let running: i64 = monitor
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = $1 AND application_name = 'schemasync' AND state = 'active'
                   AND query LIKE $2",
                &[&database, &pattern],
            )
            .unwrap()
            .get(0);
        if running > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the apply never ran `{pattern}`"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(9), "expected death by SIGKILL");
    // The server notices the lost client (client_connection_check_interval) and ends
    // the session; wait for that, as a re-run after a real crash would.
    let started = Instant::now();
    loop {
        let sessions: i64 = monitor
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'schemasync'",
                &[&database],
            )
            .unwrap()
            .get(0);
        if sessions == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the killed apply's session did not end within 30 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn rerun_completes(url: &str, schema: &Path, client: &mut Client, kept: (i64, i64, i64, i64)) {
    let output = Command::new(env!("CARGO_BIN_EXE_schemasync"))
        .args(["--database-url", url, "apply", "--schema"])
        .arg(schema)
        .env_remove("SCHEMASYNC_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the re-run failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let check = Command::new(env!("CARGO_BIN_EXE_schemasync"))
        .args(["--database-url", url, "check", "--schema"])
        .arg(schema)
        .output()
        .unwrap();
    assert_eq!(
        check.status.code(),
        Some(0),
        "check after the re-run: {}",
        String::from_utf8_lossy(&check.stdout)
    );
    assert_eq!(rows(client), kept);
    let invalid: i64 = client
        .query_one("SELECT count(*) FROM pg_index WHERE NOT indisvalid", &[])
        .unwrap()
        .get(0);
    assert_eq!(invalid, 0, "an invalid index survived the re-run");
    let notes: i64 = client
        .query_one("SELECT count(*) FROM items WHERE note = 'none'", &[])
        .unwrap()
        .get(0);
    assert_eq!(notes, ROWS);
}

#[test]
fn killed_inside_the_transaction_the_database_is_as_before_and_a_rerun_completes() {
    let database = loaded_database();
    let mut client = database.connect();
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("desired.sql");
    std::fs::write(&schema, DESIRED).unwrap();
    let before = (shape(&mut client), rows(&mut client));

    let mut child = spawn_apply(dir.path(), database.url(), &schema);
    kill_during(&mut child, &mut client, database.name(), "%TYPE bigint%");

    assert_eq!((shape(&mut client), rows(&mut client)), before);
    rerun_completes(database.url(), &schema, &mut client, before.1);
}

#[test]
fn killed_during_a_concurrent_index_build_the_transaction_stands_and_a_rerun_completes() {
    let database = loaded_database();
    let mut client = database.connect();
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("desired.sql");
    std::fs::write(&schema, DESIRED).unwrap();
    let kept = rows(&mut client);

    let mut child = spawn_apply(dir.path(), database.url(), &schema);
    kill_during(
        &mut child,
        &mut client,
        database.name(),
        "%CREATE INDEX CONCURRENTLY%",
    );

    // The transaction committed as a whole: the rewrite and the new column are there.
    let shape = shape(&mut client);
    assert!(shape.contains(&"score bigint".to_string()), "{shape:?}");
    assert!(
        shape.iter().any(|c| c.starts_with("note text")),
        "{shape:?}"
    );
    assert_eq!(rows(&mut client), kept);
    rerun_completes(database.url(), &schema, &mut client, kept);
}
