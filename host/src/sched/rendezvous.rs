//! Matching collective calls across ranks: who has arrived, whether the calls agree, and
//! whether the ranks still waiting can ever be released.
//!
//! Calls meet at a slot keyed by scope (a group, or a pair of ranks for point-to-point) and a
//! per-rank sequence number in that scope, as NCCL orders calls per communicator. Every
//! arriving call is checked against the slot's first call at once, so a mismatch is reported
//! in microseconds instead of hanging until a timeout.

use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeSet;
use std::collections::hash_map::Entry;
use std::fmt;

/// Where calls meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// A process group (0 is the world); every member takes part in each call.
    Group(u32),
    /// Point-to-point between two global ranks (lower first) within a group.
    Pair {
        /// The group the peers were named in.
        group: u32,
        /// The lower global rank.
        low: u32,
        /// The higher global rank.
        high: u32,
    },
}

/// How calls at one slot are checked against each other.
pub trait CallMatch: Clone + fmt::Display {
    /// `Err(reason)` if `self` (from `rank`) cannot meet `first` (from `first_rank`).
    fn check(&self, rank: u32, first: &Self, first_rank: u32) -> Result<(), String>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct SlotKey {
    scope: Scope,
    seq: u64,
}

#[derive(Debug)]
struct Slot<C> {
    members: Vec<u32>,
    arrived: Vec<(u32, C)>,
}

/// What happened when a rank arrived.
#[derive(Debug)]
pub enum Arrival<C> {
    /// Others are still missing; wait for the outcome to be posted.
    Wait,
    /// This rank completed the slot: every member's call, in member order, and the slot's
    /// sequence number in its scope (the one numbering of a scope's collectives).
    Complete {
        /// Each member's call, in member order.
        calls: Vec<(u32, C)>,
        /// The slot's sequence number in its scope, from 0.
        seq: u64,
    },
}

/// Why an arrival cannot be matched, ever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RendezvousError {
    /// The call disagrees with the slot's first call.
    Mismatch(String),
    /// No waiting rank can be released: each waiting rank with its pending call.
    Deadlock(String),
}

impl fmt::Display for RendezvousError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RendezvousError::Mismatch(m) | RendezvousError::Deadlock(m) => f.write_str(m),
        }
    }
}

/// A waiting rank's pending call, for messages and reports.
#[derive(Debug, Clone)]
pub struct Pending<C> {
    /// Where it waits.
    pub scope: Scope,
    /// Its sequence number in that scope (1-based in messages).
    pub seq: u64,
    /// The call.
    pub call: C,
}

/// The ranks waiting at a slot, indexed by rank: O(1) per arrival and departure, iterated in
/// rank order for messages.
#[derive(Debug)]
struct Waiting<C> {
    by_rank: Vec<Option<Pending<C>>>,
    count: usize,
}

impl<C> Waiting<C> {
    fn new(ranks: usize) -> Self {
        Waiting {
            by_rank: (0..ranks).map(|_| None).collect(),
            count: 0,
        }
    }

    fn slot(&mut self, rank: u32) -> Option<&mut Option<Pending<C>>> {
        self.by_rank.get_mut(rank as usize)
    }

    fn insert(&mut self, rank: u32, pending: Pending<C>) {
        if let Some(slot) = self.slot(rank)
            && slot.replace(pending).is_none()
        {
            self.count += 1;
        }
    }

    fn remove(&mut self, rank: u32) {
        if let Some(slot) = self.slot(rank)
            && slot.take().is_some()
        {
            self.count -= 1;
        }
    }

    fn get(&self, rank: u32) -> Option<&Pending<C>> {
        self.by_rank.get(rank as usize).and_then(Option::as_ref)
    }

    fn len(&self) -> usize {
        self.count
    }

    fn iter(&self) -> impl Iterator<Item = (u32, &Pending<C>)> {
        self.by_rank
            .iter()
            .enumerate()
            .filter_map(|(r, p)| p.as_ref().map(|p| (r as u32, p)))
    }
}

impl<C: CallMatch> Waiting<C> {
    /// Every waiting rank, ascending, with its own wait (`rank 3 waits in barrier (call #2 in
    /// the world group)`); none waits afterwards. Each rank's message names only its own
    /// wait, so N deadlocked ranks cost N lines, not N x N.
    fn take_ranks_with_waits(&mut self) -> Vec<(u32, String)> {
        let waits: Vec<(u32, String)> = self
            .iter()
            .map(|(r, p)| {
                let wait = format!(
                    "rank {r} waits in {} (call #{} in {})",
                    p.call,
                    p.seq + 1,
                    describe_scope(p.scope)
                );
                (r, wait)
            })
            .collect();
        for (r, _) in &waits {
            self.remove(*r);
        }
        waits
    }
}

/// All open slots of a run.
#[derive(Debug)]
pub struct Rendezvous<C> {
    slots: HashMap<SlotKey, Slot<C>>,
    next_seq: HashMap<(Scope, u32), u64>,
    waiting: Waiting<C>,
    exited: BTreeSet<u32>,
    live: usize,
    doomed: Vec<(u32, String)>,
}

impl<C: CallMatch> Rendezvous<C> {
    /// Bookkeeping for `ranks` live ranks.
    pub fn new(ranks: usize) -> Self {
        Rendezvous {
            slots: HashMap::default(),
            next_seq: HashMap::default(),
            waiting: Waiting::new(ranks),
            exited: BTreeSet::new(),
            live: ranks,
            doomed: Vec::new(),
        }
    }

    /// `rank` calls `call` in `scope`, whose members (global ranks, ascending, which is also
    /// member order) are `members`. On [`Arrival::Complete`] the caller runs the collective and posts each
    /// other member's outcome. On an error nothing is recorded for `rank`; the other ranks
    /// that can no longer be released are returned by [`take_doomed`](Self::take_doomed).
    pub fn arrive(
        &mut self,
        scope: Scope,
        members: &[u32],
        rank: u32,
        call: C,
    ) -> Result<Arrival<C>, RendezvousError> {
        let seq_slot = self.next_seq.entry((scope, rank)).or_insert(0);
        let seq = *seq_slot;
        *seq_slot += 1;
        let key = SlotKey { scope, seq };

        if let Some(slot) = self.slots.get(&key)
            && let Some((first_rank, first)) = slot.arrived.first()
            && let Err(reason) = call.check(rank, first, *first_rank)
        {
            return Err(RendezvousError::Mismatch(format!(
                "rank {rank} called {call} but rank {first_rank} called {first} at the same point (call #{} in {}): {reason}",
                seq + 1,
                describe_scope(scope)
            )));
        }
        let gone = if self.exited.is_empty() {
            None
        } else {
            members.iter().find(|m| self.exited.contains(m))
        };
        if let Some(gone) = gone {
            return Err(RendezvousError::Deadlock(format!(
                "rank {rank} waits in {call} (call #{} in {}) but member rank {gone} has already exited; it can never complete",
                seq + 1,
                describe_scope(scope)
            )));
        }

        let mut entry = match self.slots.entry(key) {
            Entry::Occupied(entry) => entry,
            Entry::Vacant(entry) => entry.insert_entry(Slot {
                members: members.to_vec(),
                arrived: Vec::with_capacity(members.len()),
            }),
        };
        let slot = entry.get_mut();
        slot.arrived.push((rank, call.clone()));
        if slot.arrived.len() == slot.members.len() {
            let mut slot = entry.remove();
            for (r, _) in &slot.arrived {
                self.waiting.remove(*r);
            }
            // Members are listed in ascending rank order, so member order is rank order.
            slot.arrived.sort_unstable_by_key(|(r, _)| *r);
            return Ok(Arrival::Complete {
                calls: slot.arrived,
                seq,
            });
        }
        self.waiting.insert(rank, Pending { scope, seq, call });
        if self.waiting.len() == self.live {
            let why = "every live rank is waiting and none of their calls can complete";
            let mut own = String::new();
            for (r, wait) in self.waiting.take_ranks_with_waits() {
                let message = format!("{wait}: {why}");
                if r == rank {
                    own = message;
                } else {
                    self.doomed.push((r, message));
                }
            }
            return Err(RendezvousError::Deadlock(own));
        }
        Ok(Arrival::Wait)
    }

    /// `rank` has finished. Returns the waiting ranks that can now never be released, with the
    /// reason; they are no longer considered waiting.
    pub fn rank_exited(&mut self, rank: u32) -> Vec<(u32, String)> {
        self.exited.insert(rank);
        self.live = self.live.saturating_sub(1);
        let mut doomed = Vec::new();
        let keys: Vec<SlotKey> = self
            .slots
            .iter()
            .filter(|(_, s)| s.members.contains(&rank))
            .map(|(k, _)| *k)
            .collect();
        for key in keys {
            if let Some(slot) = self.slots.remove(&key) {
                for (r, call) in slot.arrived {
                    self.waiting.remove(r);
                    doomed.push((
                        r,
                        format!(
                            "rank {r} waits in {call} (call #{} in {}) but member rank {rank} exited without making that call; it can never complete",
                            key.seq + 1,
                            describe_scope(key.scope)
                        ),
                    ));
                }
            }
        }
        if self.waiting.len() > 0 && self.waiting.len() == self.live {
            let why = format!(
                "rank {rank} exited and every live rank is waiting; none of their calls can complete"
            );
            for r in self.waiting.take_ranks_with_waits() {
                doomed.push((r.0, format!("{}: {why}", r.1)));
            }
        }
        doomed.sort_by_key(|(r, _)| *r);
        doomed
    }

    /// Waiting ranks that a failed [`arrive`](Self::arrive) found can never be released, with
    /// the reason; the caller ends their waits.
    pub fn take_doomed(&mut self) -> Vec<(u32, String)> {
        std::mem::take(&mut self.doomed)
    }

    /// What `rank` waits in, if it waits at a slot (for deadlock messages and reports).
    pub fn pending(&self, rank: u32) -> Option<&Pending<C>> {
        self.waiting.get(rank)
    }

    /// How many ranks wait.
    pub fn waiting_count(&self) -> usize {
        self.waiting.len()
    }

    /// Whether no rank waits.
    pub fn none_waiting(&self) -> bool {
        self.waiting.len() == 0
    }

    /// Forget that `rank` is waiting (its wait was ended by an error posted to it).
    pub fn abandon(&mut self, rank: u32) {
        self.waiting.remove(rank);
    }
}

/// `the world group`, `group 3`, `point-to-point 0<->5 in the world group`.
pub fn describe_scope(scope: Scope) -> String {
    match scope {
        Scope::Group(0) => "the world group".to_owned(),
        Scope::Group(g) => format!("group {g}"),
        Scope::Pair { group, low, high } => {
            let within = if group == 0 {
                "the world group".to_owned()
            } else {
                format!("group {group}")
            };
            format!("point-to-point {low}<->{high} in {within}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn last_arrival_completes_in_member_order() {
        let mut rv = Rendezvous::new(3);
        let members = [0, 1, 2];
        assert!(matches!(
            rv.arrive(WORLD, &members, 2, Op("barrier")),
            Ok(Arrival::Wait)
        ));
        assert!(matches!(
            rv.arrive(WORLD, &members, 0, Op("barrier")),
            Ok(Arrival::Wait)
        ));
        match rv.arrive(WORLD, &members, 1, Op("barrier")) {
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
            rv.arrive(WORLD, &m, 0, Op("a")),
            Ok(Arrival::Wait)
        ));
        assert!(matches!(
            rv.arrive(WORLD, &m, 1, Op("a")),
            Ok(Arrival::Complete { seq: 0, .. })
        ));
        assert!(matches!(
            rv.arrive(WORLD, &m, 1, Op("b")),
            Ok(Arrival::Wait)
        ));
        assert!(matches!(
            rv.arrive(WORLD, &m, 0, Op("b")),
            Ok(Arrival::Complete { seq: 1, .. })
        ));
    }

    #[test]
    fn mismatch_names_both_calls() {
        let mut rv = Rendezvous::new(2);
        let m = [0, 1];
        assert!(matches!(
            rv.arrive(WORLD, &m, 0, Op("all_reduce")),
            Ok(Arrival::Wait)
        ));
        let err = rv
            .arrive(WORLD, &m, 1, Op("broadcast"))
            .map(|_| ())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "rank 1 called broadcast but rank 0 called all_reduce at the same point (call #1 in the world group): different operations"
        );
    }

    #[test]
    fn waiting_on_an_exited_member_is_reported_for_each_waiter() {
        let mut rv = Rendezvous::new(3);
        let m = [0, 1, 2];
        assert!(matches!(
            rv.arrive(WORLD, &m, 1, Op("barrier")),
            Ok(Arrival::Wait)
        ));
        assert!(matches!(
            rv.arrive(WORLD, &m, 2, Op("barrier")),
            Ok(Arrival::Wait)
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
            .arrive(WORLD, &m, 1, Op("barrier"))
            .map(|_| ())
            .unwrap_err();
        assert!(matches!(err, RendezvousError::Deadlock(_)));
    }

    #[test]
    fn all_live_ranks_waiting_in_different_groups_is_a_deadlock() {
        let mut rv = Rendezvous::new(2);
        assert!(matches!(
            rv.arrive(Scope::Group(1), &[0, 1], 0, Op("barrier")),
            Ok(Arrival::Wait)
        ));
        let err = rv
            .arrive(Scope::Group(2), &[0, 1], 1, Op("barrier"))
            .map(|_| ())
            .unwrap_err();
        // Each rank's message names its own wait only: N ranks, N lines, not N x N.
        let why = "every live rank is waiting and none of their calls can complete";
        assert_eq!(
            err.to_string(),
            format!("rank 1 waits in barrier (call #1 in group 2): {why}")
        );
        let doomed = rv.take_doomed();
        assert_eq!(
            doomed,
            [(
                0,
                format!("rank 0 waits in barrier (call #1 in group 1): {why}")
            )]
        );
        assert!(rv.none_waiting());
    }

    #[test]
    fn exit_that_leaves_only_waiters_dooms_them_all() {
        let mut rv = Rendezvous::new(3);
        assert!(matches!(
            rv.arrive(Scope::Group(1), &[0, 1], 0, Op("x")),
            Ok(Arrival::Wait)
        ));
        let doomed = rv.rank_exited(2);
        assert_eq!(doomed.len(), 0, "rank 1 still runs");
        assert!(matches!(
            rv.arrive(Scope::Group(2), &[1, 2], 1, Op("y")),
            Err(RendezvousError::Deadlock(_))
        ));
    }
}
