//! The ranks waiting at the rendezvous and what each waits in: constant time per arrival
//! and departure, iterated in rank order for deadlock messages.

use super::CallMatch;
use super::scope::{Scope, describe_scope};

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
pub(super) struct Waiting<C> {
    by_rank: Vec<Option<Pending<C>>>,
    count: usize,
}

impl<C> Waiting<C> {
    pub(super) fn new(ranks: usize) -> Self {
        Waiting {
            by_rank: (0..ranks).map(|_| None).collect(),
            count: 0,
        }
    }

    fn slot(&mut self, rank: u32) -> Option<&mut Option<Pending<C>>> {
        self.by_rank.get_mut(rank as usize)
    }

    pub(super) fn insert(&mut self, rank: u32, pending: Pending<C>) {
        if let Some(slot) = self.slot(rank)
            && slot.replace(pending).is_none()
        {
            self.count += 1;
        }
    }

    pub(super) fn remove(&mut self, rank: u32) {
        if let Some(slot) = self.slot(rank)
            && slot.take().is_some()
        {
            self.count -= 1;
        }
    }

    pub(super) fn get(&self, rank: u32) -> Option<&Pending<C>> {
        self.by_rank.get(rank as usize).and_then(Option::as_ref)
    }

    pub(super) fn len(&self) -> usize {
        self.count
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (u32, &Pending<C>)> {
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
    pub(super) fn take_ranks_with_waits(&mut self) -> Vec<(u32, String)> {
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
