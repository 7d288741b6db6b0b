//! Naming conventions: the names schemasync gives to constraints and indexes that a
//! TOML/JSON/YAML schema or the builder leaves unnamed (SPEC §3).
//!
//! This module owns the templates (`pk_%(table)`, …), their expansion and the rule that
//! generated names are unique. It never renames an object that has a name, and it is
//! never applied to a `.sql` desired schema, which keeps the names its engine gives.
//!
//! # Templates
//!
//! A template is text with `%(key)` placeholders:
//!
//! | key | value |
//! |---|---|
//! | `table`, `table_name` | the table's name |
//! | `column_0`, `column_0_name` | the first column (see below) |
//! | `column_0_N_name` | every column, joined with `_` |
//! | `column_0N_name` | every column, joined with nothing |
//! | `referred_table`, `referred_table_name` | foreign keys only: the referenced table |
//! | `referred_column_0`, `referred_column_0_name` | foreign keys only: the first referenced column (empty when the key references the primary key implicitly) |
//! | `name`, `constraint_name` | check constraints only: a short name for the check |
//!
//! The columns of a primary key, foreign key or unique constraint are its own. An index's
//! columns are its keys: a column key gives its column, an expression key the first column
//! of the table that the expression mentions, or `expr` when it mentions none. A check's
//! columns are the table's columns that its expression mentions, in order of first mention;
//! its `%(name)` is the first of them, or, when it mentions none, the check's 1-based
//! position among the table's checks (`ck_users_2`).
//!
//! # Uniqueness
//!
//! Objects are visited in schema order (tables in order; in each table the primary key,
//! foreign keys, unique constraints, checks, then indexes). A generated name that is
//! already taken — by a table, view, trigger, virtual table, constraint or index, compared
//! ASCII case-insensitively — gets `_1`, `_2`, … appended until it is free. Names given by
//! the user are reserved before any name is generated, so they always win.

use crate::error::{Error, Result};
use crate::model::{Schema, Table};
use crate::sqltext::{lex, Token};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Templates for the names of unnamed constraints and indexes; the `[naming]` section of
/// `schemasync.toml`.
///
/// Field names follow the model; Alembic's keys (`pk`, `fk`, `uq`, `ck`, `ix`) are
/// accepted as aliases. Keys left out keep their default.
///
/// ```
/// use schemasync_core::naming::NamingConvention;
/// let naming: NamingConvention = toml::from_str("ix = \"idx_%(table)_%(column_0_N_name)\"").unwrap();
/// assert_eq!(naming.index, "idx_%(table)_%(column_0_N_name)");
/// assert_eq!(naming.primary_key, "pk_%(table)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NamingConvention {
    /// Primary keys; default `pk_%(table)`.
    #[serde(alias = "pk")]
    pub primary_key: String,
    /// Foreign keys; default `fk_%(table)_%(column_0)_%(referred_table)`.
    #[serde(alias = "fk")]
    pub foreign_key: String,
    /// Unique constraints; default `uq_%(table)_%(column_0)`.
    #[serde(alias = "uq")]
    pub unique: String,
    /// Check constraints; default `ck_%(table)_%(name)`.
    #[serde(alias = "ck")]
    pub check: String,
    /// Indexes (unique or not); default `ix_%(table)_%(column_0)`.
    #[serde(alias = "ix")]
    pub index: String,
}

impl Default for NamingConvention {
    fn default() -> Self {
        NamingConvention {
            primary_key: "pk_%(table)".into(),
            foreign_key: "fk_%(table)_%(column_0)_%(referred_table)".into(),
            unique: "uq_%(table)_%(column_0)".into(),
            check: "ck_%(table)_%(name)".into(),
            index: "ix_%(table)_%(column_0)".into(),
        }
    }
}

/// What kind of object a template names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    PrimaryKey,
    ForeignKey,
    Unique,
    Check,
    Index,
}

impl Kind {
    fn describe(self) -> &'static str {
        match self {
            Kind::PrimaryKey => "primary keys",
            Kind::ForeignKey => "foreign keys",
            Kind::Unique => "unique constraints",
            Kind::Check => "check constraints",
            Kind::Index => "indexes",
        }
    }
}

/// What a template is expanded from.
struct Subject<'a> {
    kind: Kind,
    table: &'a str,
    columns: Vec<String>,
    referred_table: &'a str,
    referred_columns: &'a [String],
    name: String,
}

impl Subject<'_> {
    /// The value of `%(key)`; `None` when the key does not exist for this kind.
    fn value(&self, key: &str) -> Option<String> {
        let first = |list: &[String]| list.first().cloned().unwrap_or_default();
        Some(match (key, self.kind) {
            ("table" | "table_name", _) => self.table.to_string(),
            ("column_0" | "column_0_name", _) => first(&self.columns),
            ("column_0_N_name", _) => self.columns.join("_"),
            ("column_0N_name", _) => self.columns.concat(),
            ("referred_table" | "referred_table_name", Kind::ForeignKey) => {
                self.referred_table.to_string()
            }
            ("referred_column_0" | "referred_column_0_name", Kind::ForeignKey) => {
                first(self.referred_columns)
            }
            ("name" | "constraint_name", Kind::Check) => self.name.clone(),
            _ => return None,
        })
    }
}

/// Expands `%(key)` placeholders; an unknown or unterminated placeholder is reported
/// through `Err(placeholder)`.
fn expand(template: &str, value: impl Fn(&str) -> Option<String>) -> Result<String, &str> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(start) = rest.find("%(") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find(')') else {
            return Err(&rest[start..]);
        };
        let key = &after[..end];
        out.push_str(&value(key).ok_or(&rest[start..start + end + 3])?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

impl NamingConvention {
    /// Checks every template: not empty, every `%(key)` known and available for its kind.
    ///
    /// ```
    /// use schemasync_core::naming::NamingConvention;
    /// let naming = NamingConvention { unique: "uq_%(referred_table)".into(), ..Default::default() };
    /// assert_eq!(
    ///     naming.validate().unwrap_err().to_string(),
    ///     "naming convention for unique constraints \"uq_%(referred_table)\" uses %(referred_table), which is not a placeholder for unique constraints"
    /// );
    /// ```
    pub fn validate(&self) -> Result<()> {
        for (kind, template) in self.templates() {
            if template.trim().is_empty() {
                return Err(Error::Usage(format!(
                    "naming convention for {} is empty",
                    kind.describe()
                )));
            }
            let probe = Subject {
                kind,
                table: "t",
                columns: vec!["c".into()],
                referred_table: "r",
                referred_columns: &[],
                name: "n".into(),
            };
            if let Err(placeholder) = expand(template, |key| probe.value(key)) {
                return Err(Error::Usage(format!(
                    "naming convention for {} {template:?} uses {placeholder}, which is not a placeholder for {}",
                    kind.describe(),
                    kind.describe()
                )));
            }
        }
        Ok(())
    }

    fn templates(&self) -> [(Kind, &str); 5] {
        [
            (Kind::PrimaryKey, &self.primary_key),
            (Kind::ForeignKey, &self.foreign_key),
            (Kind::Unique, &self.unique),
            (Kind::Check, &self.check),
            (Kind::Index, &self.index),
        ]
    }

    fn template(&self, kind: Kind) -> &str {
        match kind {
            Kind::PrimaryKey => &self.primary_key,
            Kind::ForeignKey => &self.foreign_key,
            Kind::Unique => &self.unique,
            Kind::Check => &self.check,
            Kind::Index => &self.index,
        }
    }

    /// Gives every unnamed primary key, foreign key, unique constraint and check
    /// (`name: None`) and every index with an empty name a name from this convention,
    /// unique within the schema. Named objects are left alone. An unknown placeholder
    /// (which [`NamingConvention::validate`] reports) is kept as written.
    ///
    /// ```
    /// use schemasync_core::{naming::NamingConvention, Column, Index, IndexPart, Schema, Table};
    /// let mut users = Table::new("users");
    /// users.columns.push(Column::new("email", "TEXT"));
    /// users.indexes.push(Index {
    ///     name: String::new(), unique: false, parts: vec![IndexPart::column("email")],
    ///     predicate: None, method: None, include: vec![], renamed_from: None,
    /// });
    /// let mut schema = Schema { tables: vec![users], ..Schema::default() };
    /// NamingConvention::default().apply(&mut schema);
    /// assert_eq!(schema.tables[0].indexes[0].name, "ix_users_email");
    /// ```
    pub fn apply(&self, schema: &mut Schema) {
        let mut taken = reserved_names(schema);
        for table in &mut schema.tables {
            let Table {
                name: table_name,
                columns,
                primary_key,
                foreign_keys,
                uniques,
                checks,
                indexes,
                ..
            } = table;
            let table_name: &str = table_name;
            let column_names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
            let subject = |kind: Kind, columns: Vec<String>| Subject {
                kind,
                table: table_name,
                columns,
                referred_table: "",
                referred_columns: &[],
                name: String::new(),
            };
            let mut name_for = |subject: Subject<'_>| {
                let template = self.template(subject.kind);
                let base = expand(template, |key| subject.value(key))
                    .unwrap_or_else(|_| template.to_string());
                claim(base, &mut taken)
            };
            if let Some(pk) = primary_key.as_mut().filter(|pk| pk.name.is_none()) {
                pk.name = Some(name_for(subject(Kind::PrimaryKey, pk.columns.clone())));
            }
            for fk in foreign_keys.iter_mut().filter(|fk| fk.name.is_none()) {
                let name = name_for(Subject {
                    referred_table: &fk.referenced_table,
                    referred_columns: &fk.referenced_columns,
                    ..subject(Kind::ForeignKey, fk.columns.clone())
                });
                fk.name = Some(name);
            }
            for unique in uniques.iter_mut().filter(|u| u.name.is_none()) {
                unique.name = Some(name_for(subject(Kind::Unique, unique.columns.clone())));
            }
            for (position, check) in checks.iter_mut().enumerate() {
                if check.name.is_some() {
                    continue;
                }
                let mentioned = mentioned_columns(&check.expression, &column_names);
                let short = mentioned
                    .first()
                    .cloned()
                    .unwrap_or_else(|| (position + 1).to_string());
                check.name = Some(name_for(Subject {
                    name: short,
                    ..subject(Kind::Check, mentioned)
                }));
            }
            for index in indexes.iter_mut().filter(|i| i.name.is_empty()) {
                let keys = index
                    .parts
                    .iter()
                    .map(|part| match (&part.column, &part.expression) {
                        (Some(column), _) => column.clone(),
                        (None, Some(expression)) => mentioned_columns(expression, &column_names)
                            .into_iter()
                            .next()
                            .unwrap_or_else(|| "expr".to_string()),
                        (None, None) => "expr".to_string(),
                    })
                    .collect();
                index.name = name_for(subject(Kind::Index, keys));
            }
        }
    }
}

/// Every name already in the schema, folded to ASCII lower case.
fn reserved_names(schema: &Schema) -> HashSet<String> {
    let mut taken = HashSet::new();
    let mut add = |name: &str| {
        if !name.is_empty() {
            taken.insert(name.to_ascii_lowercase());
        }
    };
    for table in &schema.tables {
        add(&table.name);
        let constraint_names = table
            .primary_key
            .iter()
            .filter_map(|pk| pk.name.as_deref())
            .chain(
                table
                    .foreign_keys
                    .iter()
                    .filter_map(|fk| fk.name.as_deref()),
            )
            .chain(table.uniques.iter().filter_map(|u| u.name.as_deref()))
            .chain(table.checks.iter().filter_map(|c| c.name.as_deref()))
            .chain(table.indexes.iter().map(|i| i.name.as_str()));
        for name in constraint_names {
            add(name);
        }
    }
    for view in &schema.views {
        add(&view.name);
    }
    for trigger in &schema.triggers {
        add(&trigger.name);
    }
    for vtable in &schema.virtual_tables {
        add(&vtable.name);
    }
    taken
}

/// `base`, or `base_1`, `base_2`, … : the first that is not taken; it is then taken.
fn claim(base: String, taken: &mut HashSet<String>) -> String {
    if taken.insert(base.to_ascii_lowercase()) {
        return base;
    }
    let mut counter = 1usize;
    loop {
        let candidate = format!("{base}_{counter}");
        if taken.insert(candidate.to_ascii_lowercase()) {
            return candidate;
        }
        counter += 1;
    }
}

/// The table's columns that `expression` mentions, in order of first mention, spelled as
/// the table declares them (matched ASCII case-insensitively).
fn mentioned_columns(expression: &str, columns: &[&str]) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for token in lex(expression) {
        let word = match &token {
            Token::Word(word) => *word,
            Token::QuotedIdent(ident) => ident.as_str(),
            _ => continue,
        };
        if let Some(column) = columns.iter().find(|c| c.eq_ignore_ascii_case(word)) {
            if !found.iter().any(|f| f == column) {
                found.push((*column).to_string());
            }
        }
    }
    found
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::*;

    fn index(name: &str, parts: Vec<IndexPart>) -> Index {
        Index {
            include: Vec::new(),
            name: name.into(),
            unique: false,
            parts,
            predicate: None,
            method: None,
            renamed_from: None,
        }
    }

    fn orders() -> Table {
        let mut orders = Table::new("orders");
        orders.columns = ["id", "customer_id", "total", "Email"]
            .into_iter()
            .map(|c| Column::new(c, "INTEGER"))
            .collect();
        orders
    }

    fn schema_of(tables: Vec<Table>) -> Schema {
        Schema {
            tables,
            ..Schema::default()
        }
    }

    #[test]
    fn unnamed_foreign_key_gets_the_convention_name() {
        let mut table = orders();
        table.foreign_keys.push(ForeignKey {
            not_valid: false,
            name: None,
            columns: vec!["customer_id".into()],
            referenced_schema: None,
            referenced_table: "customers".into(),
            referenced_columns: vec!["id".into()],
            on_delete: ReferentialAction::NoAction,
            on_update: ReferentialAction::NoAction,
            deferrable: Deferrable::NotDeferrable,
        });
        let mut schema = schema_of(vec![table]);
        NamingConvention::default().apply(&mut schema);
        assert_eq!(
            schema.tables[0].foreign_keys[0].name.as_deref(),
            Some("fk_orders_customer_id_customers")
        );
    }

    #[test]
    fn unnamed_primary_key_unique_and_index_get_convention_names() {
        let mut table = orders();
        table.primary_key = Some(PrimaryKey {
            name: None,
            columns: vec!["id".into()],
            autoincrement: false,
        });
        table.uniques.push(Unique {
            name: None,
            columns: vec!["Email".into(), "id".into()],
        });
        table
            .indexes
            .push(index("", vec![IndexPart::column("total")]));
        let mut schema = schema_of(vec![table]);
        NamingConvention::default().apply(&mut schema);
        let table = &schema.tables[0];
        assert_eq!(
            table.primary_key.as_ref().unwrap().name.as_deref(),
            Some("pk_orders")
        );
        assert_eq!(table.uniques[0].name.as_deref(), Some("uq_orders_Email"));
        assert_eq!(table.indexes[0].name, "ix_orders_total");
    }

    #[test]
    fn check_is_named_after_the_first_column_it_mentions_else_its_position() {
        let mut table = orders();
        table.checks = vec![
            Check {
                not_valid: false,
                name: None,
                expression: "'total' <> '' AND \"TOTAL\" > 0 AND id > 0".into(),
            },
            Check {
                not_valid: false,
                name: None,
                expression: "1 = 1".into(),
            },
        ];
        let mut schema = schema_of(vec![table]);
        NamingConvention::default().apply(&mut schema);
        let names: Vec<_> = schema.tables[0]
            .checks
            .iter()
            .map(|c| c.name.clone().unwrap())
            .collect();
        assert_eq!(names, ["ck_orders_total", "ck_orders_2"]);
    }

    #[test]
    fn expression_index_is_named_after_the_column_it_mentions() {
        let mut table = orders();
        table.indexes = vec![
            index("", vec![IndexPart::expression("lower(email)")]),
            index("", vec![IndexPart::expression("random()")]),
        ];
        let mut schema = schema_of(vec![table]);
        NamingConvention::default().apply(&mut schema);
        let names: Vec<_> = schema.tables[0]
            .indexes
            .iter()
            .map(|i| i.name.as_str())
            .collect();
        assert_eq!(names, ["ix_orders_Email", "ix_orders_expr"]);
    }

    #[test]
    fn colliding_generated_names_get_numbered_suffixes() {
        let mut table = orders();
        table.indexes = vec![
            index("", vec![IndexPart::column("total")]),
            index("IX_ORDERS_TOTAL_1", vec![IndexPart::column("id")]),
            index(
                "",
                vec![IndexPart::column("total"), IndexPart::column("id")],
            ),
            index("", vec![IndexPart::column("total")]),
        ];
        let mut schema = schema_of(vec![table]);
        NamingConvention::default().apply(&mut schema);
        let names: Vec<_> = schema.tables[0]
            .indexes
            .iter()
            .map(|i| i.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "ix_orders_total",
                "IX_ORDERS_TOTAL_1",
                "ix_orders_total_2",
                "ix_orders_total_3"
            ]
        );
    }

    #[test]
    fn named_objects_are_left_alone_and_reserve_their_names() {
        let mut table = orders();
        table.uniques = vec![
            Unique {
                name: None,
                columns: vec!["id".into()],
            },
            Unique {
                name: Some("uq_orders_id".into()),
                columns: vec!["total".into()],
            },
        ];
        let mut schema = schema_of(vec![table]);
        NamingConvention::default().apply(&mut schema);
        let names: Vec<_> = schema.tables[0]
            .uniques
            .iter()
            .map(|u| u.name.as_deref().unwrap())
            .collect();
        assert_eq!(names, ["uq_orders_id_1", "uq_orders_id"]);
    }

    #[test]
    fn custom_templates_use_every_column_and_referred_column() {
        let naming = NamingConvention {
            foreign_key: "%(table_name)_%(column_0N_name)_%(referred_column_0_name)_fkey".into(),
            index: "idx_%(column_0_N_name)".into(),
            ..NamingConvention::default()
        };
        naming.validate().unwrap();
        let mut table = orders();
        table.indexes = vec![index(
            "",
            vec![IndexPart::column("total"), IndexPart::column("id")],
        )];
        table.foreign_keys.push(ForeignKey {
            not_valid: false,
            name: None,
            columns: vec!["customer_id".into(), "id".into()],
            referenced_schema: None,
            referenced_table: "customers".into(),
            referenced_columns: vec!["cid".into(), "x".into()],
            on_delete: ReferentialAction::NoAction,
            on_update: ReferentialAction::NoAction,
            deferrable: Deferrable::NotDeferrable,
        });
        let mut schema = schema_of(vec![table]);
        naming.apply(&mut schema);
        assert_eq!(schema.tables[0].indexes[0].name, "idx_total_id");
        assert_eq!(
            schema.tables[0].foreign_keys[0].name.as_deref(),
            Some("orders_customer_idid_cid_fkey")
        );
    }

    #[test]
    fn naming_section_accepts_alembic_keys_and_rejects_unknown_ones() {
        let naming: NamingConvention =
            toml::from_str("pk = \"%(table)_pkey\"\ncheck = \"%(table)_%(name)_check\"").unwrap();
        assert_eq!(naming.primary_key, "%(table)_pkey");
        assert_eq!(naming.check, "%(table)_%(name)_check");
        assert_eq!(naming.unique, "uq_%(table)_%(column_0)");
        assert!(toml::from_str::<NamingConvention>("primary = \"x\"").is_err());
    }

    #[test]
    fn unknown_or_unterminated_placeholder_is_a_usage_error() {
        let naming = NamingConvention {
            index: "ix_%(tabel)".into(),
            ..NamingConvention::default()
        };
        assert_eq!(
            naming.validate().unwrap_err().to_string(),
            "naming convention for indexes \"ix_%(tabel)\" uses %(tabel), which is not a placeholder for indexes"
        );
        let naming = NamingConvention {
            check: "ck_%(table".into(),
            ..NamingConvention::default()
        };
        assert_eq!(
            naming.validate().unwrap_err().to_string(),
            "naming convention for check constraints \"ck_%(table\" uses %(table, which is not a placeholder for check constraints"
        );
        NamingConvention::default().validate().unwrap();
    }

    #[test]
    fn naming_is_deterministic_across_runs() {
        let mut table = orders();
        table.checks = (0..3)
            .map(|_| Check {
                not_valid: false,
                name: None,
                expression: "total > 0".into(),
            })
            .collect();
        let mut first = schema_of(vec![table.clone(), Table::new("ck_orders_total")]);
        let mut second = first.clone();
        NamingConvention::default().apply(&mut first);
        NamingConvention::default().apply(&mut second);
        assert_eq!(first, second);
        let names: Vec<_> = first.tables[0]
            .checks
            .iter()
            .map(|c| c.name.clone().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "ck_orders_total_1",
                "ck_orders_total_2",
                "ck_orders_total_3"
            ]
        );
    }
}
