//! [`CopyError`]: everything a copy can fail with, each as one sentence.

use crate::BadValue;

/// What went wrong in a copy. Nothing was committed to the target in any case: the whole
/// copy runs in one PostgreSQL transaction.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// Reading, introspecting or writing failed (the engine's own words are kept).
    #[error(transparent)]
    Schemasync(#[from] schemasync_core::Error),
    /// Values that cannot be converted exactly, with `--on-error=stop` (the default).
    #[error(
        "refusing to copy: {count} value(s) cannot be converted exactly ({first}{more}); \
         nothing was written; pass --on-error=skip-row with --report FILE to copy the other rows"
    )]
    Unconvertible {
        /// How many values.
        count: u64,
        /// The first one, rendered.
        first: String,
        /// `, …` when there are more, else empty.
        more: String,
        /// The first values found (at most [`crate::MAX_SAMPLES`]).
        samples: Vec<BadValue>,
    },
    /// A table to copy already exists in the target (or, with `--data-only`, holds rows)
    /// and `--replace` was not given; the message says which and what to do.
    #[error("refusing to copy: {0}")]
    TargetInUse(String),
    /// A table named in `--tables` is not in the source.
    #[error("table {0} does not exist in the source database")]
    UnknownTable(String),
    /// `--data-only`: a table is missing from the target or has other column types.
    #[error("--data-only: {0}")]
    TargetMismatch(String),
    /// Row count or checksum differ after the copy; everything was rolled back.
    #[error("rolled back: verification failed for table {table}: {detail}")]
    VerificationFailed {
        /// The table.
        table: String,
        /// Which numbers differ.
        detail: String,
    },
}

impl CopyError {
    /// Whether a guard refused (exit code 1) rather than something failing (exit code 2).
    pub fn is_refusal(&self) -> bool {
        match self {
            CopyError::Unconvertible { .. } | CopyError::TargetInUse(_) => true,
            CopyError::Schemasync(error) => error.is_refusal(),
            _ => false,
        }
    }
}
