//! Output formats: plans, drift and status as text for people and JSON for programs.
//!
//! Pure functions from library types to strings; nothing here reads a database or a
//! file. The JSON shapes are documented in `docs/guide.md` and must stay stable.

use crate::url::DatabaseUrl;
use schemasync_core::{Error, HazardKind, Plan, Result, Status, TableStatus};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Printed when a plan has no step.
pub(crate) const NO_CHANGES: &str = "No changes.";

/// Numbered steps, each with its SQL indented and its hazards, then a summary line.
pub(crate) fn plan_text(plan: &Plan) -> String {
    if plan.is_empty() {
        return format!("{NO_CHANGES}\n");
    }
    let mut out = String::new();
    for (number, step) in plan.steps.iter().enumerate() {
        let _ = write!(out, "{}. {}", number + 1, step.description);
        if !step.transactional {
            out.push_str(" [outside the transaction]");
        }
        out.push('\n');
        if let Some(lock) = &step.lock {
            let _ = writeln!(out, "   lock: {lock}");
        }
        for statement in &step.sql {
            let statement = statement.trim_end();
            let terminator = if statement.ends_with(';') { "" } else { ";" };
            let _ = writeln!(out, "{}{terminator}", indent(statement, "      "));
        }
        for hazard in &step.hazards {
            let _ = writeln!(
                out,
                "   ! {}: {} — {}",
                hazard.kind, hazard.object, hazard.message
            );
        }
    }
    out.push_str(&plan_summary(plan));
    out.push('\n');
    out
}

/// One line: `Plan: 3 steps, 2 hazards (data_loss, table_rewrite).`
pub(crate) fn plan_summary(plan: &Plan) -> String {
    let steps = plural(plan.steps.len(), "step", "steps");
    let hazards: Vec<HazardKind> = plan.hazards().map(|h| h.kind).collect();
    if hazards.is_empty() {
        return format!("Plan: {steps}, no hazards.");
    }
    let mut kinds = hazards.clone();
    kinds.sort();
    kinds.dedup();
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    format!(
        "Plan: {steps}, {} ({}).",
        plural(hazards.len(), "hazard", "hazards"),
        kinds.join(", ")
    )
}

/// The plan as pretty JSON (the serde form of [`Plan`]).
pub(crate) fn plan_json(plan: &Plan) -> Result<String> {
    to_json(plan)
}

/// The plan as the script the driver runs; a comment when there is nothing to do.
pub(crate) fn plan_sql(plan: &Plan, script: impl FnOnce(&Plan) -> String) -> String {
    if plan.is_empty() {
        return format!("-- {NO_CHANGES}\n");
    }
    script(plan)
}

/// What `check` prints on drift: each dialect-neutral change on its own line.
pub(crate) fn drift_text(plan: &Plan, schema_file: &str) -> String {
    let mut out = format!(
        "Drift: the database differs from {schema_file} ({}):\n",
        plural(plan.changes.len(), "change", "changes")
    );
    for change in &plan.changes {
        let _ = writeln!(out, "  - {}", change.describe());
    }
    out
}

/// `status` for people: the database, engine facts, then tables with row counts.
pub(crate) fn status_text(url: &DatabaseUrl, status: &Status) -> String {
    let mut out = format!("Database: {url}\nDialect: {}\n", status.dialect);
    for (key, value) in &status.properties {
        let _ = writeln!(out, "{key}: {value}");
    }
    if status.tables.is_empty() {
        out.push_str("Tables: none\n");
        return out;
    }
    let _ = writeln!(out, "Tables ({}):", status.tables.len());
    let name_width = status
        .tables
        .iter()
        .map(|t| t.name.chars().count())
        .max()
        .unwrap_or(0);
    let rows_width = status
        .tables
        .iter()
        .map(|t| t.rows.to_string().len())
        .max()
        .unwrap_or(0);
    let any_estimated = status.tables.iter().any(|t| t.rows_estimated);
    for table in &status.tables {
        let unit = if table.rows == 1 { "row" } else { "rows" };
        let approx = match (any_estimated, table.rows_estimated) {
            (false, _) => "",
            (true, true) => "~",
            (true, false) => " ",
        };
        let size = table
            .size_bytes
            .map(|bytes| format!(", {}", human_size(bytes)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:<name_width$}  {approx}{:>rows_width$} {unit}{size}",
            table.name, table.rows
        );
    }
    out
}

/// Bytes as a person reads them: `512 B`, `8.0 KiB`, `1.5 MiB`.
fn human_size(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

/// The stable JSON form of `status` (documented in docs/guide.md).
#[derive(Serialize)]
struct StatusJson<'a> {
    database: String,
    dialect: schemasync_core::Dialect,
    properties: BTreeMap<&'a str, &'a str>,
    tables: &'a [TableStatus],
}

/// `status` as pretty JSON.
pub(crate) fn status_json(url: &DatabaseUrl, status: &Status) -> Result<String> {
    to_json(&StatusJson {
        database: url.to_string(),
        dialect: status.dialect,
        properties: status
            .properties
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect(),
        tables: &status.tables,
    })
}

fn to_json(value: &impl Serialize) -> Result<String> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::Usage(format!("cannot render JSON: {e}")))?;
    text.push('\n');
    Ok(text)
}

fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|line| format!("{prefix}{line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The objects the driver leaves alone, listed once after a plan (empty when none).
pub(crate) fn unmanaged_text(objects: &[String]) -> String {
    if objects.is_empty() {
        return String::new();
    }
    let mut text = format!(
        "Not managed (left as they are, never drift): {} object(s)\n",
        objects.len()
    );
    for object in objects {
        text.push_str(&format!("  - {object}\n"));
    }
    text
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use schemasync_core::{Dialect, Hazard, Step};

    fn plan_with_two_steps() -> Plan {
        Plan {
            dialect: Dialect::Sqlite,
            changes: Vec::new(),
            steps: vec![
                Step::new(
                    "create table posts",
                    vec!["CREATE TABLE posts (\n  id INTEGER PRIMARY KEY\n)".to_string()],
                ),
                Step::new(
                    "drop column users.email",
                    vec!["ALTER TABLE users DROP COLUMN email;".to_string()],
                )
                .with_hazard(Hazard::new(
                    HazardKind::DataLoss,
                    "users.email",
                    "the column's values are lost",
                )),
            ],
        }
    }

    #[test]
    fn text_plan_numbers_steps_indents_sql_and_lists_hazards() {
        assert_eq!(
            plan_text(&plan_with_two_steps()),
            "1. create table posts\n\
             \x20     CREATE TABLE posts (\n\
             \x20       id INTEGER PRIMARY KEY\n\
             \x20     );\n\
             2. drop column users.email\n\
             \x20     ALTER TABLE users DROP COLUMN email;\n\
             \x20  ! data_loss: users.email — the column's values are lost\n\
             Plan: 2 steps, 1 hazard (data_loss).\n"
        );
    }

    #[test]
    fn empty_plan_says_no_changes() {
        let plan = Plan {
            dialect: Dialect::Sqlite,
            changes: Vec::new(),
            steps: Vec::new(),
        };
        assert_eq!(plan_text(&plan), "No changes.\n");
        assert_eq!(plan_sql(&plan, Plan::to_sql), "-- No changes.\n");
    }

    #[test]
    fn status_text_aligns_tables_and_counts() {
        let status = Status {
            dialect: Dialect::Sqlite,
            properties: vec![("journal_mode".to_string(), "wal".to_string())],
            tables: vec![
                TableStatus {
                    rows_estimated: false,
                    size_bytes: None,
                    name: "users".to_string(),
                    rows: 1,
                },
                TableStatus {
                    name: "posts_archive".to_string(),
                    rows: 120,
                    rows_estimated: true,
                    size_bytes: Some(1536),
                },
            ],
        };
        let url: DatabaseUrl = "sqlite://app.db".parse().unwrap();
        assert_eq!(
            status_text(&url, &status),
            "Database: sqlite://app.db\nDialect: SQLite\njournal_mode: wal\nTables (2):\n  \
             users             1 row\n  posts_archive  ~120 rows, 1.5 KiB\n"
        );
        let json: serde_json::Value =
            serde_json::from_str(&status_json(&url, &status).unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "database": "sqlite://app.db",
                "dialect": "sqlite",
                "properties": {"journal_mode": "wal"},
                "tables": [
                    {"name": "users", "rows": 1},
                    {"name": "posts_archive", "rows": 120, "rows_estimated": true, "size_bytes": 1536}
                ]
            })
        );
    }
}
