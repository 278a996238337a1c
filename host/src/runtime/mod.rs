//! The wasmtime side: engine, linker and host imports, per-rank state, and the launcher.

pub mod bindings;
mod engine;
mod error;
mod imports;
mod launch;
mod output;
mod state;
mod world;

pub use engine::{BenchEngine, EngineOptions, LoadedBench};
pub use error::{Abort, FailureKind, HostError, RankFailure};
pub use launch::{RunOptions, run};
pub use output::{CapturedOutput, CapturedText};
pub use state::{RankState, TensorHandle, WasmLimits};
pub use world::{LaunchMode, MetricRecord, RegionRecord};
