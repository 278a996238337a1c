//! `kernbench demo`: the main job in one command. Builds the bundled benches and runs each on
//! the embedded default topology (8 SIPs), printing every report.

use super::bench_source::build_bundled;
use super::exit;
use super::run::{default_cache_dir, load_topology, print_report, run_component};
use crate::runtime::RunOptions;
use anyhow::Result;
use clap::Args;

/// The benches the demo runs, in order: identity, placement, memory limits, the all_reduce
/// sweep (8 B to 1 GiB), a DDP step and a tensor-parallel MLP.
pub const DEMO_BENCHES: &[&str] = &[
    "hello",
    "placement",
    "hbm_oom",
    "all_reduce_perf",
    "ddp_step",
    "tp_mlp",
];

/// Arguments of `kernbench demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Print each report as JSON (one document per line).
    #[arg(long)]
    json: bool,
}

/// Build and run the demo benches; non-zero if any failed.
pub fn demo(args: DemoArgs) -> Result<u8> {
    let names: Vec<String> = DEMO_BENCHES.iter().map(|s| (*s).to_owned()).collect();
    let artifacts = build_bundled(&names)?;
    let mut status = exit::OK;
    for name in DEMO_BENCHES {
        let Some(artifact) = artifacts.iter().find(|a| a.name == *name) else {
            anyhow::bail!("cargo built no component for bundled bench {name}");
        };
        let options = RunOptions::new(load_topology(None, None)?);
        let report = run_component(name, &artifact.path, options, default_cache_dir())?;
        if !args.json {
            println!("==> {name}");
        }
        let code = print_report(&report, args.json);
        if !args.json {
            println!();
        }
        status = status.max(code);
    }
    Ok(status)
}
