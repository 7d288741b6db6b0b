//! `cargo xtask bench introspect`: `schemasync plan --schema URL` comparing two large
//! databases, against `pg_dump -s` of both, measured in this run.
//!
//! Two scenarios, each two databases from a deterministic generator that differ in a
//! few objects:
//! - `tables`: 500 tables in `public` (each with a `bigserial` key, two foreign keys, a
//!   UNIQUE, two CHECKs, a plain and a partial index) and 50 views — 3,050 relations
//!   counting indexes, sequences and views — differing in 25 tables (a new column,
//!   index, CHECK, default or partial-index predicate);
//! - `application`: 500 tables in 10 schemas, 150 functions (100 trigger functions,
//!   50 SQL functions called by CHECKs), 400 triggers, an enum and a domain per schema,
//!   differing in 25 tables, 15 function bodies and 10 triggers.
//!
//! Timed, as processes, interleaved, median of [`RUNS`]: `pg_dump -s` of each database
//! (summed), and the release `schemasync` binary's `plan --schema postgres://…/b`
//! against `--database-url postgres://…/a`. Target for each: plan / pg_dump ≤ 1.0. For
//! reference it also times the library path (two `PgDriver::introspect` + plan) in this
//! process.
//!
//! The binary is `target/release/schemasync`; `cargo xtask bench introspect` builds it
//! first (a plain `cargo bench` does not, and the benchmark refuses a stale one).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use schemasync_postgres::testing::TestDatabase;
use schemasync_postgres::{Driver, PgDriver, PgOptions};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

const TABLES: usize = 500;
const VIEWS: usize = 50;
/// Schemas of the `application` scenario; its tables are spread evenly over them.
const SCHEMAS: usize = 10;
/// Trigger functions and CHECK functions of the `application` scenario.
const TRIGGER_FUNCTIONS: usize = 100;
const CHECK_FUNCTIONS: usize = 50;
/// Tables of the `application` scenario with a trigger.
const TRIGGERS: usize = 400;
/// Every `DIFFER_EVERY`th table differs between the two databases (25 of 500).
const DIFFER_EVERY: usize = 20;
const RUNS: usize = 3;
const TARGET: f64 = 1.0;

/// Which of the two databases a schema is for.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    A,
    B,
}

/// How table `i` differs on side B, if it does.
fn difference(i: usize) -> Option<usize> {
    (i % DIFFER_EVERY == DIFFER_EVERY / 2).then_some((i / DIFFER_EVERY) % 5)
}

/// The generated `tables` schema of one side.
fn tables_sql(side: Side) -> String {
    let mut sql = String::new();
    for i in 0..TABLES {
        let changed = if side == Side::B { difference(i) } else { None };
        let t = format!("t{i:03}");
        let parent = if i == 0 {
            String::new()
        } else {
            format!(" REFERENCES t{:03} (id) ON DELETE CASCADE", i - 1)
        };
        let owner = if i < 2 {
            String::new()
        } else {
            format!(" REFERENCES t{:03} (id)", i / 2)
        };
        let name_default = if changed == Some(3) { "unnamed" } else { "" };
        let amount_check = if changed == Some(2) {
            "amount >= 0 AND amount < 1000000"
        } else {
            "amount >= 0"
        };
        let note = if changed == Some(0) {
            ",\n  note text"
        } else {
            ""
        };
        let _ = writeln!(
            sql,
            "CREATE TABLE {t} (
  id bigserial PRIMARY KEY,
  parent_id bigint{parent},
  owner_id bigint{owner},
  code text NOT NULL UNIQUE,
  name varchar(80) NOT NULL DEFAULT '{name_default}',
  amount numeric(12, 2) NOT NULL DEFAULT 0 CHECK ({amount_check}),
  status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'open', 'closed')),
  created_at timestamptz NOT NULL DEFAULT now(){note}
);
CREATE INDEX {t}_parent_idx ON {t} (parent_id);"
        );
        let predicate = if changed == Some(4) {
            "status <> 'closed'"
        } else {
            "status = 'open'"
        };
        let _ = writeln!(
            sql,
            "CREATE INDEX {t}_open_idx ON {t} (created_at) WHERE {predicate};"
        );
        if changed == Some(1) {
            let _ = writeln!(sql, "CREATE INDEX {t}_name_idx ON {t} (lower(name));");
        }
    }
    for v in 0..VIEWS {
        let (a, b) = (v * TABLES / VIEWS, v * TABLES / VIEWS + 1);
        let _ = writeln!(
            sql,
            "CREATE VIEW v{v:02} AS SELECT a.id, a.code, b.name, b.amount \
             FROM t{a:03} a JOIN t{b:03} b ON b.parent_id = a.id WHERE a.status = 'open';"
        );
    }
    sql
}

/// The generated `application` schema of one side: 500 tables in 10 schemas with
/// triggers, functions, enums and domains.
fn application_sql(side: Side) -> String {
    let mut sql = String::new();
    let per_schema = TABLES / SCHEMAS;
    for s in 0..SCHEMAS {
        let _ = writeln!(
            sql,
            "CREATE SCHEMA app{s};
CREATE TYPE app{s}.state AS ENUM ('new', 'open', 'closed');
CREATE DOMAIN app{s}.code AS text CHECK (VALUE ~ '^[A-Z]{{2}}-[0-9]+$');"
        );
    }
    for f in 0..CHECK_FUNCTIONS {
        let s = f % SCHEMAS;
        let limit = if side == Side::B && f % 5 == 0 {
            500
        } else {
            1000
        };
        let _ = writeln!(
            sql,
            "CREATE FUNCTION app{s}.within_limit_{f}(amount numeric) RETURNS boolean \
             LANGUAGE sql IMMUTABLE AS $$ SELECT amount BETWEEN 0 AND {limit} * ({f} + 1) $$;"
        );
    }
    for f in 0..TRIGGER_FUNCTIONS {
        let s = f % SCHEMAS;
        let touched = if side == Side::B && f % 20 == 3 {
            "clock_timestamp()"
        } else {
            "now()"
        };
        let _ = writeln!(
            sql,
            "CREATE FUNCTION app{s}.touch_{f}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := {touched};
  IF NEW.amount < 0 THEN RAISE EXCEPTION 'negative amount in %', TG_TABLE_NAME; END IF;
  RETURN NEW;
END $$;"
        );
    }
    for i in 0..TABLES {
        let s = i / per_schema;
        let t = format!("app{s}.t{i:03}");
        let changed = if side == Side::B { difference(i) } else { None };
        let parent = if i % per_schema == 0 {
            String::new()
        } else {
            format!(" REFERENCES app{s}.t{:03} (id) ON DELETE CASCADE", i - 1)
        };
        let owner = if i < per_schema {
            String::new()
        } else {
            format!(" REFERENCES app{}.t{:03} (id)", s - 1, i - per_schema)
        };
        let note = if changed == Some(0) {
            ",\n  note text"
        } else {
            ""
        };
        let status_default = if changed == Some(3) { "open" } else { "new" };
        let upper_bound = if changed == Some(2) {
            " AND amount < 1000000"
        } else {
            ""
        };
        let parent_predicate = if changed == Some(4) {
            " WHERE parent_id IS NOT NULL"
        } else {
            ""
        };
        let _ = writeln!(
            sql,
            "CREATE TABLE {t} (
  id bigserial PRIMARY KEY,
  parent_id bigint{parent},
  owner_id bigint{owner},
  code app{s}.code NOT NULL UNIQUE,
  status app{s}.state NOT NULL DEFAULT '{status_default}',
  amount numeric(12, 2) NOT NULL DEFAULT 0 CHECK (app{}.within_limit_{}(amount){upper_bound}),
  updated_at timestamptz NOT NULL DEFAULT now(){note}
);
CREATE INDEX t{i:03}_parent_idx ON {t} (parent_id){parent_predicate};",
            i % CHECK_FUNCTIONS % SCHEMAS,
            i % CHECK_FUNCTIONS,
        );
        if changed == Some(1) {
            let _ = writeln!(sql, "CREATE INDEX t{i:03}_code_idx ON {t} (lower(code));");
        }
        if i < TRIGGERS {
            let f = i % TRIGGER_FUNCTIONS;
            let when = if side == Side::B && i % 40 == 7 {
                " WHEN (OLD.* IS DISTINCT FROM NEW.*)"
            } else {
                ""
            };
            let _ = writeln!(
                sql,
                "CREATE TRIGGER t{i:03}_touch BEFORE UPDATE ON {t} FOR EACH ROW{when} \
                 EXECUTE FUNCTION app{}.touch_{f}();",
                f % SCHEMAS
            );
        }
    }
    sql
}

/// A generated pair of databases to compare.
struct Scenario {
    name: &'static str,
    sql: fn(Side) -> String,
}

const SCENARIOS: [Scenario; 2] = [
    Scenario {
        name: "tables",
        sql: tables_sql,
    },
    Scenario {
        name: "application",
        sql: application_sql,
    },
];

/// The release `schemasync` binary next to this benchmark's executable, refused when
/// missing or older than a source file of the crates it is built from (a plain
/// `cargo bench` does not rebuild it).
fn schemasync_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/release/deps/introspect-<hash> -> target/release/schemasync
    let release = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let binary = release.join(format!("schemasync{}", std::env::consts::EXE_SUFFIX));
    let rebuild = "build it with `cargo build --release -p schemasync-cli` \
                   (`cargo xtask bench introspect` does)";
    let built = std::fs::metadata(&binary)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| panic!("{} is missing: {rebuild}", binary.display()));
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    for krate in [
        "schemasync-core",
        "schemasync-sqlite",
        "schemasync-postgres",
        "schemasync-cli",
    ] {
        let source = crates.join(krate).join("src");
        assert!(
            newest_file(&source) <= built,
            "{} is older than {}: {rebuild}",
            binary.display(),
            source.display()
        );
    }
    binary
}

/// When the newest file under `dir` was modified.
fn newest_file(dir: &Path) -> SystemTime {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let metadata = entry.metadata().unwrap();
            if metadata.is_dir() {
                newest_file(&entry.path())
            } else {
                metadata.modified().unwrap()
            }
        })
        .max()
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// Runs `command` with its output discarded; its wall time, or a panic saying what failed.
fn timed(command: &mut Command) -> Duration {
    let started = Instant::now();
    let output = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let elapsed = started.elapsed();
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    elapsed
}

fn pg_dump(url: &str) -> Duration {
    timed(Command::new("pg_dump").args(["--schema-only", "--dbname", url]))
}

fn cli_plan(binary: &PathBuf, current: &str, desired: &str) -> Duration {
    timed(Command::new(binary).args(["--database-url", current, "plan", "--schema", desired]))
}

/// The library path: both introspections, the diff and the plan; returns the time and
/// the number of changes.
fn library_plan(current: &str, desired: &str) -> (Duration, usize) {
    let started = Instant::now();
    let mut other = PgDriver::connect(desired, PgOptions::default()).unwrap();
    let desired = other.introspect().unwrap();
    let mut driver = PgDriver::connect(current, PgOptions::default()).unwrap();
    let current = driver.introspect().unwrap();
    let plan = driver.plan(&current, &desired).unwrap();
    (started.elapsed(), plan.changes.len())
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Builds one scenario's databases, times it, and says whether it met the target.
fn measure(binary: &PathBuf, scenario: &Scenario) -> bool {
    let started = Instant::now();
    let a = TestDatabase::create();
    let b = TestDatabase::create();
    for (database, side) in [(&a, Side::A), (&b, Side::B)] {
        database
            .connect()
            .batch_execute(&(scenario.sql)(side))
            .unwrap();
    }
    let counts = a
        .connect()
        .query_one(
            "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') \
                       AND c.relkind IN ('r', 'i', 'S', 'v')), \
                    (SELECT count(DISTINCT relnamespace) FROM pg_class c JOIN pg_namespace n \
                       ON n.oid = c.relnamespace WHERE c.relkind = 'r' \
                       AND n.nspname NOT IN ('pg_catalog', 'information_schema')), \
                    (SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal), \
                    (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
                       WHERE n.nspname NOT IN ('pg_catalog', 'information_schema'))",
            &[],
        )
        .unwrap();
    let (relations, schemas, triggers, functions): (i64, i64, i64, i64) =
        (counts.get(0), counts.get(1), counts.get(2), counts.get(3));
    println!(
        "introspect [{}]: two databases of {relations} relations in {schemas} schema(s), \
         {triggers} triggers, {functions} functions each (built in {:.1} s); median of {RUNS} runs",
        scenario.name,
        started.elapsed().as_secs_f64()
    );
    let (mut dumps, mut plans, mut library) = (Vec::new(), Vec::new(), Vec::new());
    let mut changes = 0;
    for _ in 0..RUNS {
        dumps.push(pg_dump(a.url()) + pg_dump(b.url()));
        plans.push(cli_plan(binary, a.url(), b.url()));
        let (time, count) = library_plan(a.url(), b.url());
        library.push(time);
        changes = count;
    }
    let (dump, plan, library) = (median(dumps), median(plans), median(library));
    let ratio = plan.as_secs_f64() / dump.as_secs_f64();
    println!(
        "  pg_dump -s of both: {:.3} s; library introspect of both + plan: {:.3} s ({changes} changes)",
        dump.as_secs_f64(),
        library.as_secs_f64()
    );
    println!(
        "  schemasync plan --schema URL: {:.3} s, ratio {ratio:.3} (target <= {TARGET}) {}",
        plan.as_secs_f64(),
        if ratio <= TARGET {
            "ok"
        } else {
            "ABOVE TARGET"
        }
    );
    assert!(
        changes > 0,
        "the two databases differ, so the plan is not empty"
    );
    ratio <= TARGET
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument selects nothing else here.
    let binary = schemasync_binary();
    let mut all_met = true;
    for scenario in &SCENARIOS {
        // Every scenario runs (its databases dropped at the end) before the exit code.
        all_met &= measure(&binary, scenario);
    }
    if !all_met {
        std::process::exit(1);
    }
}
