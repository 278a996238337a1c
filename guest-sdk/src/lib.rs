//! # KernBench guest SDK
//!
//! Write a bench for the simulated SIP system the way you would write a PyTorch distributed
//! script: initialise the process group, bind your device, create tensors, call collectives.
//! Build it for `wasm32-wasip2` (`kernbench build <crate>`) and run it with `kernbench run`:
//! every rank is its own WebAssembly instance, and rank = SIP.
//!
//! ```no_run
//! use kernbench::torch::{self, distributed as dist, DType, DpPolicy, ReduceOp, Tensor, TensorOptions};
//!
//! fn main() -> Result<(), kernbench::Error> {
//!     dist::init_process_group("ccl")?;
//!     let rank = dist::get_rank()?;
//!     let world = dist::get_world_size()?;
//!     torch::ahbm::set_device(rank)?;
//!
//!     // A 1024 x 1024 f32 tensor split by rows over the cubes and PEs of this rank's SIP.
//!     let opts = TensorOptions::new(DType::F32).dp(DpPolicy::SplitRows);
//!     let mut t = Tensor::full(&[1024, 1024], f64::from(rank), opts)?;
//!     for shard in t.placement() {
//!         println!("rank {rank}: {shard}");
//!     }
//!
//!     dist::all_reduce(&mut t, ReduceOp::Sum)?;
//!     let expected = (0..world).sum::<u32>() as f32;
//!     assert!(t.to_vec_f32()?.iter().all(|&x| x == expected));
//!     dist::barrier()?;
//!     Ok(())
//! }
//! ```
#![deny(missing_docs)]

// The generated bindings of a non-wasm build are stubs that panic with "entered unreachable
// code" at the first host call: refuse to build a bench that way (docs and the SDK's own
// tests opt in with the `native-stubs` feature, see Cargo.toml).
#[cfg(not(any(target_arch = "wasm32", feature = "native-stubs", doc)))]
compile_error!(
    "a KernBench bench runs as a wasm32-wasip2 component, not as a native program: build it \
     with `kernbench build <crate dir>` (or `cargo build --release --target wasm32-wasip2`) \
     and run it with `kernbench run`"
);

mod error;
mod identity;
mod panic;
mod tensor;
mod tensor_ops;
mod types;
mod version;
#[doc(hidden)]
mod wit;

pub mod args;
pub mod clock;
pub mod metrics;
pub mod torch;

pub use error::{Error, ErrorKind, Result};
/// The collectives by name, with nccl-tests' bus-bandwidth factor (the simulator's own).
pub use kernbench_abi::CollectiveKind;
pub use version::{SDK_SECTION, SDK_VERSION, WIT_PACKAGE};
