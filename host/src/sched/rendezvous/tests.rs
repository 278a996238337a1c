//! Matching, mismatches and deadlocks at the rendezvous, with a stand-in call type.

use super::*;
use std::sync::Arc;

fn ms(members: &[u32]) -> Arc<[u32]> {
    members.into()
}

#[derive(Debug, Clone, PartialEq)]
struct Op(&'static str);

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl CallMatch for Op {
    fn check(&self, _: u32, first: &Self, _: u32) -> Result<(), String> {
        if self == first {
            Ok(())
        } else {
            Err("different operations".into())
        }
    }
}

const WORLD: Scope = Scope::Group(0);

/// Point-to-point from `src` to `dst` in the world group.
fn channel(src: u32, dst: u32) -> Scope {
    Scope::Channel { group: 0, src, dst }
}

#[test]
fn last_arrival_completes_in_member_order() {
    let mut rv = Rendezvous::new(3);
    let members = [0, 1, 2];
    assert!(matches!(
        rv.arrive(WORLD, &ms(&members), 2, Op("barrier"), true),
        Ok(Arrival::Wait { .. })
    ));
    assert!(matches!(
        rv.arrive(WORLD, &ms(&members), 0, Op("barrier"), true),
        Ok(Arrival::Wait { .. })
    ));
    match rv.arrive(WORLD, &ms(&members), 1, Op("barrier"), true) {
        Ok(Arrival::Complete { calls, seq }) => {
            assert_eq!(calls.iter().map(|(r, _)| *r).collect::<Vec<_>>(), [0, 1, 2]);
            assert_eq!(seq, 0);
        }
        other => panic!("expected completion, got {other:?}"),
    }
    assert!(rv.none_waiting());
}

#[test]
fn sequence_numbers_keep_successive_calls_apart() {
    let mut rv = Rendezvous::new(2);
    let m = [0, 1];
    assert!(matches!(
        rv.arrive(WORLD, &ms(&m), 0, Op("a"), true),
        Ok(Arrival::Wait { .. })
    ));
    assert!(matches!(
        rv.arrive(WORLD, &ms(&m), 1, Op("a"), true),
        Ok(Arrival::Complete { seq: 0, .. })
    ));
    assert!(matches!(
        rv.arrive(WORLD, &ms(&m), 1, Op("b"), true),
        Ok(Arrival::Wait { .. })
    ));
    assert!(matches!(
        rv.arrive(WORLD, &ms(&m), 0, Op("b"), true),
        Ok(Arrival::Complete { seq: 1, .. })
    ));
}

#[test]
fn mismatch_names_both_calls() {
    let mut rv = Rendezvous::new(2);
    let m = [0, 1];
    assert!(matches!(
        rv.arrive(WORLD, &ms(&m), 0, Op("all_reduce"), true),
        Ok(Arrival::Wait { .. })
    ));
    let err = rv
        .arrive(WORLD, &ms(&m), 1, Op("broadcast"), true)
        .map(|_| ())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "rank 0 called all_reduce but rank 1 called broadcast at the same point (call #1 in the world group): different operations"
    );
}

#[test]
fn waiting_on_an_exited_member_is_reported_for_each_waiter() {
    let mut rv = Rendezvous::new(3);
    let m = [0, 1, 2];
    assert!(matches!(
        rv.arrive(WORLD, &ms(&m), 1, Op("barrier"), true),
        Ok(Arrival::Wait { .. })
    ));
    assert!(matches!(
        rv.arrive(WORLD, &ms(&m), 2, Op("barrier"), true),
        Ok(Arrival::Wait { .. })
    ));
    let doomed = rv.rank_exited(0);
    assert_eq!(doomed.iter().map(|(r, _)| *r).collect::<Vec<_>>(), [1, 2]);
    assert!(
        doomed[0]
            .1
            .contains("member rank 0 exited without making that call"),
        "{}",
        doomed[0].1
    );
    // A later arrival that needs the exited rank fails at once.
    let err = rv
        .arrive(WORLD, &ms(&m), 1, Op("barrier"), true)
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(err, RendezvousError::Deadlock(_)));
}

#[test]
fn all_live_ranks_waiting_in_different_groups_is_a_deadlock() {
    let mut rv = Rendezvous::new(2);
    let signal = rv.doom_signal();
    assert!(matches!(
        rv.arrive(Scope::Group(1), &ms(&[0, 1]), 0, Op("barrier"), true),
        Ok(Arrival::Wait { .. })
    ));
    let err = rv
        .arrive(Scope::Group(2), &ms(&[0, 1]), 1, Op("barrier"), true)
        .map(|_| ())
        .unwrap_err();
    // Each rank's message names its own wait only: N ranks, N lines, not N x N.
    let why = "every live rank is waiting and none of their calls can complete";
    assert_eq!(
        err.to_string(),
        format!("rank 1 waits in barrier (call #1 in group 2, still missing rank 0): {why}")
    );
    assert!(
        signal.load(Ordering::Acquire),
        "the scheduler is told to ask"
    );
    let doomed = rv.take_doomed();
    assert!(!signal.load(Ordering::Acquire), "and told once it has");
    assert_eq!(
        doomed,
        [(
            0,
            format!("rank 0 waits in barrier (call #1 in group 1, still missing rank 1): {why}")
        )]
    );
    assert!(rv.none_waiting());
}

#[test]
fn exit_that_leaves_only_waiters_dooms_them_all() {
    let mut rv = Rendezvous::new(3);
    assert!(matches!(
        rv.arrive(Scope::Group(1), &ms(&[0, 1]), 0, Op("x"), true),
        Ok(Arrival::Wait { .. })
    ));
    let doomed = rv.rank_exited(2);
    assert_eq!(doomed.len(), 0, "rank 1 still runs");
    assert!(matches!(
        rv.arrive(Scope::Group(2), &ms(&[1, 2]), 1, Op("y"), true),
        Err(RendezvousError::Deadlock(_))
    ));
}

#[test]
fn an_asynchronous_arrival_does_not_wait_until_its_rank_blocks_on_it() {
    let mut rv = Rendezvous::new(2);
    let m = [0, 1];
    let ab = channel(0, 1);
    let ba = channel(1, 0);
    // Rank 0 issues a send to 1 and a receive from 1, neither matched yet: it still runs.
    assert!(matches!(
        rv.arrive(ab, &ms(&m), 0, Op("p2p"), false),
        Ok(Arrival::Wait { seq: 0 })
    ));
    assert!(matches!(
        rv.arrive(ba, &ms(&m), 0, Op("p2p"), false),
        Ok(Arrival::Wait { seq: 0 })
    ));
    assert!(rv.none_waiting());
    // It blocks on the receive; rank 1's receive completes the send, which must not release
    // rank 0 from the receive it still waits in.
    let pending = Pending {
        scope: ba,
        seq: 0,
        call: Op("p2p"),
    };
    assert_eq!(rv.block(0, pending), Ok(()));
    assert!(matches!(
        rv.arrive(ab, &ms(&m), 1, Op("p2p"), true),
        Ok(Arrival::Complete { seq: 0, .. })
    ));
    assert_eq!(rv.waiting_count(), 1);
    assert!(rv.pending(0).is_some_and(|p| p.scope == ba));
    assert!(matches!(
        rv.arrive(ba, &ms(&m), 1, Op("p2p"), true),
        Ok(Arrival::Complete { seq: 0, .. })
    ));
    assert!(rv.none_waiting());
}

#[test]
fn blocking_on_an_unmatched_operation_when_everyone_waits_is_a_deadlock() {
    let mut rv = Rendezvous::new(2);
    let m = [0, 1];
    let ab = channel(0, 1);
    assert!(matches!(
        rv.arrive(ab, &ms(&m), 0, Op("isend"), false),
        Ok(Arrival::Wait { .. })
    ));
    assert!(matches!(
        rv.arrive(WORLD, &ms(&m), 1, Op("barrier"), true),
        Ok(Arrival::Wait { .. })
    ));
    let pending = Pending {
        scope: ab,
        seq: 0,
        call: Op("isend"),
    };
    match rv.block(0, pending) {
        Err(RendezvousError::Deadlock(m)) => assert_eq!(
            m,
            "rank 0 waits in isend (call #1 in point-to-point 0->1 in the world group, still missing rank 1): every live rank is waiting and none of their calls can complete"
        ),
        other => panic!("expected a deadlock, got {other:?}"),
    }
    let doomed = rv.take_doomed();
    assert_eq!(doomed.len(), 1);
    assert!(
        doomed[0].1.starts_with("rank 1 waits in barrier"),
        "{doomed:?}"
    );
}
