//! Hostile guest: asks the host for one real-data matmul of `[m, k] @ [k, n]` f32 (argv 1-3)
//! whose small call buys large host work or memory, and prints the host's answer.

use kernbench::torch::{DType, Tensor, TensorOptions};

fn main() -> Result<(), kernbench::Error> {
    kernbench::torch::distributed::init_process_group("ccl")?;
    let dims: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap_or(1))
        .collect();
    let (m, k, n) = match dims[..] {
        [m, k, n] => (m, k, n),
        _ => (1, 1, 1),
    };
    let opts = TensorOptions::new(DType::F32);
    let a = Tensor::ones(&[m, k], opts)?;
    let b = Tensor::ones(&[k, n], opts)?;
    let c = a.matmul(&b)?;
    println!("computed {:?}", c.shape());
    Ok(())
}
