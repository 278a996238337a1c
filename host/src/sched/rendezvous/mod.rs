//! Matching collective calls across ranks: who has arrived, whether the calls agree, and
//! whether the ranks still waiting can ever be released.
//!
//! Calls meet at a slot keyed by scope (a group, or a pair of ranks for point-to-point) and a
//! per-rank sequence number in that scope, as NCCL orders calls per communicator. Every
//! arriving call is checked against the slot's first call at once, so a mismatch is reported
//! in microseconds instead of hanging until a timeout.

mod scope;
mod waiting;

pub use scope::{Scope, describe_scope};
pub use waiting::Pending;

use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeSet;
use std::collections::hash_map::Entry;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use waiting::Waiting;

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
    /// Shared with the group: an open slot costs no copy of a large member list.
    members: Arc<[u32]>,
    /// Grows with arrivals only (each bounded by its rank's operations in flight).
    arrived: Vec<(u32, C)>,
}

/// What happened when a rank arrived.
#[derive(Debug)]
pub enum Arrival<C> {
    /// Others are still missing; the outcome is posted when the last arrives.
    Wait {
        /// The slot's sequence number in its scope, from 0.
        seq: u64,
    },
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

/// All open slots of a run.
#[derive(Debug)]
pub struct Rendezvous<C> {
    slots: HashMap<SlotKey, Slot<C>>,
    next_seq: HashMap<(Scope, u32), u64>,
    waiting: Waiting<C>,
    exited: BTreeSet<u32>,
    live: usize,
    doomed: Vec<(u32, String)>,
    /// Up while `doomed` holds ranks: read without the lock this sits behind (see
    /// [`doom_signal`](Self::doom_signal)).
    doom_signal: Arc<AtomicBool>,
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
            doom_signal: Arc::default(),
        }
    }

    /// `rank` calls `call` in `scope`, whose members (global ranks, ascending, which is also
    /// member order) are `members`. On [`Arrival::Complete`] the caller runs the collective and posts each
    /// other member's outcome. A `blocking` caller waits from now on (and may complete a
    /// deadlock); an asynchronous one goes on running and may [`block`](Self::block) later.
    /// On an error nothing is recorded for `rank`; the other ranks that can no longer be
    /// released are returned by [`take_doomed`](Self::take_doomed).
    pub fn arrive(
        &mut self,
        scope: Scope,
        members: &Arc<[u32]>,
        rank: u32,
        call: C,
        blocking: bool,
    ) -> Result<Arrival<C>, RendezvousError> {
        let seq_slot = self.next_seq.entry((scope, rank)).or_insert(0);
        let seq = *seq_slot;
        *seq_slot += 1;
        let key = SlotKey { scope, seq };

        // One lookup serves the check and the arrival (every rank of every round comes here).
        let entry = self.slots.entry(key);
        if let Entry::Occupied(slot) = &entry
            && let Some((first_rank, first)) = slot.get().arrived.first()
        {
            // Told lower rank first, whichever arrived first: the message does not depend on
            // how the host interleaved the two ranks.
            let ((lo_rank, lo), (hi_rank, hi)) = if rank < *first_rank {
                ((rank, &call), (*first_rank, first))
            } else {
                ((*first_rank, first), (rank, &call))
            };
            if let Err(reason) = hi.check(hi_rank, lo, lo_rank) {
                return Err(RendezvousError::Mismatch(format!(
                    "rank {lo_rank} called {lo} but rank {hi_rank} called {hi} at the same point (call #{} in {}): {reason}",
                    seq + 1,
                    describe_scope(scope)
                )));
            }
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

        let mut entry = match entry {
            Entry::Occupied(entry) => entry,
            Entry::Vacant(entry) => entry.insert_entry(Slot {
                members: members.clone(),
                // Grown by arrivals, not sized to the members: a guest may open many slots
                // of a large group (asynchronous calls it never waits for), and the
                // policy's memory bounds count what has arrived.
                arrived: Vec::new(),
            }),
        };
        let slot = entry.get_mut();
        slot.arrived.push((rank, call.clone()));
        if slot.arrived.len() == slot.members.len() {
            let mut slot = entry.remove();
            // Members blocked in this call are released; one that issued it asynchronously
            // may be blocked in another, and stays so.
            for (r, _) in &slot.arrived {
                self.waiting.remove_if_in(*r, scope, seq);
            }
            // Members are listed in ascending rank order, so member order is rank order.
            slot.arrived.sort_unstable_by_key(|(r, _)| *r);
            return Ok(Arrival::Complete {
                calls: slot.arrived,
                seq,
            });
        }
        if blocking {
            self.wait_at_open_slot(rank, Pending { scope, seq, call })?;
        }
        Ok(Arrival::Wait { seq })
    }

    /// `rank` now waits for `pending`, a call it issued asynchronously. While its slot is
    /// open, that may leave every live rank waiting: a deadlock error (the others are then in
    /// [`take_doomed`](Self::take_doomed)). Once the slot has completed, the call is past
    /// the rendezvous (its communication may still be in flight) and waiting for it here is
    /// nothing.
    pub fn block(&mut self, rank: u32, pending: Pending<C>) -> Result<(), RendezvousError> {
        let key = SlotKey {
            scope: pending.scope,
            seq: pending.seq,
        };
        if !self.slots.contains_key(&key) {
            return Ok(());
        }
        self.wait_at_open_slot(rank, pending)
    }

    /// [`block`](Self::block) on a slot known to be open.
    fn wait_at_open_slot(&mut self, rank: u32, pending: Pending<C>) -> Result<(), RendezvousError> {
        self.waiting.insert(rank, pending);
        if self.waiting.len() == self.live {
            let why = "every live rank is waiting and none of their calls can complete";
            let mut own = String::new();
            for (r, pending) in self.waiting.take_all() {
                let message = format!("{}: {why}", self.describe_wait(r, &pending));
                if r == rank {
                    own = message;
                } else {
                    self.doomed.push((r, message));
                    self.doom_signal.store(true, Ordering::Release);
                }
            }
            return Err(RendezvousError::Deadlock(own));
        }
        Ok(())
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
            for (r, pending) in self.waiting.take_all() {
                doomed.push((r, format!("{}: {why}", self.describe_wait(r, &pending))));
            }
        }
        doomed.sort_by_key(|(r, _)| *r);
        doomed
    }

    /// Waiting ranks that a failed [`arrive`](Self::arrive) found can never be released, with
    /// the reason; the caller ends their waits.
    pub fn take_doomed(&mut self) -> Vec<(u32, String)> {
        self.doom_signal.store(false, Ordering::Release);
        std::mem::take(&mut self.doomed)
    }

    /// A flag that is up while [`take_doomed`](Self::take_doomed) has ranks to give: the
    /// scheduler reads it after every poll without taking the lock the rendezvous sits
    /// behind. It is raised and lowered only together with the list, under that lock.
    pub fn doom_signal(&self) -> Arc<AtomicBool> {
        self.doom_signal.clone()
    }

    /// `rank 3 waits in barrier() (call #2 in group 1, still missing ranks 5, 6)`: the call,
    /// where it meets, and the members that have not made it yet. Each rank's message names
    /// only its own wait, so N deadlocked ranks cost N lines, not N x N.
    fn describe_wait(&self, rank: u32, pending: &Pending<C>) -> String {
        let key = SlotKey {
            scope: pending.scope,
            seq: pending.seq,
        };
        let missing: Vec<u32> = self.slots.get(&key).map_or_else(Vec::new, |slot| {
            slot.members
                .iter()
                .copied()
                .filter(|m| !slot.arrived.iter().any(|(r, _)| r == m))
                .collect()
        });
        let still = match missing.as_slice() {
            [] => String::new(),
            [one] => format!(", still missing rank {one}"),
            many => format!(", still missing ranks {}", list_ranks(many)),
        };
        format!(
            "rank {rank} waits in {} (call #{} in {}{still})",
            pending.call,
            pending.seq + 1,
            describe_scope(pending.scope)
        )
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

/// `2, 5, 6` or `0, 1, 2, 3, 4, 5, 6, 7 and 120 more`.
fn list_ranks(ranks: &[u32]) -> String {
    const SHOWN: usize = 8;
    let shown: Vec<String> = ranks.iter().take(SHOWN).map(u32::to_string).collect();
    match ranks.len().checked_sub(SHOWN) {
        Some(more) if more > 0 => format!("{} and {more} more", shown.join(", ")),
        _ => shown.join(", "),
    }
}

#[cfg(test)]
mod tests;
