//! The checked-in list of cases we do not pass: skipped ones, each with the reason, and
//! known bugs, which still run and are reported as `known-bug`. A key is a case name,
//! or `name@dialect` for one dialect only (`postgres/function_before_check@postgres`).
//!
//! ```toml
//! [skip]
//! "sqldef/postgres/CreateDomain" = "domains are not modelled yet (issue 8)"
//!
//! [known_bug]
//! "sqldef/postgres/Foo" = "one-line symptom"
//! ```

use crate::case::dialect_name;
use crate::error::{ConformanceError, Result};
use schemasync_core::Dialect;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The entry for `case` on `dialect`: `case@dialect`, else `case`.
fn lookup<'a>(map: &'a BTreeMap<String, String>, case: &str, dialect: Dialect) -> Option<&'a str> {
    map.get(&format!("{case}@{}", dialect_name(dialect)))
        .or_else(|| map.get(case))
        .map(String::as_str)
}

/// The skip list's file name inside the corpus folder.
pub const SKIPS_FILE: &str = "external-skips.toml";

/// External cases we do not pass, by case name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Skips {
    /// Not run: deliberately unsupported, or desired SQL our engine version rejects.
    #[serde(default)]
    pub skip: BTreeMap<String, String>,
    /// Run, expected to fail because of a known driver bug; a pass is reported so the
    /// entry gets removed.
    #[serde(default)]
    pub known_bug: BTreeMap<String, String>,
}

impl Skips {
    /// Why `case` is skipped on `dialect`, if it is listed.
    pub fn skipped(&self, case: &str, dialect: Dialect) -> Option<&str> {
        lookup(&self.skip, case, dialect)
    }

    /// The known bug that makes `case` fail on `dialect`, if it is listed.
    pub fn known_bug(&self, case: &str, dialect: Dialect) -> Option<&str> {
        lookup(&self.known_bug, case, dialect)
    }

    /// Reads the list at `path`; a missing file is an empty list.
    pub fn load(path: &Path) -> Result<Skips> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Skips::default()),
            Err(e) => return Err(ConformanceError::io(path, e)),
        };
        let skips: Skips =
            toml::from_str(&text).map_err(|e| ConformanceError::format(path, e.to_string()))?;
        if let Some(name) = skips.skip.keys().find(|n| skips.known_bug.contains_key(*n)) {
            return Err(ConformanceError::format(
                path,
                format!("{name} is listed both as skipped and as a known bug"),
            ));
        }
        Ok(skips)
    }
}
