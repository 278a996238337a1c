//! Hostile guest: creates tensors without end and keeps every handle.

use kernbench::torch::{DType, Tensor};

fn main() -> Result<(), kernbench::Error> {
    kernbench::torch::distributed::init_process_group("ccl")?;
    let mut held = Vec::new();
    loop {
        held.push(Tensor::meta(&[1], DType::I8)?);
    }
}
