//! A fluent builder for writing a desired [`Schema`] in Rust code.
//!
//! This module owns only the shape of the builder API: every call sets a model field, and
//! [`SchemaBuilder::build`] fills unnamed constraints and indexes through a
//! [`NamingConvention`]. It never validates (use [`crate::format::validate`]), never
//! normalises for a dialect (that is [`crate::Driver::normalize_model`]) and never talks
//! to a database.
//!
//! ```
//! use schemasync_core::builder::SchemaBuilder;
//! use schemasync_core::ReferentialAction;
//!
//! let schema = SchemaBuilder::new()
//!     .table("users", |t| {
//!         t.column("id", "INTEGER", |c| c.not_null())
//!             .column("email", "TEXT", |c| c.not_null().collation("NOCASE"))
//!             .primary_key(["id"])
//!             .unique(["email"])
//!     })
//!     .table("posts", |t| {
//!         t.column("id", "INTEGER", |c| c.not_null())
//!             .column("user_id", "INTEGER", |c| c)
//!             .column("title", "TEXT", |c| c.default("''").renamed_from("headline"))
//!             .primary_key(["id"])
//!             .foreign_key(["user_id"], "users", ["id"], |fk| {
//!                 fk.on_delete(ReferentialAction::Cascade)
//!             })
//!             .check("length(title) < 200")
//!             .index(["user_id", "title"], |i| i)
//!     })
//!     .view("titles", "SELECT title FROM posts")
//!     .build();
//!
//! let posts = &schema.tables[1];
//! assert_eq!(posts.primary_key.as_ref().unwrap().name.as_deref(), Some("pk_posts"));
//! assert_eq!(posts.foreign_keys[0].name.as_deref(), Some("fk_posts_user_id_users"));
//! assert_eq!(posts.checks[0].name.as_deref(), Some("ck_posts_title"));
//! assert_eq!(posts.indexes[0].name, "ix_posts_user_id");
//! assert_eq!(posts.columns[2].renamed_from.as_deref(), Some("headline"));
//! assert_eq!(schema.tables[0].uniques[0].name.as_deref(), Some("uq_users_email"));
//! assert_eq!(schema.views[0].definition, "SELECT title FROM posts");
//! ```

use crate::model::{
    Check, Column, Deferrable, ForeignKey, Generated, Identity, Index, IndexPart, PrimaryKey,
    ReferentialAction, Schema, Table, Trigger, Unique, View, VirtualTable,
};
use crate::naming::NamingConvention;

fn strings<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Vec<String> {
    items.into_iter().map(Into::into).collect()
}

/// Builds a [`Schema`] object by object.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct SchemaBuilder {
    schema: Schema,
}

impl SchemaBuilder {
    /// An empty schema.
    pub fn new() -> Self {
        SchemaBuilder::default()
    }

    /// Adds a table, described by `build` (columns, constraints, indexes, options).
    pub fn table(
        mut self,
        name: impl Into<String>,
        build: impl FnOnce(TableBuilder) -> TableBuilder,
    ) -> Self {
        let table = build(TableBuilder {
            table: Table::new(name),
        })
        .table;
        self.schema.tables.push(table);
        self
    }

    /// Adds a view with the given query.
    pub fn view(self, name: impl Into<String>, definition: impl Into<String>) -> Self {
        self.view_with(name, definition, |v| v)
    }

    /// Adds a view with the given query and further settings.
    pub fn view_with(
        mut self,
        name: impl Into<String>,
        definition: impl Into<String>,
        build: impl FnOnce(ViewBuilder) -> ViewBuilder,
    ) -> Self {
        let view = build(ViewBuilder {
            view: View {
                schema: None,
                name: name.into(),
                columns: Vec::new(),
                definition: definition.into(),
                materialized: false,
                comment: None,
                indexes: Vec::new(),
            },
        })
        .view;
        self.schema.views.push(view);
        self
    }

    /// Adds a trigger on `table`; `definition` is the full `CREATE TRIGGER` statement.
    pub fn trigger(
        mut self,
        name: impl Into<String>,
        table: impl Into<String>,
        definition: impl Into<String>,
    ) -> Self {
        self.schema.triggers.push(Trigger {
            schema: None,
            name: name.into(),
            table: table.into(),
            definition: definition.into(),
        });
        self
    }

    /// Adds a virtual table (`CREATE VIRTUAL TABLE name USING module(arguments)`).
    pub fn virtual_table(
        mut self,
        name: impl Into<String>,
        module: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        self.schema.virtual_tables.push(VirtualTable {
            name: name.into(),
            module: module.into(),
            arguments: arguments.into(),
        });
        self
    }

    /// The schema, with unnamed constraints and indexes named by the default convention.
    pub fn build(self) -> Schema {
        self.build_with(&NamingConvention::default())
    }

    /// The schema, with unnamed constraints and indexes named by `naming`.
    pub fn build_with(self, naming: &NamingConvention) -> Schema {
        let mut schema = self.schema;
        naming.apply(&mut schema);
        schema
    }
}

/// Describes one table; see [`SchemaBuilder::table`].
#[derive(Debug, Clone)]
#[must_use]
pub struct TableBuilder {
    table: Table,
}

impl TableBuilder {
    /// Puts the table in a namespace (PostgreSQL schema).
    pub fn schema(mut self, namespace: impl Into<String>) -> Self {
        self.table.schema = Some(namespace.into());
        self
    }

    /// Adds a column (nullable unless `build` says otherwise).
    pub fn column(
        mut self,
        name: impl Into<String>,
        data_type: impl Into<String>,
        build: impl FnOnce(ColumnBuilder) -> ColumnBuilder,
    ) -> Self {
        let column = build(ColumnBuilder {
            column: Column::new(name, data_type),
        })
        .column;
        self.table.columns.push(column);
        self
    }

    /// Sets the primary key (named by the convention).
    pub fn primary_key<S: Into<String>>(self, columns: impl IntoIterator<Item = S>) -> Self {
        self.primary_key_with(columns, |pk| pk)
    }

    /// Sets the primary key with further settings (name, AUTOINCREMENT).
    pub fn primary_key_with<S: Into<String>>(
        mut self,
        columns: impl IntoIterator<Item = S>,
        build: impl FnOnce(PrimaryKeyBuilder) -> PrimaryKeyBuilder,
    ) -> Self {
        let key = build(PrimaryKeyBuilder {
            key: PrimaryKey {
                name: None,
                columns: strings(columns),
                autoincrement: false,
            },
        })
        .key;
        self.table.primary_key = Some(key);
        self
    }

    /// Adds a foreign key from `columns` to `referenced_columns` of `referenced_table`
    /// (an empty list references its primary key); `build` sets actions, name, deferral.
    pub fn foreign_key<S: Into<String>, R: Into<String>>(
        mut self,
        columns: impl IntoIterator<Item = S>,
        referenced_table: impl Into<String>,
        referenced_columns: impl IntoIterator<Item = R>,
        build: impl FnOnce(ForeignKeyBuilder) -> ForeignKeyBuilder,
    ) -> Self {
        let key = build(ForeignKeyBuilder {
            key: ForeignKey {
                not_valid: false,
                name: None,
                columns: strings(columns),
                referenced_schema: None,
                referenced_table: referenced_table.into(),
                referenced_columns: strings(referenced_columns),
                on_delete: ReferentialAction::NoAction,
                on_update: ReferentialAction::NoAction,
                deferrable: Deferrable::NotDeferrable,
            },
        })
        .key;
        self.table.foreign_keys.push(key);
        self
    }

    /// Adds a UNIQUE constraint (named by the convention).
    pub fn unique<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.table.uniques.push(Unique {
            name: None,
            columns: strings(columns),
        });
        self
    }

    /// Adds a named UNIQUE constraint.
    pub fn unique_named<S: Into<String>>(
        mut self,
        name: impl Into<String>,
        columns: impl IntoIterator<Item = S>,
    ) -> Self {
        self.table.uniques.push(Unique {
            name: Some(name.into()),
            columns: strings(columns),
        });
        self
    }

    /// Adds a CHECK constraint (named by the convention).
    pub fn check(mut self, expression: impl Into<String>) -> Self {
        self.table.checks.push(Check {
            not_valid: false,
            name: None,
            expression: expression.into(),
        });
        self
    }

    /// Adds a named CHECK constraint.
    pub fn check_named(mut self, name: impl Into<String>, expression: impl Into<String>) -> Self {
        self.table.checks.push(Check {
            not_valid: false,
            name: Some(name.into()),
            expression: expression.into(),
        });
        self
    }

    /// Adds an index on `columns` (ascending column keys; `build` may add expression or
    /// descending keys, make it unique or partial, or name it).
    pub fn index<S: Into<String>>(
        mut self,
        columns: impl IntoIterator<Item = S>,
        build: impl FnOnce(IndexBuilder) -> IndexBuilder,
    ) -> Self {
        let index = build(IndexBuilder {
            index: Index {
                include: Vec::new(),
                name: String::new(),
                unique: false,
                parts: columns.into_iter().map(IndexPart::column).collect(),
                predicate: None,
                method: None,
                renamed_from: None,
            },
        })
        .index;
        self.table.indexes.push(index);
        self
    }

    /// SQLite `WITHOUT ROWID`.
    pub fn without_rowid(mut self) -> Self {
        self.table.options.without_rowid = true;
        self
    }

    /// SQLite `STRICT`.
    pub fn strict(mut self) -> Self {
        self.table.options.strict = true;
        self
    }

    /// A comment on the table.
    pub fn comment(mut self, text: impl Into<String>) -> Self {
        self.table.comment = Some(text.into());
        self
    }

    /// Rename hint: the table's previous name.
    pub fn renamed_from(mut self, old: impl Into<String>) -> Self {
        self.table.renamed_from = Some(old.into());
        self
    }
}

/// Describes one column; see [`TableBuilder::column`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ColumnBuilder {
    column: Column,
}

impl ColumnBuilder {
    /// `NOT NULL`.
    pub fn not_null(mut self) -> Self {
        self.column.nullable = false;
        self
    }

    /// `DEFAULT expression` (SQL text, e.g. `'none'` or `CURRENT_TIMESTAMP`).
    pub fn default(mut self, expression: impl Into<String>) -> Self {
        self.column.default = Some(expression.into());
        self
    }

    /// `GENERATED ALWAYS AS (expression) STORED`.
    pub fn generated_stored(mut self, expression: impl Into<String>) -> Self {
        self.column.generated = Some(Generated {
            expression: expression.into(),
            stored: true,
        });
        self
    }

    /// `GENERATED ALWAYS AS (expression) VIRTUAL`.
    pub fn generated_virtual(mut self, expression: impl Into<String>) -> Self {
        self.column.generated = Some(Generated {
            expression: expression.into(),
            stored: false,
        });
        self
    }

    /// `COLLATE name`.
    pub fn collation(mut self, name: impl Into<String>) -> Self {
        self.column.collation = Some(name.into());
        self
    }

    /// An identity column (PostgreSQL `GENERATED … AS IDENTITY`).
    pub fn identity(mut self, identity: Identity) -> Self {
        self.column.identity = Some(identity);
        self
    }

    /// A comment on the column.
    pub fn comment(mut self, text: impl Into<String>) -> Self {
        self.column.comment = Some(text.into());
        self
    }

    /// Rename hint: the column's previous name.
    pub fn renamed_from(mut self, old: impl Into<String>) -> Self {
        self.column.renamed_from = Some(old.into());
        self
    }
}

/// Describes a primary key; see [`TableBuilder::primary_key_with`].
#[derive(Debug, Clone)]
#[must_use]
pub struct PrimaryKeyBuilder {
    key: PrimaryKey,
}

impl PrimaryKeyBuilder {
    /// Names the constraint instead of leaving it to the convention.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.key.name = Some(name.into());
        self
    }

    /// SQLite `AUTOINCREMENT` (single INTEGER key only).
    pub fn autoincrement(mut self) -> Self {
        self.key.autoincrement = true;
        self
    }
}

/// Describes a foreign key; see [`TableBuilder::foreign_key`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ForeignKeyBuilder {
    key: ForeignKey,
}

impl ForeignKeyBuilder {
    /// Names the constraint instead of leaving it to the convention.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.key.name = Some(name.into());
        self
    }

    /// The namespace of the referenced table.
    pub fn referenced_schema(mut self, namespace: impl Into<String>) -> Self {
        self.key.referenced_schema = Some(namespace.into());
        self
    }

    /// `ON DELETE action`.
    pub fn on_delete(mut self, action: ReferentialAction) -> Self {
        self.key.on_delete = action;
        self
    }

    /// `ON UPDATE action`.
    pub fn on_update(mut self, action: ReferentialAction) -> Self {
        self.key.on_update = action;
        self
    }

    /// `DEFERRABLE INITIALLY …`.
    pub fn deferrable(mut self, mode: Deferrable) -> Self {
        self.key.deferrable = mode;
        self
    }
}

/// Describes an index; see [`TableBuilder::index`].
#[derive(Debug, Clone)]
#[must_use]
pub struct IndexBuilder {
    index: Index,
}

impl IndexBuilder {
    /// Names the index instead of leaving it to the convention.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.index.name = name.into();
        self
    }

    /// A UNIQUE index.
    pub fn unique(mut self) -> Self {
        self.index.unique = true;
        self
    }

    /// Appends an ascending expression key.
    pub fn expression(mut self, sql: impl Into<String>) -> Self {
        self.index.parts.push(IndexPart::expression(sql));
        self
    }

    /// Appends a key as given (descending, with collation, …).
    pub fn part(mut self, part: IndexPart) -> Self {
        self.index.parts.push(part);
        self
    }

    /// A partial index: `WHERE predicate`.
    pub fn predicate(mut self, sql: impl Into<String>) -> Self {
        self.index.predicate = Some(sql.into());
        self
    }

    /// Access method (PostgreSQL `USING gin`, …).
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.index.method = Some(method.into());
        self
    }

    /// Rename hint: the index's previous name.
    pub fn renamed_from(mut self, old: impl Into<String>) -> Self {
        self.index.renamed_from = Some(old.into());
        self
    }
}

/// Describes a view; see [`SchemaBuilder::view_with`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ViewBuilder {
    view: View,
}

impl ViewBuilder {
    /// Puts the view in a namespace (PostgreSQL schema).
    pub fn schema(mut self, namespace: impl Into<String>) -> Self {
        self.view.schema = Some(namespace.into());
        self
    }

    /// Explicit column names (`CREATE VIEW v(a, b) AS …`).
    pub fn columns<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.view.columns = strings(names);
        self
    }

    /// A materialized view (PostgreSQL).
    pub fn materialized(mut self) -> Self {
        self.view.materialized = true;
        self
    }

    /// A comment on the view.
    pub fn comment(mut self, text: impl Into<String>) -> Self {
        self.view.comment = Some(text.into());
        self
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn builder_sets_every_table_field() {
        let schema = SchemaBuilder::new()
            .table("items", |t| {
                t.schema("app")
                    .column("id", "bigint", |c| {
                        c.not_null().identity(Identity::ByDefault).comment("key")
                    })
                    .column("code", "text", |c| c.collation("C").renamed_from("sku"))
                    .column("upper_code", "text", |c| c.generated_virtual("upper(code)"))
                    .column("total", "int", |c| c.generated_stored("1").default("0"))
                    .primary_key_with(["id"], |pk| pk.name("items_pkey").autoincrement())
                    .foreign_key(["code"], "codes", Vec::<String>::new(), |fk| {
                        fk.name("items_code_fkey")
                            .referenced_schema("ref")
                            .on_update(ReferentialAction::Cascade)
                            .deferrable(Deferrable::InitiallyDeferred)
                    })
                    .unique_named("items_code_key", ["code"])
                    .check_named("items_total_check", "total >= 0")
                    .index(["code"], |i| {
                        i.name("items_code_idx")
                            .unique()
                            .expression("lower(code)")
                            .part(IndexPart {
                                descending: true,
                                ..IndexPart::column("id")
                            })
                            .predicate("total > 0")
                            .method("btree")
                            .renamed_from("old_idx")
                    })
                    .without_rowid()
                    .strict()
                    .comment("stock")
                    .renamed_from("products")
            })
            .view_with("v", "SELECT 1", |v| {
                v.schema("app").columns(["one"]).materialized().comment("c")
            })
            .trigger("tr", "items", "CREATE TRIGGER tr …")
            .virtual_table("docs", "fts5", "body")
            .build();
        let table = &schema.tables[0];
        assert_eq!(table.schema.as_deref(), Some("app"));
        assert!(!table.columns[0].nullable);
        assert_eq!(table.columns[0].identity, Some(Identity::ByDefault));
        assert_eq!(table.columns[1].renamed_from.as_deref(), Some("sku"));
        assert_eq!(
            table.columns[2].generated,
            Some(Generated {
                expression: "upper(code)".into(),
                stored: false
            })
        );
        assert_eq!(
            table.primary_key,
            Some(PrimaryKey {
                name: Some("items_pkey".into()),
                columns: vec!["id".into()],
                autoincrement: true
            })
        );
        let fk = &table.foreign_keys[0];
        assert_eq!(fk.referenced_schema.as_deref(), Some("ref"));
        assert!(fk.referenced_columns.is_empty());
        assert_eq!(fk.on_update, ReferentialAction::Cascade);
        assert_eq!(fk.deferrable, Deferrable::InitiallyDeferred);
        let index = &table.indexes[0];
        assert_eq!(index.name, "items_code_idx");
        assert_eq!(index.parts.len(), 3);
        assert!(index.parts[2].descending);
        assert_eq!(index.predicate.as_deref(), Some("total > 0"));
        assert!(table.options.without_rowid && table.options.strict);
        assert_eq!(table.renamed_from.as_deref(), Some("products"));
        assert!(schema.views[0].materialized);
        assert_eq!(schema.views[0].columns, ["one"]);
        assert_eq!(schema.triggers[0].table, "items");
        assert_eq!(schema.virtual_tables[0].module, "fts5");
    }

    #[test]
    fn build_with_uses_the_given_convention() {
        let naming = NamingConvention {
            index: "%(table)_%(column_0_N_name)_idx".into(),
            ..NamingConvention::default()
        };
        let schema = SchemaBuilder::new()
            .table("t", |t| {
                t.column("a", "int", |c| c)
                    .column("b", "int", |c| c)
                    .index(["a", "b"], |i| i)
            })
            .build_with(&naming);
        assert_eq!(schema.tables[0].indexes[0].name, "t_a_b_idx");
    }
}
