//! One rank's store: its state, WASI context, resource-table bound, wasm limiter, fuel and
//! time slices.

use super::super::capabilities::{RankWasi, wasi_context};
use super::super::engine::{BenchEngine, LoadedBench};
use super::super::error::IntoAnyhow;
use super::super::output::CapturedOutput;
use super::super::state::RankState;
use super::super::world::lock;
use super::prepare::{Prepared, resource_table_capacity};
use super::supervisor::deadline_abort;
use crate::model::RunOptions;
use anyhow::{Context, Result};
use std::time::Instant;
use wasmtime::{Store, UpdateDeadline};

/// Epoch ticks a rank runs before it yields to the others (a tick is [`EPOCH_TICK`]): long
/// enough that ranks usually reach their next collective within one slice, so interleavings
/// rarely depend on host timing; short enough that a spinning rank never starves the rest.
///
/// [`EPOCH_TICK`]: super::super::engine::EPOCH_TICK
pub const SLICE_TICKS: u64 = 10;

/// A rank's captured streams, kept by the launcher to read after the store is gone.
pub(super) struct RankIo {
    pub stdout: CapturedOutput,
    pub stderr: CapturedOutput,
}

/// Build rank `index`'s store. `deadline` ends the rank at the next epoch tick past it.
pub(super) fn rank_store(
    engine: &BenchEngine,
    bench: &LoadedBench,
    options: &RunOptions,
    p: &Prepared,
    index: u32,
    deadline: Option<Instant>,
) -> Result<(Store<RankState>, RankIo)> {
    let stdout = CapturedOutput::new(p.output_limit);
    let stderr = CapturedOutput::new(p.output_limit);
    let clock = lock(&p.world).sim.clocks.reader(index);
    let wasi = wasi_context(RankWasi {
        program: &bench.name,
        args: &options.args,
        launch: options.launch,
        rank: index,
        world_size: p.rank_world_size,
        seed: options.seed,
        stdout: &stdout,
        stderr: &stderr,
        clock: &clock,
    });
    let mut state = RankState::new(
        index,
        options.launch,
        p.rank_world_size,
        p.world.clone(),
        clock,
        wasi,
        stdout.clone(),
        stderr.clone(),
        p.wasm_limits,
    );
    state
        .table()
        .set_max_capacity(resource_table_capacity(options));
    state.max_ops_in_flight = options.policy.limits.ops_in_flight_per_rank;
    // Not the WASI generators' seed itself: tensors draw from their own stream.
    state.tensor_seed =
        crate::runtime::capabilities::rank_seed(options.seed, index).rotate_left(23);
    let mut store = Store::new(engine.engine(), state);
    store.limiter(|s| s);
    if engine.options().fuel {
        store
            .set_fuel(options.policy.limits.fuel_per_rank.unwrap_or(u64::MAX))
            .into_anyhow()
            .context("setting the fuel budget")?;
    }
    store.epoch_deadline_callback(move |_| match deadline {
        Some(d) if Instant::now() >= d => Err(wasmtime::Error::new(deadline_abort())),
        _ => Ok(UpdateDeadline::Yield(SLICE_TICKS)),
    });
    Ok((store, RankIo { stdout, stderr }))
}
