//! Revisions and their files: `migrations/<id>_<slug>.toml`, with optional SQL files
//! beside it (`<id>_<slug>.up.sql`, `<id>_<slug>.down.sql`, or per dialect
//! `<id>_<slug>.up.sqlite.sql`).
//!
//! A revision's checksum is the SHA-256 of its body (up and down, with the SQL files'
//! text), so editing any part of what runs changes it; the message does not count.

use super::code::{Code, Migration};
use crate::change::Change;
use crate::diff::{diff, DiffOptions};
use crate::error::{Error, Result};
use crate::model::Schema;
use crate::plan::Dialect;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The `sql` key of SQL that runs on every dialect (from `<stem>.up.sql`).
pub const ANY_DIALECT: &str = "any";

/// Length of a generated revision id, in hex digits.
pub const ID_LENGTH: usize = 12;

/// One direction of a revision: dialect-neutral operations, then raw SQL for the
/// database's dialect, in one transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Body {
    /// Dialect-neutral operations, planned by the driver (SQLite gets rebuilds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operations: Vec<Change>,
    /// Raw SQL by dialect (`sqlite`, `postgres`, or `any`), run after the operations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sql: BTreeMap<String, String>,
}

impl Body {
    /// Whether the body does nothing (a merge revision, say).
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty() && self.sql.is_empty()
    }

    /// The raw SQL to run on `dialect`: its own, else the `any` SQL.
    pub fn sql_for(&self, dialect: Dialect) -> Option<&str> {
        self.sql
            .get(dialect_key(dialect))
            .or_else(|| self.sql.get(ANY_DIALECT))
            .map(String::as_str)
    }

    /// Checks that a body with SQL has SQL for `dialect` (`revision` names it in the error).
    pub fn check_dialect(&self, dialect: Dialect, revision: &str, direction: &str) -> Result<()> {
        if !self.sql.is_empty() && self.sql_for(dialect).is_none() {
            return Err(Error::Revision(format!(
                "revision {revision} has {direction} SQL only for {} and none for {dialect}",
                self.sql.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        Ok(())
    }
}

/// The `sql` key of a dialect: `sqlite` or `postgres`.
pub fn dialect_key(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "sqlite",
        Dialect::Postgres => "postgres",
    }
}

/// A revision as its TOML file holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revision {
    /// The revision id (12 hex digits when generated).
    pub id: String,
    /// Parent revisions: none for a base, one, or several for a merge.
    #[serde(default)]
    pub parents: Vec<String>,
    /// What the revision does.
    #[serde(default)]
    pub message: String,
    /// A label naming the branch this revision starts (`label@head` targets its head).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch_label: Option<String>,
    /// What `upgrade` runs.
    #[serde(default)]
    pub up: Body,
    /// What `downgrade` runs.
    #[serde(default)]
    pub down: Body,
    /// The file the revision was loaded from (not part of the file).
    #[serde(skip)]
    pub path: Option<PathBuf>,
    /// Rust code run after the bodies, for revisions registered in code.
    #[serde(skip)]
    pub code: Option<Code>,
}

impl Revision {
    /// A new revision with a fresh id, these parents and this message, and empty bodies.
    pub fn new(parents: Vec<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        Revision {
            id: new_id(&message),
            parents,
            message,
            ..Revision::default()
        }
    }

    /// A revision whose up is the diff from `from` to `to` and whose down is its
    /// reverse (autogenerate); both bodies are empty when the schemas are equal.
    pub fn from_diff(
        parents: Vec<String>,
        message: impl Into<String>,
        from: &Schema,
        to: &Schema,
        options: &DiffOptions,
    ) -> Self {
        let mut revision = Revision::new(parents, message);
        revision.up.operations = diff(from, to, options);
        revision.down.operations = revision
            .up
            .operations
            .iter()
            .rev()
            .map(Change::reverse)
            .collect();
        revision
    }

    /// A revision registered in code: `migration` runs after the (empty) bodies, which
    /// the caller may fill with operations or SQL too.
    pub fn from_code(
        id: impl Into<String>,
        parents: Vec<String>,
        message: impl Into<String>,
        migration: Arc<dyn Migration>,
    ) -> Self {
        Revision {
            id: id.into(),
            parents,
            message: message.into(),
            code: Some(Code(migration)),
            ..Revision::default()
        }
    }

    /// SHA-256 (hex) of the body: up and down, SQL files included, and the code's
    /// version for a revision registered in code.
    pub fn checksum(&self) -> String {
        let canonical = match &self.code {
            None => serde_json::to_vec(&(&self.up, &self.down)),
            Some(code) => serde_json::to_vec(&(&self.up, &self.down, code.0.version())),
        }
        .unwrap_or_else(|_| self.id.clone().into());
        hex(&Sha256::digest(&canonical))
    }

    /// The body of one direction.
    pub fn body(&self, direction: super::Direction) -> &Body {
        match direction {
            super::Direction::Up => &self.up,
            super::Direction::Down => &self.down,
        }
    }

    /// Where the revision lives, for messages: its file, or `(in code)`.
    pub fn origin(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| "(in code)".to_string(), |p| p.display().to_string())
    }

    /// The file name for this revision: `<id>_<slug>.toml`.
    pub fn file_name(&self) -> String {
        let slug = slug(&self.message);
        if slug.is_empty() {
            format!("{}.toml", self.id)
        } else {
            format!("{}_{slug}.toml", self.id)
        }
    }

    /// The revision as TOML file text.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self)
            .map_err(|e| Error::Revision(format!("cannot write revision {} as TOML: {e}", self.id)))
    }

    /// Writes the revision into `dir` as `<id>_<slug>.toml` and returns the path.
    pub fn write(&self, dir: &Path) -> Result<PathBuf> {
        let path = dir.join(self.file_name());
        let mut text = self.to_toml()?;
        if self.up.is_empty() && self.down.is_empty() {
            text.push_str(TEMPLATE_HINT);
        }
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
        Ok(path)
    }

    /// Reads a revision file and the SQL files beside it.
    pub fn load(path: &Path) -> Result<Revision> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut revision: Revision = toml::from_str(&text).map_err(|e| {
            Error::Revision(format!(
                "revision file {} is not valid: {}",
                path.display(),
                e.message()
            ))
        })?;
        if revision.id.trim().is_empty() {
            return Err(Error::Revision(format!(
                "revision file {} has no id",
                path.display()
            )));
        }
        for body in [&revision.up, &revision.down] {
            if let Some(key) = body.sql.keys().find(|k| !known_key(k)) {
                return Err(Error::Revision(format!(
                    "revision file {} has SQL for unknown dialect `{key}` (use sqlite, postgres or any)",
                    path.display()
                )));
            }
        }
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = path.parent().unwrap_or(Path::new("."));
        for (direction, body) in [("up", &mut revision.up), ("down", &mut revision.down)] {
            for key in [ANY_DIALECT, "sqlite", "postgres"] {
                let name = if key == ANY_DIALECT {
                    format!("{stem}.{direction}.sql")
                } else {
                    format!("{stem}.{direction}.{key}.sql")
                };
                let file = dir.join(&name);
                if !file.is_file() {
                    continue;
                }
                let sql = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
                if body.sql.insert(key.to_string(), sql).is_some() {
                    return Err(Error::Revision(format!(
                        "revision {} has {direction} SQL for {key} both in {} and in {name}",
                        revision.id,
                        path.display()
                    )));
                }
            }
        }
        revision.path = Some(path.to_path_buf());
        Ok(revision)
    }
}

const TEMPLATE_HINT: &str = r#"
# Fill in what upgrade and downgrade run, as dialect-neutral operations
# (planned by the driver), raw SQL per dialect (run after the operations), or both:
#
# [[up.operations]]
# kind = "add_column"
# table = "users"
# column = { name = "email", type = "TEXT" }
#
# [up.sql]
# sqlite = "UPDATE users SET email = '';"
#
# SQL can also live beside this file: <file stem>.up.sql, <file stem>.down.sql,
# or per dialect <file stem>.up.sqlite.sql.
"#;

fn known_key(key: &str) -> bool {
    matches!(key, ANY_DIALECT | "sqlite" | "postgres")
}

/// A fresh 12-hex-digit id: SHA-256 of the clock, the process and `seed`.
pub fn new_id(seed: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let input = format!("{nanos}:{}:{count}:{seed}", std::process::id());
    hex(&Sha256::digest(input.as_bytes()))
        .chars()
        .take(ID_LENGTH)
        .collect()
}

/// A file-name slug of a message: lower case, words joined by `_`, at most 40 characters.
pub fn slug(message: &str) -> String {
    let words: Vec<String> = message
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let mut out = String::new();
    for word in words {
        if out.len() + word.len() + 1 > 40 {
            break;
        }
        if !out.is_empty() {
            out.push('_');
        }
        out.push_str(&word);
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::model::{Column, Table};

    fn with_table() -> Revision {
        let mut table = Table::new("users");
        table.columns.push(Column::new("id", "INTEGER"));
        let mut revision = Revision::new(Vec::new(), "Create users!");
        revision.up.operations.push(Change::CreateTable {
            table: table.clone(),
        });
        revision.down.operations.push(Change::DropTable { table });
        revision
    }

    #[test]
    fn generated_ids_are_twelve_hex_digits_and_differ() {
        let a = new_id("x");
        let b = new_id("x");
        assert_eq!(a.len(), ID_LENGTH);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn file_name_is_id_and_slug() {
        let revision = with_table();
        assert_eq!(
            revision.file_name(),
            format!("{}_create_users.toml", revision.id)
        );
    }

    #[test]
    fn toml_round_trip_keeps_operations_and_checksum() {
        let dir = tempfile_dir();
        let revision = with_table();
        let path = revision.write(&dir).unwrap();
        let loaded = Revision::load(&path).unwrap();
        assert_eq!(loaded.up, revision.up);
        assert_eq!(loaded.down, revision.down);
        assert_eq!(loaded.checksum(), revision.checksum());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sql_files_beside_the_toml_join_the_body_and_the_checksum() {
        let dir = tempfile_dir();
        let revision = Revision::new(Vec::new(), "raw");
        let path = revision.write(&dir).unwrap();
        let before = Revision::load(&path).unwrap().checksum();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        std::fs::write(
            dir.join(format!("{stem}.up.sqlite.sql")),
            "CREATE TABLE t(a);",
        )
        .unwrap();
        let loaded = Revision::load(&path).unwrap();
        assert_eq!(
            loaded.up.sql_for(Dialect::Sqlite),
            Some("CREATE TABLE t(a);")
        );
        assert_eq!(loaded.up.sql_for(Dialect::Postgres), None);
        assert!(loaded
            .up
            .check_dialect(Dialect::Postgres, &loaded.id, "up")
            .is_err());
        assert_ne!(loaded.checksum(), before);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unknown_sql_dialect_is_refused() {
        let dir = tempfile_dir();
        let path = dir.join("abc_x.toml");
        std::fs::write(&path, "id = \"abc\"\n[up.sql]\nmysql = \"x\"\n").unwrap();
        let err = Revision::load(&path).unwrap_err().to_string();
        assert!(err.contains("unknown dialect `mysql`"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("schemasync-rev-{}", new_id("dir")));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
