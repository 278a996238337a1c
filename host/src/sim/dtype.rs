//! Element types and the conversions PyTorch applies when a scalar fills a tensor.

use half::{bf16, f16};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Element type of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    /// IEEE binary32.
    F32,
    /// bfloat16: f32's exponent, 7-bit mantissa.
    BF16,
    /// IEEE binary16.
    F16,
    /// Two's-complement 32-bit integer.
    I32,
    /// Two's-complement 8-bit integer.
    I8,
}

impl DType {
    /// Bytes per element.
    pub const fn itemsize(self) -> u64 {
        match self {
            DType::F32 | DType::I32 => 4,
            DType::BF16 | DType::F16 => 2,
            DType::I8 => 1,
        }
    }

    /// The short name the JSON report uses everywhere (`f32`, `bf16` ...), as serde writes it.
    pub const fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::BF16 => "bf16",
            DType::F16 => "f16",
            DType::I32 => "i32",
            DType::I8 => "i8",
        }
    }

    /// The PyTorch spelling (`float32`, `bfloat16` ...), used in messages and reports.
    pub const fn torch_name(self) -> &'static str {
        match self {
            DType::F32 => "float32",
            DType::BF16 => "bfloat16",
            DType::F16 => "float16",
            DType::I32 => "int32",
            DType::I8 => "int8",
        }
    }

    /// Short name as nccl-tests prints it (`float`, `bfloat16`, `half`, `int32`, `int8`).
    pub const fn nccl_name(self) -> &'static str {
        match self {
            DType::F32 => "float",
            DType::BF16 => "bfloat16",
            DType::F16 => "half",
            DType::I32 => "int32",
            DType::I8 => "int8",
        }
    }

    /// Little-endian bytes of `value` converted to this type. Floats round to nearest;
    /// integers truncate toward zero and saturate, as Rust's `as` (NaN becomes 0).
    pub fn scalar_bytes(self, value: f64) -> Vec<u8> {
        match self {
            DType::F32 => (value as f32).to_le_bytes().to_vec(),
            DType::BF16 => bf16::from_f64(value).to_le_bytes().to_vec(),
            DType::F16 => f16::from_f64(value).to_le_bytes().to_vec(),
            DType::I32 => (value as i32).to_le_bytes().to_vec(),
            DType::I8 => (value as i8).to_le_bytes().to_vec(),
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.torch_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_convert_like_torch_full() {
        assert_eq!(DType::F32.scalar_bytes(1.5), 1.5f32.to_le_bytes());
        assert_eq!(DType::BF16.scalar_bytes(1.0), [0x80, 0x3f]);
        assert_eq!(DType::F16.scalar_bytes(1.0), [0x00, 0x3c]);
        assert_eq!(DType::I32.scalar_bytes(-2.9), (-2i32).to_le_bytes());
        assert_eq!(DType::I8.scalar_bytes(1000.0), [127]);
    }
}
