//! Host bindings generated from `wit/` (the one source shared with the guest SDK).

wasmtime::component::bindgen!({
    path: "../wit",
    world: "bench",
    imports: { default: async | trappable },
    trappable_error_type: {
        "kernbench:bench/types.error" => crate::runtime::HostError,
    },
    with: {
        "kernbench:bench/tensors.tensor": crate::runtime::TensorHandle,
    },
});
