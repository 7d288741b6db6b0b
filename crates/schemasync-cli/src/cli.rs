//! The command line's grammar: flags and subcommands, as clap derive types.
//!
//! Only the shape of the arguments lives here; what a command does is in the crate's
//! command module, and every schema decision is made by the library crates.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Keep SQLite (and, next, PostgreSQL) schemas in sync with a declared schema, with
/// backups before risky changes.
#[derive(Debug, Parser)]
#[command(name = "schemasync", version, about)]
pub struct Cli {
    /// Database URL: sqlite://relative.db, sqlite:///absolute.db, sqlite::memory:,
    /// postgres://user@host/db [default: $SCHEMASYNC_DATABASE_URL, $DATABASE_URL,
    /// database_url in schemasync.toml]
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// Config file [default: ./schemasync.toml when present]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Seconds to wait for another connection's lock [default: 5]
    #[arg(long, global = true, value_name = "SECS")]
    pub busy_timeout: Option<f64>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the live schema.
    Inspect {
        /// Output format.
        #[arg(long, value_enum, default_value_t = InspectFormat::Sql)]
        format: InspectFormat,
    },
    /// Print the plan that would make the database match a schema file; exit 0.
    Plan {
        /// The desired schema.
        #[command(flatten)]
        schema: SchemaArg,
        /// Output format.
        #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
        format: PlanFormat,
    },
    /// Make the database match a schema file: check, back up, apply, verify.
    Apply(ApplyArgs),
    /// Exit 0 if the database matches a schema file, 1 (printing the drift) if not.
    Check {
        /// The desired schema.
        #[command(flatten)]
        schema: SchemaArg,
    },
    /// Show the journal mode and the tables with their row counts.
    Status {
        /// Output format.
        #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
        format: StatusFormat,
    },
    /// Write a verified backup of the database.
    Backup {
        /// Backup file [default: <db>.<UTC timestamp>.<version>.bak in the backup folder]
        #[arg(long, value_name = "FILE")]
        to: Option<PathBuf>,
    },
    /// Replace the database's content with a backup (the current content is backed up first).
    Restore {
        /// The backup file.
        file: PathBuf,
        /// Do not back up the current content first.
        #[arg(long)]
        no_backup: bool,
    },
}

/// The `--schema FILE` argument.
#[derive(Debug, Args)]
pub struct SchemaArg {
    /// Desired schema: .sql (DDL), .toml, .json or .yaml.
    #[arg(long, value_name = "FILE")]
    pub schema: PathBuf,
}

/// Arguments of `apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The desired schema.
    #[command(flatten)]
    pub schema: SchemaArg,
    /// Allow steps that drop tables, columns or data.
    #[arg(long)]
    pub allow_data_loss: bool,
    /// Do not back up the database before changing it.
    #[arg(long)]
    pub no_backup: bool,
    /// Check everything, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Label recorded with the change in the history table.
    #[arg(long, value_name = "L")]
    pub label: Option<String>,
}

/// `inspect --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InspectFormat {
    /// The DDL, as the engine stores it.
    Sql,
    /// The schema model as TOML.
    Toml,
    /// The schema model as JSON.
    Json,
    /// The schema model as YAML.
    Yaml,
}

/// `plan --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Numbered steps with their SQL and hazards.
    Text,
    /// One SQL script.
    Sql,
    /// The plan as JSON.
    Json,
}

/// `status --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    /// For people.
    Text,
    /// For programs.
    Json,
}
