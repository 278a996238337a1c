//! `torch.distributed`: process group, rank identity and collectives. Rank = SIP.
//!
//! Collectives block until every member of the group has made the same call; a member that
//! makes a different call, or never makes it, ends the run with an error naming both.
//!
//! Every collective also has an `_async` form (PyTorch's `async_op=True`), and [`isend`] /
//! [`irecv`] start point-to-point transfers: each returns a [`Work`] at once, the transfer
//! proceeds in simulated time from its start, and [`Work::wait`] moves this rank's clock to
//! `max(now, completion)`, so compute issued in between overlaps it. A DDP step that
//! overlaps its gradient all-reduce with the next layer's backward pass:
//!
//! ```no_run
//! use kernbench::torch::{distributed as dist, DType, ReduceOp, Tensor, TensorOptions};
//!
//! fn main() -> Result<(), kernbench::Error> {
//!     dist::init_process_group("nccl")?; // an alias of "ccl", as a CUDA script writes it
//!     let opts = TensorOptions::new(DType::F32);
//!     let mut grad_last = Tensor::full(&[1024, 1024], 1.0, opts)?;
//!     let work = dist::all_reduce_async(&mut grad_last, ReduceOp::Avg)?;
//!     // ... backward of the layer below runs while the all-reduce is on the links ...
//!     let x = Tensor::ones(&[1024, 1024], opts)?;
//!     let _grad_below = x.matmul(&x)?;
//!     work.wait()?;
//!     Ok(())
//! }
//! ```

mod device_mesh;
mod lists;
mod objects;

pub use device_mesh::{DeviceMesh, init_device_mesh};
pub use lists::{
    all_gather, all_gather_async, all_to_all, all_to_all_async, gather, gather_async,
    reduce_scatter, reduce_scatter_async, scatter, scatter_async,
};
pub use objects::{all_gather_object, broadcast_object_list};

use crate::error::Result;
use crate::identity;
use crate::tensor::Tensor;
use crate::types::ReduceOp;
use crate::wit::distributed as w;
use std::marker::PhantomData;

/// Join the default process group. The backend is `"ccl"`; `"nccl"` and `"gloo"` are
/// accepted as its aliases, so a ported script keeps its line (the report names the alias).
pub fn init_process_group(backend: &str) -> Result<()> {
    crate::version::keep_stamp();
    let id = w::init_process_group(backend)?;
    identity::set_identity(Some((id.rank, id.world_size)));
    Ok(())
}

/// Whether `init_process_group` has been called.
pub fn is_initialized() -> bool {
    w::is_initialized()
}

/// This rank (an error before `init_process_group`; always 0 in driver mode).
pub fn get_rank() -> Result<u32> {
    match identity::identity() {
        Some((rank, _)) => Ok(rank),
        None => Ok(w::get_rank()?),
    }
}

/// Number of ranks (1 in driver mode).
pub fn get_world_size() -> Result<u32> {
    match identity::identity() {
        Some((_, size)) => Ok(size),
        None => Ok(w::get_world_size()?),
    }
}

/// The default group's backend: always `"ccl"`, whatever alias it was initialised with.
pub fn get_backend() -> Result<String> {
    Ok(w::get_backend()?)
}

/// Leave the default process group (as at the end of a PyTorch script). An error while
/// operations are still in flight; `init_process_group` may be called again afterwards.
pub fn destroy_process_group() -> Result<()> {
    w::destroy_process_group()?;
    identity::set_identity(None);
    Ok(())
}

/// An operation in flight, as PyTorch's `Work`: returned by [`isend`], [`irecv`] and every
/// `_async` collective. It borrows the tensors it moves, so they cannot be touched until it
/// is waited for. Dropping it does not cancel the operation; it must still complete before
/// the rank exits (the host fails a rank that exits with operations in flight).
#[must_use = "an operation in flight must be waited for"]
pub struct Work<'a> {
    /// The host operations it is made of (a list collective may be several transfers).
    parts: Vec<w::Work>,
    /// What finishes it once they are done (copying a flat buffer out into a list ...).
    then: Option<Finish<'a>>,
    tensors: PhantomData<&'a mut Tensor>,
}

/// The last step of a composed operation, run by [`Work::wait`].
type Finish<'a> = Box<dyn FnOnce() -> Result<()> + 'a>;

impl std::fmt::Debug for Work<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Work")
            .field("parts", &self.parts.len())
            .field("finish", &self.then.is_some())
            .finish()
    }
}

impl<'a> Work<'a> {
    fn new(inner: w::Work) -> Self {
        Work::of(vec![inner], None)
    }

    /// A work made of `parts`, finished by `then` once they are done.
    fn of(parts: Vec<w::Work>, then: Option<Finish<'a>>) -> Self {
        Work {
            parts,
            then,
            tensors: PhantomData,
        }
    }

    /// Block until the operation is done; this rank's simulated clock moves to
    /// `max(now, completion)`.
    pub fn wait(self) -> Result<()> {
        for part in &self.parts {
            part.wait()?;
        }
        match self.then {
            Some(finish) => finish(),
            None => Ok(()),
        }
    }

    /// Whether the operation is done, without waiting (its simulated completion may still be
    /// ahead of this rank's clock: only `wait` moves the clock).
    pub fn is_completed(&self) -> bool {
        self.parts.iter().all(w::Work::is_completed)
    }
}

/// One transfer of a [`batch_isend_irecv`], as `torch.distributed.P2POp`.
#[derive(Debug)]
pub enum P2POp<'a> {
    /// Send the tensor to global rank `peer`.
    Send {
        /// What is sent.
        tensor: &'a Tensor,
        /// The receiver.
        peer: u32,
    },
    /// Receive into the tensor from global rank `peer`.
    Recv {
        /// Where it lands.
        tensor: &'a mut Tensor,
        /// The sender.
        peer: u32,
    },
}

/// Start every transfer of `ops` (in the world group) and return their works, in order. As
/// in PyTorch, the order of sends and receives within a batch does not matter for matching:
/// each direction between two ranks is its own ordered channel.
///
/// ```no_run
/// use kernbench::torch::distributed::{self as dist, P2POp};
/// use kernbench::torch::{DType, Tensor};
/// # fn main() -> Result<(), kernbench::Error> {
/// dist::init_process_group("ccl")?;
/// let (rank, n) = (dist::get_rank()?, dist::get_world_size()?);
/// let mine = Tensor::full(&[1024], f64::from(rank), DType::F32)?;
/// let mut from_prev = Tensor::zeros(&[1024], DType::F32)?;
/// // A ring shift: both directions of every link busy at once, one transfer time in all.
/// let works = dist::batch_isend_irecv(vec![
///     P2POp::Send { tensor: &mine, peer: (rank + 1) % n },
///     P2POp::Recv { tensor: &mut from_prev, peer: (rank + n - 1) % n },
/// ])?;
/// for w in works {
///     w.wait()?;
/// }
/// # Ok(())
/// # }
/// ```
pub fn batch_isend_irecv<'a>(ops: Vec<P2POp<'a>>) -> Result<Vec<Work<'a>>> {
    ProcessGroup::WORLD.batch_isend_irecv(ops)
}

/// Start sending `tensor` to rank `dst`; see [`Work`].
pub fn isend(tensor: &Tensor, dst: u32) -> Result<Work<'_>> {
    ProcessGroup::WORLD.isend(tensor, dst)
}

/// Start receiving into `tensor` from rank `src`; see [`Work`].
pub fn irecv(tensor: &mut Tensor, src: u32) -> Result<Work<'_>> {
    ProcessGroup::WORLD.irecv(tensor, src)
}

/// [`barrier`] with `async_op=True`.
pub fn barrier_async() -> Result<Work<'static>> {
    ProcessGroup::WORLD.barrier_async()
}

/// [`all_reduce`] with `async_op=True`.
pub fn all_reduce_async(tensor: &mut Tensor, op: ReduceOp) -> Result<Work<'_>> {
    ProcessGroup::WORLD.all_reduce_async(tensor, op)
}

/// [`broadcast`] with `async_op=True`.
pub fn broadcast_async(tensor: &mut Tensor, src: u32) -> Result<Work<'_>> {
    ProcessGroup::WORLD.broadcast_async(tensor, src)
}

/// [`reduce`] with `async_op=True`.
pub fn reduce_async(tensor: &mut Tensor, dst: u32, op: ReduceOp) -> Result<Work<'_>> {
    ProcessGroup::WORLD.reduce_async(tensor, dst, op)
}

/// [`all_gather_into_tensor`] with `async_op=True`.
pub fn all_gather_into_tensor_async<'a>(
    output: &'a mut Tensor,
    input: &'a Tensor,
) -> Result<Work<'a>> {
    ProcessGroup::WORLD.all_gather_into_tensor_async(output, input)
}

/// [`reduce_scatter_tensor`] with `async_op=True`.
pub fn reduce_scatter_tensor_async<'a>(
    output: &'a mut Tensor,
    input: &'a Tensor,
    op: ReduceOp,
) -> Result<Work<'a>> {
    ProcessGroup::WORLD.reduce_scatter_tensor_async(output, input, op)
}

/// [`all_to_all_single`] with `async_op=True`.
pub fn all_to_all_single_async<'a>(output: &'a mut Tensor, input: &'a Tensor) -> Result<Work<'a>> {
    ProcessGroup::WORLD.all_to_all_single_async(output, input)
}

/// Wait for every rank of the world.
pub fn barrier() -> Result<()> {
    Ok(w::barrier(None)?)
}

/// [`barrier`] that names the ranks that never arrive, as `monitored_barrier`. Every wait in
/// the host does: when no waiting rank can be released, each one's failure lists the members
/// its collective still misses, and a member that exited is named as such. (There is no
/// wall-clock timeout to set: the simulator sees a rank that never arrives at once.)
pub fn monitored_barrier() -> Result<()> {
    barrier()
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

    /// The group argument of a WIT call: none for the world.
    fn wit(&self) -> Option<u32> {
        (self.id != 0).then_some(self.id)
    }

    /// [`isend`] within this group.
    pub fn isend<'a>(&self, tensor: &'a Tensor, dst: u32) -> Result<Work<'a>> {
        Ok(Work::new(w::isend(&tensor.inner, dst, self.wit())?))
    }

    /// [`irecv`] within this group.
    pub fn irecv<'a>(&self, tensor: &'a mut Tensor, src: u32) -> Result<Work<'a>> {
        Ok(Work::new(w::irecv(&tensor.inner, src, self.wit())?))
    }

    /// [`batch_isend_irecv`] within this group. If one transfer cannot start, the works
    /// already started are dropped (their transfers stay in flight) and the error returned.
    pub fn batch_isend_irecv<'a>(&self, ops: Vec<P2POp<'a>>) -> Result<Vec<Work<'a>>> {
        let mut works = Vec::with_capacity(ops.len());
        for op in ops {
            works.push(match op {
                P2POp::Send { tensor, peer } => self.isend(tensor, peer)?,
                P2POp::Recv { tensor, peer } => self.irecv(tensor, peer)?,
            });
        }
        Ok(works)
    }

    /// [`barrier`](Self::barrier) with `async_op=True`.
    pub fn barrier_async(&self) -> Result<Work<'static>> {
        Ok(Work::new(w::barrier_async(self.wit())?))
    }

    /// [`all_reduce`](Self::all_reduce) with `async_op=True`.
    pub fn all_reduce_async<'a>(&self, tensor: &'a mut Tensor, op: ReduceOp) -> Result<Work<'a>> {
        Ok(Work::new(w::all_reduce_async(
            &tensor.inner,
            op.into(),
            self.wit(),
        )?))
    }

    /// [`broadcast`](Self::broadcast) with `async_op=True`.
    pub fn broadcast_async<'a>(&self, tensor: &'a mut Tensor, src: u32) -> Result<Work<'a>> {
        Ok(Work::new(w::broadcast_async(
            &tensor.inner,
            src,
            self.wit(),
        )?))
    }

    /// [`reduce`](Self::reduce) with `async_op=True`.
    pub fn reduce_async<'a>(
        &self,
        tensor: &'a mut Tensor,
        dst: u32,
        op: ReduceOp,
    ) -> Result<Work<'a>> {
        Ok(Work::new(w::reduce_async(
            &tensor.inner,
            dst,
            op.into(),
            self.wit(),
        )?))
    }

    /// [`all_gather_into_tensor`](Self::all_gather_into_tensor) with `async_op=True`.
    pub fn all_gather_into_tensor_async<'a>(
        &self,
        output: &'a mut Tensor,
        input: &'a Tensor,
    ) -> Result<Work<'a>> {
        Ok(Work::new(w::all_gather_into_tensor_async(
            &output.inner,
            &input.inner,
            self.wit(),
        )?))
    }

    /// [`reduce_scatter_tensor`](Self::reduce_scatter_tensor) with `async_op=True`.
    pub fn reduce_scatter_tensor_async<'a>(
        &self,
        output: &'a mut Tensor,
        input: &'a Tensor,
        op: ReduceOp,
    ) -> Result<Work<'a>> {
        Ok(Work::new(w::reduce_scatter_tensor_async(
            &output.inner,
            &input.inner,
            op.into(),
            self.wit(),
        )?))
    }

    /// [`all_to_all_single`](Self::all_to_all_single) with `async_op=True`.
    pub fn all_to_all_single_async<'a>(
        &self,
        output: &'a mut Tensor,
        input: &'a Tensor,
    ) -> Result<Work<'a>> {
        Ok(Work::new(w::all_to_all_single_async(
            &output.inner,
            &input.inner,
            self.wit(),
        )?))
    }
}
