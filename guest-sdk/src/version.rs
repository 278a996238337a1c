//! The SDK stamps its version and the WIT package it speaks into every component, in a
//! custom section the host reads before instantiating (so it can say "built for X, host
//! speaks Y" instead of failing on a missing import).

/// This SDK's version.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The WIT package the SDK was generated from (from `kernbench-abi`, shared with the host).
pub const WIT_PACKAGE: &str = kernbench_abi::WIT_PACKAGE_VERSION;

/// Name of the custom section holding the stamp.
pub const SDK_SECTION: &str = kernbench_abi::SDK_SECTION;

const STAMP_BYTES: &[u8] = concat!(
    "{\"sdk\":\"",
    env!("CARGO_PKG_VERSION"),
    "\",\"wit\":\"kernbench:bench@",
    kernbench_abi::wit_version!(),
    "\"}"
)
.as_bytes();
const STAMP_LEN: usize = STAMP_BYTES.len();

const fn stamp() -> [u8; STAMP_LEN] {
    let mut out = [0u8; STAMP_LEN];
    let mut i = 0;
    while i < STAMP_LEN {
        out[i] = STAMP_BYTES[i];
        i += 1;
    }
    out
}

#[cfg(target_arch = "wasm32")]
#[used]
#[unsafe(link_section = "kernbench-sdk")]
static STAMP: [u8; STAMP_LEN] = stamp();

/// Keeps the stamp in the final binary, and installs the SDK's panic hook: called from every
/// entry point the SDK offers.
#[inline(always)]
pub(crate) fn keep_stamp() {
    crate::panic::install_hook();
    #[cfg(target_arch = "wasm32")]
    std::hint::black_box(&STAMP);
    #[cfg(not(target_arch = "wasm32"))]
    std::hint::black_box(stamp());
}
