//! Each rank's simulated clock, in nanoseconds.

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
    pub fn advance(&mut self, rank: u32, ns: u64) {
        if let Some(clock) = self.ns.get_mut(rank as usize) {
            *clock = clock.saturating_add(ns);
        }
    }

    /// Set a rank's clock (a collective moves its members to its end time).
    pub fn set(&mut self, rank: u32, ns: u64) {
        if let Some(clock) = self.ns.get_mut(rank as usize) {
            *clock = ns;
        }
    }
}
