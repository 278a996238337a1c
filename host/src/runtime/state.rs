//! Per-rank store data: the rank's identity and device binding, its WASI context and
//! resource table, its captured output, its limits, and a handle on the shared world.

use super::error::Abort;
use super::output::CapturedOutput;
use super::world::{Issued, SharedWorld};
use crate::model::{FailureKind, LaunchMode, RankFailure};
use crate::sim::ClockReader;
use std::collections::BTreeMap;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// A tensor handle in a rank's resource table: the simulator's id of the tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TensorHandle {
    /// Id in the simulator.
    pub id: crate::sim::TensorId,
}

/// A work handle in a rank's resource table: which of the rank's operations in flight it
/// stands for, and whether it was already waited for (a second wait is an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkHandle {
    /// Key in [`RankState::works`].
    pub id: u64,
    /// `wait` returned for it.
    pub waited: bool,
}

/// An asynchronous operation a rank issued and has not waited for.
#[derive(Debug, Clone)]
pub struct InFlight {
    /// Where it met and where its outcome goes.
    pub issued: Issued,
    /// The guest dropped its handle: it still runs, and is forgotten once it completes.
    pub dropped: bool,
}

/// Per-rank bounds on wasm resources, enforced by wasmtime as the guest grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WasmLimits {
    /// Linear memory bytes over all of the rank's memories together.
    pub memory_bytes: usize,
    /// Table elements per table.
    pub table_elements: usize,
    /// Instances (core and component) per rank.
    pub instances: usize,
    /// Largest byte buffer one call may move across the WIT boundary.
    pub buffer_bytes: u64,
}

/// The data of one rank's store.
pub struct RankState {
    /// This instance's index: its rank in spawn mode, 0 in driver mode.
    pub index: u32,
    /// Spawn or driver.
    pub launch: LaunchMode,
    /// Ranks in the world (1 in driver mode).
    pub world_size: u32,
    /// Whether `init-process-group` was called.
    pub initialized: bool,
    /// The device registry shared by `ahbm` and `accelerator` (D3).
    pub device: Option<u32>,
    /// The run's shared state.
    pub world: SharedWorld,
    /// This instance's simulated clock, read without the world's lock.
    pub clock: ClockReader,
    /// Captured stdout.
    pub stdout: CapturedOutput,
    /// Captured stderr.
    pub stderr: CapturedOutput,
    /// Named regions still open: name and simulated start time.
    pub open_regions: Vec<(String, u64)>,
    /// `KERNBENCH_DEBUG` was set: warn about driver-mode rank queries.
    pub debug: bool,
    /// The driver-mode warning was already logged.
    pub driver_warned: bool,
    /// Largest byte buffer one call may move across the WIT boundary.
    pub max_buffer_bytes: u64,
    /// The last error the host returned to this rank as a WIT `error` value: what names the
    /// failure when `main` gives up with it (never the guest's own text).
    pub last_error: Option<RankFailure>,
    /// Asynchronous operations issued and not yet waited for, by work id (in issue order, for
    /// messages). A dropped handle's operation stays here until it completes: it still runs.
    pub works: BTreeMap<u64, InFlight>,
    /// The next work id.
    pub next_work: u64,
    /// Most operations in flight (`ops_in_flight_per_rank`).
    pub max_ops_in_flight: u64,
    /// Seed of this rank's random tensors (from the run's seed and the rank).
    pub tensor_seed: u64,
    /// Random tensors this rank has made (each draws from its own seed).
    pub random_draws: u64,
    wasi: WasiCtx,
    table: ResourceTable,
    limits: WasmLimits,
    /// Bytes of linear memory over all of the rank's memories (the limit is per rank).
    memory_bytes: usize,
}

impl RankState {
    /// Store data for instance `index`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        index: u32,
        launch: LaunchMode,
        world_size: u32,
        world: SharedWorld,
        clock: ClockReader,
        wasi: WasiCtx,
        stdout: CapturedOutput,
        stderr: CapturedOutput,
        limits: WasmLimits,
    ) -> Self {
        RankState {
            index,
            launch,
            world_size,
            initialized: false,
            device: None,
            world,
            clock,
            stdout,
            stderr,
            open_regions: Vec::new(),
            debug: std::env::var_os("KERNBENCH_DEBUG").is_some(),
            driver_warned: false,
            max_buffer_bytes: limits.buffer_bytes,
            last_error: None,
            works: BTreeMap::new(),
            next_work: 0,
            max_ops_in_flight: u64::MAX,
            tensor_seed: 0,
            random_draws: 0,
            wasi,
            table: ResourceTable::new(),
            limits,
            memory_bytes: 0,
        }
    }

    /// The resource table (tensor handles live here).
    pub fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    /// SIP a new tensor goes to when the call names none: the bound device, else the rank's
    /// own SIP (rank = SIP), or SIP 0 for the driver (D4).
    pub fn default_device(&self) -> u32 {
        self.device.unwrap_or(match self.launch {
            LaunchMode::Spawn => self.index,
            LaunchMode::Driver => 0,
        })
    }
}

impl std::fmt::Debug for RankState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RankState")
            .field("index", &self.index)
            .field("launch", &self.launch)
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

impl WasiView for RankState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

fn limit(what: &str, desired: usize, max: usize) -> wasmtime::Error {
    wasmtime::Error::new(Abort::new(
        FailureKind::MemoryLimit,
        format!("{what} would grow to {desired}, beyond the per-rank limit of {max}"),
    ))
}

impl ResourceLimiter for RankState {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Memories only grow, so the rank's total moves by (desired - current).
        let total = self
            .memory_bytes
            .saturating_sub(current)
            .saturating_add(desired);
        if total > self.limits.memory_bytes {
            return Err(limit(
                "linear memory (bytes, over all of the rank's memories)",
                total,
                self.limits.memory_bytes,
            ));
        }
        self.memory_bytes = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limits.table_elements {
            return Err(limit(
                "a table (elements)",
                desired,
                self.limits.table_elements,
            ));
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        self.limits.instances
    }

    fn tables(&self) -> usize {
        self.limits.instances * 4
    }

    fn memories(&self) -> usize {
        self.limits.instances
    }
}
