//! `kernbench run`: run one bench component on the simulated system and print its report.

use super::bench_source::resolve;
use super::exit;
use super::progress::{self, ProgressLine};
use anyhow::{Context, Result};
use clap::Args;
use kernbench_host::model::{LaunchMode, Policy, RunOptions, RunProgress};
use kernbench_host::report::{RunReport, RunStatus, render_text};
use kernbench_host::sched::executor::MAX_THREADS;
use kernbench_host::sim::{CclConfig, Topology, TopologySpec};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Arguments of `kernbench run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The bench: a component (.wasm), a Python bench (a .py file or a directory with
    /// bench.py, built on demand) or the name of a bundled bench (built on demand).
    pub bench: String,
    /// Number of SIPs (sets `system.sips.count` of the topology in use, hence the ranks).
    #[arg(long, value_name = "N")]
    pub sips: Option<u32>,
    /// World size override (`defaults.world_size` of the CCL config, D1). It must equal the
    /// SIP count: rank = SIP; the legacy rank = PE mapping is refused.
    #[arg(long, value_name = "N")]
    pub world_size: Option<u32>,
    /// Topology spec (JSON); the embedded default when omitted.
    #[arg(long, value_name = "FILE")]
    pub topology: Option<PathBuf>,
    /// CCL config (JSON): collective defaults and per-collective overrides.
    #[arg(long, value_name = "FILE")]
    pub ccl: Option<PathBuf>,
    /// `spawn`: one instance per rank; `driver`: one instance not bound to a rank.
    #[arg(long, default_value_t = LaunchMode::Spawn, value_parser = parse_launch)]
    pub launch: LaunchMode,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write a Chrome/Perfetto trace of the run (one track per rank) to FILE.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Sandbox policy: `strict`, `trusted`, or a policy file. Default: `trusted` for benches
    /// built from this repository, `strict` for any other component.
    #[arg(long, value_name = "NAME|FILE")]
    pub policy: Option<String>,
    /// Override one limit of the policy, e.g. `--limit fuel_per_rank=1G` (repeatable; `none`
    /// lifts an optional limit). See README "Running untrusted benches".
    #[arg(long = "limit", value_name = "KEY=VALUE")]
    pub limits: Vec<String>,
    /// Wall-clock limit for the whole run, in seconds (the policy's `deadline_ms`).
    #[arg(long, value_name = "SECONDS")]
    pub deadline: Option<f64>,
    /// Seed of the ranks' random numbers (each rank derives its own stream).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Worker threads that drive the ranks (default: the cores available). The report's
    /// simulated times, records and outputs are the same for any count.
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// Directory for compiled components (default: $KERNBENCH_CACHE_DIR, else
    /// $XDG_CACHE_HOME/kernbench, else ~/.cache/kernbench).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Compile the component every time instead of using the cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Arguments passed to the bench (after `--`), as its argv[1..].
    #[arg(last = true)]
    pub args: Vec<String>,
}

fn parse_threads(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_THREADS).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected a number of threads from 1 to {MAX_THREADS}"
        )),
    }
}

fn parse_launch(text: &str) -> Result<LaunchMode, String> {
    text.parse()
}

/// The topology in use: the file or the embedded default, with `--sips` applied, validated.
pub fn load_topology(file: Option<&Path>, sips: Option<u32>) -> Result<Topology> {
    let (spec, origin) = match file {
        Some(path) => (TopologySpec::from_file(path)?, path.display().to_string()),
        None => (
            TopologySpec::embedded_default(),
            "embedded default".to_owned(),
        ),
    };
    let (spec, origin) = match sips {
        Some(n) if n != spec.system.sips.count => {
            (spec.with_sips(n), format!("{origin} with --sips {n}"))
        }
        _ => (spec, origin),
    };
    Ok(spec.validate(&origin)?)
}

/// The CCL config in use, with `--world-size` as `defaults.world_size`.
pub fn load_ccl(file: Option<&Path>, world_size: Option<u32>) -> Result<CclConfig> {
    let mut ccl = match file {
        Some(path) => CclConfig::from_file(path)?,
        None => CclConfig::default(),
    };
    if world_size.is_some() {
        ccl.defaults.world_size = world_size;
    }
    Ok(ccl)
}

/// Where compiled components are cached unless told otherwise.
pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("KERNBENCH_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("kernbench"))
}

/// Run the component at `path` and build its report, with a progress line on a terminal.
pub fn run_reported(
    name: &str,
    path: &Path,
    mut options: RunOptions,
    cache: Option<PathBuf>,
    json: bool,
) -> Result<RunReport> {
    let line = progress::wanted(json).then(|| {
        let counters = Arc::new(RunProgress::default());
        options.progress = Some(counters.clone());
        ProgressLine::start(name, counters)
    });
    let finished = kernbench_host::runtime::run_file(name, path, options, cache);
    if let Some(line) = line {
        line.finish();
    }
    Ok(RunReport::from_finished(finished?))
}

/// Print a report in the chosen format and map its status to the exit status.
pub fn print_report(report: &RunReport, json: bool) -> u8 {
    if json {
        println!("{}", report.to_json());
    } else {
        print!("{}", render_text(report));
    }
    exit_status(report)
}

/// The exit status a report maps to: 0 ok, 1 the run failed, 3 refused at load.
pub fn exit_status(report: &RunReport) -> u8 {
    match (&report.status, &report.failure) {
        (RunStatus::Ok, _) => exit::OK,
        (RunStatus::Failed, Some(f)) if f.rank.is_none() => exit::REFUSED,
        (RunStatus::Failed, _) => exit::RUN_FAILED,
    }
}

/// Run the bench and print its report.
pub fn run(args: RunArgs) -> Result<u8> {
    let topology = load_topology(args.topology.as_deref(), args.sips)?;
    let ccl = load_ccl(args.ccl.as_deref(), args.world_size)?;
    let (name, path) = resolve(&args.bench)?;
    let mut options = RunOptions::new(topology);
    options.ccl = ccl;
    options.launch = args.launch;
    options.args = args.args;
    options.seed = args.seed;
    if let Some(threads) = args.threads {
        options.threads = threads;
    }
    options.policy = match &args.policy {
        Some(profile) => Policy::load(profile)?,
        None => Policy::default_for(&path),
    };
    if let Some(secs) = args.deadline {
        let d = Duration::try_from_secs_f64(secs)
            .with_context(|| format!("--deadline {secs} is not a valid number of seconds"))?;
        options.policy.limits.deadline_ms = Some(u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    }
    for item in &args.limits {
        let (key, value) = item
            .split_once('=')
            .with_context(|| format!("--limit {item}: expected KEY=VALUE"))?;
        options.policy.limits.set(key.trim(), value.trim())?;
    }
    let cache = if args.no_cache {
        None
    } else {
        args.cache_dir.or_else(default_cache_dir)
    };
    // Open the trace file before the run: a path that cannot be written fails at once,
    // not after a long run.
    let trace = match &args.trace {
        Some(path) => Some((
            File::create(path)
                .with_context(|| format!("--trace {}: cannot create the file", path.display()))?,
            path,
        )),
        None => None,
    };
    let report = run_reported(&name, &path, options, cache, args.json)?;
    let code = print_report(&report, args.json);
    // The report is printed first, so a failing trace write never loses it.
    if let Some((file, path)) = trace {
        write_trace(&report, file, path)?;
    }
    Ok(code)
}

/// Write the run's trace-event JSON to `file` (at `path`, for messages).
pub fn write_trace(report: &RunReport, mut file: File, path: &Path) -> Result<()> {
    let json = serde_json::to_vec(&kernbench_host::report::trace_events(report))
        .context("serializing the trace")?;
    file.write_all(&json)
        .and_then(|()| file.flush())
        .with_context(|| format!("writing the trace to {}", path.display()))
}
