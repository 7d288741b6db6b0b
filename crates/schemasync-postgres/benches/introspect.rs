//! `cargo xtask bench introspect`: `schemasync plan --schema URL` comparing two large
//! databases, against `pg_dump -s` of both, measured in this run.
//!
//! Two databases from a deterministic generator: 500 tables (each with a `bigserial`
//! key, two foreign keys, a UNIQUE, two CHECKs, a plain and a partial index) and 50
//! views — 3,050 relations counting indexes, sequences and views — that differ in 25
//! tables (a new column, index, CHECK, default or partial-index predicate). Timed, as
//! processes, interleaved, median of [`RUNS`]: `pg_dump -s` of each database (summed),
//! and the release `schemasync` binary's `plan --schema postgres://…/b` against
//! `--database-url postgres://…/a`. Target: plan / pg_dump ≤ 1.0. For reference it
//! also times the library path (two `PgDriver::introspect` + plan) in this process.
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

/// The generated schema of one side.
fn schema_sql(side: Side) -> String {
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

fn main() {
    // `cargo bench` passes `--bench`; a filter argument selects nothing else here.
    let binary = schemasync_binary();
    let started = Instant::now();
    let a = TestDatabase::create();
    let b = TestDatabase::create();
    for (database, side) in [(&a, Side::A), (&b, Side::B)] {
        database.connect().batch_execute(&schema_sql(side)).unwrap();
    }
    let relations: i64 = a
        .connect()
        .query_one(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 'S', 'v')",
            &[],
        )
        .unwrap()
        .get(0);
    println!(
        "introspect: two databases of {TABLES} tables and {VIEWS} views ({relations} relations \
         each), differing in {} tables (built in {:.1} s); median of {RUNS} runs each",
        TABLES / DIFFER_EVERY,
        started.elapsed().as_secs_f64()
    );
    let (mut dumps, mut plans, mut library) = (Vec::new(), Vec::new(), Vec::new());
    let mut changes = 0;
    for _ in 0..RUNS {
        dumps.push(pg_dump(a.url()) + pg_dump(b.url()));
        plans.push(cli_plan(&binary, a.url(), b.url()));
        let (time, count) = library_plan(a.url(), b.url());
        library.push(time);
        changes = count;
    }
    let (dump, plan, library) = (median(dumps), median(plans), median(library));
    let ratio = plan.as_secs_f64() / dump.as_secs_f64();
    println!(
        "pg_dump -s of both: {:.3} s; library introspect of both + plan: {:.3} s ({changes} changes)",
        dump.as_secs_f64(),
        library.as_secs_f64()
    );
    println!(
        "schemasync plan --schema URL: {:.3} s, ratio {ratio:.3} (target <= {TARGET}) {}",
        plan.as_secs_f64(),
        if ratio <= TARGET {
            "ok"
        } else {
            "ABOVE TARGET"
        }
    );
    // The databases are dropped here, before the exit code is decided.
    drop((a, b));
    if ratio > TARGET {
        std::process::exit(1);
    }
}
