//! The SDK's error: what the host refused and why, in one readable message.

use crate::wit::types::Error as WitError;
use std::fmt;

/// The kind of a host error; match on it to handle one case (e.g. out of memory).
/// New kinds may be added in later versions, so a `match` needs a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An argument is malformed or out of range.
    InvalidArgument,
    /// A device index outside the system.
    InvalidDevice,
    /// Not enough HBM in a cube for the placement.
    OutOfMemory,
    /// A distributed call came before `init_process_group`.
    NotInitialized,
    /// A sandbox limit (tensor count, buffer size ...) would be exceeded.
    LimitExceeded,
    /// Valid, but not available (e.g. the data of a meta tensor).
    Unsupported,
}

impl ErrorKind {
    fn label(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::InvalidDevice => "invalid device",
            ErrorKind::OutOfMemory => "out of memory",
            ErrorKind::NotInitialized => "not initialized",
            ErrorKind::LimitExceeded => "limit exceeded",
            ErrorKind::Unsupported => "unsupported",
        }
    }
}

/// An error returned by the host (or by the SDK for a bad argument).
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

/// `Result` with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The host's message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.label(), self.message)
    }
}

/// Same as `Display`, so `fn main() -> Result<(), Error>` prints a readable line.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}

impl From<WitError> for Error {
    fn from(e: WitError) -> Self {
        let (kind, message) = match e {
            WitError::InvalidArgument(m) => (ErrorKind::InvalidArgument, m),
            WitError::InvalidDevice(m) => (ErrorKind::InvalidDevice, m),
            WitError::OutOfMemory(m) => (ErrorKind::OutOfMemory, m),
            WitError::NotInitialized(m) => (ErrorKind::NotInitialized, m),
            WitError::LimitExceeded(m) => (ErrorKind::LimitExceeded, m),
            WitError::Unsupported(m) => (ErrorKind::Unsupported, m),
        };
        Error { kind, message }
    }
}
