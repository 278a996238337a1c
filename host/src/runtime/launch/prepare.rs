//! Before any store exists: resolve the world size (D1) and check the policy's run-level
//! limits against the run and the engine, so a run that cannot be held is refused up front.

use super::super::engine::BenchEngine;
use super::super::state::WasmLimits;
use super::super::world::{SharedWorld, World};
use crate::model::{LaunchMode, RunOptions};
use crate::sim::ccl::{ResolvedWorldSize, resolve_world_size};
use crate::sim::error::human_bytes;
use crate::sim::{CollectiveLog, SimLimits, Simulator};
use anyhow::{Result, bail};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What every rank's store is built from, resolved once per run.
pub(super) struct Prepared {
    pub world_size: ResolvedWorldSize,
    pub instances: u32,
    /// `WORLD_SIZE` as each instance sees it (1 for the driver).
    pub rank_world_size: u32,
    pub world: SharedWorld,
    pub wasm_limits: WasmLimits,
    pub output_limit: usize,
}

/// A `u64` limit as a `usize` (saturating: a limit above the address space is no limit).
fn as_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Resolve the world size (D1), apply the policy's run-level limits, build the world.
/// `deadline` is when the run must end (host ops stop there too).
pub(super) fn prepare(
    engine: &BenchEngine,
    options: &RunOptions,
    deadline: Option<Instant>,
) -> Result<Prepared> {
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
        memory_bytes: as_usize(limits.memory_bytes_per_rank),
        table_elements: as_usize(limits.table_elements_per_rank),
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
        max_shards_per_rank: limits.shards_per_rank,
        max_hbm_bytes_per_rank: limits.hbm_bytes_per_rank,
        max_host_flops_per_op: limits.host_flops_per_op,
        max_host_flops_per_run: limits.host_flops_per_run,
        deadline,
    };
    let mut sim = Simulator::new(options.topology.clone(), sim_limits, instances);
    sim.log = CollectiveLog::with_limit(as_usize(limits.collective_records_per_run));
    sim.store.data_threads = options.threads;
    let mut world = World::new(sim, options.ccl.clone(), options.launch, instances);
    world.progress = options.progress.clone();
    world.max_groups = limits.groups_per_run;
    world.max_regions = limits.regions_per_run;
    world.max_metric_series = limits.metric_series_per_run;
    let world = Arc::new(Mutex::new(world));
    Ok(Prepared {
        world_size,
        instances,
        rank_world_size: match options.launch {
            LaunchMode::Spawn => world_size.world_size,
            LaunchMode::Driver => 1,
        },
        world,
        wasm_limits,
        output_limit: as_usize(limits.output_bytes_per_stream),
    })
}

/// The table capacity a rank's resource table gets.
pub(super) fn resource_table_capacity(options: &RunOptions) -> usize {
    as_usize(options.policy.limits.resource_table_entries)
}
