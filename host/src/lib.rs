//! KernBench host: loads a bench component and runs it as N cooperative rank instances on a
//! simulated multi-SIP accelerator.

pub mod checkout;
pub mod model;
pub mod report;
pub mod runtime;
pub mod sched;
pub mod sim;
