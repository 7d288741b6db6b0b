//! End-to-end tests of the `schemasync` binary against real SQLite files.
//!
//! Each test works in its own temporary folder, runs the built binary there with a
//! clean environment, and asserts on its exit code, its output and the database file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rusqlite::Connection;
use std::path::PathBuf;
use std::process::Command;

const USERS_V1: &str = "CREATE TABLE users (\n  id INTEGER PRIMARY KEY,\n  email TEXT NOT NULL\n);\nCREATE INDEX ix_users_email ON users (email);\n";

const USERS_V2_WITH_NAME: &str = "CREATE TABLE users (\n  id INTEGER PRIMARY KEY,\n  email TEXT NOT NULL,\n  name TEXT\n);\nCREATE INDEX ix_users_email ON users (email);\n";

const USERS_WITHOUT_EMAIL: &str = "CREATE TABLE users (\n  id INTEGER PRIMARY KEY\n);\n";

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

/// A temporary project folder in which the binary runs.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        Project {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Runs `schemasync ARGS` in the project folder with no database variables set.
    fn run(&self, args: &[&str]) -> Output {
        self.run_with_env(args, &[])
    }

    fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_schemasync"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("SCHEMASYNC_DATABASE_URL")
            .env_remove("DATABASE_URL")
            .env_remove("RUST_BACKTRACE");
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        Output {
            code: output.status.code().unwrap(),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }

    /// `schemasync --database-url sqlite://app.db ARGS`.
    fn app(&self, args: &[&str]) -> Output {
        let mut all = vec!["--database-url", "sqlite://app.db"];
        all.extend_from_slice(args);
        self.run(&all)
    }

    fn db(&self) -> Connection {
        Connection::open(self.path("app.db")).unwrap()
    }

    /// Applies `sql` to app.db through the CLI and inserts `rows` into users.
    fn given_users(&self, sql: &str, inserts: &str) {
        self.write("v1.sql", sql);
        let out = self.app(&["apply", "--schema", "v1.sql"]);
        assert_eq!(out.code, 0, "apply failed: {}", out.stderr);
        self.db().execute_batch(inserts).unwrap();
    }

    /// Backup files in the project folder that are not in `before`.
    fn backups_since(&self, before: &[String]) -> Vec<String> {
        self.backups()
            .into_iter()
            .filter(|name| !before.contains(name))
            .collect()
    }

    fn backups(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".bak"))
            .collect();
        names.sort();
        names
    }
}

fn columns(db: &Connection, table: &str) -> Vec<String> {
    let mut statement = db
        .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
        .unwrap();
    let names = statement
        .query_map([], |row| row.get::<_, String>(0))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    names
}

fn count(db: &Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |row| row.get(0)).unwrap()
}

fn numbered_steps(stdout: &str) -> usize {
    stdout
        .lines()
        .filter(|line| {
            line.split_once(". ")
                .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        })
        .count()
}

fn assert_one_error_line(out: &Output) {
    assert_eq!(out.stderr.lines().count(), 1, "stderr: {:?}", out.stderr);
    assert!(
        out.stderr.starts_with("error: "),
        "stderr: {:?}",
        out.stderr
    );
}

#[test]
fn apply_creates_a_new_database_from_a_sql_file() {
    let project = Project::new();
    project.write("schema.sql", USERS_V1);

    let out = project.app(&["apply", "--schema", "schema.sql"]);

    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let steps = numbered_steps(&out.stdout);
    assert!(steps >= 2, "stdout: {}", out.stdout);
    let plural = if steps == 1 { "step" } else { "steps" };
    assert!(
        out.stdout
            .ends_with(&format!("Applied {steps} {plural}.\n")),
        "stdout: {}",
        out.stdout
    );
    assert!(
        out.stdout.contains("CREATE TABLE"),
        "stdout: {}",
        out.stdout
    );
    assert_eq!(out.stderr, "");
    let db = project.db();
    assert_eq!(columns(&db, "users"), ["id", "email"]);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'ix_users_email'"
        ),
        1
    );
}

#[test]
fn applying_the_same_schema_again_changes_nothing() {
    let project = Project::new();
    project.given_users(USERS_V1, "INSERT INTO users (email) VALUES ('a@x');");
    let before = std::fs::read(project.path("app.db")).unwrap();

    let out = project.app(&["apply", "--schema", "v1.sql"]);

    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert_eq!(out.stdout, "No changes.\n");
    assert_eq!(std::fs::read(project.path("app.db")).unwrap(), before);
}

#[test]
fn plan_prints_numbered_steps_with_sql_and_exits_zero() {
    let project = Project::new();
    project.given_users(USERS_V1, "");
    project.write("v2.sql", USERS_V2_WITH_NAME);

    let out = project.app(&["plan", "--schema", "v2.sql"]);

    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert_eq!(
        out.stdout,
        "1. add column users.name\n      ALTER TABLE \"users\" ADD COLUMN \"name\" TEXT;\n\
         Plan: 1 step, no hazards.\n"
    );
    assert_eq!(columns(&project.db(), "users"), ["id", "email"]);
}

#[test]
fn plan_says_no_changes_when_the_database_matches() {
    let project = Project::new();
    project.given_users(USERS_V1, "");

    let text = project.app(&["plan", "--schema", "v1.sql"]);
    let sql = project.app(&["plan", "--schema", "v1.sql", "--format", "sql"]);

    assert_eq!((text.code, text.stdout.as_str()), (0, "No changes.\n"));
    assert_eq!((sql.code, sql.stdout.as_str()), (0, "-- No changes.\n"));
}

#[test]
fn plan_lists_data_loss_hazards_and_still_exits_zero() {
    let project = Project::new();
    project.given_users(USERS_V1, "INSERT INTO users (email) VALUES ('a@x');");
    project.write("v2.sql", USERS_WITHOUT_EMAIL);

    let out = project.app(&["plan", "--schema", "v2.sql"]);

    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert!(
        out.stdout
            .contains("\n   ! data_loss: users.email — drops column users.email and its values\n"),
        "stdout: {}",
        out.stdout
    );
}

#[test]
fn plan_json_is_the_serde_form_of_the_plan() {
    let project = Project::new();
    project.given_users(USERS_V1, "");
    project.write("v2.sql", USERS_V2_WITH_NAME);

    let out = project.app(&["plan", "--schema", "v2.sql", "--format", "json"]);

    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(plan["dialect"], "sqlite");
    assert_eq!(plan["changes"][0]["kind"], "add_column");
    assert_eq!(plan["changes"][0]["table"], "users");
    assert_eq!(plan["changes"][0]["column"]["name"], "name");
    let steps = plan["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0]["transactional"], true);
    assert!(steps[0]["sql"][0]
        .as_str()
        .unwrap()
        .starts_with("ALTER TABLE"));
}

#[test]
fn plan_against_a_missing_database_plans_from_empty_and_creates_no_file() {
    let project = Project::new();
    project.write("schema.sql", USERS_V1);

    let out = project.app(&["plan", "--schema", "schema.sql"]);

    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert!(
        out.stdout.contains("CREATE TABLE"),
        "stdout: {}",
        out.stdout
    );
    assert!(!project.path("app.db").exists());
}

#[test]
fn check_exits_zero_in_sync_and_one_with_the_drift() {
    let project = Project::new();
    project.given_users(USERS_V1, "");
    project.write("v2.sql", USERS_V2_WITH_NAME);

    let clean = project.app(&["check", "--schema", "v1.sql"]);
    let drift = project.app(&["check", "--schema", "v2.sql"]);

    assert_eq!(clean.code, 0, "stderr: {}", clean.stderr);
    assert_eq!(clean.stdout, "No drift: the database matches v1.sql.\n");
    assert_eq!(drift.code, 1, "stderr: {}", drift.stderr);
    assert_eq!(
        drift.stdout,
        "Drift: the database differs from v2.sql (1 change):\n  - add column users.name\n"
    );
    assert_eq!(drift.stderr, "");
}

#[test]
fn data_loss_is_refused_with_exit_one_and_the_file_unchanged() {
    let project = Project::new();
    project.given_users(
        USERS_V1,
        "INSERT INTO users (email) VALUES ('a@x'), ('b@x');",
    );
    project.write("v2.sql", USERS_WITHOUT_EMAIL);
    let before = std::fs::read(project.path("app.db")).unwrap();
    let backups_before = project.backups();

    let out = project.app(&["apply", "--schema", "v2.sql"]);

    assert_eq!(
        out.code, 1,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert_one_error_line(&out);
    assert!(
        out.stderr.contains("--allow-data-loss"),
        "stderr: {}",
        out.stderr
    );
    assert_eq!(std::fs::read(project.path("app.db")).unwrap(), before);
    assert_eq!(project.backups_since(&backups_before), Vec::<String>::new());
}

#[test]
fn rows_that_violate_a_new_not_null_are_refused_with_exit_one() {
    let project = Project::new();
    project.given_users(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, nick TEXT);\n",
        "INSERT INTO users (nick) VALUES ('a'), (NULL);",
    );
    project.write(
        "v2.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, nick TEXT NOT NULL);\n",
    );
    let before = std::fs::read(project.path("app.db")).unwrap();

    let out = project.app(&["apply", "--schema", "v2.sql"]);

    assert_eq!(
        out.code, 1,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert_one_error_line(&out);
    assert_eq!(std::fs::read(project.path("app.db")).unwrap(), before);
}

#[test]
fn allowed_data_loss_is_applied_after_a_named_backup() {
    let project = Project::new();
    project.given_users(
        USERS_V1,
        "INSERT INTO users (email) VALUES ('a@x'), ('b@x');",
    );
    project.write("v2.sql", USERS_WITHOUT_EMAIL);
    let before = project.backups();

    let out = project.app(&["apply", "--schema", "v2.sql", "--allow-data-loss"]);

    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let backups = project.backups_since(&before);
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert!(backups[0].starts_with("app.db."), "{backups:?}");
    assert_eq!(
        out.stdout,
        format!(
            "1. drop index ix_users_email on users\n      DROP INDEX IF EXISTS \"ix_users_email\";\n\
             2. drop column users.email\n      ALTER TABLE \"users\" DROP COLUMN \"email\";\n\
             \x20  ! data_loss: users.email — drops column users.email and its values\n\
             Plan: 2 steps, 1 hazard (data_loss).\nBackup: {}\nApplied 2 steps.\n",
            backups[0]
        )
    );
    let db = project.db();
    assert_eq!(columns(&db, "users"), ["id"]);
    assert_eq!(count(&db, "SELECT count(*) FROM users"), 2);
    let saved = Connection::open(project.path(&backups[0])).unwrap();
    assert_eq!(columns(&saved, "users"), ["id", "email"]);
    assert_eq!(count(&saved, "SELECT count(*) FROM users"), 2);
}

#[test]
fn no_backup_applies_without_writing_one() {
    let project = Project::new();
    project.given_users(USERS_V1, "INSERT INTO users (email) VALUES ('a@x');");
    project.write("v2.sql", USERS_WITHOUT_EMAIL);
    let before = project.backups();

    let out = project.app(&[
        "apply",
        "--schema",
        "v2.sql",
        "--allow-data-loss",
        "--no-backup",
    ]);

    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert!(!out.stdout.contains("Backup:"), "stdout: {}", out.stdout);
    assert_eq!(project.backups_since(&before), Vec::<String>::new());
    assert_eq!(columns(&project.db(), "users"), ["id"]);
}

#[test]
fn backup_dir_from_the_config_file_is_used() {
    let project = Project::new();
    project.write(
        "schemasync.toml",
        "database_url = \"sqlite://app.db\"\nbackup_dir = \"backups\"\n",
    );
    project.write("v1.sql", USERS_V1);
    assert_eq!(project.run(&["apply", "--schema", "v1.sql"]).code, 0);
    project.write("v2.sql", USERS_WITHOUT_EMAIL);
    let in_backups = || -> Vec<String> {
        std::fs::read_dir(project.path("backups"))
            .map(|dir| {
                dir.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let before = in_backups();

    let out = project.run(&["apply", "--schema", "v2.sql", "--allow-data-loss"]);

    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let saved: Vec<String> = in_backups()
        .into_iter()
        .filter(|name| !before.contains(name))
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert!(saved[0].starts_with("app.db.") && saved[0].ends_with(".bak"));
    assert!(
        out.stdout
            .contains(&format!("Backup: backups/{}\n", saved[0])),
        "stdout: {}",
        out.stdout
    );
    assert_eq!(project.backups(), Vec::<String>::new());
}

#[test]
fn dry_run_checks_and_changes_nothing() {
    let project = Project::new();
    project.given_users(USERS_V1, "INSERT INTO users (email) VALUES ('a@x');");
    project.write("v2.sql", USERS_V2_WITH_NAME);
    let before = std::fs::read(project.path("app.db")).unwrap();

    let out = project.app(&["apply", "--schema", "v2.sql", "--dry-run"]);

    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert!(
        out.stdout
            .ends_with("Dry run: 1 step checked, nothing changed.\n"),
        "stdout: {}",
        out.stdout
    );
    assert_eq!(std::fs::read(project.path("app.db")).unwrap(), before);
}

#[test]
fn malformed_schema_file_is_exit_two_with_one_error_line() {
    let project = Project::new();
    project.given_users(USERS_V1, "");
    project.write("broken.toml", "[[tables]\nname = \"users\"\n");

    let out = project.app(&["apply", "--schema", "broken.toml"]);

    assert_eq!(out.code, 2, "stdout: {}", out.stdout);
    assert_one_error_line(&out);
    assert!(out.stderr.contains("broken.toml"), "stderr: {}", out.stderr);
    assert_eq!(out.stdout, "");
}

#[test]
fn failed_apply_to_a_new_database_leaves_no_file_behind() {
    let project = Project::new();
    project.write(
        "broken.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY,,);\n",
    );

    let out = project.app(&["apply", "--schema", "broken.sql"]);

    assert_eq!(out.code, 2, "stdout: {}", out.stdout);
    assert_one_error_line(&out);
    assert!(!project.path("app.db").exists());
}

#[test]
fn unknown_command_is_exit_two() {
    let project = Project::new();

    let out = project.app(&["frobnicate"]);

    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("frobnicate"), "stderr: {}", out.stderr);
}

#[test]
fn missing_database_file_is_an_error_and_is_not_created() {
    let project = Project::new();

    let out = project.app(&["status"]);

    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        "error: database file app.db does not exist (`apply` creates it)\n"
    );
    assert!(!project.path("app.db").exists());
}

#[test]
fn inspect_sql_output_is_a_schema_that_checks_clean() {
    let project = Project::new();
    project.given_users(USERS_V1, "");

    let out = project.app(&["inspect"]);

    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert!(
        out.stdout.starts_with("CREATE TABLE \"users\" ("),
        "stdout: {}",
        out.stdout
    );
    assert!(
        out.stdout
            .ends_with(");\n\nCREATE INDEX \"ix_users_email\" ON \"users\" (\"email\");\n"),
        "stdout: {}",
        out.stdout
    );
    project.write("inspected.sql", &out.stdout);
    let check = project.app(&["check", "--schema", "inspected.sql"]);
    assert_eq!(check.code, 0, "stdout: {}", check.stdout);
}

#[test]
fn inspect_renders_the_model_as_json_toml_and_yaml() {
    let project = Project::new();
    project.given_users(USERS_V1, "");

    let json = project.app(&["inspect", "--format", "json"]);
    let toml = project.app(&["inspect", "--format", "toml"]);
    let yaml = project.app(&["inspect", "--format", "yaml"]);

    assert_eq!(json.code, 0, "stderr: {}", json.stderr);
    let model: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(model["tables"][0]["name"], "users");
    assert_eq!(model["tables"][0]["columns"][1]["name"], "email");
    assert_eq!(toml.code, 0, "stderr: {}", toml.stderr);
    assert!(toml.stdout.contains("name = \"users\""), "{}", toml.stdout);
    assert_eq!(yaml.code, 0, "stderr: {}", yaml.stderr);
    assert!(yaml.stdout.contains("name: users"), "{}", yaml.stdout);
    for (name, text) in [
        ("m.json", &json.stdout),
        ("m.toml", &toml.stdout),
        ("m.yaml", &yaml.stdout),
    ] {
        project.write(name, text);
        let check = project.app(&["check", "--schema", name]);
        assert_eq!(check.code, 0, "{name}: {}{}", check.stdout, check.stderr);
    }
}

#[test]
fn status_shows_journal_mode_and_row_counts() {
    let project = Project::new();
    project.given_users(
        "CREATE TABLE users (id INTEGER PRIMARY KEY);\nCREATE TABLE posts (id INTEGER PRIMARY KEY);\n",
        "INSERT INTO users DEFAULT VALUES; INSERT INTO users DEFAULT VALUES; INSERT INTO posts DEFAULT VALUES;",
    );

    let text = project.app(&["status"]);
    let json = project.app(&["status", "--format", "json"]);

    assert_eq!(text.code, 0, "stderr: {}", text.stderr);
    assert_eq!(
        text.stdout,
        format!(
            "Database: sqlite://app.db\nDialect: SQLite\njournal_mode: delete\nsqlite_version: {}\nTables (2):\n  users  2 rows\n  posts  1 row\n",
            rusqlite::version()
        )
    );
    assert_eq!(json.code, 0, "stderr: {}", json.stderr);
    let status: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        status,
        serde_json::json!({
            "database": "sqlite://app.db",
            "dialect": "sqlite",
            "properties": {"journal_mode": "delete", "sqlite_version": rusqlite::version()},
            "tables": [{"name": "users", "rows": 2}, {"name": "posts", "rows": 1}]
        })
    );
}

#[test]
fn status_reports_wal_journal_mode_as_the_database_has_it() {
    let project = Project::new();
    project.given_users(USERS_V1, "PRAGMA journal_mode = wal;");

    let out = project.app(&["status"]);

    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert!(
        out.stdout.contains("\njournal_mode: wal\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn backup_then_restore_brings_back_the_rows() {
    let project = Project::new();
    project.given_users(USERS_V1, "INSERT INTO users (email) VALUES ('a@x');");

    let backup = project.app(&["backup", "--to", "saved.db"]);
    project
        .db()
        .execute_batch("INSERT INTO users (email) VALUES ('late@x');")
        .unwrap();
    let restore = project.app(&["restore", "saved.db"]);

    assert_eq!(backup.code, 0, "stderr: {}", backup.stderr);
    assert_eq!(backup.stdout, "Backup written to saved.db.\n");
    assert_eq!(restore.code, 0, "stderr: {}", restore.stderr);
    let lines: Vec<&str> = restore.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "stdout: {}", restore.stdout);
    assert!(lines[0].starts_with("Backup of the current database: "));
    assert_eq!(lines[1], "Restored saved.db into sqlite://app.db.");
    assert_eq!(count(&project.db(), "SELECT count(*) FROM users"), 1);
    let safety = lines[0].trim_start_matches("Backup of the current database: ");
    assert!(safety.ends_with(".bak"), "{safety}");
    let saved = Connection::open(project.path(safety)).unwrap();
    assert_eq!(count(&saved, "SELECT count(*) FROM users"), 2);
}

#[test]
fn backup_without_to_writes_a_named_file_beside_the_database() {
    let project = Project::new();
    project.given_users(USERS_V1, "INSERT INTO users (email) VALUES ('a@x');");
    let before = project.backups();

    let out = project.app(&["backup"]);

    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let backups = project.backups_since(&before);
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert!(backups[0].starts_with("app.db."), "{backups:?}");
    assert!(
        out.stdout.starts_with("Backup written to "),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.ends_with(&format!("{}.\n", backups[0])),
        "{}",
        out.stdout
    );
    let saved = Connection::open(project.path(&backups[0])).unwrap();
    assert_eq!(count(&saved, "SELECT count(*) FROM users"), 1);
}

#[test]
fn backup_never_overwrites_an_existing_file() {
    let project = Project::new();
    project.given_users(USERS_V1, "");
    project.write("saved.db", "precious");

    let out = project.app(&["backup", "--to", "saved.db"]);

    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        "error: backup file saved.db already exists; choose another name\n"
    );
    assert_eq!(
        std::fs::read_to_string(project.path("saved.db")).unwrap(),
        "precious"
    );
}

#[test]
fn restore_of_a_missing_file_is_an_error() {
    let project = Project::new();
    project.given_users(USERS_V1, "");

    let out = project.app(&["restore", "nope.bak"]);

    assert_eq!(out.code, 2);
    assert_eq!(out.stderr, "error: backup file nope.bak does not exist\n");
}

/// Four databases, each naming itself in a one-row table, for precedence tests.
fn project_with_four_databases() -> Project {
    let project = Project::new();
    for name in ["flag", "env1", "env2", "conf"] {
        Connection::open(project.path(&format!("{name}.db")))
            .unwrap()
            .execute_batch(&format!("CREATE TABLE only_in_{name} (id INTEGER);"))
            .unwrap();
    }
    project.write("schemasync.toml", "database_url = \"sqlite://conf.db\"\n");
    project
}

fn database_in_status(out: &Output) -> String {
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    out.stdout.lines().next().unwrap().to_string()
}

#[test]
fn database_url_precedence_is_flag_then_env_then_config() {
    let project = project_with_four_databases();
    let both_env = [
        ("SCHEMASYNC_DATABASE_URL", "sqlite://env1.db"),
        ("DATABASE_URL", "sqlite://env2.db"),
    ];

    let flag = project.run_with_env(&["--database-url", "sqlite://flag.db", "status"], &both_env);
    let schemasync_var = project.run_with_env(&["status"], &both_env);
    let database_var = project.run_with_env(&["status"], &both_env[1..]);
    let config = project.run(&["status"]);

    assert_eq!(database_in_status(&flag), "Database: sqlite://flag.db");
    assert_eq!(
        database_in_status(&schemasync_var),
        "Database: sqlite://env1.db"
    );
    assert_eq!(
        database_in_status(&database_var),
        "Database: sqlite://env2.db"
    );
    assert_eq!(database_in_status(&config), "Database: sqlite://conf.db");
    assert!(
        config.stdout.contains("  only_in_conf  0 rows\n"),
        "{}",
        config.stdout
    );
}

#[test]
fn explicit_config_file_must_exist() {
    let project = Project::new();

    let out = project.run(&["--config", "missing.toml", "status"]);

    assert_eq!(out.code, 2);
    assert_one_error_line(&out);
    assert!(out.stderr.contains("missing.toml"), "{}", out.stderr);
}

#[test]
fn no_database_anywhere_says_how_to_give_one() {
    let project = Project::new();

    let out = project.run(&["status"]);

    assert_eq!(out.code, 2);
    assert_one_error_line(&out);
    assert!(out.stderr.contains("--database-url"), "{}", out.stderr);
}

#[test]
fn a_failed_postgres_login_is_one_line_that_never_shows_the_password() {
    let project = Project::new();

    let out = project.run(&[
        "--database-url",
        "postgres://no_such_role_schemasync:s3cret@127.0.0.1:5432/postgres",
        "status",
    ]);

    assert_eq!(out.code, 2);
    assert_one_error_line(&out);
    assert!(
        out.stderr
            .contains("cannot connect to the PostgreSQL server"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("s3cret"), "{}", out.stderr);
}

#[test]
fn in_memory_database_applies_and_reports_steps() {
    let project = Project::new();
    project.write("schema.sql", USERS_V1);

    let out = project.run(&[
        "--database-url",
        "sqlite::memory:",
        "apply",
        "--schema",
        "schema.sql",
    ]);

    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert!(out.stdout.contains("Applied "), "{}", out.stdout);
}

#[test]
fn a_second_writer_waits_for_the_busy_timeout_then_fails_clearly() {
    let project = Project::new();
    project.given_users(USERS_V1, "");
    project.write("v2.sql", USERS_V2_WITH_NAME);
    let holder = project.db();
    holder.execute_batch("BEGIN IMMEDIATE;").unwrap();

    let out = project.app(&["--busy-timeout", "0.2", "apply", "--schema", "v2.sql"]);

    holder.execute_batch("ROLLBACK;").unwrap();
    assert_eq!(out.code, 2, "stdout: {}", out.stdout);
    assert_one_error_line(&out);
    assert!(out.stderr.contains("database is locked"), "{}", out.stderr);
    assert_eq!(columns(&project.db(), "users"), ["id", "email"]);
}

#[test]
fn help_exits_zero() {
    let out = Project::new().run(&["--help"]);

    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("apply"), "{}", out.stdout);
}
