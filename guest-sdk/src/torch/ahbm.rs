//! `torch.ahbm`: the accelerator's own device API (as `torch.cuda`). Shares one per-rank
//! registry with [`torch::accelerator`](crate::torch::accelerator).

use crate::error::Result;
use crate::wit::ahbm as w;

/// Bind this rank to SIP `device` (`torch.cuda.set_device`). Out-of-range devices are errors.
pub fn set_device(device: u32) -> Result<()> {
    crate::version::keep_stamp();
    w::set_device(device)?;
    crate::identity::bound(device);
    Ok(())
}

/// The SIP this rank is bound to, if `set_device` was called.
pub fn current_device() -> Option<u32> {
    crate::identity::current_device(w::current_device)
}

/// Number of SIPs in the system.
pub fn device_count() -> u32 {
    crate::identity::device_count(w::device_count)
}

/// Wait for this rank's outstanding device work. Simulated work completes when it is
/// issued, so this returns at once; it is here so benches read like their CUDA originals.
pub fn synchronize() {
    w::synchronize()
}
