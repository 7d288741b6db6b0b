//! Importer for sqldef's YAML test cases (`../shared/conformance/sqldef/<dialect>/*.yml`,
//! semantics in that folder's README): each top-level key is a case.
//!
//! | sqldef field | our case |
//! |---|---|
//! | `current`, `desired` | the same |
//! | `up`, `down` | not compared (another tool's SQL); `down` makes the case reversible |
//! | `error` | the case expects an error and nothing changed |
//! | `enable_drop` (default true) | true: data loss allowed; false: not allowed, so a plan that drops a table or column must be refused with nothing changed |
//! | `min_version`, `max_version` | skipped outside the bounds, with the reason |
//! | `user`, `managed_roles`, `manage`, `flavor` | skipped: they depend on sqldef's test roles or modes |
//! | `legacy_ignore_quotes`, `config`, `offline` | ignored: quoting is always exact for us, indexes on existing tables are always built concurrently, and we always plan against a live database |

use crate::case::{dialect_name, Case, CaseFile, Fields, Origin};
use crate::error::{ConformanceError, Result};
use schemasync_core::Dialect;
use serde_norway::Value;
use std::path::Path;

/// sqldef options whose cases we skip, with the reason.
const UNMODELLED_OPTIONS: [(&str, &str); 4] = [
    (
        "user",
        "runs as sqldef's test role psqldef_user, whose default schema we do not set up",
    ),
    (
        "managed_roles",
        "privileges and roles are not managed (SPEC §6)",
    ),
    (
        "manage",
        "sqldef's manage option selects sqldef-only behaviour",
    ),
    (
        "flavor",
        "targets another server flavour (MariaDB, TiDB, …)",
    ),
];

/// sqldef fields that do not change what we check.
const IGNORED_FIELDS: [&str; 5] = ["up", "legacy_ignore_quotes", "config", "offline", "down"];

/// Loads every `*.yml` file in `dir` as cases for `dialect`, whose engine has
/// `version`. Cases are named `sqldef/<dialect>/<key>`.
pub fn load_dir(dir: &Path, dialect: Dialect, version: &str) -> Result<Vec<Case>> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| ConformanceError::io(dir, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    paths.sort();
    let mut cases = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|e| ConformanceError::io(&path, e))?;
        cases.extend(parse_file(&text, &path, dialect, version)?);
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(cases)
}

/// The cases of one sqldef YAML file.
pub fn parse_file(text: &str, path: &Path, dialect: Dialect, version: &str) -> Result<Vec<Case>> {
    let document: Value =
        serde_norway::from_str(text).map_err(|e| ConformanceError::format(path, e.to_string()))?;
    let Value::Mapping(entries) = document else {
        return Err(ConformanceError::format(path, "expected a map of cases"));
    };
    let mut cases = Vec::new();
    for (key, value) in entries {
        let Some(key) = key.as_str() else {
            return Err(ConformanceError::format(
                path,
                "a case name is not a string",
            ));
        };
        let Value::Mapping(fields) = value else {
            return Err(ConformanceError::format(
                path,
                format!("case {key} is not a map"),
            ));
        };
        let field = |name: &str| fields.get(name);
        let text_of = |name: &str| field(name).and_then(Value::as_str).map(str::to_string);
        let enable_drop = field("enable_drop")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let mut out = Fields {
            current: text_of("current"),
            desired: text_of("desired"),
            allow_data_loss: Some(enable_drop),
            data_loss_guard: Some(!enable_drop),
            reversible: Some(field("down").is_some()),
            error: Some(field("error").is_some()),
            ..Fields::default()
        };
        out.skip = skip_reason(&fields, version);
        if let Some(unknown) = fields.keys().filter_map(Value::as_str).find(|k| {
            !IGNORED_FIELDS.contains(k)
                && !UNMODELLED_OPTIONS.iter().any(|(o, _)| o == k)
                && ![
                    "current",
                    "desired",
                    "enable_drop",
                    "error",
                    "min_version",
                    "max_version",
                ]
                .contains(k)
        }) {
            out.skip = Some(format!(
                "sqldef option `{unknown}` is not known to the importer"
            ));
        }
        let description = format!(
            "sqldef {} case {key} from {}",
            dialect_name(dialect),
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        );
        cases.push(Case {
            name: format!("sqldef/{}/{key}", dialect_name(dialect)),
            origin: Origin::External(path.to_path_buf()),
            file: CaseFile {
                description,
                dialects: Some(vec![dialect]),
                fields: out,
                sqlite: None,
                postgres: None,
            },
        });
    }
    Ok(cases)
}

/// Why a case with these fields is not run on an engine of `version`, if it is not.
fn skip_reason(fields: &serde_norway::Mapping, version: &str) -> Option<String> {
    for (option, reason) in UNMODELLED_OPTIONS {
        if fields.get(option).is_some() {
            return Some(format!("sqldef option `{option}`: {reason}"));
        }
    }
    let bound = |name: &str| {
        fields.get(name).and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    if let Some(min) = bound("min_version") {
        if version_key(version) < version_key(&min) {
            return Some(format!("needs version {min} or later (we run {version})"));
        }
    }
    if let Some(max) = bound("max_version") {
        if version_key(version) > version_key(&max) {
            return Some(format!("needs version {max} or earlier (we run {version})"));
        }
    }
    None
}

/// `15.20` → `[15, 20]`, for comparing versions (missing parts count as 0).
fn version_key(version: &str) -> Vec<u64> {
    let mut key: Vec<u64> = version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|part| !part.is_empty())
        .map(|part| part.parse().unwrap_or(0))
        .collect();
    while key.last() == Some(&0) {
        key.pop();
    }
    key
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const YAML: &str = r#"
AddColumn:
  current: |
    CREATE TABLE t (a int);
  desired: |
    CREATE TABLE t (a int, b int);
  up: ALTER TABLE t ADD COLUMN b int;
  down: ALTER TABLE t DROP COLUMN b;
NoDrop:
  current: CREATE TABLE t (a int);
  enable_drop: false
Newer:
  desired: CREATE TABLE t (a int);
  min_version: "18.0"
Roles:
  desired: CREATE TABLE t (a int);
  user: psqldef_user
Bad:
  desired: CREATE TABLE t (a int, a int);
  error: "duplicate"
"#;

    #[test]
    fn sqldef_fields_map_to_case_fields() {
        let cases = parse_file(YAML, Path::new("x.yml"), Dialect::Postgres, "15.20").unwrap();
        let by = |name: &str| {
            cases
                .iter()
                .find(|c| c.name == format!("sqldef/postgres/{name}"))
                .unwrap()
                .resolve(Dialect::Postgres)
        };
        let add = by("AddColumn").unwrap();
        assert!(add.reversible && add.allow_data_loss);
        let no_drop = by("NoDrop").unwrap();
        assert!(!no_drop.allow_data_loss);
        assert_eq!(
            no_drop.expect,
            crate::case::Expect::AppliesUnlessRefused(schemasync_core::HazardKind::DataLoss)
        );
        assert!(by("Newer").unwrap_err().contains("18.0"));
        assert!(by("Roles").unwrap_err().contains("psqldef_user"));
        assert_eq!(by("Bad").unwrap().expect, crate::case::Expect::Error);
    }

    #[test]
    fn versions_compare_numerically() {
        assert!(version_key("15.20") < version_key("18.0"));
        assert!(version_key("15.20") > version_key("9.1"));
        assert!(version_key("15") >= version_key("15.0"));
    }
}
