//! Test guest: a fixed sequence of collectives whose simulated times the tests compare with
//! the cost model's closed forms: 1 MiB f32 on one PE (k = 1 cube) through every collective,
//! then the same all_reduce spread over 4 cubes (split-rows, k = 4), then send/recv.

use kernbench::torch::{DType, DpPolicy, ReduceOp, Tensor, TensorOptions, distributed as dist};

fn main() -> Result<(), kernbench::Error> {
    dist::init_process_group("ccl")?;
    let rank = dist::get_rank()?;
    let n = dist::get_world_size()?;
    let one_pe = TensorOptions::new(DType::F32).dp(DpPolicy::Single { cube: 0, pe: 0 });
    let elems = 1u64 << 18; // 1 MiB of f32
    let mut t = Tensor::ones(&[elems], one_pe)?;
    dist::barrier()?;
    dist::all_reduce(&mut t, ReduceOp::Sum)?;
    dist::broadcast(&mut t, 0)?;
    dist::reduce(&mut t, 0, ReduceOp::Sum)?;
    let mut gathered = Tensor::zeros(&[elems * u64::from(n)], one_pe)?;
    dist::all_gather_into_tensor(&mut gathered, &t)?;
    let mut scattered = Tensor::zeros(&[elems], one_pe)?;
    dist::reduce_scatter_tensor(&mut scattered, &gathered, ReduceOp::Sum)?;
    let mut exchanged = Tensor::zeros(&[elems * u64::from(n)], one_pe)?;
    dist::all_to_all_single(&mut exchanged, &gathered)?;
    let mut spread = Tensor::ones(
        &[elems],
        TensorOptions::new(DType::F32).dp(DpPolicy::SplitRows),
    )?;
    dist::all_reduce(&mut spread, ReduceOp::Sum)?;
    if n >= 2 && rank < 2 {
        if rank == 0 {
            dist::send(&t, 1)?
        } else {
            dist::recv(&mut t, 0)?
        }
    }
    Ok(())
}
