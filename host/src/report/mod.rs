//! The report of one run: a plain data model, printed as a text table or JSON.
//!
//! JSON field names are a contract (`status`, `ranks[].rank/status/error/stdout`): later
//! versions add fields, never rename them. Fields that depend on the host's wall clock live
//! under `host` and are the only ones that differ between identical runs.

mod collectives;
mod text;
mod trace;

pub use collectives::{SummaryRow, summarize};
pub use text::{human_ns, render_text};
pub use trace::trace_events;

mod build;

use crate::model::{FailureKind, LaunchMode, Policy, RegionRecord};
use crate::sim::{CclConfig, CollectiveRecord, Topology, TopologySpec};
use serde::Serialize;

/// Outcome of a whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Every rank finished successfully.
    Ok,
    /// At least one rank failed.
    Failed,
}

/// Outcome of one rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RankStatus {
    /// Its `main` returned successfully.
    Ok,
    /// It trapped, exited non-zero, or was failed by the host (deadlock, mismatch, limit).
    Failed,
    /// It was stopped because another rank failed.
    Cancelled,
}

/// One rank's line in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankReport {
    /// The rank (instance index; 0 for the driver).
    pub rank: u32,
    /// How it ended.
    pub status: RankStatus,
    /// Why it failed or was cancelled; `null` when ok.
    pub error: Option<String>,
    /// Named failure (`trap`, `deadlock` ...) when failed.
    pub error_kind: Option<FailureKind>,
    /// More about the failure than fits on its line (a wasm backtrace), or `null`.
    pub error_details: Option<String>,
    /// Captured standard output.
    pub stdout: String,
    /// Captured standard error.
    pub stderr: String,
    /// Bytes dropped from stdout and stderr because they exceeded the output limit.
    pub output_truncated_bytes: u64,
    /// The device the rank had bound with `set_device` when it ended (`null` if none).
    pub device: Option<u32>,
    /// The rank's simulated clock when it ended.
    pub sim_time_ns: u64,
}

/// The topology the run used, in one object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopologySummary {
    /// Spec name.
    pub name: String,
    /// SIPs.
    pub sips: u32,
    /// Cubes per SIP.
    pub cubes_per_sip: u32,
    /// PEs per cube.
    pub pes_per_cube: u32,
    /// HBM per cube.
    pub hbm_bytes_per_cube: u64,
    /// One-line description.
    pub summary: String,
    /// The whole spec the run used (links, PE rates ...), enough to run it again.
    pub spec: TopologySpec,
}

impl From<&Topology> for TopologySummary {
    fn from(t: &Topology) -> Self {
        TopologySummary {
            name: t.spec().name.clone(),
            sips: t.sips(),
            cubes_per_sip: t.cubes_per_sip(),
            pes_per_cube: t.pes_per_cube(),
            hbm_bytes_per_cube: t.hbm_bytes_per_cube(),
            summary: t.summary(),
            spec: t.spec().clone(),
        }
    }
}

/// What ended the run: a rank's failure, or the component's refusal at load.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunFailure {
    /// The failing rank; `null` when the component was refused before any rank ran.
    pub rank: Option<u32>,
    /// Named failure (`trap`, `deadlock`, `import-denied` ...).
    pub kind: String,
    /// Its message.
    pub message: String,
}

/// A metric series as the report shows it.
pub use crate::model::MetricSeries as MetricSummary;

/// Host-side measurements; these change from run to run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostTimings {
    /// Wall-clock milliseconds from the first instantiation to the last rank's end.
    pub wall_ms: f64,
    /// Peak resident memory of the host process so far (Linux `VmHWM`), if known.
    pub peak_rss_bytes: Option<u64>,
    /// Worker threads that drove the ranks (`--threads`, at most one per rank; 0 when no
    /// rank ran).
    pub threads: usize,
}

/// The process's peak resident set size, from `/proc/self/status` (`None` off Linux).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Everything about one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    /// `ok` or `failed`.
    pub status: RunStatus,
    /// The bench's name.
    pub bench: String,
    /// Spawn or driver.
    pub launch: LaunchMode,
    /// Ranks in the world (D1).
    pub world_size: u32,
    /// Which D1 source decided the world size, e.g. `topology system.sips.count`; `null`
    /// when the component was refused before the world size was resolved.
    pub world_size_source: Option<String>,
    /// Wasm instances run: the world size in spawn mode, 1 in driver mode.
    pub instances: u32,
    /// The system simulated.
    pub topology: TopologySummary,
    /// The CCL config the run used.
    pub ccl: CclConfig,
    /// The bench's arguments (its argv after the program name).
    pub args: Vec<String>,
    /// The sandbox policy the run was held to.
    pub policy: Policy,
    /// Seed of the ranks' random numbers.
    pub seed: u64,
    /// What ended the run, if it failed.
    pub failure: Option<RunFailure>,
    /// Things that did not fail the run but that its author should know
    /// (`output-truncated: ...`).
    pub warnings: Vec<String>,
    /// One entry per instance, in rank order.
    pub ranks: Vec<RankReport>,
    /// Collectives in completion order: op, group, bytes, algorithm, simulated start/end and
    /// each member's arrival.
    pub collectives: Vec<CollectiveRecord>,
    /// Collectives run in total (`collectives` keeps at most a million).
    pub collectives_run: u64,
    /// The collectives in nccl-tests' columns.
    pub collective_summary: Vec<SummaryRow>,
    /// Named regions the ranks closed.
    pub regions: Vec<RegionRecord>,
    /// Metrics the ranks reported, one row per rank, name and unit.
    pub metrics: Vec<MetricSummary>,
    /// Backend names the ranks passed to `init_process_group` that are aliases of `ccl`
    /// (`"nccl"`, `"gloo"`: a ported script's line); absent when none was.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub backend_aliases: Vec<String>,
    /// Host wall-clock measurements (not deterministic).
    pub host: HostTimings,
}

impl RunReport {
    /// The report as one line of JSON (for JSON Lines streams such as `demo --json`).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}
