//! The list forms of PyTorch's collectives (each with an `_async` form returning a [`Work`]),
//! built as PyTorch's NCCL backend builds them:
//! `all_gather` and `reduce_scatter` through one flat tensor and the `_tensor` collective
//! (then copies in or out), `all_to_all`, `gather` and `scatter` as point-to-point transfers
//! issued together and waited for together. List index i is group rank i; roots are global
//! ranks. The simulated time is that of the pieces (the copies, the collective, the
//! transfers: until the cost model shares links, transfers issued together overlap fully).
//!
//! ```no_run
//! use kernbench::torch::{distributed as dist, DType, Tensor};
//! # fn main() -> Result<(), kernbench::Error> {
//! dist::init_process_group("ccl")?;
//! let (rank, n) = (dist::get_rank()?, dist::get_world_size()?);
//! let mine = Tensor::full(&[4], f64::from(rank), DType::F32)?;
//! let mut all = (0..n).map(|_| Tensor::zeros(&[4], DType::F32)).collect::<Result<Vec<_>, _>>()?;
//! dist::all_gather(&mut all, &mine)?; // all[i] holds rank i's tensor
//! if rank == 0 {
//!     let mut at_root = (0..n).map(|_| Tensor::zeros(&[4], DType::F32)).collect::<Result<Vec<_>, _>>()?;
//!     dist::gather(&mine, Some(&mut at_root), 0)?;
//! } else {
//!     dist::gather(&mine, None, 0)?;
//! }
//! # Ok(())
//! # }
//! ```

use super::{ProcessGroup, Work};
use crate::error::{Error, ErrorKind, Result};
use crate::tensor::{Tensor, TensorOptions};
use crate::types::ReduceOp;

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}

/// `shape` with its first dimension multiplied by `n` (a 0-d shape becomes `[n]`).
fn stacked(shape: &[u64], n: u32) -> Vec<u64> {
    match shape.split_first() {
        Some((first, rest)) => [vec![first * u64::from(n)], rest.to_vec()].concat(),
        None => vec![u64::from(n)],
    }
}

/// A scratch tensor's options: `t`'s dtype, policy and device.
fn like(t: &Tensor) -> TensorOptions {
    TensorOptions::new(t.dtype())
        .dp(t.dp_policy())
        .device(t.device())
}

fn as_i64(shape: &[u64]) -> Vec<i64> {
    shape.iter().map(|&d| d as i64).collect()
}

/// The host parts of `works`, as one work's parts.
fn parts(works: Vec<Work<'_>>) -> Vec<crate::wit::distributed::Work> {
    works.into_iter().flat_map(|w| w.parts).collect()
}

impl ProcessGroup {
    fn check_len(&self, what: &str, len: usize) -> Result<u32> {
        let n = self.size()?;
        if len != n as usize {
            return Err(invalid(format!(
                "{what}: the list has {len} tensors but the group has {n} members"
            )));
        }
        Ok(n)
    }

    fn my_index(&self, what: &str) -> Result<u32> {
        self.rank()?
            .ok_or_else(|| invalid(format!("{what}: this rank is not a member of the group")))
    }

    /// Every member's `input`, in group order, into `outputs` (`all_gather`).
    pub fn all_gather(&self, outputs: &mut [Tensor], input: &Tensor) -> Result<()> {
        self.all_gather_async(outputs, input)?.wait()
    }

    /// [`all_gather`](Self::all_gather) with `async_op=True`: the copies into `outputs` run
    /// when the work is waited for.
    pub fn all_gather_async<'a>(
        &self,
        outputs: &'a mut [Tensor],
        input: &'a Tensor,
    ) -> Result<Work<'a>> {
        let n = self.check_len("all_gather", outputs.len())?;
        let shape = input.shape();
        let mut flat = Tensor::zeros(&stacked(&shape, n), like(input))?;
        let gathered = parts(vec![self.all_gather_into_tensor_async(&mut flat, input)?]);
        let rows = shape.first().copied().unwrap_or(1);
        let finish = move || -> Result<()> {
            for (i, out) in outputs.iter_mut().enumerate() {
                let block = flat
                    .narrow(0, i as u64 * rows, rows)?
                    .reshape(&as_i64(&shape))?;
                out.copy_(&block)?;
            }
            Ok(())
        };
        Ok(Work::of(gathered, Some(Box::new(finish))))
    }

    /// Reduce `inputs[i]` over the members into member i's `output` (`reduce_scatter`).
    pub fn reduce_scatter(
        &self,
        output: &mut Tensor,
        inputs: &[Tensor],
        op: ReduceOp,
    ) -> Result<()> {
        self.reduce_scatter_async(output, inputs, op)?.wait()
    }

    /// [`reduce_scatter`](Self::reduce_scatter) with `async_op=True`.
    pub fn reduce_scatter_async<'a>(
        &self,
        output: &'a mut Tensor,
        inputs: &[Tensor],
        op: ReduceOp,
    ) -> Result<Work<'a>> {
        self.check_len("reduce_scatter", inputs.len())?;
        let pieces = inputs
            .iter()
            .map(|t| t.reshape(&[-1]))
            .collect::<Result<Vec<_>>>()?;
        let refs: Vec<&Tensor> = pieces.iter().collect();
        let flat = Tensor::cat(&refs, 0)?;
        let mut mine = Tensor::zeros(&[output.numel()], like(output))?;
        let reduced = parts(vec![
            self.reduce_scatter_tensor_async(&mut mine, &flat, op)?,
        ]);
        let finish = move || -> Result<()> {
            // `flat` lives until the reduction is done.
            drop(flat);
            output.copy_(&mine.reshape(&as_i64(&output.shape()))?)
        };
        Ok(Work::of(reduced, Some(Box::new(finish))))
    }

    /// `inputs[j]` goes to member j; `outputs[i]` receives member i's (`all_to_all`).
    pub fn all_to_all(&self, outputs: &mut [Tensor], inputs: &[Tensor]) -> Result<()> {
        self.all_to_all_async(outputs, inputs)?.wait()
    }

    /// [`all_to_all`](Self::all_to_all) with `async_op=True`.
    pub fn all_to_all_async<'a>(
        &self,
        outputs: &'a mut [Tensor],
        inputs: &'a [Tensor],
    ) -> Result<Work<'a>> {
        self.check_len("all_to_all", outputs.len())?;
        self.check_len("all_to_all", inputs.len())?;
        let me = self.my_index("all_to_all")? as usize;
        let mut works: Vec<Work<'_>> = Vec::with_capacity(2 * inputs.len());
        for (i, (out, input)) in outputs.iter_mut().zip(inputs).enumerate() {
            if i == me {
                out.copy_(input)?;
                continue;
            }
            let peer = self.global_rank(i as u32)?;
            works.push(self.isend(input, peer)?);
            works.push(self.irecv(out, peer)?);
        }
        Ok(Work::of(parts(works), None))
    }

    /// Every member's `tensor` into `gather_list` on global rank `dst` (`gather`); the others
    /// pass `None`.
    pub fn gather(
        &self,
        tensor: &Tensor,
        gather_list: Option<&mut [Tensor]>,
        dst: u32,
    ) -> Result<()> {
        self.gather_async(tensor, gather_list, dst)?.wait()
    }

    /// [`gather`](Self::gather) with `async_op=True`.
    pub fn gather_async<'a>(
        &self,
        tensor: &'a Tensor,
        gather_list: Option<&'a mut [Tensor]>,
        dst: u32,
    ) -> Result<Work<'a>> {
        let me = self.my_index("gather")?;
        if self.global_rank(me)? != dst {
            if gather_list.is_some() {
                return Err(invalid(format!(
                    "gather: only the destination (rank {dst}) passes a gather_list"
                )));
            }
            return self.isend(tensor, dst);
        }
        let list = gather_list.ok_or_else(|| {
            invalid(format!(
                "gather: the destination (rank {dst}) must pass a gather_list"
            ))
        })?;
        self.check_len("gather", list.len())?;
        let mut works = Vec::with_capacity(list.len());
        for (i, slot) in list.iter_mut().enumerate() {
            if i as u32 == me {
                slot.copy_(tensor)?;
            } else {
                works.push(self.irecv(slot, self.global_rank(i as u32)?)?);
            }
        }
        Ok(Work::of(parts(works), None))
    }

    /// `scatter_list[i]` of global rank `src` into member i's `tensor` (`scatter`); the
    /// others pass `None`.
    pub fn scatter(
        &self,
        tensor: &mut Tensor,
        scatter_list: Option<&[Tensor]>,
        src: u32,
    ) -> Result<()> {
        self.scatter_async(tensor, scatter_list, src)?.wait()
    }

    /// [`scatter`](Self::scatter) with `async_op=True`.
    pub fn scatter_async<'a>(
        &self,
        tensor: &'a mut Tensor,
        scatter_list: Option<&'a [Tensor]>,
        src: u32,
    ) -> Result<Work<'a>> {
        let me = self.my_index("scatter")?;
        if self.global_rank(me)? != src {
            if scatter_list.is_some() {
                return Err(invalid(format!(
                    "scatter: only the source (rank {src}) passes a scatter_list"
                )));
            }
            return self.irecv(tensor, src);
        }
        let list = scatter_list.ok_or_else(|| {
            invalid(format!(
                "scatter: the source (rank {src}) must pass a scatter_list"
            ))
        })?;
        self.check_len("scatter", list.len())?;
        let mut works = Vec::with_capacity(list.len());
        for (i, piece) in list.iter().enumerate() {
            if i as u32 == me {
                tensor.copy_(piece)?;
            } else {
                works.push(self.isend(piece, self.global_rank(i as u32)?)?);
            }
        }
        Ok(Work::of(parts(works), None))
    }
}

/// [`ProcessGroup::all_gather`] over the world.
pub fn all_gather(outputs: &mut [Tensor], input: &Tensor) -> Result<()> {
    ProcessGroup::WORLD.all_gather(outputs, input)
}

/// [`ProcessGroup::reduce_scatter`] over the world.
pub fn reduce_scatter(output: &mut Tensor, inputs: &[Tensor], op: ReduceOp) -> Result<()> {
    ProcessGroup::WORLD.reduce_scatter(output, inputs, op)
}

/// [`ProcessGroup::all_to_all`] over the world.
pub fn all_to_all(outputs: &mut [Tensor], inputs: &[Tensor]) -> Result<()> {
    ProcessGroup::WORLD.all_to_all(outputs, inputs)
}

/// [`ProcessGroup::gather`] over the world.
pub fn gather(tensor: &Tensor, gather_list: Option<&mut [Tensor]>, dst: u32) -> Result<()> {
    ProcessGroup::WORLD.gather(tensor, gather_list, dst)
}

/// [`ProcessGroup::scatter`] over the world.
pub fn scatter(tensor: &mut Tensor, scatter_list: Option<&[Tensor]>, src: u32) -> Result<()> {
    ProcessGroup::WORLD.scatter(tensor, scatter_list, src)
}

/// [`ProcessGroup::all_gather_async`] over the world.
pub fn all_gather_async<'a>(outputs: &'a mut [Tensor], input: &'a Tensor) -> Result<Work<'a>> {
    ProcessGroup::WORLD.all_gather_async(outputs, input)
}

/// [`ProcessGroup::reduce_scatter_async`] over the world.
pub fn reduce_scatter_async<'a>(
    output: &'a mut Tensor,
    inputs: &[Tensor],
    op: ReduceOp,
) -> Result<Work<'a>> {
    ProcessGroup::WORLD.reduce_scatter_async(output, inputs, op)
}

/// [`ProcessGroup::all_to_all_async`] over the world.
pub fn all_to_all_async<'a>(outputs: &'a mut [Tensor], inputs: &'a [Tensor]) -> Result<Work<'a>> {
    ProcessGroup::WORLD.all_to_all_async(outputs, inputs)
}

/// [`ProcessGroup::gather_async`] over the world.
pub fn gather_async<'a>(
    tensor: &'a Tensor,
    gather_list: Option<&'a mut [Tensor]>,
    dst: u32,
) -> Result<Work<'a>> {
    ProcessGroup::WORLD.gather_async(tensor, gather_list, dst)
}

/// [`ProcessGroup::scatter_async`] over the world.
pub fn scatter_async<'a>(
    tensor: &'a mut Tensor,
    scatter_list: Option<&'a [Tensor]>,
    src: u32,
) -> Result<Work<'a>> {
    ProcessGroup::WORLD.scatter_async(tensor, scatter_list, src)
}
