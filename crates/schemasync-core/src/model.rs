//! The schema model: one set of types for every dialect.
//!
//! A [`Schema`] is what a database holds (tables, views, triggers, virtual tables);
//! drivers introspect into it and plan from it. Values are stored in the canonical form
//! of the engine they came from: drivers normalise on the way in, and the diff compares
//! plainly. Rename hints (`renamed_from`) travel with the desired schema and never
//! take part in equality.
//!
//! This module holds data only: no SQL, no database access.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A whole database schema: the desired one from a file or builder, or a live one
/// introspected by a driver.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    /// Ordinary tables, in creation order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<Table>,
    /// Views (and, where the dialect has them, materialized views).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub views: Vec<View>,
    /// Triggers on tables or views.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Trigger>,
    /// Virtual tables (SQLite FTS5 and other modules).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub virtual_tables: Vec<VirtualTable>,
    /// Namespaces other than the default one (PostgreSQL schemas).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<Namespace>,
    /// Enum types (PostgreSQL).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enums: Vec<EnumType>,
    /// Sequences (PostgreSQL), including those owned by serial and identity columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sequences: Vec<Sequence>,
    /// Functions, procedures and aggregates (PostgreSQL), compared by their canonical
    /// definition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<Function>,
    /// Domains (PostgreSQL): a base type with a default, NOT NULL and CHECKs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<Domain>,
    /// Extensions (PostgreSQL `CREATE EXTENSION`); the objects they own are theirs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<Extension>,
    /// Collations (PostgreSQL `CREATE COLLATION`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collations: Vec<Collation>,
    /// Composite types (PostgreSQL `CREATE TYPE … AS (…)`), each after the types its
    /// attributes use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub composite_types: Vec<CompositeType>,
    /// Range types (PostgreSQL `CREATE TYPE … AS RANGE`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub range_types: Vec<RangeType>,
    /// Text search configurations (PostgreSQL `CREATE TEXT SEARCH CONFIGURATION`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub text_search_configs: Vec<TextSearchConfig>,
}

/// A collation (PostgreSQL `CREATE COLLATION`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Collation {
    /// Namespace; `None` for the default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Collation name.
    pub name: String,
    /// Provider: `icu` or `libc`.
    pub provider: String,
    /// ICU locale (`und-u-ks-level2`); `None` for libc.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// libc `LC_COLLATE` (`C`, `en_US.utf8`); `None` for ICU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lc_collate: Option<String>,
    /// libc `LC_CTYPE`; `None` for ICU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lc_ctype: Option<String>,
    /// Whether equal strings must be byte-wise equal (`deterministic = false` makes
    /// case- or accent-insensitive comparison possible).
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub deterministic: bool,
    /// Comment on the collation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Rename hint: the collation's previous name. Never guessed, never compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
}

/// A composite type (PostgreSQL `CREATE TYPE name AS (attribute type, …)`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompositeType {
    /// Namespace; `None` for the default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Type name.
    pub name: String,
    /// Attributes in their order.
    pub attributes: Vec<Attribute>,
    /// Comment on the type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Rename hint: the type's previous name. Never guessed, never compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
}

/// An attribute of a composite type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Attribute {
    /// Attribute name.
    pub name: String,
    /// Type, as the engine prints it (`integer`, `text`, `app.mood`).
    #[serde(rename = "type")]
    pub data_type: String,
    /// Collation, when not the type's default (`C`, `schema.name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
}

/// A range type (PostgreSQL `CREATE TYPE name AS RANGE (…)`); its multirange type and
/// constructor functions belong to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RangeType {
    /// Namespace; `None` for the default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Type name.
    pub name: String,
    /// The element type, as the engine prints it (`double precision`, `text`).
    pub subtype: String,
    /// Collation of the bounds, when not the subtype's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// Canonical function (`CANONICAL = …`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical: Option<String>,
    /// Difference function (`SUBTYPE_DIFF = …`), if any (`float8mi`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtype_diff: Option<String>,
    /// Comment on the type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Rename hint: the type's previous name. Never guessed, never compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
}

/// A text search configuration (PostgreSQL `CREATE TEXT SEARCH CONFIGURATION`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TextSearchConfig {
    /// Namespace; `None` for the default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Configuration name.
    pub name: String,
    /// Parser, as the engine names it (`default`, `schema.parser`).
    #[serde(default = "default_parser")]
    pub parser: String,
    /// Token types and the dictionaries that handle them, in token type order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mappings: Vec<TextSearchMapping>,
    /// Comment on the configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Rename hint: the configuration's previous name. Never guessed, never compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
}

/// The dictionaries a text search configuration consults for one token type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TextSearchMapping {
    /// Token type alias (`asciiword`, `email`).
    pub token: String,
    /// Dictionaries in the order they are tried, as the engine names them
    /// (`english_stem`, `public.unaccent`).
    pub dictionaries: Vec<String>,
}

fn default_parser() -> String {
    "default".to_string()
}

fn is_true(value: &bool) -> bool {
    *value
}

/// A domain (PostgreSQL `CREATE DOMAIN`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    /// Namespace; `None` for the default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Domain name.
    pub name: String,
    /// The base type, as the engine prints it (`integer`, `character varying(20)`).
    #[serde(rename = "type")]
    pub data_type: String,
    /// Default expression, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Whether NULL is refused.
    #[serde(default, skip_serializing_if = "is_false")]
    pub not_null: bool,
    /// Collation, when not the base type's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// CHECK constraints over `VALUE`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
    /// Comment on the domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Rename hint: the domain's previous name. Never guessed, never compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
}

/// An installed extension (PostgreSQL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Extension {
    /// Extension name (`cube`, `pg_trgm`).
    pub name: String,
    /// The namespace its objects live in; `None` for the default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
}

/// A namespace (PostgreSQL schema) other than the default one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Namespace {
    /// Namespace name.
    pub name: String,
    /// Comment on the namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// An enum type (PostgreSQL `CREATE TYPE … AS ENUM`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnumType {
    /// Namespace; `None` for the default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Type name.
    pub name: String,
    /// Labels in sort order.
    pub values: Vec<String>,
    /// Comment on the type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Rename hint: the type's previous name. Never guessed, never compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
}

/// A sequence (PostgreSQL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sequence {
    /// Namespace; `None` for the default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Sequence name.
    pub name: String,
    /// Value type (`bigint`, `integer`, `smallint`).
    #[serde(rename = "type", default = "default_sequence_type")]
    pub data_type: String,
    /// First value.
    #[serde(default = "one")]
    pub start: i64,
    /// Step.
    #[serde(default = "one")]
    pub increment: i64,
    /// Smallest value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_value: Option<i64>,
    /// Largest value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<i64>,
    /// Values preallocated per session.
    #[serde(default = "one")]
    pub cache: i64,
    /// Whether it wraps around.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cycle: bool,
    /// The column that owns it (`OWNED BY table.column`), as `table.column`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
}

impl Function {
    /// Whether two functions are the same function: namespace, name and identity
    /// arguments (PostgreSQL overloads by argument types).
    pub fn same_identity(&self, other: &Function) -> bool {
        self.schema == other.schema && self.name == other.name && self.arguments == other.arguments
    }
}

fn default_sequence_type() -> String {
    "bigint".to_string()
}

fn one() -> i64 {
    1
}

/// A function or procedure (PostgreSQL), kept as the server's canonical definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Function {
    /// Namespace; `None` for the default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Function name.
    pub name: String,
    /// Identity arguments (`integer, text`), which with the name identify the function.
    #[serde(default)]
    pub arguments: String,
    /// The whole `CREATE OR REPLACE FUNCTION …` as `pg_get_functiondef` prints it.
    pub definition: String,
    /// Comment on the function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// An ordinary table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// Namespace (PostgreSQL schema); `None` for the default one (SQLite `main`, PostgreSQL `public`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Table name, exactly as the engine stores it.
    pub name: String,
    /// Columns in their physical order.
    #[serde(default)]
    pub columns: Vec<Column>,
    /// Primary key, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<PrimaryKey>,
    /// Foreign keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<ForeignKey>,
    /// UNIQUE constraints (declared in the table, as opposed to unique indexes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uniques: Vec<Unique>,
    /// CHECK constraints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
    /// Exclusion constraints (PostgreSQL).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclusions: Vec<Exclusion>,
    /// Indexes created on this table with CREATE INDEX.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
    /// Storage options.
    #[serde(default, skip_serializing_if = "TableOptions::is_default")]
    pub options: TableOptions,
    /// Comment on the table, where the dialect stores comments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// For a partitioned table (PostgreSQL): its partition key as the server prints it
    /// (`RANGE (payment_date)`, `LIST (region)`, `HASH (id)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_by: Option<String>,
    /// For a partition (PostgreSQL): the partitioned table it belongs to and its bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_of: Option<PartitionOf>,
    /// Row-level security is enabled (PostgreSQL `ENABLE ROW LEVEL SECURITY`): roles
    /// other than the owner see and change only the rows its policies allow.
    #[serde(default, skip_serializing_if = "is_false")]
    pub row_security: bool,
    /// Row-level security applies to the table's owner too (PostgreSQL `FORCE ROW LEVEL
    /// SECURITY`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub force_row_security: bool,
    /// Row-level security policies (PostgreSQL), by name. A partition has its own: a
    /// parent's policies are not inherited.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<Policy>,
    /// Rename hint: the table's previous name. Never guessed, never compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
}

/// A row-level security policy on a table (PostgreSQL `CREATE POLICY`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Policy name (unique per table).
    pub name: String,
    /// `AS RESTRICTIVE` (every restrictive policy must pass) rather than the default
    /// `AS PERMISSIVE` (any permissive policy may let a row through).
    #[serde(default, skip_serializing_if = "is_false")]
    pub restrictive: bool,
    /// The command it applies to.
    #[serde(default, skip_serializing_if = "PolicyCommand::is_default")]
    pub command: PolicyCommand,
    /// The roles it applies to, by name, sorted; `public` (every role) by default.
    #[serde(default = "public_roles", skip_serializing_if = "is_public")]
    pub roles: Vec<String>,
    /// Which existing rows are visible or may be changed (`USING (…)`), as the server
    /// prints it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub using: Option<String>,
    /// Which new rows may be written (`WITH CHECK (…)`), as the server prints it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_check: Option<String>,
    /// Comment on the policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Rename hint: the policy's previous name on the same table. Never guessed, never
    /// compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
}

impl Policy {
    /// Whether two policies are the same definition, comments and hints aside.
    pub fn same_definition(&self, other: &Policy) -> bool {
        let bare = |p: &Policy| Policy {
            comment: None,
            renamed_from: None,
            ..p.clone()
        };
        bare(self) == bare(other)
    }
}

/// The role name that means every role (PostgreSQL `PUBLIC`).
pub const PUBLIC_ROLE: &str = "public";

fn public_roles() -> Vec<String> {
    vec![PUBLIC_ROLE.to_string()]
}

fn is_public(roles: &[String]) -> bool {
    roles == [PUBLIC_ROLE]
}

/// The command a policy applies to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PolicyCommand {
    /// Every command (the default).
    #[default]
    All,
    /// `SELECT`.
    Select,
    /// `INSERT`.
    Insert,
    /// `UPDATE`.
    Update,
    /// `DELETE`.
    Delete,
}

impl PolicyCommand {
    /// The SQL word for the command.
    pub fn as_sql(self) -> &'static str {
        match self {
            PolicyCommand::All => "ALL",
            PolicyCommand::Select => "SELECT",
            PolicyCommand::Insert => "INSERT",
            PolicyCommand::Update => "UPDATE",
            PolicyCommand::Delete => "DELETE",
        }
    }

    fn is_default(&self) -> bool {
        *self == PolicyCommand::All
    }
}

/// Where a partition belongs (PostgreSQL declarative partitioning).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartitionOf {
    /// Namespace of the partitioned table; `None` for the default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The partitioned table.
    pub table: String,
    /// The bound as the server prints it: `FOR VALUES FROM ('2022-01-01') TO
    /// ('2022-02-01')`, `FOR VALUES IN ('eu')`, `FOR VALUES WITH (modulus 4, remainder 0)`
    /// or `DEFAULT`.
    pub bound: String,
}

impl PartitionOf {
    /// Whether this is the parent's default partition (bound `DEFAULT`), which takes the
    /// rows no other partition's bound does.
    ///
    /// ```
    /// use schemasync_core::PartitionOf;
    /// let default = PartitionOf { schema: None, table: "events".into(), bound: "DEFAULT".into() };
    /// assert!(default.is_default());
    /// ```
    pub fn is_default(&self) -> bool {
        self.bound == "DEFAULT"
    }
}

/// A column of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Declared type in the engine's canonical spelling (may be empty in SQLite).
    #[serde(rename = "type", default)]
    pub data_type: String,
    /// Whether NULL is allowed.
    #[serde(default = "default_true")]
    pub nullable: bool,
    /// Default value as an SQL expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Generated-column definition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<Generated>,
    /// Collation name, when one is declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// Identity definition (PostgreSQL identity columns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    /// Comment on the column, where the dialect stores comments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Rename hint: the column's previous name. Never guessed, never compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
}

fn default_true() -> bool {
    true
}

impl Column {
    /// A nullable column of the given type with nothing else declared.
    ///
    /// ```
    /// let c = schemasync_core::Column::new("email", "TEXT");
    /// assert!(c.nullable);
    /// ```
    pub fn new(name: impl Into<String>, data_type: impl Into<String>) -> Self {
        Column {
            name: name.into(),
            data_type: data_type.into(),
            nullable: true,
            default: None,
            generated: None,
            collation: None,
            identity: None,
            comment: None,
            renamed_from: None,
        }
    }
}

/// A generated (computed) column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Generated {
    /// The generating expression.
    pub expression: String,
    /// `true` for STORED, `false` for VIRTUAL.
    #[serde(default)]
    pub stored: bool,
}

/// An identity column's generation rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Identity {
    /// `GENERATED ALWAYS AS IDENTITY`.
    Always,
    /// `GENERATED BY DEFAULT AS IDENTITY`.
    ByDefault,
}

/// A primary key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrimaryKey {
    /// Constraint name; `None` when the engine keeps it unnamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Key columns, in key order.
    pub columns: Vec<String>,
    /// SQLite `AUTOINCREMENT` (only on a single INTEGER PRIMARY KEY).
    #[serde(default, skip_serializing_if = "is_false")]
    pub autoincrement: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// What a foreign key does when the referenced row changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReferentialAction {
    /// `NO ACTION` (the default).
    #[default]
    NoAction,
    /// `RESTRICT`.
    Restrict,
    /// `CASCADE`.
    Cascade,
    /// `SET NULL`.
    SetNull,
    /// `SET DEFAULT`.
    SetDefault,
}

impl ReferentialAction {
    /// The SQL words for the action.
    pub fn as_sql(self) -> &'static str {
        match self {
            ReferentialAction::NoAction => "NO ACTION",
            ReferentialAction::Restrict => "RESTRICT",
            ReferentialAction::Cascade => "CASCADE",
            ReferentialAction::SetNull => "SET NULL",
            ReferentialAction::SetDefault => "SET DEFAULT",
        }
    }

    fn is_default(&self) -> bool {
        *self == ReferentialAction::NoAction
    }
}

/// When a foreign key is checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Deferrable {
    /// Checked at the end of each statement (the default).
    #[default]
    NotDeferrable,
    /// `DEFERRABLE INITIALLY IMMEDIATE`.
    InitiallyImmediate,
    /// `DEFERRABLE INITIALLY DEFERRED`.
    InitiallyDeferred,
}

impl Deferrable {
    fn is_default(&self) -> bool {
        *self == Deferrable::NotDeferrable
    }
}

/// A foreign key constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForeignKey {
    /// Constraint name; `None` when the engine keeps it unnamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Referencing columns.
    pub columns: Vec<String>,
    /// Namespace of the referenced table; `None` for the default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referenced_schema: Option<String>,
    /// Referenced table.
    pub referenced_table: String,
    /// Referenced columns; empty means "the referenced table's primary key" (SQLite).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub referenced_columns: Vec<String>,
    /// ON DELETE action.
    #[serde(default, skip_serializing_if = "ReferentialAction::is_default")]
    pub on_delete: ReferentialAction,
    /// ON UPDATE action.
    #[serde(default, skip_serializing_if = "ReferentialAction::is_default")]
    pub on_update: ReferentialAction,
    /// Deferral mode.
    #[serde(default, skip_serializing_if = "Deferrable::is_default")]
    pub deferrable: Deferrable,
    /// Added `NOT VALID` and not validated yet (PostgreSQL; live state only).
    #[serde(default, skip_serializing_if = "is_false")]
    pub not_valid: bool,
}

impl ForeignKey {
    /// Whether two foreign keys enforce the same rule, names and validation state aside.
    pub fn same_definition(&self, other: &ForeignKey) -> bool {
        ForeignKey {
            name: None,
            not_valid: false,
            ..self.clone()
        } == ForeignKey {
            name: None,
            not_valid: false,
            ..other.clone()
        }
    }
}

/// A UNIQUE constraint declared in the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Unique {
    /// Constraint name; `None` when the engine keeps it unnamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Columns, in order.
    pub columns: Vec<String>,
}

/// A CHECK constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// Constraint name; `None` when the engine keeps it unnamed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The boolean expression, without the surrounding `CHECK ( )`.
    pub expression: String,
    /// Added `NOT VALID` and not validated yet (PostgreSQL; a live state only, e.g. after
    /// an interrupted apply: a desired schema never has it).
    #[serde(default, skip_serializing_if = "is_false")]
    pub not_valid: bool,
}

/// An exclusion constraint (PostgreSQL `EXCLUDE USING …`), kept as the server prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Exclusion {
    /// Constraint name.
    pub name: String,
    /// The definition as `pg_get_constraintdef` prints it (`EXCLUDE USING gist (…)`).
    pub definition: String,
}

/// An index created with CREATE INDEX.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Index {
    /// Index name (the naming convention fills it when left out).
    #[serde(default)]
    pub name: String,
    /// Whether it is a UNIQUE index.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
    /// Indexed columns or expressions, in order.
    pub parts: Vec<IndexPart>,
    /// Partial-index predicate (`WHERE …`).
    #[serde(rename = "where", default, skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// Access method (PostgreSQL `USING btree|gin|…`); `None` for the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Non-key columns carried in the index (PostgreSQL `INCLUDE (…)`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// Rename hint: the index's previous name. Never guessed, never compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
}

/// One key of an index: a column or an expression, with its ordering.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexPart {
    /// Column name, or `None` for an expression key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// Expression text for an expression key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// Descending order.
    #[serde(default, skip_serializing_if = "is_false")]
    pub descending: bool,
    /// Collation applied to this key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
}

impl IndexPart {
    /// An ascending key on a plain column.
    pub fn column(name: impl Into<String>) -> Self {
        IndexPart {
            column: Some(name.into()),
            expression: None,
            descending: false,
            collation: None,
        }
    }

    /// An ascending key on an expression.
    pub fn expression(sql: impl Into<String>) -> Self {
        IndexPart {
            column: None,
            expression: Some(sql.into()),
            descending: false,
            collation: None,
        }
    }
}

/// Storage options of a table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TableOptions {
    /// SQLite `WITHOUT ROWID`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub without_rowid: bool,
    /// SQLite `STRICT`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub strict: bool,
}

impl TableOptions {
    fn is_default(&self) -> bool {
        *self == TableOptions::default()
    }
}

/// A view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct View {
    /// Namespace; `None` for the default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// View name.
    pub name: String,
    /// Explicit column names (`CREATE VIEW v(a, b) AS …`), if given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    /// The query, in the engine's canonical text (for SQLite: as written, whitespace folded).
    pub definition: String,
    /// Whether it is a materialized view.
    #[serde(default, skip_serializing_if = "is_false")]
    pub materialized: bool,
    /// Comment on the view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Indexes of a materialized view (PostgreSQL); a change to them recreates the view.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
}

/// A trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// Namespace; `None` for the default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Trigger name.
    pub name: String,
    /// The table or view the trigger is on.
    pub table: String,
    /// The full `CREATE TRIGGER` statement in the engine's canonical text.
    pub definition: String,
}

/// A virtual table (SQLite), such as an FTS5 index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VirtualTable {
    /// Virtual table name.
    pub name: String,
    /// Module name, lower case (`fts5`, `rtree`, …).
    pub module: String,
    /// Module arguments as written, whitespace folded (`title, body, content='docs'`).
    #[serde(default)]
    pub arguments: String,
}

impl Schema {
    /// The table with this name, if any (names compared exactly).
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// The view with this name, if any.
    pub fn view(&self, name: &str) -> Option<&View> {
        self.views.iter().find(|v| v.name == name)
    }

    /// Whether the schema holds no object at all.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
            && self.views.is_empty()
            && self.triggers.is_empty()
            && self.virtual_tables.is_empty()
            && self.namespaces.is_empty()
            && self.enums.is_empty()
            && self.sequences.is_empty()
            && self.functions.is_empty()
            && self.domains.is_empty()
            && self.extensions.is_empty()
            && self.collations.is_empty()
            && self.composite_types.is_empty()
            && self.range_types.is_empty()
            && self.text_search_configs.is_empty()
    }

    /// A SHA-256 hex digest of the schema without rename hints: equal schemas, equal digests.
    ///
    /// ```
    /// let schema = schemasync_core::Schema::default();
    /// assert_eq!(schema.fingerprint().len(), 64);
    /// ```
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let canonical = serde_json::to_vec(&self.clone().without_hints()).unwrap_or_default();
        Sha256::digest(&canonical)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Removes every rename hint, leaving what a live database would report.
    pub fn without_hints(mut self) -> Schema {
        for table in &mut self.tables {
            table.renamed_from = None;
            for column in &mut table.columns {
                column.renamed_from = None;
            }
            for index in &mut table.indexes {
                index.renamed_from = None;
            }
            for policy in &mut table.policies {
                policy.renamed_from = None;
            }
        }
        for enum_type in &mut self.enums {
            enum_type.renamed_from = None;
        }
        for domain in &mut self.domains {
            domain.renamed_from = None;
        }
        for collation in &mut self.collations {
            collation.renamed_from = None;
        }
        for composite in &mut self.composite_types {
            composite.renamed_from = None;
        }
        for range in &mut self.range_types {
            range.renamed_from = None;
        }
        for config in &mut self.text_search_configs {
            config.renamed_from = None;
        }
        self
    }
}

impl Table {
    /// An empty table with this name.
    pub fn new(name: impl Into<String>) -> Self {
        Table {
            name: name.into(),
            ..Table::default()
        }
    }

    /// The column with this name, if any.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}
