//! The elementwise kernels of local tensor ops: `out = a op b` and `data *= factor`.

use super::elem::HalfFloat;
use super::kernels::{half_into, half_map1, map1_assign, map2_into};
use super::{BinaryOp, check_pair, check_whole};
use crate::sim::dtype::DType;
use crate::sim::error::{SimError, invalid};
use half::{bf16, f16};

/// `out = a op b` elementwise. All three buffers must hold the same whole number of elements.
/// Floats follow the per-step rules of the module doc (bf16/f16 compute in f32 and round);
/// integers wrap.
pub fn binary_into(
    dtype: DType,
    op: BinaryOp,
    a: &[u8],
    b: &[u8],
    out: &mut [u8],
) -> Result<(), SimError> {
    check_pair(binary_name(op), dtype, a.len(), b.len())?;
    if out.len() != a.len() {
        return invalid!(
            "{}: output buffer is {} bytes but the operands are {} bytes",
            binary_name(op),
            out.len(),
            a.len()
        );
    }
    match (dtype, op) {
        (DType::F32, BinaryOp::Add) => map2_into::<f32>(a, b, out, |x, y| x + y),
        (DType::F32, BinaryOp::Mul) => map2_into::<f32>(a, b, out, |x, y| x * y),
        (DType::BF16, op) => binary_half::<bf16>(op, a, b, out),
        (DType::F16, op) => binary_half::<f16>(op, a, b, out),
        (DType::I32, BinaryOp::Add) => map2_into::<i32>(a, b, out, i32::wrapping_add),
        (DType::I32, BinaryOp::Mul) => map2_into::<i32>(a, b, out, i32::wrapping_mul),
        (DType::I8, BinaryOp::Add) => map2_into::<i8>(a, b, out, i8::wrapping_add),
        (DType::I8, BinaryOp::Mul) => map2_into::<i8>(a, b, out, i8::wrapping_mul),
        (DType::F64, BinaryOp::Add) => map2_into::<f64>(a, b, out, |x, y| x + y),
        (DType::F64, BinaryOp::Mul) => map2_into::<f64>(a, b, out, |x, y| x * y),
        (DType::I64, BinaryOp::Add) => map2_into::<i64>(a, b, out, i64::wrapping_add),
        (DType::I64, BinaryOp::Mul) => map2_into::<i64>(a, b, out, i64::wrapping_mul),
        // bool + bool is "or", bool * bool is "and", as in PyTorch.
        (DType::Bool, BinaryOp::Add) => {
            map2_into::<u8>(a, b, out, |x, y| u8::from(x != 0 || y != 0))
        }
        (DType::Bool, BinaryOp::Mul) => {
            map2_into::<u8>(a, b, out, |x, y| u8::from(x != 0 && y != 0))
        }
    }
    Ok(())
}

/// `data *= factor` elementwise. Floats multiply in f32 (`factor` rounded to f32 first) and
/// round to the dtype; integers multiply as f64 and convert back truncating toward zero and
/// saturating, as Rust's `as` does (NaN becomes 0).
pub fn scale_assign(dtype: DType, data: &mut [u8], factor: f64) -> Result<(), SimError> {
    check_whole("scale", dtype, data.len())?;
    let f = factor as f32;
    match dtype {
        DType::F32 => map1_assign::<f32>(data, |a| a * f),
        DType::BF16 => half_map1::<bf16>(data, |a| a * f),
        DType::F16 => half_map1::<f16>(data, |a| a * f),
        DType::I32 => map1_assign::<i32>(data, |a| (f64::from(a) * factor) as i32),
        DType::I8 => map1_assign::<i8>(data, |a| (f64::from(a) * factor) as i8),
        DType::F64 => map1_assign::<f64>(data, |a| a * factor),
        DType::I64 => map1_assign::<i64>(data, |a| (a as f64 * factor) as i64),
        DType::Bool => map1_assign::<u8>(data, |a| u8::from(f64::from(a) * factor != 0.0)),
    }
    Ok(())
}

fn binary_name(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "add",
        BinaryOp::Mul => "mul",
    }
}

fn binary_half<T: HalfFloat>(op: BinaryOp, a: &[u8], b: &[u8], out: &mut [u8]) {
    match op {
        BinaryOp::Add => half_into::<T>(a, b, out, |x, y| x + y),
        BinaryOp::Mul => half_into::<T>(a, b, out, |x, y| x * y),
    }
}
