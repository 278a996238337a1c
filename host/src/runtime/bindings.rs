//! Host bindings generated from `wit/`, one module per WIT version the host links
//! (`kernbench_abi::HOST_WIT_VERSIONS`). `v0_2` is what the host implements; `v0_1` is the
//! frozen 0.1.0 contract, answered by adapters over the 0.2 implementation
//! (`imports/v0_1.rs`), so a component built for 0.1.0 keeps running unchanged.

/// `bindgen!` for one version. Only calls that wait for other ranks are async, the same ones
/// in every version (plus what a version adds); every other import is a plain synchronous
/// call, which is measurably cheaper per call (NOTES-wasmtime48: 55 vs 67 ns). Issuing an
/// asynchronous operation never waits, so it is synchronous too; polling one may wait for
/// ranks behind in simulated time (ADR-0008), so it is async.
macro_rules! bench_bindings {
    ($path:literal, { $($waits:literal),* }, { $($resource:literal: $host:path),* }) => {
        wasmtime::component::bindgen!({
            path: $path,
            world: "bench",
            imports: {
                "kernbench:bench/distributed.barrier": async | trappable,
                "kernbench:bench/distributed.all-reduce": async | trappable,
                "kernbench:bench/distributed.broadcast": async | trappable,
                "kernbench:bench/distributed.reduce": async | trappable,
                "kernbench:bench/distributed.all-gather-into-tensor": async | trappable,
                "kernbench:bench/distributed.reduce-scatter-tensor": async | trappable,
                "kernbench:bench/distributed.all-to-all-single": async | trappable,
                "kernbench:bench/distributed.send": async | trappable,
                "kernbench:bench/distributed.recv": async | trappable,
                $($waits: async | trappable,)*
                default: trappable,
            },
            trappable_error_type: {
                "kernbench:bench/types.error" => crate::runtime::HostError,
            },
            with: {
                "kernbench:bench/tensors.tensor": crate::runtime::TensorHandle,
                $($resource: $host,)*
            },
        });
    };
}

/// `kernbench:bench@0.2.0`, the version the SDK speaks.
pub mod v0_2 {
    bench_bindings!(
        "../wit/since_v0.2.0",
        {
            "kernbench:bench/distributed.[method]work.wait",
            "kernbench:bench/distributed.[method]work.is-completed",
            "kernbench:bench/distributed.destroy-process-group"
        },
        { "kernbench:bench/distributed.work": crate::runtime::WorkHandle }
    );
}

/// `kernbench:bench@0.1.0`, frozen: the types are its own, the tensor resource is the same
/// host object as 0.2's.
pub mod v0_1 {
    bench_bindings!("../wit/since_v0.1.0", {}, {});
}
