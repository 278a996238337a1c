//! What the model reads off a placement: the distinct cubes a tensor spans (`k`) and
//! `ceil(log2 N)` for the tree schedules.

use crate::sim::placement::ShardSpec;
use std::collections::BTreeSet;

/// `ceil(log2 n)`; 0 for `n ≤ 1`.
pub fn ceil_log2(n: u32) -> u32 {
    if n <= 1 {
        0
    } else {
        u32::BITS - (n - 1).leading_zeros()
    }
}

/// Number of distinct cubes holding `shards`, at least 1 (the `k` of the model).
pub fn distinct_cubes(shards: &[ShardSpec]) -> u32 {
    let cubes: BTreeSet<(u32, u32)> = shards.iter().map(|s| (s.sip, s.cube)).collect();
    u32::try_from(cubes.len()).unwrap_or(u32::MAX).max(1)
}

/// The distinct cubes (of their SIP) holding `shards`, ascending.
pub fn cube_ids(shards: &[ShardSpec]) -> Vec<u32> {
    let cubes: BTreeSet<u32> = shards.iter().map(|s| s.cube).collect();
    cubes.into_iter().collect()
}
