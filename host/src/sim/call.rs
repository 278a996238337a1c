//! One member's collective call: one variant per collective with exactly its arguments, and
//! checked against its group when it is made. Execution (`comm.rs`) only ever sees checked
//! calls, so it needs no defaults for arguments a variant does not have.

use super::ccl::CollectiveKind;
use super::dtype::DType;
use super::error::{SimError, invalid};
use super::reduce::ReduceOp;
use super::store::TensorId;
use super::tensor::describe;
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
    /// Distinct cubes its shards occupy (the cost model's `k`).
    pub cubes: u32,
}

impl TensorArg {
    /// Number of elements.
    pub fn numel(&self) -> u64 {
        super::tensor::numel(&self.shape)
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
/// Ranks (`src`, `dst`) are global ranks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `barrier()`.
    Barrier,
    /// `all_reduce(tensor, op)`, in place.
    AllReduce {
        /// The tensor reduced in place.
        tensor: TensorArg,
        /// The reduction.
        op: ReduceOp,
    },
    /// `broadcast(tensor, src)`, in place.
    Broadcast {
        /// Sent by the root, overwritten everywhere else.
        tensor: TensorArg,
        /// The root.
        src: u32,
    },
    /// `reduce(tensor, dst, op)`: the result lands in the root's tensor.
    Reduce {
        /// Each member's contribution; the root's receives the result.
        tensor: TensorArg,
        /// The root.
        dst: u32,
        /// The reduction.
        op: ReduceOp,
    },
    /// `all_gather_into_tensor(output, input)`.
    AllGather {
        /// Group size x input elements.
        output: TensorArg,
        /// This member's block.
        input: TensorArg,
    },
    /// `reduce_scatter_tensor(output, input, op)`.
    ReduceScatter {
        /// This member's reduced block.
        output: TensorArg,
        /// Group size x output elements.
        input: TensorArg,
        /// The reduction.
        op: ReduceOp,
    },
    /// `all_to_all_single(output, input)`.
    AllToAll {
        /// Block i comes from member i.
        output: TensorArg,
        /// Block i goes to member i.
        input: TensorArg,
    },
    /// `send(tensor, dst)`.
    Send {
        /// What is sent.
        tensor: TensorArg,
        /// The receiver.
        dst: u32,
    },
    /// `recv(tensor, src)`.
    Recv {
        /// Where it lands.
        tensor: TensorArg,
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

/// One member's call, checked against its group: roots and peers are members, output and
/// input agree in type, kind of data and size for the group. Only [`CollectiveCall::new`]
/// makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectiveCall {
    group: u32,
    op: Op,
}

impl CollectiveCall {
    /// Check `op`, called by `rank` in `group` whose members (global ranks, in group order)
    /// are `members`.
    pub fn new(rank: u32, group: u32, members: &[u32], op: Op) -> Result<Self, SimError> {
        let name = op.name();
        let not_member = |r: u32| {
            let shown = ranks_excerpt(members);
            invalid!("{name}: rank {r} is not a member of group {group} (members {shown})")
        };
        if !members.contains(&rank) {
            return not_member(rank);
        }
        if let Some(root) = op.root()
            && !members.contains(&root)
        {
            return not_member(root);
        }
        if let Some(peer) = op.peer() {
            if !members.contains(&peer) {
                return not_member(peer);
            }
            if peer == rank {
                return invalid!("{name}: rank {rank} cannot {name} to itself");
            }
        }
        if let (Some(i), Some(o)) = (op.input(), op.output()) {
            check_sizes(&op, i, o, members.len() as u64)?;
        }
        Ok(CollectiveCall { group, op })
    }

    /// The process group (0 = world).
    pub fn group(&self) -> u32 {
        self.group
    }

    /// What was asked for.
    pub fn op(&self) -> &Op {
        &self.op
    }

    /// nccl-tests' size `S` of this call in bytes (all_gather: the gathered output;
    /// reduce_scatter: the whole input).
    pub fn size_bytes(&self) -> u64 {
        match &self.op {
            Op::AllGather { output, .. } => output.nbytes(),
            op => op.input().map_or(0, TensorArg::nbytes),
        }
    }

    /// `Err(reason)` if this call (from `rank`) cannot meet `first` (from `first_rank`) at
    /// the same point of the group.
    pub fn check_against(&self, rank: u32, first: &Self, first_rank: u32) -> Result<(), String> {
        let (mine, theirs) = (&self.op, &first.op);
        match (mine, theirs) {
            (Op::Send { .. }, Op::Send { .. }) => {
                return Err(format!(
                    "ranks {first_rank} and {rank} both send and neither receives"
                ));
            }
            (Op::Recv { .. }, Op::Recv { .. }) => {
                return Err(format!(
                    "ranks {first_rank} and {rank} both receive and neither sends"
                ));
            }
            _ if mine.kind() != theirs.kind() => {
                return Err("they are different operations".into());
            }
            _ => {}
        }
        if mine.reduce_op() != theirs.reduce_op() {
            return Err(format!(
                "reduce ops differ ({} vs {})",
                opt(theirs.reduce_op()),
                opt(mine.reduce_op())
            ));
        }
        if mine.root() != theirs.root() {
            return Err(format!(
                "roots differ ({} vs {})",
                opt(theirs.root()),
                opt(mine.root())
            ));
        }
        for (what, m, t) in [
            ("input", mine.input(), theirs.input()),
            ("output", mine.output(), theirs.output()),
        ] {
            if let (Some(m), Some(t)) = (m, t) {
                if m.dtype != t.dtype {
                    return Err(format!("{what} dtypes differ ({} vs {})", t.dtype, m.dtype));
                }
                if m.numel() != t.numel() {
                    return Err(format!(
                        "{what} element counts differ ({} vs {})",
                        t.numel(),
                        m.numel()
                    ));
                }
                if m.meta != t.meta {
                    return Err(format!(
                        "one {what} is a meta tensor and the other holds data"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Output and input of a collective with both agree for a group of `n`.
fn check_sizes(op: &Op, i: &TensorArg, o: &TensorArg, n: u64) -> Result<(), SimError> {
    let name = op.name();
    if i.dtype != o.dtype {
        return invalid!("{name}: output is {} but input is {}", o.dtype, i.dtype);
    }
    if i.meta != o.meta {
        return invalid!("{name}: input and output must both be meta tensors or both hold data");
    }
    let (ni, no) = (i.numel(), o.numel());
    let (ok, rule) = match op {
        Op::AllGather { .. } => (
            Some(no) == ni.checked_mul(n),
            format!("output must hold group size ({n}) x input elements"),
        ),
        Op::ReduceScatter { .. } => (
            Some(ni) == no.checked_mul(n),
            format!("input must hold group size ({n}) x output elements"),
        ),
        _ => (
            ni == no && ni % n == 0,
            format!(
                "input and output must have the same element count, divisible by the group size ({n})"
            ),
        ),
    };
    if !ok {
        return invalid!("{name}: {rule}; got output {o} and input {i}");
    }
    Ok(())
}

/// Ranks a message echoes from a list: a refused list of a million ranks must not come back
/// as a message of megabytes.
pub const ECHOED_RANKS: usize = 16;

/// `[0, 1, 2]`, or the first [`ECHOED_RANKS`] and a count: `[0, 1, ..., 15, ... (1000000 ranks)]`.
pub fn ranks_excerpt(ranks: &[u32]) -> String {
    if ranks.len() <= ECHOED_RANKS {
        return format!("{ranks:?}");
    }
    let head: Vec<String> = ranks[..ECHOED_RANKS].iter().map(u32::to_string).collect();
    format!("[{}, ... ({} ranks)]", head.join(", "), ranks.len())
}

fn opt<T: fmt::Display>(v: Option<T>) -> String {
    v.map_or("none".to_owned(), |v| v.to_string())
}

impl fmt::Display for CollectiveCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut args = Vec::new();
        let op = &self.op;
        match (op.input(), op.output()) {
            (Some(i), Some(o)) => {
                args.push(format!("output {o}"));
                args.push(format!("input {i}"));
            }
            (Some(t), None) => args.push(format!("tensor {t}")),
            _ => {}
        }
        if let Some(r) = op.reduce_op() {
            args.push(format!("op {r}"));
        }
        match op {
            Op::Broadcast { src, .. } => args.push(format!("src {src}")),
            Op::Reduce { dst, .. } => args.push(format!("dst {dst}")),
            Op::Send { dst, .. } => args.push(format!("to rank {dst}")),
            Op::Recv { src, .. } => args.push(format!("from rank {src}")),
            _ => {}
        }
        write!(f, "{}({})", op.name(), args.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(id: u64, shape: &[u64]) -> TensorArg {
        TensorArg {
            id: TensorId(id),
            shape: shape.to_vec(),
            dtype: DType::F32,
            meta: false,
            cubes: 1,
        }
    }

    const GROUP: [u32; 4] = [0, 2, 4, 6];

    fn call(rank: u32, op: Op) -> Result<CollectiveCall, String> {
        CollectiveCall::new(rank, 1, &GROUP, op).map_err(|e| e.to_string())
    }

    #[test]
    fn roots_peers_and_sizes_are_checked_when_the_call_is_made() {
        let t = arg(1, &[8]);
        let err = call(
            0,
            Op::Broadcast {
                tensor: t.clone(),
                src: 3,
            },
        )
        .unwrap_err();
        assert_eq!(
            err,
            "broadcast: rank 3 is not a member of group 1 (members [0, 2, 4, 6])"
        );
        let err = call(
            2,
            Op::Send {
                tensor: t.clone(),
                dst: 2,
            },
        )
        .unwrap_err();
        assert_eq!(err, "send: rank 2 cannot send to itself");
        let err = call(1, Op::Barrier).unwrap_err();
        assert!(err.starts_with("barrier: rank 1 is not a member"), "{err}");
        let gather = Op::AllGather {
            output: arg(2, &[8]),
            input: arg(1, &[8]),
        };
        let err = call(0, gather).unwrap_err();
        assert!(
            err.starts_with(
                "all_gather_into_tensor: output must hold group size (4) x input elements"
            ),
            "{err}"
        );
        let ok = Op::AllGather {
            output: arg(2, &[32]),
            input: arg(1, &[8]),
        };
        assert_eq!(call(0, ok).unwrap().size_bytes(), 128);
    }

    #[test]
    fn echoed_rank_lists_are_bounded() {
        assert_eq!(ranks_excerpt(&[3, 1]), "[3, 1]");
        let many: Vec<u32> = (0..1_000_000).collect();
        let shown = ranks_excerpt(&many);
        assert_eq!(
            shown,
            "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, ... (1000000 ranks)]"
        );
    }

    #[test]
    fn members_calls_are_compared_by_what_their_variants_hold() {
        let t = arg(1, &[8]);
        let sum = call(
            0,
            Op::AllReduce {
                tensor: t.clone(),
                op: ReduceOp::Sum,
            },
        )
        .unwrap();
        let max = call(
            2,
            Op::AllReduce {
                tensor: t.clone(),
                op: ReduceOp::Max,
            },
        )
        .unwrap();
        assert_eq!(
            max.check_against(2, &sum, 0),
            Err("reduce ops differ (sum vs max)".to_owned())
        );
        let bar = call(2, Op::Barrier).unwrap();
        assert_eq!(
            bar.check_against(2, &sum, 0),
            Err("they are different operations".to_owned())
        );
        let send_a = call(
            0,
            Op::Send {
                tensor: t.clone(),
                dst: 2,
            },
        )
        .unwrap();
        let send_b = call(
            2,
            Op::Send {
                tensor: t.clone(),
                dst: 0,
            },
        )
        .unwrap();
        assert_eq!(
            send_b.check_against(2, &send_a, 0),
            Err("ranks 0 and 2 both send and neither receives".to_owned())
        );
        let recv = call(2, Op::Recv { tensor: t, src: 0 }).unwrap();
        assert_eq!(recv.check_against(2, &send_a, 0), Ok(()));
        assert_eq!(recv.to_string(), "recv(tensor [8] float32, from rank 0)");
    }
}
