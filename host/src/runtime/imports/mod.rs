//! Host implementations of the bench world's imports, one module per interface, plus the
//! conversions between generated WIT types and simulator types.

mod clock;
mod device;
mod distributed;
mod tensors;

use super::bindings::kernbench::bench::types;
use super::error::{Abort, HostError};
use super::state::RankState;
use crate::model::{FailureKind, RankFailure};
use crate::sim::{self, SimError};

impl types::Host for RankState {
    fn convert_error(&mut self, err: HostError) -> wasmtime::Result<types::Error> {
        match err {
            // A host op the deadline interrupted ends the rank, as the deadline does.
            HostError::Guest(SimError::Interrupted(message)) => Err(wasmtime::Error::new(
                Abort::new(FailureKind::DeadlineExceeded, message),
            )),
            HostError::Guest(e) => {
                self.last_error = Some(RankFailure::new(FailureKind::from(&e), e.to_string()));
                Ok(e.into())
            }
            HostError::Trap(trap) => Err(trap),
        }
    }
}

impl From<SimError> for types::Error {
    fn from(err: SimError) -> Self {
        let message = err.to_string();
        match err {
            SimError::InvalidArgument(_) => types::Error::InvalidArgument(message),
            SimError::InvalidDevice(_) => types::Error::InvalidDevice(message),
            SimError::OutOfMemory { .. } => types::Error::OutOfMemory(message),
            SimError::NotInitialized(_) => types::Error::NotInitialized(message),
            SimError::LimitExceeded(_) => types::Error::LimitExceeded(message),
            SimError::Unsupported(_) => types::Error::Unsupported(message),
            // Never reaches a guest (convert_error turns it into a trap); named if it did.
            SimError::Interrupted(_) => types::Error::LimitExceeded(message),
        }
    }
}

impl From<types::Dtype> for sim::DType {
    fn from(d: types::Dtype) -> Self {
        match d {
            types::Dtype::F32 => sim::DType::F32,
            types::Dtype::Bf16 => sim::DType::BF16,
            types::Dtype::F16 => sim::DType::F16,
            types::Dtype::I32 => sim::DType::I32,
            types::Dtype::I8 => sim::DType::I8,
        }
    }
}

impl From<sim::DType> for types::Dtype {
    fn from(d: sim::DType) -> Self {
        match d {
            sim::DType::F32 => types::Dtype::F32,
            sim::DType::BF16 => types::Dtype::Bf16,
            sim::DType::F16 => types::Dtype::F16,
            sim::DType::I32 => types::Dtype::I32,
            sim::DType::I8 => types::Dtype::I8,
        }
    }
}

impl From<types::DpPolicy> for sim::DpPolicy {
    fn from(p: types::DpPolicy) -> Self {
        match p {
            types::DpPolicy::Replicate => sim::DpPolicy::Replicate,
            types::DpPolicy::SplitRows => sim::DpPolicy::SplitRows,
            types::DpPolicy::SplitCols => sim::DpPolicy::SplitCols,
            types::DpPolicy::Blocks => sim::DpPolicy::Blocks,
            types::DpPolicy::Single(c) => sim::DpPolicy::Single {
                cube: c.cube,
                pe: c.pe,
            },
        }
    }
}

impl From<sim::DpPolicy> for types::DpPolicy {
    fn from(p: sim::DpPolicy) -> Self {
        match p {
            sim::DpPolicy::Replicate => types::DpPolicy::Replicate,
            sim::DpPolicy::SplitRows => types::DpPolicy::SplitRows,
            sim::DpPolicy::SplitCols => types::DpPolicy::SplitCols,
            sim::DpPolicy::Blocks => types::DpPolicy::Blocks,
            sim::DpPolicy::Single { cube, pe } => {
                types::DpPolicy::Single(types::PeCoord { cube, pe })
            }
        }
    }
}

impl From<sim::ShardSpec> for types::ShardSpec {
    fn from(s: sim::ShardSpec) -> Self {
        types::ShardSpec {
            sip: s.sip,
            cube: s.cube,
            pe: s.pe,
            rows: types::Span {
                start: s.rows.start,
                end: s.rows.end,
            },
            cols: types::Span {
                start: s.cols.start,
                end: s.cols.end,
            },
            bytes: s.bytes,
        }
    }
}
