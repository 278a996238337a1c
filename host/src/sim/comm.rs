//! Collective calls as the simulator sees them: what each member asked for, whether the
//! members' calls agree, and what running the collective does to tensors and clocks.
//!
//! The rendezvous (in `sched`) decides *when* a collective runs; this module decides *what*
//! it does, so it is tested here without wasm.

use super::ccl::{CclConfig, CollectiveKind};
use super::collective;
use super::cost::{DEFAULT_ALGORITHM, distinct_cubes};
use super::dtype::DType;
use super::error::{SimError, invalid};
use super::reduce::ReduceOp;
use super::simulator::{Simulator, TensorId};
use super::tensor::describe;
use crate::sim::Algorithm;
use serde::Serialize;
use std::fmt;

/// Most collective records one run keeps for its report (the rest are counted, not kept).
pub const MAX_COLLECTIVE_RECORDS: usize = 1 << 20;

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
        if self.shape.contains(&0) {
            0
        } else {
            self.shape.iter().product()
        }
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

/// The direction of a point-to-point call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum P2p {
    /// `send` to a global rank.
    Send {
        /// Destination.
        dst: u32,
    },
    /// `recv` from a global rank.
    Recv {
        /// Source.
        src: u32,
    },
}

/// One member's call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectiveCall {
    /// Which collective.
    pub kind: CollectiveKind,
    /// The process group (0 = world).
    pub group: u32,
    /// Reduction, for reducing collectives.
    pub op: Option<ReduceOp>,
    /// Global root rank of `broadcast` (src) and `reduce` (dst).
    pub root: Option<u32>,
    /// Direction and peer of `send` / `recv`.
    pub p2p: Option<P2p>,
    /// The input (or the in-place tensor).
    pub input: Option<TensorArg>,
    /// A separate output tensor.
    pub output: Option<TensorArg>,
}

impl CollectiveCall {
    /// A call of `kind` in `group` with no arguments yet.
    pub fn new(kind: CollectiveKind, group: u32) -> Self {
        CollectiveCall {
            kind,
            group,
            op: None,
            root: None,
            p2p: None,
            input: None,
            output: None,
        }
    }

    /// The name the user called.
    pub fn name(&self) -> &'static str {
        match (self.kind, self.p2p) {
            (CollectiveKind::AllGather, _) => "all_gather_into_tensor",
            (CollectiveKind::ReduceScatter, _) => "reduce_scatter_tensor",
            (CollectiveKind::AllToAll, _) => "all_to_all_single",
            (CollectiveKind::SendRecv, Some(P2p::Recv { .. })) => "recv",
            (CollectiveKind::SendRecv, _) => "send",
            (kind, _) => kind.name(),
        }
    }

    /// `Err(reason)` if this call (from `rank`) cannot meet `first` (from `first_rank`).
    pub fn check(&self, rank: u32, first: &Self, first_rank: u32) -> Result<(), String> {
        if self.kind != first.kind {
            return Err("they are different operations".into());
        }
        if let (Some(a), Some(b)) = (self.p2p, first.p2p) {
            match (a, b) {
                (P2p::Send { .. }, P2p::Send { .. }) => {
                    return Err(format!(
                        "ranks {first_rank} and {rank} both send and neither receives"
                    ));
                }
                (P2p::Recv { .. }, P2p::Recv { .. }) => {
                    return Err(format!(
                        "ranks {first_rank} and {rank} both receive and neither sends"
                    ));
                }
                _ => {}
            }
        }
        if self.op != first.op {
            return Err(format!(
                "reduce ops differ ({} vs {})",
                opt(first.op),
                opt(self.op)
            ));
        }
        if self.root != first.root {
            return Err(format!(
                "roots differ ({} vs {})",
                opt(first.root),
                opt(self.root)
            ));
        }
        for (what, mine, theirs) in [
            ("input", &self.input, &first.input),
            ("output", &self.output, &first.output),
        ] {
            if let (Some(m), Some(t)) = (mine, theirs) {
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

    /// nccl-tests' size `S` of this call in bytes (all_gather: the gathered output;
    /// reduce_scatter: the whole input), and the element count it reports.
    pub fn size_bytes(&self) -> u64 {
        match self.kind {
            CollectiveKind::AllGather => self.output.as_ref().map_or(0, TensorArg::nbytes),
            _ => self.input.as_ref().map_or(0, TensorArg::nbytes),
        }
    }
}

fn opt<T: fmt::Display>(v: Option<T>) -> String {
    v.map_or("none".to_owned(), |v| v.to_string())
}

impl fmt::Display for CollectiveCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut args = Vec::new();
        match (&self.input, &self.output) {
            (Some(i), Some(o)) => {
                args.push(format!("output {o}"));
                args.push(format!("input {i}"));
            }
            (Some(t), None) => args.push(format!("tensor {t}")),
            _ => {}
        }
        if let Some(op) = self.op {
            args.push(format!("op {op}"));
        }
        match (self.kind, self.root) {
            (CollectiveKind::Broadcast, Some(r)) => args.push(format!("src {r}")),
            (_, Some(r)) => args.push(format!("dst {r}")),
            _ => {}
        }
        match self.p2p {
            Some(P2p::Send { dst }) => args.push(format!("to rank {dst}")),
            Some(P2p::Recv { src }) => args.push(format!("from rank {src}")),
            None => {}
        }
        write!(f, "{}({})", self.name(), args.join(", "))
    }
}

/// What one collective did, for reports and traces.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CollectiveRecord {
    /// Position among the run's collectives in report order (by start time, group, sequence).
    pub index: u64,
    /// Sequence number of this call among the collectives of the same members and group.
    pub seq: u64,
    /// What the user called (`all_reduce`, `send` ...).
    pub name: &'static str,
    /// The collective kind.
    pub kind: CollectiveKind,
    /// The group (0 = world).
    pub group: u32,
    /// Members (global ranks) in group order.
    pub ranks: Vec<u32>,
    /// Element type (none for a barrier).
    pub dtype: Option<DType>,
    /// Reduction.
    pub op: Option<ReduceOp>,
    /// Root (broadcast / reduce).
    pub root: Option<u32>,
    /// nccl-tests' size in bytes.
    pub bytes: u64,
    /// Elements in that size.
    pub count: u64,
    /// The algorithm the CCL config chose.
    pub algorithm: Algorithm,
    /// Simulated start: the latest arrival.
    pub start_ns: u64,
    /// Simulated end; every member's clock moves here.
    pub end_ns: u64,
    /// Each member's clock when it called.
    pub arrivals_ns: Vec<u64>,
    /// Whether the tensors were meta (time only, no data).
    pub meta: bool,
}

impl Simulator {
    /// All-reduce straight into the members' tensors: their buffers are lent out of the
    /// tensor table for the call (no copy, no allocation) and always put back.
    fn all_reduce_tensors(&mut self, calls: &[(u32, CollectiveCall)]) -> Result<(), SimError> {
        let Some((_, first)) = calls.first() else {
            return Ok(());
        };
        let dtype = first.input.as_ref().map_or(DType::F32, |t| t.dtype);
        let op = first.op.unwrap_or(ReduceOp::Sum);
        let ids: Vec<TensorId> = calls
            .iter()
            .filter_map(|(_, c)| c.input.as_ref().map(|t| t.id))
            .collect();
        let mut distinct = ids.clone();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() != ids.len() {
            return invalid!("all_reduce: members passed the same tensor");
        }
        let mut lent = Vec::with_capacity(ids.len());
        for id in &ids {
            match self.tensor_mut(*id).map(|t| t.data.take()) {
                Ok(Some(data)) => lent.push(data),
                Ok(None) | Err(_) => break,
            }
        }
        let result = if lent.len() == ids.len() {
            let mut bufs: Vec<&mut [u8]> = lent.iter_mut().map(|d| d.bytes_mut()).collect();
            collective::all_reduce_in_place(dtype, op, &mut bufs)
        } else {
            invalid!("all_reduce: a member's tensor has no data")
        };
        for (id, data) in ids.iter().zip(lent) {
            if let Ok(t) = self.tensor_mut(*id) {
                t.data = Some(data);
            }
        }
        result
    }

    /// Capture tensor `id` as a collective argument.
    pub fn tensor_arg(&self, id: TensorId) -> Result<TensorArg, SimError> {
        let t = self.tensor(id)?;
        Ok(TensorArg {
            id,
            shape: t.shape.clone(),
            dtype: t.dtype,
            meta: t.data.is_none(),
            cubes: distinct_cubes(&t.shards),
        })
    }

    /// Check one member's call before it meets the others: shapes that must relate to the
    /// group size, roots and peers inside the group. `members` is the group in order.
    pub fn check_call(
        &self,
        rank: u32,
        call: &CollectiveCall,
        members: &[u32],
    ) -> Result<(), SimError> {
        let n = members.len() as u64;
        let name = call.name();
        if let Some(root) = call.root
            && !members.contains(&root)
        {
            return invalid!(
                "{name}: rank {root} is not a member of group {} (members {members:?})",
                call.group
            );
        }
        if let Some(P2p::Send { dst: peer } | P2p::Recv { src: peer }) = call.p2p {
            if !members.contains(&peer) {
                return invalid!(
                    "{name}: rank {peer} is not a member of group {} (members {members:?})",
                    call.group
                );
            }
            if peer == rank {
                return invalid!("{name}: rank {rank} cannot {name} to itself");
            }
        }
        if let (Some(i), Some(o)) = (&call.input, &call.output) {
            if i.dtype != o.dtype {
                return invalid!("{name}: output is {} but input is {}", o.dtype, i.dtype);
            }
            if i.meta != o.meta {
                return invalid!(
                    "{name}: input and output must both be meta tensors or both hold data"
                );
            }
            let (ni, no) = (i.numel(), o.numel());
            let ok = match call.kind {
                CollectiveKind::AllGather => Some(no) == ni.checked_mul(n),
                CollectiveKind::ReduceScatter => Some(ni) == no.checked_mul(n),
                _ => ni == no && ni % n == 0,
            };
            if !ok {
                let rule = match call.kind {
                    CollectiveKind::AllGather => {
                        format!("output must hold group size ({n}) x input elements")
                    }
                    CollectiveKind::ReduceScatter => {
                        format!("input must hold group size ({n}) x output elements")
                    }
                    _ => format!(
                        "input and output must have the same element count, divisible by the group size ({n})"
                    ),
                };
                return invalid!("{name}: {rule}; got output {o} and input {i}");
            }
        }
        Ok(())
    }

    /// Run a collective whose members' calls (in group order) have all arrived: move the
    /// data, advance every member's clock to the collective's end, and record it.
    pub fn execute_collective(
        &mut self,
        calls: &[(u32, CollectiveCall)],
        ccl: &CclConfig,
    ) -> Result<CollectiveRecord, SimError> {
        let Some((_, first)) = calls.first() else {
            return invalid!("a collective needs at least one member");
        };
        let kind = first.kind;
        let meta = first.input.as_ref().is_some_and(|t| t.meta);
        if !meta {
            self.move_data(calls)?;
        }
        let settings = ccl.settings_for(kind);
        let algorithm = settings.algorithm.unwrap_or(DEFAULT_ALGORITHM);
        let bytes = first.size_bytes();
        let cubes = calls
            .iter()
            .filter_map(|(_, c)| c.input.as_ref().map(|t| t.cubes))
            .max()
            .unwrap_or(1);
        let n = calls.len() as u32;
        let cost =
            self.cost()
                .collective_ns(kind, algorithm, n, bytes, cubes, settings.chunk_bytes);
        let arrivals: Vec<u64> = calls.iter().map(|(r, _)| self.clock_ns(*r)).collect();
        let start = arrivals.iter().copied().max().unwrap_or(0);
        let end = start.saturating_add(cost);
        for (r, _) in calls {
            self.set_clock(*r, end);
        }
        let dtype = first.input.as_ref().map(|t| t.dtype);
        let ranks: Vec<u32> = calls.iter().map(|(r, _)| *r).collect();
        let seq = self.next_collective_seq(first.group, &ranks);
        let record = CollectiveRecord {
            index: self.collectives_run(),
            seq,
            name: if kind == CollectiveKind::SendRecv {
                "send_recv"
            } else {
                first.name()
            },
            kind,
            group: first.group,
            ranks,
            dtype,
            op: first.op,
            root: first.root,
            bytes,
            count: dtype.map_or(0, |d| bytes / d.itemsize()),
            algorithm,
            start_ns: start,
            end_ns: end,
            arrivals_ns: arrivals,
            meta,
        };
        self.push_collective(record.clone());
        Ok(record)
    }

    /// The data movement of a collective on real tensors.
    fn move_data(&mut self, calls: &[(u32, CollectiveCall)]) -> Result<(), SimError> {
        let Some((_, first)) = calls.first() else {
            return Ok(());
        };
        if first.kind == CollectiveKind::AllReduce {
            return self.all_reduce_tensors(calls);
        }
        let input = |c: &CollectiveCall| c.input.as_ref().map(|t| t.id);
        let output = |c: &CollectiveCall| c.output.as_ref().or(c.input.as_ref()).map(|t| t.id);
        let position = |rank: Option<u32>| {
            calls
                .iter()
                .position(|(r, _)| Some(*r) == rank)
                .unwrap_or(0)
        };
        let dtype = first.input.as_ref().map_or(DType::F32, |t| t.dtype);
        let op = first.op.unwrap_or(ReduceOp::Sum);
        let results: Vec<(Option<TensorId>, Vec<u8>)> = {
            let inputs: Vec<&[u8]> = calls
                .iter()
                .filter_map(|(_, c)| input(c))
                .map(|id| self.tensor(id)?.data("collective").map(|d| d.bytes()))
                .collect::<Result<_, _>>()?;
            match first.kind {
                // All-reduce ran in place above; a barrier moves no data.
                CollectiveKind::Barrier | CollectiveKind::AllReduce => Vec::new(),
                CollectiveKind::Reduce => {
                    let root = position(first.root);
                    let out = collective::reduce(dtype, op, &inputs, root)?;
                    vec![(output(&calls[root].1), out)]
                }
                CollectiveKind::Broadcast => {
                    let root = position(first.root);
                    let out = collective::broadcast(&inputs, root)?;
                    calls
                        .iter()
                        .filter(|(r, _)| Some(*r) != first.root)
                        .map(|(_, c)| (output(c), out.clone()))
                        .collect()
                }
                CollectiveKind::AllGather => {
                    let out = collective::all_gather(&inputs)?;
                    calls
                        .iter()
                        .map(|(_, c)| (output(c), out.clone()))
                        .collect()
                }
                CollectiveKind::ReduceScatter => {
                    let blocks = collective::reduce_scatter(dtype, op, &inputs)?;
                    calls
                        .iter()
                        .zip(blocks)
                        .map(|((_, c), b)| (output(c), b))
                        .collect()
                }
                CollectiveKind::AllToAll => {
                    let blocks = collective::all_to_all(&inputs)?;
                    calls
                        .iter()
                        .zip(blocks)
                        .map(|((_, c), b)| (output(c), b))
                        .collect()
                }
                CollectiveKind::SendRecv => {
                    let sender = calls
                        .iter()
                        .position(|(_, c)| matches!(c.p2p, Some(P2p::Send { .. })))
                        .unwrap_or(0);
                    let receiver = 1 - sender.min(1);
                    vec![(output(&calls[receiver].1), inputs[sender].to_vec())]
                }
            }
        };
        for (id, bytes) in results {
            if let Some(id) = id {
                self.write_bytes(id, 0, &bytes)?;
            }
        }
        Ok(())
    }
}
