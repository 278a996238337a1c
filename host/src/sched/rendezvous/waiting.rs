//! The ranks waiting at the rendezvous and what each waits in: constant time per arrival
//! and departure, iterated in rank order for deadlock messages.

use super::CallMatch;
use super::scope::Scope;

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

    /// Forget `rank`'s wait if it waits at `(scope, seq)`.
    pub(super) fn remove_if_in(&mut self, rank: u32, scope: Scope, seq: u64) {
        if let Some(slot) = self.slot(rank)
            && slot
                .as_ref()
                .is_some_and(|p| p.scope == scope && p.seq == seq)
        {
            *slot = None;
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
    /// Every waiting rank, ascending, with its wait; none waits afterwards.
    pub(super) fn take_all(&mut self) -> Vec<(u32, Pending<C>)> {
        let ranks: Vec<u32> = self.iter().map(|(r, _)| r).collect();
        let mut out = Vec::with_capacity(ranks.len());
        for r in ranks {
            if let Some(slot) = self.slot(r)
                && let Some(pending) = slot.take()
            {
                self.count -= 1;
                out.push((r, pending));
            }
        }
        out
    }
}
