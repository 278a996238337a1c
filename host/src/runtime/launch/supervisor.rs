//! The scheduler's callbacks into the runtime: when a rank exits, free what it held and fail
//! the ranks that can now never finish; when the deadline passes, name it.

use super::super::error::Abort;
use super::super::world::{SharedWorld, lock};
use crate::model::{FailureKind, RankFailure};
use crate::sched::Supervisor;

/// Fails the ranks that can never finish once others have exited, and frees what an exited
/// rank still held.
pub(super) struct RunSupervisor {
    pub world: SharedWorld,
    pub doomed: Vec<(usize, RankFailure)>,
    /// The deadline as the policy states it, for messages.
    pub deadline: String,
}

fn deadlocked((rank, message): (u32, String)) -> (usize, RankFailure) {
    (
        rank as usize,
        RankFailure::new(FailureKind::Deadlock, message),
    )
}

impl Supervisor<RankFailure> for RunSupervisor {
    fn exited(&mut self, index: usize) {
        let mut world = lock(&self.world);
        if let Some(progress) = &world.progress {
            progress.rank_finished();
        }
        world.sim.store.free_all_of(index as u32);
        let doomed = world.rendezvous.rank_exited(index as u32);
        self.doomed.extend(doomed.into_iter().map(deadlocked));
    }

    fn expired(&mut self, _index: usize) -> RankFailure {
        RankFailure::new(
            FailureKind::DeadlineExceeded,
            format!(
                "the run's wall-clock deadline ({}) passed before this rank finished",
                self.deadline
            ),
        )
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
