//! The wasmtime side: engine, linker and host imports, per-rank state, and the launcher. It
//! runs a component and returns a [`RunOutcome`](crate::model::RunOutcome); reporting it is
//! the `report` layer's job.

pub mod bindings;
mod capabilities;
mod component;
mod engine;
mod error;
mod imports;
mod launch;
mod output;
mod state;
pub mod validate;
mod world;

pub use component::{read_component, run_component, run_file};
pub use engine::{
    BenchEngine, Codegen, EngineOptions, LoadedBench, OptLevel, WASMTIME_CACHE_SUBDIR,
};
pub use error::{Abort, HostError};
pub use launch::{SLICE_TICKS, instantiate_only, run};
pub use output::CapturedOutput;
pub use state::{RankState, TensorHandle, WasmLimits, WorkHandle};
pub use validate::ComponentInfo;
