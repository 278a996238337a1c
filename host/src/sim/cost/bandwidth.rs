//! nccl-tests' bandwidth figures: algorithm bandwidth and the bus-bandwidth factor.

use crate::sim::ccl::CollectiveKind;

/// The nccl-tests bus-bandwidth factor of a collective over `n` ranks (0 for `n = 0`;
/// barrier moves no data and gets 1).
pub fn busbw_factor(kind: CollectiveKind, n: u32) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let n = f64::from(n);
    match kind {
        CollectiveKind::AllReduce => 2.0 * (n - 1.0) / n,
        CollectiveKind::ReduceScatter | CollectiveKind::AllGather | CollectiveKind::AllToAll => {
            (n - 1.0) / n
        }
        CollectiveKind::Broadcast
        | CollectiveKind::Reduce
        | CollectiveKind::SendRecv
        | CollectiveKind::Barrier => 1.0,
    }
}

/// nccl-tests' algorithm bandwidth `S / time` in GB/s (bytes per ns); 0 when no time passed
/// (e.g. a collective over one rank), where the figure has no meaning.
pub fn algbw_gbytes_per_s(bytes: u64, time_ns: u64) -> f64 {
    if time_ns == 0 {
        0.0
    } else {
        bytes as f64 / time_ns as f64
    }
}
