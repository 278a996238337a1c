//! Stackless rank guest: `run` is an async export (wit-bindgen lifts it with
//! `[async-lift]` + `[callback]`, i.e. callback-lifted); each `barrier().await`
//! that is not immediately ready returns WAIT to the host instead of blocking.
//!
//! `no_std` (+ dlmalloc) keeps the component free of WASI imports.
#![no_std]

extern crate alloc;

#[global_allocator]
static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

wit_bindgen::generate!({ path: "../wit", world: "stackless-rank" });

struct Rank;

impl Guest for Rank {
    async fn run(rounds: u32) {
        for _ in 0..rounds {
            barrier().await;
        }
    }
}

export!(Rank);
