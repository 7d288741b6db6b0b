//! Declarative sync on real SQLite files: every kept value survives, and the database
//! ends equal to the desired schema (check is clean, a second plan is empty, SQLite's
//! own integrity and foreign-key checks pass).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use rusqlite::Connection;
use schemasync_sqlite::{ApplyOptions, Driver, Error, HazardKind, Plan, Schema, SqliteDriver};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tempfile::TempDir;

struct Db {
    _dir: TempDir,
    path: PathBuf,
}

impl Db {
    /// A database file holding `sql` (schema and rows).
    fn with(sql: &str) -> Db {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(sql).unwrap();
        Db { _dir: dir, path }
    }

    fn conn(&self) -> Connection {
        Connection::open(&self.path).unwrap()
    }

    fn driver(&self) -> SqliteDriver {
        SqliteDriver::open(&self.path, Duration::from_secs(5)).unwrap()
    }

    fn plan(&self, desired_sql: &str) -> (Plan, Schema) {
        let mut driver = self.driver();
        let desired = driver.normalize_sql(desired_sql).unwrap();
        let current = driver.introspect().unwrap();
        (driver.plan(&current, &desired).unwrap(), desired)
    }

    fn sync_with(&self, desired: &Schema, options: &ApplyOptions) -> Result<Plan, Error> {
        let mut driver = self.driver();
        let current = driver.introspect()?;
        let plan = driver.plan(&current, desired)?;
        driver.apply(&plan, desired, options)?;
        Ok(plan)
    }

    /// Applies `desired_sql` and asserts the result is exactly the desired schema.
    fn sync(&self, desired_sql: &str, allow_data_loss: bool) -> Plan {
        let desired = self.driver().normalize_sql(desired_sql).unwrap();
        let options = ApplyOptions {
            allow_data_loss,
            ..ApplyOptions::default()
        };
        let plan = self.sync_with(&desired, &options).unwrap();
        self.assert_converged(&desired);
        plan
    }

    fn assert_converged(&self, desired: &Schema) {
        let mut driver = self.driver();
        let live = driver.introspect().unwrap();
        let second = driver.plan(&live, desired).unwrap();
        assert!(
            second.is_empty(),
            "second plan not empty:\n{}",
            second.to_sql()
        );
        let conn = self.conn();
        let integrity: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(integrity, "ok");
        let violations: i64 = conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(violations, 0);
    }

    fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        let conn = self.conn();
        let mut statement = conn.prepare(sql).unwrap();
        let width = statement.column_count();
        statement
            .query_map([], |row| {
                (0..width)
                    .map(|i| {
                        let value: rusqlite::types::Value = row.get(i)?;
                        Ok(format!("{value:?}"))
                    })
                    .collect()
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.path).unwrap()
    }
}

fn rebuilt(plan: &Plan, table: &str) -> bool {
    plan.steps.iter().any(|s| {
        s.description
            .starts_with(&format!("rebuild table {table} "))
    })
}

#[test]
fn rebuild_keeps_a_view_that_reads_the_table() {
    let db = Db::with(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age TEXT);
         CREATE VIEW adults AS SELECT id, name FROM users WHERE age >= 18;
         INSERT INTO users VALUES (1, 'ann', 30), (2, 'bob', 12);",
    );
    let plan = db.sync(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age INTEGER);
         CREATE VIEW adults AS SELECT id, name FROM users WHERE age >= 18;",
        false,
    );
    assert!(rebuilt(&plan, "users"));
    assert_eq!(
        db.rows("SELECT id, name, typeof(age) FROM users ORDER BY id"),
        [
            ["Integer(1)", "Text(\"ann\")", "Text(\"integer\")"],
            ["Integer(2)", "Text(\"bob\")", "Text(\"integer\")"]
        ]
    );
    assert_eq!(db.rows("SELECT name FROM adults"), [["Text(\"ann\")"]]);
}

#[test]
fn rebuild_keeps_triggers_on_the_rebuilt_table() {
    let schema = |age_type: &str| {
        format!(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age {age_type});
             CREATE TABLE audit (user_id INTEGER, action TEXT);
             CREATE TRIGGER users_audit AFTER INSERT ON users BEGIN
               INSERT INTO audit VALUES (new.id, 'insert');
             END;"
        )
    };
    let db = Db::with(&(schema("TEXT") + "INSERT INTO users VALUES (1, 'ann', 30);"));
    let plan = db.sync(&schema("INTEGER"), false);
    assert!(rebuilt(&plan, "users"));
    db.conn()
        .execute("INSERT INTO users VALUES (2, 'bob', 40)", [])
        .unwrap();
    assert_eq!(
        db.rows("SELECT user_id, action FROM audit ORDER BY rowid"),
        [
            ["Integer(1)", "Text(\"insert\")"],
            ["Integer(2)", "Text(\"insert\")"]
        ]
    );
}

#[test]
fn rebuild_keeps_autoincrement_and_its_high_water_mark() {
    let db = Db::with(
        "CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, label TEXT);
         INSERT INTO items (label) VALUES ('a'), ('b'), ('c'), ('d');
         DELETE FROM items WHERE id >= 3;",
    );
    let plan = db.sync(
        "CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, label TEXT NOT NULL COLLATE NOCASE);",
        false,
    );
    assert!(rebuilt(&plan, "items"));
    assert_eq!(
        db.rows("SELECT seq FROM sqlite_sequence WHERE name = 'items'"),
        [["Integer(4)"]]
    );
    let conn = db.conn();
    conn.execute("INSERT INTO items (label) VALUES ('e')", [])
        .unwrap();
    assert_eq!(conn.last_insert_rowid(), 5);
}

#[test]
fn rebuilding_a_parent_never_cascades_into_its_children() {
    let db = Db::with(
        "PRAGMA foreign_keys = ON;
         CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);
         CREATE TABLE child (id INTEGER PRIMARY KEY,
           parent_id INTEGER REFERENCES parent(id) ON DELETE CASCADE);
         INSERT INTO parent VALUES (1, 'p1'), (2, 'p2');
         INSERT INTO child VALUES (10, 1), (11, 1), (12, 2);",
    );
    let plan = db.sync(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '', extra BLOB UNIQUE);
         CREATE TABLE child (id INTEGER PRIMARY KEY,
           parent_id INTEGER REFERENCES parent(id) ON DELETE CASCADE);",
        false,
    );
    assert!(rebuilt(&plan, "parent"));
    assert_eq!(
        db.rows("SELECT id, parent_id FROM child ORDER BY id"),
        [
            ["Integer(10)", "Integer(1)"],
            ["Integer(11)", "Integer(1)"],
            ["Integer(12)", "Integer(2)"]
        ]
    );
}

#[test]
fn identifiers_with_spaces_quotes_semicolons_and_keywords_survive_a_rebuild() {
    let db = Db::with(
        r#"CREATE TABLE "order items; drop" ("select" INTEGER PRIMARY KEY, "we""ird name" TEXT, [group] TEXT);
           CREATE INDEX "ix ""q"";" ON "order items; drop" ("we""ird name");
           CREATE VIEW "v; x" AS SELECT "select", [group] FROM "order items; drop";
           INSERT INTO "order items; drop" VALUES (1, 'a"b', 'g;1');"#,
    );
    let plan = db.sync(
        r#"CREATE TABLE "order items; drop" ("select" INTEGER PRIMARY KEY, "we""ird name" TEXT NOT NULL DEFAULT 'x', [group] INTEGER, "from" TEXT);
           CREATE INDEX "ix ""q"";" ON "order items; drop" ("we""ird name");
           CREATE VIEW "v; x" AS SELECT "select", [group] FROM "order items; drop";"#,
        false,
    );
    assert!(rebuilt(&plan, "order items; drop"));
    assert_eq!(
        db.rows(r#"SELECT "select", "we""ird name", [group], "from" FROM "order items; drop""#),
        [["Integer(1)", "Text(\"a\\\"b\")", "Text(\"g;1\")", "Null"]]
    );
    assert_eq!(db.rows(r#"SELECT count(*) FROM "v; x""#), [["Integer(1)"]]);
}

#[test]
fn without_rowid_and_strict_tables_keep_their_options_through_a_rebuild() {
    let db = Db::with(
        "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID;
         CREATE TABLE typed (id INTEGER PRIMARY KEY, n INTEGER, s TEXT) STRICT;
         INSERT INTO kv VALUES ('a', '1'), ('b', '2');
         INSERT INTO typed VALUES (1, 10, 'x');",
    );
    let plan = db.sync(
        "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL, w INTEGER) WITHOUT ROWID;
         CREATE TABLE typed (id INTEGER PRIMARY KEY, s TEXT, n INTEGER) STRICT;",
        false,
    );
    assert!(rebuilt(&plan, "kv") && rebuilt(&plan, "typed"));
    let options = db.rows("SELECT name, wr, strict FROM pragma_table_list WHERE name IN ('kv', 'typed') ORDER BY name");
    assert_eq!(
        options,
        [
            ["Text(\"kv\")", "Integer(1)", "Integer(0)"],
            ["Text(\"typed\")", "Integer(0)", "Integer(1)"]
        ]
    );
    assert_eq!(
        db.rows("SELECT k, v FROM kv ORDER BY k"),
        [
            ["Text(\"a\")", "Text(\"1\")"],
            ["Text(\"b\")", "Text(\"2\")"]
        ]
    );
    assert_eq!(
        db.rows("SELECT * FROM typed"),
        [["Integer(1)", "Text(\"x\")", "Integer(10)"]]
    );
}

#[test]
fn generated_columns_are_recomputed_and_stored_values_kept() {
    let db = Db::with(
        "CREATE TABLE box (id INTEGER PRIMARY KEY, w REAL, h REAL,
           area REAL GENERATED ALWAYS AS (w * h) STORED);
         INSERT INTO box (id, w, h) VALUES (1, 2, 3);",
    );
    db.sync(
        "CREATE TABLE box (id INTEGER PRIMARY KEY, w REAL, h REAL,
           area REAL GENERATED ALWAYS AS (w * h) STORED,
           perimeter REAL GENERATED ALWAYS AS (2 * (w + h)) VIRTUAL,
           label TEXT GENERATED ALWAYS AS ('box ' || id) STORED);",
        false,
    );
    assert_eq!(
        db.rows("SELECT w, h, area, perimeter, label FROM box"),
        [[
            "Real(2.0)",
            "Real(3.0)",
            "Real(6.0)",
            "Real(10.0)",
            "Text(\"box 1\")"
        ]]
    );
}

#[test]
fn fts5_external_content_index_still_answers_match_after_its_table_is_rebuilt() {
    let schema = |body_type: &str| {
        format!(
            "CREATE TABLE docs (id INTEGER PRIMARY KEY, title TEXT, body {body_type});
             CREATE VIRTUAL TABLE docs_fts USING fts5(title, body, content='docs', content_rowid='id');
             CREATE TRIGGER docs_ai AFTER INSERT ON docs BEGIN
               INSERT INTO docs_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
             END;"
        )
    };
    let db = Db::with(
        &(schema("TEXT")
            + "INSERT INTO docs VALUES (1, 'rust', 'ownership and borrowing'), (7, 'sql', 'joins');"),
    );
    let plan = db.sync(&schema("TEXT COLLATE NOCASE"), false);
    assert!(rebuilt(&plan, "docs"));
    assert_eq!(
        db.rows("SELECT rowid FROM docs_fts WHERE docs_fts MATCH 'borrowing'"),
        [["Integer(1)"]]
    );
    db.conn()
        .execute("INSERT INTO docs VALUES (9, 'new', 'borrowing again')", [])
        .unwrap();
    assert_eq!(
        db.rows("SELECT rowid FROM docs_fts WHERE docs_fts MATCH 'borrowing' ORDER BY rowid"),
        [["Integer(1)"], ["Integer(9)"]]
    );
    let integrity = db.conn().execute(
        "INSERT INTO docs_fts(docs_fts, rank) VALUES ('integrity-check', 1)",
        [],
    );
    assert!(integrity.is_ok(), "{integrity:?}");
}

#[test]
fn partial_and_expression_indexes_are_created_and_kept() {
    let db = Db::with(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, deleted INTEGER);
         INSERT INTO users VALUES (1, 'A@x', 0), (2, 'b@x', 1);",
    );
    let desired = "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, deleted INTEGER);
         CREATE UNIQUE INDEX users_email_live ON users (lower(email)) WHERE deleted = 0;
         CREATE INDEX users_deleted ON users (deleted DESC, email COLLATE NOCASE);";
    let plan = db.sync(desired, false);
    assert!(plan.has_hazard(HazardKind::IndexBuild));
    assert!(!rebuilt(&plan, "users"));
    let used: Vec<Vec<String>> = db
        .rows("EXPLAIN QUERY PLAN SELECT id FROM users WHERE lower(email) = 'a@x' AND deleted = 0");
    assert!(format!("{used:?}").contains("users_email_live"), "{used:?}");
}

#[test]
fn columns_are_reordered_with_type_and_collation_changes_keeping_values() {
    let db = Db::with(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT, c TEXT);
         INSERT INTO t VALUES (1, 'x', '42', 'Y'), (2, NULL, '7', 'z');",
    );
    let plan = db.sync(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, c TEXT COLLATE NOCASE, b INTEGER, a TEXT);",
        false,
    );
    assert!(rebuilt(&plan, "t"));
    assert_eq!(
        db.rows("SELECT id, c, b, typeof(b), a FROM t ORDER BY id"),
        [
            [
                "Integer(1)",
                "Text(\"Y\")",
                "Integer(42)",
                "Text(\"integer\")",
                "Text(\"x\")"
            ],
            [
                "Integer(2)",
                "Text(\"z\")",
                "Integer(7)",
                "Text(\"integer\")",
                "Null"
            ]
        ]
    );
    assert_eq!(
        db.rows("SELECT count(*) FROM t WHERE c = 'y'"),
        [["Integer(1)"]]
    );
}

#[test]
fn new_tables_whose_foreign_keys_point_at_each_other_are_created() {
    let db = Db::with("CREATE TABLE unrelated (x INTEGER);");
    db.sync(
        "CREATE TABLE unrelated (x INTEGER);
         CREATE TABLE a (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b(id));
         CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id));",
        false,
    );
    let conn = db.conn();
    conn.execute_batch(
        "PRAGMA foreign_keys = ON; BEGIN; PRAGMA defer_foreign_keys = ON;
         INSERT INTO a VALUES (1, 1); INSERT INTO b VALUES (1, 1); COMMIT;",
    )
    .unwrap();
    assert_eq!(
        db.rows("SELECT count(*) FROM a JOIN b ON a.b_id = b.id"),
        [["Integer(1)"]]
    );
}

#[test]
fn a_rename_hint_renames_instead_of_dropping() {
    let db = Db::with(
        "CREATE TABLE people (id INTEGER PRIMARY KEY, mail TEXT);
         INSERT INTO people VALUES (1, 'a@x');",
    );
    let mut driver = db.driver();
    let mut desired = driver
        .normalize_sql("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);")
        .unwrap();
    desired.tables[0].renamed_from = Some("people".into());
    desired.tables[0].columns[1].renamed_from = Some("mail".into());
    let plan = db.sync_with(&desired, &ApplyOptions::default()).unwrap();
    assert!(!plan.has_hazard(HazardKind::DataLoss));
    assert_eq!(
        db.rows("SELECT id, email FROM users"),
        [["Integer(1)", "Text(\"a@x\")"]]
    );
    db.assert_converged(&desired);
}

#[test]
fn dropping_an_indexed_column_needs_the_flag_and_then_keeps_other_values() {
    let db = Db::with(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, keep TEXT, gone TEXT);
         CREATE INDEX t_gone ON t (gone);
         INSERT INTO t VALUES (1, 'k', 'g');",
    );
    let desired = "CREATE TABLE t (id INTEGER PRIMARY KEY, keep TEXT);";
    let before = db.bytes();
    let refused = db.sync_with(
        &db.driver().normalize_sql(desired).unwrap(),
        &ApplyOptions::default(),
    );
    assert!(
        matches!(refused, Err(Error::DataLossRefused { .. })),
        "{refused:?}"
    );
    assert_eq!(db.bytes(), before);
    db.sync(desired, true);
    assert_eq!(db.rows("SELECT * FROM t"), [["Integer(1)", "Text(\"k\")"]]);
}

#[test]
fn not_null_on_a_column_with_nulls_is_refused_naming_the_rows() {
    let db = Db::with(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
         INSERT INTO users VALUES (1, 'a'), (4, NULL), (9, NULL);",
    );
    let before = db.bytes();
    let desired = db
        .driver()
        .normalize_sql("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);")
        .unwrap();
    let error = db
        .sync_with(&desired, &ApplyOptions::default())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot add NOT NULL to users.email: 2 row(s) violate it (id=4; id=9); backfill them or give a default first"
    );
    assert!(error.is_refusal());
    assert_eq!(db.bytes(), before);
}

#[test]
fn unique_index_over_duplicates_is_refused_and_nothing_changes() {
    let db = Db::with(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
         INSERT INTO users VALUES (1, 'a'), (2, 'a'), (3, 'b');",
    );
    let before = db.bytes();
    let desired = db
        .driver()
        .normalize_sql(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
             CREATE UNIQUE INDEX users_email ON users (email);",
        )
        .unwrap();
    let error = db
        .sync_with(&desired, &ApplyOptions::default())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot create unique index users_email on users: 2 row(s) violate it (id=1; id=2); remove the duplicates first"
    );
    assert_eq!(db.bytes(), before);
}

#[test]
fn dropping_a_table_without_the_flag_is_refused_and_nothing_changes() {
    let db = Db::with(
        "CREATE TABLE keep (id INTEGER PRIMARY KEY);
         CREATE TABLE gone (id INTEGER PRIMARY KEY);
         INSERT INTO gone VALUES (1);",
    );
    let before = db.bytes();
    let desired = db
        .driver()
        .normalize_sql("CREATE TABLE keep (id INTEGER PRIMARY KEY);")
        .unwrap();
    let error = db
        .sync_with(&desired, &ApplyOptions::default())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "refusing to apply: the plan would lose data (gone); pass --allow-data-loss to allow it"
    );
    assert_eq!(db.bytes(), before);
}

#[test]
fn a_malformed_schema_is_an_error_and_nothing_changes() {
    let db = Db::with("CREATE TABLE t (id INTEGER PRIMARY KEY);");
    let before = db.bytes();
    let error = db
        .driver()
        .normalize_sql("CREATE TABLE t (id INTEGER PRIMARY KEY,, broken")
        .unwrap_err();
    assert!(!error.to_string().contains('\n'), "{error}");
    assert_eq!(db.bytes(), before);
}

#[test]
fn changing_a_default_rewrites_the_schema_without_copying_the_table() {
    let db = Db::with(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, status TEXT DEFAULT 'new', n INTEGER);
         CREATE INDEX t_status ON t (status);
         INSERT INTO t (id, n) VALUES (1, 5), (2, NULL);",
    );
    let root_before = db.rows("SELECT rootpage FROM sqlite_schema WHERE name = 't'");
    let plan = db.sync(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, status TEXT DEFAULT 'open', n INTEGER CHECK (n > 0));
         CREATE INDEX t_status ON t (status);",
        false,
    );
    assert!(!rebuilt(&plan, "t"));
    assert_eq!(
        db.rows("SELECT rootpage FROM sqlite_schema WHERE name = 't'"),
        root_before
    );
    db.conn()
        .execute("INSERT INTO t (id) VALUES (3)", [])
        .unwrap();
    assert_eq!(
        db.rows("SELECT status FROM t WHERE id = 3"),
        [["Text(\"open\")"]]
    );
    assert!(db
        .conn()
        .execute("INSERT INTO t (id, n) VALUES (4, -1)", [])
        .is_err());
}

#[test]
fn an_apply_takes_a_verified_backup_and_records_history() {
    let db = Db::with(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);
         INSERT INTO t VALUES (1, 'x');",
    );
    let backups = tempfile::tempdir().unwrap();
    let desired = db
        .driver()
        .normalize_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b TEXT);")
        .unwrap();
    let mut driver = db.driver();
    let current = driver.introspect().unwrap();
    let plan = driver.plan(&current, &desired).unwrap();
    let report = driver
        .apply(
            &plan,
            &desired,
            &ApplyOptions {
                backup_dir: Some(backups.path().to_path_buf()),
                label: Some("v2".into()),
                ..ApplyOptions::default()
            },
        )
        .unwrap();
    let backup = report.backup.expect("a backup was taken");
    let name = backup.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("app.db.") && name.ends_with(".initial.bak"),
        "{name}"
    );
    let old = Connection::open(&backup).unwrap();
    let columns: i64 = old
        .query_row("SELECT count(*) FROM pragma_table_info('t')", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(columns, 2);
    let history = driver.history().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].label.as_deref(), Some("v2"));
    assert_eq!(history[0].schema_hash, desired.fingerprint());
}

#[test]
fn restore_brings_back_the_backed_up_database() {
    let db = Db::with("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);");
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("copy.bak");
    let mut driver = db.driver();
    driver.backup(&backup).unwrap();
    db.conn().execute("DELETE FROM t", []).unwrap();
    driver.restore(&backup).unwrap();
    assert_eq!(db.rows("SELECT id FROM t"), [["Integer(1)"]]);
    assert!(
        driver.backup(&backup).is_err(),
        "a backup never overwrites a file"
    );
}

#[test]
fn dry_run_checks_everything_and_changes_nothing() {
    let db = Db::with("CREATE TABLE t (id INTEGER PRIMARY KEY);");
    let before = db.bytes();
    let desired = db
        .driver()
        .normalize_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT);")
        .unwrap();
    let plan = db
        .sync_with(
            &desired,
            &ApplyOptions {
                dry_run: true,
                ..ApplyOptions::default()
            },
        )
        .unwrap();
    assert!(!plan.is_empty());
    assert_eq!(db.bytes(), before);

    // A dry run still runs the data checks: rows that block the change are reported.
    db.conn().execute("INSERT INTO t VALUES (1)", []).unwrap();
    let before = db.bytes();
    let blocked = db
        .driver()
        .normalize_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT NOT NULL);")
        .unwrap();
    let error = db
        .sync_with(
            &blocked,
            &ApplyOptions {
                dry_run: true,
                ..ApplyOptions::default()
            },
        )
        .unwrap_err();
    assert!(
        matches!(error, Error::ValidationFailed { count: 1, .. }),
        "{error}"
    );
    assert_eq!(db.bytes(), before);
}

#[test]
fn chinook_loads_and_is_clean_against_its_own_schema_file() {
    let root =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/real-schemas/sqlite/chinook");
    let schema =
        std::fs::read_to_string(root.join("schema.sql")).expect("../shared beside the repository");
    let data = std::fs::read_to_string(root.join("data.sql")).unwrap();
    let db = Db::with(&format!("PRAGMA foreign_keys = OFF;\n{schema}\n{data}"));
    let (plan, _) = db.plan(&schema);
    assert!(plan.is_empty(), "{}", plan.to_sql());
    let counts_before = db.rows("SELECT (SELECT count(*) FROM Track), (SELECT count(*) FROM InvoiceLine), (SELECT count(*) FROM Album)");
    let mut changed = schema.replace(
        "[Composer] NVARCHAR(220),",
        "[Composer] NVARCHAR(220),\n    [Rating] INTEGER NOT NULL DEFAULT 0,",
    );
    changed.push_str("\nCREATE INDEX [IFK_TrackRating] ON [Track] ([Rating]);\n");
    assert_ne!(changed, schema);
    db.sync(&changed, false);
    let counts_after = db.rows("SELECT (SELECT count(*) FROM Track), (SELECT count(*) FROM InvoiceLine), (SELECT count(*) FROM Album)");
    assert_eq!(counts_before, counts_after);
}

#[test]
fn a_plan_that_orphans_rows_is_rolled_back() {
    let db = Db::with(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);
         CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id));
         INSERT INTO parent VALUES (1);
         INSERT INTO child VALUES (1, 1);",
    );
    let before = db.bytes();
    let desired = db
        .driver()
        .normalize_sql(
            "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id));",
        )
        .unwrap();
    let options = ApplyOptions {
        allow_data_loss: true,
        ..ApplyOptions::default()
    };
    let error = db.sync_with(&desired, &options).unwrap_err();
    assert!(error.to_string().contains("foreign_key_check"), "{error}");
    assert_eq!(db.bytes(), before);
}

#[test]
fn a_database_locked_by_another_writer_is_reported_and_left_alone() {
    let db = Db::with("CREATE TABLE t (id INTEGER PRIMARY KEY);");
    let blocker = db.conn();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut driver = SqliteDriver::open(&db.path, Duration::from_millis(100)).unwrap();
    let desired = driver
        .normalize_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT);")
        .unwrap();
    let current = driver.introspect().unwrap();
    let plan = driver.plan(&current, &desired).unwrap();
    let error = driver
        .apply(&plan, &desired, &ApplyOptions::default())
        .unwrap_err();
    assert!(error.to_string().contains("database is locked"), "{error}");
    blocker.execute_batch("ROLLBACK").unwrap();
    assert_eq!(
        db.rows("SELECT count(*) FROM pragma_table_info('t')"),
        [["Integer(1)"]]
    );
}

#[test]
fn a_wal_database_stays_in_wal_mode_after_a_rebuild() {
    let db = Db::with(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);
         INSERT INTO t VALUES (1, 'x');",
    );
    db.sync(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT COLLATE NOCASE);",
        false,
    );
    assert_eq!(db.rows("PRAGMA journal_mode"), [["Text(\"wal\")"]]);
    assert_eq!(db.rows("SELECT a FROM t"), [["Text(\"x\")"]]);
}

#[test]
fn replacing_every_column_of_a_table_rebuilds_it() {
    let db = Db::with("CREATE TABLE t (old TEXT); INSERT INTO t VALUES ('x');");
    let plan = db.sync("CREATE TABLE t (new INTEGER);", true);
    assert!(rebuilt(&plan, "t"));
    assert_eq!(
        db.rows("SELECT count(*), max(new) FROM t"),
        [["Integer(1)", "Null"]]
    );
}

#[test]
fn a_check_on_a_column_added_in_the_same_plan_is_checked_by_sqlite() {
    let db = Db::with("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1);");
    db.sync(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER DEFAULT 5 CHECK (n > 0));",
        false,
    );
    assert_eq!(db.rows("SELECT n FROM t"), [["Integer(5)"]]);
}
