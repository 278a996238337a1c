//! HBM capacity accounting per cube: a placement either fits in every cube it touches, or
//! nothing is reserved and the error names the first cube that is short.

use super::error::SimError;
use super::placement::ShardSpec;
use std::collections::BTreeMap;

/// Bytes in use per `(sip, cube)` against a uniform capacity.
#[derive(Debug, Clone)]
pub struct HbmLedger {
    cubes_per_sip: u32,
    capacity_per_cube: u64,
    used: Vec<u64>,
}

impl HbmLedger {
    /// An empty ledger for `sips x cubes_per_sip` cubes of `capacity_per_cube` bytes.
    pub fn new(sips: u32, cubes_per_sip: u32, capacity_per_cube: u64) -> Self {
        let cubes = sips as usize * cubes_per_sip as usize;
        HbmLedger {
            cubes_per_sip,
            capacity_per_cube,
            used: vec![0; cubes],
        }
    }

    fn index(&self, sip: u32, cube: u32) -> usize {
        sip as usize * self.cubes_per_sip as usize + cube as usize
    }

    /// Bytes in use in one cube.
    pub fn used(&self, sip: u32, cube: u32) -> u64 {
        self.used.get(self.index(sip, cube)).copied().unwrap_or(0)
    }

    /// Capacity of every cube.
    pub fn capacity_per_cube(&self) -> u64 {
        self.capacity_per_cube
    }

    /// Reserve every shard's bytes, all or nothing. `what` describes the placement for the
    /// error message (`placing tensor [8, 8] float32 on SIP 0`).
    pub fn reserve(
        &mut self,
        shards: &[ShardSpec],
        what: impl Fn() -> String,
    ) -> Result<(), SimError> {
        let mut per_cube: BTreeMap<(u32, u32), u64> = BTreeMap::new();
        for s in shards {
            let need = per_cube.entry((s.sip, s.cube)).or_default();
            *need = need.saturating_add(s.bytes);
        }
        for &(sip, cube) in per_cube.keys() {
            if cube >= self.cubes_per_sip || self.index(sip, cube) >= self.used.len() {
                return Err(SimError::InvalidArgument(format!(
                    "{}: SIP {sip} cube {cube} is outside the system ({} cubes per SIP)",
                    what(),
                    self.cubes_per_sip
                )));
            }
        }
        for (&(sip, cube), &needed) in &per_cube {
            let used = self.used(sip, cube);
            let free = self.capacity_per_cube.saturating_sub(used);
            if needed > free {
                return Err(SimError::OutOfMemory {
                    what: what(),
                    sip,
                    cube,
                    needed,
                    free,
                    capacity: self.capacity_per_cube,
                });
            }
        }
        for ((sip, cube), needed) in per_cube {
            let i = self.index(sip, cube);
            self.used[i] += needed;
        }
        Ok(())
    }

    /// Give back what [`reserve`](Self::reserve) took for these shards.
    pub fn release(&mut self, shards: &[ShardSpec]) {
        for s in shards {
            let i = self.index(s.sip, s.cube);
            if let Some(used) = self.used.get_mut(i) {
                *used = used.saturating_sub(s.bytes);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::placement::Span;

    fn shard(sip: u32, cube: u32, bytes: u64) -> ShardSpec {
        let span = Span { start: 0, end: 1 };
        ShardSpec {
            sip,
            cube,
            pe: 0,
            rows: span,
            cols: span,
            bytes,
        }
    }

    #[test]
    fn reservation_is_all_or_nothing() {
        let mut hbm = HbmLedger::new(2, 2, 100);
        assert!(
            hbm.reserve(&[shard(1, 0, 60), shard(1, 1, 60)], String::new)
                .is_ok()
        );
        let err = hbm
            .reserve(&[shard(1, 0, 10), shard(1, 1, 50)], || "placing x".into())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "placing x: SIP 1 cube 1 needs 50 B, has 40 B free of 100 B"
        );
        assert_eq!((hbm.used(1, 0), hbm.used(1, 1)), (60, 60));
    }

    #[test]
    fn shards_in_one_cube_add_up() {
        let mut hbm = HbmLedger::new(1, 1, 100);
        let err = hbm
            .reserve(&[shard(0, 0, 60), shard(0, 0, 60)], || "x".into())
            .unwrap_err();
        assert!(matches!(
            err,
            SimError::OutOfMemory {
                needed: 120,
                free: 100,
                ..
            }
        ));
    }

    #[test]
    fn release_frees_for_reuse() {
        let mut hbm = HbmLedger::new(1, 1, 100);
        let shards = [shard(0, 0, 100)];
        assert!(hbm.reserve(&shards, String::new).is_ok());
        hbm.release(&shards);
        assert_eq!(hbm.used(0, 0), 0);
        assert!(hbm.reserve(&shards, String::new).is_ok());
    }
}
