//! Host implementations of the bench world's imports, one module per interface of the
//! newest WIT version, the adapters that answer the frozen 0.1.0 contract with them
//! (`v0_1`), and the conversions between generated WIT types and simulator types.

mod clock;
mod device;
mod distributed;
mod tensors;
mod v0_1;
mod work;

use super::bindings::{v0_1 as wit_v0_1, v0_2 as wit_v0_2};
use super::error::{Abort, HostError};
use super::state::RankState;
use crate::model::{FailureKind, RankFailure};
use crate::sim::{self, SimError};

impl RankState {
    /// What every version's `convert_error` does before naming the error in its own types:
    /// an interrupted host op ends the rank as the deadline does; a guest error is recorded
    /// (the host, not the guest's output, says why a rank failed) and handed back.
    fn guest_error(&mut self, err: HostError) -> wasmtime::Result<SimError> {
        match err {
            HostError::Guest(SimError::Interrupted(message)) => Err(wasmtime::Error::new(
                Abort::new(FailureKind::DeadlineExceeded, message),
            )),
            HostError::Guest(e) => {
                self.last_error = Some(RankFailure::new(FailureKind::from(&e), e.to_string()));
                Ok(e)
            }
            HostError::Trap(trap) => Err(trap),
        }
    }
}

impl wit_v0_2::kernbench::bench::types::Host for RankState {
    fn convert_error(
        &mut self,
        err: HostError,
    ) -> wasmtime::Result<wit_v0_2::kernbench::bench::types::Error> {
        self.guest_error(err).map(Into::into)
    }
}

impl wit_v0_1::kernbench::bench::types::Host for RankState {
    fn convert_error(
        &mut self,
        err: HostError,
    ) -> wasmtime::Result<wit_v0_1::kernbench::bench::types::Error> {
        self.guest_error(err).map(Into::into)
    }
}

/// Conversions between the `types` interface of one WIT version (in scope as `types`) and
/// the simulator's types. Every version's `types` has these shapes; the macro keeps one copy.
macro_rules! type_conversions {
    () => {
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
    };
}

mod conversions_v0_2 {
    use super::sim::{self, SimError};
    use super::wit_v0_2::kernbench::bench::types;
    type_conversions!();

    impl From<types::Dtype> for sim::DType {
        fn from(d: types::Dtype) -> Self {
            match d {
                types::Dtype::F32 => sim::DType::F32,
                types::Dtype::Bf16 => sim::DType::BF16,
                types::Dtype::F16 => sim::DType::F16,
                types::Dtype::I32 => sim::DType::I32,
                types::Dtype::I8 => sim::DType::I8,
                types::Dtype::F64 => sim::DType::F64,
                types::Dtype::I64 => sim::DType::I64,
                types::Dtype::Bool => sim::DType::Bool,
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
                sim::DType::F64 => types::Dtype::F64,
                sim::DType::I64 => types::Dtype::I64,
                sim::DType::Bool => types::Dtype::Bool,
            }
        }
    }
}

mod conversions_v0_1 {
    use super::sim::{self, SimError};
    use super::wit_v0_1::kernbench::bench::types;
    type_conversions!();

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

    /// A 0.1.0 component can only have made tensors of 0.1.0 dtypes; the others have no
    /// 0.1.0 name.
    impl TryFrom<sim::DType> for types::Dtype {
        type Error = SimError;
        fn try_from(d: sim::DType) -> Result<Self, SimError> {
            Ok(match d {
                sim::DType::F32 => types::Dtype::F32,
                sim::DType::BF16 => types::Dtype::Bf16,
                sim::DType::F16 => types::Dtype::F16,
                sim::DType::I32 => types::Dtype::I32,
                sim::DType::I8 => types::Dtype::I8,
                other => {
                    return Err(SimError::Unsupported(format!(
                        "{other} has no kernbench:bench@0.1.0 name"
                    )));
                }
            })
        }
    }
}
