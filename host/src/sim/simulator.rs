//! The SIP system as one value: topology, HBM ledger, tensors and per-rank clocks.
//!
//! Everything here is plain data and synchronous; the runtime wraps one `Simulator` per run
//! and calls into it from host imports. No wasmtime type appears in this module.

use super::comm::{CollectiveRecord, MAX_COLLECTIVE_RECORDS};
use super::cost::CostModel;
use super::dtype::DType;
use super::error::{SimError, human_bytes, invalid};
use super::memory::HbmLedger;
use super::placement::{DpPolicy, resolve_dp_policy, shape_2d};
use super::tensor::{Tensor, TensorData, checked_size, describe};
use super::topology::Topology;
use std::collections::HashMap;

/// Handle of a tensor inside the simulator. Never reused within a run, so a stale handle
/// can never reach another tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(pub u64);

/// Host-side bounds that keep a run inside the machine running it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimLimits {
    /// Real tensor data (host RAM) over all ranks of the run. Meta tensors do not count.
    pub max_data_bytes_per_run: u64,
    /// Live tensors per rank.
    pub max_tensors_per_rank: u64,
    /// Simulated HBM one rank's live tensors may occupy; `None`: only the cubes' capacity.
    pub max_hbm_bytes_per_rank: Option<u64>,
}

impl Default for SimLimits {
    fn default() -> Self {
        SimLimits {
            max_data_bytes_per_run: 4 << 30,
            max_tensors_per_rank: 1 << 16,
            max_hbm_bytes_per_rank: None,
        }
    }
}

/// How a new tensor's elements start out.
#[derive(Debug, Clone, PartialEq)]
pub enum Init {
    /// All zero.
    Zeros,
    /// All one.
    Ones,
    /// All this value, converted to the dtype.
    Full(f64),
    /// These little-endian bytes.
    Bytes(Vec<u8>),
    /// No data at all (a meta tensor).
    Meta,
}

/// A request for a new tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTensor {
    /// Dimensions.
    pub shape: Vec<u64>,
    /// Element type.
    pub dtype: DType,
    /// Layout in the SIP.
    pub dp: DpPolicy,
    /// SIP to place it on.
    pub device: u32,
    /// Initial contents.
    pub init: Init,
}

/// The simulated system of one run.
#[derive(Debug)]
pub struct Simulator {
    topology: Topology,
    limits: SimLimits,
    hbm: HbmLedger,
    tensors: HashMap<TensorId, Tensor>,
    next_id: u64,
    data_bytes: u64,
    tensors_per_rank: HashMap<u32, u64>,
    hbm_per_rank: HashMap<u32, u64>,
    clocks_ns: Vec<u64>,
    cost: CostModel,
    collectives: Vec<CollectiveRecord>,
    collectives_run: u64,
    collective_seqs: rustc_hash::FxHashMap<(u32, u32, u32), u64>,
}

impl Simulator {
    /// A fresh system with `ranks` rank clocks at zero.
    pub fn new(topology: Topology, limits: SimLimits, ranks: u32) -> Self {
        let hbm = HbmLedger::new(
            topology.sips(),
            topology.cubes_per_sip(),
            topology.hbm_bytes_per_cube(),
        );
        Simulator {
            limits,
            hbm,
            tensors: HashMap::new(),
            next_id: 1,
            data_bytes: 0,
            tensors_per_rank: HashMap::new(),
            hbm_per_rank: HashMap::new(),
            clocks_ns: vec![0; ranks as usize],
            cost: CostModel::new(&topology),
            collectives: Vec::new(),
            collectives_run: 0,
            collective_seqs: rustc_hash::FxHashMap::default(),
            topology,
        }
    }

    /// The cost model built from the topology.
    pub fn cost(&self) -> &CostModel {
        &self.cost
    }

    /// Collectives run so far, in completion order (at most [`MAX_COLLECTIVE_RECORDS`]).
    pub fn collectives(&self) -> &[CollectiveRecord] {
        &self.collectives
    }

    /// Number of collectives run, including any not kept.
    pub fn collectives_run(&self) -> u64 {
        self.collectives_run
    }

    /// The next sequence number for collectives of `ranks` in `group`: calls of the same
    /// members run one after another, so this numbering does not depend on scheduling.
    pub(crate) fn next_collective_seq(&mut self, group: u32, ranks: &[u32]) -> u64 {
        // A group's calls all involve its whole membership, except point-to-point calls,
        // which are ordered per pair: key by the group and, for pairs, the two ranks.
        let key = match ranks {
            [a, b] => (group, *a, *b),
            _ => (group, u32::MAX, u32::MAX),
        };
        let seq = self.collective_seqs.entry(key).or_insert(0);
        *seq += 1;
        *seq - 1
    }

    /// Collective records in an order that depends only on simulated time and program order
    /// (start time, group, sequence), not on how the host interleaved ranks; `index` follows.
    pub fn collectives_in_order(&self) -> Vec<CollectiveRecord> {
        let mut records = self.collectives.clone();
        records.sort_by(|a, b| {
            (a.start_ns, a.group, &a.ranks, a.seq).cmp(&(b.start_ns, b.group, &b.ranks, b.seq))
        });
        for (i, r) in records.iter_mut().enumerate() {
            r.index = i as u64;
        }
        records
    }

    pub(crate) fn push_collective(&mut self, record: CollectiveRecord) {
        self.collectives_run += 1;
        if self.collectives.len() < MAX_COLLECTIVE_RECORDS {
            self.collectives.push(record);
        }
    }

    /// The topology.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The HBM ledger.
    pub fn hbm(&self) -> &HbmLedger {
        &self.hbm
    }

    /// Check that `device` names a SIP.
    pub fn check_device(&self, device: u32) -> Result<(), SimError> {
        let sips = self.topology.sips();
        if device < sips {
            Ok(())
        } else {
            Err(SimError::InvalidDevice(format!(
                "device {device} is out of range: the system has {sips} SIPs (0..={})",
                sips - 1
            )))
        }
    }

    /// Create a tensor owned by `owner`: check the shape, place it, reserve HBM, fill data.
    /// Filling costs the owner the time to write every shard (a meta tensor is free, as
    /// `torch.empty` is).
    pub fn create(&mut self, owner: u32, req: NewTensor) -> Result<TensorId, SimError> {
        let charge = req.init != Init::Meta;
        let id = self.allocate(owner, req)?;
        if charge {
            let t = self.tensor(id)?;
            let ns = self.cost.fill_ns(&t.shards, t.dtype.itemsize());
            self.advance(owner, ns);
        }
        Ok(id)
    }

    /// Create without charging time: the result of an op whose cost the op charges.
    pub(crate) fn allocate(&mut self, owner: u32, req: NewTensor) -> Result<TensorId, SimError> {
        self.check_device(req.device)?;
        let (_, nbytes) = checked_size(&req.shape, req.dtype)?;
        let count = self.tensors_per_rank.get(&owner).copied().unwrap_or(0);
        if count >= self.limits.max_tensors_per_rank {
            return Err(SimError::LimitExceeded(format!(
                "rank {owner} already holds {count} live tensors, the per-rank limit; drop tensors it no longer needs"
            )));
        }
        let data = match &req.init {
            Init::Meta => None,
            init => Some(self.new_data(&req, nbytes, init)?),
        };
        let dims = shape_2d(&req.shape).ok_or_else(|| {
            SimError::InvalidArgument(format!(
                "shape {} overflows",
                describe(&req.shape, req.dtype)
            ))
        })?;
        let topo = &self.topology;
        let shards = resolve_dp_policy(
            req.dp,
            dims,
            req.dtype.itemsize(),
            topo.pes_per_cube(),
            topo.cubes_per_sip(),
            req.device,
        )?;
        let hbm_bytes: u64 = shards.iter().map(|s| s.bytes).fold(0, u64::saturating_add);
        let held = self.hbm_per_rank.get(&owner).copied().unwrap_or(0);
        if let Some(limit) = self.limits.max_hbm_bytes_per_rank
            && held.saturating_add(hbm_bytes) > limit
        {
            return Err(SimError::LimitExceeded(format!(
                "tensor {} needs {} of HBM; rank {owner} already holds {} and may hold at most {} (hbm_bytes_per_rank)",
                describe(&req.shape, req.dtype),
                human_bytes(hbm_bytes),
                human_bytes(held),
                human_bytes(limit)
            )));
        }
        self.hbm.reserve(&shards, || {
            format!(
                "placing tensor {} ({}) on SIP {}",
                describe(&req.shape, req.dtype),
                req.dp,
                req.device
            )
        })?;
        let id = TensorId(self.next_id);
        self.next_id += 1;
        self.data_bytes += data.as_ref().map_or(0, |_| nbytes);
        *self.tensors_per_rank.entry(owner).or_default() += 1;
        *self.hbm_per_rank.entry(owner).or_default() += hbm_bytes;
        self.tensors.insert(
            id,
            Tensor {
                shape: req.shape,
                dtype: req.dtype,
                dp: req.dp,
                device: req.device,
                shards,
                data,
                owner,
            },
        );
        Ok(id)
    }

    fn new_data(&self, req: &NewTensor, nbytes: u64, init: &Init) -> Result<TensorData, SimError> {
        let budget = self.limits.max_data_bytes_per_run;
        if nbytes > budget.saturating_sub(self.data_bytes) {
            return Err(SimError::LimitExceeded(format!(
                "tensor {} needs {} of host memory for its data, but the run's real-data budget has {} of {} left; use a meta tensor for sizes that only need timing",
                describe(&req.shape, req.dtype),
                human_bytes(nbytes),
                human_bytes(budget.saturating_sub(self.data_bytes)),
                human_bytes(budget)
            )));
        }
        if let Init::Bytes(bytes) = init
            && bytes.len() as u64 != nbytes
        {
            return invalid!(
                "tensor {} needs exactly {nbytes} bytes of data, got {}",
                describe(&req.shape, req.dtype),
                bytes.len()
            );
        }
        let mut data = TensorData::zeroed(nbytes)?;
        match init {
            Init::Zeros | Init::Meta => {}
            Init::Ones => data.fill(&req.dtype.scalar_bytes(1.0)),
            Init::Full(v) => data.fill(&req.dtype.scalar_bytes(*v)),
            Init::Bytes(bytes) => data.bytes_mut().copy_from_slice(bytes),
        }
        Ok(data)
    }

    /// Drop a tensor and give back its HBM. Unknown ids are ignored (already dropped).
    pub fn free(&mut self, id: TensorId) {
        if let Some(t) = self.tensors.remove(&id) {
            self.hbm.release(&t.shards);
            if t.data.is_some() {
                self.data_bytes -= t.nbytes();
            }
            if let Some(count) = self.tensors_per_rank.get_mut(&t.owner) {
                *count = count.saturating_sub(1);
            }
            if let Some(held) = self.hbm_per_rank.get_mut(&t.owner) {
                *held = held.saturating_sub(t.hbm_bytes());
            }
        }
    }

    /// Drop every tensor `owner` still holds (its instance is gone).
    pub fn free_all_of(&mut self, owner: u32) {
        let ids: Vec<TensorId> = self
            .tensors
            .iter()
            .filter(|(_, t)| t.owner == owner)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.free(id);
        }
    }

    /// A tensor by id.
    pub fn tensor(&self, id: TensorId) -> Result<&Tensor, SimError> {
        self.tensors
            .get(&id)
            .ok_or_else(|| SimError::InvalidArgument(format!("tensor #{} does not exist", id.0)))
    }

    /// A tensor by id, writable.
    pub fn tensor_mut(&mut self, id: TensorId) -> Result<&mut Tensor, SimError> {
        self.tensors
            .get_mut(&id)
            .ok_or_else(|| SimError::InvalidArgument(format!("tensor #{} does not exist", id.0)))
    }

    /// Number of live tensors.
    pub fn live_tensors(&self) -> usize {
        self.tensors.len()
    }

    /// `len` bytes of a tensor's data from `offset`.
    pub fn read_bytes(&self, id: TensorId, offset: u64, len: u64) -> Result<Vec<u8>, SimError> {
        let t = self.tensor(id)?;
        let range = t.check_range(offset, len)?;
        Ok(t.data("read-bytes")?.bytes()[range].to_vec())
    }

    /// Overwrite a tensor's data from `offset`.
    pub fn write_bytes(&mut self, id: TensorId, offset: u64, bytes: &[u8]) -> Result<(), SimError> {
        let t = self.tensor_mut(id)?;
        let range = t.check_range(offset, bytes.len() as u64)?;
        t.data_mut("write-bytes")?.bytes_mut()[range].copy_from_slice(bytes);
        Ok(())
    }

    /// A rank's simulated time.
    pub fn clock_ns(&self, rank: u32) -> u64 {
        self.clocks_ns.get(rank as usize).copied().unwrap_or(0)
    }

    /// Move a rank's clock forward by `ns`.
    pub fn advance(&mut self, rank: u32, ns: u64) {
        if let Some(clock) = self.clocks_ns.get_mut(rank as usize) {
            *clock = clock.saturating_add(ns);
        }
    }

    /// Set a rank's clock (a collective moves its members to its end time).
    pub fn set_clock(&mut self, rank: u32, ns: u64) {
        if let Some(clock) = self.clocks_ns.get_mut(rank as usize) {
            *clock = ns;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert_eq!(sim.read_bytes(id, 0, 8).ok(), Some([0x00, 0x40].repeat(4)));
        let t = sim.tensor(id).unwrap_or_else(|e| panic!("{e}"));
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
        assert_eq!(sim.hbm().used(3, 0), 0);
        assert_eq!(sim.live_tensors(), 0);
    }

    #[test]
    fn free_returns_hbm_and_data_budget() {
        let limits = SimLimits {
            max_data_bytes_per_run: 64,
            max_tensors_per_rank: 10,
            max_hbm_bytes_per_rank: None,
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
        sim.free(a);
        assert_eq!(sim.hbm().used(3, 0), 0);
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
            },
        );
        let id = sim
            .create(
                0,
                req(&[256, 1024], DType::F32, DpPolicy::Blocks, Init::Meta),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sim.hbm().used(3, 0), 256 * 1024);
        let err = sim.read_bytes(id, 0, 4).unwrap_err();
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
        assert!(sim.read_bytes(id, 12, 8).is_err());
        assert!(sim.read_bytes(id, u64::MAX, 2).is_err());
        assert!(sim.write_bytes(id, 0, &[9; 16]).is_ok());
        assert_eq!(sim.read_bytes(id, 4, 4).ok(), Some(vec![9; 4]));
    }

    #[test]
    fn tensor_count_limit_is_per_rank() {
        let limits = SimLimits {
            max_data_bytes_per_run: 1 << 20,
            max_tensors_per_rank: 2,
            max_hbm_bytes_per_rank: None,
        };
        let mut sim = sim_with(1 << 20, limits);
        let r = || req(&[1], DType::I8, DpPolicy::Replicate, Init::Zeros);
        assert!(sim.create(0, r()).is_ok() && sim.create(0, r()).is_ok());
        assert!(matches!(
            sim.create(0, r()),
            Err(SimError::LimitExceeded(_))
        ));
        assert!(sim.create(1, r()).is_ok());
        sim.free_all_of(0);
        assert_eq!(sim.live_tensors(), 1);
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
        sim.free(a);
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
