//! The measurements. Each pairs the host with its reference inside one run, so the ratio
//! survives a noisy machine; absolute figures are reported beside it.

use crate::baseline::Python;
use crate::stats::{Metric, fmt, median};
use anyhow::{Context, Result, bail};
use kernbench_guest_build::{GuestBuild, build};
use kernbench_host::model::{Policy, RunOptions};
use kernbench_host::report::RunReport;
use kernbench_host::runtime::{BenchEngine, EngineOptions, LoadedBench, instantiate_only};
use kernbench_host::sim::{
    CclConfig, CollectiveCall, DType, DpPolicy, Init, NewTensor, Op, ReduceOp, SimLimits,
    Simulator, Topology, TopologySpec,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Everything the measurements need: built components, the host binary, the baseline.
#[derive(Debug)]
pub struct Env {
    hello: PathBuf,
    calls: PathBuf,
    barrier: PathBuf,
    matmul: PathBuf,
    kernbench: PathBuf,
    cache: PathBuf,
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
        spec.bins = ["perf_calls", "perf_barrier", "perf_matmul", "hello"]
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
        note("building the kernbench binary (release)");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(root)
            .args([
                "build",
                "--release",
                "--quiet",
                "-p",
                "kernbench-host",
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
            kernbench: root.join("target/release/kernbench"),
            cache: root.join("target/perf-cache"),
            python,
            quick,
            machine: machine(),
        })
    }

    fn engine(&self, max_ranks: u32) -> Result<BenchEngine> {
        BenchEngine::new(EngineOptions {
            max_ranks,
            cache_dir: Some(self.cache.clone()),
            ..EngineOptions::default()
        })
    }

    fn scale(&self, full: u64) -> u64 {
        if self.quick { (full / 10).max(1) } else { full }
    }
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

/// Run `bench` on `sips` SIPs with `args`; wall milliseconds of the run.
fn wall_ms(engine: &BenchEngine, bench: &LoadedBench, sips: u32, args: &[String]) -> Result<f64> {
    let mut options = RunOptions::new(topology(sips)?);
    options.args = args.to_vec();
    let report = run(engine, bench, options)?;
    if report.failure.is_some() {
        bail!("perf run failed: {:?}", report.failure);
    }
    Ok(report.host.wall_ms)
}

/// Every metric whose name contains `only`, measured `runs` times.
pub fn all(env: &Env, runs: usize, only: Option<&str>) -> Result<Vec<Metric>> {
    type Measure = fn(&Env, usize) -> Result<Vec<Metric>>;
    let measures: [(&str, Measure); 8] = [
        ("instantiate", instantiate),
        ("host call", host_call),
        ("barrier", barrier),
        ("rss", rss),
        ("largest world", largest_world),
        ("all_reduce", all_reduce),
        ("guest compute", guest_compute),
        ("whole process", whole_process),
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

fn instantiate(env: &Env, runs: usize) -> Result<Vec<Metric>> {
    let n = if env.quick { 128 } else { 1024 };
    let engine = env.engine(n)?;
    let bench = load(&engine, &env.hello)?;
    let options = RunOptions::new(topology(n)?);
    let mut values = Vec::new();
    for _ in 0..runs {
        let t = instantiate_only(&engine, &bench, &options)?;
        values.push(t.as_secs_f64() * 1e6 / f64::from(n));
    }
    Ok(vec![Metric::at_most(
        &format!("instantiate per rank (N={n}, pooling, InstancePre)"),
        10.0,
        "us",
        values,
        None,
    )])
}

fn host_call(env: &Env, runs: usize) -> Result<Vec<Metric>> {
    let engine = env.engine(1)?;
    let bench = load(&engine, &env.calls)?;
    let calls = env.scale(10_000_000);
    let mut values = Vec::new();
    for _ in 0..runs {
        let empty = wall_ms(&engine, &bench, 1, &["0".into()])?;
        let full = wall_ms(&engine, &bench, 1, &[calls.to_string()])?;
        values.push((full - empty) * 1e6 / calls as f64);
    }
    Ok(vec![Metric::at_most(
        "trivial host call (get-rank) from a guest loop",
        60.0,
        "ns",
        values,
        None,
    )])
}

fn barrier(env: &Env, runs: usize) -> Result<Vec<Metric>> {
    let mut out = Vec::new();
    for (n, rounds) in [(8u32, 4000u64), (64, 1000), (512, 100)] {
        let rounds = env.scale(rounds);
        let engine = env.engine(n)?;
        let bench = load(&engine, &env.barrier)?;
        let (mut ratios, mut ours, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            let empty = wall_ms(&engine, &bench, n, &["0".into()])?;
            let full = wall_ms(&engine, &bench, n, &[rounds.to_string()])?;
            let host = (full - empty) * 1e6 / (f64::from(n) * rounds as f64);
            let seed = env
                .python
                .measure(&["barrier", &n.to_string(), &rounds.to_string()])?;
            let greenlet = seed["ns_per_rank_round"]
                .as_f64()
                .context("baseline ns_per_rank_round")?;
            ratios.push(host / greenlet);
            ours.push(host);
            theirs.push(greenlet);
        }
        let reference = format!(
            "host {} ns vs greenlet {} ns per rank per round",
            fmt(median(&ours)),
            fmt(median(&theirs))
        );
        out.push(Metric::at_most(
            &format!("barrier per rank per round, N={n} (vs seed model)"),
            0.25,
            "x",
            ratios,
            Some(reference),
        ));
    }
    Ok(out)
}

/// Child-process entry: run `component` on `sips` SIPs and print wall time and peak RSS.
pub fn run_world_child(component: &Path, sips: u32) -> Result<()> {
    let engine = BenchEngine::new(EngineOptions {
        max_ranks: sips,
        ..EngineOptions::default()
    })?;
    let bench = load(&engine, component)?;
    let started = Instant::now();
    let report: RunReport = run(&engine, &bench, RunOptions::new(topology(sips)?))?;
    let total_ms = started.elapsed().as_secs_f64() * 1e3;
    println!(
        "{}",
        serde_json::json!({
            "ok": report.failure.is_none(),
            "wall_ms": report.host.wall_ms,
            "total_ms": total_ms,
            "peak_rss_bytes": report.host.peak_rss_bytes,
        })
    );
    Ok(())
}

fn child_world(env: &Env, sips: u32) -> Result<serde_json::Value> {
    let exe = std::env::current_exe().context("locating kernbench-perf")?;
    let started = Instant::now();
    let out = Command::new(exe)
        .args(["run-world"])
        .arg(&env.hello)
        .arg(sips.to_string())
        .output()
        .context("running a child world")?;
    let process_ms = started.elapsed().as_secs_f64() * 1e3;
    if !out.status.success() {
        bail!(
            "child world of {sips} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).context("child output")?;
    v["process_ms"] = serde_json::json!(process_ms);
    if v["ok"] != true {
        bail!("child world of {sips} did not end ok");
    }
    Ok(v)
}

fn rss(env: &Env, runs: usize) -> Result<Vec<Metric>> {
    let n = if env.quick { 512 } else { 4096 };
    let mut values = Vec::new();
    for _ in 0..runs {
        let one = child_world(env, 1)?["peak_rss_bytes"]
            .as_f64()
            .context("peak RSS")?;
        let many = child_world(env, n)?["peak_rss_bytes"]
            .as_f64()
            .context("peak RSS")?;
        values.push((many - one) / f64::from(n - 1) / 1024.0);
    }
    Ok(vec![Metric::at_most(
        &format!("RSS per idle rank, N={n} (hello)"),
        64.0,
        "KiB",
        values,
        None,
    )])
}

fn largest_world(env: &Env, runs: usize) -> Result<Vec<Metric>> {
    let n = if env.quick { 1024 } else { 16384 };
    let (mut launch, mut process) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let v = child_world(env, n)?;
        launch.push(v["wall_ms"].as_f64().context("wall_ms")? / 1e3);
        process.push(v["process_ms"].as_f64().context("process_ms")? / 1e3);
    }
    let reference = format!("whole process {} s", fmt(median(&process)));
    Ok(vec![Metric::at_most(
        &format!("{n} ranks of hello: launch and run"),
        2.0,
        "s",
        launch,
        Some(reference),
    )])
}

fn all_reduce(env: &Env, runs: usize) -> Result<Vec<Metric>> {
    let ranks = 8u32;
    let bytes: u64 = if env.quick { 8 << 20 } else { 64 << 20 };
    let limits = SimLimits {
        max_data_bytes_per_run: u64::from(ranks) * bytes * 2,
        ..SimLimits::default()
    };
    let mut sim = Simulator::new(topology(ranks)?, limits, ranks);
    let mut calls = Vec::new();
    for r in 0..ranks {
        let req = NewTensor {
            shape: vec![bytes / 4],
            dtype: DType::F32,
            dp: DpPolicy::SplitRows,
            device: r,
            init: Init::Full(f64::from(r + 1)),
        };
        let id = sim.create(r, req)?;
        let members: Vec<u32> = (0..ranks).collect();
        let op = Op::AllReduce {
            tensor: sim.store.tensor_arg(id)?,
            op: ReduceOp::Sum,
        };
        calls.push((r, CollectiveCall::new(r, 0, &members, op)?));
    }
    let src = vec![1u8; bytes as usize];
    let mut dst = vec![0u8; bytes as usize];
    dst.copy_from_slice(&src); // fault the pages in before timing
    let ccl = CclConfig::default();
    sim.execute_collective(&calls, 0, &ccl)?; // warm-up
    let (mut ratios, mut ours, mut copies) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        sim.execute_collective(&calls, 0, &ccl)?;
        let reduce_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        dst.copy_from_slice(std::hint::black_box(&src));
        let copy_s = t.elapsed().as_secs_f64();
        std::hint::black_box(&dst);
        let reduce_bw = f64::from(ranks) * bytes as f64 / reduce_s / 1e9;
        let copy_bw = bytes as f64 / copy_s / 1e9;
        ratios.push(reduce_bw / copy_bw);
        ours.push(reduce_bw);
        copies.push(copy_bw);
    }
    let mib = bytes >> 20;
    let numpy = env
        .python
        .measure(&["allreduce", &ranks.to_string(), &mib.to_string()])?;
    let reference = format!(
        "reduce {} GB/s vs memcpy {} GB/s (numpy seed model: {} GB/s)",
        fmt(median(&ours)),
        fmt(median(&copies)),
        fmt(numpy["reduced_gbytes_per_s"].as_f64().unwrap_or(f64::NAN))
    );
    Ok(vec![Metric::at_least(
        &format!("all_reduce sum, N={ranks}, {mib} MiB f32: reduction vs memcpy bandwidth"),
        0.7,
        "x",
        ratios,
        Some(reference),
    )])
}

fn guest_compute(env: &Env, runs: usize) -> Result<Vec<Metric>> {
    let engine = env.engine(1)?;
    let bench = load(&engine, &env.matmul)?;
    let iters = if env.quick { 3 } else { 30 };
    let (mut ratios, mut wasm, mut native) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let empty = wall_ms(&engine, &bench, 1, &["256".into(), "0".into()])?;
        let full = wall_ms(&engine, &bench, 1, &["256".into(), iters.to_string()])?;
        let t = Instant::now();
        std::hint::black_box(kernbench_perf_kernels::matmul_loop(
            256,
            std::hint::black_box(iters),
        ));
        let native_ms = t.elapsed().as_secs_f64() * 1e3;
        ratios.push((full - empty) / native_ms);
        wasm.push((full - empty) / f64::from(iters));
        native.push(native_ms / f64::from(iters));
    }
    let reference = format!(
        "wasm {} ms vs native {} ms per 256x256 matmul",
        fmt(median(&wasm)),
        fmt(median(&native))
    );
    Ok(vec![Metric::at_most(
        "guest compute: 256x256 f32 matmul, wasm vs native",
        1.3,
        "x",
        ratios,
        Some(reference),
    )])
}

fn whole_process(env: &Env, runs: usize) -> Result<Vec<Metric>> {
    let time = |cmd: &mut Command| -> Result<f64> {
        let t = Instant::now();
        let out = cmd.output().context("running a process")?;
        if !out.status.success() {
            bail!("process failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(t.elapsed().as_secs_f64() * 1e3)
    };
    let mut kernbench = Command::new(&env.kernbench);
    kernbench
        .arg("run")
        .arg(&env.hello)
        .args(["--sips", "8"])
        .env("KERNBENCH_CACHE_DIR", &env.cache);
    time(&mut kernbench)?; // the component is compiled into the cache once
    let mut python = Command::new(&env.python.exe);
    python.args(["-c", "import greenlet, numpy"]);
    let (mut ratios, mut ours, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let k = time(&mut kernbench)?;
        let p = time(&mut python)?;
        ratios.push(k / p);
        ours.push(k);
        theirs.push(p);
    }
    let reference = format!(
        "kernbench {} ms vs python import {} ms",
        fmt(median(&ours)),
        fmt(median(&theirs))
    );
    Ok(vec![Metric::at_most(
        "`kernbench run hello --sips 8` (cached), whole process, vs `python3 -c \"import greenlet, numpy\"`",
        0.5,
        "x",
        ratios,
        Some(reference),
    )])
}
