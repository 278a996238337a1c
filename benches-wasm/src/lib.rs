//! Shared code of the bundled benches: an nccl-tests style harness for the collective sweeps
//! and small helpers for exact numerical checks.

pub mod args;
pub mod check;
pub mod perf;
