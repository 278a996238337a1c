//! `torch.profiler.record_function`: named regions in simulated time, shown in the report
//! and the trace.

use crate::error::Result;
use crate::wit::clock as w;

/// An open region; it closes when dropped.
#[derive(Debug)]
#[must_use = "the region closes when this guard is dropped"]
pub struct RecordFunction {
    _private: (),
}

/// Open a region named `name` until the returned guard is dropped.
pub fn record_function(name: &str) -> Result<RecordFunction> {
    w::region_begin(name)?;
    Ok(RecordFunction { _private: () })
}

impl Drop for RecordFunction {
    fn drop(&mut self) {
        // The region was opened by this guard, so closing it cannot fail.
        let _ = w::region_end();
    }
}
