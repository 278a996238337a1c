//! Hostile guest: uses tensor handles it does not own through raw bindings. argv[1]:
//! `forged` (an integer never handed out), `dropped` (a handle after its drop).

wit_bindgen::generate!({ path: "../../wit/since_v0.2.0", world: "bench" });

use self::kernbench::bench::tensors::{Tensor, TensorOptions};
use self::kernbench::bench::types::{DpPolicy, Dtype};

fn main() {
    let case = std::env::args().nth(1).unwrap_or_default();
    let opts = TensorOptions {
        dp: DpPolicy::Replicate,
        device: Some(0),
    };
    let handle = match case.as_str() {
        "forged" => 0xdead_beef,
        "dropped" => {
            let t = Tensor::zeros(&[4], Dtype::F32, opts).expect("a small tensor");
            let h = t.take_handle();
            // Drop it through a second owner made from the same handle, then use the first.
            drop(unsafe { Tensor::from_handle(h) });
            h
        }
        other => panic!("unknown case {other:?}"),
    };
    let stolen = unsafe { Tensor::from_handle(handle) };
    println!(
        "shape of a tensor this guest does not own: {:?}",
        stolen.shape()
    );
}
