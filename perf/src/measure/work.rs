//! Throughput against references: the simulator's all-reduce on real data, guest compute
//! in wasm against native code, and whole `kernbench` processes against the Python baseline.

use super::{Env, load, topology, wall_ms};
use crate::stats::{Metric, fmt, median};
use anyhow::{Context, Result, bail};
use kernbench_host::runtime::{Codegen, OptLevel};
use kernbench_host::sim::{
    CclConfig, CollectiveCall, DType, DpPolicy, Init, NewTensor, Op, ReduceOp, SimLimits, Simulator,
};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

pub(super) fn all_reduce(env: &Env, runs: usize) -> Result<Vec<Metric>> {
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
            tensor: Box::new(sim.store.tensor_arg(id)?),
            op: ReduceOp::Sum,
        };
        calls.push((r, CollectiveCall::new(r, 0, &members, op)?));
    }
    let src = vec![1u8; bytes as usize];
    let mut dst = vec![0u8; bytes as usize];
    dst.copy_from_slice(&src); // fault the pages in before timing
    let ccl = CclConfig::default();
    let arrivals = vec![0; calls.len()];
    sim.execute_collective(&calls, arrivals.clone(), 0, &ccl, &|_| Ok(()))?; // warm-up
    let (mut ratios, mut ours, mut copies) = (Vec::new(), Vec::new(), Vec::new());
    let (mut two_ratios, mut twos) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let mut reduce_s = [0.0; 2];
        for (threads, seconds) in [1, 2].into_iter().zip(&mut reduce_s) {
            sim.store.data_threads = threads;
            let arrivals = arrivals.clone();
            let t = Instant::now();
            sim.execute_collective(&calls, arrivals, 0, &ccl, &|_| Ok(()))?;
            *seconds = t.elapsed().as_secs_f64();
        }
        let [reduce_s, two_s] = reduce_s;
        two_ratios.push(reduce_s / two_s);
        twos.push(f64::from(ranks) * bytes as f64 / two_s / 1e9);
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
    let two_reference = format!(
        "2 threads {} GB/s vs 1 thread {} GB/s",
        fmt(median(&twos)),
        fmt(median(&ours))
    );
    Ok(vec![
        Metric::at_least(
            &format!(
                "all_reduce sum, N={ranks}, {mib} MiB f32, 1 thread: reduction vs memcpy bandwidth"
            ),
            0.7,
            "x",
            ratios,
            Some(reference),
        ),
        Metric::at_least(
            &format!("all_reduce sum, N={ranks}, {mib} MiB f32: reduction on 2 threads vs 1"),
            1.6,
            "x",
            two_ratios,
            Some(two_reference),
        ),
    ])
}

/// A compute-bound bench (guest matmuls between all-reduces, `perf_compute`) on 8 ranks:
/// wall time on 1 thread over wall time on 2.
pub(super) fn threads(env: &Env, runs: usize) -> Result<Vec<Metric>> {
    let n = 8;
    let engine = env.engine(n)?;
    let bench = load(&engine, &env.compute)?;
    let args = [env.scale(10).to_string(), "200".to_owned()];
    let (mut speedups, mut ones, mut twos) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let one = wall_ms(&engine, &bench, n, &args, 1)?;
        let two = wall_ms(&engine, &bench, n, &args, 2)?;
        speedups.push(one / two);
        ones.push(one);
        twos.push(two);
    }
    let reference = format!(
        "1 thread {} ms vs 2 threads {} ms ({} rounds of 200 64x64 matmuls per rank, then an all_reduce)",
        fmt(median(&ones)),
        fmt(median(&twos)),
        args[0]
    );
    Ok(vec![Metric::at_least(
        &format!("compute-bound bench, N={n}: speed-up on 2 threads vs 1"),
        1.8,
        "x",
        speedups,
        Some(reference),
    )])
}

/// `kernbench run all_reduce_perf --sips N -- -b 8 -e 1G` as a child process (real data up
/// to the sweep's default `--check-max` of 1 MiB, every size checked), against the greenlet
/// model doing the same sweep's collectives.
pub(super) fn sweep(env: &Env, runs: usize) -> Result<Vec<Metric>> {
    let cases: &[(u32, f64)] = if env.quick {
        &[(64, 3.0)]
    } else {
        &[(64, 3.0), (512, 30.0)]
    };
    let (max, max_bytes): (&str, u64) = if env.quick {
        ("64M", 64 << 20)
    } else {
        ("1G", 1 << 30)
    };
    let mut out = Vec::new();
    for &(n, limit) in cases {
        let mut cmd = Command::new(&env.kernbench);
        cmd.arg("run")
            .arg(&env.sweep)
            .args(["--sips", &n.to_string(), "--", "-b", "8", "-e", max])
            .env("KERNBENCH_CACHE_DIR", &env.cache);
        time_process(&mut cmd)?; // compile into the cache once
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            ours.push(time_process(&mut cmd)? / 1e3);
            let seed = env.python.measure(&[
                "sweep",
                &n.to_string(),
                &(1u64 << 20).to_string(),
                &max_bytes.to_string(),
            ])?;
            theirs.push(seed["ns"].as_f64().context("baseline sweep ns")? / 1e9);
        }
        let reference = format!(
            "kernbench {} s vs greenlet model {} s for the same sweep's collectives",
            fmt(median(&ours)),
            fmt(median(&theirs))
        );
        out.push(Metric::at_most(
            &format!("sweep wall time: all_reduce_perf --sips {n} -- -b 8 -e {max}, whole process"),
            limit,
            "s",
            ours,
            Some(reference),
        ));
    }
    Ok(out)
}

/// Wall milliseconds of a child process that must succeed.
fn time_process(cmd: &mut Command) -> Result<f64> {
    let t = Instant::now();
    let out = cmd.output().context("running a process")?;
    if !out.status.success() {
        bail!("process failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(t.elapsed().as_secs_f64() * 1e3)
}

/// The 256x256 f32 matmul in the guest against the same kernel compiled natively, with the
/// runs' code generation (guests are built with wasm SIMD, `.cargo/config.toml`) and with
/// each Cranelift or guest-compiler option changed alone.
pub(super) fn guest_compute(env: &Env, runs: usize) -> Result<Vec<Metric>> {
    let variants: [(&str, &Path, Codegen); 6] = [
        ("", &env.matmul, Codegen::default()),
        (
            ", opt level none",
            &env.matmul,
            Codegen {
                opt_level: OptLevel::None,
                ..Codegen::default()
            },
        ),
        (
            ", opt level speed and size",
            &env.matmul,
            Codegen {
                opt_level: OptLevel::SpeedAndSize,
                ..Codegen::default()
            },
        ),
        (
            ", explicit bounds checks",
            &env.matmul,
            Codegen {
                explicit_bounds_checks: true,
                ..Codegen::default()
            },
        ),
        (
            ", guest built without SIMD",
            &env.matmul_scalar,
            Codegen::default(),
        ),
        (
            ", guest built with relaxed SIMD",
            &env.matmul_relaxed,
            Codegen::default(),
        ),
    ];
    let benches = variants
        .iter()
        .map(|(_, path, codegen)| {
            let engine = env.engine_with(1, *codegen)?;
            let bench = load(&engine, path)?;
            Ok((engine, bench))
        })
        .collect::<Result<Vec<_>>>()?;
    let iters = if env.quick { 3 } else { 30 };
    let mut wasm = vec![Vec::new(); variants.len()];
    let mut ratios = vec![Vec::new(); variants.len()];
    let mut native = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        std::hint::black_box(kernbench_perf_kernels::matmul_loop(
            256,
            std::hint::black_box(iters),
        ));
        let native_ms = t.elapsed().as_secs_f64() * 1e3;
        native.push(native_ms / f64::from(iters));
        for (i, (engine, bench)) in benches.iter().enumerate() {
            let empty = wall_ms(engine, bench, 1, &["256".into(), "0".into()], 1)?;
            let full = wall_ms(engine, bench, 1, &["256".into(), iters.to_string()], 1)?;
            ratios[i].push((full - empty) / native_ms);
            wasm[i].push((full - empty) / f64::from(iters));
        }
    }
    Ok(variants
        .iter()
        .zip(ratios.into_iter().zip(&wasm))
        .map(|((label, _, _), (ratios, wasm))| {
            let reference = format!(
                "wasm {} ms vs native {} ms per 256x256 matmul",
                fmt(median(wasm)),
                fmt(median(&native))
            );
            Metric::at_most(
                &format!("guest compute: 256x256 f32 matmul, wasm vs native{label}"),
                2.0,
                "x",
                ratios,
                Some(reference),
            )
        })
        .collect())
}

pub(super) fn whole_process(env: &Env, runs: usize) -> Result<Vec<Metric>> {
    let mut kernbench = Command::new(&env.kernbench);
    kernbench
        .arg("run")
        .arg(&env.hello)
        .args(["--sips", "8"])
        .env("KERNBENCH_CACHE_DIR", &env.cache);
    time_process(&mut kernbench)?; // the component is compiled into the cache once
    let mut python = Command::new(&env.python.exe);
    python.args(["-c", "import greenlet, numpy"]);
    let (mut ratios, mut ours, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let k = time_process(&mut kernbench)?;
        let p = time_process(&mut python)?;
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
