//! One member's collective call: one variant per collective with exactly its arguments
//! (`op.rs`), and checked against its group when it is made (here). Execution (`comm.rs`)
//! only ever sees checked calls, so it needs no defaults for arguments a variant does not
//! have.

mod op;

pub use op::{Op, TensorArg};

use super::error::{SimError, invalid};
use std::fmt;

/// One member's call, checked against its group: roots and peers are members, output and
/// input agree in type, kind of data and size for the group. Only [`CollectiveCall::new`]
/// makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectiveCall {
    group: u32,
    op: Op,
}

impl CollectiveCall {
    /// Check `op`, called by `rank` in `group` whose members (global ranks, ascending, which
    /// is group order) are `members`.
    pub fn new(rank: u32, group: u32, members: &[u32], op: Op) -> Result<Self, SimError> {
        let name = op.name();
        // Binary search: every rank checks every call, so a scan would cost O(N) per rank.
        let member = |r: &u32| members.binary_search(r).is_ok();
        let not_member = |r: u32| {
            let shown = ranks_excerpt(members);
            invalid!("{name}: rank {r} is not a member of group {group} (members {shown})")
        };
        if !member(&rank) {
            return not_member(rank);
        }
        if let Some(root) = op.root()
            && !member(&root)
        {
            return not_member(root);
        }
        if let Some(peer) = op.peer() {
            if !member(&peer) {
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
mod tests;
