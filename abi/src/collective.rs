//! The collectives, by the names configs and reports use, with nccl-tests' bus-bandwidth
//! factor: the simulator's summary and the bundled `*_perf` benches print the same busbw.

use core::fmt;

/// A collective operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum CollectiveKind {
    /// `all_reduce`.
    AllReduce,
    /// `broadcast`.
    Broadcast,
    /// `reduce`.
    Reduce,
    /// `all_gather_into_tensor`.
    AllGather,
    /// `reduce_scatter_tensor`.
    ReduceScatter,
    /// `all_to_all_single`.
    AllToAll,
    /// `barrier`.
    Barrier,
    /// `send` / `recv`.
    SendRecv,
}

impl CollectiveKind {
    /// The name used in configs, messages and reports.
    pub const fn name(self) -> &'static str {
        match self {
            CollectiveKind::AllReduce => "all_reduce",
            CollectiveKind::Broadcast => "broadcast",
            CollectiveKind::Reduce => "reduce",
            CollectiveKind::AllGather => "all_gather",
            CollectiveKind::ReduceScatter => "reduce_scatter",
            CollectiveKind::AllToAll => "all_to_all",
            CollectiveKind::Barrier => "barrier",
            CollectiveKind::SendRecv => "send_recv",
        }
    }

    /// The nccl-tests bus-bandwidth factor over `n` ranks (0 for `n = 0`; barrier moves no
    /// data and gets 1): busbw = algbw x factor.
    pub fn busbw_factor(self, n: u32) -> f64 {
        if n == 0 {
            return 0.0;
        }
        let n = f64::from(n);
        match self {
            CollectiveKind::AllReduce => 2.0 * (n - 1.0) / n,
            CollectiveKind::ReduceScatter
            | CollectiveKind::AllGather
            | CollectiveKind::AllToAll => (n - 1.0) / n,
            CollectiveKind::Broadcast
            | CollectiveKind::Reduce
            | CollectiveKind::SendRecv
            | CollectiveKind::Barrier => 1.0,
        }
    }
}

impl fmt::Display for CollectiveKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
