//! `kernbench topology`: print the embedded default spec.

use super::exit;
use anyhow::Result;
use clap::Args;
use kernbench_host::sim::topology::DEFAULT_TOPOLOGY_JSON;

/// Arguments of `kernbench topology`.
#[derive(Debug, Args)]
pub struct TopologyArgs {}

/// Print the embedded default topology JSON.
pub fn topology(_args: TopologyArgs) -> Result<u8> {
    print!("{DEFAULT_TOPOLOGY_JSON}");
    Ok(exit::OK)
}
