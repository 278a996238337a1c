//! The wasmtime side: engine, linker and host imports, per-rank state, and the launcher.

pub mod bindings;
mod capabilities;
mod engine;
mod error;
mod imports;
mod launch;
mod output;
pub mod policy;
mod state;
pub mod validate;
mod world;

pub use engine::{BenchEngine, EngineOptions, LoadedBench};
pub use error::{Abort, FailureKind, HostError, RankFailure};
pub use launch::{RunOptions, instantiate_only, run};
pub use output::{CapturedOutput, CapturedText};
pub use policy::{Limits, Policy};
pub use state::{RankState, TensorHandle, WasmLimits};
pub use validate::{ComponentInfo, LoadError};
pub use world::{LaunchMode, MetricRecord, RegionRecord};
