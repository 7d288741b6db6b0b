//! The `schemasync_history` table: one row per apply, written in the apply's transaction.
//!
//! Introspection never reports this table (it ignores `schemasync_*`).

use crate::driver::sqlite_error;
use rusqlite::{params, Connection, OptionalExtension};
use schemasync_core::Result;

/// Name of the history table.
pub(crate) const HISTORY_TABLE: &str = "schemasync_history";

/// One recorded apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// When it was applied (UTC, RFC 3339).
    pub applied_at: String,
    /// SHA-256 of the desired schema.
    pub schema_hash: String,
    /// The user's label, if one was given.
    pub label: Option<String>,
    /// What was done, one change per line.
    pub summary: String,
    /// The schemasync version that applied it.
    pub tool_version: String,
}

fn table_exists(conn: &Connection) -> Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
        [HISTORY_TABLE],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n > 0)
    .map_err(|e| sqlite_error("cannot read the history table", e))
}

/// Appends an entry, creating the table on first use.
pub(crate) fn record(conn: &Connection, entry: &HistoryEntry) -> Result<()> {
    conn.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {HISTORY_TABLE} (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            applied_at TEXT NOT NULL,
            schema_hash TEXT NOT NULL,
            label TEXT,
            summary TEXT NOT NULL,
            tool_version TEXT NOT NULL
        )"
    ))
    .map_err(|e| sqlite_error("cannot create the history table", e))?;
    conn.execute(
        &format!(
            "INSERT INTO {HISTORY_TABLE} (applied_at, schema_hash, label, summary, tool_version) VALUES (?1, ?2, ?3, ?4, ?5)"
        ),
        params![
            entry.applied_at,
            entry.schema_hash,
            entry.label,
            entry.summary,
            entry.tool_version
        ],
    )
    .map_err(|e| sqlite_error("cannot record the apply in the history table", e))?;
    Ok(())
}

/// Every recorded apply, oldest first.
fn entries(conn: &Connection) -> Result<Vec<HistoryEntry>> {
    if !table_exists(conn)? {
        return Ok(Vec::new());
    }
    let context = "cannot read the history table";
    let mut statement = conn
        .prepare(&format!(
            "SELECT applied_at, schema_hash, label, summary, tool_version FROM {HISTORY_TABLE} ORDER BY id"
        ))
        .map_err(|e| sqlite_error(context, e))?;
    let rows = statement
        .query_map([], |r| {
            Ok(HistoryEntry {
                applied_at: r.get(0)?,
                schema_hash: r.get(1)?,
                label: r.get(2)?,
                summary: r.get(3)?,
                tool_version: r.get(4)?,
            })
        })
        .map_err(|e| sqlite_error(context, e))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| sqlite_error(context, e))
}

impl crate::SqliteDriver {
    /// Every apply recorded in this database, oldest first.
    pub fn history(&self) -> Result<Vec<HistoryEntry>> {
        entries(&self.conn)
    }
}

/// The label of the last apply, else the first 12 characters of its schema hash.
pub(crate) fn last_version(conn: &Connection) -> Result<Option<String>> {
    if !table_exists(conn)? {
        return Ok(None);
    }
    conn.query_row(
        &format!("SELECT label, schema_hash FROM {HISTORY_TABLE} ORDER BY id DESC LIMIT 1"),
        [],
        |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, String>(1)?)),
    )
    .optional()
    .map(|row| row.map(|(label, hash)| label.unwrap_or_else(|| hash.chars().take(12).collect())))
    .map_err(|e| sqlite_error("cannot read the history table", e))
}
