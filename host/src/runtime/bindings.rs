//! Host bindings generated from `wit/` (the one source shared with the guest SDK).

wasmtime::component::bindgen!({
    path: "../wit",
    world: "bench",
    // Only calls that wait for other ranks are async; every other import is a plain
    // synchronous call, which is measurably cheaper per call (NOTES-wasmtime48: 55 vs 67 ns).
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
