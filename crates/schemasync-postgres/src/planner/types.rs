//! Steps for collations, composite and range types, text search configurations and
//! renames of catalog objects. None of them touches a table's rows: a composite type's
//! attributes change in place (`ALTER TYPE … ADD|DROP|ALTER ATTRIBUTE`), and what
//! PostgreSQL cannot change in place (a range type's definition, a collation, the order
//! of a composite type's attributes) is dropped and created again only while no column
//! uses it, and refused otherwise.

use super::{Phases, Planner};
use crate::ddl;
use crate::quote::{qualified, quote_ident};
use schemasync_core::catalog::names_type;
use schemasync_core::sqltext::mentions;
use schemasync_core::{
    qualify, Change, Commented, CompositeType, Error, Hazard, HazardKind, Index, RangeType, Result,
    Step, TextSearchConfig,
};

impl Planner<'_> {
    /// Plans a change to a collation, composite or range type or text search
    /// configuration, or a rename of a catalog object.
    pub(super) fn add_catalog_object(
        &self,
        change: &Change,
        describe: String,
        phases: &mut Phases,
    ) -> Result<()> {
        let step = match change {
            Change::CreateCollation { collation } => Step::new(
                describe,
                ddl::created_with_comment(
                    ddl::create_collation(collation),
                    &Commented::Collation(collation.clone()),
                ),
            ),
            Change::DropCollation { collation } => {
                let object = Commented::Collation(collation.clone());
                let recreated = self.changes.iter().any(|c| {
                    matches!(c, Change::CreateCollation { collation: n }
                        if n.schema == collation.schema && n.name == collation.name)
                });
                let users = self.users(&object, false);
                if recreated && !users.is_empty() {
                    return Err(Error::Unsupported(format!(
                        "PostgreSQL cannot change {} in place while {}; create a collation under a new name and move them to it",
                        object.describe(),
                        using(&users)
                    )));
                }
                Step::new(describe, vec![drop_sql(&object)])
            }
            Change::CreateCompositeType { composite_type } => Step::new(
                describe,
                ddl::created_with_comment(
                    ddl::create_composite_type(composite_type),
                    &Commented::CompositeType(composite_type.clone()),
                ),
            ),
            Change::DropCompositeType { composite_type } => {
                self.drop_type(Commented::CompositeType(composite_type.clone()), describe)
            }
            Change::AlterCompositeType { from, to } => self.alter_composite(from, to, describe)?,
            Change::CreateRangeType { range_type } => Step::new(
                describe,
                ddl::created_with_comment(
                    ddl::create_range_type(range_type),
                    &Commented::RangeType(range_type.clone()),
                ),
            ),
            Change::DropRangeType { range_type } => {
                self.drop_type(Commented::RangeType(range_type.clone()), describe)
            }
            Change::ReplaceRangeType { from, to } => self.replace_range(from, to, describe)?,
            Change::CreateTextSearchConfig { config } => {
                let mut sql = ddl::create_text_search_config(config);
                sql.extend(ddl::comment_if_any(&Commented::TextSearchConfig(
                    config.clone(),
                )));
                Step::new(describe, sql)
            }
            Change::DropTextSearchConfig { config } => Step::new(
                describe,
                vec![drop_sql(&Commented::TextSearchConfig(config.clone()))],
            ),
            Change::AlterTextSearchConfig { from, to } => {
                Step::new(describe, alter_text_search_config(from, to))
            }
            Change::RenameObject { object, from } => {
                let mut step = Step::new(describe, vec![ddl::rename_object(object, from)]);
                step.lock = Some(super::ACCESS_EXCLUSIVE.to_string());
                step
            }
            other => {
                return Err(Error::Unsupported(format!(
                    "PostgreSQL catalog objects cannot {}",
                    other.describe()
                )))
            }
        };
        phases.transaction.push(step);
        Ok(())
    }

    /// Whether an index's expressions, collations or predicate name a type, collation or
    /// text search configuration the plan drops (a configuration appears as a literal:
    /// `'app.fts'::regconfig`).
    pub(super) fn uses_dropped_object(&self, index: &Index) -> bool {
        let texts: Vec<&str> = index
            .parts
            .iter()
            .flat_map(|p| [p.expression.as_deref(), p.collation.as_deref()])
            .chain([index.predicate.as_deref()])
            .flatten()
            .collect();
        self.changes.iter().any(|change| {
            let (schema, name) = match change {
                Change::DropCollation { collation } => (&collation.schema, &collation.name),
                Change::DropCompositeType { composite_type } => {
                    (&composite_type.schema, &composite_type.name)
                }
                Change::DropRangeType { range_type } => (&range_type.schema, &range_type.name),
                Change::DropTextSearchConfig { config } => (&config.schema, &config.name),
                _ => return false,
            };
            let literal = format!("'{}'", qualify(schema.as_deref(), name));
            texts
                .iter()
                .any(|text| mentions(text, name, false) || text.contains(&literal))
        })
    }

    /// Where the current schema uses `object` (a type, or a collation when not
    /// `is_type`), under its current name or the one it had before a rename in this plan:
    /// `table.column` for columns, `type.attribute` for composite attributes, and the
    /// domains and range types built on it.
    fn users(&self, object: &Commented, is_type: bool) -> Vec<String> {
        let (schema, name) = object.name();
        let mut names = vec![name.to_string()];
        names.extend(self.changes.iter().filter_map(|c| match c {
            Change::RenameObject { object: o, from } if o == object => Some(from.clone()),
            _ => None,
        }));
        let uses = |text: &str| names.iter().any(|n| names_type(text, schema, n));
        let uses_opt = |text: &Option<String>| text.as_deref().is_some_and(uses);
        let mut out = Vec::new();
        for table in &self.current.tables {
            let at = qualify(table.schema.as_deref(), &table.name);
            for column in &table.columns {
                let used = if is_type {
                    uses(&column.data_type)
                } else {
                    uses_opt(&column.collation)
                };
                if used {
                    out.push(format!("column {at}.{}", column.name));
                }
            }
        }
        for composite in &self.current.composite_types {
            let at = qualify(composite.schema.as_deref(), &composite.name);
            for attribute in &composite.attributes {
                let used = if is_type {
                    uses(&attribute.data_type)
                } else {
                    uses_opt(&attribute.collation)
                };
                if used {
                    out.push(format!("attribute {at}.{}", attribute.name));
                }
            }
        }
        for domain in &self.current.domains {
            let used = if is_type {
                uses(&domain.data_type)
            } else {
                uses_opt(&domain.collation)
            };
            if used {
                out.push(format!(
                    "domain {}",
                    qualify(domain.schema.as_deref(), &domain.name)
                ));
            }
        }
        for range in &self.current.range_types {
            let used = if is_type {
                uses(&range.subtype)
            } else {
                uses_opt(&range.collation)
            };
            if used {
                out.push(format!(
                    "range type {}",
                    qualify(range.schema.as_deref(), &range.name)
                ));
            }
        }
        out
    }

    /// `DROP TYPE`: data loss when columns still use the type (their values go with
    /// it), which the plan changes or drops before.
    fn drop_type(&self, object: Commented, describe: String) -> Step {
        let users = self.users(&object, true);
        let mut step = Step::new(describe, vec![drop_sql(&object)]);
        if !users.is_empty() {
            step.hazards.push(Hazard::new(
                HazardKind::DataLoss,
                object.describe(),
                format!(
                    "drops {} and the values of {} that use it",
                    object.describe(),
                    users.join(", ")
                ),
            ));
        }
        step
    }

    /// Attributes dropped, retyped and added in one `ALTER TYPE`. A retyped attribute
    /// needs a type no column uses (PostgreSQL refuses otherwise); attributes that
    /// would end up in another order than desired need the type dropped and created
    /// again, which also needs it unused.
    fn alter_composite(
        &self,
        from: &CompositeType,
        to: &CompositeType,
        describe: String,
    ) -> Result<Step> {
        let object = Commented::CompositeType(to.clone());
        let users = self.users(&object, true);
        let name = qualified(to.schema.as_deref(), &to.name);
        let mut actions = Vec::new();
        let mut dropped = Vec::new();
        for attribute in &from.attributes {
            if !to.attributes.iter().any(|a| a.name == attribute.name) {
                actions.push(format!("DROP ATTRIBUTE {}", quote_ident(&attribute.name)));
                dropped.push(attribute.name.clone());
            }
        }
        let mut retyped = Vec::new();
        for attribute in &to.attributes {
            match from.attributes.iter().find(|a| a.name == attribute.name) {
                Some(old) if old != attribute => {
                    retyped.push(attribute.name.clone());
                    actions.push(format!(
                        "ALTER ATTRIBUTE {} TYPE {}",
                        quote_ident(&attribute.name),
                        ddl::attribute_type(attribute)
                    ));
                }
                Some(_) => {}
                None => actions.push(format!(
                    "ADD ATTRIBUTE {}",
                    ddl::attribute_definition(attribute)
                )),
            }
        }
        let resulting: Vec<&str> = from
            .attributes
            .iter()
            .filter(|a| !dropped.contains(&a.name))
            .chain(
                to.attributes
                    .iter()
                    .filter(|a| !from.attributes.iter().any(|f| f.name == a.name)),
            )
            .map(|a| a.name.as_str())
            .collect();
        let in_order = resulting
            .iter()
            .copied()
            .eq(to.attributes.iter().map(|a| a.name.as_str()));
        let refuse = |why: &str| {
            Err(Error::Unsupported(format!(
                "PostgreSQL cannot {why} of {} while {}; create a new type and move them to it",
                object.describe(),
                using(&users)
            )))
        };
        if !users.is_empty() && !retyped.is_empty() {
            return refuse(&format!(
                "change the type of attribute {}",
                retyped.join(", ")
            ));
        }
        if !in_order {
            if !users.is_empty() {
                return refuse("reorder the attributes");
            }
            let mut sql = vec![drop_sql(&Commented::CompositeType(from.clone()))];
            sql.extend(ddl::created_with_comment(
                ddl::create_composite_type(to),
                &Commented::CompositeType(to.clone()),
            ));
            return Ok(Step::new(describe, sql));
        }
        let mut step = Step::new(
            describe,
            vec![format!("ALTER TYPE {name} {}", actions.join(", "))],
        );
        if !users.is_empty() && !dropped.is_empty() {
            step.hazards.push(Hazard::new(
                HazardKind::DataLoss,
                object.describe(),
                format!(
                    "drops attribute {} of {} and its values in {}",
                    dropped.join(", "),
                    object.describe(),
                    users.join(", ")
                ),
            ));
        }
        Ok(step)
    }

    /// A range type's definition changed: dropped and created again while no column
    /// uses it, refused otherwise.
    fn replace_range(&self, from: &RangeType, to: &RangeType, describe: String) -> Result<Step> {
        let object = Commented::RangeType(from.clone());
        let users = self.users(&object, true);
        if !users.is_empty() {
            return Err(Error::Unsupported(format!(
                "PostgreSQL cannot change {} in place while {}; create a range type under a new name and move them to it",
                object.describe(),
                using(&users)
            )));
        }
        let mut sql = vec![drop_sql(&object)];
        sql.extend(ddl::created_with_comment(
            ddl::create_range_type(to),
            &Commented::RangeType(to.clone()),
        ));
        Ok(Step::new(describe, sql))
    }
}

/// `column t.a uses it`, `column t.a, attribute u.b use it`.
fn using(users: &[String]) -> String {
    let verb = if users.len() == 1 { "uses" } else { "use" };
    format!("{} {verb} it", users.join(", "))
}

/// `DROP TYPE|COLLATION|TEXT SEARCH CONFIGURATION …` (what `COMMENT ON` calls the object).
fn drop_sql(object: &Commented) -> String {
    format!("DROP {}", ddl::object_reference(object))
}

/// Mappings dropped, changed and added; a new parser means the configuration is made
/// again (PostgreSQL cannot change it in place).
fn alter_text_search_config(from: &TextSearchConfig, to: &TextSearchConfig) -> Vec<String> {
    let name = qualified(to.schema.as_deref(), &to.name);
    if from.parser != to.parser {
        let mut sql = vec![drop_sql(&Commented::TextSearchConfig(from.clone()))];
        sql.extend(ddl::create_text_search_config(to));
        return sql;
    }
    let dropped: Vec<String> = from
        .mappings
        .iter()
        .filter(|m| !to.mappings.iter().any(|t| t.token == m.token))
        .map(|m| quote_ident(&m.token))
        .collect();
    let mut sql = Vec::new();
    if !dropped.is_empty() {
        sql.push(format!(
            "ALTER TEXT SEARCH CONFIGURATION {name} DROP MAPPING FOR {}",
            dropped.join(", ")
        ));
    }
    let changed: Vec<_> = to
        .mappings
        .iter()
        .filter(|m| {
            from.mappings
                .iter()
                .any(|f| f.token == m.token && f.dictionaries != m.dictionaries)
        })
        .cloned()
        .collect();
    sql.extend(ddl::text_search_mappings(to, "ALTER", &changed));
    let added: Vec<_> = to
        .mappings
        .iter()
        .filter(|m| !from.mappings.iter().any(|f| f.token == m.token))
        .cloned()
        .collect();
    sql.extend(ddl::text_search_mappings(to, "ADD", &added));
    sql
}
