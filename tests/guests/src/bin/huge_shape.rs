//! Hostile guest: a tensor whose element count overflows 64 bits.

use kernbench::torch::{DType, Tensor};

fn main() -> Result<(), kernbench::Error> {
    kernbench::torch::distributed::init_process_group("ccl")?;
    let t = Tensor::zeros(&[u64::MAX, 2, 3], DType::F32)?;
    println!("created {:?}", t.shape());
    Ok(())
}
