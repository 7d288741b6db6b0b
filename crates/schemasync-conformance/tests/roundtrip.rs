//! Random round trips on both dialects (issue 5): for a random pair of schemas (A, B),
//! valid on SQLite and PostgreSQL alike, with rows in A, applying B with data loss
//! allowed must converge — the live schema equals B, a second plan is empty, the values
//! of kept columns are unchanged, the engine's integrity checks are clean — which is
//! exactly what the conformance runner judges, so each pair runs as a case through
//! [`run_case`].
//!
//! Rows are distinct, non-NULL and non-negative, foreign keys point at existing rows,
//! and every NOT NULL column has a default, so most pairs apply; the others add a
//! uniqueness or foreign key that the rows (or a new column's one default) violate, and
//! then the only acceptable outcome is a `validation` refusal that changed nothing. At
//! most a quarter of the pairs may end that way.
//!
//! A failing pair is shrunk by proptest and saved as a case file under
//! `tests/conformance/found/`, where the suite runs it from then on.
//!
//! `PROPTEST_CASES` sets the number of pairs per dialect (default 200). PostgreSQL pairs
//! run on the suite's reset-per-case databases (see docs/conformance.md), which keeps a
//! pair under a second on a busy server.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestError, TestRunner};
use schemasync_conformance::case::{dialect_name, CaseFile, Expect, Fields, Resolved};
use schemasync_conformance::engine::{Engine, PgEngine, SqliteEngine};
use schemasync_conformance::run::{run_case, RunOutcome};
use schemasync_core::{Dialect, HazardKind};
use std::cell::Cell;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

// ---------------------------------------------------------------------------------------
// The universe: tables and column slots, names that need quoting among them
// ---------------------------------------------------------------------------------------

const TABLES: [&str; 3] = ["users", "order", "my table"];
/// Column slots after `id`: (name, numeric family?).
const SLOTS: [(&str, bool); 4] = [
    ("name", false),
    ("group", false),
    ("a b", true),
    ("val", true),
];
const VAL: usize = 3;
const NAME: usize = 0;

fn q(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[derive(Clone, Debug, PartialEq)]
struct Col {
    /// integer/bigint for numeric slots, text/varchar(40) for the others.
    wide: bool,
    not_null: bool,
    default: bool,
}

#[derive(Clone, Debug, PartialEq)]
struct Tbl {
    slots: Vec<Option<Col>>,
    unique_name: bool,
    check_val: bool,
    /// Index on slot n (if present).
    index: Option<usize>,
    /// `val` references users(id), with ON DELETE CASCADE when true.
    fk: Option<bool>,
}

#[derive(Clone, Debug, PartialEq)]
struct Sch {
    tables: Vec<Option<Tbl>>,
    view: bool,
}

impl Col {
    fn sql(&self, numeric: bool) -> String {
        let ty = match (numeric, self.wide) {
            (true, false) => "integer",
            (true, true) => "bigint",
            (false, false) => "text",
            (false, true) => "varchar(40)",
        };
        let mut out = ty.to_string();
        if self.not_null {
            out.push_str(" NOT NULL");
        }
        if self.default || self.not_null {
            out.push_str(if numeric {
                " DEFAULT 7"
            } else {
                " DEFAULT 'd'"
            });
        }
        out
    }
}

impl Sch {
    /// Drops what the rest of the schema cannot support.
    fn sanitize(mut self) -> Sch {
        let users = self.tables[0].is_some();
        for table in self.tables.iter_mut().flatten() {
            if table.slots[NAME].is_none() {
                table.unique_name = false;
            }
            if table.slots[VAL].is_none() {
                table.check_val = false;
                table.fk = None;
            }
            if !users {
                table.fk = None;
            }
            if table.index.is_some_and(|i| table.slots[i].is_none()) {
                table.index = None;
            }
        }
        // users cannot reference itself through val (rows would need to exist first).
        if let Some(users) = self.tables[0].as_mut() {
            users.fk = None;
        }
        if self.tables[0].is_none() {
            self.view = false;
        }
        self
    }

    fn ddl(&self) -> String {
        let mut out = String::new();
        for (t, table) in self.tables.iter().enumerate() {
            let Some(table) = table else { continue };
            let name = TABLES[t];
            let mut parts = vec!["id integer PRIMARY KEY".to_string()];
            for (s, slot) in table.slots.iter().enumerate() {
                if let Some(col) = slot {
                    let (col_name, numeric) = SLOTS[s];
                    parts.push(format!("{} {}", q(col_name), col.sql(numeric)));
                }
            }
            if table.unique_name {
                parts.push(format!("UNIQUE ({})", q("name")));
            }
            if table.check_val {
                parts.push(format!("CHECK ({} >= 0)", q("val")));
            }
            if let Some(cascade) = table.fk {
                parts.push(format!(
                    "FOREIGN KEY ({}) REFERENCES {} (id){}",
                    q("val"),
                    q("users"),
                    if cascade { " ON DELETE CASCADE" } else { "" }
                ));
            }
            let _ = writeln!(out, "CREATE TABLE {} ({});", q(name), parts.join(", "));
            if let Some(i) = table.index {
                let _ = writeln!(
                    out,
                    "CREATE INDEX {} ON {} ({});",
                    q(&format!("ix {name} {}", SLOTS[i].0)),
                    q(name),
                    q(SLOTS[i].0)
                );
            }
        }
        if self.view {
            let users = self.tables[0].as_ref().map(|t| t.slots[NAME].is_some());
            let cols = if users == Some(true) {
                "id, \"name\""
            } else {
                "id"
            };
            let _ = writeln!(out, "CREATE VIEW \"v\" AS SELECT {cols} FROM \"users\";");
        }
        out
    }

    /// `rows` rows per table: id 1..=rows, text `<slot><id>`, numbers = id, so values
    /// are distinct, non-NULL, non-negative and every `val` names an existing user.
    fn seed(&self, rows: usize) -> String {
        let mut out = String::new();
        for (t, table) in self.tables.iter().enumerate() {
            let Some(table) = table else { continue };
            for id in 1..=rows {
                let mut names = vec!["id".to_string()];
                let mut values = vec![id.to_string()];
                for (s, slot) in table.slots.iter().enumerate() {
                    if slot.is_some() {
                        let (col_name, numeric) = SLOTS[s];
                        names.push(q(col_name));
                        values.push(if numeric {
                            id.to_string()
                        } else {
                            format!("'{}{id}'", col_name.replace(' ', "_"))
                        });
                    }
                }
                let _ = writeln!(
                    out,
                    "INSERT INTO {} ({}) VALUES ({});",
                    q(TABLES[t]),
                    names.join(", "),
                    values.join(", ")
                );
            }
        }
        out
    }
}

fn col() -> impl Strategy<Value = Col> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(wide, not_null, default)| Col {
        wide,
        not_null,
        default,
    })
}

fn table() -> impl Strategy<Value = Tbl> {
    (
        proptest::collection::vec(proptest::option::weighted(0.7, col()), SLOTS.len()),
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(0..SLOTS.len()),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(slots, unique_name, check_val, index, fk)| Tbl {
            slots,
            unique_name,
            check_val,
            index,
            fk,
        })
}

fn schema() -> impl Strategy<Value = Sch> {
    (
        proptest::collection::vec(proptest::option::weighted(0.75, table()), TABLES.len()),
        any::<bool>(),
    )
        .prop_map(|(tables, view)| Sch { tables, view }.sanitize())
}

/// B mixes A with a fresh schema: each table, and each column slot of a table both
/// have, comes from one or the other, so A and B share most names.
fn pair() -> impl Strategy<Value = (Sch, Sch, usize)> {
    (
        schema(),
        schema(),
        proptest::collection::vec(any::<bool>(), 32),
        0usize..=3,
    )
        .prop_map(|(a, fresh, bits, rows)| {
            let mut bits = bits.into_iter().cycle();
            let mut b = a.clone();
            for (t, table) in b.tables.iter_mut().enumerate() {
                match (table.as_mut(), &fresh.tables[t]) {
                    (Some(mine), Some(theirs)) => {
                        for (s, slot) in mine.slots.iter_mut().enumerate() {
                            if bits.next().unwrap_or(false) {
                                *slot = theirs.slots[s].clone();
                            }
                        }
                        if bits.next().unwrap_or(false) {
                            mine.unique_name = theirs.unique_name;
                            mine.check_val = theirs.check_val;
                            mine.index = theirs.index;
                            mine.fk = theirs.fk;
                        }
                    }
                    _ => {
                        if bits.next().unwrap_or(false) {
                            *table = fresh.tables[t].clone();
                        }
                    }
                }
            }
            if bits.next().unwrap_or(false) {
                b.view = fresh.view;
            }
            (a, b.sanitize(), rows)
        })
}

fn resolved(a: &Sch, b: &Sch, rows: usize) -> Resolved {
    Resolved {
        current: a.ddl(),
        desired: b.ddl(),
        seed: a.seed(rows),
        allow_data_loss: true,
        reversible: false,
        expect: Expect::AppliesUnlessRefused(HazardKind::Validation),
        hazards: Vec::new(),
        changes: Vec::new(),
        probes: Vec::new(),
        allow_not_valid: false,
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// Saves a shrunk failing pair as a case file and returns its path.
fn save_found(dialect: Dialect, case: &Resolved, why: &str) -> PathBuf {
    let file = CaseFile {
        description: format!(
            "Found by the random round trip on {} (shrunk): {}",
            dialect_name(dialect),
            why.lines().next().unwrap_or_default()
        ),
        dialects: None,
        fields: Fields {
            current: Some(case.current.clone()),
            desired: Some(case.desired.clone()),
            seed: Some(case.seed.clone()),
            allow_data_loss: Some(true),
            ..Fields::default()
        },
        sqlite: None,
        postgres: None,
    };
    let text = toml::to_string(&file).unwrap();
    let digest = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance/found");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}_{digest:016x}.toml", dialect_name(dialect)));
    std::fs::write(&path, text).unwrap();
    path
}

fn round_trips(engine: &dyn Engine) {
    let dialect = engine.dialect();
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let started = Instant::now();
    let (runs, refused) = (Cell::new(0u32), Cell::new(0u32));
    let result = runner.run(&pair(), |(a, b, rows)| {
        let case = resolved(&a, &b, rows);
        runs.set(runs.get() + 1);
        match run_case(engine, &case, None) {
            Ok(RunOutcome::Converged) => Ok(()),
            Ok(RunOutcome::Refused) => {
                refused.set(refused.get() + 1);
                Ok(())
            }
            Err(failure) => Err(TestCaseError::fail(failure)),
        }
    });
    eprintln!(
        "{} random round trips on {} in {:.1?}: {} refused by a validation guard",
        runs.get(),
        dialect_name(dialect),
        started.elapsed(),
        refused.get(),
    );
    match result {
        Ok(()) => {}
        Err(TestError::Fail(why, (a, b, rows))) => {
            let case = resolved(&a, &b, rows);
            let path = save_found(dialect, &case, &why.to_string());
            panic!(
                "a random round trip failed on {}; the shrunk case is saved as {}:\n{why}\n\
                 current:\n{}\nseed:\n{}\ndesired:\n{}",
                dialect_name(dialect),
                path.display(),
                case.current,
                case.seed,
                case.desired
            );
        }
        Err(error) => panic!("{error}"),
    }
    assert!(
        refused.get() * 4 <= runs.get(),
        "{} of {} pairs were refused: the generator makes too few pairs that apply",
        refused.get(),
        runs.get()
    );
}

#[test]
fn sqlite_random_round_trips_converge_and_keep_values() {
    round_trips(&SqliteEngine::new());
}

#[test]
fn postgres_random_round_trips_converge_and_keep_values() {
    let engine = PgEngine::connect().unwrap_or_else(|e| panic!("{e}"));
    round_trips(&engine);
}

#[test]
fn generated_schemas_are_valid_ddl_and_use_awkward_names() {
    let mut runner = TestRunner::deterministic();
    let mut saw_quoted = false;
    for _ in 0..50 {
        let (a, b, rows) = pair().new_tree(&mut runner).unwrap().current();
        let ddl = a.ddl() + &b.ddl();
        saw_quoted |= ddl.contains("\"my table\"") || ddl.contains("\"a b\"");
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(&a.ddl()).unwrap();
        conn.execute_batch(&a.seed(rows)).unwrap();
    }
    assert!(saw_quoted);
}
