//! Plans: the SQL a driver will run for a list of changes, step by step, with hazards.
//!
//! A plan is data. Drivers build it ([`crate::Driver::plan`]) and run it
//! ([`crate::Driver::apply`]); the CLI prints it. Nothing here talks to a database.

use crate::change::Change;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The SQL dialect a plan or schema belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dialect::Sqlite => "SQLite",
            Dialect::Postgres => "PostgreSQL",
        })
    }
}

/// The kinds of risk a step can carry (SPEC §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HazardKind {
    /// Drops a table or column, narrows a type, or drops a virtual table's content.
    DataLoss,
    /// Rewrites a table (copies every row).
    TableRewrite,
    /// Holds a lock that blocks writes while it scans or rewrites.
    LongLock,
    /// Can fail on existing rows; checked against the data before anything changes.
    Validation,
    /// Builds an index on a table that holds rows.
    IndexBuild,
}

impl HazardKind {
    /// The name used in output and case files (`data_loss`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            HazardKind::DataLoss => "data_loss",
            HazardKind::TableRewrite => "table_rewrite",
            HazardKind::LongLock => "long_lock",
            HazardKind::Validation => "validation",
            HazardKind::IndexBuild => "index_build",
        }
    }
}

impl fmt::Display for HazardKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One risk of one step, naming the object it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hazard {
    /// The kind of risk.
    pub kind: HazardKind,
    /// The object concerned, e.g. `users.email`.
    pub object: String,
    /// One sentence saying what can go wrong.
    pub message: String,
}

impl Hazard {
    /// A hazard of `kind` on `object`.
    pub fn new(kind: HazardKind, object: impl Into<String>, message: impl Into<String>) -> Self {
        Hazard {
            kind,
            object: object.into(),
            message: message.into(),
        }
    }
}

/// A check run against the data before anything changes, for a `validation` hazard.
///
/// `violations_sql` returns one row per offending row, first column a printable key;
/// the driver counts them and shows a few.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataCheck {
    /// What must hold, as a sentence fragment: `add NOT NULL to users.email`.
    pub description: String,
    /// What to do when rows violate it.
    pub remedy: String,
    /// Query listing the keys of the offending rows.
    pub violations_sql: String,
}

impl DataCheck {
    /// How many offending keys a refusal shows.
    pub const SAMPLE: usize = 5;

    /// The refusal for `count` offending rows, of which `sample` are the first keys
    /// (at most [`DataCheck::SAMPLE`] are shown).
    pub fn refusal(&self, count: u64, sample: &[String]) -> crate::Error {
        let shown = &sample[..sample.len().min(Self::SAMPLE)];
        let more = if count as usize > shown.len() {
            ", …"
        } else {
            ""
        };
        crate::Error::ValidationFailed {
            description: self.description.clone(),
            count,
            sample: format!("{}{more}", shown.join("; ")),
            remedy: self.remedy.clone(),
        }
    }
}

/// One step of a plan: statements that run together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// What the step does, naming the object.
    pub description: String,
    /// The statements, in order.
    pub sql: Vec<String>,
    /// Whether the step runs inside the plan's transaction.
    pub transactional: bool,
    /// The lock the step takes, where the dialect documents one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock: Option<String>,
    /// Risks of this step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hazards: Vec<Hazard>,
    /// Checks against the data run before the plan starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<DataCheck>,
}

impl Step {
    /// A transactional step with these statements and no hazards.
    pub fn new(description: impl Into<String>, sql: Vec<String>) -> Self {
        Step {
            description: description.into(),
            sql,
            transactional: true,
            lock: None,
            hazards: Vec::new(),
            checks: Vec::new(),
        }
    }

    /// Adds a hazard (builder style).
    pub fn with_hazard(mut self, hazard: Hazard) -> Self {
        self.hazards.push(hazard);
        self
    }

    /// Adds a data check (builder style).
    pub fn with_check(mut self, check: DataCheck) -> Self {
        self.checks.push(check);
        self
    }
}

/// An ordered plan for one database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The dialect the SQL is written for.
    pub dialect: Dialect,
    /// The dialect-neutral changes the plan carries out.
    pub changes: Vec<Change>,
    /// The steps, in the order they run.
    pub steps: Vec<Step>,
}

impl Plan {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Every hazard of every step, in step order.
    pub fn hazards(&self) -> impl Iterator<Item = &Hazard> {
        self.steps.iter().flat_map(|s| s.hazards.iter())
    }

    /// Whether any step carries a hazard of this kind.
    pub fn has_hazard(&self, kind: HazardKind) -> bool {
        self.hazards().any(|h| h.kind == kind)
    }

    /// Refuses a plan with `data_loss` hazards unless the caller allows them, naming the
    /// objects whose data would be lost.
    pub fn refuse_data_loss(&self, allowed: bool) -> crate::Result<()> {
        let objects: Vec<&str> = self
            .hazards()
            .filter(|h| h.kind == HazardKind::DataLoss)
            .map(|h| h.object.as_str())
            .collect();
        if allowed || objects.is_empty() {
            Ok(())
        } else {
            Err(crate::Error::DataLossRefused {
                objects: objects.join(", "),
            })
        }
    }

    /// Every data check of every step.
    pub fn checks(&self) -> impl Iterator<Item = &DataCheck> {
        self.steps.iter().flat_map(|s| s.checks.iter())
    }

    /// The whole plan as one SQL script, a comment line before each step.
    pub fn to_sql(&self) -> String {
        let mut out = String::new();
        for step in &self.steps {
            out.push_str("-- ");
            out.push_str(&step.description);
            out.push('\n');
            for statement in &step.sql {
                out.push_str(statement);
                if !statement.trim_end().ends_with(';') {
                    out.push(';');
                }
                out.push('\n');
            }
        }
        out
    }
}
