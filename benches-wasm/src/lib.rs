//! Shared code of the bundled benches: an nccl-tests style harness for the collective sweeps
//! and small helpers for exact numerical checks. (Their argument parser is the SDK's
//! `kernbench::args`.)

pub mod check;
pub mod perf;
