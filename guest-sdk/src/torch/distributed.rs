//! `torch.distributed`: process group, rank identity and collectives. Rank = SIP.
//!
//! Collectives block until every member of the group has made the same call; a member that
//! makes a different call, or never makes it, ends the run with an error naming both.

use crate::error::Result;
use crate::tensor::Tensor;
use crate::types::ReduceOp;
use crate::wit::distributed as w;

/// Join the default process group. The backend is `"ccl"` (as `"nccl"` on CUDA).
pub fn init_process_group(backend: &str) -> Result<()> {
    crate::version::keep_stamp();
    Ok(w::init_process_group(backend)?)
}

/// Whether `init_process_group` has been called.
pub fn is_initialized() -> bool {
    w::is_initialized()
}

/// This rank (an error before `init_process_group`; always 0 in driver mode).
pub fn get_rank() -> Result<u32> {
    Ok(w::get_rank()?)
}

/// Number of ranks (1 in driver mode).
pub fn get_world_size() -> Result<u32> {
    Ok(w::get_world_size()?)
}

/// Wait for every rank of the world.
pub fn barrier() -> Result<()> {
    Ok(w::barrier(None)?)
}

/// Reduce `tensor` over the world; every rank gets the result in place.
pub fn all_reduce(tensor: &mut Tensor, op: ReduceOp) -> Result<()> {
    Ok(w::all_reduce(&tensor.inner, op.into(), None)?)
}

/// Copy `tensor` from rank `src` to every rank.
pub fn broadcast(tensor: &mut Tensor, src: u32) -> Result<()> {
    Ok(w::broadcast(&tensor.inner, src, None)?)
}

/// Reduce `tensor` into rank `dst`; the others keep theirs.
pub fn reduce(tensor: &mut Tensor, dst: u32, op: ReduceOp) -> Result<()> {
    Ok(w::reduce(&tensor.inner, dst, op.into(), None)?)
}

/// Gather every rank's `input` along dim 0 into `output` (`world_size` times as many rows).
pub fn all_gather_into_tensor(output: &mut Tensor, input: &Tensor) -> Result<()> {
    Ok(w::all_gather_into_tensor(
        &output.inner,
        &input.inner,
        None,
    )?)
}

/// Reduce `input` over the world and give rank i block i (along dim 0) in `output`.
pub fn reduce_scatter_tensor(output: &mut Tensor, input: &Tensor, op: ReduceOp) -> Result<()> {
    Ok(w::reduce_scatter_tensor(
        &output.inner,
        &input.inner,
        op.into(),
        None,
    )?)
}

/// Block j of `input` goes to rank j; `output` receives block i of every rank.
pub fn all_to_all_single(output: &mut Tensor, input: &Tensor) -> Result<()> {
    Ok(w::all_to_all_single(&output.inner, &input.inner, None)?)
}

/// Send `tensor` to rank `dst` (returns once the matching `recv` has taken it).
pub fn send(tensor: &Tensor, dst: u32) -> Result<()> {
    Ok(w::send(&tensor.inner, dst, None)?)
}

/// Receive into `tensor` from rank `src`.
pub fn recv(tensor: &mut Tensor, src: u32) -> Result<()> {
    Ok(w::recv(&tensor.inner, src, None)?)
}

/// A new process group of the given global ranks. Every rank calls it, in the same order,
/// with the same list (as `torch.distributed.new_group`); ranks outside get a handle they
/// cannot use for collectives.
pub fn new_group(ranks: &[u32]) -> Result<ProcessGroup> {
    Ok(ProcessGroup {
        id: w::new_group(ranks)?,
    })
}

/// A process group: collectives over a subset of ranks, e.g. a tensor-parallel group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProcessGroup {
    id: u32,
}

impl ProcessGroup {
    /// The world group.
    pub const WORLD: ProcessGroup = ProcessGroup { id: 0 };

    /// This rank's index in the group, or `None` if it is not a member.
    pub fn rank(&self) -> Result<Option<u32>> {
        Ok(w::group_rank(self.id)?)
    }

    /// Number of members.
    pub fn size(&self) -> Result<u32> {
        Ok(w::group_size(self.id)?)
    }

    /// Global rank of the member with index `group_rank`.
    pub fn global_rank(&self, group_rank: u32) -> Result<u32> {
        Ok(w::get_global_rank(self.id, group_rank)?)
    }

    /// Wait for every member.
    pub fn barrier(&self) -> Result<()> {
        Ok(w::barrier(Some(self.id))?)
    }

    /// [`all_reduce`] over this group.
    pub fn all_reduce(&self, tensor: &mut Tensor, op: ReduceOp) -> Result<()> {
        Ok(w::all_reduce(&tensor.inner, op.into(), Some(self.id))?)
    }

    /// [`broadcast`] from global rank `src` over this group.
    pub fn broadcast(&self, tensor: &mut Tensor, src: u32) -> Result<()> {
        Ok(w::broadcast(&tensor.inner, src, Some(self.id))?)
    }

    /// [`reduce`] into global rank `dst` over this group.
    pub fn reduce(&self, tensor: &mut Tensor, dst: u32, op: ReduceOp) -> Result<()> {
        Ok(w::reduce(&tensor.inner, dst, op.into(), Some(self.id))?)
    }

    /// [`all_gather_into_tensor`] over this group.
    pub fn all_gather_into_tensor(&self, output: &mut Tensor, input: &Tensor) -> Result<()> {
        Ok(w::all_gather_into_tensor(
            &output.inner,
            &input.inner,
            Some(self.id),
        )?)
    }

    /// [`reduce_scatter_tensor`] over this group.
    pub fn reduce_scatter_tensor(
        &self,
        output: &mut Tensor,
        input: &Tensor,
        op: ReduceOp,
    ) -> Result<()> {
        Ok(w::reduce_scatter_tensor(
            &output.inner,
            &input.inner,
            op.into(),
            Some(self.id),
        )?)
    }

    /// [`all_to_all_single`] over this group.
    pub fn all_to_all_single(&self, output: &mut Tensor, input: &Tensor) -> Result<()> {
        Ok(w::all_to_all_single(
            &output.inner,
            &input.inner,
            Some(self.id),
        )?)
    }

    /// [`send`] to global rank `dst` within this group.
    pub fn send(&self, tensor: &Tensor, dst: u32) -> Result<()> {
        Ok(w::send(&tensor.inner, dst, Some(self.id))?)
    }

    /// [`recv`] from global rank `src` within this group.
    pub fn recv(&self, tensor: &mut Tensor, src: u32) -> Result<()> {
        Ok(w::recv(&tensor.inner, src, Some(self.id))?)
    }
}
