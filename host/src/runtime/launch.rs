//! Launching a run: resolve the world size (D1), build one store per rank, drive them all on
//! one thread, and turn how each ended into the report.

use super::capabilities::{RankWasi, wasi_context};
use super::engine::{BenchEngine, LoadedBench};
use super::error::{Abort, FailureKind, IntoAnyhow, RankFailure};
use super::output::CapturedOutput;
use super::policy::Policy;
use super::state::{RankState, WasmLimits};
use super::world::{LaunchMode, SharedWorld, World, lock};
use crate::report::{
    HostTimings, RankReport, RankStatus, RunFailure, RunReport, RunStatus, TopologySummary,
};
use crate::sched::executor::TaskFuture;
use crate::sched::rendezvous::describe_scope;
use crate::sched::{Supervisor, TaskEnd, drive};
use crate::sim::ccl::{ResolvedWorldSize, resolve_world_size};
use crate::sim::error::human_bytes;
use crate::sim::{CclConfig, SimLimits, Simulator, Topology};
use anyhow::{Context, Result, bail};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::{Store, UpdateDeadline};

/// Epoch ticks a rank runs before it yields to the others (a tick is [`EPOCH_TICK`]): long
/// enough that ranks usually reach their next collective within one slice, so interleavings
/// rarely depend on host timing; short enough that a spinning rank never starves the rest.
///
/// [`EPOCH_TICK`]: super::engine::EPOCH_TICK
pub const SLICE_TICKS: u64 = 10;

/// Everything a run needs besides the engine and the bench.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The simulated system.
    pub topology: Topology,
    /// Collective settings (and maybe a world size, D1).
    pub ccl: CclConfig,
    /// Spawn (one instance per rank) or driver (one instance).
    pub launch: LaunchMode,
    /// Every limit of the run.
    pub policy: Policy,
    /// Arguments after the program name, as `sys.argv[1:]`.
    pub args: Vec<String>,
    /// Seed of every rank's random numbers (each rank derives its own stream).
    pub seed: u64,
}

impl RunOptions {
    /// Defaults on `topology`: spawn, no CCL settings, the `trusted` policy, seed 0.
    pub fn new(topology: Topology) -> Self {
        RunOptions {
            topology,
            ccl: CclConfig::default(),
            launch: LaunchMode::Spawn,
            policy: Policy::builtin("trusted").unwrap_or_else(|| unreachable!("built-in profile")),
            args: Vec::new(),
            seed: 0,
        }
    }
}

/// Fails the ranks that can never finish once others have exited, and frees what an exited
/// rank still held.
struct RunSupervisor {
    world: SharedWorld,
    doomed: Vec<(usize, RankFailure)>,
    deadline: String,
}

impl Supervisor<RankFailure> for RunSupervisor {
    fn exited(&mut self, index: usize) {
        let mut world = lock(&self.world);
        world.sim.free_all_of(index as u32);
        let doomed = world.rendezvous.rank_exited(index as u32);
        self.doomed.extend(
            doomed
                .into_iter()
                .map(|(r, message)| (r as usize, RankFailure::new(FailureKind::Deadlock, message))),
        );
    }

    fn expired(&mut self, _index: usize) -> RankFailure {
        RankFailure::new(
            FailureKind::DeadlineExceeded,
            format!(
                "the run's wall-clock deadline ({}) passed before this rank finished",
                self.deadline
            ),
        )
    }

    fn doomed(&mut self) -> Vec<(usize, RankFailure)> {
        let from_arrivals = lock(&self.world).rendezvous.take_doomed();
        self.doomed.extend(
            from_arrivals
                .into_iter()
                .map(|(r, message)| (r as usize, RankFailure::new(FailureKind::Deadlock, message))),
        );
        std::mem::take(&mut self.doomed)
    }
}

struct RankIo {
    stdout: CapturedOutput,
    stderr: CapturedOutput,
}

/// What every rank's store is built from, resolved once per run.
struct Prepared {
    world_size: ResolvedWorldSize,
    instances: u32,
    rank_world_size: u32,
    world: SharedWorld,
    wasm_limits: WasmLimits,
    output_limit: usize,
}

/// Resolve the world size (D1), apply the policy's run-level limits, build the world.
fn prepare(engine: &BenchEngine, options: &RunOptions) -> Result<Prepared> {
    let world_size = resolve_world_size(&options.topology, &options.ccl)?;
    let instances = match options.launch {
        LaunchMode::Spawn => world_size.world_size,
        LaunchMode::Driver => 1,
    };
    let limits = &options.policy.limits;
    if world_size.world_size > limits.max_world_size {
        bail!(
            "world size {} exceeds the {} policy's max_world_size of {}",
            world_size.world_size,
            options.policy.name,
            limits.max_world_size
        );
    }
    if limits.fuel_per_rank.is_some() && !engine.options().fuel {
        bail!(
            "the {} policy sets fuel_per_rank, but this engine does not count fuel",
            options.policy.name
        );
    }
    let capacity = engine.options().max_ranks;
    if instances > capacity {
        bail!("this engine holds at most {capacity} ranks; the run needs {instances}");
    }
    let pool = engine.options().limits;
    let wasm_limits = WasmLimits {
        memory_bytes: usize::try_from(limits.memory_bytes_per_rank).unwrap_or(usize::MAX),
        table_elements: usize::try_from(limits.table_elements_per_rank).unwrap_or(usize::MAX),
        instances: limits.instances_per_rank as usize,
        buffer_bytes: limits.buffer_bytes,
    };
    if wasm_limits.memory_bytes > pool.memory_bytes
        || wasm_limits.table_elements > pool.table_elements
    {
        bail!(
            "the {} policy allows {} of memory and {} table elements per rank, more than this engine's pool ({} and {})",
            options.policy.name,
            human_bytes(limits.memory_bytes_per_rank),
            limits.table_elements_per_rank,
            human_bytes(pool.memory_bytes as u64),
            pool.table_elements
        );
    }
    let sim_limits = SimLimits {
        max_data_bytes_per_run: limits.data_bytes_per_run,
        max_tensors_per_rank: limits.tensors_per_rank,
        max_hbm_bytes_per_rank: limits.hbm_bytes_per_rank,
    };
    let sim = Simulator::new(options.topology.clone(), sim_limits, instances);
    let world = Arc::new(Mutex::new(World::new(
        sim,
        options.ccl.clone(),
        options.launch,
        instances,
    )));
    Ok(Prepared {
        world_size,
        instances,
        rank_world_size: match options.launch {
            LaunchMode::Spawn => world_size.world_size,
            LaunchMode::Driver => 1,
        },
        world,
        wasm_limits,
        output_limit: usize::try_from(limits.output_bytes_per_stream).unwrap_or(usize::MAX),
    })
}

/// One rank's store: its state, WASI context, limiter, fuel and time slices.
fn rank_store(
    engine: &BenchEngine,
    bench: &LoadedBench,
    options: &RunOptions,
    p: &Prepared,
    index: u32,
    deadline: Option<Instant>,
) -> Result<(Store<RankState>, RankIo)> {
    let limits = &options.policy.limits;
    let stdout = CapturedOutput::new(p.output_limit);
    let stderr = CapturedOutput::new(p.output_limit);
    let wasi = wasi_context(RankWasi {
        program: &bench.name,
        args: &options.args,
        launch: options.launch,
        rank: index,
        world_size: p.rank_world_size,
        seed: options.seed,
        stdout: &stdout,
        stderr: &stderr,
        world: &p.world,
    });
    let mut state = RankState::new(
        index,
        options.launch,
        p.rank_world_size,
        p.world.clone(),
        wasi,
        stdout.clone(),
        stderr.clone(),
        p.wasm_limits,
    );
    state
        .table()
        .set_max_capacity(usize::try_from(limits.resource_table_entries).unwrap_or(usize::MAX));
    let mut store = Store::new(engine.engine(), state);
    store.limiter(|s| s);
    if engine.options().fuel {
        store
            .set_fuel(limits.fuel_per_rank.unwrap_or(u64::MAX))
            .into_anyhow()
            .context("setting the fuel budget")?;
    }
    store.epoch_deadline_callback(move |_| match deadline {
        Some(d) if Instant::now() >= d => Err(wasmtime::Error::new(Abort::new(
            FailureKind::DeadlineExceeded,
            "the run's wall-clock deadline passed while this rank was running",
        ))),
        _ => Ok(UpdateDeadline::Yield(SLICE_TICKS)),
    });
    Ok((store, RankIo { stdout, stderr }))
}

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
    let p = prepare(engine, options)?;
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
/// topology refuses, an engine too small); everything that happens to ranks is in the report.
pub fn run(engine: &BenchEngine, bench: &LoadedBench, options: RunOptions) -> Result<RunReport> {
    let p = prepare(engine, &options)?;
    let limits = &options.policy.limits;
    let (world_size, instances, world) = (p.world_size, p.instances, p.world.clone());
    let started = Instant::now();
    let deadline = limits
        .deadline_ms
        .map(|ms| started + Duration::from_millis(ms));
    let mut io = Vec::with_capacity(instances as usize);
    let mut tasks: Vec<TaskFuture<RankFailure>> = Vec::with_capacity(instances as usize);
    for index in 0..instances {
        let (mut store, rank_io) = rank_store(engine, bench, &options, &p, index, deadline)?;
        let pre = bench.pre.clone();
        let err_capture = rank_io.stderr.clone();
        tasks.push(Box::pin(async move {
            // The time slice starts when the rank first runs, not when its store was made.
            store.set_epoch_deadline(SLICE_TICKS);
            let command = pre.instantiate_async(&mut store).await.map_err(|e| {
                // A limit hit while instantiating (initial memory too large ...) keeps its name.
                match RankFailure::from_trap(&e, "") {
                    Err(f) if f.kind != FailureKind::Trap => f,
                    _ => RankFailure::new(
                        FailureKind::Instantiation,
                        format!("instantiating the bench: {e:#}"),
                    ),
                }
            })?;
            match command.wasi_cli_run().call_run(&mut store).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(())) => Err(RankFailure::main_returned_error(&err_capture.text().text)),
                Err(e) => RankFailure::from_trap(&e, &err_capture.text().text),
            }
        }));
        io.push(rank_io);
    }

    let runtime = async_runtime()?;
    let mut supervisor = RunSupervisor {
        world: world.clone(),
        doomed: Vec::new(),
        deadline: limits
            .deadline_ms
            .map_or("none".into(), |ms| format!("{ms} ms")),
    };
    let ends = runtime.block_on(drive(tasks, &mut supervisor, deadline));
    let wall_ms = started.elapsed().as_secs_f64() * 1e3;
    drop(runtime);

    let world = lock(&world);
    let mut failure = None;
    let mut ranks = Vec::with_capacity(ends.len());
    for (index, (end, io)) in ends.into_iter().zip(io).enumerate() {
        let rank = index as u32;
        let (status, error, error_kind) = match end {
            TaskEnd::Ok => (RankStatus::Ok, None, None),
            TaskEnd::Failed(f) => {
                if failure.is_none() {
                    failure = Some(RunFailure {
                        rank: Some(rank),
                        kind: f.kind.name().to_owned(),
                        message: f.message.clone(),
                    });
                }
                (RankStatus::Failed, Some(f.message), Some(f.kind))
            }
            TaskEnd::Cancelled => {
                let note = match world.rendezvous.pending(rank) {
                    Some(p) => format!(
                        "cancelled while waiting in {} (call #{} in {}) because another rank failed",
                        p.call,
                        p.seq + 1,
                        describe_scope(p.scope)
                    ),
                    None => "cancelled because another rank failed".to_owned(),
                };
                (RankStatus::Cancelled, Some(note), None)
            }
        };
        let stdout = io.stdout.text();
        let stderr = io.stderr.text();
        ranks.push(RankReport {
            rank,
            status,
            error,
            error_kind,
            stdout: stdout.text,
            stderr: stderr.text,
            output_truncated_bytes: stdout.truncated_bytes + stderr.truncated_bytes,
            device: world.devices.get(index).copied().flatten(),
            sim_time_ns: world.sim.clock_ns(rank),
        });
    }
    // Failures arrive within one scheduling step (a deadlock fails every waiter at once), so
    // the run's failure is the lowest failed rank, except that a cause other than a deadlock
    // (say, the panic that left others waiting) is preferred over the deadlock it caused.
    if let Some(f) = &failure
        && f.kind == FailureKind::Deadlock.name()
        && let Some(cause) = ranks
            .iter()
            .find(|r| r.error_kind.is_some_and(|k| k != FailureKind::Deadlock))
        && let (Some(kind), Some(message)) = (cause.error_kind, &cause.error)
    {
        failure = Some(RunFailure {
            rank: Some(cause.rank),
            kind: kind.name().to_owned(),
            message: message.clone(),
        });
    }
    // Report order follows simulated time and rank, never the host's interleaving of ranks.
    let collectives = world.sim.collectives_in_order();
    let mut regions = world.regions.clone();
    regions.sort_by_key(|g| g.rank);
    let mut metrics = world.metrics.clone();
    metrics.sort_by_key(|m| m.rank);
    let warnings = ranks
        .iter()
        .filter(|r| r.output_truncated_bytes > 0)
        .map(|r| {
            format!(
                "output-truncated: rank {} wrote {} more than its {} per-stream output limit (output_bytes_per_stream); the middle was dropped",
                r.rank,
                human_bytes(r.output_truncated_bytes),
                human_bytes(limits.output_bytes_per_stream)
            )
        })
        .collect();
    Ok(RunReport {
        status: if failure.is_some() {
            RunStatus::Failed
        } else {
            RunStatus::Ok
        },
        bench: bench.name.clone(),
        launch: options.launch,
        world_size: world_size.world_size,
        world_size_source: world_size.source.to_string(),
        instances,
        topology: TopologySummary::from(&options.topology),
        policy: options.policy.clone(),
        seed: options.seed,
        failure,
        warnings,
        ranks,
        collective_summary: crate::report::summarize(&collectives),
        collectives,
        collectives_run: world.sim.collectives_run(),
        regions,
        metrics,
        host: HostTimings {
            wall_ms,
            peak_rss_bytes: crate::report::peak_rss_bytes(),
        },
    })
}
