//! What a member asks for, before it is checked: the tensor arguments as captured at the
//! call, and one variant per collective with exactly its arguments, with the accessors the
//! checks, the cost model and the messages read.

use crate::sim::ccl::CollectiveKind;
use crate::sim::dtype::DType;
use crate::sim::reduce::ReduceOp;
use crate::sim::store::TensorId;
use crate::sim::tensor::describe;
use std::fmt;

/// A tensor argument of a collective, captured when the call is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorArg {
    /// The tensor.
    pub id: TensorId,
    /// Its shape.
    pub shape: Vec<u64>,
    /// Its element type.
    pub dtype: DType,
    /// Whether it is a meta tensor (no data).
    pub meta: bool,
    /// The distinct cubes its shards occupy, ascending (the cost model's cube parts).
    pub cubes: Vec<u32>,
}

impl TensorArg {
    /// Number of elements.
    pub fn numel(&self) -> u64 {
        crate::sim::tensor::numel(&self.shape)
    }

    /// Size in bytes.
    pub fn nbytes(&self) -> u64 {
        self.numel() * self.dtype.itemsize()
    }
}

impl fmt::Display for TensorArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&describe(&self.shape, self.dtype))?;
        if self.meta {
            f.write_str(" meta")?;
        }
        Ok(())
    }
}

/// What a member asked for: one variant per collective, each with exactly its arguments.
/// Ranks (`src`, `dst`) are global ranks. Tensor arguments are boxed: a call is moved and
/// copied through the rendezvous several times per rank, and unboxed a two-tensor variant
/// made every call (a barrier too) 144 bytes to copy (issue 11's profile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `barrier()`.
    Barrier,
    /// `all_reduce(tensor, op)`, in place.
    AllReduce {
        /// The tensor reduced in place.
        tensor: Box<TensorArg>,
        /// The reduction.
        op: ReduceOp,
    },
    /// `broadcast(tensor, src)`, in place.
    Broadcast {
        /// Sent by the root, overwritten everywhere else.
        tensor: Box<TensorArg>,
        /// The root.
        src: u32,
    },
    /// `reduce(tensor, dst, op)`: the result lands in the root's tensor.
    Reduce {
        /// Each member's contribution; the root's receives the result.
        tensor: Box<TensorArg>,
        /// The root.
        dst: u32,
        /// The reduction.
        op: ReduceOp,
    },
    /// `all_gather_into_tensor(output, input)`.
    AllGather {
        /// Group size x input elements.
        output: Box<TensorArg>,
        /// This member's block.
        input: Box<TensorArg>,
    },
    /// `reduce_scatter_tensor(output, input, op)`.
    ReduceScatter {
        /// This member's reduced block.
        output: Box<TensorArg>,
        /// Group size x output elements.
        input: Box<TensorArg>,
        /// The reduction.
        op: ReduceOp,
    },
    /// `all_to_all_single(output, input)`.
    AllToAll {
        /// Block i comes from member i.
        output: Box<TensorArg>,
        /// Block i goes to member i.
        input: Box<TensorArg>,
    },
    /// `send(tensor, dst)`.
    Send {
        /// What is sent.
        tensor: Box<TensorArg>,
        /// The receiver.
        dst: u32,
    },
    /// `recv(tensor, src)`.
    Recv {
        /// Where it lands.
        tensor: Box<TensorArg>,
        /// The sender.
        src: u32,
    },
}

impl Op {
    /// The collective this call is part of (`send` and `recv` meet as one `send_recv`).
    pub fn kind(&self) -> CollectiveKind {
        match self {
            Op::Barrier => CollectiveKind::Barrier,
            Op::AllReduce { .. } => CollectiveKind::AllReduce,
            Op::Broadcast { .. } => CollectiveKind::Broadcast,
            Op::Reduce { .. } => CollectiveKind::Reduce,
            Op::AllGather { .. } => CollectiveKind::AllGather,
            Op::ReduceScatter { .. } => CollectiveKind::ReduceScatter,
            Op::AllToAll { .. } => CollectiveKind::AllToAll,
            Op::Send { .. } | Op::Recv { .. } => CollectiveKind::SendRecv,
        }
    }

    /// The name the user called.
    pub fn name(&self) -> &'static str {
        match self {
            Op::AllGather { .. } => "all_gather_into_tensor",
            Op::ReduceScatter { .. } => "reduce_scatter_tensor",
            Op::AllToAll { .. } => "all_to_all_single",
            Op::Send { .. } => "send",
            Op::Recv { .. } => "recv",
            other => other.kind().name(),
        }
    }

    /// The input tensor (the in-place one for in-place collectives), if any.
    pub fn input(&self) -> Option<&TensorArg> {
        match self {
            Op::Barrier => None,
            Op::AllReduce { tensor, .. }
            | Op::Broadcast { tensor, .. }
            | Op::Reduce { tensor, .. }
            | Op::Send { tensor, .. }
            | Op::Recv { tensor, .. } => Some(tensor),
            Op::AllGather { input, .. }
            | Op::ReduceScatter { input, .. }
            | Op::AllToAll { input, .. } => Some(input),
        }
    }

    /// A separate output tensor, if the collective has one.
    pub fn output(&self) -> Option<&TensorArg> {
        match self {
            Op::AllGather { output, .. }
            | Op::ReduceScatter { output, .. }
            | Op::AllToAll { output, .. } => Some(output),
            _ => None,
        }
    }

    /// The reduction, for reducing collectives.
    pub fn reduce_op(&self) -> Option<ReduceOp> {
        match self {
            Op::AllReduce { op, .. } | Op::Reduce { op, .. } | Op::ReduceScatter { op, .. } => {
                Some(*op)
            }
            _ => None,
        }
    }

    /// The root of `broadcast` (src) and `reduce` (dst).
    pub fn root(&self) -> Option<u32> {
        match self {
            Op::Broadcast { src, .. } => Some(*src),
            Op::Reduce { dst, .. } => Some(*dst),
            _ => None,
        }
    }

    /// The other rank of `send` / `recv`.
    pub fn peer(&self) -> Option<u32> {
        match self {
            Op::Send { dst, .. } => Some(*dst),
            Op::Recv { src, .. } => Some(*src),
            _ => None,
        }
    }
}
