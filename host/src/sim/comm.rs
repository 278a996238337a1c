//! Running a collective whose members' checked calls have all arrived: what it does to the
//! tensors and the clocks, and the record it leaves. The rendezvous (in `sched`) decides
//! *when* a collective runs; `call/` checks *what* each member asked for; this module does
//! it, and is tested here without wasm.

use super::call::{CollectiveCall, Op, TensorArg};
use super::ccl::{CclConfig, CollectiveKind};
use super::collective;
use super::cost::{CostModel, DEFAULT_ALGORITHM, Plan};
use super::dtype::DType;
use super::error::{SimError, invalid};
pub use super::log::CollectiveRecord;
use super::reduce::ReduceOp;
use super::store::{TensorId, TensorStore};
use std::sync::Arc;

/// Run a collective whose members' calls (in group order) have all arrived and agree, as the
/// `seq`-th call of its scope, member i having issued its call at `arrivals[i]` ns: move the
/// data and return what it did with the plan of its communication. The record's end is the
/// plan's time alone on its links; the network, which shares links between plans in flight,
/// has the last word (the caller logs the record once it has). No clock moves here:
/// a member that issued asynchronously has gone on computing, and only its `wait` advances
/// its clock to the end (`max(now, end)`); a blocking member waits at once.
pub fn execute(
    store: &mut TensorStore,
    cost: &CostModel,
    calls: &[(u32, CollectiveCall)],
    arrivals: Vec<u64>,
    seq: u64,
    ccl: &CclConfig,
    room: &dyn Fn(&Plan) -> Result<(), SimError>,
) -> Result<(CollectiveRecord, Plan), SimError> {
    if arrivals.len() != calls.len() {
        return invalid!(
            "a collective of {} members got {} arrival times",
            calls.len(),
            arrivals.len()
        );
    }
    let Some((_, first)) = calls.first() else {
        return invalid!("a collective needs at least one member");
    };
    let first = first.op();
    let kind = first.kind();
    let meta = first.input().is_some_and(|t| t.meta);
    let settings = ccl.settings_for(kind);
    let algorithm = settings.algorithm.unwrap_or(DEFAULT_ALGORITHM);
    let bytes = calls[0].1.size_bytes();
    // The cube parts of the member whose tensor spans most cubes.
    let cubes = calls
        .iter()
        .filter_map(|(_, c)| c.op().input().map(|t| t.cubes.clone()))
        .max_by_key(Vec::len)
        .unwrap_or_default();
    // Ranks are SIPs (ADR-0003): the members' SIPs are their ranks. One list serves the
    // plan and the record (a barrier round was three lists of N).
    let ranks: Arc<[u32]> = calls.iter().map(|(r, _)| *r).collect();
    let root = match first {
        Op::Send { .. } | Op::Recv { .. } => calls
            .iter()
            .position(|(_, c)| matches!(c.op(), Op::Send { .. }))
            .unwrap_or(0),
        _ => first
            .root()
            .and_then(|r| ranks.iter().position(|s| *s == r))
            .unwrap_or(0),
    };
    let plan = cost.collective_plan(
        kind,
        algorithm,
        &ranks,
        root,
        bytes,
        &cubes,
        settings.chunk_bytes,
    )?;
    // Priced and given room first: a collective the model refuses moves no data.
    room(&plan)?;
    if !meta {
        move_data(store, calls)?;
    }
    let cost = cost.plan_ns(&plan);
    let start = arrivals.iter().copied().max().unwrap_or(0);
    // The member that arrived last (at `start`) is the one whose clock would overflow first.
    let latest = calls
        .iter()
        .zip(&arrivals)
        .max_by_key(|(_, at)| **at)
        .map_or(0, |((r, _), _)| *r);
    let end = super::clock::later(start, cost, latest)?;
    let dtype = first.input().map(|t| t.dtype);
    let group = calls[0].1.group();
    let record = CollectiveRecord {
        index: 0,
        seq,
        name: match kind {
            CollectiveKind::SendRecv => "send_recv",
            _ => first.name(),
        },
        kind,
        group,
        ranks,
        dtype,
        op: first.reduce_op(),
        root: first.root(),
        bytes,
        count: dtype.map_or(0, |d| bytes / d.itemsize()),
        algorithm,
        start_ns: start,
        end_ns: end,
        arrivals_ns: arrivals,
        meta,
    };
    Ok((record, plan))
}

/// All-reduce straight into the members' tensors: their buffers are lent out of the
/// tensor table for the call (no copy, no allocation) and always put back.
fn all_reduce_tensors(
    store: &mut TensorStore,
    ids: &[TensorId],
    dtype: DType,
    op: ReduceOp,
) -> Result<(), SimError> {
    let mut distinct = ids.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() != ids.len() {
        return invalid!("all_reduce: members passed the same tensor");
    }
    let mut lent = Vec::with_capacity(ids.len());
    for id in ids {
        match store.tensor_mut(*id).map(|t| t.data.take()) {
            Ok(Some(data)) => lent.push(data),
            Ok(None) | Err(_) => break,
        }
    }
    let result = if lent.len() == ids.len() {
        let mut bufs: Vec<&mut [u8]> = lent.iter_mut().map(|d| d.bytes_mut()).collect();
        collective::all_reduce_in_place(dtype, op, &mut bufs, store.data_threads)
    } else {
        invalid!("all_reduce: a member's tensor has no data")
    };
    for (id, data) in ids.iter().zip(lent) {
        if let Ok(t) = store.tensor_mut(*id) {
            t.data = Some(data);
        }
    }
    result
}

/// The data movement of a collective on real tensors. Every member's call is the same
/// collective (the rendezvous checked them against each other); a call of another kind
/// here is an error naming it, never a silent default.
fn move_data(store: &mut TensorStore, calls: &[(u32, CollectiveCall)]) -> Result<(), SimError> {
    let Some((_, first)) = calls.first() else {
        return Ok(());
    };
    if matches!(first.op(), Op::Barrier) {
        return Ok(());
    }
    let members = || calls.iter().map(|(r, c)| (*r, c.op()));
    let inputs = tensor_ids(calls, Op::input)?;
    let results: Vec<(TensorId, Vec<u8>)> = match first.op() {
        Op::Barrier => Vec::new(),
        Op::AllReduce { tensor, op } => {
            return all_reduce_tensors(store, &inputs, tensor.dtype, *op);
        }
        Op::Reduce { tensor, dst, op } => {
            let root = position(calls, *dst)?;
            let out = collective::reduce(tensor.dtype, *op, &bytes_of(store, &inputs)?, root)?;
            vec![(inputs[root], out)]
        }
        Op::Broadcast { src, .. } => {
            let root = position(calls, *src)?;
            let out = collective::broadcast(&bytes_of(store, &inputs)?, root)?;
            members()
                .zip(&inputs)
                .filter(|((r, _), _)| r != src)
                .map(|(_, id)| (*id, out.clone()))
                .collect()
        }
        Op::AllGather { .. } => {
            let out = collective::all_gather(&bytes_of(store, &inputs)?)?;
            let outputs = tensor_ids(calls, Op::output)?;
            outputs.into_iter().map(|id| (id, out.clone())).collect()
        }
        Op::ReduceScatter { input, op, .. } => {
            let blocks = collective::reduce_scatter(input.dtype, *op, &bytes_of(store, &inputs)?)?;
            tensor_ids(calls, Op::output)?
                .into_iter()
                .zip(blocks)
                .collect()
        }
        Op::AllToAll { .. } => {
            let blocks = collective::all_to_all(&bytes_of(store, &inputs)?)?;
            tensor_ids(calls, Op::output)?
                .into_iter()
                .zip(blocks)
                .collect()
        }
        Op::Send { .. } | Op::Recv { .. } => {
            let sender = members().position(|(_, op)| matches!(op, Op::Send { .. }));
            let receiver = members().position(|(_, op)| matches!(op, Op::Recv { .. }));
            let (Some(s), Some(r)) = (sender, receiver) else {
                return invalid!("send_recv: the pair needs one send and one recv");
            };
            let data = bytes_of(store, &inputs[s..=s])?.concat();
            vec![(inputs[r], data)]
        }
    };
    for (id, bytes) in results {
        store.write_bytes(id, 0, &bytes)?;
    }
    Ok(())
}

/// The data of each tensor, in order.
fn bytes_of<'a>(store: &'a TensorStore, ids: &[TensorId]) -> Result<Vec<&'a [u8]>, SimError> {
    ids.iter()
        .map(|id| store.tensor(*id)?.data("collective").map(|d| d.bytes()))
        .collect()
}

/// Each member's tensor that `pick` chooses, in member order; a member whose call has none
/// is an error naming it.
fn tensor_ids(
    calls: &[(u32, CollectiveCall)],
    pick: impl Fn(&Op) -> Option<&TensorArg>,
) -> Result<Vec<TensorId>, SimError> {
    calls
        .iter()
        .map(|(rank, call)| match pick(call.op()) {
            Some(t) => Ok(t.id),
            None => invalid!("rank {rank}'s {call} lacks a tensor its collective needs"),
        })
        .collect()
}

/// Where global rank `root` sits among the members.
fn position(calls: &[(u32, CollectiveCall)], root: u32) -> Result<usize, SimError> {
    match calls.iter().position(|(r, _)| *r == root) {
        Some(p) => Ok(p),
        None => invalid!("rank {root} is not a member of this collective"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{DpPolicy, Init, NewTensor, SimLimits, Simulator, Topology};

    fn tensor(sim: &mut Simulator, rank: u32, value: f64) -> Box<TensorArg> {
        let req = NewTensor {
            shape: vec![4],
            dtype: DType::F32,
            dp: DpPolicy::SplitRows,
            device: rank,
            init: Init::Full(value),
        };
        let id = sim.create(rank, req).unwrap();
        Box::new(sim.store.tensor_arg(id).unwrap())
    }

    #[test]
    fn a_barrier_moves_no_data_and_ends_every_member_at_one_time() {
        let mut sim = Simulator::new(Topology::embedded_default(), SimLimits::default(), 8);
        let members = [0, 1, 2];
        sim.clocks.advance(1, 500).unwrap();
        let calls: Vec<_> = members
            .iter()
            .map(|&r| (r, CollectiveCall::new(r, 0, &members, Op::Barrier).unwrap()))
            .collect();
        let arrivals: Vec<u64> = members.iter().map(|&r| sim.clocks.get(r)).collect();
        let (record, _) = sim
            .execute_collective(&calls, arrivals, 0, &CclConfig::default(), &|_| Ok(()))
            .unwrap();
        assert_eq!((record.name, record.start_ns), ("barrier", 500));
        assert!(record.end_ns > 500);
        assert_eq!(record.arrivals_ns, [0, 500, 0]);
        assert_eq!(
            sim.clocks.get(0),
            0,
            "clocks move when members wait, not here"
        );
    }

    #[test]
    fn send_recv_moves_the_senders_data_and_a_pair_without_a_receiver_is_an_error() {
        let mut sim = Simulator::new(Topology::embedded_default(), SimLimits::default(), 8);
        let ccl = CclConfig::default();
        let pair = [0, 1];
        let (a, b) = (tensor(&mut sim, 0, 7.0), tensor(&mut sim, 1, 0.0));
        let send = Op::Send {
            tensor: a.clone(),
            dst: 1,
        };
        let recv = Op::Recv {
            tensor: b.clone(),
            src: 0,
        };
        let calls = [
            (0, CollectiveCall::new(0, 0, &pair, send).unwrap()),
            (1, CollectiveCall::new(1, 0, &pair, recv).unwrap()),
        ];
        let (record, _) = sim
            .execute_collective(&calls, vec![0, 0], 0, &ccl, &|_| Ok(()))
            .unwrap();
        assert_eq!((record.name, record.bytes), ("send_recv", 16));
        let bytes = sim.store.read_bytes(b.id, 0, 16).unwrap();
        assert_eq!(bytes, [7.0f32; 4].map(f32::to_le_bytes).concat());

        // Two sends never reach execution through the rendezvous; if they did, execution
        // says so instead of picking a default sender.
        let send_back = Op::Send { tensor: b, dst: 0 };
        let calls = [
            (0, calls[0].1.clone()),
            (1, CollectiveCall::new(1, 0, &pair, send_back).unwrap()),
        ];
        let err = sim
            .execute_collective(&calls, vec![0, 0], 1, &ccl, &|_| Ok(()))
            .unwrap_err();
        assert_eq!(
            err,
            SimError::InvalidArgument("send_recv: the pair needs one send and one recv".into())
        );
    }
}
