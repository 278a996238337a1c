//! Launching a run: check its limits, build one store per rank, drive them all on the
//! worker threads, and return how each ended ([`RunOutcome`]); the report is built elsewhere.

mod prepare;
mod store;
mod supervisor;

pub use store::SLICE_TICKS;

use super::engine::{BenchEngine, LoadedBench};
use super::error::{IntoAnyhow, classify_trap, main_returned_error};
use super::world::lock;
use crate::model::{FailureKind, RankEnd, RankFailure, RankOutcome, RunOptions, RunOutcome};
use crate::sched::executor::MAX_THREADS;
use crate::sched::executor::TaskFuture;
use crate::sched::rendezvous::describe_scope;
use crate::sched::{TaskEnd, drive};
use anyhow::{Context, Result};
use prepare::prepare;
use std::time::{Duration, Instant};
use store::rank_store;
use supervisor::RunSupervisor;

fn async_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .context("starting the async runtime")
}

/// Build and instantiate every rank of a run without calling `main`, and return how long
/// that took: the launch cost a run pays (for benchmarks).
pub fn instantiate_only(
    engine: &BenchEngine,
    bench: &LoadedBench,
    options: &RunOptions,
) -> Result<Duration> {
    let p = prepare(engine, options, None)?;
    let runtime = async_runtime()?;
    let started = Instant::now();
    let mut stores = Vec::with_capacity(p.instances as usize);
    for index in 0..p.instances {
        let (mut store, _) = rank_store(engine, bench, options, &p, index, None)?;
        store.set_epoch_deadline(SLICE_TICKS);
        runtime
            .block_on(bench.pre.instantiate_async(&mut store))
            .into_anyhow()
            .with_context(|| format!("instantiating rank {index}"))?;
        stores.push(store);
    }
    let elapsed = started.elapsed();
    drop(stores);
    Ok(elapsed)
}

/// Run `bench` to its end. `Err` only for problems before any rank starts (a world size the
/// topology refuses, an engine too small); everything that happens to ranks is in the
/// outcome.
pub fn run(engine: &BenchEngine, bench: &LoadedBench, options: RunOptions) -> Result<RunOutcome> {
    if !(1..=MAX_THREADS).contains(&options.threads) {
        anyhow::bail!(
            "{} worker threads asked for: a run uses 1 to {MAX_THREADS}",
            options.threads
        );
    }
    let started = Instant::now();
    let deadline_ms = options.policy.limits.deadline_ms;
    let deadline = deadline_ms.map(|ms| started + Duration::from_millis(ms));
    let p = prepare(engine, &options, deadline)?;
    let mut io = Vec::with_capacity(p.instances as usize);
    let mut tasks: Vec<TaskFuture<RankFailure>> = Vec::with_capacity(p.instances as usize);
    for index in 0..p.instances {
        let (mut store, rank_io) = rank_store(engine, bench, &options, &p, index, deadline)?;
        let pre = bench.pre.clone();
        let err_capture = rank_io.stderr.clone();
        tasks.push(Box::pin(async move {
            // The time slice starts when the rank first runs, not when its store was made.
            store.set_epoch_deadline(SLICE_TICKS);
            let command = pre.instantiate_async(&mut store).await.map_err(|e| {
                // A limit hit while instantiating (initial memory too large ...) keeps its name.
                match classify_trap(&e, "") {
                    Err(f) if f.kind != FailureKind::Trap => f,
                    _ => RankFailure::new(
                        FailureKind::Instantiation,
                        format!("instantiating the bench: {e:#}"),
                    ),
                }
            })?;
            match command.wasi_cli_run().call_run(&mut store).await {
                // The rank's program is over; its operations in flight still have to end
                // (a deadlock or a failure among them fails the rank).
                Ok(Ok(())) => store
                    .data_mut()
                    .drain_work()
                    .await
                    .map_err(|abort| RankFailure::new(abort.kind, abort.message)),
                Ok(Err(())) => Err(main_returned_error(
                    store.data().last_error.as_ref(),
                    &err_capture.text().text,
                )),
                Err(e) => classify_trap(&e, &err_capture.text().text),
            }
        }));
        io.push(rank_io);
    }

    if let Some(progress) = &options.progress {
        progress.started(p.instances);
    }
    let mut supervisor = RunSupervisor {
        world: p.world.clone(),
        doomed: Vec::new(),
        deadline: deadline_ms.map_or("none".into(), |ms| format!("{ms} ms")),
        instances: p.instances as usize,
        exited: 0,
    };
    let ends = drive(tasks, &mut supervisor, deadline, options.threads)
        .context("starting the worker threads' async runtimes")?;
    let wall_ms = started.elapsed().as_secs_f64() * 1e3;

    let world = lock(&p.world);
    let ranks = ends
        .into_iter()
        .zip(io)
        .enumerate()
        .map(|(index, (end, io))| {
            let rank = index as u32;
            let end = match end {
                TaskEnd::Ok => RankEnd::Ok,
                TaskEnd::Failed(f) => RankEnd::Failed(f),
                TaskEnd::Cancelled => RankEnd::Cancelled {
                    waiting_in: world.rendezvous.pending(rank).map(|w| {
                        format!(
                            "{} (call #{} in {})",
                            w.call,
                            w.seq + 1,
                            describe_scope(w.scope)
                        )
                    }),
                },
            };
            RankOutcome {
                rank,
                end,
                stdout: io.stdout.text(),
                stderr: io.stderr.text(),
                device: world.devices.get(index).copied().flatten(),
                sim_time_ns: world.sim.clocks.get(rank),
            }
        })
        .collect();
    Ok(RunOutcome {
        bench: bench.name.clone(),
        world_size: p.world_size,
        instances: p.instances,
        ranks,
        collectives: world.sim.log.in_order(),
        collectives_run: world.sim.log.run(),
        collective_summary: world.sim.log.summary(),
        regions: world.regions.clone(),
        regions_dropped: world.regions_dropped,
        metrics: world.metrics.clone(),
        backend_aliases: world.backend_aliases.clone(),
        wall_ms,
        options,
    })
}
