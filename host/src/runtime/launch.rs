//! Launching a run: resolve the world size (D1), build one store per rank, drive them all on
//! one thread, and turn how each ended into the report.

use super::engine::{BenchEngine, LoadedBench};
use super::error::{FailureKind, IntoAnyhow, RankFailure};
use super::output::CapturedOutput;
use super::state::RankState;
use super::world::{LaunchMode, SharedWorld, World, lock};
use crate::report::{
    HostTimings, RankReport, RankStatus, RunFailure, RunReport, RunStatus, TopologySummary,
};
use crate::sched::executor::TaskFuture;
use crate::sched::rendezvous::describe_scope;
use crate::sched::{Supervisor, TaskEnd, drive};
use crate::sim::ccl::resolve_world_size;
use crate::sim::{CclConfig, SimLimits, Simulator, Topology};
use anyhow::{Context, Result, bail};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::{Store, UpdateDeadline};
use wasmtime_wasi::WasiCtx;

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
    /// Host-side simulator bounds.
    pub sim_limits: SimLimits,
    /// Arguments after the program name, as `sys.argv[1:]`.
    pub args: Vec<String>,
    /// Bytes of stdout and of stderr kept per rank.
    pub output_limit_bytes: usize,
    /// Wall-clock limit for the whole run.
    pub deadline: Option<Duration>,
    /// Instructions each rank may execute (needs an engine built with fuel).
    pub fuel: Option<u64>,
}

impl RunOptions {
    /// Defaults on `topology`: spawn, no CCL settings, 1 MiB of output per stream.
    pub fn new(topology: Topology) -> Self {
        RunOptions {
            topology,
            ccl: CclConfig::default(),
            launch: LaunchMode::Spawn,
            sim_limits: SimLimits::default(),
            args: Vec::new(),
            output_limit_bytes: 1 << 20,
            deadline: None,
            fuel: None,
        }
    }
}

/// Fails the ranks that can never finish once others have exited, and frees what an exited
/// rank still held.
struct RunSupervisor {
    world: SharedWorld,
    doomed: Vec<(usize, RankFailure)>,
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

/// Run `bench` to its end. `Err` only for problems before any rank starts (a world size the
/// topology refuses, an engine too small); everything that happens to ranks is in the report.
pub fn run(engine: &BenchEngine, bench: &LoadedBench, options: RunOptions) -> Result<RunReport> {
    let world_size = resolve_world_size(&options.topology, &options.ccl)?;
    let instances = match options.launch {
        LaunchMode::Spawn => world_size.world_size,
        LaunchMode::Driver => 1,
    };
    let capacity = engine.options().max_ranks;
    if instances > capacity {
        bail!("this engine holds at most {capacity} ranks; the run needs {instances}");
    }
    if options.fuel.is_some() && !engine.options().fuel {
        bail!("a fuel limit needs an engine built with fuel counting");
    }
    let sim = Simulator::new(options.topology.clone(), options.sim_limits, instances);
    let world: SharedWorld = Arc::new(Mutex::new(World::new(
        sim,
        options.ccl.clone(),
        options.launch,
        instances,
    )));
    let rank_world_size = match options.launch {
        LaunchMode::Spawn => world_size.world_size,
        LaunchMode::Driver => 1,
    };

    let started = Instant::now();
    let deadline = options.deadline.map(|d| started + d);
    let mut io = Vec::with_capacity(instances as usize);
    let mut tasks: Vec<TaskFuture<RankFailure>> = Vec::with_capacity(instances as usize);
    for index in 0..instances {
        let stdout = CapturedOutput::new(options.output_limit_bytes);
        let stderr = CapturedOutput::new(options.output_limit_bytes);
        let wasi = wasi_context(
            &bench.name,
            &options,
            index,
            rank_world_size,
            &stdout,
            &stderr,
        );
        let state = RankState::new(
            index,
            options.launch,
            rank_world_size,
            world.clone(),
            wasi,
            stdout.clone(),
            stderr.clone(),
            engine.options().limits,
        );
        let mut store = Store::new(engine.engine(), state);
        store.limiter(|s| s);
        if let Some(fuel) = options.fuel {
            store
                .set_fuel(fuel)
                .into_anyhow()
                .context("setting the fuel budget")?;
        }
        store.epoch_deadline_callback(move |_| match deadline {
            Some(d) if Instant::now() >= d => Err(wasmtime::Error::new(super::error::Abort::new(
                FailureKind::DeadlineExceeded,
                "the run's wall-clock deadline passed while this rank was running",
            ))),
            _ => Ok(UpdateDeadline::Yield(SLICE_TICKS)),
        });
        let pre = bench.pre.clone();
        let err_capture = stderr.clone();
        tasks.push(Box::pin(async move {
            // The time slice starts when the rank first runs, not when its store was made.
            store.set_epoch_deadline(SLICE_TICKS);
            let command = pre.instantiate_async(&mut store).await.map_err(|e| {
                RankFailure::new(
                    FailureKind::Instantiation,
                    format!("instantiating the bench: {e:#}"),
                )
            })?;
            match command.wasi_cli_run().call_run(&mut store).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(())) => Err(RankFailure::main_returned_error(&err_capture.text().text)),
                Err(e) => RankFailure::from_trap(&e, &err_capture.text().text),
            }
        }));
        io.push(RankIo { stdout, stderr });
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .context("starting the async runtime")?;
    let mut supervisor = RunSupervisor {
        world: world.clone(),
        doomed: Vec::new(),
    };
    let ends = runtime.block_on(drive(tasks, &mut supervisor));
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
                        rank,
                        kind: f.kind,
                        message: f.message.clone(),
                    });
                }
                (RankStatus::Failed, Some(f.message), Some(f.kind))
            }
            TaskEnd::Cancelled => {
                let note = match world.rendezvous.waiting().get(&rank) {
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
    // The first failure in time is the one that ended the run; prefer a real failure over a
    // deadlock it caused when both are present.
    if let Some(f) = &failure
        && f.kind == FailureKind::Deadlock
        && let Some(cause) = ranks
            .iter()
            .find(|r| r.error_kind.is_some_and(|k| k != FailureKind::Deadlock))
        && let (Some(kind), Some(message)) = (cause.error_kind, &cause.error)
    {
        failure = Some(RunFailure {
            rank: cause.rank,
            kind,
            message: message.clone(),
        });
    }
    // Report order follows simulated time and rank, never the host's interleaving of ranks.
    let collectives = world.sim.collectives_in_order();
    let mut regions = world.regions.clone();
    regions.sort_by_key(|g| g.rank);
    let mut metrics = world.metrics.clone();
    metrics.sort_by_key(|m| m.rank);
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
        failure,
        ranks,
        collective_summary: crate::report::summarize(&collectives),
        collectives,
        collectives_run: world.sim.collectives_run(),
        regions,
        metrics,
        host: HostTimings { wall_ms },
    })
}

/// WASI for one rank: captured stdio, the torchrun variables and nothing else: no
/// preopened directories, no network, no inherited environment.
fn wasi_context(
    bench: &str,
    options: &RunOptions,
    index: u32,
    world_size: u32,
    stdout: &CapturedOutput,
    stderr: &CapturedOutput,
) -> WasiCtx {
    let mut builder = WasiCtx::builder();
    builder
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .arg(bench)
        .args(&options.args)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    if options.launch == LaunchMode::Spawn {
        let (rank, size) = (index.to_string(), world_size.to_string());
        builder.envs(&[
            ("RANK", rank.as_str()),
            ("WORLD_SIZE", size.as_str()),
            ("LOCAL_RANK", rank.as_str()),
            ("LOCAL_WORLD_SIZE", size.as_str()),
        ]);
    }
    builder.build()
}
