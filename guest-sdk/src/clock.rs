//! The rank's simulated clock.

use crate::wit::clock as w;

/// This rank's simulated time in nanoseconds since the run began. Local ops and collectives
/// advance it by their modelled cost; wall-clock time never enters it.
pub fn now_ns() -> u64 {
    w::now_ns()
}
