//! Dialect-neutral changes: what [`crate::diff()`] emits and drivers plan from.
//!
//! Every change carries the whole object before and/or after it, so a list of changes
//! can be reversed (autogenerate's `down`) and planned without going back to a schema.

use crate::model::{
    Check, Collation, Column, CompositeType, Domain, EnumType, Exclusion, Extension, ForeignKey,
    Function, Index, Namespace, PartitionOf, Policy, PrimaryKey, RangeType, Sequence, Table,
    TableOptions, TextSearchConfig, Trigger, Unique, View, VirtualTable,
};
use serde::{Deserialize, Serialize};

/// One dialect-neutral schema change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// Create a table with all its columns, keys and constraints (indexes come as [`Change::AddIndex`]).
    CreateTable {
        /// The table as desired.
        table: Table,
    },
    /// Drop a table and its rows.
    DropTable {
        /// The table as it was.
        table: Table,
    },
    /// Rename a table (from a rename hint).
    RenameTable {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// Add a column at the end of a table.
    AddColumn {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name (after any rename).
        table: String,
        /// The new column.
        column: Column,
    },
    /// Drop a column and its values.
    DropColumn {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// The column as it was.
        column: Column,
    },
    /// Rename a column (from a rename hint).
    RenameColumn {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// Change a column's type, nullability, default, collation, generation or identity.
    AlterColumn {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// The column as it is (already carrying its new name after a rename).
        from: Column,
        /// The column as desired.
        to: Column,
    },
    /// Put a table's columns in a new order.
    ReorderColumns {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// Column names in the old order.
        from: Vec<String>,
        /// Column names in the desired order.
        to: Vec<String>,
    },
    /// Change, add or remove the primary key.
    SetPrimaryKey {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// The key as it was.
        from: Option<PrimaryKey>,
        /// The key as desired.
        to: Option<PrimaryKey>,
    },
    /// Add a foreign key.
    AddForeignKey {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// The new foreign key.
        foreign_key: ForeignKey,
    },
    /// Drop a foreign key.
    DropForeignKey {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// The foreign key as it was.
        foreign_key: ForeignKey,
    },
    /// Add a UNIQUE constraint.
    AddUnique {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// The new constraint.
        unique: Unique,
    },
    /// Drop a UNIQUE constraint.
    DropUnique {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// The constraint as it was.
        unique: Unique,
    },
    /// Add a CHECK constraint.
    AddCheck {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// The new constraint.
        check: Check,
    },
    /// Drop a CHECK constraint.
    DropCheck {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// The constraint as it was.
        check: Check,
    },
    /// Change storage options (SQLite WITHOUT ROWID, STRICT).
    SetTableOptions {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// Options as they were.
        from: TableOptions,
        /// Options as desired.
        to: TableOptions,
    },
    /// Create an index.
    AddIndex {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// The new index.
        index: Index,
    },
    /// Drop an index.
    DropIndex {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// The index as it was.
        index: Index,
    },
    /// Rename an index (from a rename hint).
    RenameIndex {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// Create a view.
    CreateView {
        /// The view as desired.
        view: View,
    },
    /// Drop a view.
    DropView {
        /// The view as it was.
        view: View,
    },
    /// Create a trigger.
    CreateTrigger {
        /// The trigger as desired.
        trigger: Trigger,
    },
    /// Drop a trigger.
    DropTrigger {
        /// The trigger as it was.
        trigger: Trigger,
    },
    /// Create a virtual table (and build its index from its content, for external-content FTS5).
    CreateVirtualTable {
        /// The virtual table as desired.
        table: VirtualTable,
    },
    /// Create a namespace (PostgreSQL schema).
    CreateNamespace {
        /// The namespace as desired.
        namespace: Namespace,
    },
    /// Drop an empty namespace.
    DropNamespace {
        /// The namespace as it was.
        namespace: Namespace,
    },
    /// Create an enum type.
    CreateEnum {
        /// The type as desired.
        enum_type: EnumType,
    },
    /// Drop an enum type.
    DropEnum {
        /// The type as it was.
        enum_type: EnumType,
    },
    /// Add a label to an enum type, before or after an existing one (or at the end).
    AddEnumValue {
        /// The type as it was.
        enum_type: EnumType,
        /// The new label.
        value: String,
        /// An existing label it goes before, if not at the end.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<String>,
    },
    /// Change an enum's labels in a way `ADD VALUE` cannot (remove or reorder): the type
    /// is recreated and the columns using it are converted (a `validation` hazard).
    RecreateEnum {
        /// The type as it was.
        from: EnumType,
        /// The type as desired.
        to: EnumType,
    },
    /// Create a sequence.
    CreateSequence {
        /// The sequence as desired.
        sequence: Sequence,
    },
    /// Drop a sequence.
    DropSequence {
        /// The sequence as it was.
        sequence: Sequence,
    },
    /// Change a sequence's parameters or owner.
    AlterSequence {
        /// The sequence as it was.
        from: Sequence,
        /// The sequence as desired.
        to: Sequence,
    },
    /// Create a function or procedure.
    CreateFunction {
        /// The function as desired.
        function: Function,
    },
    /// Replace a function's definition (`CREATE OR REPLACE`).
    ReplaceFunction {
        /// The function as it was.
        from: Function,
        /// The function as desired.
        to: Function,
    },
    /// Drop a function or procedure.
    DropFunction {
        /// The function as it was.
        function: Function,
    },
    /// Add an exclusion constraint.
    AddExclusion {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// The new constraint.
        exclusion: Exclusion,
    },
    /// Drop an exclusion constraint.
    DropExclusion {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// The constraint as it was.
        exclusion: Exclusion,
    },
    /// Validate a constraint left `NOT VALID` (by an interrupted apply).
    ValidateConstraint {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// Constraint name.
        name: String,
    },
    /// Set or remove the comment on a table or a column.
    SetComment {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// The column, or `None` for the table itself.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        column: Option<String>,
        /// The comment as it was.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        /// The comment as desired; `None` removes it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
    },
    /// Drop a virtual table and whatever content it stores itself.
    DropVirtualTable {
        /// The virtual table as it was.
        table: VirtualTable,
    },
    /// Attach a table as a partition, detach it, or move it to another bound.
    SetPartitionOf {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// The table.
        table: String,
        /// Where it was a partition, if it was one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<PartitionOf>,
        /// Where it is to be a partition, if anywhere.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<PartitionOf>,
    },
    /// Create a domain.
    CreateDomain {
        /// The domain as desired.
        domain: Domain,
    },
    /// Drop a domain (its columns are gone or changed first).
    DropDomain {
        /// The domain as it was.
        domain: Domain,
    },
    /// Change a domain's default, NOT NULL or CHECKs in place.
    AlterDomain {
        /// The domain as it was.
        from: Domain,
        /// The domain as desired.
        to: Domain,
    },
    /// Install an extension.
    CreateExtension {
        /// The extension as desired.
        extension: Extension,
    },
    /// Remove an extension and every object it owns.
    DropExtension {
        /// The extension as it was.
        extension: Extension,
    },
    /// Enable or disable row-level security on a table, or force it on the owner or not.
    SetRowSecurity {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// The table's row-level security as it was.
        from: RowSecurity,
        /// The table's row-level security as desired.
        to: RowSecurity,
    },
    /// Create a row-level security policy.
    CreatePolicy {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// The policy as desired.
        policy: Policy,
    },
    /// Drop a row-level security policy.
    DropPolicy {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// The policy as it was.
        policy: Policy,
    },
    /// Change a policy's definition (drivers alter roles and expressions in place and
    /// recreate a policy whose command or kind changes).
    AlterPolicy {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// The policy as it was (already carrying its new name after a rename).
        from: Policy,
        /// The policy as desired.
        to: Policy,
    },
    /// Rename a policy (from a rename hint).
    RenamePolicy {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// Create a collation.
    CreateCollation {
        /// The collation as desired.
        collation: Collation,
    },
    /// Drop a collation (the columns, types and indexes using it are gone or changed first).
    DropCollation {
        /// The collation as it was.
        collation: Collation,
    },
    /// Create a composite type.
    CreateCompositeType {
        /// The type as desired.
        composite_type: CompositeType,
    },
    /// Drop a composite type (the columns using it are gone or changed first).
    DropCompositeType {
        /// The type as it was.
        composite_type: CompositeType,
    },
    /// Add, drop or retype attributes of a composite type in place.
    AlterCompositeType {
        /// The type as it was.
        from: CompositeType,
        /// The type as desired.
        to: CompositeType,
    },
    /// Create a range type (with its multirange type and constructors).
    CreateRangeType {
        /// The type as desired.
        range_type: RangeType,
    },
    /// Drop a range type (the columns using it are gone or changed first).
    DropRangeType {
        /// The type as it was.
        range_type: RangeType,
    },
    /// Change a range type's definition, which PostgreSQL cannot do in place: the type
    /// is dropped and created again, which only an unused type allows.
    ReplaceRangeType {
        /// The type as it was.
        from: RangeType,
        /// The type as desired.
        to: RangeType,
    },
    /// Create a text search configuration with its mappings.
    CreateTextSearchConfig {
        /// The configuration as desired.
        config: TextSearchConfig,
    },
    /// Drop a text search configuration.
    DropTextSearchConfig {
        /// The configuration as it was.
        config: TextSearchConfig,
    },
    /// Change a text search configuration's parser or mappings.
    AlterTextSearchConfig {
        /// The configuration as it was.
        from: TextSearchConfig,
        /// The configuration as desired.
        to: TextSearchConfig,
    },
    /// Rename a type, domain, collation or text search configuration (from a rename hint).
    RenameObject {
        /// The object as it is after the rename (carrying its new name).
        object: Commented,
        /// Its previous name, in the same namespace.
        from: String,
    },
    /// Set or remove the comment on a schema, type, collation, text search configuration,
    /// function, view or policy whose definition stays as it is.
    SetObjectComment {
        /// The object, as desired (its `comment` is `to`).
        object: Commented,
        /// The comment as it was.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        /// The comment as desired; `None` removes it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
    },
}

/// A table's row-level security state (PostgreSQL).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowSecurity {
    /// `ENABLE ROW LEVEL SECURITY`.
    pub enabled: bool,
    /// `FORCE ROW LEVEL SECURITY`: the owner is subject to the policies too.
    pub forced: bool,
}

impl RowSecurity {
    /// The row-level security `table` carries.
    pub fn of(table: &Table) -> RowSecurity {
        RowSecurity {
            enabled: table.row_security,
            forced: table.force_row_security,
        }
    }
}

/// An object other than a table or column that can carry a comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Commented {
    /// A namespace (PostgreSQL schema).
    Namespace(Namespace),
    /// An enum type.
    Enum(EnumType),
    /// A function or procedure.
    Function(Function),
    /// A view or materialized view.
    View(View),
    /// A domain.
    Domain(Domain),
    /// A row-level security policy, with the table it is on.
    Policy {
        /// Namespace of the table; `None` for the default one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<String>,
        /// Table name.
        table: String,
        /// The policy.
        policy: Policy,
    },
    /// A collation.
    Collation(Collation),
    /// A composite type.
    CompositeType(CompositeType),
    /// A range type.
    RangeType(RangeType),
    /// A text search configuration.
    TextSearchConfig(TextSearchConfig),
}

impl Commented {
    /// The comment the object carries.
    pub fn comment(&self) -> Option<&str> {
        match self {
            Commented::Namespace(namespace) => namespace.comment.as_deref(),
            Commented::Enum(enum_type) => enum_type.comment.as_deref(),
            Commented::Function(function) => function.comment.as_deref(),
            Commented::View(view) => view.comment.as_deref(),
            Commented::Domain(domain) => domain.comment.as_deref(),
            Commented::Policy { policy, .. } => policy.comment.as_deref(),
            Commented::Collation(collation) => collation.comment.as_deref(),
            Commented::CompositeType(composite) => composite.comment.as_deref(),
            Commented::RangeType(range) => range.comment.as_deref(),
            Commented::TextSearchConfig(config) => config.comment.as_deref(),
        }
    }

    /// The object's namespace and name (a policy's is its table's namespace).
    pub fn name(&self) -> (Option<&str>, &str) {
        match self {
            Commented::Namespace(namespace) => (None, &namespace.name),
            Commented::Enum(enum_type) => (enum_type.schema.as_deref(), &enum_type.name),
            Commented::Function(function) => (function.schema.as_deref(), &function.name),
            Commented::View(view) => (view.schema.as_deref(), &view.name),
            Commented::Domain(domain) => (domain.schema.as_deref(), &domain.name),
            Commented::Policy { schema, policy, .. } => (schema.as_deref(), &policy.name),
            Commented::Collation(collation) => (collation.schema.as_deref(), &collation.name),
            Commented::CompositeType(composite) => (composite.schema.as_deref(), &composite.name),
            Commented::RangeType(range) => (range.schema.as_deref(), &range.name),
            Commented::TextSearchConfig(config) => (config.schema.as_deref(), &config.name),
        }
    }

    /// The same object named `name` (in the same namespace, or on the same table).
    pub fn with_name(self, name: String) -> Commented {
        match self {
            Commented::Namespace(namespace) => {
                Commented::Namespace(Namespace { name, ..namespace })
            }
            Commented::Enum(enum_type) => Commented::Enum(EnumType { name, ..enum_type }),
            Commented::Function(function) => Commented::Function(Function { name, ..function }),
            Commented::View(view) => Commented::View(View { name, ..view }),
            Commented::Domain(domain) => Commented::Domain(Domain { name, ..domain }),
            Commented::Policy {
                schema,
                table,
                policy,
            } => Commented::Policy {
                schema,
                table,
                policy: Policy { name, ..policy },
            },
            Commented::Collation(collation) => {
                Commented::Collation(Collation { name, ..collation })
            }
            Commented::CompositeType(composite) => {
                Commented::CompositeType(CompositeType { name, ..composite })
            }
            Commented::RangeType(range) => Commented::RangeType(RangeType { name, ..range }),
            Commented::TextSearchConfig(config) => {
                Commented::TextSearchConfig(TextSearchConfig { name, ..config })
            }
        }
    }

    /// The same object carrying `comment`.
    pub fn with_comment(self, comment: Option<String>) -> Commented {
        match self {
            Commented::Namespace(namespace) => Commented::Namespace(Namespace {
                comment,
                ..namespace
            }),
            Commented::Enum(enum_type) => Commented::Enum(EnumType {
                comment,
                ..enum_type
            }),
            Commented::Function(function) => Commented::Function(Function {
                comment,
                ..function
            }),
            Commented::View(view) => Commented::View(View { comment, ..view }),
            Commented::Domain(domain) => Commented::Domain(Domain { comment, ..domain }),
            Commented::Policy {
                schema,
                table,
                policy,
            } => Commented::Policy {
                schema,
                table,
                policy: Policy { comment, ..policy },
            },
            Commented::Collation(collation) => Commented::Collation(Collation {
                comment,
                ..collation
            }),
            Commented::CompositeType(composite) => Commented::CompositeType(CompositeType {
                comment,
                ..composite
            }),
            Commented::RangeType(range) => Commented::RangeType(RangeType { comment, ..range }),
            Commented::TextSearchConfig(config) => {
                Commented::TextSearchConfig(TextSearchConfig { comment, ..config })
            }
        }
    }

    /// The object's kind and name, as `describe` shows them: `enum app.mood`.
    pub fn describe(&self) -> String {
        match self {
            Commented::Namespace(namespace) => format!("schema {}", namespace.name),
            Commented::Enum(enum_type) => format!(
                "enum {}",
                qualify(enum_type.schema.as_deref(), &enum_type.name)
            ),
            Commented::Function(function) => format!(
                "function {}({})",
                qualify(function.schema.as_deref(), &function.name),
                function.arguments
            ),
            Commented::Domain(domain) => {
                format!("domain {}", qualify(domain.schema.as_deref(), &domain.name))
            }
            Commented::Collation(collation) => format!(
                "collation {}",
                qualify(collation.schema.as_deref(), &collation.name)
            ),
            Commented::CompositeType(composite) => format!(
                "composite type {}",
                qualify(composite.schema.as_deref(), &composite.name)
            ),
            Commented::RangeType(range) => format!(
                "range type {}",
                qualify(range.schema.as_deref(), &range.name)
            ),
            Commented::TextSearchConfig(config) => format!(
                "text search configuration {}",
                qualify(config.schema.as_deref(), &config.name)
            ),
            Commented::View(view) => format!(
                "{}view {}",
                if view.materialized {
                    "materialized "
                } else {
                    ""
                },
                qualify(view.schema.as_deref(), &view.name)
            ),
            Commented::Policy {
                schema,
                table,
                policy,
            } => format!(
                "policy {} on {}",
                policy.name,
                qualify(schema.as_deref(), table)
            ),
        }
    }
}

impl Change {
    /// The table this change alters in place, if it is a per-table alteration.
    ///
    /// Create, drop and rename of whole tables, and changes to views, triggers and
    /// virtual tables, return `None`.
    pub fn altered_table(&self) -> Option<&str> {
        match self {
            Change::AddColumn { table, .. }
            | Change::DropColumn { table, .. }
            | Change::RenameColumn { table, .. }
            | Change::AlterColumn { table, .. }
            | Change::ReorderColumns { table, .. }
            | Change::SetPrimaryKey { table, .. }
            | Change::AddForeignKey { table, .. }
            | Change::DropForeignKey { table, .. }
            | Change::AddUnique { table, .. }
            | Change::DropUnique { table, .. }
            | Change::AddCheck { table, .. }
            | Change::DropCheck { table, .. }
            | Change::SetTableOptions { table, .. }
            | Change::AddIndex { table, .. }
            | Change::DropIndex { table, .. }
            | Change::RenameIndex { table, .. }
            | Change::AddExclusion { table, .. }
            | Change::DropExclusion { table, .. }
            | Change::ValidateConstraint { table, .. }
            | Change::SetComment { table, .. }
            | Change::SetPartitionOf { table, .. }
            | Change::SetRowSecurity { table, .. }
            | Change::CreatePolicy { table, .. }
            | Change::DropPolicy { table, .. }
            | Change::AlterPolicy { table, .. }
            | Change::RenamePolicy { table, .. }
            | Change::SetObjectComment {
                object: Commented::Policy { table, .. },
                ..
            } => Some(table),
            _ => None,
        }
    }

    /// The namespace of the table [`Change::altered_table`] names.
    pub fn altered_schema(&self) -> Option<&str> {
        match self {
            Change::AddColumn { schema, .. }
            | Change::DropColumn { schema, .. }
            | Change::RenameColumn { schema, .. }
            | Change::AlterColumn { schema, .. }
            | Change::ReorderColumns { schema, .. }
            | Change::SetPrimaryKey { schema, .. }
            | Change::AddForeignKey { schema, .. }
            | Change::DropForeignKey { schema, .. }
            | Change::AddUnique { schema, .. }
            | Change::DropUnique { schema, .. }
            | Change::AddCheck { schema, .. }
            | Change::DropCheck { schema, .. }
            | Change::SetTableOptions { schema, .. }
            | Change::AddIndex { schema, .. }
            | Change::DropIndex { schema, .. }
            | Change::RenameIndex { schema, .. }
            | Change::AddExclusion { schema, .. }
            | Change::DropExclusion { schema, .. }
            | Change::ValidateConstraint { schema, .. }
            | Change::SetComment { schema, .. }
            | Change::SetPartitionOf { schema, .. }
            | Change::SetRowSecurity { schema, .. }
            | Change::CreatePolicy { schema, .. }
            | Change::DropPolicy { schema, .. }
            | Change::AlterPolicy { schema, .. }
            | Change::RenamePolicy { schema, .. }
            | Change::SetObjectComment {
                object: Commented::Policy { schema, .. },
                ..
            } => schema.as_deref(),
            _ => None,
        }
    }

    /// A short human description, naming the object: `add column users.email`.
    pub fn describe(&self) -> String {
        let at = |schema: &Option<String>, table: &str| qualify(schema.as_deref(), table);
        match self {
            Change::CreateTable { table } => {
                format!(
                    "create table {}",
                    qualify(table.schema.as_deref(), &table.name)
                )
            }
            Change::DropTable { table } => {
                format!(
                    "drop table {}",
                    qualify(table.schema.as_deref(), &table.name)
                )
            }
            Change::RenameTable { schema, from, to } => {
                format!("rename table {} to {to}", at(schema, from))
            }
            Change::AddColumn {
                schema,
                table,
                column,
            } => format!("add column {}.{}", at(schema, table), column.name),
            Change::DropColumn {
                schema,
                table,
                column,
            } => format!("drop column {}.{}", at(schema, table), column.name),
            Change::RenameColumn {
                schema,
                table,
                from,
                to,
            } => format!("rename column {}.{from} to {to}", at(schema, table)),
            Change::AlterColumn {
                schema,
                table,
                from,
                to,
            } => format!(
                "alter column {}.{} ({})",
                at(schema, table),
                to.name,
                column_delta(from, to)
            ),
            Change::ReorderColumns { schema, table, .. } => {
                format!("reorder columns of {}", at(schema, table))
            }
            Change::SetPrimaryKey {
                schema, table, to, ..
            } => match to {
                Some(pk) => format!(
                    "set primary key of {} to ({})",
                    at(schema, table),
                    pk.columns.join(", ")
                ),
                None => format!("drop primary key of {}", at(schema, table)),
            },
            Change::AddForeignKey {
                schema,
                table,
                foreign_key,
            } => format!(
                "add foreign key {}({}) -> {}",
                at(schema, table),
                foreign_key.columns.join(", "),
                qualify(
                    foreign_key.referenced_schema.as_deref(),
                    &foreign_key.referenced_table
                )
            ),
            Change::DropForeignKey {
                schema,
                table,
                foreign_key,
            } => format!(
                "drop foreign key {}({}) -> {}",
                at(schema, table),
                foreign_key.columns.join(", "),
                qualify(
                    foreign_key.referenced_schema.as_deref(),
                    &foreign_key.referenced_table
                )
            ),
            Change::AddUnique {
                schema,
                table,
                unique,
            } => format!(
                "add unique {}({})",
                at(schema, table),
                unique.columns.join(", ")
            ),
            Change::DropUnique {
                schema,
                table,
                unique,
            } => format!(
                "drop unique {}({})",
                at(schema, table),
                unique.columns.join(", ")
            ),
            Change::AddCheck {
                schema,
                table,
                check,
            } => format!("add check on {}: {}", at(schema, table), check.expression),
            Change::DropCheck {
                schema,
                table,
                check,
            } => format!("drop check on {}: {}", at(schema, table), check.expression),
            Change::SetTableOptions {
                schema, table, to, ..
            } => format!(
                "set options of {} (without_rowid={}, strict={})",
                at(schema, table),
                to.without_rowid,
                to.strict
            ),
            Change::AddIndex {
                schema,
                table,
                index,
            } => format!("add index {} on {}", index.name, at(schema, table)),
            Change::DropIndex {
                schema,
                table,
                index,
            } => format!("drop index {} on {}", index.name, at(schema, table)),
            Change::RenameIndex { from, to, .. } => format!("rename index {from} to {to}"),
            Change::CreateView { view } => format!(
                "create {}view {}",
                if view.materialized {
                    "materialized "
                } else {
                    ""
                },
                qualify(view.schema.as_deref(), &view.name)
            ),
            Change::DropView { view } => format!(
                "drop {}view {}",
                if view.materialized {
                    "materialized "
                } else {
                    ""
                },
                qualify(view.schema.as_deref(), &view.name)
            ),
            Change::CreateTrigger { trigger } => format!("create trigger {}", trigger.name),
            Change::DropTrigger { trigger } => format!("drop trigger {}", trigger.name),
            Change::CreateVirtualTable { table } => {
                format!("create virtual table {} ({})", table.name, table.module)
            }
            Change::DropVirtualTable { table } => format!("drop virtual table {}", table.name),
            Change::CreateNamespace { namespace } => format!("create schema {}", namespace.name),
            Change::DropNamespace { namespace } => format!("drop schema {}", namespace.name),
            Change::CreateEnum { enum_type } => format!(
                "create enum {}",
                qualify(enum_type.schema.as_deref(), &enum_type.name)
            ),
            Change::DropEnum { enum_type } => format!(
                "drop enum {}",
                qualify(enum_type.schema.as_deref(), &enum_type.name)
            ),
            Change::RecreateEnum { to, .. } => format!(
                "recreate enum {} with values ({})",
                qualify(to.schema.as_deref(), &to.name),
                to.values.join(", ")
            ),
            Change::AddEnumValue {
                enum_type, value, ..
            } => format!(
                "add value '{value}' to enum {}",
                qualify(enum_type.schema.as_deref(), &enum_type.name)
            ),
            Change::CreateSequence { sequence } => format!(
                "create sequence {}",
                qualify(sequence.schema.as_deref(), &sequence.name)
            ),
            Change::DropSequence { sequence } => format!(
                "drop sequence {}",
                qualify(sequence.schema.as_deref(), &sequence.name)
            ),
            Change::AlterSequence { to, .. } => {
                format!("alter sequence {}", qualify(to.schema.as_deref(), &to.name))
            }
            Change::CreateFunction { function } => format!(
                "create function {}({})",
                qualify(function.schema.as_deref(), &function.name),
                function.arguments
            ),
            Change::ReplaceFunction { to, .. } => format!(
                "replace function {}({})",
                qualify(to.schema.as_deref(), &to.name),
                to.arguments
            ),
            Change::DropFunction { function } => format!(
                "drop function {}({})",
                qualify(function.schema.as_deref(), &function.name),
                function.arguments
            ),
            Change::AddExclusion {
                schema,
                table,
                exclusion,
            } => format!("add exclusion {} on {}", exclusion.name, at(schema, table)),
            Change::DropExclusion {
                schema,
                table,
                exclusion,
            } => format!("drop exclusion {} on {}", exclusion.name, at(schema, table)),
            Change::ValidateConstraint {
                schema,
                table,
                name,
            } => format!("validate constraint {name} on {}", at(schema, table)),
            Change::SetPartitionOf {
                schema, table, to, ..
            } => match to {
                Some(to) => format!(
                    "make {} a partition of {} {}",
                    at(schema, table),
                    at(&to.schema, &to.table),
                    to.bound
                ),
                None => format!("detach partition {}", at(schema, table)),
            },
            Change::CreateDomain { domain } => {
                format!("create domain {}", at(&domain.schema, &domain.name))
            }
            Change::DropDomain { domain } => {
                format!("drop domain {}", at(&domain.schema, &domain.name))
            }
            Change::AlterDomain { to, .. } => format!("alter domain {}", at(&to.schema, &to.name)),
            Change::SetRowSecurity {
                schema,
                table,
                from,
                to,
            } => {
                let mut parts = Vec::new();
                if from.enabled != to.enabled {
                    parts.push(if to.enabled { "enable" } else { "disable" });
                }
                if from.forced != to.forced {
                    parts.push(if to.forced { "force" } else { "no force" });
                }
                format!(
                    "{} row-level security on {}",
                    parts.join(", "),
                    at(schema, table)
                )
            }
            Change::CreatePolicy {
                schema,
                table,
                policy,
            } => format!("create policy {} on {}", policy.name, at(schema, table)),
            Change::DropPolicy {
                schema,
                table,
                policy,
            } => format!("drop policy {} on {}", policy.name, at(schema, table)),
            Change::AlterPolicy {
                schema,
                table,
                from,
                to,
            } => format!(
                "alter policy {} on {} ({})",
                to.name,
                at(schema, table),
                policy_delta(from, to)
            ),
            Change::RenamePolicy {
                schema,
                table,
                from,
                to,
            } => format!("rename policy {from} on {} to {to}", at(schema, table)),
            Change::CreateExtension { extension } => format!("create extension {}", extension.name),
            Change::DropExtension { extension } => format!("drop extension {}", extension.name),
            Change::CreateCollation { collation } => {
                format!(
                    "create collation {}",
                    at(&collation.schema, &collation.name)
                )
            }
            Change::DropCollation { collation } => {
                format!("drop collation {}", at(&collation.schema, &collation.name))
            }
            Change::CreateCompositeType { composite_type } => format!(
                "create composite type {}",
                at(&composite_type.schema, &composite_type.name)
            ),
            Change::DropCompositeType { composite_type } => format!(
                "drop composite type {}",
                at(&composite_type.schema, &composite_type.name)
            ),
            Change::AlterCompositeType { to, .. } => {
                format!("alter composite type {}", at(&to.schema, &to.name))
            }
            Change::CreateRangeType { range_type } => format!(
                "create range type {}",
                at(&range_type.schema, &range_type.name)
            ),
            Change::DropRangeType { range_type } => format!(
                "drop range type {}",
                at(&range_type.schema, &range_type.name)
            ),
            Change::ReplaceRangeType { to, .. } => {
                format!("replace range type {}", at(&to.schema, &to.name))
            }
            Change::CreateTextSearchConfig { config } => format!(
                "create text search configuration {}",
                at(&config.schema, &config.name)
            ),
            Change::DropTextSearchConfig { config } => format!(
                "drop text search configuration {}",
                at(&config.schema, &config.name)
            ),
            Change::AlterTextSearchConfig { to, .. } => format!(
                "alter text search configuration {}",
                at(&to.schema, &to.name)
            ),
            Change::RenameObject { object, from } => format!(
                "rename {} to {}",
                object.clone().with_name(from.clone()).describe(),
                object.name().1
            ),
            Change::SetObjectComment { object, to, .. } => match to {
                Some(_) => format!("comment on {}", object.describe()),
                None => format!("remove comment on {}", object.describe()),
            },
            Change::SetComment {
                schema,
                table,
                column,
                to,
                ..
            } => {
                let object = match column {
                    Some(column) => format!("column {}.{column}", at(schema, table)),
                    None => format!("table {}", at(schema, table)),
                };
                match to {
                    Some(_) => format!("comment on {object}"),
                    None => format!("remove comment on {object}"),
                }
            }
        }
    }

    /// The change that undoes this one.
    pub fn reverse(&self) -> Change {
        match self.clone() {
            Change::CreateTable { table } => Change::DropTable { table },
            Change::DropTable { table } => Change::CreateTable { table },
            Change::RenameTable { schema, from, to } => Change::RenameTable {
                schema,
                from: to,
                to: from,
            },
            Change::AddColumn {
                schema,
                table,
                column,
            } => Change::DropColumn {
                schema,
                table,
                column,
            },
            Change::DropColumn {
                schema,
                table,
                column,
            } => Change::AddColumn {
                schema,
                table,
                column,
            },
            Change::RenameColumn {
                schema,
                table,
                from,
                to,
            } => Change::RenameColumn {
                schema,
                table,
                from: to,
                to: from,
            },
            Change::AlterColumn {
                schema,
                table,
                from,
                to,
            } => Change::AlterColumn {
                schema,
                table,
                from: to,
                to: from,
            },
            Change::ReorderColumns {
                schema,
                table,
                from,
                to,
            } => Change::ReorderColumns {
                schema,
                table,
                from: to,
                to: from,
            },
            Change::SetPrimaryKey {
                schema,
                table,
                from,
                to,
            } => Change::SetPrimaryKey {
                schema,
                table,
                from: to,
                to: from,
            },
            Change::AddForeignKey {
                schema,
                table,
                foreign_key,
            } => Change::DropForeignKey {
                schema,
                table,
                foreign_key,
            },
            Change::DropForeignKey {
                schema,
                table,
                foreign_key,
            } => Change::AddForeignKey {
                schema,
                table,
                foreign_key,
            },
            Change::AddUnique {
                schema,
                table,
                unique,
            } => Change::DropUnique {
                schema,
                table,
                unique,
            },
            Change::DropUnique {
                schema,
                table,
                unique,
            } => Change::AddUnique {
                schema,
                table,
                unique,
            },
            Change::AddCheck {
                schema,
                table,
                check,
            } => Change::DropCheck {
                schema,
                table,
                check,
            },
            Change::DropCheck {
                schema,
                table,
                check,
            } => Change::AddCheck {
                schema,
                table,
                check,
            },
            Change::SetTableOptions {
                schema,
                table,
                from,
                to,
            } => Change::SetTableOptions {
                schema,
                table,
                from: to,
                to: from,
            },
            Change::AddIndex {
                schema,
                table,
                index,
            } => Change::DropIndex {
                schema,
                table,
                index,
            },
            Change::DropIndex {
                schema,
                table,
                index,
            } => Change::AddIndex {
                schema,
                table,
                index,
            },
            Change::RenameIndex {
                schema,
                table,
                from,
                to,
            } => Change::RenameIndex {
                schema,
                table,
                from: to,
                to: from,
            },
            Change::CreateView { view } => Change::DropView { view },
            Change::DropView { view } => Change::CreateView { view },
            Change::CreateTrigger { trigger } => Change::DropTrigger { trigger },
            Change::DropTrigger { trigger } => Change::CreateTrigger { trigger },
            Change::CreateVirtualTable { table } => Change::DropVirtualTable { table },
            Change::DropVirtualTable { table } => Change::CreateVirtualTable { table },
            Change::CreateNamespace { namespace } => Change::DropNamespace { namespace },
            Change::DropNamespace { namespace } => Change::CreateNamespace { namespace },
            Change::CreateEnum { enum_type } => Change::DropEnum { enum_type },
            Change::DropEnum { enum_type } => Change::CreateEnum { enum_type },
            Change::AddEnumValue {
                enum_type, value, ..
            } => {
                // PostgreSQL cannot remove a label: the type is recreated without it.
                let mut with_value = enum_type.clone();
                with_value.values.push(value);
                Change::RecreateEnum {
                    from: with_value,
                    to: enum_type,
                }
            }
            Change::RecreateEnum { from, to } => Change::RecreateEnum { from: to, to: from },
            Change::CreateSequence { sequence } => Change::DropSequence { sequence },
            Change::DropSequence { sequence } => Change::CreateSequence { sequence },
            Change::AlterSequence { from, to } => Change::AlterSequence { from: to, to: from },
            Change::CreateFunction { function } => Change::DropFunction { function },
            Change::DropFunction { function } => Change::CreateFunction { function },
            Change::ReplaceFunction { from, to } => Change::ReplaceFunction { from: to, to: from },
            Change::AddExclusion {
                schema,
                table,
                exclusion,
            } => Change::DropExclusion {
                schema,
                table,
                exclusion,
            },
            Change::DropExclusion {
                schema,
                table,
                exclusion,
            } => Change::AddExclusion {
                schema,
                table,
                exclusion,
            },
            // Validation cannot be undone and needs no undoing.
            Change::ValidateConstraint {
                schema,
                table,
                name,
            } => Change::ValidateConstraint {
                schema,
                table,
                name,
            },
            Change::SetPartitionOf {
                schema,
                table,
                from,
                to,
            } => Change::SetPartitionOf {
                schema,
                table,
                from: to,
                to: from,
            },
            Change::CreateDomain { domain } => Change::DropDomain { domain },
            Change::DropDomain { domain } => Change::CreateDomain { domain },
            Change::AlterDomain { from, to } => Change::AlterDomain { from: to, to: from },
            Change::SetRowSecurity {
                schema,
                table,
                from,
                to,
            } => Change::SetRowSecurity {
                schema,
                table,
                from: to,
                to: from,
            },
            Change::CreatePolicy {
                schema,
                table,
                policy,
            } => Change::DropPolicy {
                schema,
                table,
                policy,
            },
            Change::DropPolicy {
                schema,
                table,
                policy,
            } => Change::CreatePolicy {
                schema,
                table,
                policy,
            },
            Change::AlterPolicy {
                schema,
                table,
                from,
                to,
            } => Change::AlterPolicy {
                schema,
                table,
                from: to,
                to: from,
            },
            Change::RenamePolicy {
                schema,
                table,
                from,
                to,
            } => Change::RenamePolicy {
                schema,
                table,
                from: to,
                to: from,
            },
            Change::CreateExtension { extension } => Change::DropExtension { extension },
            Change::DropExtension { extension } => Change::CreateExtension { extension },
            Change::CreateCollation { collation } => Change::DropCollation { collation },
            Change::DropCollation { collation } => Change::CreateCollation { collation },
            Change::CreateCompositeType { composite_type } => {
                Change::DropCompositeType { composite_type }
            }
            Change::DropCompositeType { composite_type } => {
                Change::CreateCompositeType { composite_type }
            }
            Change::AlterCompositeType { from, to } => {
                Change::AlterCompositeType { from: to, to: from }
            }
            Change::CreateRangeType { range_type } => Change::DropRangeType { range_type },
            Change::DropRangeType { range_type } => Change::CreateRangeType { range_type },
            Change::ReplaceRangeType { from, to } => {
                Change::ReplaceRangeType { from: to, to: from }
            }
            Change::CreateTextSearchConfig { config } => Change::DropTextSearchConfig { config },
            Change::DropTextSearchConfig { config } => Change::CreateTextSearchConfig { config },
            Change::AlterTextSearchConfig { from, to } => {
                Change::AlterTextSearchConfig { from: to, to: from }
            }
            Change::RenameObject { object, from } => {
                let to = object.name().1.to_string();
                Change::RenameObject {
                    object: object.with_name(from),
                    from: to,
                }
            }
            Change::SetObjectComment { object, from, to } => Change::SetObjectComment {
                object: object.with_comment(from.clone()),
                from: to,
                to: from,
            },
            Change::SetComment {
                schema,
                table,
                column,
                from,
                to,
            } => Change::SetComment {
                schema,
                table,
                column,
                from: to,
                to: from,
            },
        }
    }
}

/// `name`, or `schema.name` when a namespace is given.
pub fn qualify(schema: Option<&str>, name: &str) -> String {
    match schema {
        Some(schema) => format!("{schema}.{name}"),
        None => name.to_string(),
    }
}

/// Which aspects of a policy differ, as words: `command select -> all, roles, using`.
pub fn policy_delta(from: &Policy, to: &Policy) -> String {
    let mut parts = Vec::new();
    if from.restrictive != to.restrictive {
        parts.push(
            if to.restrictive {
                "permissive -> restrictive"
            } else {
                "restrictive -> permissive"
            }
            .to_string(),
        );
    }
    if from.command != to.command {
        parts.push(format!(
            "command {} -> {}",
            from.command.as_sql().to_ascii_lowercase(),
            to.command.as_sql().to_ascii_lowercase()
        ));
    }
    if from.roles != to.roles {
        parts.push(format!("roles {}", to.roles.join(", ")));
    }
    if from.using != to.using {
        parts.push("using".to_string());
    }
    if from.with_check != to.with_check {
        parts.push("with check".to_string());
    }
    if from.comment != to.comment {
        parts.push("comment".to_string());
    }
    parts.join(", ")
}

/// Which aspects of a column differ, as words: `type TEXT -> INTEGER, not null`.
pub fn column_delta(from: &Column, to: &Column) -> String {
    let mut parts = Vec::new();
    if from.data_type != to.data_type {
        parts.push(format!("type {} -> {}", from.data_type, to.data_type));
    }
    if from.nullable != to.nullable {
        parts.push(if to.nullable { "nullable" } else { "not null" }.to_string());
    }
    if from.default != to.default {
        match &to.default {
            Some(default) => parts.push(format!("default {default}")),
            None => parts.push("drop default".to_string()),
        }
    }
    if from.collation != to.collation {
        parts.push(format!(
            "collate {}",
            to.collation.as_deref().unwrap_or("default")
        ));
    }
    if from.generated != to.generated {
        parts.push("generation".to_string());
    }
    if from.identity != to.identity {
        parts.push("identity".to_string());
    }
    if from.comment != to.comment {
        parts.push("comment".to_string());
    }
    parts.join(", ")
}
