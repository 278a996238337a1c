//! Element types, and every name each one goes by (the report's, PyTorch's, nccl-tests').

use core::fmt;

/// Element type of a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "lowercase")
)]
pub enum DType {
    /// IEEE binary32 (`torch.float32`).
    F32,
    /// bfloat16: f32's exponent, 7-bit mantissa (`torch.bfloat16`).
    BF16,
    /// IEEE binary16 (`torch.float16`).
    F16,
    /// Two's-complement 32-bit integer (`torch.int32`).
    I32,
    /// Two's-complement 8-bit integer (`torch.int8`).
    I8,
    /// IEEE binary64 (`torch.float64`).
    F64,
    /// Two's-complement 64-bit integer (`torch.int64`).
    I64,
    /// One byte per element, 0 or 1 (`torch.bool`), for masks.
    Bool,
}

impl DType {
    /// Every type, in declaration order.
    pub const ALL: [DType; 8] = [
        DType::F32,
        DType::BF16,
        DType::F16,
        DType::I32,
        DType::I8,
        DType::F64,
        DType::I64,
        DType::Bool,
    ];

    /// Bytes per element.
    pub const fn itemsize(self) -> u64 {
        match self {
            DType::F64 | DType::I64 => 8,
            DType::F32 | DType::I32 => 4,
            DType::BF16 | DType::F16 => 2,
            DType::I8 | DType::Bool => 1,
        }
    }

    /// Whether this is a floating-point type.
    pub const fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::BF16 | DType::F16 | DType::F64)
    }

    /// The short name the JSON report uses everywhere (`f32`, `bf16` ...), as serde writes it.
    pub const fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::BF16 => "bf16",
            DType::F16 => "f16",
            DType::I32 => "i32",
            DType::I8 => "i8",
            DType::F64 => "f64",
            DType::I64 => "i64",
            DType::Bool => "bool",
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
            DType::F64 => "float64",
            DType::I64 => "int64",
            DType::Bool => "bool",
        }
    }

    /// The name nccl-tests prints and takes in `-d` (`float`, `bfloat16`, `half`, `int32`,
    /// `int8`).
    pub const fn nccl_name(self) -> &'static str {
        match self {
            DType::F32 => "float",
            DType::BF16 => "bfloat16",
            DType::F16 => "half",
            DType::I32 => "int32",
            DType::I8 => "int8",
            DType::F64 => "double",
            DType::I64 => "int64",
            DType::Bool => "bool",
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.torch_name())
    }
}
