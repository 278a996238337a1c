//! KernBench host: loads a bench component and runs it as N cooperative rank instances on a
//! simulated multi-SIP accelerator.

pub mod cli;
pub mod report;
pub mod runtime;
pub mod sched;
pub mod sim;
