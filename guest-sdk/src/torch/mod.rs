//! The PyTorch-shaped API: `torch::distributed`, `torch::ahbm`, `torch::accelerator`,
//! `torch::profiler`, and the tensor types.

pub mod accelerator;
pub mod ahbm;
pub mod distributed;
pub mod profiler;

pub use crate::tensor::{Tensor, TensorOptions};
pub use crate::types::{DType, DpPolicy, ReduceOp, ShardSpec, Span};

/// `torch.float32`.
#[allow(non_upper_case_globals)]
pub const float32: DType = DType::F32;
/// `torch.bfloat16`.
#[allow(non_upper_case_globals)]
pub const bfloat16: DType = DType::BF16;
/// `torch.float16`.
#[allow(non_upper_case_globals)]
pub const float16: DType = DType::F16;
/// `torch.int32`.
#[allow(non_upper_case_globals)]
pub const int32: DType = DType::I32;
/// `torch.int8`.
#[allow(non_upper_case_globals)]
pub const int8: DType = DType::I8;
/// `torch.float64`.
#[allow(non_upper_case_globals)]
pub const float64: DType = DType::F64;
/// `torch.int64`.
#[allow(non_upper_case_globals)]
pub const int64: DType = DType::I64;
/// `torch.bool`.
#[allow(non_upper_case_globals)]
pub const bool: DType = DType::Bool;
