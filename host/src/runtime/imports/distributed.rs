//! `distributed`: rank identity (D2), process groups and collectives.

use crate::model::{FailureKind, LaunchMode};
use crate::runtime::bindings::v0_2::kernbench::bench::distributed::{self, Identity};
use crate::runtime::bindings::v0_2::kernbench::bench::types::ReduceOp;
use crate::runtime::error::{Abort, HostError};
use crate::runtime::state::{RankState, TensorHandle, WorkHandle};
use crate::runtime::world::{self, GroupError, Issued, lock};
use crate::sched::Scope;
use crate::sim::{CollectiveCall, Op, SimError, TensorArg};
use std::sync::Arc;
use wasmtime::component::Resource;

/// The backend the host provides (as `nccl` for CUDA).
pub const BACKEND: &str = "ccl";

/// Backend names a ported script passes that mean [`BACKEND`] here: a CUDA script's
/// `"nccl"` and a CPU script's `"gloo"` keep their `init_process_group` line.
pub const BACKEND_ALIASES: &[&str] = &["nccl", "gloo"];

impl RankState {
    /// In spawn mode every distributed call but `init` needs the process group (D2).
    fn require_init(&self, what: &str) -> Result<(), SimError> {
        if self.launch == LaunchMode::Spawn && !self.initialized {
            return Err(SimError::NotInitialized(format!(
                "{what} called before init_process_group: call init_process_group(\"{BACKEND}\") first"
            )));
        }
        Ok(())
    }

    fn warn_driver(&mut self, what: &str) {
        if self.debug && !self.driver_warned {
            self.driver_warned = true;
            tracing::warn!(
                "{what} in driver mode: this instance is not bound to a rank and answers rank 0 (single-driver launch)"
            );
        }
    }

    /// Capture a tensor handle as a collective argument.
    fn arg(&mut self, t: &Resource<TensorHandle>) -> Result<Box<TensorArg>, HostError> {
        let id = self.table().get(t).map_err(wasmtime::Error::new)?.id;
        Ok(Box::new(lock(&self.world).sim.store.tensor_arg(id)?))
    }

    /// Issue a collective or point-to-point call in group `g` (none = the world): check it
    /// against the group, arrive at its slot (a group, or the directed channel of a
    /// send/recv), and, if this rank is the last to arrive, run it on the simulator for every
    /// member. Never waits: a `blocking` issuer counts as waiting from now on.
    pub(super) fn issue(
        &mut self,
        g: Option<u32>,
        op: Op,
        blocking: bool,
    ) -> Result<Issued, HostError> {
        self.require_init(op.name())?;
        let group = g.unwrap_or(0);
        let name = op.name();
        // One lock for the lookup and the arrival: a barrier round takes it once per rank.
        let mut world = lock(&self.world);
        let members = world.group_members(Some(group), self.index)?.clone();
        let call = CollectiveCall::new(self.index, group, &members, op)?;
        let (scope, members) = match call.op().peer() {
            Some(peer) => {
                let (src, dst) = match call.op() {
                    Op::Send { .. } => (self.index, peer),
                    _ => (peer, self.index),
                };
                let channel = Scope::Channel { group, src, dst };
                let pair = [self.index.min(peer), self.index.max(peer)];
                (channel, Arc::from(pair))
            }
            None => (Scope::Group(group), members),
        };
        world::issue(
            &mut world,
            self.index,
            scope,
            &members,
            call,
            blocking,
            |world, calls, arrivals, seq| {
                let seq = world.record_seq(scope, seq);
                world.execute_collective(calls, arrivals, seq).map_err(|e| {
                    Abort::new(FailureKind::from(&e), format!("{name} could not run: {e}"))
                })
            },
        )
        .map_err(HostError::from)
    }

    /// A blocking collective: issue it and wait for it. Every blocking WIT collective is one
    /// line over this.
    async fn collective(&mut self, g: Option<u32>, op: Op) -> Result<(), HostError> {
        let issued = self.issue(g, op, true)?;
        world::wait(&self.world, self.index, issued)
            .await
            .map_err(HostError::from)
    }
}

impl From<ReduceOp> for crate::sim::ReduceOp {
    fn from(op: ReduceOp) -> Self {
        match op {
            ReduceOp::Sum => crate::sim::ReduceOp::Sum,
            ReduceOp::Avg => crate::sim::ReduceOp::Avg,
            ReduceOp::Product => crate::sim::ReduceOp::Product,
            ReduceOp::Min => crate::sim::ReduceOp::Min,
            ReduceOp::Max => crate::sim::ReduceOp::Max,
        }
    }
}

impl distributed::Host for RankState {
    fn init_process_group(&mut self, backend: String) -> Result<Identity, HostError> {
        if backend != BACKEND && !BACKEND_ALIASES.contains(&backend.as_str()) {
            return Err(SimError::InvalidArgument(format!(
                "unknown backend {backend:?}: the KernBench host provides \"{BACKEND}\" (\"nccl\" and \"gloo\" are accepted as its aliases)"
            ))
            .into());
        }
        if self.initialized {
            return Err(SimError::InvalidArgument(
                "init_process_group called twice: the default process group is already initialized"
                    .into(),
            )
            .into());
        }
        self.initialized = true;
        if backend != BACKEND {
            lock(&self.world).note_backend_alias(&backend);
        }
        let (rank, world_size) = match self.launch {
            LaunchMode::Driver => {
                // The SDK answers get_rank from this identity: warn here, once.
                self.warn_driver("init_process_group");
                (0, 1)
            }
            LaunchMode::Spawn => (self.index, self.world_size),
        };
        Ok(Identity { rank, world_size })
    }

    fn get_backend(&mut self) -> Result<String, HostError> {
        self.require_init("get_backend")?;
        Ok(BACKEND.to_owned())
    }

    /// Leaving the group first waits for every operation still in flight (dropped handles
    /// included), as the end of the rank's program does.
    async fn destroy_process_group(&mut self) -> Result<(), HostError> {
        self.require_init("destroy_process_group")?;
        self.drain_work().await?;
        self.initialized = false;
        Ok(())
    }

    fn is_initialized(&mut self) -> wasmtime::Result<bool> {
        Ok(self.initialized)
    }

    fn get_rank(&mut self) -> Result<u32, HostError> {
        match self.launch {
            LaunchMode::Driver => {
                self.warn_driver("get_rank");
                Ok(0)
            }
            LaunchMode::Spawn => {
                self.require_init("get_rank")?;
                Ok(self.index)
            }
        }
    }

    fn get_world_size(&mut self) -> Result<u32, HostError> {
        match self.launch {
            LaunchMode::Driver => {
                self.warn_driver("get_world_size");
                Ok(1)
            }
            LaunchMode::Spawn => {
                self.require_init("get_world_size")?;
                Ok(self.world_size)
            }
        }
    }

    fn new_group(&mut self, ranks: Vec<u32>) -> Result<u32, HostError> {
        self.require_init("new_group")?;
        match lock(&self.world).new_group(self.index, &ranks) {
            Ok(id) => Ok(id),
            Err(GroupError::Invalid(m)) => Err(SimError::InvalidArgument(m).into()),
            Err(GroupError::Limit(m)) => Err(SimError::LimitExceeded(m).into()),
            Err(GroupError::Mismatch(m)) => {
                Err(Abort::new(FailureKind::CollectiveMismatch, m).into())
            }
        }
    }

    fn group_rank(&mut self, g: u32) -> Result<Option<u32>, HostError> {
        self.require_init("group_rank")?;
        let world = lock(&self.world);
        let members = world.group(g)?;
        Ok(members
            .iter()
            .position(|&m| m == self.index)
            .map(|p| p as u32))
    }

    fn group_size(&mut self, g: u32) -> Result<u32, HostError> {
        self.require_init("group_size")?;
        let world = lock(&self.world);
        let members = world.group(g)?;
        Ok(members.len() as u32)
    }

    fn get_global_rank(&mut self, g: u32, group_rank: u32) -> Result<u32, HostError> {
        self.require_init("get_global_rank")?;
        let world = lock(&self.world);
        let members = world.group(g)?;
        members.get(group_rank as usize).copied().ok_or_else(|| {
            SimError::InvalidArgument(format!(
                "group {g} has {} members; group rank {group_rank} is out of range",
                members.len()
            ))
            .into()
        })
    }

    async fn barrier(&mut self, g: Option<u32>) -> Result<(), HostError> {
        self.collective(g, Op::Barrier).await
    }

    async fn all_reduce(
        &mut self,
        t: Resource<TensorHandle>,
        op: ReduceOp,
        g: Option<u32>,
    ) -> Result<(), HostError> {
        let (tensor, op) = (self.arg(&t)?, op.into());
        self.collective(g, Op::AllReduce { tensor, op }).await
    }

    async fn broadcast(
        &mut self,
        t: Resource<TensorHandle>,
        src: u32,
        g: Option<u32>,
    ) -> Result<(), HostError> {
        let tensor = self.arg(&t)?;
        self.collective(g, Op::Broadcast { tensor, src }).await
    }

    async fn reduce(
        &mut self,
        t: Resource<TensorHandle>,
        dst: u32,
        op: ReduceOp,
        g: Option<u32>,
    ) -> Result<(), HostError> {
        let (tensor, op) = (self.arg(&t)?, op.into());
        self.collective(g, Op::Reduce { tensor, dst, op }).await
    }

    async fn all_gather_into_tensor(
        &mut self,
        output: Resource<TensorHandle>,
        input: Resource<TensorHandle>,
        g: Option<u32>,
    ) -> Result<(), HostError> {
        let (input, output) = (self.arg(&input)?, self.arg(&output)?);
        self.collective(g, Op::AllGather { output, input }).await
    }

    async fn reduce_scatter_tensor(
        &mut self,
        output: Resource<TensorHandle>,
        input: Resource<TensorHandle>,
        op: ReduceOp,
        g: Option<u32>,
    ) -> Result<(), HostError> {
        let (input, output, op) = (self.arg(&input)?, self.arg(&output)?, op.into());
        self.collective(g, Op::ReduceScatter { output, input, op })
            .await
    }

    async fn all_to_all_single(
        &mut self,
        output: Resource<TensorHandle>,
        input: Resource<TensorHandle>,
        g: Option<u32>,
    ) -> Result<(), HostError> {
        let (input, output) = (self.arg(&input)?, self.arg(&output)?);
        self.collective(g, Op::AllToAll { output, input }).await
    }

    async fn send(
        &mut self,
        t: Resource<TensorHandle>,
        dst: u32,
        g: Option<u32>,
    ) -> Result<(), HostError> {
        let tensor = self.arg(&t)?;
        self.collective(g, Op::Send { tensor, dst }).await
    }

    async fn recv(
        &mut self,
        t: Resource<TensorHandle>,
        src: u32,
        g: Option<u32>,
    ) -> Result<(), HostError> {
        let tensor = self.arg(&t)?;
        self.collective(g, Op::Recv { tensor, src }).await
    }

    fn isend(
        &mut self,
        t: Resource<TensorHandle>,
        dst: u32,
        g: Option<u32>,
    ) -> Result<Resource<WorkHandle>, HostError> {
        let tensor = self.arg(&t)?;
        self.start(g, Op::Send { tensor, dst })
    }

    fn irecv(
        &mut self,
        t: Resource<TensorHandle>,
        src: u32,
        g: Option<u32>,
    ) -> Result<Resource<WorkHandle>, HostError> {
        let tensor = self.arg(&t)?;
        self.start(g, Op::Recv { tensor, src })
    }

    fn barrier_async(&mut self, g: Option<u32>) -> Result<Resource<WorkHandle>, HostError> {
        self.start(g, Op::Barrier)
    }

    fn all_reduce_async(
        &mut self,
        t: Resource<TensorHandle>,
        op: ReduceOp,
        g: Option<u32>,
    ) -> Result<Resource<WorkHandle>, HostError> {
        let (tensor, op) = (self.arg(&t)?, op.into());
        self.start(g, Op::AllReduce { tensor, op })
    }

    fn broadcast_async(
        &mut self,
        t: Resource<TensorHandle>,
        src: u32,
        g: Option<u32>,
    ) -> Result<Resource<WorkHandle>, HostError> {
        let tensor = self.arg(&t)?;
        self.start(g, Op::Broadcast { tensor, src })
    }

    fn reduce_async(
        &mut self,
        t: Resource<TensorHandle>,
        dst: u32,
        op: ReduceOp,
        g: Option<u32>,
    ) -> Result<Resource<WorkHandle>, HostError> {
        let (tensor, op) = (self.arg(&t)?, op.into());
        self.start(g, Op::Reduce { tensor, dst, op })
    }

    fn all_gather_into_tensor_async(
        &mut self,
        output: Resource<TensorHandle>,
        input: Resource<TensorHandle>,
        g: Option<u32>,
    ) -> Result<Resource<WorkHandle>, HostError> {
        let (input, output) = (self.arg(&input)?, self.arg(&output)?);
        self.start(g, Op::AllGather { output, input })
    }

    fn reduce_scatter_tensor_async(
        &mut self,
        output: Resource<TensorHandle>,
        input: Resource<TensorHandle>,
        op: ReduceOp,
        g: Option<u32>,
    ) -> Result<Resource<WorkHandle>, HostError> {
        let (input, output, op) = (self.arg(&input)?, self.arg(&output)?, op.into());
        self.start(g, Op::ReduceScatter { output, input, op })
    }

    fn all_to_all_single_async(
        &mut self,
        output: Resource<TensorHandle>,
        input: Resource<TensorHandle>,
        g: Option<u32>,
    ) -> Result<Resource<WorkHandle>, HostError> {
        let (input, output) = (self.arg(&input)?, self.arg(&output)?);
        self.start(g, Op::AllToAll { output, input })
    }
}
