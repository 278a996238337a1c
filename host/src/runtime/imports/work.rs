//! `distributed.work`: operations in flight. Issuing never waits; `wait` blocks until the
//! operation completes and moves the rank's clock to its end; a rank's operations in flight
//! are bounded (`ops_in_flight_per_rank`) and must all complete before it exits.

use crate::runtime::bindings::v0_2::kernbench::bench::distributed;
use crate::runtime::error::HostError;
use crate::runtime::state::{InFlight, RankState, WorkHandle};
use crate::runtime::world::{self, Issued, lock};
use crate::sched::rendezvous::describe_scope;
use crate::sim::SimError;
use wasmtime::component::Resource;

/// `isend(tensor f32[4], to rank 1) (call #1 in point-to-point 0->1 in the world group)`.
fn describe(issued: &Issued) -> String {
    let call = issued
        .call
        .as_ref()
        .map_or_else(|| "an operation".to_owned(), |a| a.to_string());
    format!(
        "{call} (call #{} in {})",
        issued.seq + 1,
        describe_scope(issued.scope)
    )
}

/// At most this many operations are listed in one message; the rest are counted.
const LISTED: usize = 8;

impl RankState {
    /// Refuse a new asynchronous operation when the rank already has the most in flight. A
    /// dropped handle whose operation has completed no longer counts.
    pub(super) fn check_work_room(&mut self, what: &str) -> Result<(), SimError> {
        if self.works.len() as u64 >= self.max_ops_in_flight {
            self.works
                .retain(|_, w| !(w.dropped && w.issued.ticket.is_ready()));
        }
        if self.works.len() as u64 >= self.max_ops_in_flight {
            return Err(SimError::LimitExceeded(format!(
                "{what}: this rank already has {} operations in flight, the most it may (ops_in_flight_per_rank); wait for some first",
                self.max_ops_in_flight
            )));
        }
        Ok(())
    }

    /// Keep an issued operation and hand the guest its work handle.
    pub(super) fn adopt_work(&mut self, issued: Issued) -> Result<Resource<WorkHandle>, HostError> {
        let id = self.next_work;
        self.next_work += 1;
        self.works.insert(
            id,
            InFlight {
                issued,
                dropped: false,
            },
        );
        match self.table().push(WorkHandle { id, waited: false }) {
            Ok(handle) => Ok(handle),
            Err(e) => {
                self.works.remove(&id);
                Err(SimError::LimitExceeded(format!(
                    "the rank's resource table is full (resource_table_entries): {e}"
                ))
                .into())
            }
        }
    }

    /// The operations still in flight that have not completed, named, or none.
    pub fn unfinished_work(&self) -> Option<String> {
        let unfinished: Vec<&Issued> = self
            .works
            .values()
            .map(|w| &w.issued)
            .filter(|issued| !issued.ticket.is_ready())
            .collect();
        if unfinished.is_empty() {
            return None;
        }
        let mut names: Vec<String> = unfinished
            .iter()
            .take(LISTED)
            .map(|i| describe(i))
            .collect();
        if unfinished.len() > LISTED {
            names.push(format!("and {} more", unfinished.len() - LISTED));
        }
        Some(names.join("; "))
    }

    fn work(&mut self, handle: &Resource<WorkHandle>) -> Result<WorkHandle, HostError> {
        Ok(*self.table().get(handle).map_err(wasmtime::Error::new)?)
    }
}

impl distributed::HostWork for RankState {
    async fn wait(&mut self, handle: Resource<WorkHandle>) -> Result<(), HostError> {
        let work = self.work(&handle)?;
        let issued = match self.works.remove(&work.id) {
            Some(w) if !work.waited => w.issued,
            _ => {
                return Err(SimError::InvalidArgument(
                    "wait on a work that was already waited for: each operation is waited for once"
                        .into(),
                )
                .into());
            }
        };
        if let Ok(w) = self.table().get_mut(&handle) {
            w.waited = true;
        }
        world::wait(&self.world, self.index, issued)
            .await
            .map_err(HostError::from)
    }

    /// Done means done in simulated time: the operation has run and its end is not after
    /// this rank's clock. (Whether a peer has issued its side yet depends on how far the
    /// host has run that peer, so polling before the peer issued can see `false` where a
    /// later poll sees `true`; `wait` never depends on it.)
    fn is_completed(&mut self, handle: Resource<WorkHandle>) -> wasmtime::Result<bool> {
        let work = *self.table().get(&handle).map_err(wasmtime::Error::new)?;
        if work.waited {
            return Ok(true);
        }
        let now = lock(&self.world).sim.clocks.get(self.index);
        Ok(self.works.get(&work.id).is_none_or(|w| {
            w.issued
                .ticket
                .peek(|outcome| matches!(outcome, Some(Ok(end)) if *end <= now))
        }))
    }

    /// Dropping a handle does not cancel its operation (as in PyTorch): it stays in flight,
    /// and must complete before the rank exits.
    fn drop(&mut self, handle: Resource<WorkHandle>) -> wasmtime::Result<()> {
        let work = self.table().delete(handle).map_err(wasmtime::Error::new)?;
        if let Some(w) = self.works.get_mut(&work.id) {
            if w.issued.ticket.is_ready() {
                self.works.remove(&work.id);
            } else {
                w.dropped = true;
            }
        }
        Ok(())
    }
}
