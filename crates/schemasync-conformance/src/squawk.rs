//! squawk (PyPI `squawk-cli`), the PostgreSQL migration linter, as a second judge of every
//! PostgreSQL plan the suite applies: each finding must be explained by what the plan
//! itself declares (a hazard, or a change the desired schema asked for), so a plan that
//! takes an unannounced long lock fails its case.
//!
//! Rules about the desired schema's own design (`prefer-bigint-over-int`, …) judge the
//! user's DDL, not our plan, and are not counted; `prefer-robust-stmts` is excluded as
//! in the driver's own squawk test (docs/decisions.md).

use schemasync_core::{Change, HazardKind, Plan};
use std::process::Command;

/// Rules excluded from every run.
const EXCLUDED: &str = "prefer-robust-stmts";

/// Rules that judge the desired schema's design (its types, its keys), not the plan.
const DESIGN_RULES: &[&str] = &[
    "ban-char-field",
    "prefer-bigint-over-int",
    "prefer-bigint-over-smallint",
    "prefer-identity",
    "prefer-text-field",
    "prefer-timestamptz",
    "prefer-timestamp-tz",
    "require-primary-key",
];

/// Whether `squawk` can be run.
pub fn installed() -> bool {
    Command::new("squawk")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The findings of `script` that `plan` does not explain, as `rule (line N): message`;
/// `Err` when squawk cannot be run or its output not read.
pub fn unexplained(script: &str, plan: &Plan) -> Result<Vec<String>, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a folder for squawk: {e}"))?;
    let path = dir.path().join("plan.sql");
    std::fs::write(&path, script).map_err(|e| format!("cannot write the plan for squawk: {e}"))?;
    let output = Command::new("squawk")
        .arg(format!("--exclude={EXCLUDED}"))
        .args(["--reporter", "json"])
        .arg(&path)
        .output()
        .map_err(|e| format!("cannot run squawk: {e}"))?;
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "cannot read squawk's report ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })?;
    Ok(findings
        .iter()
        .filter_map(|finding| {
            let rule = finding["rule_name"].as_str().unwrap_or_default();
            (!DESIGN_RULES.contains(&rule) && !explained(rule, plan)).then(|| {
                format!(
                    "{rule} (line {}): {}",
                    finding["line"].as_u64().unwrap_or_default() + 1,
                    finding["message"].as_str().unwrap_or_default()
                )
            })
        })
        .collect())
}

/// Whether the plan declares what the squawk `rule` warns about: a hazard for the rules
/// about locks and rewrites, the change the desired schema asked for for the rules that
/// say a change "may break existing clients".
fn explained(rule: &str, plan: &Plan) -> bool {
    let has_change = |matches: fn(&Change) -> bool| plan.changes.iter().any(matches);
    match rule {
        "ban-drop-column" | "ban-drop-table" => plan.has_hazard(HazardKind::DataLoss),
        "adding-required-field" | "adding-not-nullable-field" => {
            plan.has_hazard(HazardKind::Validation)
        }
        // Exclusion constraints have no NOT VALID form, and a detach in a transaction
        // cannot be CONCURRENTLY; the plan says it holds the lock.
        "constraint-missing-not-valid" | "require-concurrent-partition-detach" => {
            plan.has_hazard(HazardKind::LongLock)
        }
        "changing-column-type" => has_change(|c| match c {
            Change::AlterColumn { from, to, .. } => {
                from.data_type != to.data_type || from.collation != to.collation
            }
            Change::RecreateEnum { .. } | Change::AlterCompositeType { .. } => true,
            _ => false,
        }),
        // squawk assumes any non-constant default rewrites the table; PostgreSQL only
        // rewrites for volatile ones, which the plan flags as table_rewrite.
        "adding-field-with-default" => {
            plan.has_hazard(HazardKind::TableRewrite)
                || has_change(
                    |c| matches!(c, Change::AddColumn { column, .. } if column.default.is_some()),
                )
        }
        "ban-drop-constraint" => has_change(|c| {
            matches!(
                c,
                Change::DropCheck { .. }
                    | Change::DropForeignKey { .. }
                    | Change::DropUnique { .. }
                    | Change::DropExclusion { .. }
                    | Change::SetPrimaryKey { to: None, .. }
                    | Change::AlterDomain { .. }
            )
        }),
        "ban-drop-not-null" => has_change(|c| match c {
            Change::AlterColumn { from, to, .. } => !from.nullable && to.nullable,
            Change::AlterDomain { from, to } => from.not_null && !to.not_null,
            _ => false,
        }),
        "ban-drop-default" => has_change(|c| match c {
            Change::AlterColumn { from, .. } => from.default.is_some(),
            Change::AlterDomain { from, .. } => from.default.is_some(),
            _ => false,
        }),
        "ban-alter-identity" => has_change(
            |c| matches!(c, Change::AlterColumn { from, to, .. } if from.identity != to.identity),
        ),
        "renaming-column" => has_change(|c| matches!(c, Change::RenameColumn { .. })),
        "renaming-table" => has_change(|c| matches!(c, Change::RenameTable { .. })),
        "renaming-object" => has_change(|c| {
            matches!(
                c,
                Change::RenameIndex { .. }
                    | Change::RecreateEnum { .. }
                    | Change::RenameTable { .. }
                    | Change::RenamePolicy { .. }
                    | Change::RenameObject { .. }
            )
        }),
        // squawk does not see that a materialized view created in the same transaction
        // is new, so a plain index on it blocks nobody.
        "require-concurrent-index-creation" => has_change(
            |c| matches!(c, Change::CreateView { view } if view.materialized && !view.indexes.is_empty()),
        ),
        "ban-drop-view" => has_change(|c| matches!(c, Change::DropView { .. })),
        "ban-drop-type" => has_change(|c| {
            matches!(
                c,
                Change::DropEnum { .. }
                    | Change::RecreateEnum { .. }
                    | Change::DropCompositeType { .. }
                    | Change::AlterCompositeType { .. }
                    | Change::DropRangeType { .. }
                    | Change::ReplaceRangeType { .. }
            )
        }),
        "ban-drop-function" => has_change(|c| {
            matches!(
                c,
                Change::DropFunction { .. } | Change::ReplaceFunction { .. }
            )
        }),
        "ban-drop-sequence" => has_change(|c| matches!(c, Change::DropSequence { .. })),
        "ban-drop-schema" => has_change(|c| matches!(c, Change::DropNamespace { .. })),
        "ban-drop-extension" => has_change(|c| matches!(c, Change::DropExtension { .. })),
        "ban-drop-domain" => has_change(|c| matches!(c, Change::DropDomain { .. })),
        "ban-create-domain-with-constraint" => {
            has_change(|c| matches!(c, Change::CreateDomain { .. }))
        }
        "ban-alter-domain-with-add-constraint" => {
            has_change(|c| matches!(c, Change::AlterDomain { .. }))
        }
        _ => false,
    }
}
