//! How a rank can fail, by name: the `error_kind` of reports and the reason a run ended.

use crate::sim::SimError;
use serde::Serialize;
use std::fmt;
use thiserror::Error;

/// Named failures, as they appear in reports (`error_kind`) and exit statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// The guest trapped (a panic, `unreachable`, out-of-bounds access, stack overflow ...).
    Trap,
    /// The guest's `main` returned an error or called `exit` with a non-zero status.
    ExitStatus,
    /// Collective calls at the same point of a group disagree.
    CollectiveMismatch,
    /// Waiting ranks can never be released.
    Deadlock,
    /// The per-rank instruction budget ran out.
    FuelExhausted,
    /// The run's wall-clock deadline passed.
    DeadlineExceeded,
    /// Linear memory, tables or instances beyond the per-rank limit.
    MemoryLimit,
    /// The component could not be instantiated.
    Instantiation,
    /// `main` gave up on an `out-of-memory` error: a cube's HBM was full.
    HbmOutOfMemory,
    /// `main` gave up on a `limit-exceeded` error (tensor count, buffer size, HBM per rank ...).
    LimitExceeded,
    /// `main` gave up on an `invalid-argument` error (impossible shape, bad range ...).
    InvalidArgument,
    /// `main` gave up on an `invalid-device` error.
    InvalidDevice,
    /// `main` gave up on a `not-initialized` error (a call before `init_process_group`).
    NotInitialized,
    /// `main` gave up on an `unsupported` error.
    Unsupported,
}

impl FailureKind {
    /// The kebab-case name used in reports.
    pub const fn name(self) -> &'static str {
        match self {
            FailureKind::Trap => "trap",
            FailureKind::ExitStatus => "exit-status",
            FailureKind::CollectiveMismatch => "collective-mismatch",
            FailureKind::Deadlock => "deadlock",
            FailureKind::FuelExhausted => "fuel-exhausted",
            FailureKind::DeadlineExceeded => "deadline-exceeded",
            FailureKind::MemoryLimit => "memory-limit",
            FailureKind::Instantiation => "instantiation",
            FailureKind::HbmOutOfMemory => "hbm-out-of-memory",
            FailureKind::LimitExceeded => "limit-exceeded",
            FailureKind::InvalidArgument => "invalid-argument",
            FailureKind::InvalidDevice => "invalid-device",
            FailureKind::NotInitialized => "not-initialized",
            FailureKind::Unsupported => "unsupported",
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why one rank failed, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankFailure {
    /// The named failure.
    pub kind: FailureKind,
    /// One line: what the host saw, with the end of the rank's stderr quoted.
    pub message: String,
    /// More than fits on a line (a wasm backtrace), for the rank's details.
    pub details: Option<String>,
}

impl RankFailure {
    /// A failure of `kind` with `message`.
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        RankFailure {
            kind,
            message: message.into(),
            details: None,
        }
    }
}

/// Why a component was refused at load.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LoadError {
    /// Not a (well-formed) component.
    #[error("{0}")]
    InvalidComponent(String),
    /// Imports outside the bench world.
    #[error("the component imports {} interface(s) outside the bench world: {}", .0.len(), .0.join(", "))]
    ImportDenied(Vec<String>),
    /// Built for another version of the bench API.
    #[error(
        "the component was built for {built_for}{}; this host speaks {host_speaks}: rebuild it with a matching SDK",
        sdk.as_ref().map(|s| format!(" (SDK {s})")).unwrap_or_default()
    )]
    IncompatibleWitVersion {
        /// `kernbench:bench@x.y.z` from its imports.
        built_for: String,
        /// The SDK version from its stamp, if any.
        sdk: Option<String>,
        /// `kernbench:bench@x.y.z` this host implements.
        host_speaks: String,
    },
    /// No `wasi:cli/run` export.
    #[error("the component does not export wasi:cli/run (exports: {}); a bench is a binary with fn main() built for wasm32-wasip2", if .0.is_empty() { "none".to_owned() } else { .0.join(", ") })]
    MissingExport(Vec<String>),
}

impl LoadError {
    /// The named error (`invalid-component` ...).
    pub fn kind(&self) -> &'static str {
        match self {
            LoadError::InvalidComponent(_) => "invalid-component",
            LoadError::ImportDenied(_) => "import-denied",
            LoadError::IncompatibleWitVersion { .. } => "incompatible-wit-version",
            LoadError::MissingExport(_) => "missing-export",
        }
    }
}

impl From<&SimError> for FailureKind {
    /// The named failure of a simulator error that ends a run (one raised while running a
    /// collective for all its members), by the error's own kind.
    fn from(err: &SimError) -> Self {
        match err {
            SimError::InvalidArgument(_) => FailureKind::InvalidArgument,
            SimError::InvalidDevice(_) => FailureKind::InvalidDevice,
            SimError::OutOfMemory { .. } => FailureKind::HbmOutOfMemory,
            SimError::NotInitialized(_) => FailureKind::NotInitialized,
            SimError::LimitExceeded(_) => FailureKind::LimitExceeded,
            SimError::Unsupported(_) => FailureKind::Unsupported,
            SimError::Interrupted(_) => FailureKind::DeadlineExceeded,
        }
    }
}
