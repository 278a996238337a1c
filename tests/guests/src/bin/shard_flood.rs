//! Hostile guest: on a SIP of very many PEs, creates split meta tensors (one shard entry per
//! PE each, no data) without end and keeps every handle, so the host's shard lists grow while
//! the tensor count stays small.

use kernbench::torch::{DType, Tensor};

fn main() -> Result<(), kernbench::Error> {
    kernbench::torch::distributed::init_process_group("ccl")?;
    // As many rows as the largest SIP has PEs (1024 cubes x 1024 PEs): a shard per PE.
    let rows = 1 << 20;
    let mut held = Vec::new();
    loop {
        held.push(Tensor::meta(&[rows], DType::I8)?);
    }
}
