//! The vocabulary every layer shares, as plain data: what a run is asked to do
//! ([`RunOptions`], [`Policy`]) and how it ended ([`RunOutcome`], [`FailureKind`]).
//!
//! It holds no wasmtime types and no formatting, so the runtime can produce an outcome and
//! the report can read one without either importing the other (ADR-0002's layer arrows).

pub mod failure;
pub mod launch;
pub mod outcome;
pub mod policy;
pub mod progress;
pub mod text;

pub use failure::{FailureKind, LoadError, RankFailure};
pub use launch::{LaunchMode, RunOptions};
pub use outcome::{
    CapturedText, Finished, MetricSeries, RankEnd, RankOutcome, Refusal, RegionRecord, RunOutcome,
};
pub use policy::{Limits, Policy, PolicyError};
pub use progress::{ProgressSnapshot, RunProgress};
