//! One wasmtime `Engine` per process, configured for many small cooperative instances:
//! pooling allocator sized from the largest world it must hold, async calls with epoch yields
//! (a busy rank cannot starve the others), no component-model concurrency (it makes every host
//! call 2-4x slower and benches do not use it), and an on-disk cache of compiled components.

use super::bindings::{v0_1, v0_2};
use super::error::IntoAnyhow;
use super::state::{RankState, WasmLimits};
use crate::model::{LoadError, Policy};
use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;
pub use wasmtime::OptLevel;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};
use wasmtime_wasi::p2::bindings::CommandPre;

/// How often the epoch advances; each tick lets a running rank yield to the others.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Largest world served by the pooling allocator; bigger worlds allocate on demand (see
/// [`BenchEngine::new`]).
pub const POOLING_MAX_RANKS: u32 = 4096;

/// Core instances one rank's component may create (a Rust guest needs about three).
const CORE_INSTANCES_PER_RANK: u32 = 4;

/// Bytes of a freed pooled table that are zeroed and kept in memory rather than handed back
/// to the kernel: instantiating into a slot whose pages were given back faults them in
/// again (about a fifth of a reused slot's instantiation, ADR-0011 item 9). A Rust guest's
/// tables hold about 150 entries (a page). Bounded: at most this much of what a table used
/// stays resident per table slot, so at most `total_tables` times it for the pool, while
/// the engine lives.
const TABLE_KEEP_RESIDENT: usize = 16 << 10;

/// Settings fixed when the engine is created: the pool's upper bounds. A run's policy may
/// be tighter, never looser.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Most ranks one run on this engine may have.
    pub max_ranks: u32,
    /// Per-rank wasm limits.
    pub limits: WasmLimits,
    /// Directory for compiled components; `None` compiles every time.
    pub cache_dir: Option<PathBuf>,
    /// Count fuel (instructions) so a policy can set `fuel_per_rank`. Costs guest compute
    /// time in tight loops, so engines for policies without a fuel limit leave it off.
    pub fuel: bool,
    /// How Cranelift compiles guest code.
    pub codegen: Codegen,
}

/// Code generation choices. Runs use the defaults; the perf harness varies them one at a
/// time to report what each moves (docs/PERFORMANCE.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Codegen {
    /// Cranelift's optimization level (`Speed` by default).
    pub opt_level: OptLevel,
    /// Compile an explicit bounds check into every guest memory access, instead of relying
    /// on a 4 GiB reservation with guard pages (what pooled worlds of up to 2,040 ranks get
    /// by default; larger worlds check bounds anyway).
    pub explicit_bounds_checks: bool,
}

impl Default for Codegen {
    fn default() -> Self {
        Codegen {
            opt_level: OptLevel::Speed,
            explicit_bounds_checks: false,
        }
    }
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            max_ranks: 64,
            limits: WasmLimits::default(),
            cache_dir: None,
            fuel: false,
            codegen: Codegen::default(),
        }
    }
}

impl Default for WasmLimits {
    /// The pool bounds: the `trusted` policy's limits, the loosest built-in profile.
    fn default() -> Self {
        let t = crate::model::Limits::trusted();
        WasmLimits {
            memory_bytes: usize::try_from(t.memory_bytes_per_rank).unwrap_or(usize::MAX),
            table_elements: usize::try_from(t.table_elements_per_rank).unwrap_or(usize::MAX),
            instances: t.instances_per_rank as usize,
            buffer_bytes: t.buffer_bytes,
        }
    }
}

/// The subdirectory of [`EngineOptions::cache_dir`] that holds wasmtime's compiled code.
pub const WASMTIME_CACHE_SUBDIR: &str = "compiled";

/// Bumps the engine's epoch every [`EPOCH_TICK`] until dropped.
#[derive(Debug)]
struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: Engine) -> Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("kernbench-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .context("starting the epoch ticker thread")?;
        Ok(EpochTicker {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The engine, its linker with every host import, and the ticker that drives fairness.
pub struct BenchEngine {
    engine: Engine,
    linker: Linker<RankState>,
    options: EngineOptions,
    _ticker: EpochTicker,
}

impl std::fmt::Debug for BenchEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BenchEngine")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// A compiled, linked bench ready to be instantiated once per rank.
#[derive(Clone)]
pub struct LoadedBench {
    /// Name shown in reports (file stem).
    pub name: String,
    pub(crate) pre: CommandPre<RankState>,
    /// What the load-time checks found.
    pub info: super::validate::ComponentInfo,
}

impl std::fmt::Debug for LoadedBench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedBench")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl BenchEngine {
    /// An engine able to run worlds of up to `options.max_ranks` ranks.
    pub fn new(options: EngineOptions) -> Result<Self> {
        if options.max_ranks == 0 {
            bail!("an engine needs room for at least one rank");
        }
        let mut config = Config::new();
        config
            .concurrency_support(false)
            .epoch_interruption(true)
            .consume_fuel(options.fuel)
            .cranelift_opt_level(options.codegen.opt_level);
        if options.max_ranks <= POOLING_MAX_RANKS {
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling(&options)));
            // Large reservations let Cranelift drop bounds checks; keep them while the whole
            // pool stays far inside the 47-bit address space, else reserve what a rank may use.
            let slots = u64::from(options.max_ranks) * 2 + 16;
            if slots * (4u64 << 30) <= 16u64 << 40 && !options.codegen.explicit_bounds_checks {
                config.memory_reservation(4 << 30);
            } else {
                config
                    .memory_reservation(options.limits.memory_bytes as u64)
                    .memory_guard_size(64 << 10);
            }
        } else {
            // Huge worlds: every mapping counts against the kernel's per-process limit
            // (vm.max_map_count, 65530 by default). A pooled rank costs about six mappings
            // (memory, its guard, a copy-on-write image, stack, stack guard, tables); an
            // on-demand rank with exactly-sized, movable memories and no image costs three,
            // so 16384 ranks fit. Guest code then checks bounds explicitly.
            config
                .allocation_strategy(InstanceAllocationStrategy::OnDemand)
                .memory_reservation(0)
                .memory_guard_size(0)
                .memory_reservation_for_growth(0)
                .memory_may_move(true)
                .memory_init_cow(false);
        }
        if let Some(dir) = &options.cache_dir {
            // A subdirectory wasmtime owns alone: its cache worker deletes files it does not
            // recognise, and the kernbench cache also holds bench builds (guest-target,
            // the Python environment) that must survive it.
            let dir = dir.join(WASMTIME_CACHE_SUBDIR);
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("creating the component cache {}", dir.display()))?;
            let mut cache = wasmtime::CacheConfig::new();
            cache.with_directory(dir);
            config.cache(Some(
                wasmtime::Cache::new(cache)
                    .into_anyhow()
                    .context("opening the component cache")?,
            ));
        }
        let engine = Engine::new(&config)
            .into_anyhow()
            .context("creating the wasmtime engine")?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .into_anyhow()
            .context("linking WASI")?;
        // Every version the host speaks (kernbench_abi::HOST_WIT_VERSIONS), side by side: a
        // component imports one of them and links against that one.
        v0_2::Bench::add_to_linker::<RankState, HasSelf<RankState>>(&mut linker, |s| s)
            .into_anyhow()
            .context("linking the bench API 0.2.0")?;
        v0_1::Bench::add_to_linker::<RankState, HasSelf<RankState>>(&mut linker, |s| s)
            .into_anyhow()
            .context("linking the bench API 0.1.0")?;
        let ticker = EpochTicker::start(engine.clone())?;
        Ok(BenchEngine {
            engine,
            linker,
            options,
            _ticker: ticker,
        })
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The options it was built with.
    pub fn options(&self) -> &EngineOptions {
        &self.options
    }

    /// Check (see [`validate`](super::validate)), compile (or fetch from the cache) and link a
    /// bench component under `policy` (its `component_bytes` limit is checked first). Every
    /// refusal is a named [`LoadError`].
    pub fn load(
        &self,
        name: &str,
        bytes: &[u8],
        policy: &Policy,
    ) -> Result<LoadedBench, LoadError> {
        check_component_size(bytes.len() as u64, policy)?;
        let info = super::validate::validate(bytes)?;
        let refused =
            |what: &str, e: wasmtime::Error| LoadError::InvalidComponent(format!("{what}: {e:#}"));
        let component = Component::new(&self.engine, bytes)
            .map_err(|e| refused("compiling the component failed", e))?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| refused("linking against the host failed", e))?;
        let pre =
            CommandPre::new(pre).map_err(|_| LoadError::MissingExport(info.exports.clone()))?;
        Ok(LoadedBench {
            name: name.to_owned(),
            pre,
            info,
        })
    }
}

/// Refuse a component of `size` bytes beyond the policy's `component_bytes`.
pub fn check_component_size(size: u64, policy: &Policy) -> Result<(), LoadError> {
    let limit = policy.limits.component_bytes;
    if size > limit {
        return Err(LoadError::InvalidComponent(format!(
            "the component is {size} bytes, beyond the {} policy's component_bytes limit of {limit}",
            policy.name
        )));
    }
    Ok(())
}

fn pooling(options: &EngineOptions) -> PoolingAllocationConfig {
    let ranks = options.max_ranks;
    let slack = 16;
    let per_component = u32::try_from(options.limits.instances).unwrap_or(u32::MAX);
    let per_rank_instances = per_component.max(CORE_INSTANCES_PER_RANK);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(ranks + slack)
        // Sized from the per-component cap the pool enforces, not from what a Rust guest
        // needs: a componentize-py component has 14 core instances, and with room for only 4
        // per rank the second rank of a run would find the pool exhausted.
        .total_core_instances(
            ranks
                .saturating_mul(per_rank_instances)
                .saturating_add(slack),
        )
        .max_core_instances_per_component(per_component)
        .total_memories(ranks * 2 + slack)
        .max_memories_per_component(4)
        .total_tables(ranks * CORE_INSTANCES_PER_RANK + slack)
        .max_tables_per_component(16)
        .total_stacks(ranks + slack)
        .max_memory_size(options.limits.memory_bytes)
        .table_elements(options.limits.table_elements)
        .table_keep_resident(TABLE_KEEP_RESIDENT);
    pool
}
