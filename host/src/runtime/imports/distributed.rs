//! `distributed`: rank identity (D2), process groups and collectives.

use crate::runtime::bindings::kernbench::bench::distributed;
use crate::runtime::bindings::kernbench::bench::types::ReduceOp;
use crate::runtime::error::HostError;
use crate::runtime::state::{RankState, TensorHandle};
use crate::runtime::world::{CollectiveCall, LaunchMode, lock, meet};
use crate::sched::Scope;
use crate::sim::{CollectiveKind, SimError};
use wasmtime::component::Resource;

/// The only backend name the host answers to (as `nccl` for CUDA).
pub const BACKEND: &str = "ccl";

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

    async fn world_barrier(&mut self, g: Option<u32>) -> Result<(), HostError> {
        self.require_init("barrier")?;
        let members = lock(&self.world).group_members(g, self.index)?.to_vec();
        let call = CollectiveCall {
            kind: CollectiveKind::Barrier,
        };
        let scope = Scope::Group(g.unwrap_or(0));
        meet(
            &self.world,
            self.index,
            scope,
            &members,
            call,
            |world, calls| {
                let start = calls
                    .iter()
                    .map(|(r, _)| world.sim.clock_ns(*r))
                    .max()
                    .unwrap_or(0);
                for (r, _) in calls {
                    world.sim.set_clock(*r, start);
                }
                Ok(())
            },
        )
        .await
        .map_err(HostError::from)
    }
}

fn not_yet(what: &str) -> HostError {
    SimError::Unsupported(format!("{what} is not implemented by this host yet")).into()
}

impl distributed::Host for RankState {
    async fn init_process_group(&mut self, backend: String) -> Result<(), HostError> {
        if backend != BACKEND {
            return Err(SimError::InvalidArgument(format!(
                "unknown backend {backend:?}: the KernBench host provides \"{BACKEND}\""
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
        Ok(())
    }

    async fn is_initialized(&mut self) -> wasmtime::Result<bool> {
        Ok(self.initialized)
    }

    async fn get_rank(&mut self) -> Result<u32, HostError> {
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

    async fn get_world_size(&mut self) -> Result<u32, HostError> {
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

    async fn new_group(&mut self, ranks: Vec<u32>) -> Result<u32, HostError> {
        self.require_init("new_group")?;
        let _ = ranks;
        Err(not_yet("new_group"))
    }

    async fn group_rank(&mut self, g: u32) -> Result<Option<u32>, HostError> {
        self.require_init("group_rank")?;
        let world = lock(&self.world);
        let members = world
            .groups
            .get(g as usize)
            .ok_or_else(|| SimError::InvalidArgument(format!("group {g} does not exist")))?;
        Ok(members
            .iter()
            .position(|&m| m == self.index)
            .map(|p| p as u32))
    }

    async fn group_size(&mut self, g: u32) -> Result<u32, HostError> {
        self.require_init("group_size")?;
        let world = lock(&self.world);
        let members = world
            .groups
            .get(g as usize)
            .ok_or_else(|| SimError::InvalidArgument(format!("group {g} does not exist")))?;
        Ok(members.len() as u32)
    }

    async fn get_global_rank(&mut self, g: u32, group_rank: u32) -> Result<u32, HostError> {
        self.require_init("get_global_rank")?;
        let world = lock(&self.world);
        let members = world
            .groups
            .get(g as usize)
            .ok_or_else(|| SimError::InvalidArgument(format!("group {g} does not exist")))?;
        members.get(group_rank as usize).copied().ok_or_else(|| {
            SimError::InvalidArgument(format!(
                "group {g} has {} members; group rank {group_rank} is out of range",
                members.len()
            ))
            .into()
        })
    }

    async fn barrier(&mut self, g: Option<u32>) -> Result<(), HostError> {
        self.world_barrier(g).await
    }

    async fn all_reduce(
        &mut self,
        _t: Resource<TensorHandle>,
        _op: ReduceOp,
        _g: Option<u32>,
    ) -> Result<(), HostError> {
        Err(not_yet("all_reduce"))
    }

    async fn broadcast(
        &mut self,
        _t: Resource<TensorHandle>,
        _src: u32,
        _g: Option<u32>,
    ) -> Result<(), HostError> {
        Err(not_yet("broadcast"))
    }

    async fn reduce(
        &mut self,
        _t: Resource<TensorHandle>,
        _dst: u32,
        _op: ReduceOp,
        _g: Option<u32>,
    ) -> Result<(), HostError> {
        Err(not_yet("reduce"))
    }

    async fn all_gather_into_tensor(
        &mut self,
        _output: Resource<TensorHandle>,
        _input: Resource<TensorHandle>,
        _g: Option<u32>,
    ) -> Result<(), HostError> {
        Err(not_yet("all_gather_into_tensor"))
    }

    async fn reduce_scatter_tensor(
        &mut self,
        _output: Resource<TensorHandle>,
        _input: Resource<TensorHandle>,
        _op: ReduceOp,
        _g: Option<u32>,
    ) -> Result<(), HostError> {
        Err(not_yet("reduce_scatter_tensor"))
    }

    async fn all_to_all_single(
        &mut self,
        _output: Resource<TensorHandle>,
        _input: Resource<TensorHandle>,
        _g: Option<u32>,
    ) -> Result<(), HostError> {
        Err(not_yet("all_to_all_single"))
    }

    async fn send(
        &mut self,
        _t: Resource<TensorHandle>,
        _dst: u32,
        _g: Option<u32>,
    ) -> Result<(), HostError> {
        Err(not_yet("send"))
    }

    async fn recv(
        &mut self,
        _t: Resource<TensorHandle>,
        _src: u32,
        _g: Option<u32>,
    ) -> Result<(), HostError> {
        Err(not_yet("recv"))
    }
}
