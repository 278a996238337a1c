//! Stackful rank guest: `run` is a plain sync export calling the sync
//! `barrier` import; the host suspends the rank's fiber inside `barrier`.
#![no_std]

extern crate alloc;

#[global_allocator]
static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

wit_bindgen::generate!({ path: "../wit", world: "stackful-rank" });

struct Rank;

impl Guest for Rank {
    fn run(rounds: u32) {
        for _ in 0..rounds {
            barrier();
        }
    }
}

export!(Rank);
