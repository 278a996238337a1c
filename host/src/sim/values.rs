//! One element of any dtype, read from and written to tensor bytes, in the type PyTorch
//! computes it in: f32, bf16 and f16 in f32 (rounded back to the dtype on write), f64 in f64,
//! integers and bool in i64 (wrapped back to the dtype on write; bool is 0 or 1). The
//! general tensor ops (broadcasting arithmetic, reductions over a dim, conversions) go
//! through here one element at a time, with no temporary copy of the operands.

use super::dtype::DType;
use half::{bf16, f16};

/// An element in its compute type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    /// f32, bf16 and f16, computed in f32.
    F32(f32),
    /// f64.
    F64(f64),
    /// Integers and bool, computed in i64.
    Int(i64),
}

impl Num {
    /// The value as f64 (exact but for i64 beyond 2^53).
    pub fn as_f64(self) -> f64 {
        match self {
            Num::F32(v) => f64::from(v),
            Num::F64(v) => v,
            Num::Int(v) => v as f64,
        }
    }

    /// The value converted into `dtype`'s compute type, as PyTorch's `to(dtype)` converts
    /// (floats to integers truncate toward zero and saturate; anything to bool is `!= 0`).
    pub fn to(self, dtype: DType) -> Num {
        match (class(dtype), self) {
            (Class::F32, Num::F32(v)) => Num::F32(v),
            (Class::F32, Num::F64(v)) => Num::F32(v as f32),
            (Class::F32, Num::Int(v)) => Num::F32(v as f32),
            (Class::F64, n) => Num::F64(n.as_f64()),
            (Class::Int, _) if dtype == DType::Bool => Num::Int(i64::from(self.as_f64() != 0.0)),
            (Class::Int, Num::Int(v)) => Num::Int(v),
            (Class::Int, Num::F32(v)) => Num::Int(v as i64),
            (Class::Int, Num::F64(v)) => Num::Int(v as i64),
        }
    }
}

/// Which compute type a dtype uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// f32, bf16, f16.
    F32,
    /// f64.
    F64,
    /// i8, i32, i64, bool.
    Int,
}

/// The compute type of `dtype`.
pub fn class(dtype: DType) -> Class {
    match dtype {
        DType::F32 | DType::BF16 | DType::F16 => Class::F32,
        DType::F64 => Class::F64,
        DType::I32 | DType::I8 | DType::I64 | DType::Bool => Class::Int,
    }
}

fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[..N]);
    out
}

/// Element `i` of `bytes` (a whole number of `dtype` elements holding at least `i + 1`).
pub fn read(dtype: DType, bytes: &[u8], i: usize) -> Num {
    let size = dtype.itemsize() as usize;
    let b = &bytes[i * size..(i + 1) * size];
    match dtype {
        DType::F32 => Num::F32(f32::from_le_bytes(array(b))),
        DType::BF16 => Num::F32(bf16::from_le_bytes(array(b)).to_f32()),
        DType::F16 => Num::F32(f16::from_le_bytes(array(b)).to_f32()),
        DType::F64 => Num::F64(f64::from_le_bytes(array(b))),
        DType::I32 => Num::Int(i64::from(i32::from_le_bytes(array(b)))),
        DType::I8 => Num::Int(i64::from(b[0] as i8)),
        DType::I64 => Num::Int(i64::from_le_bytes(array(b))),
        DType::Bool => Num::Int(i64::from(b[0] != 0)),
    }
}

/// Write `value` (converted to `dtype` first) as element `i` of `bytes`.
pub fn write(dtype: DType, bytes: &mut [u8], i: usize, value: Num) {
    let size = dtype.itemsize() as usize;
    let b = &mut bytes[i * size..(i + 1) * size];
    match (dtype, value.to(dtype)) {
        (DType::F32, Num::F32(v)) => b.copy_from_slice(&v.to_le_bytes()),
        (DType::BF16, Num::F32(v)) => b.copy_from_slice(&bf16::from_f32(v).to_le_bytes()),
        (DType::F16, Num::F32(v)) => b.copy_from_slice(&f16::from_f32(v).to_le_bytes()),
        (DType::F64, Num::F64(v)) => b.copy_from_slice(&v.to_le_bytes()),
        (DType::I32, Num::Int(v)) => b.copy_from_slice(&(v as i32).to_le_bytes()),
        (DType::I8, Num::Int(v)) => b[0] = v as i8 as u8,
        (DType::I64, Num::Int(v)) => b.copy_from_slice(&v.to_le_bytes()),
        (DType::Bool, Num::Int(v)) => b[0] = u8::from(v != 0),
        // `to(dtype)` always yields dtype's class.
        _ => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_dtype_round_trips_and_rounds_on_write() {
        for dtype in DType::ALL {
            let mut bytes = vec![0u8; dtype.itemsize() as usize * 2];
            write(dtype, &mut bytes, 1, Num::F64(-3.0));
            let back = read(dtype, &bytes, 1).as_f64();
            let expected = match dtype {
                DType::Bool => 1.0,
                _ => -3.0,
            };
            assert_eq!(back, expected, "{dtype}");
            assert_eq!(read(dtype, &bytes, 0).as_f64(), 0.0);
        }
        let mut b = [0u8; 2];
        write(DType::BF16, &mut b, 0, Num::F32(1.0 + 1.0 / 256.0));
        assert_eq!(
            read(DType::BF16, &b, 0),
            Num::F32(1.0),
            "ties round to even"
        );
        let mut i = [0u8; 1];
        write(DType::I8, &mut i, 0, Num::Int(300));
        assert_eq!(read(DType::I8, &i, 0), Num::Int(44), "integers wrap");
        assert_eq!(
            Num::F32(-2.7).to(DType::I32),
            Num::Int(-2),
            "truncates toward zero"
        );
    }
}
