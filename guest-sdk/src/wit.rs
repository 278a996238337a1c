//! Generated bindings, hidden: the SDK's public API never exposes a generated type.

wit_bindgen::generate!({
    path: "../wit/since_v0.2.0",
    world: "bench",
});

pub use self::kernbench::bench::*;
