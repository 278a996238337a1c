//! The SIP system of one run as one value: its tensors ([`TensorStore`]), each rank's clock
//! ([`Clocks`]), the collectives run ([`CollectiveLog`]) and the cost model. Each part owns
//! one thing; this type only puts them side by side and charges creation its fill time.
//! Local ops are in `ops.rs`; a collective is executed by `comm::execute`.
//!
//! Everything here is plain data and synchronous; no wasmtime type appears in this module.

use super::call::CollectiveCall;
use super::ccl::CclConfig;
use super::clock::Clocks;
use super::comm::{self, CollectiveRecord};
use super::cost::{CostModel, Plan};
use super::error::SimError;
use super::log::CollectiveLog;
use super::store::{Init, NewTensor, SimLimits, TensorId, TensorStore};
use super::topology::Topology;

/// The simulated system of one run.
#[derive(Debug)]
pub struct Simulator {
    /// Tensors, HBM and quotas.
    pub store: TensorStore,
    /// Each rank's simulated time.
    pub clocks: Clocks,
    /// The collectives run so far.
    pub log: CollectiveLog,
    cost: CostModel,
}

impl Simulator {
    /// A fresh system with `ranks` rank clocks at zero.
    pub fn new(topology: Topology, limits: SimLimits, ranks: u32) -> Self {
        Simulator {
            cost: CostModel::new(&topology),
            store: TensorStore::new(topology, limits),
            clocks: Clocks::new(ranks),
            log: CollectiveLog::default(),
        }
    }

    /// The cost model built from the topology.
    pub fn cost(&self) -> &CostModel {
        &self.cost
    }

    /// Create a tensor owned by `owner`: check the shape, place it, reserve HBM, fill data.
    /// Filling costs the owner the time to write every shard (a meta tensor is free, as
    /// `torch.empty` is).
    pub fn create(&mut self, owner: u32, req: NewTensor) -> Result<TensorId, SimError> {
        let charge = req.init != Init::Meta;
        let id = self.store.allocate(owner, req)?;
        if charge {
            let t = self.store.tensor(id)?;
            let ns = self.cost.fill_ns(&t.shards, t.dtype);
            self.clocks.advance(owner, ns)?;
        }
        Ok(id)
    }

    /// Run the collective whose members' calls (in group order) have all arrived, member i
    /// having issued at `arrivals[i]` ns, as the `seq`-th of its scope (the rendezvous's
    /// numbering): price it, let `room` refuse its plan (the network's capacity), move its
    /// data and return its record and the plan of its communication.
    /// The caller runs the plan on the network and logs the record with its end
    /// ([`log_collective`](Self::log_collective)); members' clocks move when they wait.
    pub fn execute_collective(
        &mut self,
        calls: &[(u32, CollectiveCall)],
        arrivals: Vec<u64>,
        seq: u64,
        ccl: &CclConfig,
        room: &dyn Fn(&Plan) -> Result<(), SimError>,
    ) -> Result<(CollectiveRecord, Plan), SimError> {
        comm::execute(&mut self.store, &self.cost, calls, arrivals, seq, ccl, room)
    }

    /// Log a collective that has ended.
    pub fn log_collective(&mut self, record: CollectiveRecord) {
        self.log.push(record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::dtype::DType;
    use crate::sim::error::SimError;
    use crate::sim::placement::DpPolicy;
    use crate::sim::topology::TopologySpec;

    fn sim_with(hbm_bytes_per_cube: u64, limits: SimLimits) -> Simulator {
        let mut spec = TopologySpec::embedded_default();
        spec.system.hbm_bytes_per_cube = hbm_bytes_per_cube;
        let topo = spec.validate("test").unwrap_or_else(|e| panic!("{e}"));
        Simulator::new(topo, limits, 8)
    }

    fn req(shape: &[u64], dtype: DType, dp: DpPolicy, init: Init) -> NewTensor {
        NewTensor {
            shape: shape.to_vec(),
            dtype,
            dp,
            device: 3,
            init,
        }
    }

    #[test]
    fn full_tensor_holds_converted_values() {
        let mut sim = sim_with(1 << 20, SimLimits::default());
        let id = sim
            .create(
                0,
                req(&[2, 2], DType::BF16, DpPolicy::SplitRows, Init::Full(2.0)),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            sim.store.read_bytes(id, 0, 8).ok(),
            Some([0x00, 0x40].repeat(4))
        );
        let t = sim.store.tensor(id).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.shards.len(), 2, "two rows over 32 PEs gives two shards");
        assert!(t.shards.iter().all(|s| s.sip == 3));
    }

    #[test]
    fn out_of_memory_names_tensor_cube_and_amounts_and_reserves_nothing() {
        let mut sim = sim_with(1 << 20, SimLimits::default());
        let err = sim
            .create(
                1,
                req(&[1024, 1024], DType::F32, DpPolicy::Replicate, Init::Meta),
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "placing tensor [1024, 1024] float32 (replicate) on SIP 3: SIP 3 cube 0 needs 4.0 MiB, has 1.0 MiB free of 1.0 MiB"
        );
        assert_eq!(sim.store.hbm().used(3, 0), 0);
        assert_eq!(sim.store.live_tensors(), 0);
    }

    #[test]
    fn free_returns_hbm_and_data_budget() {
        let limits = SimLimits {
            max_data_bytes_per_run: 64,
            max_tensors_per_rank: 10,
            max_hbm_bytes_per_rank: None,
            ..SimLimits::default()
        };
        let mut sim = sim_with(1 << 20, limits);
        let a = sim
            .create(0, req(&[16], DType::F32, DpPolicy::Replicate, Init::Zeros))
            .unwrap_or_else(|e| panic!("{e}"));
        let err = sim
            .create(0, req(&[1], DType::F32, DpPolicy::Replicate, Init::Zeros))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("real-data budget has 0 B of 64 B left"),
            "{err}"
        );
        sim.store.free(a);
        assert_eq!(sim.store.hbm().used(3, 0), 0);
        assert!(
            sim.create(0, req(&[16], DType::F32, DpPolicy::Replicate, Init::Zeros))
                .is_ok()
        );
    }

    #[test]
    fn meta_tensors_cost_hbm_but_have_no_data() {
        let mut sim = sim_with(
            1 << 30,
            SimLimits {
                max_data_bytes_per_run: 0,
                max_tensors_per_rank: 10,
                max_hbm_bytes_per_rank: None,
                ..SimLimits::default()
            },
        );
        let id = sim
            .create(
                0,
                req(&[256, 1024], DType::F32, DpPolicy::Blocks, Init::Meta),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sim.store.hbm().used(3, 0), 256 * 1024);
        let err = sim.store.read_bytes(id, 0, 4).unwrap_err();
        assert!(
            err.to_string().contains("is a meta tensor and has no data"),
            "{err}"
        );
    }

    #[test]
    fn wrong_byte_count_and_bad_ranges_are_refused() {
        let mut sim = sim_with(1 << 20, SimLimits::default());
        let err = sim
            .create(
                0,
                req(
                    &[4],
                    DType::I32,
                    DpPolicy::Replicate,
                    Init::Bytes(vec![0; 15]),
                ),
            )
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("needs exactly 16 bytes of data, got 15"),
            "{err}"
        );
        let id = sim
            .create(0, req(&[4], DType::I32, DpPolicy::Replicate, Init::Ones))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(sim.store.read_bytes(id, 12, 8).is_err());
        assert!(sim.store.read_bytes(id, u64::MAX, 2).is_err());
        assert!(sim.store.write_bytes(id, 0, &[9; 16]).is_ok());
        assert_eq!(sim.store.read_bytes(id, 4, 4).ok(), Some(vec![9; 4]));
    }

    #[test]
    fn tensor_count_limit_is_per_rank() {
        let limits = SimLimits {
            max_data_bytes_per_run: 1 << 20,
            max_tensors_per_rank: 2,
            max_hbm_bytes_per_rank: None,
            ..SimLimits::default()
        };
        let mut sim = sim_with(1 << 20, limits);
        let r = || req(&[1], DType::I8, DpPolicy::Replicate, Init::Zeros);
        assert!(sim.create(0, r()).is_ok() && sim.create(0, r()).is_ok());
        assert!(matches!(
            sim.create(0, r()),
            Err(SimError::LimitExceeded(_))
        ));
        assert!(sim.create(1, r()).is_ok());
        sim.store.free_all_of(0);
        assert_eq!(sim.store.live_tensors(), 1);
    }

    #[test]
    fn shard_entries_are_bounded_per_rank_before_allocating() {
        // The default SIP has 4 cubes x 8 PEs: a split meta tensor of 32+ rows holds 32
        // shards, a replicated one 4.
        let limits = SimLimits {
            max_shards_per_rank: 68,
            ..SimLimits::default()
        };
        let mut sim = sim_with(1 << 20, limits);
        let split = || req(&[64], DType::I8, DpPolicy::SplitRows, Init::Meta);
        let a = sim.create(0, split()).unwrap();
        sim.create(0, split()).unwrap();
        let err = sim.create(0, split()).unwrap_err();
        assert!(matches!(err, SimError::LimitExceeded(_)), "{err}");
        assert!(
            err.to_string().contains(
                "has 32 shards on SIPs of 4 cubes x 8 PEs; rank 0's live tensors already hold 64 of the 68 shard entries a rank may hold (shards_per_rank)"
            ),
            "{err}"
        );
        // Refused before anything was allocated; a smaller tensor still fits, and the
        // quota is per rank and given back on free.
        assert_eq!(sim.store.live_tensors(), 2);
        sim.create(0, req(&[4], DType::I8, DpPolicy::Replicate, Init::Meta))
            .unwrap();
        sim.create(1, split()).unwrap();
        sim.store.free(a);
        sim.create(0, split()).unwrap();
    }

    #[test]
    fn hbm_per_rank_limit_counts_live_tensors_only() {
        let limits = SimLimits {
            max_hbm_bytes_per_rank: Some(1024),
            ..SimLimits::default()
        };
        let mut sim = sim_with(1 << 20, limits);
        let r = || req(&[128], DType::F32, DpPolicy::SplitRows, Init::Meta);
        let a = sim.create(0, r()).unwrap();
        assert!(sim.create(0, r()).is_ok());
        let err = sim.create(0, r()).unwrap_err().to_string();
        assert!(
            err.contains("rank 0 already holds 1.0 KiB and may hold at most 1.0 KiB"),
            "{err}"
        );
        assert!(sim.create(1, r()).is_ok(), "the limit is per rank");
        sim.store.free(a);
        assert!(sim.create(0, r()).is_ok());
    }

    #[test]
    fn out_of_range_device_is_named() {
        let mut sim = sim_with(1 << 20, SimLimits::default());
        let mut r = req(&[1], DType::I8, DpPolicy::Replicate, Init::Zeros);
        r.device = 8;
        let err = sim.create(0, r).unwrap_err();
        assert_eq!(
            err.to_string(),
            "device 8 is out of range: the system has 8 SIPs (0..=7)"
        );
    }
}
