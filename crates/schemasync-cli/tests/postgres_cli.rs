//! End-to-end tests of the `schemasync` binary against a real PostgreSQL server (a fresh
//! database per test, SPEC §11), including the Chinook real-world schema with its data.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use schemasync_postgres::testing::TestDatabase;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, url: &str, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_schemasync"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .arg("--database-url")
        .arg(url)
        .args(args)
        .output()
        .unwrap();
    Output {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The test database's URL with a password in it (trust auth ignores it), so tests can
/// check that it is never printed.
fn url_with_password(database: &TestDatabase) -> String {
    database
        .url()
        .replacen("postgres://postgres@", "postgres://postgres:s3cret-pw@", 1)
}

fn real_schema(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/real-schemas/postgres")
        .join(name)
}

/// Loads a file with psql, as the real-schemas README prescribes (its data uses COPY).
fn psql(database: &TestDatabase, file: &Path) {
    let status = Command::new("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-d", database.url(), "-f"])
        .arg(file)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("psql is needed to load the real-world schemas' data");
    assert!(status.success(), "psql failed on {}", file.display());
}

fn counts(database: &TestDatabase) -> Vec<(String, i64)> {
    let mut client = database.connect();
    let tables: Vec<String> = client
        .query(
            "SELECT quote_ident(relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND relkind = 'r' AND relname NOT LIKE 'schemasync%' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    tables
        .into_iter()
        .map(|t| {
            let n: i64 = client
                .query_one(&format!("SELECT count(*) FROM {t}"), &[])
                .unwrap()
                .get(0);
            (t, n)
        })
        .collect()
}

#[test]
fn apply_then_check_is_clean_and_the_password_never_shows() {
    let database = TestDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let url = url_with_password(&database);
    write(
        dir.path(),
        "schema.sql",
        "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);
         CREATE INDEX users_email ON users (email);",
    );

    let applied = run(dir.path(), &url, &["apply", "--schema", "schema.sql"]);
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let check = run(dir.path(), &url, &["check", "--schema", "schema.sql"]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    let status = run(dir.path(), &url, &["status"]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(status.stdout.contains("users"), "{}", status.stdout);
    assert!(
        status.stdout.contains("KiB"),
        "sizes are shown: {}",
        status.stdout
    );
    let broken = run(dir.path(), &url, &["plan", "--schema", "missing.sql"]);
    assert_eq!(broken.code, 2);
    for output in [&applied, &check, &status, &broken] {
        assert!(
            !output.stdout.contains("s3cret-pw") && !output.stderr.contains("s3cret-pw"),
            "password printed: {}{}",
            output.stdout,
            output.stderr
        );
    }
}

#[test]
fn plan_as_sql_shows_the_timeouts_and_the_transaction_boundaries() {
    let database = TestDatabase::create();
    database
        .connect()
        .batch_execute(
            "CREATE TABLE t (id int PRIMARY KEY, a text); INSERT INTO t VALUES (1, 'x');",
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "schema.sql",
        "CREATE TABLE t (id int PRIMARY KEY, a text, b text); CREATE INDEX t_a ON t (a);",
    );
    let plan = run(
        dir.path(),
        database.url(),
        &[
            "--lock-timeout",
            "250",
            "--statement-timeout",
            "60000",
            "plan",
            "--schema",
            "schema.sql",
            "--format",
            "sql",
        ],
    );
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stdout.starts_with(
            "SET lock_timeout = '250ms';\nSET statement_timeout = '60000ms';\nSET check_function_bodies = false;\nBEGIN;\n"
        ),
        "{}",
        plan.stdout
    );
    let commit = plan.stdout.find("COMMIT;").unwrap();
    let concurrently = plan.stdout.find("CREATE INDEX CONCURRENTLY").unwrap();
    assert!(commit < concurrently, "{}", plan.stdout);
}

#[test]
fn dropping_a_table_is_refused_without_the_flag() {
    let database = TestDatabase::create();
    database
        .connect()
        .batch_execute(
            "CREATE TABLE keep (id int); CREATE TABLE gone (id int); INSERT INTO gone VALUES (1);",
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "schema.sql", "CREATE TABLE keep (id int);");
    let refused = run(
        dir.path(),
        database.url(),
        &["apply", "--schema", "schema.sql"],
    );
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert_eq!(
        refused.stderr,
        "error: refusing to apply: the plan would lose data (gone); pass --allow-data-loss to allow it\n"
    );
    assert_eq!(
        counts(&database),
        [("gone".to_string(), 1), ("keep".to_string(), 0)]
    );
}

/// A real-world schema with its data (`../shared/real-schemas/postgres/NAME`): `check`
/// is clean after loading it, a second copy is no difference, and adding a column and an
/// index (`alter` turns the schema text into that) keeps every row of every table.
fn real_schema_checks_clean_keeps_every_row_and_equals_a_second_copy(
    name: &str,
    alter: impl Fn(&str) -> String,
) {
    let folder = real_schema(name);
    let loaded = TestDatabase::create();
    psql(&loaded, &folder.join("schema.sql"));
    psql(&loaded, &folder.join("data.sql"));
    let dir = tempfile::tempdir().unwrap();
    let schema = folder.join("schema.sql");
    let schema = schema.to_str().unwrap();

    let check = run(dir.path(), loaded.url(), &["check", "--schema", schema]);
    assert_eq!(
        check.code, 0,
        "spurious drift in {name}: {}{}",
        check.stdout, check.stderr
    );

    // A second database loaded from the same file is no difference.
    let copy = TestDatabase::create();
    psql(&copy, &folder.join("schema.sql"));
    let compared = run(dir.path(), loaded.url(), &["plan", "--schema", copy.url()]);
    assert_eq!(compared.code, 0, "{}", compared.stderr);
    assert!(
        compared.stdout.starts_with("No changes.\n"),
        "{}",
        compared.stdout
    );

    // Adding a column and an index keeps every row of every table.
    let before = counts(&loaded);
    assert!(before.iter().all(|(_, rows)| *rows > 0), "{before:?}");
    let original = std::fs::read_to_string(folder.join("schema.sql")).unwrap();
    let changed = alter(&original);
    assert_ne!(changed, original, "the {name} schema text changed upstream");
    let changed_file = write(dir.path(), "changed.sql", &changed);
    let applied = run(
        dir.path(),
        loaded.url(),
        &["apply", "--schema", changed_file.to_str().unwrap()],
    );
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    assert_eq!(counts(&loaded), before);
    let again = run(
        dir.path(),
        loaded.url(),
        &["check", "--schema", changed_file.to_str().unwrap()],
    );
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
}

#[test]
fn chinook_checks_clean_keeps_every_row_and_equals_a_second_copy() {
    real_schema_checks_clean_keeps_every_row_and_equals_a_second_copy("chinook", |schema| {
        schema.replacen(
            "composer VARCHAR(220),",
            "composer VARCHAR(220),\n    rating integer DEFAULT 0 NOT NULL,",
            1,
        ) + "\nCREATE INDEX track_rating_idx ON track (rating);\n"
    });
}

#[test]
fn pagila_checks_clean_keeps_every_row_and_equals_a_second_copy() {
    real_schema_checks_clean_keeps_every_row_and_equals_a_second_copy("pagila", |schema| {
        schema.replacen(
            "    first_name text NOT NULL,\n    last_name text NOT NULL,\n    last_update",
            "    first_name text NOT NULL,\n    last_name text NOT NULL,\n    nickname text DEFAULT '' NOT NULL,\n    last_update",
            1,
        ) + "\nCREATE INDEX idx_actor_nickname ON public.actor USING btree (nickname);\n"
    });
}

/// `apply` of a real-world `schema.sql` on an empty database gives the catalog that
/// loading the file with psql gives, compared by catalog queries that do not use our
/// own model: relations (with partitions, materialized views and index definitions),
/// constraints, columns, partition bounds, triggers, functions, aggregates and domains.
fn real_schema_applied_to_an_empty_database_gives_the_catalog_of_loading_it(name: &str) {
    let folder = real_schema(name);
    let loaded = TestDatabase::create();
    psql(&loaded, &folder.join("schema.sql"));
    let applied_db = TestDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let schema = folder.join("schema.sql");
    let applied = run(
        dir.path(),
        applied_db.url(),
        &["apply", "--schema", schema.to_str().unwrap()],
    );
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let catalog = |database: &TestDatabase| -> Vec<String> {
        database
            .connect()
            .query(
                "SELECT c.relname || ' ' || c.relkind::text || ' ' || coalesce(pg_get_indexdef(c.oid), '')
                        || ' ' || coalesce(pg_get_expr(c.relpartbound, c.oid), '')
                        || ' ' || coalesce(pg_get_partkeydef(c.oid), '')
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'public' AND c.relname NOT LIKE 'schemasync%'
                 UNION ALL
                 SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
                 FROM pg_constraint WHERE connamespace = 'public'::regnamespace
                   AND conrelid::regclass::text NOT LIKE 'schemasync%'
                 UNION ALL
                 SELECT attrelid::regclass::text || '.' || attname || ' ' || format_type(atttypid, atttypmod)
                        || ' ' || attnotnull::text || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
                 FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                 WHERE attnum > 0 AND NOT attisdropped
                   AND attrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace
                                    AND relkind IN ('r', 'p', 'v', 'm') AND relname NOT LIKE 'schemasync%')
                 UNION ALL
                 SELECT 'trigger ' || pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
                 UNION ALL
                 SELECT 'routine ' || p.oid::regprocedure::text || ' ' || p.prokind::text
                        || ' ' || CASE WHEN p.prokind = 'a' THEN '' ELSE pg_get_functiondef(p.oid) END
                 FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
                 UNION ALL
                 SELECT 'type ' || t.typname || ' ' || t.typtype::text || ' ' || format_type(t.typbasetype, t.typtypmod)
                        || ' ' || coalesce(t.typdefault, '') || ' ' || t.typnotnull::text
                 FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('d', 'e')
                 ORDER BY 1",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    assert_eq!(catalog(&applied_db), catalog(&loaded));
}

#[test]
fn chinook_applied_to_an_empty_database_gives_the_catalog_of_loading_the_file() {
    real_schema_applied_to_an_empty_database_gives_the_catalog_of_loading_it("chinook");
}

#[test]
fn pagila_applied_to_an_empty_database_gives_the_catalog_of_loading_the_file() {
    real_schema_applied_to_an_empty_database_gives_the_catalog_of_loading_it("pagila");
}

#[test]
fn versioned_migrations_move_a_postgres_database_up_and_down() {
    let database = TestDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let url = database.url();
    assert_eq!(run(dir.path(), url, &["init"]).code, 0);
    std::fs::write(
        dir.path().join("migrations/aaaa00000001_users.toml"),
        r#"id = "aaaa00000001"
parents = []
message = "create users"

[[up.operations]]
kind = "create_table"
[up.operations.table]
name = "users"
[[up.operations.table.columns]]
name = "id"
type = "integer"
nullable = false
[up.operations.table.primary_key]
name = "users_pkey"
columns = ["id"]

[[down.operations]]
kind = "drop_table"
[down.operations.table]
name = "users"
[[down.operations.table.columns]]
name = "id"
type = "integer"
nullable = false
[down.operations.table.primary_key]
name = "users_pkey"
columns = ["id"]
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("migrations/bbbb00000002_email.toml"),
        r#"id = "bbbb00000002"
parents = ["aaaa00000001"]
message = "add email"

[up.sql]
postgres = "ALTER TABLE users ADD COLUMN email text; CREATE INDEX users_email ON users (email);"

[down.sql]
postgres = "DROP INDEX users_email; ALTER TABLE users DROP COLUMN email;"
"#,
    )
    .unwrap();

    let up = run(dir.path(), url, &["upgrade", "head"]);
    assert_eq!(up.code, 0, "{}{}", up.stdout, up.stderr);
    database
        .connect()
        .batch_execute("INSERT INTO users VALUES (1, 'a@x')")
        .unwrap();
    let current = run(dir.path(), url, &["current"]);
    assert!(
        current.stdout.contains("bbbb00000002"),
        "{}",
        current.stdout
    );
    let down = run(dir.path(), url, &["downgrade", "-1"]);
    assert_eq!(down.code, 0, "{}{}", down.stdout, down.stderr);
    let columns: Vec<String> = database
        .connect()
        .query(
            "SELECT attname::text FROM pg_attribute WHERE attrelid = 'users'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(columns, ["id"]);
    let rows: i64 = database
        .connect()
        .query_one("SELECT count(*) FROM users", &[])
        .unwrap()
        .get(0);
    assert_eq!(
        rows, 1,
        "the row inserted between steps survives where its columns exist"
    );
    let versions: Vec<String> = database
        .connect()
        .query("SELECT revision FROM public.schemasync_version", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, ["aaaa00000001"]);
}

#[test]
fn autogenerated_revisions_upgrade_downgrade_and_verify_on_postgres() {
    let database = TestDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let url = database.url();
    assert_eq!(run(dir.path(), url, &["init"]).code, 0);
    let schemas = [
        "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);",
        "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL, name text);
         CREATE INDEX users_email ON users (email);",
        "CREATE TYPE mood AS ENUM ('sad', 'happy');
         CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL, name text);
         CREATE INDEX users_email ON users (email);
         CREATE TABLE posts (id int PRIMARY KEY, user_id bigint REFERENCES users(id), body text);",
    ];
    for (n, schema) in schemas.iter().enumerate() {
        let file = format!("v{n}.sql");
        write(dir.path(), &file, schema);
        let generated = run(
            dir.path(),
            url,
            &[
                "revision",
                "-m",
                &format!("step {n}"),
                "--autogenerate",
                "--schema",
                &file,
            ],
        );
        assert_eq!(
            generated.code, 0,
            "{}{}",
            generated.stdout, generated.stderr
        );
    }
    let up = run(dir.path(), url, &["upgrade", "head"]);
    assert_eq!(up.code, 0, "{}{}", up.stdout, up.stderr);
    let check = run(dir.path(), url, &["check", "--schema", "v2.sql"]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    database
        .connect()
        .batch_execute("INSERT INTO users (email, name) VALUES ('a@x', 'Ann')")
        .unwrap();
    let down = run(dir.path(), url, &["downgrade", "-1"]);
    assert_eq!(down.code, 0, "{}{}", down.stdout, down.stderr);
    let check = run(dir.path(), url, &["check", "--schema", "v1.sql"]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    let kept: String = database
        .connect()
        .query_one("SELECT email || ':' || name FROM users", &[])
        .unwrap()
        .get(0);
    assert_eq!(kept, "a@x:Ann");
    let verify = run(dir.path(), url, &["verify"]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
}

/// Three autogenerated revisions in a fresh project against `database`; their ids in order.
fn three_revisions(dir: &Path, url: &str) -> Vec<String> {
    assert_eq!(run(dir, url, &["init"]).code, 0);
    let schemas = [
        "CREATE TABLE items (id int PRIMARY KEY);",
        "CREATE TABLE items (id int PRIMARY KEY, label text);",
        "CREATE TABLE items (id int PRIMARY KEY, label text, price numeric(10,2) DEFAULT 0 NOT NULL);
         CREATE INDEX items_label ON items (label);",
    ];
    let mut ids = Vec::new();
    for (n, schema) in schemas.iter().enumerate() {
        let file = format!("v{n}.sql");
        write(dir, &file, schema);
        let out = run(
            dir,
            url,
            &[
                "revision",
                "-m",
                &format!("v{n}"),
                "--autogenerate",
                "--schema",
                &file,
            ],
        );
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        let generated = out.stdout.lines().next().unwrap();
        let file_name = generated.rsplit('/').next().unwrap();
        ids.push(file_name.split('_').next().unwrap().to_string());
    }
    ids
}

fn columns(database: &TestDatabase) -> Vec<String> {
    database
        .connect()
        .query(
            "SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass('items') AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn the_scripted_migration_session_runs_on_postgres() {
    let database = TestDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let url = database.url();
    let ids = three_revisions(dir.path(), url);

    let offline = run(dir.path(), url, &["upgrade", "head", "--sql"]);
    assert_eq!(offline.code, 0, "{}", offline.stderr);
    assert!(
        offline.stdout.contains("CREATE TABLE"),
        "{}",
        offline.stdout
    );
    assert!(columns(&database).is_empty(), "--sql changed nothing");

    assert_eq!(run(dir.path(), url, &["upgrade", "head"]).code, 0);
    assert!(run(dir.path(), url, &["current"]).stdout.contains(&ids[2]));
    database
        .connect()
        .batch_execute("INSERT INTO items (id, label, price) VALUES (1, 'pen', 2.5)")
        .unwrap();
    assert_eq!(run(dir.path(), url, &["downgrade", "-1"]).code, 0);
    assert_eq!(columns(&database), ["id", "label"]);
    assert_eq!(run(dir.path(), url, &["downgrade", "base"]).code, 0);
    assert!(columns(&database).is_empty());
    assert_eq!(run(dir.path(), url, &["upgrade", "+1"]).code, 0);
    assert_eq!(columns(&database), ["id"]);
    let prefix = &ids[2][..6];
    assert_eq!(run(dir.path(), url, &["upgrade", prefix]).code, 0);
    assert_eq!(columns(&database), ["id", "label", "price"]);
    let history = run(dir.path(), url, &["history", "--verbose"]);
    assert_eq!(history.code, 0, "{}", history.stderr);
    for id in &ids {
        assert!(history.stdout.contains(id.as_str()), "{}", history.stdout);
    }
    let unknown = run(dir.path(), url, &["upgrade", "ffffffffffff"]);
    assert_eq!(unknown.code, 2);
    assert_eq!(unknown.stderr.lines().count(), 1, "{}", unknown.stderr);
}

#[test]
fn six_concurrent_upgrades_on_postgres_apply_each_revision_once() {
    let database = TestDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let url = database.url().to_string();
    three_revisions(dir.path(), &url);
    // All six start before any is waited for.
    let children: Vec<_> = (0..6)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_schemasync"))
                .current_dir(dir.path())
                .args(["--database-url", &url, "upgrade", "head"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let recorded: i64 = database
        .connect()
        .query_one("SELECT count(*) FROM public.schemasync_version", &[])
        .unwrap()
        .get(0);
    assert_eq!(recorded, 3);
    assert_eq!(columns(&database), ["id", "label", "price"]);
}

#[test]
fn stamp_head_on_a_hand_built_postgres_database_makes_upgrade_a_no_op() {
    let database = TestDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let url = database.url();
    three_revisions(dir.path(), url);
    database
        .connect()
        .batch_execute(
            "CREATE TABLE items (id int PRIMARY KEY, label text, price numeric(10,2) DEFAULT 0 NOT NULL);
             CREATE INDEX items_label ON items (label);",
        )
        .unwrap();
    assert_eq!(run(dir.path(), url, &["stamp", "head"]).code, 0);
    let upgrade = run(dir.path(), url, &["upgrade", "head"]);
    assert_eq!(upgrade.code, 0, "{}", upgrade.stderr);
    assert!(
        !upgrade.stdout.contains("Running upgrade"),
        "{}",
        upgrade.stdout
    );
    let check = run(dir.path(), url, &["check", "--schema", "v2.sql"]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
}

#[test]
fn a_plan_that_drops_a_column_backs_up_first_and_restore_brings_the_data_back() {
    let database = TestDatabase::create();
    database
        .connect()
        .batch_execute(
            "CREATE TABLE notes (id int PRIMARY KEY, body text, secret text);
             INSERT INTO notes VALUES (1, 'a', 's1'), (2, 'b', 's2');",
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = url_with_password(&database);
    let schema = write(
        dir.path(),
        "schema.sql",
        "CREATE TABLE notes (id int PRIMARY KEY, body text);",
    );
    let schema = schema.to_str().unwrap();

    let applied = run(
        dir.path(),
        &url,
        &["apply", "--schema", schema, "--allow-data-loss"],
    );
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let backup_line = applied
        .stdout
        .lines()
        .find(|l| l.starts_with("Backup: "))
        .unwrap_or_else(|| panic!("no backup reported:\n{}", applied.stdout));
    let backup = dir.path().join(backup_line.trim_start_matches("Backup: "));
    assert!(backup.is_file(), "{}", backup.display());
    assert!(!applied.stdout.contains("s3cret") && !applied.stderr.contains("s3cret"));
    let columns = || {
        database
            .connect()
            .query(
                "SELECT string_agg(id || ':' || to_jsonb(n)::text, ' ' ORDER BY id) FROM notes n",
                &[],
            )
            .unwrap()[0]
            .get::<_, String>(0)
    };
    assert!(!columns().contains("secret"), "{}", columns());

    // An unrelated backup without a file name goes to the current folder too.
    let explicit = run(dir.path(), &url, &["backup", "--to", "manual.dump"]);
    assert_eq!(explicit.code, 0, "{}", explicit.stderr);
    assert!(dir.path().join("manual.dump").is_file());

    let restored = run(dir.path(), &url, &["restore", backup.to_str().unwrap()]);
    assert_eq!(restored.code, 0, "{}{}", restored.stdout, restored.stderr);
    assert_eq!(
        columns(),
        r#"1:{"id": 1, "body": "a", "secret": "s1"} 2:{"id": 2, "body": "b", "secret": "s2"}"#
    );
    // restore saved the database it replaced first
    assert!(
        restored.stdout.contains("Backup of the current database: "),
        "{}",
        restored.stdout
    );
}

#[test]
fn a_plan_that_only_adds_takes_no_backup_on_postgres() {
    let database = TestDatabase::create();
    let dir = tempfile::tempdir().unwrap();
    let schema = write(
        dir.path(),
        "schema.sql",
        "CREATE TABLE t (id int PRIMARY KEY);",
    );
    let applied = run(
        dir.path(),
        database.url(),
        &["apply", "--schema", schema.to_str().unwrap()],
    );
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert!(!applied.stdout.contains("Backup"), "{}", applied.stdout);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only the schema file"
    );
}

#[test]
fn objects_the_driver_does_not_manage_are_listed_once_by_plan_and_left_alone() {
    let database = TestDatabase::create();
    database
        .connect()
        .batch_execute(
            "CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE log (id int);
             CREATE RULE t_log AS ON INSERT TO t DO ALSO INSERT INTO log VALUES (NEW.id);
             CREATE PUBLICATION t_feed FOR TABLE t;
             CREATE TEXT SEARCH DICTIONARY my_simple (TEMPLATE = pg_catalog.simple);",
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let schema = write(
        dir.path(),
        "schema.sql",
        "CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE log (id int, at timestamptz);",
    );
    let schema = schema.to_str().unwrap();
    let plan = run(dir.path(), database.url(), &["plan", "--schema", schema]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    for object in [
        "  - text search dictionary my_simple\n",
        "  - publication t_feed\n",
        "  - rule t_log on t\n",
    ] {
        assert_eq!(plan.stdout.matches(object).count(), 1, "{}", plan.stdout);
    }
    // Only the column is planned: nothing the driver does not manage is dropped.
    assert!(!plan.stdout.contains("DROP"), "{}", plan.stdout);
    let applied = run(dir.path(), database.url(), &["apply", "--schema", schema]);
    assert_eq!(applied.code, 0, "{}{}", applied.stdout, applied.stderr);
    let check = run(dir.path(), database.url(), &["check", "--schema", schema]);
    assert_eq!(check.code, 0, "{}", check.stdout);
    let survivors: i64 = database
        .connect()
        .query_one(
            "SELECT (SELECT count(*) FROM pg_rewrite WHERE rulename = 't_log')
                  + (SELECT count(*) FROM pg_publication WHERE pubname = 't_feed')
                  + (SELECT count(*) FROM pg_ts_dict WHERE dictname = 'my_simple')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(survivors, 3);
}
