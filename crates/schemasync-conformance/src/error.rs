//! The error type of the conformance suite: what stops a run (not what fails a case).

use std::path::PathBuf;

/// Result alias for the conformance suite.
pub type Result<T, E = ConformanceError> = std::result::Result<T, E>;

/// Why the suite could not load its cases or reach a database.
#[derive(Debug, thiserror::Error)]
pub enum ConformanceError {
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A case file, the skip list or an external case file is malformed.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A database for a case could not be made or used (the case itself is not at fault).
    #[error("{0}")]
    Database(String),
    /// A schemasync library call failed outside the case under test.
    #[error(transparent)]
    Schemasync(#[from] schemasync_core::Error),
}

impl ConformanceError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ConformanceError::Io {
            path: path.into(),
            source,
        }
    }

    /// A format error in the file at `path`.
    pub fn format(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        ConformanceError::Format {
            path: path.into(),
            message: message.into(),
        }
    }
}
