//! `kernbench-perf`: measures the host against the targets of docs/PERFORMANCE.md, each one
//! side by side with its reference (memcpy, native code, the greenlet seed model, a Python
//! start-up) in the same run, because these machines are shared and noisy. Every metric is
//! measured `--runs` times; the table shows the median and the min-max.
//!
//! `cargo run --release -p kernbench-perf` (add `-- --quick` for a smoke run).

mod baseline;
mod measure;
mod stats;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Measure the KernBench host against its performance targets.
#[derive(Debug, Parser)]
#[command(name = "kernbench-perf", about, long_about = None)]
struct Cli {
    /// Repetitions of every measurement (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Smaller sizes and fewer repetitions: checks the harness, not the targets.
    #[arg(long)]
    quick: bool,
    /// Print the results as JSON.
    #[arg(long)]
    json: bool,
    /// Measure only metrics whose name contains this text.
    #[arg(long)]
    only: Option<String>,
    #[command(subcommand)]
    child: Option<Child>,
}

/// Measurements that need a process of their own (peak memory), run by the harness itself.
#[derive(Debug, Subcommand)]
enum Child {
    /// Run a component on N SIPs in this process and print `{"wall_ms":..,"peak_rss_bytes":..}`.
    #[command(hide = true)]
    RunWorld {
        component: PathBuf,
        sips: u32,
        /// Also sample the proportional set size while the world runs (`peak_pss_bytes`).
        #[arg(long)]
        pss: bool,
        /// Take compiled components from (and put them in) this cache.
        #[arg(long)]
        cache: Option<PathBuf>,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    if let Some(Child::RunWorld {
        component,
        sips,
        pss,
        cache,
    }) = cli.child
    {
        return measure::run_world_child(&component, sips, pss, cache);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("perf/ has a parent")?
        .to_path_buf();
    let env = measure::Env::prepare(&root, cli.quick)?;
    let runs = if cli.quick {
        cli.runs.min(2)
    } else {
        cli.runs.max(1)
    };
    let results = measure::all(&env, runs, cli.only.as_deref())?;
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        print!("{}", stats::table(&results, &env.machine));
    }
    Ok(())
}
