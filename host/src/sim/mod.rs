//! The SIP simulator: topology, CCL config, placement, HBM, tensors and clocks.
//!
//! Pure Rust with no wasmtime types, so all of it is unit-tested without a component.

pub mod ccl;
pub mod dtype;
pub mod error;
pub mod memory;
pub mod placement;
pub mod simulator;
pub mod tensor;
pub mod topology;

pub use ccl::{Algorithm, CclConfig, CollectiveKind, ResolvedWorldSize, WorldSizeSource};
pub use dtype::DType;
pub use error::SimError;
pub use placement::{DpPolicy, ShardSpec, Span};
pub use simulator::{Init, NewTensor, SimLimits, Simulator, TensorId};
pub use topology::{Topology, TopologySpec};
