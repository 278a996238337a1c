//! Plain types of the API (dtype, DP policy, reduce op, shard spec), so benches never name a
//! generated type. Dtype, DP policy and reduce op are the host's own (`kernbench-abi`): one
//! definition, with its names, for simulator, SDK and benches.

use crate::wit::types as w;
use std::fmt;

pub use kernbench_abi::{DType, DpPolicy, ReduceOp};

/// Half-open index range `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    /// First index.
    pub start: u64,
    /// One past the last.
    pub end: u64,
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// One shard of a tensor: where it lives and which part it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShardSpec {
    /// SIP.
    pub sip: u32,
    /// Cube in the SIP.
    pub cube: u32,
    /// PE in the cube.
    pub pe: u32,
    /// Rows of the 2-D view.
    pub rows: Span,
    /// Columns of the 2-D view.
    pub cols: Span,
    /// HBM bytes.
    pub bytes: u64,
}

impl fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "(sip {}, cube {}, pe {}) rows {} cols {} ({} B)",
            self.sip, self.cube, self.pe, self.rows, self.cols, self.bytes
        )
    }
}

impl From<DType> for w::Dtype {
    fn from(d: DType) -> Self {
        match d {
            DType::F32 => w::Dtype::F32,
            DType::BF16 => w::Dtype::Bf16,
            DType::F16 => w::Dtype::F16,
            DType::I32 => w::Dtype::I32,
            DType::I8 => w::Dtype::I8,
            DType::F64 => w::Dtype::F64,
            DType::I64 => w::Dtype::I64,
            DType::Bool => w::Dtype::Bool,
        }
    }
}

impl From<w::Dtype> for DType {
    fn from(d: w::Dtype) -> Self {
        match d {
            w::Dtype::F32 => DType::F32,
            w::Dtype::Bf16 => DType::BF16,
            w::Dtype::F16 => DType::F16,
            w::Dtype::I32 => DType::I32,
            w::Dtype::I8 => DType::I8,
            w::Dtype::F64 => DType::F64,
            w::Dtype::I64 => DType::I64,
            w::Dtype::Bool => DType::Bool,
        }
    }
}

impl From<DpPolicy> for w::DpPolicy {
    fn from(p: DpPolicy) -> Self {
        match p {
            DpPolicy::Replicate => w::DpPolicy::Replicate,
            DpPolicy::SplitRows => w::DpPolicy::SplitRows,
            DpPolicy::SplitCols => w::DpPolicy::SplitCols,
            DpPolicy::Blocks => w::DpPolicy::Blocks,
            DpPolicy::Single { cube, pe } => w::DpPolicy::Single(w::PeCoord { cube, pe }),
        }
    }
}

impl From<w::DpPolicy> for DpPolicy {
    fn from(p: w::DpPolicy) -> Self {
        match p {
            w::DpPolicy::Replicate => DpPolicy::Replicate,
            w::DpPolicy::SplitRows => DpPolicy::SplitRows,
            w::DpPolicy::SplitCols => DpPolicy::SplitCols,
            w::DpPolicy::Blocks => DpPolicy::Blocks,
            w::DpPolicy::Single(c) => DpPolicy::Single {
                cube: c.cube,
                pe: c.pe,
            },
        }
    }
}

impl From<ReduceOp> for w::ReduceOp {
    fn from(op: ReduceOp) -> Self {
        match op {
            ReduceOp::Sum => w::ReduceOp::Sum,
            ReduceOp::Avg => w::ReduceOp::Avg,
            ReduceOp::Product => w::ReduceOp::Product,
            ReduceOp::Min => w::ReduceOp::Min,
            ReduceOp::Max => w::ReduceOp::Max,
        }
    }
}

impl From<w::ShardSpec> for ShardSpec {
    fn from(s: w::ShardSpec) -> Self {
        ShardSpec {
            sip: s.sip,
            cube: s.cube,
            pe: s.pe,
            rows: Span {
                start: s.rows.start,
                end: s.rows.end,
            },
            cols: Span {
                start: s.cols.start,
                end: s.cols.end,
            },
            bytes: s.bytes,
        }
    }
}
