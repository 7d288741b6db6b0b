//! Loading a desired schema from a file or text: the one path every command takes from
//! `--schema FILE` to a [`Schema`] in the target engine's canonical form.
//!
//! This module owns the order of the steps — parse, validate, name, normalise, re-apply
//! rename hints — and the choice by file extension. It never talks SQL itself: a `.sql`
//! file and a hand-written model are normalised by the [`Driver`].

use crate::driver::Driver;
use crate::error::{Error, Result};
use crate::format::{parse_schema, validate, SchemaFormat};
use crate::hints::RenameHints;
use crate::model::Schema;
use crate::naming::NamingConvention;
use std::path::Path;

/// Reads the desired schema at `path` and puts it in `driver`'s canonical form.
///
/// - `.sql`: the driver runs the DDL in a scratch database
///   ([`Driver::normalize_sql`]); rename-hint comments are then applied. Names stay as
///   the engine gives them; `naming` is not used.
/// - `.toml`, `.json`, `.yaml`, `.yml`: see [`load_desired_text`].
///
/// Hints match names ASCII case-insensitively when the driver's
/// [`DiffOptions::case_insensitive_names`](crate::DiffOptions) says so.
///
/// Errors: [`Error::Io`] when the file cannot be read, [`Error::SchemaFile`] (naming the
/// file) when it cannot be parsed or is not a valid schema, [`Error::Usage`] for any other
/// extension or a bad naming convention, and whatever the driver reports.
pub fn load_desired(
    path: &Path,
    driver: &mut dyn Driver,
    naming: &NamingConvention,
) -> Result<Schema> {
    let is_sql = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("sql"));
    let format = SchemaFormat::from_path(path);
    if !is_sql && format.is_none() {
        return Err(Error::Usage(format!(
            "cannot tell the format of schema file {}: use a .sql, .toml, .json, .yaml or .yml file",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    match format {
        None => {
            let mut schema = driver.normalize_sql(&text)?;
            let case_insensitive = driver.diff_options().case_insensitive_names;
            RenameHints::from_sql(&text).apply(&mut schema, case_insensitive)?;
            Ok(schema)
        }
        Some(format) => {
            load_desired_text(&text, format, driver, naming).map_err(|error| match error {
                Error::InvalidSchema(message) => Error::SchemaFile {
                    path: path.to_path_buf(),
                    message,
                },
                other => other,
            })
        }
    }
}

/// Turns the TOML/JSON/YAML form of a schema into `driver`'s canonical form: parse,
/// [`validate`], name unnamed constraints and indexes with `naming`, normalise with
/// [`Driver::normalize_model`], then put the model's rename hints back on the result.
///
/// Errors: [`Error::InvalidSchema`] when the text does not parse or is not valid,
/// [`Error::Usage`] for a bad naming convention, and whatever the driver reports.
pub fn load_desired_text(
    text: &str,
    format: SchemaFormat,
    driver: &mut dyn Driver,
    naming: &NamingConvention,
) -> Result<Schema> {
    naming.validate()?;
    let mut schema = parse_schema(text, format)?;
    validate(&schema)?;
    naming.apply(&mut schema);
    let hints = RenameHints::from_model(&schema);
    let mut normalized = driver.normalize_model(&schema)?;
    hints.apply(
        &mut normalized,
        driver.diff_options().case_insensitive_names,
    )?;
    Ok(normalized)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::diff::DiffOptions;
    use crate::driver::{ApplyOptions, ApplyReport, Status};
    use crate::model::{Column, Table};
    use crate::plan::{Dialect, Plan};

    /// A test double for the trait: `normalize_model` returns its input without hints
    /// (as an introspected schema would be), `normalize_sql` returns the schema it was
    /// given; `source` calls nothing else.
    struct Echo {
        sql_result: Schema,
        case_insensitive: bool,
    }

    impl Driver for Echo {
        fn dialect(&self) -> Dialect {
            Dialect::Sqlite
        }
        fn diff_options(&self) -> DiffOptions {
            DiffOptions {
                case_insensitive_names: self.case_insensitive,
                ..DiffOptions::default()
            }
        }
        fn introspect(&mut self) -> Result<Schema> {
            unreachable!("source never introspects")
        }
        fn normalize_sql(&mut self, _: &str) -> Result<Schema> {
            Ok(self.sql_result.clone())
        }
        fn normalize_model(&mut self, schema: &Schema) -> Result<Schema> {
            Ok(schema.clone().without_hints())
        }
        fn render_sql(&self, _: &Schema) -> Vec<String> {
            unreachable!("source never renders")
        }
        fn plan(&mut self, _: &Schema, _: &Schema) -> Result<Plan> {
            unreachable!("source never plans")
        }
        fn apply(&mut self, _: &Plan, _: &Schema, _: &ApplyOptions) -> Result<ApplyReport> {
            unreachable!("source never applies")
        }
        fn backup(&mut self, _: &Path) -> Result<()> {
            unreachable!("source never backs up")
        }
        fn restore(&mut self, _: &Path) -> Result<()> {
            unreachable!("source never restores")
        }
        fn status(&mut self) -> Result<Status> {
            unreachable!("source never asks for status")
        }
    }

    fn driver() -> Echo {
        Echo {
            sql_result: Schema::default(),
            case_insensitive: true,
        }
    }

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn scratch_dir(test: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "schemasync-core-source-{test}-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    const TOML: &str = r#"
[[tables]]
name = "users"
renamed_from = "people"

[[tables.columns]]
name = "id"
type = "INTEGER"
nullable = false

[[tables.columns]]
name = "email"
type = "TEXT"
renamed_from = "mail"

[tables.primary_key]
columns = ["id"]

[[tables.indexes]]
parts = [{ column = "email" }]
renamed_from = "users_mail"
"#;

    #[test]
    fn toml_file_is_validated_named_normalised_and_keeps_its_hints() {
        let dir = scratch_dir("toml");
        let path = write(&dir, "schema.toml", TOML);
        let schema = load_desired(&path, &mut driver(), &NamingConvention::default()).unwrap();
        let users = &schema.tables[0];
        assert_eq!(users.renamed_from.as_deref(), Some("people"));
        assert_eq!(users.columns[1].renamed_from.as_deref(), Some("mail"));
        assert_eq!(
            users.primary_key.as_ref().unwrap().name.as_deref(),
            Some("pk_users")
        );
        assert_eq!(users.indexes[0].name, "ix_users_email");
        assert_eq!(users.indexes[0].renamed_from.as_deref(), Some("users_mail"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn json_and_yaml_text_load_the_same_schema_as_toml() {
        let naming = NamingConvention::default();
        let from_toml =
            load_desired_text(TOML, SchemaFormat::Toml, &mut driver(), &naming).unwrap();
        let model = crate::format::parse_schema(TOML, SchemaFormat::Toml).unwrap();
        for format in [SchemaFormat::Json, SchemaFormat::Yaml] {
            let text = crate::format::render_schema(&model, format).unwrap();
            let loaded = load_desired_text(&text, format, &mut driver(), &naming).unwrap();
            assert_eq!(loaded, from_toml, "{format}");
        }
    }

    #[test]
    fn sql_file_is_normalised_by_the_driver_and_gets_its_comment_hints() {
        let dir = scratch_dir("sql");
        let path = write(
            &dir,
            "schema.SQL",
            "CREATE TABLE Accounts ( -- @renamed from=users\n  B int -- schemasync: renamed_from=a\n);",
        );
        let mut accounts = Table::new("accounts");
        accounts.columns.push(Column::new("B", "INT"));
        let mut driver = Echo {
            sql_result: Schema {
                tables: vec![accounts],
                ..Schema::default()
            },
            case_insensitive: true,
        };
        let schema = load_desired(&path, &mut driver, &NamingConvention::default()).unwrap();
        assert_eq!(schema.tables[0].renamed_from.as_deref(), Some("users"));
        assert_eq!(
            schema.tables[0].columns[0].renamed_from.as_deref(),
            Some("a")
        );
        // Case-sensitive: "Accounts" finds "accounts" only through the lower-case fold, and
        // the quoted-looking "B" matches exactly.
        driver.case_insensitive = false;
        let schema = load_desired(&path, &mut driver, &NamingConvention::default()).unwrap();
        assert_eq!(schema.tables[0].renamed_from.as_deref(), Some("users"));
        assert_eq!(
            schema.tables[0].columns[0].renamed_from.as_deref(),
            Some("a")
        );
        // Names are the engine's: no naming convention on a .sql file.
        assert_eq!(schema.tables[0].name, "accounts");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn invalid_model_file_error_names_the_file() {
        let dir = scratch_dir("invalid");
        let path = write(
            &dir,
            "bad.yaml",
            "tables:\n  - name: t\n    columns:\n      - name: a\n      - name: A\n",
        );
        let error = load_desired(&path, &mut driver(), &NamingConvention::default())
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            format!(
                "cannot read schema file {}: table \"t\": column \"A\" is declared twice",
                path.display()
            )
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn unknown_extension_is_a_usage_error() {
        let error = load_desired(
            Path::new("schema.txt"),
            &mut driver(),
            &NamingConvention::default(),
        )
        .unwrap_err();
        assert!(matches!(error, Error::Usage(_)));
        assert_eq!(
            error.to_string(),
            "cannot tell the format of schema file schema.txt: use a .sql, .toml, .json, .yaml or .yml file"
        );
    }

    #[test]
    fn missing_file_is_an_io_error_with_its_path() {
        let error = load_desired(
            Path::new("/nonexistent/schema.toml"),
            &mut driver(),
            &NamingConvention::default(),
        )
        .unwrap_err();
        assert!(
            matches!(&error, Error::Io { path, .. } if path == Path::new("/nonexistent/schema.toml"))
        );
    }
}
