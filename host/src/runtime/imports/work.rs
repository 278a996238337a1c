//! `distributed.work`: operations in flight. Issuing never waits; `wait` blocks until the
//! operation completes and moves the rank's clock to its end. A rank's operations in flight
//! are bounded (`ops_in_flight_per_rank`); when the rank exits, or leaves the process group,
//! the host waits for every one it has not waited for (dropped handles included), so an
//! operation that can never complete ends the run as a deadlock naming it, and one that
//! failed fails the rank, whatever order the host happened to run the ranks in.

use crate::runtime::bindings::v0_2::kernbench::bench::distributed;
use crate::runtime::error::{Abort, HostError};
use crate::runtime::state::{InFlight, RankState, WorkHandle};
use crate::runtime::world::{self, Issued, lock};
use crate::sim::{Op, SimError};
use wasmtime::component::Resource;

/// Simulated time one `is-completed` poll costs: a loop that polls until an operation is
/// done moves the rank's clock toward the operation's end, as real time passes while a
/// rank spins, instead of spinning forever at one instant.
pub const POLL_NS: u64 = 100;

impl RankState {
    /// Refuse a new asynchronous operation when the rank already has the most in flight. A
    /// dropped handle whose operation completed without error no longer counts.
    fn check_work_room(&mut self, what: &str) -> Result<(), SimError> {
        if self.works.len() as u64 >= self.max_ops_in_flight {
            self.works.retain(|_, w| {
                let done = w.issued.ticket.peek(|o| matches!(o, Some(Ok(_))));
                !(w.dropped && done)
            });
        }
        if self.works.len() as u64 >= self.max_ops_in_flight {
            return Err(SimError::LimitExceeded(format!(
                "{what}: this rank already has {} operations in flight, the most it may (ops_in_flight_per_rank); wait for some first",
                self.max_ops_in_flight
            )));
        }
        Ok(())
    }

    /// An asynchronous collective or point-to-point call: the work handle is made first (so
    /// a full resource table refuses the call before anything is issued), then the call is
    /// issued and kept until it is waited for.
    pub(super) fn start(
        &mut self,
        g: Option<u32>,
        op: Op,
    ) -> Result<Resource<WorkHandle>, HostError> {
        self.check_work_room(op.name())?;
        let id = self.next_work;
        let handle = self
            .table()
            .push(WorkHandle { id, waited: false })
            .map_err(|e| {
                SimError::LimitExceeded(format!(
                    "{}: the rank's resource table is full (resource_table_entries): {e}",
                    op.name()
                ))
            })?;
        match self.issue(g, op, false) {
            Ok(issued) => {
                self.next_work += 1;
                self.works.insert(
                    id,
                    InFlight {
                        issued,
                        dropped: false,
                    },
                );
                Ok(handle)
            }
            Err(e) => {
                let _ = self.table().delete(handle);
                Err(e)
            }
        }
    }

    /// Wait for every operation this rank has not waited for, in issue order: the end of
    /// the rank's program, or `destroy_process_group`.
    pub async fn drain_work(&mut self) -> Result<(), Abort> {
        let pending = std::mem::take(&mut self.works);
        for (_, w) in pending {
            world::wait(&self.world, self.index, w.issued).await?;
        }
        Ok(())
    }

    fn work(&mut self, handle: &Resource<WorkHandle>) -> Result<WorkHandle, HostError> {
        Ok(*self.table().get(handle).map_err(wasmtime::Error::new)?)
    }
}

impl distributed::HostWork for RankState {
    async fn wait(&mut self, handle: Resource<WorkHandle>) -> Result<(), HostError> {
        let work = self.work(&handle)?;
        let issued: Issued = match self.works.remove(&work.id) {
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
    /// this rank's clock, which each poll moves by [`POLL_NS`]. Exact whatever the host
    /// order: the poll waits (in host time) until no rank behind this one in simulated time
    /// can still start a flow that would change the answer (`world::done_by_now`).
    async fn is_completed(&mut self, handle: Resource<WorkHandle>) -> wasmtime::Result<bool> {
        let work = *self.table().get(&handle).map_err(wasmtime::Error::new)?;
        if work.waited {
            return Ok(true);
        }
        lock(&self.world)
            .sim
            .clocks
            .advance(self.index, POLL_NS)
            .map_err(wasmtime::Error::new)?;
        let Some(ticket) = self.works.get(&work.id).map(|w| w.issued.ticket.clone()) else {
            return Ok(true);
        };
        Ok(world::done_by_now(&self.world, self.index, &ticket).await)
    }

    /// Dropping a handle does not cancel its operation (as in PyTorch): it stays in flight,
    /// and the rank waits for it when it exits.
    fn drop(&mut self, handle: Resource<WorkHandle>) -> wasmtime::Result<()> {
        let work = self.table().delete(handle).map_err(wasmtime::Error::new)?;
        if let Some(w) = self.works.get_mut(&work.id) {
            w.dropped = true;
        }
        Ok(())
    }
}
