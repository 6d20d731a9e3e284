//! The crate's error type. Bad input never panics: it becomes one of these.

use std::path::PathBuf;

/// Everything that can go wrong, with a message a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    /// (The I/O error is in the message and deliberately not a `source`: `{:#}` would print it twice.)
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A data file is malformed (bad number, ragged rows, unknown column …).
    #[error("{path}: {msg}")]
    Parse { path: PathBuf, msg: String },
    /// NaN or ±Inf where a finite number is required.
    #[error("non-finite value: {0}")]
    NonFinite(String),
    /// Shapes that do not fit together.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A setting or argument that is out of range or inconsistent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A linear-algebra routine failed.
    #[error("numerical failure: {0}")]
    Numerical(String),
    /// The convex solver did not return a usable solution.
    #[error("solver failure: {0}")]
    Solver(String),
    /// A feature that this build does not include.
    #[error("{0}")]
    Unavailable(String),
}

/// Crate-wide result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            error: source,
        }
    }

    pub(crate) fn parse(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        Error::Parse {
            path: path.into(),
            msg: msg.into(),
        }
    }
}
