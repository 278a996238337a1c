//! Perf guest: a compute-bound bench. Each of argv[1] rounds, every rank computes argv[2]
//! 64x64 f32 matmuls inside the guest, then all ranks all-reduce the checksum, as a
//! data-parallel step computes locally between collectives.

use kernbench::torch::{DType, ReduceOp, Tensor, distributed as dist};

fn main() -> Result<(), kernbench::Error> {
    dist::init_process_group("ccl")?;
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<u32>().unwrap_or(0));
    let rounds = args.next().unwrap_or(0);
    let matmuls = args.next().unwrap_or(0);
    let mut sum = Tensor::zeros(&[1], DType::F32)?;
    for _ in 0..rounds {
        let local = kernbench_perf_kernels::matmul_loop(64, matmuls);
        sum.write_bytes(0, &local.to_le_bytes())?;
        dist::all_reduce(&mut sum, ReduceOp::Sum)?;
    }
    Ok(())
}
