//! Checking a call against its group, and two calls against each other.

use super::*;
use crate::sim::dtype::DType;
use crate::sim::reduce::ReduceOp;
use crate::sim::store::TensorId;

fn arg(id: u64, shape: &[u64]) -> Box<TensorArg> {
    Box::new(TensorArg {
        id: TensorId(id),
        shape: shape.to_vec(),
        dtype: DType::F32,
        meta: false,
        cubes: vec![0],
    })
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
        err.starts_with("all_gather_into_tensor: output must hold group size (4) x input elements"),
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
