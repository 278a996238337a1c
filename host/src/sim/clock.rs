//! Each rank's simulated clock, in nanoseconds. A clock never saturates: a time past
//! `u64::MAX` ns (about 584 years) is an error naming the rank, not a silent ceiling.

use super::error::SimError;

/// One simulated clock per rank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clocks {
    ns: Vec<u64>,
}

impl Clocks {
    /// `ranks` clocks at zero.
    pub fn new(ranks: u32) -> Self {
        Clocks {
            ns: vec![0; ranks as usize],
        }
    }

    /// A rank's simulated time (0 for a rank outside the run).
    pub fn get(&self, rank: u32) -> u64 {
        self.ns.get(rank as usize).copied().unwrap_or(0)
    }

    /// Move a rank's clock forward by `ns`.
    pub fn advance(&mut self, rank: u32, ns: u64) -> Result<(), SimError> {
        if let Some(clock) = self.ns.get_mut(rank as usize) {
            *clock = later(*clock, ns, rank)?;
        }
        Ok(())
    }

    /// Move a rank's clock to `ns` unless it is already later: waiting for an operation
    /// that completes at `ns` (a blocking collective's members all reach its end; a rank that
    /// computed past an asynchronous operation's end loses nothing by waiting for it).
    pub fn reach(&mut self, rank: u32, ns: u64) {
        if let Some(clock) = self.ns.get_mut(rank as usize) {
            *clock = (*clock).max(ns);
        }
    }

    /// Set a rank's clock.
    pub fn set(&mut self, rank: u32, ns: u64) {
        if let Some(clock) = self.ns.get_mut(rank as usize) {
            *clock = ns;
        }
    }
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
}
