//! Errors that stop the tool outright (exit status 2).
//!
//! Problems *in* the ADRs are not errors: they are [`crate::Finding`]s, collected so
//! that one run reports all of them. An [`Error`] means the tool could not do its job
//! at all (wrong root, unreadable file, refused promotion).

use std::io;
use std::path::PathBuf;

/// Why the verifier or the promotion could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `--root` does not name a directory; almost always a typo or a wrong working directory.
    #[error("root {} does not exist or is not a directory", .0.display())]
    RootNotDir(PathBuf),

    /// `docs/adr` is missing: this is not the repository root (or the repo lost its ADRs).
    #[error("{} does not exist: is --root the repository root?", .0.display())]
    AdrDirMissing(PathBuf),

    /// Any filesystem failure, with the path it concerned.
    #[error("{action} {}: {source}", .path.display())]
    Io {
        /// What the tool was doing, e.g. "cannot read".
        action: &'static str,
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// A promotion input (draft, EN or KO text) is not valid UTF-8.
    #[error("{} is not valid UTF-8 (first invalid byte at offset {offset})", .path.display())]
    NotUtf8 {
        /// The offending input file.
        path: PathBuf,
        /// Byte offset of the first invalid byte.
        offset: usize,
    },

    /// The report could not be serialized (not expected in practice).
    #[error("cannot render JSON: {0}")]
    Json(#[from] serde_json::Error),

    /// `promote` refused to act; nothing was written or removed.
    #[error("promotion refused: {0}")]
    PromoteRefused(String),
}

impl Error {
    /// Wraps an [`io::Error`] with the path and action it concerned.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
