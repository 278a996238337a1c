//! What a run is asked to do: the system, the collective settings, how ranks are launched,
//! the sandbox policy, the bench's arguments and the seed.

use super::policy::Policy;
use super::progress::RunProgress;
use crate::sim::{CclConfig, Topology};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// How ranks are launched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LaunchMode {
    /// One instance per rank (rank = SIP), as `torchrun` / `mp.spawn`.
    Spawn,
    /// One instance not bound to a rank that drives the system alone.
    Driver,
}

impl LaunchMode {
    /// Every mode, by its name (for command lines and docs).
    pub const ALL: [(&'static str, LaunchMode); 2] =
        [("spawn", LaunchMode::Spawn), ("driver", LaunchMode::Driver)];

    /// The mode's name, as reports and command lines spell it.
    pub fn name(self) -> &'static str {
        match self {
            LaunchMode::Spawn => "spawn",
            LaunchMode::Driver => "driver",
        }
    }
}

impl fmt::Display for LaunchMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LaunchMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LaunchMode::ALL
            .iter()
            .find(|(name, _)| *name == s)
            .map(|(_, mode)| *mode)
            .ok_or_else(|| format!("unknown launch mode {s:?}: use spawn or driver"))
    }
}

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
    /// Where the run counts finished ranks and collectives as it goes (for a progress bar);
    /// it changes nothing about the run.
    pub progress: Option<Arc<RunProgress>>,
    /// Worker threads that drive the ranks (at most one per rank is used); the report's
    /// simulated content does not depend on it (ADR-0016).
    pub threads: usize,
}

/// The default worker threads of a run: the cores this process may use.
pub fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl RunOptions {
    /// Defaults on `topology`: spawn, no CCL settings, the `trusted` policy, seed 0.
    pub fn new(topology: Topology) -> Self {
        RunOptions {
            topology,
            ccl: CclConfig::default(),
            launch: LaunchMode::Spawn,
            policy: Policy::trusted(),
            args: Vec::new(),
            seed: 0,
            progress: None,
            threads: available_threads(),
        }
    }

    /// Instances the run needs: the topology's SIPs when spawning, one driver otherwise.
    pub fn instances_hint(&self) -> u32 {
        match self.launch {
            LaunchMode::Spawn => self.topology.sips(),
            LaunchMode::Driver => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_modes_parse_by_name_and_refuse_others() {
        assert_eq!("driver".parse::<LaunchMode>(), Ok(LaunchMode::Driver));
        assert_eq!(LaunchMode::Spawn.to_string(), "spawn");
        let err = "fork".parse::<LaunchMode>().unwrap_err();
        assert_eq!(err, "unknown launch mode \"fork\": use spawn or driver");
    }
}
