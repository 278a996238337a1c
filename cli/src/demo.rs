//! `kernbench demo`: the main job in one command. Builds the bundled benches and runs each on
//! the embedded default topology (8 SIPs), printing every report.

use super::bench_source::build_bundled;
use super::exit;
use super::run::{default_cache_dir, exit_status, load_topology, print_report, run_reported};
use anyhow::Result;
use clap::Args;
use kernbench_host::model::RunOptions;

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
    /// Print each report as JSON, one document per line (JSON Lines).
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
        let report = run_reported(
            name,
            &artifact.path,
            options,
            default_cache_dir(),
            args.json,
        )?;
        let code = if args.json {
            println!("{}", report.to_json_line());
            exit_status(&report)
        } else {
            println!("==> {name}");
            let code = print_report(&report, false);
            println!();
            code
        };
        status = status.max(code);
    }
    if !args.json {
        print!("{NEXT_STEPS}");
    }
    Ok(status)
}

/// Printed after the text reports: where a new user goes from here.
const NEXT_STEPS: &str = "\
next, try:
  kernbench run all_reduce_perf --sips 64 -- -b 1M -e 1G -d bfloat16   a bigger sweep
  kernbench run hello --json                                           one report as JSON
  kernbench run ddp_step --trace ddp.json                              a trace for ui.perfetto.dev
  kernbench topology > my.json; kernbench run hello --topology my.json your own hardware
  kernbench build ../my-bench                                          your own bench (README)
";
