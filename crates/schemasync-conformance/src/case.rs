//! Conformance cases: the file format (see `docs/conformance.md`), loading a folder of
//! them, and resolving a case for one dialect (its fields with that dialect's overrides).

use crate::error::{ConformanceError, Result};
use schemasync_core::{Dialect, HazardKind};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Every dialect the suite runs, in table order.
pub const DIALECTS: [Dialect; 2] = [Dialect::Sqlite, Dialect::Postgres];

/// The short name of a dialect in case files, options and tables (`sqlite`, `postgres`).
pub fn dialect_name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "sqlite",
        Dialect::Postgres => "postgres",
    }
}

/// The fields of a case that a dialect section may override. Every field is optional;
/// see [`Resolved`] for the defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fields {
    /// SQL of the starting schema, run as is in a fresh database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    /// SQL of the target schema (rename hints allowed), normalised by the driver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired: Option<String>,
    /// SQL that inserts rows after `current` (the seed rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<String>,
    /// Apply with data loss allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_data_loss: Option<bool>,
    /// Also check desired → current (with data loss allowed) after a successful apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reversible: Option<bool>,
    /// The apply must be refused with this hazard, changing nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<HazardKind>,
    /// Loading the desired schema, planning or applying must fail (any error), changing
    /// nothing (sqldef's `error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<bool>,
    /// Apply without data loss allowed, and accept either outcome: a plan that drops data
    /// is refused with nothing changed, any other plan applies (sqldef's
    /// `enable_drop: false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_loss_guard: Option<bool>,
    /// Hazards the plan must carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hazards: Option<Vec<HazardKind>>,
    /// Change kinds (`add_column`, …) the plan must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<String>>,
    /// Queries run after a successful apply, each with the value it must return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probes: Option<Vec<Probe>>,
    /// Constraints left `NOT VALID` after the apply are expected (PostgreSQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_not_valid: Option<bool>,
    /// Do not run on this dialect, for this reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<String>,
}

impl Fields {
    /// These fields with every field `over` sets replacing ours.
    fn merged(&self, over: &Fields) -> Fields {
        Fields {
            current: over.current.clone().or_else(|| self.current.clone()),
            desired: over.desired.clone().or_else(|| self.desired.clone()),
            seed: over.seed.clone().or_else(|| self.seed.clone()),
            allow_data_loss: over.allow_data_loss.or(self.allow_data_loss),
            reversible: over.reversible.or(self.reversible),
            refused: over.refused.or(self.refused),
            error: over.error.or(self.error),
            data_loss_guard: over.data_loss_guard.or(self.data_loss_guard),
            hazards: over.hazards.clone().or_else(|| self.hazards.clone()),
            changes: over.changes.clone().or_else(|| self.changes.clone()),
            probes: over.probes.clone().or_else(|| self.probes.clone()),
            allow_not_valid: over.allow_not_valid.or(self.allow_not_valid),
            skip: over.skip.clone().or_else(|| self.skip.clone()),
        }
    }
}

/// A query run after the apply and the value it must return: its first row's first
/// column as text (`NULL` for null), e.g. the `sqlite_sequence` high-water mark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    /// The query.
    pub sql: String,
    /// The value it must return.
    pub expect: String,
}

/// One case file as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// One sentence: what the case proves.
    pub description: String,
    /// The dialects the case applies to (default: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialects: Option<Vec<Dialect>>,
    /// The fields shared by every dialect.
    #[serde(flatten)]
    pub fields: Fields,
    /// Overrides for SQLite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sqlite: Option<Fields>,
    /// Overrides for PostgreSQL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres: Option<Fields>,
}

/// What a case expects of the apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The plan applies and the database converges.
    Applies,
    /// `apply` refuses with this hazard and nothing changes.
    Refused(HazardKind),
    /// Some step fails (desired schema, plan or apply) and nothing changes.
    Error,
    /// The plan applies, unless `apply` refuses it with this hazard (`data_loss`:
    /// sqldef's `enable_drop: false`; `validation`: rows that violate the desired
    /// constraints): then nothing changes.
    AppliesUnlessRefused(HazardKind),
}

/// A case's fields for one dialect, defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// SQL of the starting schema.
    pub current: String,
    /// SQL of the target schema.
    pub desired: String,
    /// SQL inserting the seed rows.
    pub seed: String,
    /// Apply with data loss allowed.
    pub allow_data_loss: bool,
    /// Also check the reverse direction.
    pub reversible: bool,
    /// The expected outcome.
    pub expect: Expect,
    /// Hazards the plan must carry.
    pub hazards: Vec<HazardKind>,
    /// Change kinds the plan must contain.
    pub changes: Vec<String>,
    /// Queries and their expected values after the apply.
    pub probes: Vec<Probe>,
    /// `NOT VALID` constraints may remain.
    pub allow_not_valid: bool,
}

/// Where a case comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Our corpus, from this file.
    Own(PathBuf),
    /// An external corpus, from this file.
    External(PathBuf),
}

/// A loaded case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// Unique name: the file's path below the corpus folder without extension
    /// (`add_column`, `found/rt_1`), or `sqldef/<dialect>/<Name>` for external cases.
    pub name: String,
    /// Where it comes from.
    pub origin: Origin,
    /// The case as written.
    pub file: CaseFile,
}

impl Case {
    /// Whether the case names `dialect`.
    pub fn applies_to(&self, dialect: Dialect) -> bool {
        self.file
            .dialects
            .as_ref()
            .is_none_or(|dialects| dialects.contains(&dialect))
    }

    /// The case for `dialect`: `Ok` with the resolved fields, or `Err` with the reason it
    /// is skipped there.
    pub fn resolve(&self, dialect: Dialect) -> std::result::Result<Resolved, String> {
        let over = match dialect {
            Dialect::Sqlite => self.file.sqlite.as_ref(),
            Dialect::Postgres => self.file.postgres.as_ref(),
        };
        let fields = match over {
            Some(over) => self.file.fields.merged(over),
            None => self.file.fields.clone(),
        };
        if let Some(reason) = fields.skip {
            return Err(reason);
        }
        let expect = match (
            fields.refused,
            fields.error.unwrap_or(false),
            fields.data_loss_guard.unwrap_or(false),
        ) {
            (Some(hazard), _, _) => Expect::Refused(hazard),
            (None, true, _) => Expect::Error,
            (None, false, true) => Expect::AppliesUnlessRefused(HazardKind::DataLoss),
            (None, false, false) => Expect::Applies,
        };
        Ok(Resolved {
            current: fields.current.unwrap_or_default(),
            desired: fields.desired.unwrap_or_default(),
            seed: fields.seed.unwrap_or_default(),
            allow_data_loss: fields.allow_data_loss.unwrap_or(false),
            reversible: fields.reversible.unwrap_or(false),
            expect,
            hazards: fields.hazards.unwrap_or_default(),
            changes: fields.changes.unwrap_or_default(),
            probes: fields.probes.unwrap_or_default(),
            allow_not_valid: fields.allow_not_valid.unwrap_or(false),
        })
    }
}

/// Parses one case file's text.
pub fn parse_case(text: &str, path: &Path) -> Result<CaseFile> {
    toml::from_str(text).map_err(|e| ConformanceError::format(path, e.to_string()))
}

/// Loads every `*.toml` case below `dir` (recursively), sorted by name.
pub fn load_dir(dir: &Path) -> Result<Vec<Case>> {
    let mut files = Vec::new();
    collect_files(dir, &mut files)?;
    let mut cases = Vec::new();
    for path in files {
        let Ok(relative) = path.strip_prefix(dir) else {
            continue;
        };
        let name = relative
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let text = std::fs::read_to_string(&path).map_err(|e| ConformanceError::io(&path, e))?;
        let file = parse_case(&text, &path)?;
        cases.push(Case {
            name,
            origin: Origin::Own(path),
            file,
        });
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(cases)
}

/// Case files below `dir`: `*.toml` except the skip list.
fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| ConformanceError::io(dir, e))?;
    for entry in entries {
        let path = entry.map_err(|e| ConformanceError::io(dir, e))?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml")
            && path
                .file_name()
                .is_some_and(|n| n != crate::skips::SKIPS_FILE)
        {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_dialect_section_overrides_only_what_it_sets() {
        let file = parse_case(
            r#"
description = "d"
current = "CREATE TABLE t (a int);"
desired = "CREATE TABLE t (a int, b int);"
refused = "data_loss"
[postgres]
desired = "CREATE TABLE t (a bigint);"
[sqlite]
skip = "not here"
"#,
            Path::new("x.toml"),
        )
        .unwrap();
        let case = Case {
            name: "x".into(),
            origin: Origin::Own("x.toml".into()),
            file,
        };
        let pg = case.resolve(Dialect::Postgres).unwrap();
        assert_eq!(pg.current, "CREATE TABLE t (a int);");
        assert_eq!(pg.desired, "CREATE TABLE t (a bigint);");
        assert_eq!(pg.expect, Expect::Refused(HazardKind::DataLoss));
        assert_eq!(case.resolve(Dialect::Sqlite).unwrap_err(), "not here");
    }

    #[test]
    fn unknown_fields_are_errors() {
        assert!(parse_case("description = 'd'\ncurent = ''", Path::new("x.toml")).is_err());
    }
}
