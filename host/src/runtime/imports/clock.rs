//! `clock` and `metrics`: the rank's simulated time, named regions and reported metrics.

use crate::model::RegionRecord;
use crate::runtime::bindings::v0_2::kernbench::bench::{clock, metrics};
use crate::runtime::error::HostError;
use crate::runtime::state::RankState;
use crate::runtime::world::lock;
use crate::sim::SimError;

/// Longest region or metric name, and most regions open at once: bounded guest input.
const MAX_NAME_BYTES: usize = 256;
const MAX_OPEN_REGIONS: usize = 64;

fn check_name(what: &str, name: &str) -> Result<(), SimError> {
    if name.is_empty() || name.len() > MAX_NAME_BYTES {
        return Err(SimError::InvalidArgument(format!(
            "{what} name must be 1 to {MAX_NAME_BYTES} bytes (got {})",
            name.len()
        )));
    }
    Ok(())
}

impl clock::Host for RankState {
    fn now_ns(&mut self) -> wasmtime::Result<u64> {
        Ok(self.clock.now())
    }

    fn region_begin(&mut self, name: String) -> Result<(), HostError> {
        check_name("region", &name)?;
        if self.open_regions.len() >= MAX_OPEN_REGIONS {
            return Err(SimError::LimitExceeded(format!(
                "{MAX_OPEN_REGIONS} regions are already open; close some with region_end"
            ))
            .into());
        }
        let now = lock(&self.world).sim.clocks.get(self.index);
        self.open_regions.push((name, now));
        Ok(())
    }

    fn region_end(&mut self) -> Result<(), HostError> {
        let Some((name, start_ns)) = self.open_regions.pop() else {
            return Err(
                SimError::InvalidArgument("region_end without an open region".into()).into(),
            );
        };
        let mut world = lock(&self.world);
        let end_ns = world.sim.clocks.get(self.index);
        let depth = self.open_regions.len() as u32;
        world.record_region(RegionRecord {
            rank: self.index,
            name,
            start_ns,
            end_ns,
            depth,
        });
        Ok(())
    }
}

impl metrics::Host for RankState {
    fn report_metric(&mut self, name: String, value: f64, unit: String) -> Result<(), HostError> {
        check_name("metric", &name)?;
        if unit.len() > MAX_NAME_BYTES {
            return Err(SimError::InvalidArgument(format!(
                "metric unit is longer than {MAX_NAME_BYTES} bytes"
            ))
            .into());
        }
        if !value.is_finite() {
            return Err(SimError::InvalidArgument(format!(
                "metric {name} is not a finite number ({value})"
            ))
            .into());
        }
        lock(&self.world).record_metric(self.index, name, value, unit)?;
        Ok(())
    }
}
