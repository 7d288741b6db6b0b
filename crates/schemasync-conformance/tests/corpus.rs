//! The corpus covers what the issue asks of it, per dialect: every change kind the diff
//! can emit there and every hazard kind the planner can raise there is promised by at
//! least one case (`changes`, `hazards`, `refused`) that is not a known bug. Also: at
//! least 80 cases, and every case file loads. No database is needed.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use schemasync_conformance::case::{dialect_name, load_dir, Expect};
use schemasync_conformance::kinds;
use schemasync_conformance::skips::{Skips, SKIPS_FILE};
use schemasync_conformance::DIALECTS;
use schemasync_core::{Dialect, HazardKind};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance")
}

/// Change kinds a dialect never emits, with why.
fn not_emitted(dialect: Dialect) -> Vec<(&'static str, &'static str)> {
    match dialect {
        Dialect::Sqlite => vec![
            ("create_namespace", "SQLite has no schemas (namespaces)"),
            ("drop_namespace", "SQLite has no schemas (namespaces)"),
            ("create_enum", "SQLite has no enum types"),
            ("drop_enum", "SQLite has no enum types"),
            ("add_enum_value", "SQLite has no enum types"),
            ("recreate_enum", "SQLite has no enum types"),
            ("create_sequence", "SQLite has no sequences"),
            ("drop_sequence", "SQLite has no sequences"),
            ("alter_sequence", "SQLite has no sequences"),
            ("create_function", "SQLite has no stored functions"),
            ("replace_function", "SQLite has no stored functions"),
            ("drop_function", "SQLite has no stored functions"),
            ("add_exclusion", "SQLite has no exclusion constraints"),
            ("drop_exclusion", "SQLite has no exclusion constraints"),
            ("validate_constraint", "SQLite has no NOT VALID constraints"),
            ("set_comment", "SQLite stores no comments"),
            ("set_object_comment", "SQLite stores no comments"),
            ("create_domain", "SQLite has no domains"),
            ("drop_domain", "SQLite has no domains"),
            ("alter_domain", "SQLite has no domains"),
            ("create_extension", "SQLite has no extensions"),
            ("drop_extension", "SQLite has no extensions"),
            ("set_partition_of", "SQLite has no partitioned tables"),
            ("set_row_security", "SQLite has no row-level security"),
            ("create_policy", "SQLite has no row-level security"),
            ("drop_policy", "SQLite has no row-level security"),
            ("alter_policy", "SQLite has no row-level security"),
            ("rename_policy", "SQLite has no row-level security"),
            (
                "create_collation",
                "SQLite collations are built in or registered by the application",
            ),
            (
                "drop_collation",
                "SQLite collations are built in or registered by the application",
            ),
            ("create_composite_type", "SQLite has no composite types"),
            ("drop_composite_type", "SQLite has no composite types"),
            ("alter_composite_type", "SQLite has no composite types"),
            ("create_range_type", "SQLite has no range types"),
            ("drop_range_type", "SQLite has no range types"),
            ("replace_range_type", "SQLite has no range types"),
            (
                "create_text_search_config",
                "SQLite has no text search configurations",
            ),
            (
                "drop_text_search_config",
                "SQLite has no text search configurations",
            ),
            (
                "alter_text_search_config",
                "SQLite has no text search configurations",
            ),
            (
                "rename_object",
                "SQLite has no types, domains or collations to rename",
            ),
        ],
        Dialect::Postgres => vec![
            (
                "reorder_columns",
                "PostgreSQL column order is not compared (DiffOptions)",
            ),
            (
                "set_table_options",
                "WITHOUT ROWID and STRICT are SQLite table options",
            ),
            ("create_virtual_table", "virtual tables are SQLite's"),
            ("drop_virtual_table", "virtual tables are SQLite's"),
        ],
    }
}

/// Hazard kinds a dialect's planner never raises.
fn hazards_not_raised(dialect: Dialect) -> Vec<HazardKind> {
    match dialect {
        // SQLite takes one write lock for the whole apply; a rebuild is a table_rewrite.
        Dialect::Sqlite => vec![HazardKind::LongLock],
        Dialect::Postgres => vec![],
    }
}

#[test]
fn the_corpus_promises_every_change_and_hazard_kind_on_every_dialect() {
    let cases = load_dir(&corpus()).unwrap();
    assert!(cases.len() >= 80, "only {} cases", cases.len());
    let skips = Skips::load(&corpus().join(SKIPS_FILE)).unwrap();
    for dialect in DIALECTS {
        let mut changes = BTreeSet::new();
        let mut hazards = BTreeSet::new();
        for case in cases.iter().filter(|c| c.applies_to(dialect)) {
            if skips.known_bug(&case.name, dialect).is_some() {
                continue;
            }
            let Ok(resolved) = case.resolve(dialect) else {
                continue;
            };
            for change in &resolved.changes {
                assert!(
                    kinds::ALL.contains(&change.as_str()),
                    "{}: unknown change kind {change}",
                    case.name
                );
                changes.insert(change.clone());
            }
            hazards.extend(resolved.hazards.iter().copied());
            if let Expect::Refused(hazard) = resolved.expect {
                hazards.insert(hazard);
            }
        }
        let excused = not_emitted(dialect);
        for kind in kinds::ALL {
            let excuse = excused.iter().find(|(k, _)| *k == kind);
            assert!(
                changes.contains(kind) || excuse.is_some(),
                "no {} case promises a {kind} change",
                dialect_name(dialect)
            );
            assert!(
                !(changes.contains(kind) && excuse.is_some()),
                "{kind} is listed as never emitted on {} but a case promises it",
                dialect_name(dialect)
            );
        }
        for hazard in [
            HazardKind::DataLoss,
            HazardKind::TableRewrite,
            HazardKind::LongLock,
            HazardKind::Validation,
            HazardKind::IndexBuild,
        ] {
            if !hazards_not_raised(dialect).contains(&hazard) {
                assert!(
                    hazards.contains(&hazard),
                    "no {} case promises a {hazard} hazard",
                    dialect_name(dialect)
                );
            }
        }
    }
}

#[test]
fn most_cases_run_on_both_dialects() {
    // The `postgres/` and `sqlite/` folders hold what only one dialect has (policies,
    // partitions, rebuilds); every other case is about behaviour both share.
    let cases: Vec<_> = load_dir(&corpus())
        .unwrap()
        .into_iter()
        .filter(|c| !c.name.starts_with("postgres/") && !c.name.starts_with("sqlite/"))
        .collect();
    let both = cases
        .iter()
        .filter(|c| DIALECTS.iter().all(|d| c.applies_to(*d)))
        .count();
    assert!(both * 2 > cases.len(), "{both} of {} cases", cases.len());
}
