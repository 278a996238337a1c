//! Test guest: `matmul_with` whose options ask for another dtype than the operands' must be
//! refused with an error the bench can handle, never silently ignored; prints that error.

use kernbench::torch::{DType, Tensor, TensorOptions};

fn main() -> Result<(), kernbench::Error> {
    kernbench::torch::distributed::init_process_group("ccl")?;
    let f32s = TensorOptions::new(DType::F32);
    let a = Tensor::ones(&[4, 4], f32s)?;
    let b = Tensor::ones(&[4, 4], f32s)?;
    match a.matmul_with(&b, TensorOptions::new(DType::BF16)) {
        Ok(c) => println!("accepted: result is {}", c.dtype()),
        Err(e) => println!("refused: {e}"),
    }
    let c = a.matmul_with(&b, f32s)?;
    println!("same dtype: {} x {}", c.shape()[0], c.shape()[1]);
    Ok(())
}
