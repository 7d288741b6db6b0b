//! The error type every schemasync library returns.
//!
//! Each variant renders as one sentence that names the object and the reason; the
//! engine's own words are kept (`SQLite says: …`). The CLI maps variants to exit codes
//! with [`Error::is_refusal`].

use crate::plan::Dialect;
use std::path::PathBuf;

/// Result alias for schemasync operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in schemasync.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A schema file could not be read or parsed.
    #[error("cannot read schema file {path}: {message}")]
    SchemaFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A desired schema (or part of it) is not valid.
    #[error("invalid schema: {0}")]
    InvalidSchema(String),
    /// The database engine reported an error.
    #[error("{context}: {dialect} says: {message}")]
    Database {
        /// Which engine.
        dialect: Dialect,
        /// What schemasync was doing.
        context: String,
        /// The engine's own message.
        message: String,
    },
    /// The plan drops data and the caller did not allow it.
    #[error("refusing to apply: the plan would lose data ({objects}); pass --allow-data-loss to allow it")]
    DataLossRefused {
        /// The objects whose data would be lost.
        objects: String,
    },
    /// Existing rows violate what a step needs.
    #[error("cannot {description}: {count} row(s) violate it ({sample}); {remedy}")]
    ValidationFailed {
        /// What the step does.
        description: String,
        /// How many rows violate it.
        count: u64,
        /// A few offending keys.
        sample: String,
        /// What to do about it.
        remedy: String,
    },
    /// After applying, the database did not match the desired schema; it was rolled back.
    #[error(
        "rolled back: after applying, the database still differs from the desired schema ({drift})"
    )]
    VerificationFailed {
        /// The remaining differences.
        drift: String,
    },
    /// A feature the dialect or this version of schemasync cannot provide.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A migration revision, its graph or a migration target is not valid.
    #[error("{0}")]
    Revision(String),
    /// An applied revision's body differs from what was applied.
    #[error("revision {revision} was changed after it was applied (checksum {applied} in the database, {now} in {file}); restore the file or pass --allow-changed")]
    RevisionChanged {
        /// The revision id.
        revision: String,
        /// The checksum recorded when it was applied.
        applied: String,
        /// The checksum of the file now.
        now: String,
        /// The revision's file.
        file: String,
    },
    /// Bad arguments or configuration.
    #[error("{0}")]
    Usage(String),
    /// A file-system error, with the path concerned.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl Error {
    /// Whether this is a guard refusing (exit code 1) rather than a failure (exit code 2).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Error::DataLossRefused { .. }
                | Error::ValidationFailed { .. }
                | Error::RevisionChanged { .. }
        )
    }

    /// A database error from `dialect`, while doing `context`.
    pub fn database(
        dialect: Dialect,
        context: impl Into<String>,
        message: impl std::fmt::Display,
    ) -> Self {
        Error::Database {
            dialect,
            context: context.into(),
            message: message.to_string(),
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
