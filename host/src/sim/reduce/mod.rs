//! Elementwise arithmetic on little-endian tensor bytes: the reduction operators of the
//! collectives and the kernels of local tensor ops.
//!
//! Collective results must be bit-for-bit reproducible, so the semantics are fixed here
//! rather than left to whatever order or width a fast path happens to use:
//!
//! - **Order.** A reduction over members runs in member (rank) order: the accumulator starts
//!   as member 0's data, then member 1's is combined into it, and so on. The same inputs
//!   always give the same bits.
//! - **f32**: native IEEE f32 operations (no fused multiply-add).
//! - **bf16 / f16**: every step converts both operands to f32, computes in f32, and rounds the
//!   result back to the 16-bit type (round to nearest even, via `half`). This per-step rounding
//!   is what PyTorch's CPU (gloo) path does, where `c10::BFloat16 + c10::BFloat16` computes in
//!   float and rounds the result.
//! - **i32 / i8**: sum and product wrap (two's complement); min and max are exact.
//! - **Min / Max with NaN** propagate NaN, as `torch.minimum` / `torch.maximum` do: if the
//!   accumulator is NaN it stays; otherwise a NaN operand replaces it. Ties (including −0 vs
//!   +0) keep the accumulator, i.e. the lower rank's value. For bf16/f16 the comparison is made
//!   in f32 (exact) and the winning operand is kept unchanged, so min/max never round.
//! - **Avg** accumulates as Sum; [`finish_avg`] then divides by the member count: floats
//!   divide in f32 (n converted to f32, exact up to 2^24) and round once to the dtype; integers
//!   divide the (wrapped) sum truncating toward zero, as NCCL's integer average does. (NCCL
//!   pre-multiplies float inputs by 1/n instead; we divide once, which is the correctly rounded
//!   quotient of the sum.)
//!
//! Speed: each public function matches on (dtype, op) once and then runs one monomorphic
//! loop. When the buffers are aligned for the element type (the simulator's are 8-byte
//! aligned) the loop works on typed slices and auto-vectorizes; misaligned buffers fall back
//! to a chunked `from_le_bytes` loop with identical results. The 16-bit types widen and
//! narrow in chunks of 256 elements through f32 stack buffers: f16 with `half`'s slice
//! conversions (F16C when the CPU has it), bf16 with branch-free copies of `half`'s
//! conversions that vectorize (bit-identical to `half`: checked here over every bf16 and
//! every rounding case, and offline over all 2^32 f32 inputs).

mod binary;
mod elem;
mod kernels;
mod reduction;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

pub use binary::{binary_into, scale_assign};
pub(super) use elem::{Elem, F32Compute};
pub use reduction::{add_assign, finish_avg, reduce_assign};

use super::dtype::DType;
use super::error::{SimError, invalid};
use serde::{Deserialize, Serialize};

pub use kernbench_abi::ReduceOp;

/// An elementwise binary kernel of local tensor ops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinaryOp {
    /// `a + b`.
    Add,
    /// `a * b`.
    Mul,
}

pub(super) fn check_whole(what: &str, dtype: DType, len: usize) -> Result<(), SimError> {
    let item = dtype.itemsize() as usize;
    if !len.is_multiple_of(item) {
        return invalid!(
            "{what}: a buffer of {len} bytes is not a whole number of {dtype} elements ({item} bytes each)"
        );
    }
    Ok(())
}

pub(super) fn check_pair(
    what: &str,
    dtype: DType,
    left: usize,
    right: usize,
) -> Result<(), SimError> {
    if left != right {
        return invalid!("{what}: operands differ in size ({left} bytes vs {right} bytes)");
    }
    check_whole(what, dtype, left)
}
