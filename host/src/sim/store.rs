//! The tensors of one run and what they hold: shapes, placements, data, the HBM ledger, and
//! the per-rank and per-run quotas (tensors, shard entries, HBM, real data, host FLOPs)
//! checked before anything is allocated.

use super::call::TensorArg;
use super::cost::cube_ids;
use super::dtype::{DType, scalar_bytes};
use super::error::{SimError, human_bytes, invalid};
use super::memory::HbmLedger;
use super::placement::{DpPolicy, resolve_dp_policy, shape_2d, shard_count};
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
    /// Shard entries a rank's live tensors may hold together (a meta tensor split over a
    /// large SIP holds one per PE, so `max_tensors_per_rank` alone does not bound them).
    pub max_shards_per_rank: u64,
    /// Simulated HBM one rank's live tensors may occupy; `None`: only the cubes' capacity.
    pub max_hbm_bytes_per_rank: Option<u64>,
    /// Host arithmetic one op on real data may do (a matmul's 2mnk), checked before it runs.
    pub max_host_flops_per_op: Option<u64>,
    /// Host arithmetic all ops of the run may do together.
    pub max_host_flops_per_run: Option<u64>,
    /// When the run's wall-clock deadline passes: long host ops stop there.
    pub deadline: Option<std::time::Instant>,
}

impl Default for SimLimits {
    fn default() -> Self {
        SimLimits {
            max_data_bytes_per_run: 4 << 30,
            max_tensors_per_rank: 1 << 16,
            max_shards_per_rank: 1 << 22,
            max_hbm_bytes_per_rank: None,
            max_host_flops_per_op: None,
            max_host_flops_per_run: None,
            deadline: None,
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

/// Every live tensor of a run, with the HBM it holds and the quotas it counts against.
#[derive(Debug)]
pub struct TensorStore {
    topology: Topology,
    limits: SimLimits,
    hbm: HbmLedger,
    tensors: HashMap<TensorId, Tensor>,
    next_id: u64,
    data_bytes: u64,
    tensors_per_rank: HashMap<u32, u64>,
    shards_per_rank: HashMap<u32, u64>,
    hbm_per_rank: HashMap<u32, u64>,
    host_flops: u64,
    /// Tensors an operation in flight still moves, with how many such operations: freeing
    /// one is deferred until the last completes (as PyTorch's `Work` keeps its tensors alive).
    pinned: HashMap<TensorId, u32>,
    /// Pinned tensors whose owner freed them: freed when unpinned.
    deferred: std::collections::HashSet<TensorId>,
    /// Threads a collective's data movement may use (the run's worker threads); results do
    /// not depend on it.
    pub data_threads: usize,
}

impl TensorStore {
    /// An empty store on `topology`'s HBM.
    pub fn new(topology: Topology, limits: SimLimits) -> Self {
        let hbm = HbmLedger::new(
            topology.sips(),
            topology.cubes_per_sip(),
            topology.hbm_bytes_per_cube(),
        );
        TensorStore {
            topology,
            limits,
            hbm,
            tensors: HashMap::new(),
            next_id: 1,
            data_bytes: 0,
            tensors_per_rank: HashMap::new(),
            shards_per_rank: HashMap::new(),
            hbm_per_rank: HashMap::new(),
            host_flops: 0,
            pinned: HashMap::new(),
            deferred: std::collections::HashSet::new(),
            data_threads: 1,
        }
    }

    /// The limits the store enforces.
    pub fn limits(&self) -> &SimLimits {
        &self.limits
    }

    /// The topology tensors are placed on.
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

    /// Check the shape and every quota, place the tensor, reserve its HBM and fill its data.
    /// Charges no simulated time: the caller (creation, an op) charges what it costs.
    pub fn allocate(&mut self, owner: u32, req: NewTensor) -> Result<TensorId, SimError> {
        self.check_device(req.device)?;
        let (_, nbytes) = checked_size(&req.shape, req.dtype)?;
        let count = self.tensors_per_rank.get(&owner).copied().unwrap_or(0);
        if count >= self.limits.max_tensors_per_rank {
            return Err(SimError::LimitExceeded(format!(
                "rank {owner} already holds {count} live tensors, the per-rank limit; drop tensors it no longer needs"
            )));
        }
        let dims = shape_2d(&req.shape).ok_or_else(|| {
            SimError::InvalidArgument(format!(
                "shape {} overflows",
                describe(&req.shape, req.dtype)
            ))
        })?;
        let topo = &self.topology;
        let new_shards = shard_count(req.dp, dims, topo.pes_per_cube(), topo.cubes_per_sip());
        let held_shards = self.shards_per_rank.get(&owner).copied().unwrap_or(0);
        let limit = self.limits.max_shards_per_rank;
        if held_shards.saturating_add(new_shards) > limit {
            return Err(SimError::LimitExceeded(format!(
                "tensor {} ({}) has {new_shards} shards on SIPs of {} cubes x {} PEs; rank {owner}'s live tensors already hold {held_shards} of the {limit} shard entries a rank may hold (shards_per_rank)",
                describe(&req.shape, req.dtype),
                req.dp,
                topo.cubes_per_sip(),
                topo.pes_per_cube()
            )));
        }
        let data = match &req.init {
            Init::Meta => None,
            init => Some(self.new_data(&req, nbytes, init)?),
        };
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
        *self.shards_per_rank.entry(owner).or_default() += shards.len() as u64;
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
            Init::Ones => data.fill(&scalar_bytes(req.dtype, 1.0)),
            Init::Full(v) => data.fill(&scalar_bytes(req.dtype, *v)),
            Init::Bytes(bytes) => data.bytes_mut().copy_from_slice(bytes),
        }
        Ok(data)
    }

    /// Drop a tensor and give back its HBM. Unknown ids are ignored (already dropped).
    /// Keep `id` alive while an operation in flight moves it.
    pub fn pin(&mut self, id: TensorId) {
        *self.pinned.entry(id).or_insert(0) += 1;
    }

    /// An operation that moved `id` is over; a free deferred while it ran happens now.
    pub fn unpin(&mut self, id: TensorId) {
        if let Some(count) = self.pinned.get_mut(&id) {
            *count -= 1;
            if *count == 0 {
                self.pinned.remove(&id);
                if self.deferred.remove(&id) {
                    self.free(id);
                }
            }
        }
    }

    /// Free a tensor (at once, or when the last operation in flight that moves it is over).
    pub fn free(&mut self, id: TensorId) {
        if self.pinned.contains_key(&id) {
            self.deferred.insert(id);
            return;
        }
        if let Some(t) = self.tensors.remove(&id) {
            self.hbm.release(&t.shards);
            if t.data.is_some() {
                self.data_bytes -= t.nbytes();
            }
            if let Some(count) = self.tensors_per_rank.get_mut(&t.owner) {
                *count = count.saturating_sub(1);
            }
            if let Some(count) = self.shards_per_rank.get_mut(&t.owner) {
                *count = count.saturating_sub(t.shards.len() as u64);
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

    /// Charge `flops` of host arithmetic for `what`, or refuse it before it runs: a small
    /// guest call must not buy unbounded host time (`host_flops_per_op`, `_per_run`).
    pub fn charge_host_flops(&mut self, what: &str, flops: u64) -> Result<(), SimError> {
        if let Some(limit) = self.limits.max_host_flops_per_op
            && flops > limit
        {
            return Err(SimError::LimitExceeded(format!(
                "{what} needs {flops} host FLOPs, above the {limit} one op may use (host_flops_per_op); use meta tensors for sizes that only need timing"
            )));
        }
        let total = self.host_flops.saturating_add(flops);
        if let Some(limit) = self.limits.max_host_flops_per_run
            && total > limit
        {
            return Err(SimError::LimitExceeded(format!(
                "{what} needs {flops} host FLOPs; the run has used {} of its {limit} (host_flops_per_run)",
                self.host_flops
            )));
        }
        self.host_flops = total;
        Ok(())
    }

    /// Whether the run's wall-clock deadline has passed (long host ops poll this).
    pub fn past_deadline(&self) -> bool {
        self.limits
            .deadline
            .is_some_and(|d| std::time::Instant::now() >= d)
    }

    /// Capture tensor `id` as a collective argument.
    pub fn tensor_arg(&self, id: TensorId) -> Result<TensorArg, SimError> {
        let t = self.tensor(id)?;
        Ok(TensorArg {
            id,
            shape: t.shape.clone(),
            dtype: t.dtype,
            meta: t.data.is_none(),
            cubes: cube_ids(&t.shards),
        })
    }
}
