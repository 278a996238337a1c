//! The SIP simulator: topology, CCL config, placement, HBM, tensors, clocks, the cost model
//! and the data semantics of reductions and collectives.
//!
//! Pure Rust with no wasmtime types, so all of it is unit-tested without a component.

pub mod call;
pub mod ccl;
pub mod clock;
pub mod collective;
pub mod comm;
pub mod config_file;
pub mod cost;
pub mod dtype;
pub mod error;
pub mod kernels;
pub mod log;
pub mod memory;
pub mod network;
pub mod ops;
pub mod placement;
pub mod reduce;
pub mod simulator;
pub mod store;
pub mod tensor;
pub mod tensor_ops;
pub mod topology;
pub mod values;

pub use call::{CollectiveCall, Op, TensorArg, ranks_excerpt};
pub use ccl::{Algorithm, CclConfig, CollectiveKind, ResolvedWorldSize, WorldSizeSource};
pub use clock::{ClockReader, Clocks};
pub use cost::{CostModel, DEFAULT_ALGORITHM, LinkClass, Plan, Resource};
pub use dtype::DType;
pub use error::SimError;
pub use log::{
    CollectiveLog, CollectiveRecord, MAX_COLLECTIVE_RECORDS, MAX_SUMMARY_ROWS, SummaryEntry,
    SummaryKey,
};
pub use network::Network;
pub use placement::{DpPolicy, ShardSpec, Span};
pub use reduce::{BinaryOp, ReduceOp};
pub use simulator::Simulator;
pub use store::{Init, NewTensor, SimLimits, TensorId, TensorStore};
pub use tensor_ops::{Arith, Distribution, Reduction, Unary};
pub use topology::{Topology, TopologySpec};
