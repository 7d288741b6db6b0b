//! `cargo xtask bench sqlite-rebuild`: schemasync's apply against the hand-written
//! rebuild SQL a careful engineer would run, on a 1,000,000-row table with two indexes,
//! a trigger and a view, both measured in this run on copies of one database.
//!
//! S1: a change that needs a rebuild (a collation change); target ratio ≤ 1.15.
//! S2: a change that touches no stored content (a new default); target ratio ≤ 0.2,
//! against the rebuild one would write by hand for it.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use rusqlite::Connection;
use schemasync_sqlite::{ApplyOptions, Driver, SqliteDriver};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const ROWS: i64 = 1_000_000;
const RUNS: usize = 3;

const TABLE: &str = "CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL,
  kind TEXT NOT NULL DEFAULT 'click'{kind_extra},
  payload TEXT,
  created_at TEXT NOT NULL
)";
const REST: &str = "CREATE INDEX events_user ON events (user_id);
CREATE INDEX events_created ON events (created_at);
CREATE TABLE event_counts (kind TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TRIGGER events_count AFTER INSERT ON events BEGIN
  INSERT INTO event_counts VALUES (new.kind, 1) ON CONFLICT(kind) DO UPDATE SET n = n + 1;
END;
CREATE VIEW recent_events AS SELECT id, kind FROM events WHERE created_at > '2026-06-01';";

fn schema(kind_extra: &str) -> String {
    format!("{};\n{REST}", TABLE.replace("{kind_extra}", kind_extra))
}

/// The 12-step rebuild written by hand for the new `events` definition.
fn hand_written_rebuild(kind_extra: &str) -> String {
    let new_table = TABLE
        .replace("{kind_extra}", kind_extra)
        .replace("CREATE TABLE events", "CREATE TABLE events_new");
    format!(
        "PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
DROP VIEW recent_events;
{new_table};
INSERT INTO events_new (id, user_id, kind, payload, created_at)
  SELECT id, user_id, kind, payload, created_at FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_user ON events (user_id);
CREATE INDEX events_created ON events (created_at);
CREATE TRIGGER events_count AFTER INSERT ON events BEGIN
  INSERT INTO event_counts VALUES (new.kind, 1) ON CONFLICT(kind) DO UPDATE SET n = n + 1;
END;
CREATE VIEW recent_events AS SELECT id, kind FROM events WHERE created_at > '2026-06-01';
PRAGMA foreign_key_check;
COMMIT;
PRAGMA foreign_keys = ON;"
    )
}

fn build_base(path: &Path) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(&TABLE.replace("{kind_extra}", ""))
        .unwrap();
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO events (id, user_id, kind, payload, created_at)
         SELECT i, i % 5000, CASE i % 3 WHEN 0 THEN 'click' WHEN 1 THEN 'view' ELSE 'buy' END,
                printf('payload-%d-%s', i, hex(randomblob(8))),
                date('2026-01-01', '+' || (i % 365) || ' days')
         FROM n",
        [ROWS],
    )
    .unwrap();
    conn.execute_batch(REST).unwrap();
}

fn schemasync_apply(db: &Path, desired_sql: &str) -> Duration {
    let started = Instant::now();
    let mut driver = SqliteDriver::open(db, Duration::from_secs(5)).unwrap();
    let desired = driver.normalize_sql(desired_sql).unwrap();
    let current = driver.introspect().unwrap();
    let plan = driver.plan(&current, &desired).unwrap();
    driver
        .apply(&plan, &desired, &ApplyOptions::default())
        .unwrap();
    started.elapsed()
}

fn hand_written(db: &Path, script: &str) -> Duration {
    let started = Instant::now();
    let conn = Connection::open(db).unwrap();
    conn.execute_batch(script).unwrap();
    started.elapsed()
}

fn fresh_copy(base: &Path, dir: &Path) -> PathBuf {
    let copy = dir.join("run.db");
    let _ = std::fs::remove_file(&copy);
    std::fs::copy(base, &copy).unwrap();
    copy
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Runs both sides `RUNS` times, interleaved, and returns the medians.
fn measure(base: &Path, dir: &Path, desired: &str, script: &str) -> (Duration, Duration) {
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..RUNS {
        ours.push(schemasync_apply(&fresh_copy(base, dir), desired));
        theirs.push(hand_written(&fresh_copy(base, dir), script));
    }
    (median(ours), median(theirs))
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument selects nothing else here.
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.db");
    let started = Instant::now();
    build_base(&base);
    println!(
        "sqlite-rebuild: {ROWS} rows, 2 indexes, a trigger and a view (built in {:.1} s); median of {RUNS} runs each",
        started.elapsed().as_secs_f64()
    );
    let scenarios = [
        ("S1 rebuild (collation change)", " COLLATE NOCASE", 1.15),
        ("S2 no stored content (new default)", "", 0.2),
    ];
    let mut missed = false;
    for (label, kind_extra, target) in scenarios {
        let desired = if kind_extra.is_empty() {
            schema("").replace("DEFAULT 'click'", "DEFAULT 'view'")
        } else {
            schema(kind_extra)
        };
        let (ours, theirs) = measure(
            &base,
            dir.path(),
            &desired,
            &hand_written_rebuild(kind_extra),
        );
        let ratio = ours.as_secs_f64() / theirs.as_secs_f64();
        let verdict = if ratio <= target {
            "ok"
        } else {
            "ABOVE TARGET"
        };
        missed |= ratio > target;
        println!(
            "{label}: schemasync {:.3} s, hand-written rebuild {:.3} s, ratio {ratio:.3} (target <= {target}) {verdict}",
            ours.as_secs_f64(),
            theirs.as_secs_f64()
        );
    }
    if missed {
        std::process::exit(1);
    }
}
