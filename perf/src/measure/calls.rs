//! What the runtime costs per use: instantiating a rank, one host call, one barrier, each
//! against its reference.

use super::{Env, load, topology, wall_ms};
use crate::stats::{Metric, fmt, median};
use anyhow::{Context, Result};
use kernbench_host::model::RunOptions;
use kernbench_host::runtime::instantiate_only;

pub(super) fn instantiate(env: &Env, runs: usize) -> Result<Vec<Metric>> {
    let n = if env.quick { 128 } else { 1024 };
    let options = RunOptions::new(topology(n)?);
    let per_rank = |t: std::time::Duration| t.as_secs_f64() * 1e6 / f64::from(n);
    // An engine kept for several runs (an embedder's, the tests'): after a warm-up run, its
    // pool's slots have been used and freed once.
    let engine = env.engine(n)?;
    let bench = load(&engine, &env.hello)?;
    instantiate_only(&engine, &bench, &options)?;
    let mut reused = Vec::new();
    for _ in 0..runs {
        reused.push(per_rank(instantiate_only(&engine, &bench, &options)?));
    }
    drop((bench, engine));
    // A fresh engine each time, as every `kernbench run` and every service run makes: its
    // pool is new memory, so each rank pays the kernel's first touch of its slots.
    let mut fresh = Vec::new();
    for _ in 0..runs {
        let engine = env.engine(n)?;
        let bench = load(&engine, &env.hello)?;
        fresh.push(per_rank(instantiate_only(&engine, &bench, &options)?));
    }
    Ok(vec![
        Metric::at_most(
            &format!("instantiate per rank (N={n}, pooling, InstancePre, reused engine)"),
            10.0,
            "us",
            reused,
            None,
        ),
        Metric::completes(
            &format!("instantiate per rank (N={n}, pooling, InstancePre, fresh engine)"),
            "us",
            fresh,
            None,
        ),
    ])
}

/// Identity queries (three per iteration, per query) and one trivial host call per iteration,
/// each as (loop of `calls` iterations minus an empty run) / calls.
pub(super) fn host_call(env: &Env, runs: usize) -> Result<Vec<Metric>> {
    let engine = env.engine(1)?;
    let bench = load(&engine, &env.calls)?;
    let calls = env.scale(10_000_000);
    let (mut identity, mut host) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let empty = wall_ms(&engine, &bench, 1, &["0".into()], 1)?;
        let full = wall_ms(
            &engine,
            &bench,
            1,
            &[calls.to_string(), "identity".into()],
            1,
        )?;
        identity.push((full - empty) * 1e6 / (3 * calls) as f64);
        let full = wall_ms(&engine, &bench, 1, &[calls.to_string(), "host".into()], 1)?;
        host.push((full - empty) * 1e6 / calls as f64);
    }
    Ok(vec![
        Metric::at_most(
            "identity call (get_rank, get_world_size, device_count) from a guest loop",
            60.0,
            "ns",
            identity,
            None,
        ),
        Metric::at_most(
            "trivial host call (clock now-ns) from a guest loop",
            60.0,
            "ns",
            host,
            None,
        ),
    ])
}

/// Per rank per round on one thread against the greenlet model, and on two threads
/// against one (a barrier has no work to share, so two threads may only cost).
pub(super) fn barrier(env: &Env, runs: usize) -> Result<Vec<Metric>> {
    let mut out = Vec::new();
    for (n, rounds) in [(8u32, 4000u64), (64, 1000), (512, 100)] {
        let rounds = env.scale(rounds);
        let engine = env.engine(n)?;
        let bench = load(&engine, &env.barrier)?;
        let per_rank_round = |threads: usize| -> Result<f64> {
            let empty = wall_ms(&engine, &bench, n, &["0".into()], threads)?;
            let full = wall_ms(&engine, &bench, n, &[rounds.to_string()], threads)?;
            Ok((full - empty) * 1e6 / (f64::from(n) * rounds as f64))
        };
        let (mut ratios, mut ours, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
        let (mut two_ratios, mut twos) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let host = per_rank_round(1)?;
            let two = per_rank_round(2)?;
            let seed = env
                .python
                .measure(&["barrier", &n.to_string(), &rounds.to_string()])?;
            let greenlet = seed["ns_per_rank_round"]
                .as_f64()
                .context("baseline ns_per_rank_round")?;
            ratios.push(host / greenlet);
            ours.push(host);
            theirs.push(greenlet);
            two_ratios.push(two / host);
            twos.push(two);
        }
        let reference = format!(
            "host {} ns vs greenlet {} ns per rank per round",
            fmt(median(&ours)),
            fmt(median(&theirs))
        );
        out.push(Metric::at_most(
            &format!("barrier per rank per round, N={n}, 1 thread (vs seed model)"),
            0.5,
            "x",
            ratios,
            Some(reference),
        ));
        let reference = format!(
            "2 threads {} ns vs 1 thread {} ns per rank per round",
            fmt(median(&twos)),
            fmt(median(&ours))
        );
        out.push(Metric::at_most(
            &format!("barrier per rank per round, N={n}, 2 threads vs 1"),
            1.1,
            "x",
            two_ratios,
            Some(reference),
        ));
    }
    Ok(out)
}
