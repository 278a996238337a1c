//! What a Python rank costs. A componentize-py component holds CPython (about 19 MB), so a
//! world of them depends on the pooling allocator mapping the component's initial memory
//! image copy-on-write (ADR-0018); each figure stands beside the Rust hello's in this run.

use super::world::{ChildOptions, PerRank, child_world, per_rank};
use super::{Env, load, topology};
use crate::stats::{Metric, fmt, median, min_max};
use anyhow::{Context, Result};
use kernbench_host::model::RunOptions;
use kernbench_host::runtime::{LoadedBench, instantiate_only};

const MIB: f64 = (1 << 20) as f64;
const GIB: f64 = (1 << 30) as f64;

pub(super) fn python(env: &Env, runs: usize) -> Result<Vec<Metric>> {
    let python_hello = env.python_hello()?;
    let n = if env.quick { 32 } else { 256 };
    let sampled = ChildOptions {
        pss: true,
        cached: true,
    };
    // Wall times: the sampler's reads of the page tables slow a big world down.
    let unsampled = ChildOptions {
        pss: false,
        ..sampled
    };
    // Once first: it puts the compiled components in the cache, and a child that compiles
    // would count the compiler's memory as the one-rank world's.
    for component in [python_hello, env.hello.as_path()] {
        child_world(env, component, 1, unsampled)?;
    }
    let (mut pss, mut rss, mut rust_pss) = (Vec::new(), Vec::new(), Vec::new());
    let sampled_pss = |per: PerRank| per.pss.context("a sampled child reports its PSS");
    for _ in 0..runs {
        let python = per_rank(env, python_hello, n, sampled)?;
        pss.push(sampled_pss(python)? / MIB);
        rss.push(python.rss / MIB);
        rust_pss.push(sampled_pss(per_rank(env, &env.hello, n, sampled)?)? / MIB);
    }
    let engine = env.engine(n)?;
    let python = load(&engine, python_hello)?;
    let rust = load(&engine, &env.hello)?;
    let options = RunOptions::new(topology(n)?);
    let per_rank_ms = |bench: &LoadedBench| -> Result<f64> {
        Ok(instantiate_only(&engine, bench, &options)?.as_secs_f64() * 1e3 / f64::from(n))
    };
    let (mut inst, mut rust_inst) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        inst.push(per_rank_ms(&python)?);
        rust_inst.push(per_rank_ms(&rust)?);
    }
    let big = if env.quick { 128 } else { 1024 };
    let (mut wall, mut peak_rss, mut peak_pss) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let v = child_world(env, python_hello, big, unsampled)?;
        wall.push(v["wall_ms"].as_f64().context("wall_ms")? / 1e3);
        peak_rss.push(v["peak_rss_bytes"].as_f64().context("peak RSS")? / GIB);
        let v = child_world(env, python_hello, big, sampled)?;
        peak_pss.push(v["peak_pss_bytes"].as_f64().context("peak PSS")? / GIB);
    }
    Ok(vec![
        Metric::at_most(
            &format!("memory (PSS) per idle Python rank, N={n} (hello.py)"),
            3.0,
            "MiB",
            pss,
            Some(format!(
                "RSS per rank {} MiB (counts the shared image once per rank); Rust hello PSS {} MiB",
                fmt(median(&rss)),
                fmt(median(&rust_pss))
            )),
        ),
        Metric::at_most(
            &format!("instantiate per Python rank, N={n} (hello.py)"),
            1.0,
            "ms",
            inst,
            Some(format!("Rust hello {} ms", fmt(median(&rust_inst)))),
        ),
        Metric::completes(
            &format!("hello.py on {big} SIPs: launch and run"),
            "s",
            wall,
            Some(format!(
                "peak PSS {} GiB ({}); peak RSS {} GiB ({})",
                fmt(median(&peak_pss)),
                min_max(&peak_pss),
                fmt(median(&peak_rss)),
                min_max(&peak_rss)
            )),
        ),
    ])
}
