//! `torch.accelerator`: the device-agnostic spelling of [`torch::ahbm`](crate::torch::ahbm),
//! over the same per-rank registry.

use crate::error::Result;
use crate::wit::accelerator as w;

/// Bind this rank to device `index` (`torch.accelerator.set_device_index`).
pub fn set_device_index(index: u32) -> Result<()> {
    crate::version::keep_stamp();
    w::set_device_index(index)?;
    crate::identity::bound(index);
    Ok(())
}

/// The bound device, if any (`torch.accelerator.current_device_index`).
pub fn current_device_index() -> Option<u32> {
    crate::identity::current_device(w::current_device_index)
}

/// Number of devices (`torch.accelerator.device_count`).
pub fn device_count() -> u32 {
    crate::identity::device_count(w::device_count)
}
