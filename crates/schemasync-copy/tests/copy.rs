//! Copies real SQLite databases into real PostgreSQL databases (a fresh one per test)
//! and checks the result with our own queries on PostgreSQL, never through the copy's
//! checksum.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use schemasync_copy::{copy, plan, CopyError, CopyMode, CopyOptions, NoteKind, OnError};
use schemasync_postgres::testing::TestDatabase;
use schemasync_postgres::{Driver, PgDriver, PgOptions};
use schemasync_sqlite::SqliteDriver;
use std::time::Duration;

fn sqlite(dir: &tempfile::TempDir, sql: &str) -> SqliteDriver {
    let path = dir.path().join("source.db");
    let driver = SqliteDriver::open(&path, Duration::from_secs(5)).unwrap();
    driver.connection().execute_batch(sql).unwrap();
    driver
}

fn pg(db: &TestDatabase) -> PgDriver {
    PgDriver::connect(db.url(), PgOptions::default()).unwrap()
}

/// `format_type` of every column of a table, in order.
fn column_types(client: &mut postgres::Client, table: &str) -> Vec<(String, String)> {
    client
        .query(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) \
             FROM pg_attribute a WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 \
             AND NOT a.attisdropped ORDER BY a.attnum",
            &[&format!("\"{table}\"")],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

const MAPPINGS: &str = "
CREATE TABLE kinds (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  n INTEGER NOT NULL DEFAULT 0,
  flag BOOLEAN DEFAULT 1,
  born DATE,
  seen DATETIME,
  at_utc TIMESTAMP,
  ratio REAL,
  price NUMERIC(10,2),
  amount DECIMAL,
  data BLOB,
  name TEXT NOT NULL DEFAULT '' CHECK (length(name) < 100),
  misc VARCHAR(20),
  untyped,
  UNIQUE (name, n)
);
CREATE INDEX kinds_lower_name ON kinds (lower(name));
CREATE INDEX kinds_flag ON kinds (n) WHERE flag = 1;
CREATE TABLE parents (code TEXT PRIMARY KEY, label TEXT);
CREATE TABLE children (
  id INTEGER PRIMARY KEY,
  parent TEXT NOT NULL REFERENCES parents (code) ON DELETE CASCADE,
  kind_id INTEGER REFERENCES kinds (id)
);
CREATE INDEX children_parent ON children (parent);
INSERT INTO kinds (id, n, flag, born, seen, at_utc, ratio, price, amount, data, name, misc, untyped)
VALUES
  (1, 9223372036854775807, 1, '2024-02-29', '2024-01-02 03:04:05.123456', '2024-01-02T03:04:05Z',
   1e300, 12.5, 7, x'00ff10', 'Zürich — 東京 🚀', 'x', 42),
  (2, -9223372036854775808, 0, '0001-01-01', '1999-12-31 23:59', '2024-06-01 12:00:00+02:00',
   -0.0, 0.1, -3.25, x'', '', '', -0.0),
  (3, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'nulls', NULL, NULL),
  (10, 5, 1, '9999-12-31', '2024-01-02', '1970-01-01 00:00:00Z', 9e999, 123456789012345, 1e-7,
   randomblob(3000000), 'big', 'y', 'text');
INSERT INTO parents VALUES ('a', 'A'), ('b', NULL);
INSERT INTO children VALUES (1, 'a', 1), (2, 'a', NULL), (7, 'b', 10);
";

#[test]
fn every_mapping_arrives_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut source = sqlite(&dir, MAPPINGS);
    let db = TestDatabase::create();
    let mut target = pg(&db);
    let report = copy(&mut source, &mut target, &CopyOptions::default()).unwrap();
    assert_eq!(report.tables.len(), 3);
    assert_eq!(report.tables[0].rows, 4);

    let mut client = db.connect();
    let types = column_types(&mut client, "kinds");
    let expected = [
        ("id", "bigint"),
        ("n", "bigint"),
        ("flag", "boolean"),
        ("born", "date"),
        ("seen", "timestamp without time zone"),
        ("at_utc", "timestamp with time zone"),
        ("ratio", "double precision"),
        ("price", "numeric"),
        ("amount", "numeric"),
        ("data", "bytea"),
        ("name", "text"),
        ("misc", "text"),
        ("untyped", "text"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(types, expected);

    // Values, read back as text by PostgreSQL itself.
    client
        .batch_execute("SET TIME ZONE 'UTC'; SET extra_float_digits = 3")
        .unwrap();
    let rows = client
        .query(
            "SELECT id, n::text, flag::text, born::text, seen::text, at_utc::text, \
             ratio::text, price::text, amount::text, encode(data, 'hex'), name, misc, untyped \
             FROM kinds WHERE id < 10 ORDER BY id",
            &[],
        )
        .unwrap();
    let row = |i: usize| -> Vec<Option<String>> {
        (1..13)
            .map(|c| rows[i].get::<_, Option<String>>(c))
            .collect()
    };
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        row(0),
        vec![
            s("9223372036854775807"),
            s("true"),
            s("2024-02-29"),
            s("2024-01-02 03:04:05.123456"),
            s("2024-01-02 03:04:05+00"),
            s("1e+300"),
            s("12.5"),
            s("7"),
            s("00ff10"),
            s("Zürich — 東京 🚀"),
            s("x"),
            s("42"),
        ]
    );
    assert_eq!(
        row(1),
        vec![
            s("-9223372036854775808"),
            s("false"),
            s("0001-01-01"),
            s("1999-12-31 23:59:00"),
            s("2024-06-01 10:00:00+00"),
            s("0"),
            s("0.1"),
            s("-3.25"),
            s(""),
            s(""),
            s(""),
            s("-0.0"),
        ]
    );
    assert_eq!(
        row(2),
        vec![
            s("0"),
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            s("nulls"),
            None,
            None
        ]
    );
    // SQLite stores a whole REAL as an integer, so its REAL columns hold 0.0 for -0.0
    // (it says so itself); an untyped column keeps -0.0, and it arrives as such.
    let sqlite_sign: f64 = source
        .connection()
        .query_row("SELECT ratio FROM kinds WHERE id = 2", [], |r| r.get(0))
        .unwrap();
    assert!(sqlite_sign.is_sign_positive());
    // +Inf stays infinite; the large blob is byte-identical.
    let inf: f64 = client
        .query_one("SELECT ratio FROM kinds WHERE id = 10", &[])
        .unwrap()
        .get(0);
    assert_eq!(inf, f64::INFINITY);
    let source_md5: String = source
        .connection()
        .query_row("SELECT hex(data) FROM kinds WHERE id = 10", [], |r| {
            r.get(0)
        })
        .unwrap();
    let target_hex: String = client
        .query_one(
            "SELECT upper(encode(data, 'hex')) FROM kinds WHERE id = 10",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(source_md5.len(), 6_000_000);
    assert!(source_md5 == target_hex, "the 3 MB blob differs");
    let numbers: Vec<String> = client
        .query(
            "SELECT price::text || '|' || amount::text FROM kinds WHERE id = 10",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(numbers, vec!["123456789012345|0.0000001".to_string()]);

    // Keys, indexes and foreign keys exist; the FK is validated.
    let constraints: Vec<String> = client
        .query(
            "SELECT conname::text || ':' || contype::text || ':' || convalidated::text \
             FROM pg_constraint WHERE conrelid IN ('kinds'::regclass, 'children'::regclass) ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        constraints.contains(&"kinds_pkey:p:true".to_string()),
        "{constraints:?}"
    );
    assert!(
        constraints.contains(&"kinds_name_n_key:u:true".to_string()),
        "{constraints:?}"
    );
    assert!(
        constraints.contains(&"children_parent_fkey:f:true".to_string()),
        "{constraints:?}"
    );
    assert!(
        constraints.contains(&"children_kind_id_fkey:f:true".to_string()),
        "{constraints:?}"
    );
    assert!(
        constraints.iter().any(|c| c.ends_with(":c:true")),
        "{constraints:?} {:#?}",
        report.plan.notes
    );
    let indexes: Vec<String> = client
        .query(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'kinds' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        indexes.iter().any(|i| i.contains("lower(name)")),
        "{indexes:?}"
    );
    // `WHERE flag = 1` compares a boolean with an integer: reported, not created.
    assert!(
        !indexes.iter().any(|i| i.contains("kinds_flag")),
        "{indexes:?}"
    );
    assert!(report
        .plan
        .notes
        .iter()
        .any(|n| n.kind == NoteKind::NotCopied && n.object == "index kinds_flag"));

    // Defaults translated: BOOLEAN DEFAULT 1 → true.
    client
        .batch_execute("INSERT INTO kinds (name) VALUES ('new')")
        .unwrap();
    let (id, flag, n): (i64, bool, i64) = client
        .query_one("SELECT id, flag, n FROM kinds WHERE name = 'new'", &[])
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .unwrap();
    assert_eq!(
        (id, flag, n),
        (11, true, 0),
        "new ids continue after the copied ones"
    );
    client
        .batch_execute("INSERT INTO children (parent) VALUES ('b')")
        .unwrap();
    let child: i64 = client
        .query_one("SELECT max(id) FROM children", &[])
        .unwrap()
        .get(0);
    assert_eq!(child, 8);
}

#[test]
fn the_mapped_schema_is_what_the_target_holds() {
    let dir = tempfile::tempdir().unwrap();
    let mut source = sqlite(
        &dir,
        &format!(
            "{MAPPINGS}
             CREATE VIEW named_kinds AS SELECT id, name FROM kinds WHERE name <> '';
             CREATE VIEW lite_only AS SELECT datetime('now') AS now, ifnull(name, 'x') FROM kinds;"
        ),
    );
    let db = TestDatabase::create();
    let mut target = pg(&db);
    let planned = plan(&mut source, &mut target, &CopyOptions::default()).unwrap();
    assert!(
        target.introspect().unwrap().tables.is_empty(),
        "a plan writes nothing"
    );
    let sql: String = schemasync_postgres::ddl::create_schema(&planned.schema)
        .into_iter()
        .map(|(_, sql)| format!("{sql};\n"))
        .collect();
    copy(&mut source, &mut target, &CopyOptions::default()).unwrap();
    let desired = target.normalize_sql(&sql).unwrap();
    let live = target.introspect().unwrap();
    let steps = target.plan(&live, &desired).unwrap();
    assert!(steps.is_empty(), "{:#?}", steps.changes);
    assert!(live.view("named_kinds").is_some());
    assert!(planned
        .notes
        .iter()
        .any(|n| n.object == "view lite_only" && n.kind == NoteKind::NotCopied));
}

#[test]
fn defaults_that_read_the_clock_become_their_postgresql_equivalents() {
    let dir = tempfile::tempdir().unwrap();
    let mut source = sqlite(
        &dir,
        "CREATE TABLE log (
           id INTEGER PRIMARY KEY,
           msg TEXT,
           at DATETIME NOT NULL DEFAULT (datetime('now')),
           day DATE DEFAULT CURRENT_DATE,
           stamp TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
           epoch INTEGER DEFAULT (unixepoch()),
           later DATETIME DEFAULT (datetime('now', '+1 day'))
         );
         INSERT INTO log (id, msg, at, later) VALUES (1, 'old', '2020-01-01 00:00:00', NULL);",
    );
    let db = TestDatabase::create();
    let mut target = pg(&db);
    let report = copy(&mut source, &mut target, &CopyOptions::default()).unwrap();
    let translated: Vec<&str> = report
        .plan
        .notes
        .iter()
        .filter(|n| n.kind == NoteKind::Translated)
        .map(|n| n.object.as_str())
        .collect();
    assert_eq!(translated, ["log.at", "log.day", "log.stamp", "log.epoch"]);
    // What SQLite cannot say in PostgreSQL is reported, not guessed.
    assert!(report
        .plan
        .notes
        .iter()
        .any(|n| n.object.starts_with("log") && n.message.contains("+1 day")));
    let mut client = db.connect();
    client
        .batch_execute("INSERT INTO log (msg) VALUES ('new')")
        .unwrap();
    let row = client
        .query_one(
            "SELECT abs(extract(epoch FROM at - (now() AT TIME ZONE 'UTC'))) < 60,
                    day = (now() AT TIME ZONE 'UTC')::date,
                    stamp ~ '^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$',
                    abs(epoch - extract(epoch FROM now())) < 60
             FROM log WHERE msg = 'new'",
            &[],
        )
        .unwrap();
    let checks: Vec<bool> = (0..4).map(|i| row.get(i)).collect();
    assert_eq!(checks, [true, true, true, true]);
}

#[test]
fn infinite_and_huge_numerics_arrive_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut source = sqlite(
        &dir,
        "CREATE TABLE m (id INTEGER PRIMARY KEY, v NUMERIC, d DECIMAL(20, 2));
         INSERT INTO m VALUES (1, 9e999, -9e999), (2, -9e999, 9e999), (3, 1e300, -1e-300),
           (4, '12345678901234567890.125', 0.1);",
    );
    let db = TestDatabase::create();
    let mut target = pg(&db);
    copy(&mut source, &mut target, &CopyOptions::default()).unwrap();
    let rows: Vec<(String, String)> = db
        .connect()
        .query("SELECT v::text, d::text FROM m ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let huge = format!("1{}", "0".repeat(300));
    let tiny = format!("-0.{}1", "0".repeat(299));
    assert_eq!(
        rows,
        [
            ("Infinity".to_string(), "-Infinity".to_string()),
            ("-Infinity".to_string(), "Infinity".to_string()),
            (huge, tiny),
            // SQLite keeps NUMERIC text it cannot hold exactly as a double as REAL.
            ("12345678901234567000".to_string(), "0.1".to_string()),
        ]
    );
}

#[test]
fn triggers_fts5_and_views_are_reported_not_dropped_silently() {
    let dir = tempfile::tempdir().unwrap();
    let mut source = sqlite(
        &dir,
        "CREATE TABLE docs (id INTEGER PRIMARY KEY, title TEXT, body TEXT, updated TEXT);
         CREATE VIRTUAL TABLE docs_fts USING fts5(title, body, content='docs', content_rowid='id');
         CREATE TRIGGER docs_ai AFTER INSERT ON docs BEGIN
           INSERT INTO docs_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
         END;
         CREATE VIEW titles AS SELECT title FROM docs;
         INSERT INTO docs VALUES (1, 'hello', 'world', NULL);",
    );
    let db = TestDatabase::create();
    let mut target = pg(&db);
    let report = copy(&mut source, &mut target, &CopyOptions::default()).unwrap();
    let notes: Vec<String> = report.plan.notes.iter().map(ToString::to_string).collect();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("not copied: trigger docs_ai")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("not copied: virtual table docs_fts") && n.contains("fts5")),
        "{notes:?}"
    );
    let live = target.introspect().unwrap();
    assert_eq!(
        live.tables
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        ["docs"]
    );
    assert!(live.view("titles").is_some());
}

#[test]
fn unconvertible_values_are_named_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut source = sqlite(
        &dir,
        "CREATE TABLE good (id INTEGER PRIMARY KEY);
         INSERT INTO good VALUES (1);
         CREATE TABLE bad (id INTEGER PRIMARY KEY, n INTEGER, r REAL, t TEXT, d DATETIME, b BOOLEAN);
         INSERT INTO bad VALUES (1, 1, 1.0, 'ok', '2024-01-01', 1);
         INSERT INTO bad VALUES (2, 'seven', 'NaN', CAST(x'ff00' AS TEXT), 'yesterday', 2);
         INSERT INTO bad VALUES (3, 1e20, 2.0, 'a' || char(0) || 'b', NULL, 0);",
    );
    let db = TestDatabase::create();
    let mut target = pg(&db);
    let planned = plan(&mut source, &mut target, &CopyOptions::default()).unwrap();
    let values: Vec<String> = planned
        .notes
        .iter()
        .filter(|n| n.kind == NoteKind::Values)
        .map(|n| n.object.clone())
        .collect();
    assert_eq!(values, ["bad.n", "bad.n", "bad.r", "bad.d", "bad.b"]);

    let error = copy(&mut source, &mut target, &CopyOptions::default()).unwrap_err();
    assert!(error.is_refusal());
    let CopyError::Unconvertible { count, samples, .. } = &error else {
        panic!("{error}");
    };
    let shown: Vec<String> = samples.iter().map(ToString::to_string).collect();
    assert_eq!(*count, 7, "{shown:#?}");
    assert!(
        shown[0].starts_with("bad.n at id=2: 'seven' is a text value (cannot become bigint)"),
        "{shown:#?}"
    );
    assert!(
        shown.iter().any(|s| s.starts_with("bad.r at id=2: 'NaN'")),
        "{shown:#?}"
    );
    assert!(
        shown
            .iter()
            .any(|s| s.starts_with("bad.t at id=2: text x'ff00' is text that is not valid UTF-8")),
        "{shown:#?}"
    );
    assert!(
        shown
            .iter()
            .any(|s| s.starts_with("bad.d at id=2: 'yesterday'")),
        "{shown:#?}"
    );
    assert!(
        shown
            .iter()
            .any(|s| s.starts_with("bad.b at id=2: 2 is neither 0 nor 1")),
        "{shown:#?}"
    );
    assert!(
        shown
            .iter()
            .any(|s| s.starts_with("bad.n at id=3: 1e20 is not an exact 64-bit integer")),
        "{shown:#?}"
    );
    assert!(
        shown
            .iter()
            .any(|s| s.starts_with("bad.t at id=3") && s.contains("NUL")),
        "{shown:#?}"
    );
    assert!(
        target.introspect().unwrap().tables.is_empty(),
        "nothing written"
    );

    // Skipping rows: the good rows arrive, the bad ones are in the report.
    let report_file = dir.path().join("skipped.jsonl");
    let options = CopyOptions {
        on_error: OnError::SkipRow(report_file.clone()),
        ..CopyOptions::default()
    };
    let report = copy(&mut source, &mut target, &options).unwrap();
    let bad = report.tables.iter().find(|t| t.name == "bad").unwrap();
    assert_eq!((bad.rows, bad.skipped), (1, 2));
    let lines = std::fs::read_to_string(&report_file).unwrap();
    assert_eq!(lines.lines().count(), 7);
    assert!(lines.contains("\"key\":\"id=2\""));
    let mut client = db.connect();
    let ids: Vec<i64> = client
        .query("SELECT id FROM bad", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, [1]);
}

#[test]
fn keep_text_dates_keeps_the_column_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut source = sqlite(
        &dir,
        "CREATE TABLE e (id INTEGER PRIMARY KEY, at DATETIME);
         INSERT INTO e VALUES (1, '2024-01-01 10:00'), (2, 'soon');",
    );
    let db = TestDatabase::create();
    let mut target = pg(&db);
    let options = CopyOptions {
        keep_text_dates: true,
        ..CopyOptions::default()
    };
    copy(&mut source, &mut target, &options).unwrap();
    let mut client = db.connect();
    assert_eq!(column_types(&mut client, "e")[1].1, "text");
    let at: String = client
        .query_one("SELECT at FROM e WHERE id = 2", &[])
        .unwrap()
        .get(0);
    assert_eq!(at, "soon");
}

#[test]
fn a_rerun_needs_replace_and_then_replaces_only_the_copied_tables() {
    let dir = tempfile::tempdir().unwrap();
    let mut source = sqlite(
        &dir,
        "CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT);
         CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id));
         INSERT INTO a VALUES (1, 'x'), (2, 'y');
         INSERT INTO b VALUES (1, 2);",
    );
    let db = TestDatabase::create();
    let mut target = pg(&db);
    db.connect()
        .batch_execute("CREATE TABLE unrelated (x int); INSERT INTO unrelated VALUES (1);")
        .unwrap();
    copy(&mut source, &mut target, &CopyOptions::default()).unwrap();
    let error = copy(&mut source, &mut target, &CopyOptions::default()).unwrap_err();
    assert!(matches!(error, CopyError::TargetInUse(_)), "{error}");
    assert!(error.to_string().contains("--replace"));
    source
        .connection()
        .execute_batch("INSERT INTO a VALUES (3, 'z')")
        .unwrap();
    let options = CopyOptions {
        replace: true,
        ..CopyOptions::default()
    };
    copy(&mut source, &mut target, &options).unwrap();
    let mut client = db.connect();
    let count: i64 = client
        .query_one("SELECT count(*) FROM a", &[])
        .unwrap()
        .get(0);
    assert_eq!(count, 3);
    let unrelated: i64 = client
        .query_one("SELECT count(*) FROM unrelated", &[])
        .unwrap()
        .get(0);
    assert_eq!(unrelated, 1);

    // Only one table, data only, replacing its rows.
    source
        .connection()
        .execute_batch("INSERT INTO a VALUES (4, 'w')")
        .unwrap();
    let options = CopyOptions {
        tables: vec!["A".to_string()],
        mode: CopyMode::DataOnly,
        replace: true,
        batch_rows: 1,
        ..CopyOptions::default()
    };
    // `b` references `a`: PostgreSQL refuses to TRUNCATE a referenced table; the error
    // names it and everything is rolled back.
    let error = copy(&mut source, &mut target, &options).unwrap_err();
    assert!(error.to_string().contains("cannot empty a"), "{error}");
    let count: i64 = client
        .query_one("SELECT count(*) FROM a", &[])
        .unwrap()
        .get(0);
    assert_eq!(count, 3);
}

#[test]
fn schema_only_creates_empty_tables_that_data_only_fills() {
    let dir = tempfile::tempdir().unwrap();
    let mut source = sqlite(
        &dir,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, at DATE);
         INSERT INTO t VALUES (1, '2020-02-02'), (2, NULL), (3, '2021-03-03');",
    );
    let db = TestDatabase::create();
    let mut target = pg(&db);
    let schema_only = CopyOptions {
        mode: CopyMode::SchemaOnly,
        ..CopyOptions::default()
    };
    copy(&mut source, &mut target, &schema_only).unwrap();
    let mut client = db.connect();
    let count: i64 = client
        .query_one("SELECT count(*) FROM t", &[])
        .unwrap()
        .get(0);
    assert_eq!(count, 0);
    let data_only = CopyOptions {
        mode: CopyMode::DataOnly,
        batch_rows: 2,
        ..CopyOptions::default()
    };
    let report = copy(&mut source, &mut target, &data_only).unwrap();
    assert_eq!(report.tables[0].rows, 3);
    let dates: Vec<Option<String>> = client
        .query("SELECT at::text FROM t ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        dates,
        [
            Some("2020-02-02".to_string()),
            None,
            Some("2021-03-03".to_string())
        ]
    );
    client
        .batch_execute("INSERT INTO t (at) VALUES (NULL)")
        .unwrap();
    let id: i64 = client
        .query_one("SELECT max(id) FROM t", &[])
        .unwrap()
        .get(0);
    assert_eq!(id, 4);
}

#[test]
fn a_value_changed_on_the_way_in_fails_verification_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut source = sqlite(
        &dir,
        "CREATE TABLE \"Notes\" (id INTEGER PRIMARY KEY, body TEXT, at DATETIME, n REAL);
         INSERT INTO \"Notes\" VALUES (1, 'one', '2020-01-01 10:00:00', 1.5),
           (2, 'two', NULL, NULL), (3, NULL, '2021-06-30 23:59:59.5', -0.0);",
    );
    let db = TestDatabase::create();
    let mut target = pg(&db);
    let schema_only = CopyOptions {
        mode: CopyMode::SchemaOnly,
        ..CopyOptions::default()
    };
    copy(&mut source, &mut target, &schema_only).unwrap();
    let mut client = db.connect();
    // A trigger in the target rewrites one value as it arrives.
    client
        .batch_execute(
            "CREATE FUNCTION shout() RETURNS trigger LANGUAGE plpgsql AS
               $$ BEGIN IF NEW.id = 2 THEN NEW.body := upper(NEW.body); END IF; RETURN NEW; END $$;
             CREATE TRIGGER shout BEFORE INSERT ON \"Notes\" FOR EACH ROW EXECUTE FUNCTION shout();",
        )
        .unwrap();
    let data_only = CopyOptions {
        mode: CopyMode::DataOnly,
        ..CopyOptions::default()
    };
    let error = copy(&mut source, &mut target, &data_only).unwrap_err();
    assert!(
        matches!(&error, CopyError::VerificationFailed { table, .. } if table == "Notes"),
        "{error}"
    );
    let count: i64 = client
        .query_one("SELECT count(*) FROM \"Notes\"", &[])
        .unwrap()
        .get(0);
    assert_eq!(count, 0, "rolled back");

    client
        .batch_execute("DROP TRIGGER shout ON \"Notes\"")
        .unwrap();
    let report = copy(&mut source, &mut target, &data_only).unwrap();
    assert_eq!(report.tables[0].rows, 3);
}

#[test]
fn a_copy_that_fails_half_way_leaves_nothing_and_runs_again_without_cleanup() {
    let dir = tempfile::tempdir().unwrap();
    // SQLite did not enforce the foreign key: one orphan row.
    let mut source = sqlite(
        &dir,
        "PRAGMA foreign_keys = OFF;
         CREATE TABLE \"Order Items\" (\"Item \"\"No\"\"\" INTEGER PRIMARY KEY, label TEXT);
         CREATE TABLE lines (id INTEGER PRIMARY KEY,
           item INTEGER REFERENCES \"Order Items\" (\"Item \"\"No\"\"\"));
         INSERT INTO \"Order Items\" VALUES (1, 'one'), (2, 'two');
         INSERT INTO lines VALUES (1, 1), (2, 99);",
    );
    let db = TestDatabase::create();
    let mut target = pg(&db);
    let error = copy(&mut source, &mut target, &CopyOptions::default()).unwrap_err();
    assert!(!error.is_refusal());
    let message = error.to_string();
    assert!(
        message
            .starts_with("cannot add foreign key (item) of lines → Order Items: PostgreSQL says:"),
        "{message}"
    );
    assert!(
        target.introspect().unwrap().tables.is_empty(),
        "rolled back"
    );

    source
        .connection()
        .execute_batch("DELETE FROM lines WHERE id = 2")
        .unwrap();
    copy(&mut source, &mut target, &CopyOptions::default()).unwrap();
    let mut client = db.connect();
    client
        .batch_execute("INSERT INTO \"Order Items\" (label) VALUES ('three')")
        .unwrap();
    let next: i64 = client
        .query_one("SELECT max(\"Item \"\"No\"\"\") FROM \"Order Items\"", &[])
        .unwrap()
        .get(0);
    assert_eq!(next, 3);
}

#[test]
fn autoincrement_ids_are_never_reused() {
    let dir = tempfile::tempdir().unwrap();
    let mut source = sqlite(
        &dir,
        "CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);
         INSERT INTO jobs (name) VALUES ('a'), ('b'), ('c'), ('d'), ('e');
         DELETE FROM jobs WHERE id >= 4;
         CREATE TABLE empty_auto (id INTEGER PRIMARY KEY AUTOINCREMENT);",
    );
    let db = TestDatabase::create();
    let mut target = pg(&db);
    copy(&mut source, &mut target, &CopyOptions::default()).unwrap();
    let mut client = db.connect();
    let id: i64 = client
        .query_one("INSERT INTO jobs (name) VALUES ('f') RETURNING id", &[])
        .unwrap()
        .get(0);
    assert_eq!(id, 6, "SQLite would hand out 6, not 4");
    let first: i64 = client
        .query_one("INSERT INTO empty_auto DEFAULT VALUES RETURNING id", &[])
        .unwrap()
        .get(0);
    assert_eq!(first, 1);
}

#[test]
fn timestamps_with_and_without_offsets_do_not_mix() {
    let dir = tempfile::tempdir().unwrap();
    let mut source = sqlite(
        &dir,
        "CREATE TABLE e (id INTEGER PRIMARY KEY, at TIMESTAMP);
         INSERT INTO e VALUES (1, '2024-01-01 10:00'), (2, '2024-01-01T10:00:00+01:00');",
    );
    let db = TestDatabase::create();
    let mut target = pg(&db);
    let planned = plan(&mut source, &mut target, &CopyOptions::default()).unwrap();
    assert!(
        planned
            .notes
            .iter()
            .any(|n| n.kind == NoteKind::Values && n.object == "e.at"),
        "{:?}",
        planned.notes
    );
    let error = copy(&mut source, &mut target, &CopyOptions::default()).unwrap_err();
    assert!(
        error.to_string().contains(
            "e.at at id=2: '2024-01-01T10:00:00+01:00' is not in the column's date/time form"
        ),
        "{error}"
    );
}
