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
    /// A setting or argument that is out of range or inconsistent. Settings are named by their
    /// key in the request schema, in backticks (`` `scr.lambda` ``), which front ends respell in
    /// their own words ([`respell`]).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A setting of a run request that is out of range, of the wrong type, or not read: the
    /// message follows the key (`` `scr.lambda` must be positive and finite, got -1 ``).
    #[error("`{key}` {message}")]
    Setting { key: String, message: String },
    /// A linear-algebra routine failed.
    #[error("numerical failure: {0}")]
    Numerical(String),
    /// The convex solver did not return a usable solution.
    #[error("solver failure: {0}")]
    Solver(String),
    /// Something this build does not include: `what` needs the cargo feature `feature` (front
    /// ends say how to build with it).
    #[error("{what} needs cvxnn built with the cargo feature `{feature}`")]
    Unavailable { feature: &'static str, what: String },
}

/// Crate-wide result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A setting error: `key` in the request schema (`scr.lambda`), then what is wrong with it.
    pub fn setting(key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Setting {
            key: key.into(),
            message: message.into(),
        }
    }

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

/// `message` with every key in backticks that `spell` knows replaced by its spelling: a front end
/// shows the library's `` `scr.lambda` `` as `--lambda` or `scr_lambda`. Backticked text that
/// `spell` does not know is left as it is.
pub fn respell(message: &str, spell: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find('`') {
        let Some(len) = rest[open + 1..].find('`') else {
            break;
        };
        let inner = &rest[open + 1..open + 1 + len];
        out.push_str(&rest[..open]);
        match spell(inner) {
            Some(word) => out.push_str(&word),
            None => out.push_str(&rest[open..open + len + 2]),
        }
        rest = &rest[open + len + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn respell_replaces_known_keys_only() {
        let spell = |k: &str| (k == "scr.lambda").then(|| "scr_lambda".to_string());
        assert_eq!(
            respell("`scr.lambda` must be > 0; see `other` and `", spell),
            "scr_lambda must be > 0; see `other` and `"
        );
        let e = Error::setting("scr.lambda", "must be positive");
        assert_eq!(
            respell(&e.to_string(), spell),
            "scr_lambda must be positive"
        );
    }
}
