//! The stackless-rank prototype (`perf/stackless`, ADR-0017) against the greenlet model:
//! a bare barrier as a callback-lifted component-model-async export, and the same bare
//! barrier stackful, as the runtime waits. Built here, on first use, because it is its own
//! workspace (it needs wasmtime's `component-model-async` feature).

use super::{Env, note};
use crate::stats::{Metric, fmt, median};
use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::Command;

const ROUNDS: [(u32, u64); 3] = [(8, 4000), (64, 1000), (512, 100)];

pub(super) fn stackless(env: &Env, runs: usize) -> Result<Vec<Metric>> {
    let proto = env.root.join("perf/stackless");
    let target = env.root.join("target/stackless");
    note("building the stackless prototype (perf/stackless, its own workspace; release)");
    cargo(
        &proto,
        &target,
        &[
            "--target",
            "wasm32-wasip2",
            "-p",
            "guest-stackless",
            "-p",
            "guest-stackful",
        ],
    )?;
    cargo(&proto, &target, &["-p", "kernbench-stackless"])?;
    let wasm = target.join("wasm32-wasip2/release");
    let ns: Vec<String> = ROUNDS.iter().map(|(n, _)| n.to_string()).collect();
    let out = Command::new(target.join("release/kernbench-stackless"))
        .arg("--stackless")
        .arg(wasm.join("guest_stackless.wasm"))
        .arg("--stackful")
        .arg(wasm.join("guest_stackful.wasm"))
        .args(["--ns", &ns.join(","), "--reps", &runs.to_string(), "--json"])
        .args(["--target-ms", if env.quick { "50" } else { "400" }])
        .output()
        .context("running the stackless prototype")?;
    if !out.status.success() {
        bail!(
            "the stackless prototype failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let rows: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("reading the prototype's JSON")?;
    let figures = |n: u32, variant: &str| -> Result<Vec<f64>> {
        let row = rows["rows"]
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["n"] == n && r["variant"] == variant))
            .with_context(|| format!("the prototype gave no {variant} row at N={n}"))?;
        row["ns_per_rank_round"]
            .as_array()
            .context("ns_per_rank_round")?
            .iter()
            .map(|v| v.as_f64().context("a figure"))
            .collect()
    };
    let mut out = Vec::new();
    for (n, rounds) in ROUNDS {
        let mut greenlet = Vec::new();
        for _ in 0..runs {
            let seed =
                env.python
                    .measure(&["barrier", &n.to_string(), &env.scale(rounds).to_string()])?;
            greenlet.push(
                seed["ns_per_rank_round"]
                    .as_f64()
                    .context("baseline ns_per_rank_round")?,
            );
        }
        for (variant, what) in [
            ("stackless", "stackless prototype, a store per rank"),
            ("stackless-one-store", "stackless prototype, one store"),
            (
                "stackful",
                "stackful bare barrier of the prototype (how the runtime waits)",
            ),
        ] {
            let ours = figures(n, variant)?;
            let ratios = ours.iter().zip(&greenlet).map(|(a, b)| a / b).collect();
            out.push(Metric::at_most(
                &format!("barrier per rank per round, N={n}, {what} (vs seed model)"),
                0.5,
                "x",
                ratios,
                Some(format!(
                    "{variant} {} ns vs greenlet {} ns per rank per round",
                    fmt(median(&ours)),
                    fmt(median(&greenlet))
                )),
            ));
        }
    }
    Ok(out)
}

/// `cargo build --release` in the prototype's workspace, with the outer build's variables
/// left out.
fn cargo(workspace: &Path, target_dir: &Path, args: &[&str]) -> Result<()> {
    let status = kernbench_guest_build::cargo_command(workspace)
        .args(["build", "--release", "--quiet", "--target-dir"])
        .arg(target_dir)
        .args(args)
        .status()
        .context("building the stackless prototype")?;
    if !status.success() {
        bail!("building the stackless prototype failed");
    }
    Ok(())
}
