//! Element types and the conversions PyTorch applies when a scalar fills a tensor.

use half::{bf16, f16};

pub use kernbench_abi::DType;

/// Little-endian bytes of `value` converted to `dtype`. Floats round to nearest; integers
/// truncate toward zero and saturate, as Rust's `as` (NaN becomes 0).
pub fn scalar_bytes(dtype: DType, value: f64) -> Vec<u8> {
    match dtype {
        DType::F32 => (value as f32).to_le_bytes().to_vec(),
        DType::BF16 => bf16::from_f64(value).to_le_bytes().to_vec(),
        DType::F16 => f16::from_f64(value).to_le_bytes().to_vec(),
        DType::I32 => (value as i32).to_le_bytes().to_vec(),
        DType::I8 => (value as i8).to_le_bytes().to_vec(),
        DType::F64 => value.to_le_bytes().to_vec(),
        DType::I64 => (value as i64).to_le_bytes().to_vec(),
        DType::Bool => vec![u8::from(value != 0.0)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_convert_like_torch_full() {
        assert_eq!(scalar_bytes(DType::F32, 1.5), 1.5f32.to_le_bytes());
        assert_eq!(scalar_bytes(DType::BF16, 1.0), [0x80, 0x3f]);
        assert_eq!(scalar_bytes(DType::F16, 1.0), [0x00, 0x3c]);
        assert_eq!(scalar_bytes(DType::I32, -2.9), (-2i32).to_le_bytes());
        assert_eq!(scalar_bytes(DType::I8, 1000.0), [127]);
    }
}
