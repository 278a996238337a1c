//! What a rank knows about itself without asking the host again: its rank and world size
//! (answered by `init_process_group`), the device count (fixed for a run) and its bound
//! device (known after the first query, changed only by the SDK's own `set_device` calls).
//! Identity queries in a bench's inner loop then cost a thread-local read, not a host call.

use std::cell::Cell;

thread_local! {
    static IDENTITY: Cell<Option<(u32, u32)>> = const { Cell::new(None) };
    static DEVICE_COUNT: Cell<Option<u32>> = const { Cell::new(None) };
    static CURRENT_DEVICE: Cell<Option<Option<u32>>> = const { Cell::new(None) };
}

/// `(rank, world size)` once the process group is initialised.
pub(crate) fn identity() -> Option<(u32, u32)> {
    IDENTITY.get()
}

pub(crate) fn set_identity(id: Option<(u32, u32)>) {
    IDENTITY.set(id);
}

/// The device count, asking `fetch` the first time.
pub(crate) fn device_count(fetch: impl FnOnce() -> u32) -> u32 {
    DEVICE_COUNT.get().unwrap_or_else(|| {
        let n = fetch();
        DEVICE_COUNT.set(Some(n));
        n
    })
}

/// The bound device, asking `fetch` the first time.
pub(crate) fn current_device(fetch: impl FnOnce() -> Option<u32>) -> Option<u32> {
    CURRENT_DEVICE.get().unwrap_or_else(|| {
        let d = fetch();
        CURRENT_DEVICE.set(Some(d));
        d
    })
}

/// A `set_device` / `set_device_index` succeeded.
pub(crate) fn bound(device: u32) {
    CURRENT_DEVICE.set(Some(Some(device)));
}
