//! End-to-end tests of `schemasync copy`: the built binary, a real SQLite file and a
//! fresh PostgreSQL database per test.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use rusqlite::Connection;
use schemasync_postgres::testing::TestDatabase;
use std::path::Path;
use std::process::Command;

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn schemasync(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_schemasync"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(args)
        .output()
        .unwrap();
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The test database's URL with a password (trust auth ignores it), which must never be
/// printed.
fn url_with_password(database: &TestDatabase) -> String {
    database
        .url()
        .replacen("postgres://postgres@", "postgres://postgres:s3cret-pw@", 1)
}

const SOURCE: &str = "
CREATE TABLE authors (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE,
  active BOOLEAN NOT NULL DEFAULT 1, joined DATETIME);
CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL REFERENCES authors (id),
  title TEXT NOT NULL, price NUMERIC, cover BLOB);
CREATE INDEX books_author ON books (author_id);
CREATE INDEX books_title ON books (lower(title));
CREATE VIEW prolific AS SELECT author_id, count(*) AS n FROM books GROUP BY author_id;
CREATE TRIGGER books_touch AFTER INSERT ON books BEGIN SELECT 1; END;
CREATE VIRTUAL TABLE search USING fts5(title);
INSERT INTO authors VALUES (1, 'Ann', 1, '2020-01-01 10:00:00'), (5, 'Bo', 0, NULL);
INSERT INTO books VALUES (1, 1, 'Één', 9.99, x'0102'), (2, 5, 'Two', NULL, NULL), (30, 1, 'Three', 12, x'');
";

fn source(dir: &Path) -> String {
    let conn = Connection::open(dir.join("app.db")).unwrap();
    conn.execute_batch(SOURCE).unwrap();
    "sqlite://app.db".to_string()
}

#[test]
fn plan_then_copy_then_check_is_clean_and_ids_continue() {
    let dir = tempfile::tempdir().unwrap();
    let from = source(dir.path());
    let db = TestDatabase::create();
    let to = url_with_password(&db);

    let plan = schemasync(
        dir.path(),
        &["copy", "--from", &from, "--to", &to, "--plan"],
    );
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stdout.contains("table authors (2 rows)"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("→ bigint identity"), "{}", plan.stdout);
    assert!(plan.stdout.contains("→ boolean"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("→ timestamp without time zone"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("! not copied: trigger books_touch"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("! not copied: virtual table search"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("s3cret"), "{}", plan.stdout);
    assert!(plan.stdout.contains("postgres:***@"), "{}", plan.stdout);

    let sql = schemasync(
        dir.path(),
        &[
            "copy", "--from", &from, "--to", &to, "--plan", "--format", "sql",
        ],
    );
    assert_eq!(sql.code, 0, "{}", sql.stderr);
    assert!(
        sql.stdout.contains("CREATE TABLE \"books\""),
        "{}",
        sql.stdout
    );
    std::fs::write(dir.path().join("mapped.sql"), &sql.stdout).unwrap();

    let copied = schemasync(dir.path(), &["copy", "--from", &from, "--to", &to]);
    assert_eq!(copied.code, 0, "{}{}", copied.stdout, copied.stderr);
    assert!(
        copied
            .stdout
            .contains("Copied books: 3 rows; count and checksum verified."),
        "{}",
        copied.stdout
    );
    assert!(
        copied.stdout.contains("Copy committed: 2 tables, 5 rows"),
        "{}",
        copied.stdout
    );
    assert!(!copied.stdout.contains("s3cret") && !copied.stderr.contains("s3cret"));

    let check = schemasync(
        dir.path(),
        &["--database-url", &to, "check", "--schema", "mapped.sql"],
    );
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    assert!(check.stdout.contains("No drift"), "{}", check.stdout);

    // Independent look at the target, and new ids past the copied ones.
    let mut client = db.connect();
    client
        .batch_execute("INSERT INTO authors (name) VALUES ('Cy'); INSERT INTO books (author_id, title) VALUES (1, 'Four')")
        .unwrap();
    let ids: Vec<i64> = client
        .query(
            "SELECT (SELECT max(id) FROM authors) UNION ALL SELECT (SELECT max(id) FROM books)",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, [6, 31]);
    let row = client
        .query_one(
            "SELECT title, price::text, encode(cover, 'hex'), a.active, a.joined::text \
             FROM books b JOIN authors a ON a.id = b.author_id WHERE b.id = 1",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "Één");
    assert_eq!(row.get::<_, String>(1), "9.99");
    assert_eq!(row.get::<_, String>(2), "0102");
    assert!(row.get::<_, bool>(3));
    assert_eq!(row.get::<_, String>(4), "2020-01-01 10:00:00");
    let views: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_views WHERE viewname = 'prolific'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(views, 1);

    // A second copy refuses without --replace (exit 1), and redoes everything with it.
    let again = schemasync(dir.path(), &["copy", "--from", &from, "--to", &to]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert!(again.stderr.contains("--replace"), "{}", again.stderr);
    let replaced = schemasync(
        dir.path(),
        &["copy", "--from", &from, "--to", &to, "--replace"],
    );
    assert_eq!(replaced.code, 0, "{}", replaced.stderr);
    let authors: i64 = client
        .query_one("SELECT count(*) FROM authors", &[])
        .unwrap()
        .get(0);
    assert_eq!(authors, 2);
}

#[test]
fn unconvertible_values_refuse_with_names_or_are_skipped_into_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let conn = Connection::open(dir.path().join("bad.db")).unwrap();
    conn.execute_batch(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, at DATETIME);
         INSERT INTO t VALUES (1, 1, '2024-01-01'), (2, 'two', '2024-01-02'), (3, 3, 'later');",
    )
    .unwrap();
    let db = TestDatabase::create();
    let to = db.url().to_string();
    let from = "sqlite://bad.db";

    let refused = schemasync(dir.path(), &["copy", "--from", from, "--to", &to]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .starts_with("error: refusing to copy: 2 value(s)"),
        "{}",
        refused.stderr
    );
    assert_eq!(refused.stderr.lines().count(), 1, "{}", refused.stderr);
    assert!(
        refused.stdout.contains("t.n at id=2: 'two'"),
        "{}",
        refused.stdout
    );
    assert!(
        refused.stdout.contains("t.at at id=3: 'later'"),
        "{}",
        refused.stdout
    );
    let tables: i64 = db
        .connect()
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 0, "nothing written");

    let missing_report = schemasync(
        dir.path(),
        &[
            "copy",
            "--from",
            from,
            "--to",
            &to,
            "--on-error",
            "skip-row",
        ],
    );
    assert_eq!(missing_report.code, 2);
    assert!(
        missing_report.stderr.contains("--report FILE"),
        "{}",
        missing_report.stderr
    );

    let skipped = schemasync(
        dir.path(),
        &[
            "copy",
            "--from",
            from,
            "--to",
            &to,
            "--on-error",
            "skip-row",
            "--report",
            "skipped.jsonl",
        ],
    );
    assert_eq!(skipped.code, 0, "{}", skipped.stderr);
    assert!(
        skipped.stdout.contains("Copied t: 1 row, 2 skipped"),
        "{}",
        skipped.stdout
    );
    let report = std::fs::read_to_string(dir.path().join("skipped.jsonl")).unwrap();
    assert_eq!(report.lines().count(), 2, "{report}");

    let text_dates = schemasync(
        dir.path(),
        &[
            "copy",
            "--from",
            from,
            "--to",
            &to,
            "--replace",
            "--keep-text-dates",
            "--plan",
        ],
    );
    assert!(
        text_dates
            .stdout
            .contains("kept as text (--keep-text-dates)"),
        "{}",
        text_dates.stdout
    );
}

#[test]
fn wrong_urls_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = schemasync(
        dir.path(),
        &[
            "copy",
            "--from",
            "postgres://a:pw@h/db",
            "--to",
            "postgres://b:pw@h/db",
        ],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("copy reads a SQLite database file"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("pw@"), "{}", out.stderr);
    let out = schemasync(
        dir.path(),
        &[
            "copy",
            "--from",
            "sqlite://none.db",
            "--to",
            "postgres://h/db",
        ],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("none.db does not exist"),
        "{}",
        out.stderr
    );
}

#[test]
fn replace_gives_up_on_a_busy_table_after_lock_timeout_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let from = source(dir.path());
    let db = TestDatabase::create();
    let to = db.url().to_string();
    let first = schemasync(dir.path(), &["copy", "--from", &from, "--to", &to]);
    assert_eq!(first.code, 0, "{}", first.stderr);

    // Another session reads `books` in an open transaction: `--replace` must drop it.
    let mut reader = db.connect();
    let mut transaction = reader.transaction().unwrap();
    transaction.query("SELECT * FROM books", &[]).unwrap();
    let blocked = schemasync(
        dir.path(),
        &[
            "--lock-timeout",
            "300",
            "copy",
            "--from",
            &from,
            "--to",
            &to,
            "--replace",
        ],
    );
    assert_ne!(blocked.code, 0, "{}", blocked.stdout);
    assert!(
        blocked.stderr.contains("lock timeout"),
        "{}",
        blocked.stderr
    );
    transaction.rollback().unwrap();
    let rows: i64 = db
        .connect()
        .query_one("SELECT count(*) FROM books", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 3, "the first copy is untouched");
}
