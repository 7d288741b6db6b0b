//! Crash safety (SPEC §5): the whole apply is one transaction, so a `schemasync apply`
//! killed with SIGKILL in the middle of a table rebuild leaves the database exactly as it
//! was — old schema, every row, a clean `PRAGMA integrity_check` — once SQLite has rolled
//! back the hot journal (rollback-journal mode) or ignored the uncommitted frames (WAL).
//!
//! The table is large enough (1.5 million rows, two indexes, a trigger and a view) that
//! the rebuild copy takes seconds; the test waits until the copy is visibly under way
//! (the journal exists and the database or WAL file has grown by many megabytes) and
//! only then kills the process.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use rusqlite::Connection;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ROWS: i64 = 1_500_000;

/// How much the file SQLite writes during the copy must have grown before the kill: the
/// copy of the table is then certainly under way (and far from done: the table is
/// about ten times larger).
const GROWTH_BEFORE_KILL: u64 = 8 * 1024 * 1024;

const SCHEMA: &str = "
CREATE TABLE items (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL,
  name TEXT,
  score INTEGER
);
CREATE INDEX ix_items_email ON items (email);
CREATE INDEX ix_items_score ON items (score);
CREATE TABLE audit (item_id INTEGER, action TEXT);
CREATE TRIGGER items_audit AFTER INSERT ON items BEGIN
  INSERT INTO audit VALUES (new.id, 'insert');
END;
CREATE VIEW top_items AS SELECT id, name FROM items WHERE score > 90;
";

/// The same schema with `name` case-insensitive: a collation change, which SQLite can
/// only make by rebuilding `items`.
fn desired_schema() -> String {
    SCHEMA.replace("  name TEXT,", "  name TEXT COLLATE NOCASE,")
}

/// What must survive the crash, read with plain SQL.
#[derive(Debug, PartialEq)]
struct Snapshot {
    schema: Vec<(String, String, Option<String>)>,
    rows: (i64, i64, f64, f64, i64),
    audit_rows: i64,
}

fn snapshot(conn: &Connection) -> Snapshot {
    let mut statement = conn
        .prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY type, name")
        .unwrap();
    let schema = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let rows = conn
        .query_row(
            "SELECT count(*), sum(id), total(length(email)), total(length(name)), sum(score) FROM items",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    let audit_rows = conn
        .query_row("SELECT count(*) FROM audit", [], |r| r.get(0))
        .unwrap();
    Snapshot {
        schema,
        rows,
        audit_rows,
    }
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// A database holding `SCHEMA` and `ROWS` rows in `items` (plus one audited insert).
fn large_database(dir: &Path, journal_mode: &str) -> PathBuf {
    let path = dir.join("big.db");
    let conn = Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row(&format!("PRAGMA journal_mode = {journal_mode}"), [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(mode, journal_mode);
    conn.execute_batch(&format!(
        "PRAGMA synchronous = OFF;
         CREATE TABLE items (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT, score INTEGER);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS})
         INSERT INTO items (id, email, name, score)
           SELECT i, 'user' || i || '@example.com', 'Name ' || (i % 1000), i % 100 FROM n;"
    ))
    .unwrap();
    // The rest of the schema, exactly as in SCHEMA (so the stored text matches the file).
    let rest = SCHEMA.split_once(");").map(|(_, rest)| rest).unwrap();
    conn.execute_batch(rest).unwrap();
    conn.execute(
        "INSERT INTO items (email, name, score) VALUES ('last@example.com', 'Last', 99)",
        [],
    )
    .unwrap();
    path
}

/// Starts `schemasync apply` towards the rebuilt schema, waits until the copy is under
/// way, kills it, and checks that the database is exactly as before.
fn killing_an_apply_mid_rebuild_leaves_everything_as_it_was(journal_mode: &str) {
    // given a large table with two indexes, a trigger and a view
    let dir = tempfile::tempdir().unwrap();
    let path = large_database(dir.path(), journal_mode);
    let before = snapshot(&Connection::open(&path).unwrap());
    assert_eq!(before.rows.0, ROWS + 1);
    let schema_file = dir.path().join("desired.sql");
    std::fs::write(&schema_file, desired_schema()).unwrap();
    let journal = with_suffix(&path, "-journal");
    let wal = with_suffix(&path, "-wal");
    // In rollback-journal mode the copy lands in the database file (the journal keeps the
    // few original pages that change); in WAL mode it lands in the WAL.
    let growing = if journal_mode == "wal" {
        wal.clone()
    } else {
        path.clone()
    };
    let size_before = file_size(&growing);

    // when the apply is killed in the middle of the rebuild
    let url = format!("sqlite://{}", path.display());
    assert!(url.starts_with("sqlite:///"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_schemasync"))
        .args(["--database-url", &url, "apply", "--schema"])
        .arg(&schema_file)
        .arg("--no-backup")
        .env_remove("SCHEMASYNC_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.path().join("stdout")).unwrap())
        .stderr(std::fs::File::create(dir.path().join("stderr")).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut saw_journal = false;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let stdout = std::fs::read_to_string(dir.path().join("stdout")).unwrap();
            let stderr = std::fs::read_to_string(dir.path().join("stderr")).unwrap();
            panic!(
                "the apply ended ({status}) before it could be killed mid-rebuild; enlarge the table (ROWS)\nstdout: {stdout}\nstderr: {stderr}"
            );
        }
        saw_journal |= journal_mode == "wal" || journal.exists();
        if saw_journal && file_size(&growing) > size_before + GROWTH_BEFORE_KILL {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the rebuild did not start within 300 s"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    let killed_after = started.elapsed();
    eprintln!(
        "{journal_mode}: killed after {killed_after:?}, {} MiB of the copy written",
        (file_size(&growing).saturating_sub(size_before)) >> 20
    );

    // then the process died of the signal, mid-apply
    assert_eq!(
        status.signal(),
        Some(9),
        "expected death by SIGKILL mid-apply, got {status}; enlarge the table (ROWS)"
    );
    if journal_mode != "wal" {
        assert!(
            journal.exists(),
            "a hot journal must be left behind by the killed apply"
        );
    }

    // and the database, once SQLite recovers it, is exactly as before
    let conn = Connection::open(&path).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let after = snapshot(&conn);
    assert_eq!(
        after, before,
        "killed after {killed_after:?}: the schema or the rows changed"
    );
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, journal_mode);
    // and the table still works as before: the trigger fires, the view answers
    conn.execute(
        "INSERT INTO items (email, name, score) VALUES ('new@example.com', 'New', 95)",
        [],
    )
    .unwrap();
    let (audit, top): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM audit), (SELECT count(*) FROM top_items WHERE name = 'New')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((audit, top), (before.audit_rows + 1, 1));
}

#[test]
fn sigkill_mid_rebuild_in_rollback_journal_mode_leaves_the_old_schema_and_every_row() {
    killing_an_apply_mid_rebuild_leaves_everything_as_it_was("delete");
}

#[test]
fn sigkill_mid_rebuild_in_wal_mode_leaves_the_old_schema_and_every_row() {
    killing_an_apply_mid_rebuild_leaves_everything_as_it_was("wal");
}
