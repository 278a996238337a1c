//! Hostile guest: allocates 1 GiB meta tensors on one cube and does not handle running out.

use kernbench::torch::{DType, DpPolicy, Tensor, TensorOptions};

fn main() -> Result<(), kernbench::Error> {
    kernbench::torch::distributed::init_process_group("ccl")?;
    let opts = TensorOptions::new(DType::F32).dp(DpPolicy::Single { cube: 0, pe: 0 });
    let mut held = Vec::new();
    loop {
        held.push(Tensor::meta(&[1 << 14, 1 << 14], opts)?);
    }
}
