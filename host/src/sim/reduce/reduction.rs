//! The reductions of the collectives: `acc = acc op x` in member order, and Avg's division.

use super::elem::{HalfFloat, WrappingInt};
use super::kernels::{half_assign, half_map1, half_select, map1_assign, map2_assign};
use super::{ReduceOp, check_pair, check_whole};
use crate::sim::dtype::DType;
use crate::sim::error::{SimError, invalid};
use half::{bf16, f16};

/// `acc = acc op x` elementwise (Avg accumulates as Sum). Both buffers must hold the same
/// whole number of `dtype` elements.
pub fn reduce_assign(dtype: DType, op: ReduceOp, acc: &mut [u8], x: &[u8]) -> Result<(), SimError> {
    check_pair("reduce", dtype, acc.len(), x.len())?;
    match dtype {
        DType::F32 => reduce_f32(op, acc, x),
        DType::BF16 => reduce_half::<bf16>(op, acc, x),
        DType::F16 => reduce_half::<f16>(op, acc, x),
        DType::I32 => reduce_int::<i32>(op, acc, x),
        DType::I8 => reduce_int::<i8>(op, acc, x),
        DType::F64 => reduce_f64(op, acc, x),
        DType::I64 => reduce_int::<i64>(op, acc, x),
        // As PyTorch reduces bool: sum and max are "any", product and min are "all".
        DType::Bool => match op {
            ReduceOp::Sum | ReduceOp::Avg | ReduceOp::Max => {
                map2_assign::<u8>(acc, x, |a, b| u8::from(a != 0 || b != 0))
            }
            ReduceOp::Product | ReduceOp::Min => {
                map2_assign::<u8>(acc, x, |a, b| u8::from(a != 0 && b != 0))
            }
        },
    }
    Ok(())
}

fn reduce_f64(op: ReduceOp, acc: &mut [u8], x: &[u8]) {
    let min = |a: f64, b: f64| !a.is_nan() && (b.is_nan() || b < a);
    let max = |a: f64, b: f64| !a.is_nan() && (b.is_nan() || b > a);
    match op {
        ReduceOp::Sum | ReduceOp::Avg => map2_assign::<f64>(acc, x, |a, b| a + b),
        ReduceOp::Product => map2_assign::<f64>(acc, x, |a, b| a * b),
        ReduceOp::Min => map2_assign::<f64>(acc, x, |a, b| if min(a, b) { b } else { a }),
        ReduceOp::Max => map2_assign::<f64>(acc, x, |a, b| if max(a, b) { b } else { a }),
    }
}

/// `acc += x` elementwise, with the Sum semantics of [`reduce_assign`].
pub fn add_assign(dtype: DType, acc: &mut [u8], x: &[u8]) -> Result<(), SimError> {
    reduce_assign(dtype, ReduceOp::Sum, acc, x)
}

/// Finish an Avg reduction over `n` members: divide every element of `acc` by `n`.
pub fn finish_avg(dtype: DType, acc: &mut [u8], n: u32) -> Result<(), SimError> {
    check_whole("avg", dtype, acc.len())?;
    if n == 0 {
        return invalid!("avg over 0 members is undefined");
    }
    let nf = n as f32;
    let ni = i64::from(n);
    match dtype {
        DType::F32 => map1_assign::<f32>(acc, |a| a / nf),
        DType::BF16 => half_map1::<bf16>(acc, |a| a / nf),
        DType::F16 => half_map1::<f16>(acc, |a| a / nf),
        // |sum| <= 2^31 and n >= 1, so the quotient fits the type again.
        DType::I32 => map1_assign::<i32>(acc, |a| (i64::from(a) / ni) as i32),
        DType::I8 => map1_assign::<i8>(acc, |a| (i64::from(a) / ni) as i8),
        DType::F64 => map1_assign::<f64>(acc, |a| a / f64::from(n)),
        DType::I64 => map1_assign::<i64>(acc, |a| a / ni),
        DType::Bool => {
            return invalid!("avg of bool tensors is undefined: use sum (any) or min (all)");
        }
    }
    Ok(())
}

/// Whether Min replaces the accumulator `a` by the operand `b`: NaN propagates (a NaN
/// accumulator stays, a NaN operand wins), ties keep the accumulator.
#[inline(always)]
pub(super) fn min_takes(a: f32, b: f32) -> bool {
    !a.is_nan() && (b.is_nan() || b < a)
}

/// Whether Max replaces the accumulator `a` by the operand `b` (as [`min_takes`]).
#[inline(always)]
pub(super) fn max_takes(a: f32, b: f32) -> bool {
    !a.is_nan() && (b.is_nan() || b > a)
}

pub(super) fn reduce_f32(op: ReduceOp, acc: &mut [u8], x: &[u8]) {
    match op {
        ReduceOp::Sum | ReduceOp::Avg => map2_assign::<f32>(acc, x, |a, b| a + b),
        ReduceOp::Product => map2_assign::<f32>(acc, x, |a, b| a * b),
        ReduceOp::Min => map2_assign::<f32>(acc, x, |a, b| if min_takes(a, b) { b } else { a }),
        ReduceOp::Max => map2_assign::<f32>(acc, x, |a, b| if max_takes(a, b) { b } else { a }),
    }
}

pub(super) fn reduce_half<T: HalfFloat>(op: ReduceOp, acc: &mut [u8], x: &[u8]) {
    match op {
        ReduceOp::Sum | ReduceOp::Avg => half_assign::<T>(acc, x, |a, b| a + b),
        ReduceOp::Product => half_assign::<T>(acc, x, |a, b| a * b),
        ReduceOp::Min => half_select::<T>(acc, x, min_takes),
        ReduceOp::Max => half_select::<T>(acc, x, max_takes),
    }
}

pub(super) fn reduce_int<T: WrappingInt>(op: ReduceOp, acc: &mut [u8], x: &[u8]) {
    match op {
        ReduceOp::Sum | ReduceOp::Avg => map2_assign::<T>(acc, x, T::wrapping_add),
        ReduceOp::Product => map2_assign::<T>(acc, x, T::wrapping_mul),
        ReduceOp::Min => map2_assign::<T>(acc, x, Ord::min),
        ReduceOp::Max => map2_assign::<T>(acc, x, Ord::max),
    }
}
