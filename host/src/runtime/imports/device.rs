//! `ahbm` and `accelerator`: two spellings over ONE per-rank device registry (D3).

use crate::runtime::bindings::v0_2::kernbench::bench::{accelerator, ahbm};
use crate::runtime::error::HostError;
use crate::runtime::state::RankState;
use crate::runtime::world::lock;

impl RankState {
    fn bind_device(&mut self, device: u32) -> Result<(), HostError> {
        let mut world = lock(&self.world);
        world.sim.store.check_device(device)?;
        world.devices[self.index as usize] = Some(device);
        self.device = Some(device);
        Ok(())
    }

    fn device_count(&self) -> u32 {
        lock(&self.world).sim.store.topology().sips()
    }
}

impl ahbm::Host for RankState {
    fn set_device(&mut self, device: u32) -> Result<(), HostError> {
        self.bind_device(device)
    }

    fn current_device(&mut self) -> wasmtime::Result<Option<u32>> {
        Ok(self.device)
    }

    fn device_count(&mut self) -> wasmtime::Result<u32> {
        Ok(RankState::device_count(self))
    }

    fn synchronize(&mut self) -> wasmtime::Result<()> {
        // Simulated work completes when it is issued: the clock is already up to date.
        Ok(())
    }
}

impl accelerator::Host for RankState {
    fn set_device_index(&mut self, index: u32) -> Result<(), HostError> {
        self.bind_device(index)
    }

    fn current_device_index(&mut self) -> wasmtime::Result<Option<u32>> {
        Ok(self.device)
    }

    fn device_count(&mut self) -> wasmtime::Result<u32> {
        Ok(RankState::device_count(self))
    }
}
