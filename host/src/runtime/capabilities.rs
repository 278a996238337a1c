//! What a rank's WASI context lets a guest touch: captured stdio, the torchrun variables and
//! its arguments; no preopened directories, no sockets, no host environment. Random numbers
//! are seeded per run and rank, and both clocks read the rank's *simulated* time, so a guest
//! can neither observe the host nor make a run differ from the next one.

use super::output::CapturedOutput;
use crate::model::LaunchMode;
use crate::sim::ClockReader;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::time::Duration;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx};

/// The rank's simulated clock as WASI's monotonic clock (nanoseconds since the run began).
/// A guest spinning until it advances spins forever: local compute is not simulated time.
struct SimMonotonicClock(ClockReader);

impl HostMonotonicClock for SimMonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        self.0.now()
    }
}

/// Wall-clock time as the Unix epoch plus the rank's simulated time: obviously virtual, and
/// the same in every run.
struct SimWallClock(ClockReader);

impl HostWallClock for SimWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        Duration::from_nanos(self.0.now())
    }
}

/// The seed of `rank`'s generators in a run seeded with `seed` (SplitMix64 of both, so
/// neighbouring ranks get unrelated streams).
pub fn rank_seed(seed: u64, rank: u32) -> u64 {
    let mut z = seed ^ (u64::from(rank) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Everything needed to build one rank's WASI context.
pub struct RankWasi<'a> {
    /// The bench's name (argv[0]).
    pub program: &'a str,
    /// argv[1..].
    pub args: &'a [String],
    /// Spawn or driver.
    pub launch: LaunchMode,
    /// The instance index.
    pub rank: u32,
    /// Ranks in the world.
    pub world_size: u32,
    /// The run's seed.
    pub seed: u64,
    /// Captured stdout.
    pub stdout: &'a CapturedOutput,
    /// Captured stderr.
    pub stderr: &'a CapturedOutput,
    /// The rank's simulated clock.
    pub clock: &'a ClockReader,
}

/// Build the sandboxed WASI context of one rank.
pub fn wasi_context(r: RankWasi<'_>) -> WasiCtx {
    let mut builder = WasiCtx::builder();
    let seed = rank_seed(r.seed, r.rank);
    builder
        .stdout(r.stdout.clone())
        .stderr(r.stderr.clone())
        .arg(r.program)
        .args(r.args)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .secure_random(StdRng::seed_from_u64(seed))
        .insecure_random(StdRng::seed_from_u64(seed.rotate_left(17)))
        .insecure_random_seed(u128::from(seed) << 64 | u128::from(seed.rotate_left(31)))
        .max_random_size(1 << 20)
        .monotonic_clock(SimMonotonicClock(r.clock.clone()))
        .wall_clock(SimWallClock(r.clock.clone()));
    if r.launch == LaunchMode::Spawn {
        let (rank, size) = (r.rank.to_string(), r.world_size.to_string());
        builder.envs(&[
            ("RANK", rank.as_str()),
            ("WORLD_SIZE", size.as_str()),
            ("LOCAL_RANK", rank.as_str()),
            ("LOCAL_WORLD_SIZE", size.as_str()),
        ]);
    }
    builder.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_seeds_differ_per_rank_and_per_seed() {
        assert_ne!(rank_seed(0, 0), rank_seed(0, 1));
        assert_ne!(rank_seed(0, 0), rank_seed(1, 0));
        assert_eq!(rank_seed(7, 3), rank_seed(7, 3));
    }
}
