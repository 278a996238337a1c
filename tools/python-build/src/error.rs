//! What can go wrong building a Python bench, each case named with what to do about it.

use std::path::PathBuf;
use thiserror::Error;

/// A failed Python build.
#[derive(Debug, Error)]
pub enum PythonBuildError {
    /// The interpreter that makes the virtual environment could not be started.
    #[error(
        "cannot start `{program}` to install componentize-py ({source}): install Python 3 with its venv module (Debian: python3-venv), or name an interpreter in KERNBENCH_PYTHON"
    )]
    NoPython {
        /// The interpreter.
        program: String,
        /// Why it did not start.
        source: std::io::Error,
    },
    /// A tool ran and failed.
    #[error("{step} failed ({status})\n{output}{hint}")]
    Tool {
        /// What was being done.
        step: String,
        /// Its exit status.
        status: String,
        /// The end of what it printed, control characters removed.
        output: String,
        /// What usually fixes it, if anything is known.
        hint: &'static str,
    },
    /// A file or directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// The path given is not a Python bench.
    #[error("{}: {why}", path.display())]
    NotABench {
        /// What was given.
        path: PathBuf,
        /// Why it is not a bench.
        why: String,
    },
    /// The bench's sources exceed a named limit.
    #[error("{}: {what} exceed {limit} ({name}): {hint}", dir.display())]
    SourceLimit {
        /// The directory scanned.
        dir: PathBuf,
        /// What was counted.
        what: &'static str,
        /// The limit.
        limit: String,
        /// The limit's name.
        name: &'static str,
        /// What to do about it.
        hint: &'static str,
    },
}

impl PythonBuildError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| PythonBuildError::Io { path, source }
    }
}
