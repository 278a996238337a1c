//! How a run ended, as the runtime saw it: each rank's end and output, and a snapshot of the
//! simulator (clocks, collectives, regions, metrics). The report is built from this alone.

use super::failure::{LoadError, RankFailure};
use super::launch::RunOptions;
use crate::sim::{CollectiveRecord, ResolvedWorldSize, SummaryEntry};
use serde::Serialize;

/// What one output stream captured.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CapturedText {
    /// The text (lossy UTF-8), with a marker where bytes were dropped.
    pub text: String,
    /// Bytes dropped from the middle because the stream exceeded its limit.
    pub truncated_bytes: u64,
}

/// How one rank's instance ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RankEnd {
    /// Its `main` returned successfully.
    Ok,
    /// It failed, with a named reason.
    Failed(RankFailure),
    /// It was stopped because another rank failed.
    Cancelled {
        /// The call it was waiting in, e.g. `barrier (call #3 in the world)`, if any.
        waiting_in: Option<String>,
    },
}

/// One rank at the end of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct RankOutcome {
    /// The rank (instance index; 0 for the driver).
    pub rank: u32,
    /// How it ended.
    pub end: RankEnd,
    /// Captured standard output.
    pub stdout: CapturedText,
    /// Captured standard error.
    pub stderr: CapturedText,
    /// The device bound with `set_device` when it ended.
    pub device: Option<u32>,
    /// Its simulated clock when it ended.
    pub sim_time_ns: u64,
}

/// A named region a rank opened and closed, in simulated time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionRecord {
    /// The rank.
    pub rank: u32,
    /// Region name.
    pub name: String,
    /// Simulated start.
    pub start_ns: u64,
    /// Simulated end.
    pub end_ns: u64,
    /// Nesting depth (0 = outermost).
    pub depth: u32,
}

/// One metric series: what one rank reported under one name and unit, once or many
/// times. Kept aggregated as it arrives, so a metric reported in a loop costs one row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricSeries {
    /// The rank.
    pub rank: u32,
    /// Metric name.
    pub name: String,
    /// The last value reported.
    pub value: f64,
    /// Its unit, e.g. `GB/s`.
    pub unit: String,
    /// How many times it was reported.
    pub count: u64,
    /// Mean of the values reported.
    pub mean: f64,
    /// Smallest value reported.
    pub min: f64,
    /// Largest value reported.
    pub max: f64,
}

/// Everything the runtime knows when a run has ended.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The bench's name.
    pub bench: String,
    /// What the run was asked to do.
    pub options: RunOptions,
    /// The world size and which D1 source decided it.
    pub world_size: ResolvedWorldSize,
    /// Wasm instances run: the world size in spawn mode, 1 in driver mode.
    pub instances: u32,
    /// One entry per instance, in rank order.
    pub ranks: Vec<RankOutcome>,
    /// Collectives in simulated-time order (at most the simulator's record limit).
    pub collectives: Vec<CollectiveRecord>,
    /// Collectives run in total (may exceed `collectives.len()`).
    pub collectives_run: u64,
    /// The nccl-tests summary of every call run, aggregated as they ran.
    pub collective_summary: Vec<SummaryEntry>,
    /// Named regions the ranks closed, in the order they closed (at most the policy's
    /// `regions_per_run`).
    pub regions: Vec<RegionRecord>,
    /// Regions closed past that limit: counted, not kept.
    pub regions_dropped: u64,
    /// Metric series in the order they first arrived.
    pub metrics: Vec<MetricSeries>,
    /// Aliases of the `ccl` backend the ranks initialised with (`"nccl"`, `"gloo"`), sorted.
    pub backend_aliases: Vec<String>,
    /// Wall-clock milliseconds from the first instantiation to the last rank's end.
    pub wall_ms: f64,
}

/// A component refused before any rank ran.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// The bench's name.
    pub bench: String,
    /// What the run was asked to do.
    pub options: RunOptions,
    /// Why it was refused.
    pub error: LoadError,
}

/// How a request to run a component ended: it ran (successfully or not), or it was refused.
#[derive(Debug, Clone)]
pub enum Finished {
    /// Ranks ran; see their ends.
    Ran(RunOutcome),
    /// Refused at load.
    Refused(Refusal),
}
