//! The scheduler's callbacks into the runtime: when a rank exits, free what it held and fail
//! the ranks that can now never finish; when the deadline passes, name it.

use super::super::error::Abort;
use super::super::world::{SharedWorld, lock};
use crate::model::{FailureKind, RankFailure};
use crate::sched::rendezvous::describe_scope;
use crate::sched::{Supervisor, TaskEnd};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// Fails the ranks that can never finish once others have exited, and frees what an exited
/// rank still held.
pub(super) struct RunSupervisor {
    pub world: SharedWorld,
    pub doomed: Vec<(usize, RankFailure)>,
    /// The deadline as the policy states it, for messages.
    pub deadline: String,
    /// Instances in the run.
    pub instances: usize,
    /// Instances that have returned.
    pub exited: usize,
}

fn deadlocked((rank, message): (u32, String)) -> (usize, RankFailure) {
    (
        rank as usize,
        RankFailure::new(FailureKind::Deadlock, message),
    )
}

impl Supervisor<RankFailure> for RunSupervisor {
    fn exited(&mut self, index: usize) {
        self.exited += 1;
        let mut world = lock(&self.world);
        if let Some(progress) = &world.progress {
            progress.rank_finished();
        }
        world.sim.store.free_all_of(index as u32);
        let doomed = world.rendezvous.rank_exited(index as u32);
        world.rank_exited(index as u32);
        self.doomed.extend(doomed.into_iter().map(deadlocked));
    }

    /// A rank that was running or sleeping when the deadline passed is the one that ran out
    /// of time: it fails, and says so. A rank that was only waiting in a collective for the
    /// others is cancelled and says where it waited (unless every unfinished rank waited, in
    /// which case each fails naming its own wait).
    fn expired(&mut self, index: usize) -> TaskEnd<RankFailure> {
        let world = lock(&self.world);
        let rank = index as u32;
        let unfinished = self.instances.saturating_sub(self.exited);
        let waiting = world.rendezvous.pending(rank);
        match waiting {
            Some(_) if world.rendezvous.waiting_count() < unfinished => TaskEnd::Cancelled,
            // Held for ranks behind it in simulated time (its operation in flight, or a
            // poll): one of those ran out of time.
            None if world.is_held(rank) => TaskEnd::Cancelled,
            Some(w) => TaskEnd::Failed(RankFailure::new(
                FailureKind::DeadlineExceeded,
                format!(
                    "the run's wall-clock deadline ({}) passed while this rank waited in {} (call #{} in {})",
                    self.deadline,
                    w.call,
                    w.seq + 1,
                    describe_scope(w.scope)
                ),
            )),
            None => TaskEnd::Failed(RankFailure::new(
                FailureKind::DeadlineExceeded,
                format!(
                    "the run's wall-clock deadline ({}) passed while this rank was running or sleeping",
                    self.deadline
                ),
            )),
        }
    }

    fn doom_signal(&self) -> Arc<AtomicBool> {
        lock(&self.world).rendezvous.doom_signal()
    }

    fn doomed(&mut self) -> Vec<(usize, RankFailure)> {
        let from_arrivals = lock(&self.world).rendezvous.take_doomed();
        self.doomed
            .extend(from_arrivals.into_iter().map(deadlocked));
        std::mem::take(&mut self.doomed)
    }
}

/// The abort a rank's epoch callback raises once the deadline has passed.
pub(super) fn deadline_abort() -> Abort {
    Abort::new(
        FailureKind::DeadlineExceeded,
        "the run's wall-clock deadline passed while this rank was running",
    )
}
