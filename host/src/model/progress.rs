//! How far a running run has got, shared with whoever draws a progress bar: counters the
//! runtime bumps as ranks finish and collectives complete. Reading them never blocks a rank.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Live counters of one run.
#[derive(Debug, Default)]
pub struct RunProgress {
    instances: AtomicU32,
    finished: AtomicU32,
    collectives: AtomicU64,
}

/// One reading of a [`RunProgress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgressSnapshot {
    /// Instances in the run (0 until it starts).
    pub instances: u32,
    /// Instances that have ended.
    pub finished: u32,
    /// Collectives completed.
    pub collectives: u64,
}

impl RunProgress {
    /// The run starts `instances` instances.
    pub fn started(&self, instances: u32) {
        self.instances.store(instances, Ordering::Relaxed);
    }

    /// One instance ended.
    pub fn rank_finished(&self) {
        self.finished.fetch_add(1, Ordering::Relaxed);
    }

    /// One collective completed.
    pub fn collective_done(&self) {
        self.collectives.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> ProgressSnapshot {
        ProgressSnapshot {
            instances: self.instances.load(Ordering::Relaxed),
            finished: self.finished.load(Ordering::Relaxed),
            collectives: self.collectives.load(Ordering::Relaxed),
        }
    }
}
