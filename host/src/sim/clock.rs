//! Each rank's simulated clock, in nanoseconds. A clock never saturates: a time past
//! `u64::MAX` ns (about 584 years) is an error naming the rank, not a silent ceiling.

use super::error::SimError;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// One simulated clock per rank. Only the simulator moves them (`&mut self`, so under the
/// world's lock); a rank reads its own through a [`ClockReader`] without that lock, since
/// `clock.now-ns` and WASI's clocks are a guest's most frequent host calls. Relaxed
/// ordering is enough: a rank's clock moves only while that rank runs, or while it waits
/// and another lane releases it, moving the clock before it posts the outcome to the
/// mailbox the released rank receives it from (whose lock orders the two).
#[derive(Debug)]
pub struct Clocks {
    ns: Arc<[AtomicU64]>,
}

impl Clocks {
    /// `ranks` clocks at zero.
    pub fn new(ranks: u32) -> Self {
        Clocks {
            ns: (0..ranks).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// A rank's simulated time (0 for a rank outside the run).
    pub fn get(&self, rank: u32) -> u64 {
        read(&self.ns, rank)
    }

    /// Move a rank's clock forward by `ns`.
    pub fn advance(&mut self, rank: u32, ns: u64) -> Result<(), SimError> {
        if let Some(clock) = self.ns.get(rank as usize) {
            clock.store(
                later(clock.load(Ordering::Relaxed), ns, rank)?,
                Ordering::Relaxed,
            );
        }
        Ok(())
    }

    /// Move a rank's clock to `ns` unless it is already later: waiting for an operation
    /// that completes at `ns` (a blocking collective's members all reach its end; a rank that
    /// computed past an asynchronous operation's end loses nothing by waiting for it).
    pub fn reach(&mut self, rank: u32, ns: u64) {
        if let Some(clock) = self.ns.get(rank as usize) {
            clock.fetch_max(ns, Ordering::Relaxed);
        }
    }

    /// Set a rank's clock.
    pub fn set(&mut self, rank: u32, ns: u64) {
        if let Some(clock) = self.ns.get(rank as usize) {
            clock.store(ns, Ordering::Relaxed);
        }
    }

    /// A handle that reads `rank`'s clock without the simulator.
    pub fn reader(&self, rank: u32) -> ClockReader {
        ClockReader {
            ns: self.ns.clone(),
            rank,
        }
    }
}

/// Reads one rank's clock (see [`Clocks`]); cloned into each of the rank's clock users.
#[derive(Debug, Clone)]
pub struct ClockReader {
    ns: Arc<[AtomicU64]>,
    rank: u32,
}

impl ClockReader {
    /// The rank's simulated time, as [`Clocks::get`] gives it.
    pub fn now(&self) -> u64 {
        read(&self.ns, self.rank)
    }
}

/// `rank`'s clock in `ns`, 0 for a rank outside the run: the one read both paths share.
fn read(ns: &[AtomicU64], rank: u32) -> u64 {
    ns.get(rank as usize)
        .map_or(0, |c| c.load(Ordering::Relaxed))
}

/// `start + ns`, or an error when the sum does not fit. A cost of exactly `u64::MAX` is the
/// cost model's own saturation (a conversion that overflowed), so it is an overflow too.
pub fn later(start: u64, ns: u64, rank: u32) -> Result<u64, SimError> {
    match start.checked_add(ns) {
        Some(end) if ns != u64::MAX => Ok(end),
        _ => Err(SimError::LimitExceeded(format!(
            "rank {rank}'s simulated clock would pass u64::MAX ns (about 584 years): at {start} ns, an operation costs {ns} ns; the topology's rates or the sizes are out of any real range"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_that_would_overflow_is_an_error_never_a_ceiling() {
        let mut c = Clocks::new(2);
        c.advance(1, 5).unwrap();
        c.set(0, u64::MAX - 1);
        let err = c.advance(0, 2).unwrap_err();
        assert!(matches!(err, SimError::LimitExceeded(_)), "{err}");
        assert_eq!(c.get(0), u64::MAX - 1, "the clock did not move");
        assert!(
            c.advance(1, u64::MAX).is_err(),
            "a saturated cost is an overflow"
        );
        assert_eq!(c.get(1), 5);
    }

    #[test]
    fn a_reader_sees_its_ranks_clock_move() {
        let mut c = Clocks::new(2);
        let reader = c.reader(1);
        c.advance(1, 7).unwrap();
        c.reach(1, 5);
        assert_eq!(reader.now(), 7, "reach never moves a clock back");
        c.reach(1, 9);
        assert_eq!((reader.now(), c.get(0)), (9, 0));
        assert_eq!(Clocks::new(1).reader(3).now(), 0, "a rank outside the run");
    }
}
