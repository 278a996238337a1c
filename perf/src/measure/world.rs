//! Memory and scale, measured in child processes so that each figure is one run's own: the
//! peak RSS of a world and the largest world the host holds.

use super::{Env, load, run, topology};
use crate::stats::{Metric, fmt, median};
use anyhow::{Context, Result, bail};
use kernbench_host::model::RunOptions;
use kernbench_host::report::RunReport;
use kernbench_host::runtime::{BenchEngine, EngineOptions};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Child-process entry: run `component` on `sips` SIPs and print wall time and peak RSS,
/// and with `pss` the sampled peak PSS.
pub fn run_world_child(
    component: &Path,
    sips: u32,
    pss: bool,
    cache_dir: Option<PathBuf>,
) -> Result<()> {
    let engine = BenchEngine::new(EngineOptions {
        max_ranks: sips,
        cache_dir,
        ..EngineOptions::default()
    })?;
    let bench = load(&engine, component)?;
    let started = Instant::now();
    let world = || run(&engine, &bench, RunOptions::new(topology(sips)?));
    let (report, pss): (RunReport, Option<PssPeak>) = if pss {
        let (report, peak) = sampling_pss(world);
        (report?, Some(peak?))
    } else {
        (world()?, None)
    };
    let total_ms = started.elapsed().as_secs_f64() * 1e3;
    println!(
        "{}",
        serde_json::json!({
            "ok": report.failure.is_none(),
            "wall_ms": report.host.wall_ms,
            "total_ms": total_ms,
            "peak_rss_bytes": report.host.peak_rss_bytes,
            "peak_pss_bytes": pss.map(|p| p.bytes),
            "pss_samples": pss.map(|p| p.samples),
        })
    );
    Ok(())
}

/// Between two samples of PSS. A sample walks the page tables of the whole world (tens of
/// milliseconds for a thousand Python ranks) and holds the address space's lock meanwhile,
/// so a sampled world runs slower; wall times come from unsampled runs.
const PSS_SAMPLE_PERIOD: Duration = Duration::from_millis(1);

/// The largest PSS sample of a run, and how many samples were taken while it ran.
#[derive(Debug, Clone, Copy)]
struct PssPeak {
    bytes: u64,
    samples: u64,
}

/// Sets the flag when dropped, so the sampler stops even if the world panics (a scoped
/// thread would otherwise keep the scope, and the child, waiting forever).
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Run `f` while a second thread samples this process's proportional set size every
/// `PSS_SAMPLE_PERIOD`; the largest sample. RSS counts a page once for every mapping of
/// it, and every rank maps the component's copy-on-write memory image, so the RSS of a
/// world of N ranks counts the shared image N times; PSS counts each page once. The kernel
/// keeps no peak of PSS, hence the sampling (a peak between two samples is missed).
fn sampling_pss<T>(f: impl FnOnce() -> T) -> (T, Result<PssPeak>) {
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let sampler = scope.spawn(|| -> Result<PssPeak> {
            let mut peak = PssPeak {
                bytes: 0,
                samples: 0,
            };
            while !done.load(Ordering::Relaxed) {
                peak.bytes = peak.bytes.max(pss_bytes()?);
                peak.samples += 1;
                std::thread::sleep(PSS_SAMPLE_PERIOD);
            }
            Ok(peak)
        });
        let out = {
            let _stop = SetOnDrop(&done);
            f()
        };
        let peak = sampler
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the PSS sampler panicked")));
        (out, peak)
    })
}

/// This process's proportional set size (`Pss` of `/proc/self/smaps_rollup`).
fn pss_bytes() -> Result<u64> {
    let rollup = std::fs::read_to_string("/proc/self/smaps_rollup")
        .context("reading /proc/self/smaps_rollup")?;
    rollup
        .lines()
        .find_map(|l| l.strip_prefix("Pss:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|kb| kb.trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .context("no Pss line in /proc/self/smaps_rollup")
}

/// How a child world runs.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct ChildOptions {
    /// Sample its PSS (`peak_pss_bytes`).
    pub pss: bool,
    /// Compiled components from the harness's cache: a Python component takes seconds to
    /// compile, which would otherwise be paid by every child.
    pub cached: bool,
}

/// Run `component` on `sips` SIPs in a child process; its report's figures and the whole
/// process's wall time.
pub(super) fn child_world(
    env: &Env,
    component: &Path,
    sips: u32,
    options: ChildOptions,
) -> Result<serde_json::Value> {
    let exe = std::env::current_exe().context("locating kernbench-perf")?;
    let mut child = Command::new(exe);
    child
        .args(["run-world"])
        .arg(component)
        .arg(sips.to_string());
    if options.pss {
        child.arg("--pss");
    }
    if options.cached {
        child.arg("--cache").arg(&env.cache);
    }
    let started = Instant::now();
    let out = child.output().context("running a child world")?;
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

/// Bytes of peak memory one more rank costs, by each count.
#[derive(Debug, Clone, Copy)]
pub(super) struct PerRank {
    /// By the kernel's RSS (`VmHWM`).
    pub rss: f64,
    /// By PSS, when the children sampled it.
    pub pss: Option<f64>,
}

/// What one more rank of `component` costs: a world of `n` SIPs minus a world of one, over
/// `n - 1`, both figures from the same two children.
pub(super) fn per_rank(
    env: &Env,
    component: &Path,
    n: u32,
    options: ChildOptions,
) -> Result<PerRank> {
    let peaks = |sips| -> Result<(f64, Option<f64>)> {
        let v = child_world(env, component, sips, options)?;
        let rss = v["peak_rss_bytes"]
            .as_f64()
            .with_context(|| format!("peak RSS of a world of {sips}"))?;
        if !options.pss {
            return Ok((rss, None));
        }
        // A world over before its second sample has no peak worth the name.
        if sips > 1 && v["pss_samples"].as_u64().unwrap_or(0) < 2 {
            bail!("a world of {sips} SIPs ended before its PSS was sampled twice");
        }
        let pss = v["peak_pss_bytes"]
            .as_f64()
            .with_context(|| format!("peak PSS of a world of {sips}"))?;
        Ok((rss, Some(pss)))
    };
    let (one, many) = (peaks(1)?, peaks(n)?);
    let per = |one: f64, many: f64| (many - one) / f64::from(n - 1);
    Ok(PerRank {
        rss: per(one.0, many.0),
        pss: one.1.zip(many.1).map(|(a, b)| per(a, b)),
    })
}

pub(super) fn rss(env: &Env, runs: usize) -> Result<Vec<Metric>> {
    let n = if env.quick { 512 } else { 4096 };
    let mut values = Vec::new();
    for _ in 0..runs {
        values.push(per_rank(env, &env.hello, n, ChildOptions::default())?.rss / 1024.0);
    }
    Ok(vec![Metric::at_most(
        &format!("RSS per idle rank, N={n} (hello)"),
        64.0,
        "KiB",
        values,
        None,
    )])
}

pub(super) fn largest_world(env: &Env, runs: usize) -> Result<Vec<Metric>> {
    let n = if env.quick { 1024 } else { 16384 };
    let (mut launch, mut process) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let v = child_world(env, &env.hello, n, ChildOptions::default())?;
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
