//! `kernbench topology`: print the embedded default spec.

use super::exit;
use crate::sim::topology::DEFAULT_TOPOLOGY_JSON;
use anyhow::Result;
use clap::Args;

/// Arguments of `kernbench topology`.
#[derive(Debug, Args)]
pub struct TopologyArgs {}

/// Print the embedded default topology JSON.
pub fn topology(_args: TopologyArgs) -> Result<u8> {
    print!("{DEFAULT_TOPOLOGY_JSON}");
    Ok(exit::OK)
}
