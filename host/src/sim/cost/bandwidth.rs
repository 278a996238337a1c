//! nccl-tests' algorithm bandwidth (the bus-bandwidth factor is `CollectiveKind::busbw_factor`,
//! shared with the benches through `kernbench-abi`).

/// nccl-tests' algorithm bandwidth `S / time` in GB/s (bytes per ns); 0 when no time passed
/// (e.g. a collective over one rank), where the figure has no meaning.
pub fn algbw_gbytes_per_s(bytes: u64, time_ns: u64) -> f64 {
    if time_ns == 0 {
        0.0
    } else {
        bytes as f64 / time_ns as f64
    }
}
