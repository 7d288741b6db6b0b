//! The diff engine: `current` and `desired` schemas in, ordered changes out.
//!
//! Both schemas must already be in the same canonical form (drivers normalise on the
//! way in); the diff compares values plainly and never rewrites SQL text. Renames come
//! only from `renamed_from` hints, never from guessing. Unnamed constraints are matched
//! by what they are, so they never show as drift.

use crate::catalog::{rename_object, uses, CatalogObject};
use crate::change::{Change, Commented, RowSecurity};
use crate::model::{
    Check, Column, Domain, EnumType, Exclusion, ForeignKey, Function, Index, Policy, Schema, Table,
    Trigger, Unique, View,
};
use crate::sqltext::mentions;

/// How names and column order are compared; each driver states its dialect's rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiffOptions {
    /// Names that differ only in ASCII case are the same object (SQLite).
    pub case_insensitive_names: bool,
    /// Column order is part of a table's definition (it can be changed by a rebuild).
    pub column_order_matters: bool,
}

impl DiffOptions {
    fn same_name(&self, a: &str, b: &str) -> bool {
        if self.case_insensitive_names {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    }
}

/// Computes the ordered changes that turn `current` into `desired`.
///
/// Order: policies that go or change kind are dropped first, then triggers and views
/// that go or change, then constraints and indexes that go; tables are renamed, created
/// (referenced tables first), altered and dropped (referencing tables first); then
/// constraints and indexes are added, and virtual tables, views (in dependency order),
/// triggers and policies are created, and row-level security is switched.
///
/// ```
/// use schemasync_core::{diff, Column, DiffOptions, Schema, Table};
/// let current = Schema { tables: vec![Table::new("users")], ..Schema::default() };
/// let mut users = Table::new("users");
/// users.columns.push(Column::new("email", "TEXT"));
/// let desired = Schema { tables: vec![users], ..Schema::default() };
/// let changes = diff(&current, &desired, &DiffOptions::default());
/// assert_eq!(changes[0].describe(), "add column users.email");
/// ```
pub fn diff(current: &Schema, desired: &Schema, options: &DiffOptions) -> Vec<Change> {
    diff_recreating(current, desired, options, &[])
}

/// Like [`diff()`], and also drops (first) and recreates (last) every view and trigger that
/// mentions one of `tables`, with views that read those views.
///
/// Drivers use it when they must rebuild a table, or when their engine refuses to alter a
/// table that a view or trigger reads (SQLite `DROP COLUMN`). Give both the old and the
/// new name of a renamed table.
///
/// Types, domains, collations and text search configurations renamed by a hint are
/// renamed first; the rest of the diff compares the current schema as it is after those
/// renames (a column of a renamed type does not change).
pub fn diff_recreating(
    current: &Schema,
    desired: &Schema,
    options: &DiffOptions,
    tables: &[String],
) -> Vec<Change> {
    let mut out = catalog_renames(current, desired, options);
    let mut renamed = current.clone();
    for change in &out {
        if let Change::RenameObject { object, from } = change {
            rename_object(&mut renamed, object, from);
        }
    }
    out.extend(
        Differ {
            current: &renamed,
            desired,
            options: *options,
            recreate: tables,
        }
        .run(),
    );
    out
}

/// The renames that hints on desired types, domains, collations and text search
/// configurations ask for: the old name exists, the new one does not yet, and the old
/// name is not desired too.
fn catalog_renames(current: &Schema, desired: &Schema, options: &DiffOptions) -> Vec<Change> {
    let mut out = Vec::new();
    renames(&current.collations, &desired.collations, options, &mut out);
    renames(&current.enums, &desired.enums, options, &mut out);
    renames(
        &current.range_types,
        &desired.range_types,
        options,
        &mut out,
    );
    renames(&current.domains, &desired.domains, options, &mut out);
    renames(
        &current.composite_types,
        &desired.composite_types,
        options,
        &mut out,
    );
    renames(
        &current.text_search_configs,
        &desired.text_search_configs,
        options,
        &mut out,
    );
    out
}

fn renames<T: CatalogObject>(
    current: &[T],
    desired: &[T],
    options: &DiffOptions,
    out: &mut Vec<Change>,
) {
    for wanted in desired {
        let object = wanted.commented();
        let (schema, name) = object.name();
        let Some(old) = wanted.renamed_from() else {
            continue;
        };
        let old_object = find_named(current, schema, old, options);
        if find_named(current, schema, name, options).is_some()
            || find_named(desired, schema, old, options).is_some()
        {
            continue;
        }
        if let Some(existing) = old_object {
            out.push(Change::RenameObject {
                object: existing.commented().with_name(name.to_string()),
                from: existing.commented().name().1.to_string(),
            });
        }
    }
}

/// The object of `items` named `name` in `schema`.
fn find_named<'x, T: CatalogObject>(
    items: &'x [T],
    schema: Option<&str>,
    name: &str,
    options: &DiffOptions,
) -> Option<&'x T> {
    items.iter().find(|item| {
        let object = item.commented();
        let (s, n) = object.name();
        s == schema && options.same_name(n, name)
    })
}

struct Differ<'a> {
    current: &'a Schema,
    desired: &'a Schema,
    options: DiffOptions,
    recreate: &'a [String],
}

/// A desired table and the current table it continues, if any.
struct TablePair<'a> {
    current: Option<&'a Table>,
    desired: &'a Table,
}

impl<'a> Differ<'a> {
    fn run(&self) -> Vec<Change> {
        let pairs = self.pair_tables();
        let dropped_tables: Vec<&Table> = self
            .current
            .tables
            .iter()
            .filter(|c| {
                !pairs
                    .iter()
                    .any(|p| p.current.is_some_and(|pc| std::ptr::eq(pc, *c)))
            })
            .collect();

        let mut out = Vec::new();
        let (drop_policies, create_policies) = self.diff_policies(&pairs, &dropped_tables);
        out.extend(drop_policies);
        let (drop_triggers, create_triggers) = self.diff_triggers();
        let (drop_views, create_views) = self.diff_views();
        let (drop_virtual, create_virtual) = self.diff_virtual_tables();
        let catalog = self.diff_catalog(&dropped_tables);
        out.extend(drop_triggers);
        out.extend(catalog.before_dropped_views);
        out.extend(drop_views);
        out.extend(drop_virtual);
        out.extend(catalog.before_tables);

        let mut removals = Vec::new();
        let mut alterations = Vec::new();
        let mut additions = Vec::new();
        let mut comments = Vec::new();
        for pair in &pairs {
            if let Some(current) = pair.current {
                self.diff_table(
                    current,
                    pair.desired,
                    &mut removals,
                    &mut alterations,
                    &mut additions,
                    &mut comments,
                );
            }
        }
        out.extend(removals);
        // A dropped partition goes before the new tables: a new partition may take its
        // bound, which PostgreSQL refuses while the old one holds it.
        let (dropped_partitions, dropped_tables): (Vec<&Table>, Vec<&Table>) = dropped_tables
            .into_iter()
            .partition(|t| t.partition_of.is_some());
        out.extend(
            dropped_partitions
                .into_iter()
                .map(|table| Change::DropTable {
                    table: table.clone(),
                }),
        );
        for pair in &pairs {
            if let Some(current) = pair.current {
                if !self.options.same_name(&current.name, &pair.desired.name) {
                    out.push(Change::RenameTable {
                        schema: current.schema.clone(),
                        from: current.name.clone(),
                        to: pair.desired.name.clone(),
                    });
                }
            }
        }
        let created: Vec<&Table> = pairs
            .iter()
            .filter(|p| p.current.is_none())
            .map(|p| p.desired)
            .collect();
        let mut created_tables = Vec::new();
        for table in order_by_references(&created, self.options) {
            created_tables.push(Change::CreateTable {
                table: Table {
                    indexes: Vec::new(),
                    policies: Vec::new(),
                    ..table.clone()
                },
            });
            for index in &table.indexes {
                additions.push(Change::AddIndex {
                    schema: table.schema.clone(),
                    table: table.name.clone(),
                    index: index.clone(),
                });
            }
        }
        out.extend(self.order_with_late_functions(created_tables, catalog.after_created_tables));
        out.extend(alterations);
        out.extend(catalog.with_tables);
        // Dropped in the reverse of the order they would be created in.
        let as_created: Vec<Change> = order_by_references(&dropped_tables, self.options)
            .into_iter()
            .map(|table| Change::CreateTable {
                table: table.clone(),
            })
            .collect();
        let as_created_functions = catalog
            .with_dropped_tables
            .into_iter()
            .map(|change| match change {
                Change::DropFunction { function } => Change::CreateFunction { function },
                other => other,
            })
            .collect();
        let mut drop_order = self.order_with_late_functions(as_created, as_created_functions);
        drop_order.reverse();
        out.extend(drop_order.into_iter().map(|change| match change {
            Change::CreateTable { table } => Change::DropTable { table },
            Change::CreateFunction { function } => Change::DropFunction { function },
            other => other,
        }));
        // Foreign keys go last among additions, after every index they may need.
        additions.sort_by_key(|c| matches!(c, Change::AddForeignKey { .. }));
        out.extend(additions);
        out.extend(create_virtual);
        out.extend(create_views);
        out.extend(catalog.after_created_views);
        out.extend(create_triggers);
        out.extend(create_policies);
        out.extend(comments);
        out.extend(catalog.after_tables);
        out
    }

    /// Namespaces, enums, sequences and functions: created before the tables that use
    /// them, dropped after.
    fn diff_catalog(&self, dropped_tables: &[&Table]) -> CatalogChanges {
        let mut changes = CatalogChanges::default();
        let same_ns = |a: &Option<String>, b: &Option<String>| a == b;

        for namespace in &self.desired.namespaces {
            if !self
                .current
                .namespaces
                .iter()
                .any(|n| n.name == namespace.name)
            {
                changes.before_tables.push(Change::CreateNamespace {
                    namespace: namespace.clone(),
                });
            }
            if let Some(existing) = self
                .current
                .namespaces
                .iter()
                .find(|n| n.name == namespace.name && n.comment != namespace.comment)
            {
                changes.before_tables.push(Change::SetObjectComment {
                    object: Commented::Namespace(namespace.clone()),
                    from: existing.comment.clone(),
                    to: namespace.comment.clone(),
                });
            }
        }
        for extension in &self.desired.extensions {
            if !self
                .current
                .extensions
                .iter()
                .any(|e| e.name == extension.name)
            {
                changes.before_tables.push(Change::CreateExtension {
                    extension: extension.clone(),
                });
            }
        }
        for wanted in &self.desired.collations {
            match self.existing(&self.current.collations, wanted) {
                None => changes.before_tables.push(Change::CreateCollation {
                    collation: wanted.clone(),
                }),
                // PostgreSQL cannot alter a collation's definition: it is made again.
                Some(existing) if existing.definition() != wanted.definition() => {
                    changes.before_tables.push(Change::DropCollation {
                        collation: existing.clone(),
                    });
                    changes.before_tables.push(Change::CreateCollation {
                        collation: wanted.clone(),
                    });
                }
                Some(existing) => changes
                    .before_tables
                    .extend(comment_change(existing, wanted)),
            }
        }
        for wanted in &self.desired.enums {
            let existing = self.current.enums.iter().find(|e| {
                same_ns(&e.schema, &wanted.schema) && self.options.same_name(&e.name, &wanted.name)
            });
            match existing {
                None => changes.before_tables.push(Change::CreateEnum {
                    enum_type: wanted.clone(),
                }),
                Some(existing) => {
                    let mut recreated = false;
                    if existing.values != wanted.values {
                        let enum_changes = enum_changes(existing, wanted);
                        recreated =
                            matches!(enum_changes.first(), Some(Change::RecreateEnum { .. }));
                        changes.before_tables.extend(enum_changes);
                    }
                    if !recreated && existing.comment != wanted.comment {
                        changes.before_tables.push(Change::SetObjectComment {
                            object: Commented::Enum(wanted.clone()),
                            from: existing.comment.clone(),
                            to: wanted.comment.clone(),
                        });
                    }
                }
            }
        }
        for wanted in &self.desired.range_types {
            match self.existing(&self.current.range_types, wanted) {
                None => changes.before_tables.push(Change::CreateRangeType {
                    range_type: wanted.clone(),
                }),
                Some(existing) if existing.definition() != wanted.definition() => {
                    changes.before_tables.push(Change::ReplaceRangeType {
                        from: existing.clone(),
                        to: wanted.clone(),
                    })
                }
                Some(existing) => changes
                    .before_tables
                    .extend(comment_change(existing, wanted)),
            }
        }
        // A domain whose CHECK or default calls a new function comes after the functions.
        let mut late_domains = Vec::new();
        for wanted in &self.desired.domains {
            let existing = self.current.domains.iter().find(|d| {
                same_ns(&d.schema, &wanted.schema) && self.options.same_name(&d.name, &wanted.name)
            });
            match existing {
                None if self.calls_new_function(wanted) => {
                    late_domains.push(Change::CreateDomain {
                        domain: wanted.clone(),
                    })
                }
                None => changes.before_tables.push(Change::CreateDomain {
                    domain: wanted.clone(),
                }),
                Some(existing) => {
                    if existing.definition() != wanted.definition() {
                        changes.before_tables.push(Change::AlterDomain {
                            from: existing.clone(),
                            to: wanted.clone(),
                        });
                    } else if existing.comment != wanted.comment {
                        changes.before_tables.push(Change::SetObjectComment {
                            object: Commented::Domain(wanted.clone()),
                            from: existing.comment.clone(),
                            to: wanted.comment.clone(),
                        });
                    }
                }
            }
        }
        // Types built on each other are put in order by `order_type_definitions`.
        for wanted in &self.desired.composite_types {
            let Some(existing) = self.existing(&self.current.composite_types, wanted) else {
                changes.before_tables.push(Change::CreateCompositeType {
                    composite_type: wanted.clone(),
                });
                continue;
            };
            if existing.attributes != wanted.attributes {
                changes.before_tables.push(Change::AlterCompositeType {
                    from: existing.clone(),
                    to: wanted.clone(),
                });
            }
            changes
                .before_tables
                .extend(comment_change(existing, wanted));
        }
        for wanted in &self.desired.sequences {
            let existing = self.current.sequences.iter().find(|q| {
                same_ns(&q.schema, &wanted.schema) && self.options.same_name(&q.name, &wanted.name)
            });
            match existing {
                None => changes.before_tables.push(Change::CreateSequence {
                    sequence: wanted.clone(),
                }),
                Some(existing) if existing == wanted => {}
                Some(existing) => changes.with_tables.push(Change::AlterSequence {
                    from: existing.clone(),
                    to: wanted.clone(),
                }),
            }
        }
        // What a new function's signature may name that is created with it, and what a
        // dropped one's may name that is dropped with it.
        let new_views: Vec<&str> = self
            .desired
            .views
            .iter()
            .filter(|v| !has_view(&self.current.views, v, self.options))
            .map(|v| v.name.as_str())
            .collect();
        let new_tables: Vec<&str> = self
            .desired
            .tables
            .iter()
            .filter(|t| {
                self.find_current_table(t.schema.as_deref(), &t.name)
                    .is_none()
            })
            .map(|t| t.name.as_str())
            .collect();
        let dropped_views: Vec<&str> = self
            .current
            .views
            .iter()
            .filter(|v| !has_view(&self.desired.views, v, self.options))
            .map(|v| v.name.as_str())
            .collect();
        let dropped_table_names: Vec<&str> =
            dropped_tables.iter().map(|t| t.name.as_str()).collect();
        for wanted in &self.desired.functions {
            let existing = self
                .current
                .functions
                .iter()
                .find(|f| f.same_identity(wanted));
            match existing {
                None if self.signature_names(wanted, &new_views) => {
                    changes.after_created_views.push(Change::CreateFunction {
                        function: wanted.clone(),
                    })
                }
                None if self.signature_names(wanted, &new_tables) => {
                    changes.after_created_tables.push(Change::CreateFunction {
                        function: wanted.clone(),
                    })
                }
                None => changes.before_tables.push(Change::CreateFunction {
                    function: wanted.clone(),
                }),
                Some(existing) if existing.definition == wanted.definition => {
                    if existing.comment != wanted.comment {
                        changes.before_tables.push(Change::SetObjectComment {
                            object: Commented::Function(wanted.clone()),
                            from: existing.comment.clone(),
                            to: wanted.comment.clone(),
                        });
                    }
                }
                Some(existing) => changes.before_tables.push(Change::ReplaceFunction {
                    from: existing.clone(),
                    to: wanted.clone(),
                }),
            }
        }

        changes.before_tables.extend(late_domains);
        for wanted in &self.desired.text_search_configs {
            match self.existing(&self.current.text_search_configs, wanted) {
                None => changes.before_tables.push(Change::CreateTextSearchConfig {
                    config: wanted.clone(),
                }),
                Some(existing) => {
                    if existing.definition() != wanted.definition() {
                        changes.before_tables.push(Change::AlterTextSearchConfig {
                            from: existing.clone(),
                            to: wanted.clone(),
                        });
                    }
                    changes
                        .before_tables
                        .extend(comment_change(existing, wanted));
                }
            }
        }
        for config in self.dropped(
            &self.current.text_search_configs,
            &self.desired.text_search_configs,
        ) {
            changes.after_tables.push(Change::DropTextSearchConfig {
                config: config.clone(),
            });
        }
        // In reverse: an aggregate (listed after its functions) goes before them.
        for function in self.current.functions.iter().rev() {
            if !self
                .desired
                .functions
                .iter()
                .any(|f| f.same_identity(function))
            {
                let drop = Change::DropFunction {
                    function: function.clone(),
                };
                if self.signature_names(function, &dropped_views) {
                    changes.before_dropped_views.push(drop);
                } else if self.signature_names(function, &dropped_table_names) {
                    changes.with_dropped_tables.push(drop);
                } else {
                    changes.after_tables.push(drop);
                }
            }
        }
        for sequence in &self.current.sequences {
            let kept = self.desired.sequences.iter().any(|q| {
                same_ns(&q.schema, &sequence.schema)
                    && self.options.same_name(&q.name, &sequence.name)
            });
            if !kept {
                changes.after_tables.push(Change::DropSequence {
                    sequence: sequence.clone(),
                });
            }
        }
        for composite_type in
            self.dropped(&self.current.composite_types, &self.desired.composite_types)
        {
            changes.after_tables.push(Change::DropCompositeType {
                composite_type: composite_type.clone(),
            });
        }
        for range_type in self.dropped(&self.current.range_types, &self.desired.range_types) {
            changes.after_tables.push(Change::DropRangeType {
                range_type: range_type.clone(),
            });
        }
        for domain in &self.current.domains {
            let kept = self.desired.domains.iter().any(|d| {
                same_ns(&d.schema, &domain.schema) && self.options.same_name(&d.name, &domain.name)
            });
            if !kept {
                changes.after_tables.push(Change::DropDomain {
                    domain: domain.clone(),
                });
            }
        }
        for enum_type in &self.current.enums {
            let kept = self.desired.enums.iter().any(|e| {
                same_ns(&e.schema, &enum_type.schema)
                    && self.options.same_name(&e.name, &enum_type.name)
            });
            if !kept {
                changes.after_tables.push(Change::DropEnum {
                    enum_type: enum_type.clone(),
                });
            }
        }
        for collation in self.dropped(&self.current.collations, &self.desired.collations) {
            changes.after_tables.push(Change::DropCollation {
                collation: collation.clone(),
            });
        }
        for extension in &self.current.extensions {
            if !self
                .desired
                .extensions
                .iter()
                .any(|e| e.name == extension.name)
            {
                changes.after_tables.push(Change::DropExtension {
                    extension: extension.clone(),
                });
            }
        }
        for namespace in &self.current.namespaces {
            if !self
                .desired
                .namespaces
                .iter()
                .any(|n| n.name == namespace.name)
            {
                changes.after_tables.push(Change::DropNamespace {
                    namespace: namespace.clone(),
                });
            }
        }
        changes.before_tables =
            order_type_definitions(std::mem::take(&mut changes.before_tables), false);
        changes.after_tables =
            order_type_definitions(std::mem::take(&mut changes.after_tables), true);
        changes
    }

    /// Pairs each desired table with the current table it continues (same name, or named
    /// by its rename hint).
    fn pair_tables(&self) -> Vec<TablePair<'a>> {
        self.desired
            .tables
            .iter()
            .map(|desired| {
                let schema = desired.schema.as_deref();
                let by_name = self.find_current_table(schema, &desired.name);
                let by_hint = desired.renamed_from.as_deref().and_then(|old| {
                    let old_still_desired = self.desired.tables.iter().any(|t| {
                        t.schema.as_deref() == schema && self.options.same_name(&t.name, old)
                    });
                    if old_still_desired {
                        None
                    } else {
                        self.find_current_table(schema, old)
                    }
                });
                TablePair {
                    current: by_name.or(by_hint),
                    desired,
                }
            })
            .collect()
    }

    fn find_current_table(&self, schema: Option<&str>, name: &str) -> Option<&'a Table> {
        self.current
            .tables
            .iter()
            .find(|t| t.schema.as_deref() == schema && self.options.same_name(&t.name, name))
    }

    fn diff_table(
        &self,
        current: &Table,
        desired: &Table,
        removals: &mut Vec<Change>,
        alterations: &mut Vec<Change>,
        additions: &mut Vec<Change>,
        comments: &mut Vec<Change>,
    ) {
        let table = desired.name.clone();
        let schema = desired.schema.clone();
        // Removals are emitted before table renames, so they use the current name.
        let old_table = current.name.clone();
        let first_alteration = alterations.len();

        // Indexes.
        let mut kept_indexes: Vec<&Index> = Vec::new();
        for index in &desired.indexes {
            let by_name = current
                .indexes
                .iter()
                .find(|i| self.options.same_name(&i.name, &index.name));
            let by_hint = index.renamed_from.as_deref().and_then(|old| {
                current
                    .indexes
                    .iter()
                    .find(|i| self.options.same_name(&i.name, old))
            });
            match (by_name, by_hint) {
                (Some(existing), _) => {
                    kept_indexes.push(existing);
                    if !same_index(existing, index) {
                        removals.push(Change::DropIndex {
                            schema: schema.clone(),
                            table: old_table.clone(),
                            index: existing.clone(),
                        });
                        additions.push(Change::AddIndex {
                            schema: schema.clone(),
                            table: table.clone(),
                            index: index.clone(),
                        });
                    }
                }
                (None, Some(existing)) => {
                    kept_indexes.push(existing);
                    if same_index(existing, index) {
                        alterations.push(Change::RenameIndex {
                            schema: schema.clone(),
                            table: table.clone(),
                            from: existing.name.clone(),
                            to: index.name.clone(),
                        });
                    } else {
                        removals.push(Change::DropIndex {
                            schema: schema.clone(),
                            table: old_table.clone(),
                            index: existing.clone(),
                        });
                        additions.push(Change::AddIndex {
                            schema: schema.clone(),
                            table: table.clone(),
                            index: index.clone(),
                        });
                    }
                }
                (None, None) => additions.push(Change::AddIndex {
                    schema: schema.clone(),
                    table: table.clone(),
                    index: index.clone(),
                }),
            }
        }
        for index in &current.indexes {
            if !kept_indexes.iter().any(|k| k.name == index.name) {
                removals.push(Change::DropIndex {
                    schema: schema.clone(),
                    table: old_table.clone(),
                    index: index.clone(),
                });
            }
        }

        // Constraints.
        let foreign_keys = match_constraints(
            &current.foreign_keys,
            &desired.foreign_keys,
            |fk| fk.name.as_deref(),
            ForeignKey::same_definition,
        );
        removals.extend(
            foreign_keys
                .dropped
                .iter()
                .map(|fk| Change::DropForeignKey {
                    schema: schema.clone(),
                    table: old_table.clone(),
                    foreign_key: (*fk).clone(),
                }),
        );
        let uniques = match_constraints(
            &current.uniques,
            &desired.uniques,
            |u| u.name.as_deref(),
            |a: &Unique, b: &Unique| a.columns == b.columns,
        );
        removals.extend(uniques.dropped.iter().map(|unique| Change::DropUnique {
            schema: schema.clone(),
            table: old_table.clone(),
            unique: (*unique).clone(),
        }));
        let checks = match_constraints(
            &current.checks,
            &desired.checks,
            |c| c.name.as_deref(),
            |a: &Check, b: &Check| a.expression == b.expression,
        );
        removals.extend(checks.dropped.iter().map(|check| Change::DropCheck {
            schema: schema.clone(),
            table: old_table.clone(),
            check: (*check).clone(),
        }));
        let exclusions = match_constraints(
            &current.exclusions,
            &desired.exclusions,
            |x| Some(x.name.as_str()),
            |a: &Exclusion, b: &Exclusion| a.definition == b.definition,
        );
        removals.extend(
            exclusions
                .dropped
                .iter()
                .map(|exclusion| Change::DropExclusion {
                    schema: schema.clone(),
                    table: old_table.clone(),
                    exclusion: (*exclusion).clone(),
                }),
        );
        // A constraint an interrupted apply left NOT VALID is finished, not rebuilt.
        let unvalidated = foreign_keys
            .kept
            .iter()
            .filter(|(c, d)| c.not_valid && !d.not_valid)
            .filter_map(|(c, _)| c.name.clone())
            .chain(
                checks
                    .kept
                    .iter()
                    .filter(|(c, d)| c.not_valid && !d.not_valid)
                    .filter_map(|(c, _)| c.name.clone()),
            );
        for name in unvalidated {
            additions.push(Change::ValidateConstraint {
                schema: schema.clone(),
                table: table.clone(),
                name,
            });
        }

        // Columns.
        let mut kept: Vec<(&Column, &Column)> = Vec::new();
        for column in &desired.columns {
            let by_name = current
                .columns
                .iter()
                .find(|c| self.options.same_name(&c.name, &column.name));
            let by_hint = column.renamed_from.as_deref().and_then(|old| {
                let old_still_desired = desired
                    .columns
                    .iter()
                    .any(|c| self.options.same_name(&c.name, old));
                if old_still_desired {
                    None
                } else {
                    current
                        .columns
                        .iter()
                        .find(|c| self.options.same_name(&c.name, old))
                }
            });
            if let Some(existing) = by_name.or(by_hint) {
                kept.push((existing, column));
            }
        }
        for column in &current.columns {
            if !kept.iter().any(|(c, _)| c.name == column.name) {
                alterations.push(Change::DropColumn {
                    schema: schema.clone(),
                    table: table.clone(),
                    column: column.clone(),
                });
            }
        }
        for (existing, column) in &kept {
            if !self.options.same_name(&existing.name, &column.name) {
                alterations.push(Change::RenameColumn {
                    schema: schema.clone(),
                    table: table.clone(),
                    from: existing.name.clone(),
                    to: column.name.clone(),
                });
            }
        }
        for column in &desired.columns {
            if !kept.iter().any(|(_, d)| d.name == column.name) {
                alterations.push(Change::AddColumn {
                    schema: schema.clone(),
                    table: table.clone(),
                    column: column.clone(),
                });
            }
        }
        for (existing, column) in &kept {
            let renamed = Column {
                name: column.name.clone(),
                renamed_from: None,
                comment: None,
                ..(*existing).clone()
            };
            let wanted = Column {
                renamed_from: None,
                comment: None,
                ..(*column).clone()
            };
            if renamed != wanted {
                alterations.push(Change::AlterColumn {
                    schema: schema.clone(),
                    table: table.clone(),
                    from: renamed,
                    to: wanted,
                });
            }
            if existing.comment != column.comment {
                comments.push(Change::SetComment {
                    schema: schema.clone(),
                    table: table.clone(),
                    column: Some(column.name.clone()),
                    from: existing.comment.clone(),
                    to: column.comment.clone(),
                });
            }
        }
        if current.comment != desired.comment {
            comments.push(Change::SetComment {
                schema: schema.clone(),
                table: table.clone(),
                column: None,
                from: current.comment.clone(),
                to: desired.comment.clone(),
            });
        }
        if self.options.column_order_matters {
            // After drops, renames and adds (which append), the order would be:
            let mut resulting: Vec<String> = current
                .columns
                .iter()
                .filter_map(|c| {
                    kept.iter()
                        .find(|(e, _)| e.name == c.name)
                        .map(|(_, d)| d.name.clone())
                })
                .collect();
            resulting.extend(
                desired
                    .columns
                    .iter()
                    .filter(|c| !kept.iter().any(|(_, d)| d.name == c.name))
                    .map(|c| c.name.clone()),
            );
            let wanted: Vec<String> = desired.columns.iter().map(|c| c.name.clone()).collect();
            if resulting != wanted {
                alterations.push(Change::ReorderColumns {
                    schema: schema.clone(),
                    table: table.clone(),
                    from: resulting,
                    to: wanted,
                });
            }
        }

        // Primary key, options.
        let pk_equal = match (&current.primary_key, &desired.primary_key) {
            (None, None) => true,
            (Some(a), Some(b)) => {
                a.columns.len() == b.columns.len()
                    && a.columns
                        .iter()
                        .zip(&b.columns)
                        .all(|(x, y)| self.options.same_name(x, y) || renamed_to(&kept, x, y))
                    && a.autoincrement == b.autoincrement
                    && (a.name.is_none() || b.name.is_none() || a.name == b.name)
            }
            _ => false,
        };
        if !pk_equal {
            // The old key goes before the table's column changes (a column leaving the
            // key may lose NOT NULL, or go), the new one after them (it may need a new
            // column).
            if current.primary_key.is_some() {
                alterations.insert(
                    first_alteration,
                    Change::SetPrimaryKey {
                        schema: schema.clone(),
                        table: table.clone(),
                        from: current.primary_key.clone(),
                        to: None,
                    },
                );
            }
            if desired.primary_key.is_some() {
                alterations.push(Change::SetPrimaryKey {
                    schema: schema.clone(),
                    table: table.clone(),
                    from: None,
                    to: desired.primary_key.clone(),
                });
            }
        }
        if current.partition_of != desired.partition_of {
            alterations.push(Change::SetPartitionOf {
                schema: schema.clone(),
                table: table.clone(),
                from: current.partition_of.clone(),
                to: desired.partition_of.clone(),
            });
        }
        if current.options != desired.options {
            alterations.push(Change::SetTableOptions {
                schema: schema.clone(),
                table: table.clone(),
                from: current.options.clone(),
                to: desired.options.clone(),
            });
        }

        additions.extend(uniques.added.into_iter().map(|unique| Change::AddUnique {
            schema: schema.clone(),
            table: table.clone(),
            unique: unique.clone(),
        }));
        additions.extend(checks.added.into_iter().map(|check| Change::AddCheck {
            schema: schema.clone(),
            table: table.clone(),
            check: check.clone(),
        }));
        additions.extend(
            exclusions
                .added
                .into_iter()
                .map(|exclusion| Change::AddExclusion {
                    schema: schema.clone(),
                    table: table.clone(),
                    exclusion: exclusion.clone(),
                }),
        );
        additions.extend(
            foreign_keys
                .added
                .into_iter()
                .map(|fk| Change::AddForeignKey {
                    schema: schema.clone(),
                    table: table.clone(),
                    foreign_key: fk.clone(),
                }),
        );
    }

    fn diff_views(&self) -> (Vec<Change>, Vec<Change>) {
        let mut drops: Vec<&View> = Vec::new();
        let mut creates: Vec<&View> = Vec::new();
        let mut comments: Vec<Change> = Vec::new();
        for view in &self.current.views {
            let desired =
                self.desired.views.iter().find(|v| {
                    v.schema == view.schema && self.options.same_name(&v.name, &view.name)
                });
            let same_definition = desired.is_some_and(|d| same_except_comment(d, view));
            if !same_definition || self.reads_recreated_table(&view.definition) {
                drops.push(view);
            }
        }
        for view in &self.desired.views {
            let current =
                self.current.views.iter().find(|v| {
                    v.schema == view.schema && self.options.same_name(&v.name, &view.name)
                });
            let dropped = current.is_some_and(|c| drops.iter().any(|d| std::ptr::eq(*d, c)));
            match current {
                Some(current) if !dropped => {
                    if current.comment != view.comment {
                        comments.push(Change::SetObjectComment {
                            object: Commented::View(view.clone()),
                            from: current.comment.clone(),
                            to: view.comment.clone(),
                        });
                    }
                }
                _ => creates.push(view),
            }
        }
        // A view that reads a dropped or recreated view must be recreated with it.
        loop {
            let extra: Vec<&View> = self
                .current
                .views
                .iter()
                .filter(|v| !drops.iter().any(|d| std::ptr::eq(*d, *v)))
                .filter(|v| {
                    drops.iter().any(|d| {
                        mentions(&v.definition, &d.name, self.options.case_insensitive_names)
                    })
                })
                .collect();
            if extra.is_empty() {
                break;
            }
            for view in extra {
                drops.push(view);
                if let Some(desired) = self.desired.views.iter().find(|v| {
                    v.schema == view.schema && self.options.same_name(&v.name, &view.name)
                }) {
                    if !creates.iter().any(|c| std::ptr::eq(*c, desired)) {
                        creates.push(desired);
                    }
                }
            }
        }
        let mut drop_order = order_views(&drops, self.options);
        drop_order.reverse();
        let create_order = order_views(&creates, self.options);
        (
            drop_order
                .into_iter()
                .map(|view| Change::DropView { view: view.clone() })
                .collect(),
            create_order
                .into_iter()
                .map(|view| Change::CreateView { view: view.clone() })
                .chain(comments)
                .collect(),
        )
    }

    fn diff_triggers(&self) -> (Vec<Change>, Vec<Change>) {
        // A trigger is named per table (PostgreSQL lets every table have its own
        // `last_updated`).
        let same = |a: &Trigger, b: &Trigger| {
            a.schema == b.schema
                && self.options.same_name(&a.table, &b.table)
                && self.options.same_name(&a.name, &b.name)
        };
        let dropped: Vec<&Trigger> = self
            .current
            .triggers
            .iter()
            .filter(|t| {
                self.desired.triggers.iter().find(|d| same(d, t)) != Some(*t)
                    || self.reads_recreated_table(&t.definition)
            })
            .collect();
        let creates = self
            .desired
            .triggers
            .iter()
            .filter(|t| {
                dropped.iter().any(|d| same(d, t))
                    || !self.current.triggers.iter().any(|c| same(c, t))
            })
            .map(|t| Change::CreateTrigger { trigger: t.clone() })
            .collect();
        let drops = dropped
            .into_iter()
            .map(|t| Change::DropTrigger { trigger: t.clone() })
            .collect();
        (drops, creates)
    }

    /// Policies and row-level security of every desired table. The drops go first of
    /// all (a policy that reads a column, view or function would keep it from being
    /// dropped or changed); renames, creates, alterations and comments go after every
    /// table, view and trigger change (a policy may read any of them), and row-level
    /// security is switched last, once the policies it enforces are there. Policies of
    /// a table whose dependents are recreated ([`diff_recreating`]) are dropped and
    /// created again: PostgreSQL refuses to drop or retype a column a policy reads.
    fn diff_policies(
        &self,
        pairs: &[TablePair<'_>],
        dropped_tables: &[&Table],
    ) -> (Vec<Change>, Vec<Change>) {
        let mut drops = Vec::new();
        let mut renames = Vec::new();
        let mut creates = Vec::new();
        let mut row_security = Vec::new();
        for pair in pairs {
            let desired = pair.desired;
            let schema = desired.schema.clone();
            let table = desired.name.clone();
            let create = |policy: &Policy| Change::CreatePolicy {
                schema: schema.clone(),
                table: table.clone(),
                policy: policy.clone(),
            };
            let Some(current) = pair.current else {
                creates.extend(desired.policies.iter().map(create));
                continue;
            };
            let recreated = self.recreate.iter().any(|t| {
                self.options.same_name(t, &current.name) || self.options.same_name(t, &table)
            });
            let mut kept: Vec<&Policy> = Vec::new();
            for wanted in &desired.policies {
                let available = |p: &&Policy| !kept.iter().any(|k| std::ptr::eq(*k, *p));
                let by_name = current
                    .policies
                    .iter()
                    .filter(available)
                    .find(|p| self.options.same_name(&p.name, &wanted.name));
                let by_hint = wanted
                    .renamed_from
                    .as_deref()
                    .filter(|old| {
                        !desired
                            .policies
                            .iter()
                            .any(|p| self.options.same_name(&p.name, old))
                    })
                    .and_then(|old| {
                        current
                            .policies
                            .iter()
                            .filter(available)
                            .find(|p| self.options.same_name(&p.name, old))
                    });
                let existing = match by_name.or(by_hint) {
                    Some(existing)
                        if !recreated && !self.reads_dropped_relation(existing, dropped_tables) =>
                    {
                        existing
                    }
                    _ => {
                        creates.push(create(wanted));
                        continue;
                    }
                };
                kept.push(existing);
                if !self.options.same_name(&existing.name, &wanted.name) {
                    renames.push(Change::RenamePolicy {
                        schema: schema.clone(),
                        table: table.clone(),
                        from: existing.name.clone(),
                        to: wanted.name.clone(),
                    });
                }
                let renamed = Policy {
                    name: wanted.name.clone(),
                    ..existing.clone()
                };
                if !renamed.same_definition(wanted) {
                    creates.push(Change::AlterPolicy {
                        schema: schema.clone(),
                        table: table.clone(),
                        from: renamed,
                        to: Policy {
                            renamed_from: None,
                            ..wanted.clone()
                        },
                    });
                } else if existing.comment != wanted.comment {
                    creates.push(Change::SetObjectComment {
                        object: Commented::Policy {
                            schema: schema.clone(),
                            table: table.clone(),
                            policy: wanted.clone(),
                        },
                        from: existing.comment.clone(),
                        to: wanted.comment.clone(),
                    });
                }
            }
            for policy in &current.policies {
                if !kept.iter().any(|k| std::ptr::eq(*k, policy)) {
                    drops.push(Change::DropPolicy {
                        schema: current.schema.clone(),
                        table: current.name.clone(),
                        policy: policy.clone(),
                    });
                }
            }
            let (from, to) = (RowSecurity::of(current), RowSecurity::of(desired));
            if from != to {
                row_security.push(Change::SetRowSecurity {
                    schema: schema.clone(),
                    table: table.clone(),
                    from,
                    to,
                });
            }
        }
        renames.extend(creates);
        renames.extend(row_security);
        (drops, renames)
    }

    /// Whether a current policy's expressions read a table the diff drops or a view it
    /// drops or recreates: such a policy is dropped first and created again at the end,
    /// since PostgreSQL refuses to drop what a policy reads.
    fn reads_dropped_relation(&self, policy: &Policy, dropped_tables: &[&Table]) -> bool {
        let texts: Vec<&str> = policy
            .using
            .iter()
            .chain(&policy.with_check)
            .map(String::as_str)
            .collect();
        let reads = |name: &str| {
            texts
                .iter()
                .any(|t| mentions(t, name, self.options.case_insensitive_names))
        };
        let dropped_table = dropped_tables.iter().any(|t| reads(&t.name));
        let dropped_view = self.current.views.iter().any(|v| {
            let kept = self.desired.views.iter().any(|d| {
                d.schema == v.schema
                    && self.options.same_name(&d.name, &v.name)
                    && same_except_comment(d, v)
            });
            (!kept || self.reads_recreated_table(&v.definition)) && reads(&v.name)
        });
        dropped_table || dropped_view
    }

    /// The current object of `current` that `wanted` continues (same namespace and name).
    fn existing<'x, T: CatalogObject>(&self, current: &'x [T], wanted: &T) -> Option<&'x T> {
        let object = wanted.commented();
        let (schema, name) = object.name();
        find_named(current, schema, name, &self.options)
    }

    /// The objects of `current` that `desired` does not keep.
    fn dropped<'x, T: CatalogObject>(
        &self,
        current: &'x [T],
        desired: &'x [T],
    ) -> impl Iterator<Item = &'x T> + 'x {
        let options = self.options;
        current.iter().filter(move |object| {
            let commented = object.commented();
            let (schema, name) = commented.name();
            find_named(desired, schema, name, &options).is_none()
        })
    }

    /// Whether a domain's CHECKs or default call a function the diff creates.
    fn calls_new_function(&self, domain: &Domain) -> bool {
        let texts: Vec<&str> = domain
            .checks
            .iter()
            .map(|c| c.expression.as_str())
            .chain(domain.default.as_deref())
            .collect();
        self.desired
            .functions
            .iter()
            .filter(|f| !self.current.functions.iter().any(|c| c.same_identity(f)))
            .any(|f| {
                texts
                    .iter()
                    .any(|t| mentions(t, &f.name, self.options.case_insensitive_names))
            })
    }

    /// Whether a function's arguments or result (or its `BEGIN ATOMIC` body, which
    /// PostgreSQL resolves at creation) name one of `relations`: a function returning
    /// `SETOF customer` is created after the new table `customer`, and dropped before it.
    fn signature_names(&self, function: &Function, relations: &[&str]) -> bool {
        if relations.is_empty() {
            return false;
        }
        let signature = signature(function);
        relations
            .iter()
            .any(|name| mentions(&signature, name, self.options.case_insensitive_names))
    }

    /// The new tables and the functions created right after them, in one order: a
    /// function after the tables (and other such functions) it names, a table after the
    /// functions its defaults, CHECKs or generated columns call, a table after the
    /// tables its foreign keys reference. Without such functions the tables keep their
    /// order.
    fn order_with_late_functions(
        &self,
        tables: Vec<Change>,
        functions: Vec<Change>,
    ) -> Vec<Change> {
        if functions.is_empty() {
            return tables;
        }
        let options = self.options;
        let changes: Vec<Change> = tables.into_iter().chain(functions).collect();
        let refs: Vec<&Change> = changes.iter().collect();
        topological(&refs, |a, b| match (a, b) {
            (Change::CreateTable { table: a }, Change::CreateTable { table: b }) => {
                table_depends(a, b, options)
            }
            (Change::CreateTable { table }, Change::CreateFunction { function }) => {
                table_expressions(table)
                    .any(|sql| mentions(sql, &function.name, options.case_insensitive_names))
            }
            (Change::CreateFunction { function }, Change::CreateTable { table }) => mentions(
                &signature(function),
                &table.name,
                options.case_insensitive_names,
            ),
            (Change::CreateFunction { function: a }, Change::CreateFunction { function: b }) => {
                !a.same_identity(b)
                    && mentions(&signature(a), &b.name, options.case_insensitive_names)
            }
            _ => false,
        })
        .into_iter()
        .cloned()
        .collect()
    }

    /// Whether SQL text mentions a table whose dependents must be recreated.
    fn reads_recreated_table(&self, sql: &str) -> bool {
        self.recreate
            .iter()
            .any(|table| mentions(sql, table, self.options.case_insensitive_names))
    }

    fn diff_virtual_tables(&self) -> (Vec<Change>, Vec<Change>) {
        let drops = self
            .current
            .virtual_tables
            .iter()
            .filter(|t| {
                self.desired
                    .virtual_tables
                    .iter()
                    .find(|d| self.options.same_name(&d.name, &t.name))
                    != Some(*t)
            })
            .map(|t| Change::DropVirtualTable { table: t.clone() })
            .collect();
        let creates = self
            .desired
            .virtual_tables
            .iter()
            .filter(|t| {
                self.current
                    .virtual_tables
                    .iter()
                    .find(|c| self.options.same_name(&c.name, &t.name))
                    != Some(*t)
            })
            .map(|t| Change::CreateVirtualTable { table: t.clone() })
            .collect();
        (drops, creates)
    }
}

/// Catalog changes by where they go in the order.
#[derive(Default)]
struct CatalogChanges {
    /// Created or replaced before any table change (namespaces, types, sequences, functions).
    before_tables: Vec<Change>,
    /// Right after the new tables (functions whose signature uses a new table's row type).
    after_created_tables: Vec<Change>,
    /// Right after the new views (functions whose signature uses a new view's row type).
    after_created_views: Vec<Change>,
    /// Before the views are dropped (dropped functions whose signature uses a dropped
    /// view's row type).
    before_dropped_views: Vec<Change>,
    /// Among the dropped tables (dropped functions whose signature or `BEGIN ATOMIC`
    /// body uses a dropped table).
    with_dropped_tables: Vec<Change>,
    /// After table alterations (sequence changes, whose owner column may be new).
    with_tables: Vec<Change>,
    /// After every table, view and trigger change (drops of what they used).
    after_tables: Vec<Change>,
}

/// `ADD VALUE`s when the desired labels keep every current one in order; otherwise the
/// type must be recreated.
fn enum_changes(current: &EnumType, desired: &EnumType) -> Vec<Change> {
    let kept: Vec<&String> = desired
        .values
        .iter()
        .filter(|v| current.values.contains(v))
        .collect();
    let keeps_all_in_order = kept.len() == current.values.len()
        && kept.iter().zip(&current.values).all(|(a, b)| *a == b);
    if !keeps_all_in_order {
        return vec![Change::RecreateEnum {
            from: current.clone(),
            to: desired.clone(),
        }];
    }
    desired
        .values
        .iter()
        .enumerate()
        .filter(|(_, value)| !current.values.contains(value))
        .map(|(position, value)| Change::AddEnumValue {
            enum_type: current.clone(),
            value: value.clone(),
            before: desired.values[position + 1..]
                .iter()
                .find(|next| current.values.contains(next))
                .cloned(),
        })
        .collect()
}

/// The comment change from `existing` to `wanted`, if their comments differ.
fn comment_change<T: CatalogObject>(existing: &T, wanted: &T) -> Option<Change> {
    let (from, to) = (existing.commented(), wanted.commented());
    (from.comment() != to.comment()).then(|| Change::SetObjectComment {
        from: from.comment().map(str::to_string),
        to: to.comment().map(str::to_string),
        object: to,
    })
}

/// Whether `views` holds a view of `view`'s namespace and name.
fn has_view(views: &[View], view: &View, options: DiffOptions) -> bool {
    views
        .iter()
        .any(|v| v.schema == view.schema && options.same_name(&v.name, &view.name))
}

/// Whether two views differ at most in their comments.
fn same_except_comment(a: &View, b: &View) -> bool {
    View {
        comment: None,
        ..a.clone()
    } == View {
        comment: None,
        ..b.clone()
    }
}

/// Whether the kept column named `from` in the current table is the one named `to` now.
fn renamed_to(kept: &[(&Column, &Column)], from: &str, to: &str) -> bool {
    kept.iter().any(|(c, d)| c.name == from && d.name == to)
}

fn same_index(a: &Index, b: &Index) -> bool {
    a.unique == b.unique
        && a.parts == b.parts
        && a.predicate == b.predicate
        && a.method == b.method
        && a.include == b.include
}

/// Constraints of one kind, matched between the current and desired table.
struct Matched<'c, T> {
    /// Current constraints with no desired counterpart.
    dropped: Vec<&'c T>,
    /// Desired constraints with no current counterpart.
    added: Vec<&'c T>,
    /// (current, desired) pairs that are the same constraint.
    kept: Vec<(&'c T, &'c T)>,
}

/// Matches constraints: same name and definition first, then same definition where at
/// least one side is unnamed (so an engine-named constraint matches an unnamed one).
fn match_constraints<'c, T>(
    current: &'c [T],
    desired: &'c [T],
    name: impl Fn(&T) -> Option<&str>,
    same_definition: impl Fn(&T, &T) -> bool,
) -> Matched<'c, T> {
    let mut used = vec![false; current.len()];
    let mut added = Vec::new();
    let mut kept = Vec::new();
    for wanted in desired {
        let position = current
            .iter()
            .enumerate()
            .position(|(i, c)| {
                !used[i]
                    && name(c).is_some()
                    && name(c) == name(wanted)
                    && same_definition(c, wanted)
            })
            .or_else(|| {
                current.iter().enumerate().position(|(i, c)| {
                    !used[i]
                        && same_definition(c, wanted)
                        && (name(c).is_none() || name(wanted).is_none() || name(c) == name(wanted))
                })
            });
        match position {
            Some(i) => {
                used[i] = true;
                kept.push((&current[i], wanted));
            }
            None => added.push(wanted),
        }
    }
    let dropped = current
        .iter()
        .enumerate()
        .filter(|(i, _)| !used[*i])
        .map(|(_, c)| c)
        .collect();
    Matched {
        dropped,
        added,
        kept,
    }
}

/// The type, domain or collation a change creates (or, `dropping`, drops).
fn type_definition(change: &Change, dropping: bool) -> Option<Commented> {
    let object = match (change, dropping) {
        (Change::CreateEnum { enum_type }, false) | (Change::DropEnum { enum_type }, true) => {
            Commented::Enum(enum_type.clone())
        }
        (Change::CreateDomain { domain }, false) | (Change::DropDomain { domain }, true) => {
            Commented::Domain(domain.clone())
        }
        (Change::CreateRangeType { range_type }, false)
        | (Change::DropRangeType { range_type }, true) => Commented::RangeType(range_type.clone()),
        (Change::CreateCompositeType { composite_type }, false)
        | (Change::DropCompositeType { composite_type }, true) => {
            Commented::CompositeType(composite_type.clone())
        }
        (Change::CreateCollation { collation }, false)
        | (Change::DropCollation { collation }, true) => Commented::Collation(collation.clone()),
        _ => return None,
    };
    Some(object)
}

/// Reorders the creations (or, `dropping`, the drops) of types, domains and collations
/// among `changes` so that each is created after what its definition uses (a range over a
/// domain, a domain over a composite type) and dropped before it. They keep the places
/// they had among the other changes; only their order among themselves changes.
fn order_type_definitions(changes: Vec<Change>, dropping: bool) -> Vec<Change> {
    let defined: Vec<(usize, Commented)> = changes
        .iter()
        .enumerate()
        .filter_map(|(i, c)| type_definition(c, dropping).map(|object| (i, object)))
        .collect();
    if defined.len() < 2 {
        return changes;
    }
    let items: Vec<&(usize, Commented)> = defined.iter().collect();
    let order = topological(&items, |a, b| {
        if dropping {
            uses(&b.1, &a.1)
        } else {
            uses(&a.1, &b.1)
        }
    });
    let mut out = changes.clone();
    for ((slot, _), (from, _)) in defined.iter().zip(order) {
        out[*slot] = changes[*from].clone();
    }
    out
}

/// Orders tables so that a table comes after the tables its foreign keys reference
/// (among those given); cycles keep their input order.
fn order_by_references<'t>(tables: &[&'t Table], options: DiffOptions) -> Vec<&'t Table> {
    topological(tables, |a, b| table_depends(a, b, options))
}

/// Whether table `a` must be created after table `b`: it is a partition of `b`, or a
/// foreign key of `a` references `b`.
fn table_depends(a: &Table, b: &Table, options: DiffOptions) -> bool {
    let partition_of = a
        .partition_of
        .as_ref()
        .is_some_and(|p| p.schema == b.schema && options.same_name(&p.table, &b.name));
    partition_of
        || a.foreign_keys.iter().any(|fk| {
            options.same_name(&fk.referenced_table, &b.name) && !options.same_name(&a.name, &b.name)
        })
}

/// The SQL expressions a table evaluates: column defaults, generated columns, CHECKs.
fn table_expressions(table: &Table) -> impl Iterator<Item = &str> {
    table
        .columns
        .iter()
        .flat_map(|c| {
            c.default
                .as_deref()
                .into_iter()
                .chain(c.generated.as_ref().map(|g| g.expression.as_str()))
        })
        .chain(table.checks.iter().map(|c| c.expression.as_str()))
}

/// A function's definition up to its `AS` body: arguments, result and options, or all of
/// it for a `BEGIN ATOMIC` body (which PostgreSQL parses, and so resolves, at creation).
fn signature(function: &Function) -> String {
    function
        .definition
        .lines()
        .take_while(|line| !line.trim_start().starts_with("AS "))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Orders views so that a view comes after the views it reads (among those given).
fn order_views<'v>(views: &[&'v View], options: DiffOptions) -> Vec<&'v View> {
    topological(views, |a, b| {
        !options.same_name(&a.name, &b.name)
            && mentions(&a.definition, &b.name, options.case_insensitive_names)
    })
}

/// A stable topological order: `depends(a, b)` means `a` must come after `b`.
fn topological<'x, T>(items: &[&'x T], depends: impl Fn(&T, &T) -> bool) -> Vec<&'x T> {
    let mut placed = vec![false; items.len()];
    let mut out = Vec::with_capacity(items.len());
    while out.len() < items.len() {
        let ready = (0..items.len()).find(|&i| {
            !placed[i]
                && (0..items.len()).all(|j| placed[j] || j == i || !depends(items[i], items[j]))
        });
        // In a cycle nothing is ready: take the first unplaced item.
        let next = ready.unwrap_or_else(|| (0..items.len()).find(|&i| !placed[i]).unwrap_or(0));
        placed[next] = true;
        out.push(items[next]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IndexPart, PrimaryKey};

    fn table(name: &str, columns: &[&str]) -> Table {
        let mut t = Table::new(name);
        t.columns = columns.iter().map(|c| Column::new(*c, "TEXT")).collect();
        t
    }

    fn schema(tables: Vec<Table>) -> Schema {
        Schema {
            tables,
            ..Schema::default()
        }
    }

    fn described(changes: &[Change]) -> Vec<String> {
        changes.iter().map(Change::describe).collect()
    }

    #[test]
    fn equal_schemas_have_no_changes() {
        let s = schema(vec![table("a", &["x", "y"])]);
        assert!(diff(&s, &s, &DiffOptions::default()).is_empty());
    }

    #[test]
    fn rename_hint_on_column_gives_a_rename_not_drop_and_add() {
        let current = schema(vec![table("users", &["id", "mail"])]);
        let mut wanted = table("users", &["id", "email"]);
        wanted.columns[1].renamed_from = Some("mail".into());
        let changes = diff(&current, &schema(vec![wanted]), &DiffOptions::default());
        assert_eq!(described(&changes), ["rename column users.mail to email"]);
    }

    #[test]
    fn without_a_hint_a_renamed_column_is_dropped_and_added() {
        let current = schema(vec![table("users", &["id", "mail"])]);
        let changes = diff(
            &current,
            &schema(vec![table("users", &["id", "email"])]),
            &DiffOptions::default(),
        );
        assert_eq!(
            described(&changes),
            ["drop column users.mail", "add column users.email"]
        );
    }

    #[test]
    fn rename_hint_on_table() {
        let current = schema(vec![table("people", &["id"])]);
        let mut wanted = table("users", &["id"]);
        wanted.renamed_from = Some("people".into());
        let changes = diff(&current, &schema(vec![wanted]), &DiffOptions::default());
        assert_eq!(described(&changes), ["rename table people to users"]);
    }

    #[test]
    fn created_tables_come_after_the_tables_they_reference() {
        let mut child = table("child", &["parent_id"]);
        child.foreign_keys.push(ForeignKey {
            not_valid: false,
            name: None,
            columns: vec!["parent_id".into()],
            referenced_schema: None,
            referenced_table: "parent".into(),
            referenced_columns: vec!["id".into()],
            on_delete: Default::default(),
            on_update: Default::default(),
            deferrable: Default::default(),
        });
        let desired = schema(vec![child.clone(), table("parent", &["id"])]);
        let changes = diff(&Schema::default(), &desired, &DiffOptions::default());
        assert_eq!(
            described(&changes),
            ["create table parent", "create table child"]
        );
        let back = diff(&desired, &Schema::default(), &DiffOptions::default());
        assert_eq!(described(&back), ["drop table child", "drop table parent"]);
    }

    #[test]
    fn unnamed_constraint_matches_named_one_with_same_definition() {
        let mut current = table("t", &["a"]);
        current.checks.push(Check {
            not_valid: false,
            name: None,
            expression: "a > 0".into(),
        });
        let mut desired = table("t", &["a"]);
        desired.checks.push(Check {
            not_valid: false,
            name: Some("ck_t_positive".into()),
            expression: "a > 0".into(),
        });
        assert!(diff(
            &schema(vec![current]),
            &schema(vec![desired]),
            &DiffOptions::default()
        )
        .is_empty());
    }

    #[test]
    fn case_insensitive_names_match_when_the_dialect_says_so() {
        let current = schema(vec![table("Users", &["ID"])]);
        let desired = schema(vec![table("users", &["id"])]);
        let options = DiffOptions {
            case_insensitive_names: true,
            column_order_matters: true,
        };
        assert!(diff(&current, &desired, &options).is_empty());
        assert!(!diff(&current, &desired, &DiffOptions::default()).is_empty());
    }

    #[test]
    fn column_order_change_is_a_reorder_when_order_matters() {
        let current = schema(vec![table("t", &["a", "b"])]);
        let desired = schema(vec![table("t", &["b", "a"])]);
        let options = DiffOptions {
            column_order_matters: true,
            ..DiffOptions::default()
        };
        assert_eq!(
            described(&diff(&current, &desired, &options)),
            ["reorder columns of t"]
        );
        assert!(diff(&current, &desired, &DiffOptions::default()).is_empty());
    }

    #[test]
    fn appended_columns_are_not_a_reorder() {
        let current = schema(vec![table("t", &["a"])]);
        let desired = schema(vec![table("t", &["a", "b"])]);
        let options = DiffOptions {
            column_order_matters: true,
            ..DiffOptions::default()
        };
        assert_eq!(
            described(&diff(&current, &desired, &options)),
            ["add column t.b"]
        );
    }

    #[test]
    fn a_view_reading_a_changed_view_is_recreated_after_it() {
        let base = View {
            schema: None,
            name: "base".into(),
            columns: vec![],
            definition: "SELECT a FROM t".into(),
            materialized: false,
            comment: None,
            indexes: Vec::new(),
        };
        let top = View {
            name: "top".into(),
            definition: "SELECT a FROM base".into(),
            ..base.clone()
        };
        let current = Schema {
            views: vec![base.clone(), top.clone()],
            ..Schema::default()
        };
        let desired = Schema {
            views: vec![
                View {
                    definition: "SELECT a, 1 FROM t".into(),
                    ..base
                },
                top,
            ],
            ..Schema::default()
        };
        let changes = diff(&current, &desired, &DiffOptions::default());
        assert_eq!(
            described(&changes),
            [
                "drop view top",
                "drop view base",
                "create view base",
                "create view top"
            ]
        );
    }

    #[test]
    fn changed_index_is_dropped_before_and_added_after_column_changes() {
        let mut current = table("t", &["a", "b"]);
        current.indexes.push(Index {
            include: Vec::new(),
            name: "ix".into(),
            unique: false,
            parts: vec![IndexPart::column("a")],
            predicate: None,
            method: None,
            renamed_from: None,
        });
        current.primary_key = Some(PrimaryKey {
            name: None,
            columns: vec!["a".into()],
            autoincrement: false,
        });
        let mut desired = current.clone();
        desired.indexes[0].parts = vec![IndexPart::column("b")];
        desired.columns.push(Column::new("c", "TEXT"));
        let changes = diff(
            &schema(vec![current]),
            &schema(vec![desired]),
            &DiffOptions::default(),
        );
        assert_eq!(
            described(&changes),
            ["drop index ix on t", "add column t.c", "add index ix on t"]
        );
    }

    #[test]
    fn dependents_of_a_recreated_table_are_dropped_first_and_created_last() {
        let view = View {
            schema: None,
            name: "v".into(),
            columns: vec![],
            definition: "SELECT x FROM t".into(),
            materialized: false,
            comment: None,
            indexes: Vec::new(),
        };
        let trigger = Trigger {
            schema: None,
            name: "tr".into(),
            table: "t".into(),
            definition: "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END".into(),
        };
        let current = Schema {
            tables: vec![table("t", &["x"])],
            views: vec![view],
            triggers: vec![trigger],
            ..Schema::default()
        };
        let mut desired = current.clone();
        desired.tables[0].columns.push(Column::new("y", "TEXT"));
        let changes = diff_recreating(&current, &desired, &DiffOptions::default(), &["t".into()]);
        assert_eq!(
            described(&changes),
            [
                "drop trigger tr",
                "drop view v",
                "add column t.y",
                "create view v",
                "create trigger tr"
            ]
        );
    }

    fn policy(name: &str, using: &str) -> Policy {
        Policy {
            name: name.into(),
            restrictive: false,
            command: Default::default(),
            roles: vec![crate::model::PUBLIC_ROLE.into()],
            using: Some(using.into()),
            with_check: None,
            comment: None,
            renamed_from: None,
        }
    }

    #[test]
    fn policies_drop_first_and_come_after_views_renamed_altered_then_enforced() {
        let mut current = table("t", &["a", "b"]);
        current.policies = vec![policy("gone", "a = 1"), policy("old", "a = 2")];
        let view = View {
            schema: None,
            name: "v".into(),
            columns: vec![],
            definition: "SELECT c FROM t".into(),
            materialized: false,
            comment: None,
            indexes: Vec::new(),
        };
        let mut desired = table("t", &["a", "b", "c"]);
        desired.row_security = true;
        desired.policies = vec![
            Policy {
                renamed_from: Some("old".into()),
                ..policy("new", "c = 2")
            },
            policy("added", "b = 1"),
        ];
        let desired = Schema {
            tables: vec![desired],
            views: vec![view],
            ..Schema::default()
        };
        let changes = diff(
            &schema(vec![current.clone()]),
            &desired,
            &DiffOptions::default(),
        );
        assert_eq!(
            described(&changes),
            [
                "drop policy gone on t",
                "add column t.c",
                "create view v",
                "rename policy old on t to new",
                "alter policy new on t (using)",
                "create policy added on t",
                "enable row-level security on t",
            ]
        );
        // A table whose dependents are recreated gets its policies back around the change.
        let recreated = diff_recreating(
            &schema(vec![current.clone()]),
            &schema(vec![current]),
            &DiffOptions::default(),
            &["t".into()],
        );
        assert_eq!(
            described(&recreated),
            [
                "drop policy gone on t",
                "drop policy old on t",
                "create policy gone on t",
                "create policy old on t",
            ]
        );
    }

    #[test]
    fn reversed_changes_are_the_changes_of_the_opposite_diff() {
        let a = schema(vec![table("t", &["x"])]);
        let b = schema(vec![table("t", &["x", "y"]), table("u", &["z"])]);
        let mut reversed: Vec<String> = diff(&a, &b, &DiffOptions::default())
            .iter()
            .map(|c| c.reverse().describe())
            .collect();
        let mut backward = described(&diff(&b, &a, &DiffOptions::default()));
        reversed.sort();
        backward.sort();
        assert_eq!(reversed, backward);
    }
}
