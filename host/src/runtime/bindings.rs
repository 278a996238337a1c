//! Host bindings generated from `wit/`, one module per WIT version the host links
//! (`kernbench_abi::HOST_WIT_VERSIONS`). `v0_2` is what the host implements; `v0_1` is the
//! frozen 0.1.0 contract, answered by adapters over the 0.2 implementation
//! (`imports/v0_1.rs`), so a component built for 0.1.0 keeps running unchanged.

/// `kernbench:bench@0.2.0`, the version the SDK speaks.
pub mod v0_2 {
    wasmtime::component::bindgen!({
        path: "../wit/since_v0.2.0",
        world: "bench",
        // Only calls that wait for other ranks are async; every other import is a plain
        // synchronous call, which is measurably cheaper per call (NOTES-wasmtime48: 55 vs
        // 67 ns). Issuing an asynchronous operation never waits, so it is synchronous too.
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
            "kernbench:bench/distributed.[method]work.wait": async | trappable,
            "kernbench:bench/distributed.destroy-process-group": async | trappable,
            default: trappable,
        },
        trappable_error_type: {
            "kernbench:bench/types.error" => crate::runtime::HostError,
        },
        with: {
            "kernbench:bench/tensors.tensor": crate::runtime::TensorHandle,
            "kernbench:bench/distributed.work": crate::runtime::WorkHandle,
        },
    });
}

/// `kernbench:bench@0.1.0`, frozen: the types are its own, the tensor resource is the same
/// host object as 0.2's.
pub mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../wit/since_v0.1.0",
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
            default: trappable,
        },
        trappable_error_type: {
            "kernbench:bench/types.error" => crate::runtime::HostError,
        },
        with: {
            "kernbench:bench/tensors.tensor": crate::runtime::TensorHandle,
        },
    });
}
