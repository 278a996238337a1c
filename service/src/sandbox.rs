//! The child process's own bounds, set by the child on itself before it reads the component:
//! data segment (RLIMIT_DATA, which counts what wasmtime makes writable but not its
//! PROT_NONE reservations, unlike RLIMIT_AS), CPU seconds, open files, no core dumps, and
//! death with its worker. The worker adds the wall-clock kill and an empty environment
//! (ADR-0013).

use rustix::process::{Resource, Rlimit, Signal, set_parent_process_death_signal, setrlimit};

/// The bounds of one run's process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildLimits {
    /// Writable private memory (heap, wasm linear memories, tensors), in bytes.
    pub memory_bytes: u64,
    /// CPU time, in seconds (SIGXCPU, then SIGKILL a second later).
    pub cpu_secs: u64,
    /// Open file descriptors.
    pub open_files: u64,
}

impl Default for ChildLimits {
    fn default() -> Self {
        ChildLimits {
            memory_bytes: 4 << 30,
            cpu_secs: 120,
            open_files: 64,
        }
    }
}

impl ChildLimits {
    /// Apply the limits to this process (soft = hard, so the run cannot raise them).
    pub fn apply(&self) -> std::io::Result<()> {
        let both = |n: u64| Rlimit {
            current: Some(n),
            maximum: Some(n),
        };
        // A worker killed with -9 takes its runs with it instead of leaving them to run on.
        set_parent_process_death_signal(Some(Signal::KILL))?;
        setrlimit(Resource::Core, both(0))?;
        setrlimit(Resource::Nofile, both(self.open_files))?;
        // The soft CPU limit sends SIGXCPU; the hard one, a second later, kills.
        setrlimit(
            Resource::Cpu,
            Rlimit {
                current: Some(self.cpu_secs),
                maximum: Some(self.cpu_secs.saturating_add(1)),
            },
        )?;
        setrlimit(Resource::Data, both(self.memory_bytes))?;
        Ok(())
    }

    /// The limits as command-line flags of the child's run mode.
    pub fn to_args(&self) -> Vec<String> {
        vec![
            format!("--memory-bytes={}", self.memory_bytes),
            format!("--cpu-secs={}", self.cpu_secs),
            format!("--open-files={}", self.open_files),
        ]
    }
}
