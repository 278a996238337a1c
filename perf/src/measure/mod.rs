//! The measurements. Each pairs the host with its reference inside one run, so the ratio
//! survives a noisy machine; absolute figures are reported beside it.
//!
//! This module prepares what they need and runs them; `calls.rs` measures per-use runtime
//! costs, `world.rs` memory and scale in child processes, `work.rs` throughput, `python.rs`
//! what a componentize-py rank costs.

mod calls;
mod python;
mod stackless;
mod work;
mod world;

pub use world::run_world_child;

use calls::{barrier, host_call, instantiate};
use python::python;
use stackless::stackless;
use work::{all_reduce, guest_compute, sweep, threads, whole_process};
use world::{largest_world, rss};

use crate::baseline::Python;
use crate::stats::Metric;
use anyhow::{Context, Result, bail};
use kernbench_guest_build::{GuestBuild, build};
use kernbench_host::model::{Policy, RunOptions};
use kernbench_host::report::RunReport;
use kernbench_host::runtime::{BenchEngine, Codegen, EngineOptions, LoadedBench};
use kernbench_host::sim::{Topology, TopologySpec};
use kernbench_python_build::PythonBuild;
use std::cell::OnceCell;
use std::path::{Path, PathBuf};

/// Everything the measurements need: built components, the host binary, the baseline.
#[derive(Debug)]
pub struct Env {
    hello: PathBuf,
    calls: PathBuf,
    barrier: PathBuf,
    matmul: PathBuf,
    /// `perf_matmul` built without wasm SIMD (the repository's guests are built with it).
    matmul_scalar: PathBuf,
    /// `perf_matmul` built with relaxed SIMD allowed too.
    matmul_relaxed: PathBuf,
    compute: PathBuf,
    sweep: PathBuf,
    /// `benches-py/hello.py`, built with componentize-py when a measure first needs it: the
    /// build needs PyPI once and takes seconds, which the other measures should not pay.
    python_hello: OnceCell<PathBuf>,
    kernbench: PathBuf,
    cache: PathBuf,
    /// The repository (for the prototype in `perf/stackless`).
    root: PathBuf,
    python: Python,
    quick: bool,
    /// CPU model and core count, for the report.
    pub machine: String,
}

fn note(message: &str) {
    println!("# {message}");
}

impl Env {
    /// Build the guests and the host binary (release), and the Python baseline's venv.
    pub fn prepare(root: &Path, quick: bool) -> Result<Env> {
        note("building the perf guests and the bundled benches for wasm32-wasip2 (release)");
        let mut spec = GuestBuild::new(root.join("Cargo.toml"));
        spec.packages = vec!["kernbench-perf-guests".into(), "kernbench-benches".into()];
        spec.bins = [
            "perf_calls",
            "perf_barrier",
            "perf_matmul",
            "perf_compute",
            "hello",
            "all_reduce_perf",
        ]
        .map(String::from)
        .to_vec();
        spec.target_dir = Some(root.join("target/perf-guests"));
        let artifacts = build(&spec, &mut |m| note(m))?;
        let find = |name: &str| {
            artifacts
                .iter()
                .find(|a| a.name == name)
                .map(|a| a.path.clone())
                .with_context(|| format!("no component built for {name}"))
        };
        note("building perf_matmul again without SIMD, and with relaxed SIMD");
        let matmul_scalar = matmul_built_with(root, "scalar", "-simd128")?;
        let matmul_relaxed = matmul_built_with(root, "relaxed", "+simd128,+relaxed-simd")?;
        note("building the kernbench binary (release)");
        let status = kernbench_guest_build::cargo_command(root)
            .args([
                "build",
                "--release",
                "--quiet",
                "-p",
                "kernbench-cli",
                "--bin",
                "kernbench",
            ])
            .status()
            .context("building kernbench")?;
        if !status.success() {
            bail!("building kernbench failed");
        }
        note("preparing the greenlet baseline (venv in target/perf-venv)");
        let python = Python::prepare(root)?;
        Ok(Env {
            hello: find("hello")?,
            calls: find("perf_calls")?,
            barrier: find("perf_barrier")?,
            matmul: find("perf_matmul")?,
            matmul_scalar,
            matmul_relaxed,
            compute: find("perf_compute")?,
            sweep: find("all_reduce_perf")?,
            python_hello: OnceCell::new(),
            kernbench: root.join("target/release/kernbench"),
            cache: root.join("target/perf-cache"),
            root: root.to_path_buf(),
            python,
            quick,
            machine: machine(),
        })
    }

    /// `benches-py/hello.py`'s component, built on first use (its venv in the perf cache).
    fn python_hello(&self) -> Result<&Path> {
        if let Some(path) = self.python_hello.get() {
            return Ok(path);
        }
        note("building benches-py/hello.py with componentize-py (its venv in target/perf-cache)");
        let built = kernbench_python_build::build(
            &PythonBuild {
                bench: self.root.join("benches-py/hello.py"),
                output: Some(self.root.join("target/perf-python/hello.wasm")),
                cache_dir: self.cache.clone(),
            },
            &mut |m| note(m),
        )
        .context("building benches-py/hello.py")?;
        Ok(self.python_hello.get_or_init(|| built.path))
    }

    fn engine(&self, max_ranks: u32) -> Result<BenchEngine> {
        self.engine_with(max_ranks, Codegen::default())
    }

    fn engine_with(&self, max_ranks: u32, codegen: Codegen) -> Result<BenchEngine> {
        BenchEngine::new(EngineOptions {
            max_ranks,
            cache_dir: Some(self.cache.clone()),
            codegen,
            ..EngineOptions::default()
        })
    }

    fn scale(&self, full: u64) -> u64 {
        if self.quick { (full / 10).max(1) } else { full }
    }
}

/// `perf_matmul` built with these wasm target features instead of the repository's, in its
/// own target directory.
fn matmul_built_with(root: &Path, name: &str, features: &str) -> Result<PathBuf> {
    let mut spec = GuestBuild::new(root.join("Cargo.toml"));
    spec.packages = vec!["kernbench-perf-guests".into()];
    spec.bins = vec!["perf_matmul".into()];
    spec.target_dir = Some(root.join(format!("target/perf-guests-{name}")));
    spec.rustflags = vec![format!("-Ctarget-feature={features}")];
    build(&spec, &mut |m| note(m))?
        .into_iter()
        .find(|a| a.name == "perf_matmul")
        .map(|a| a.path)
        .with_context(|| format!("no {name} component built for perf_matmul"))
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores, {}", std::env::consts::OS)
}

fn topology(sips: u32) -> Result<Topology> {
    let mut spec = TopologySpec::embedded_default();
    spec.system.sips.count = sips;
    Ok(spec.validate("perf")?)
}

fn load(engine: &BenchEngine, path: &Path) -> Result<LoadedBench> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(engine.load("perf", &bytes, &Policy::trusted())?)
}

/// Run `bench` and build its report, as `kernbench run` does.
fn run(engine: &BenchEngine, bench: &LoadedBench, options: RunOptions) -> Result<RunReport> {
    let outcome = kernbench_host::runtime::run(engine, bench, options)?;
    Ok(RunReport::from_outcome(outcome))
}

/// Run `bench` on `sips` SIPs with `args` on `threads` worker threads; wall milliseconds of
/// the run.
fn wall_ms(
    engine: &BenchEngine,
    bench: &LoadedBench,
    sips: u32,
    args: &[String],
    threads: usize,
) -> Result<f64> {
    let mut options = RunOptions::new(topology(sips)?);
    options.args = args.to_vec();
    options.threads = threads;
    let report = run(engine, bench, options)?;
    if report.failure.is_some() {
        bail!("perf run failed: {:?}", report.failure);
    }
    Ok(report.host.wall_ms)
}

/// Every metric whose name contains `only`, measured `runs` times.
pub fn all(env: &Env, runs: usize, only: Option<&str>) -> Result<Vec<Metric>> {
    type Measure = fn(&Env, usize) -> Result<Vec<Metric>>;
    let measures: [(&str, Measure); 12] = [
        ("instantiate", instantiate),
        ("host call", host_call),
        ("barrier", barrier),
        ("threads", threads),
        ("rss", rss),
        ("largest world", largest_world),
        ("all_reduce", all_reduce),
        ("guest compute", guest_compute),
        ("sweep", sweep),
        ("whole process", whole_process),
        ("python", python),
        // Last: a second wasmtime build, whose failure should not cost the other rows.
        ("stackless", stackless),
    ];
    let mut out = Vec::new();
    for (name, measure) in measures {
        if only.is_none_or(|o| name.contains(o)) {
            note(&format!("measuring {name}"));
            out.extend(measure(env, runs)?);
        }
    }
    Ok(out)
}
