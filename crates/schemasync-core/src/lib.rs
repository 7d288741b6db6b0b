//! schemasync-core: the schema model, the diff engine, plans and hazards, and the
//! [`Driver`] trait that dialect crates implement.
//!
//! This crate knows no database crate and no dialect's SQL beyond lexing: everything
//! that talks to an engine lives in a driver (`schemasync-sqlite`, …).
//!
//! ```
//! use schemasync_core::{diff, Column, DiffOptions, Schema, Table};
//! let mut users = Table::new("users");
//! users.columns.push(Column::new("id", "INTEGER"));
//! let desired = Schema { tables: vec![users], ..Schema::default() };
//! let changes = diff(&Schema::default(), &desired, &DiffOptions::default());
//! assert_eq!(changes.len(), 1);
//! ```

pub mod backup;
pub mod builder;
pub mod catalog;
pub mod change;
pub mod diff;
pub mod driver;
pub mod error;
pub mod format;
pub mod hints;
pub mod migrate;
pub mod model;
pub mod naming;
pub mod plan;
pub mod source;
pub mod sqltext;

pub use backup::backup_path;
pub use builder::SchemaBuilder;
pub use change::{qualify, Change, Commented, RowSecurity};
pub use diff::{diff, diff_recreating, DiffOptions};
pub use driver::{ApplyOptions, ApplyReport, Driver, Progress, Status, TableStatus};
pub use error::{Error, Result};
pub use format::{json_schema, parse_schema, render_schema, SchemaFormat};
pub use hints::RenameHints;
pub use model::{
    Attribute, Check, Collation, Column, CompositeType, Deferrable, Domain, EnumType, Exclusion,
    Extension, ForeignKey, Function, Generated, Identity, Index, IndexPart, Namespace, PartitionOf,
    Policy, PolicyCommand, PrimaryKey, RangeType, ReferentialAction, Schema, Sequence, Table,
    TableOptions, TextSearchConfig, TextSearchMapping, Trigger, Unique, View, VirtualTable,
    PUBLIC_ROLE,
};
pub use naming::NamingConvention;
pub use plan::{DataCheck, Dialect, Hazard, HazardKind, Plan, Step};
pub use source::{load_desired, load_desired_text};
