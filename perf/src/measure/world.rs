//! Memory and scale, measured in child processes so that each figure is one run's own: the
//! peak RSS of a world and the largest world the host holds.

use super::{Env, load, run, topology};
use crate::stats::{Metric, fmt, median};
use anyhow::{Context, Result, bail};
use kernbench_host::model::RunOptions;
use kernbench_host::report::RunReport;
use kernbench_host::runtime::{BenchEngine, EngineOptions};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

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

pub(super) fn rss(env: &Env, runs: usize) -> Result<Vec<Metric>> {
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

pub(super) fn largest_world(env: &Env, runs: usize) -> Result<Vec<Metric>> {
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
