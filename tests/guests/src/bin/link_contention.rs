//! Test guest: two groups with no rank in common, the even and the odd ranks, each run an
//! all_reduce of 16 MiB f32 (on one PE of the IO_CPU's cube) at the same simulated time.
//! On a ring fabric their logical rings cross the same physical links, so each gets half
//! of every link. `evens-only`: the odd ranks skip theirs, so the evens run alone.

use kernbench::torch::{DType, DpPolicy, ReduceOp, Tensor, TensorOptions, distributed as dist};

fn main() -> Result<(), kernbench::Error> {
    let case = std::env::args().nth(1).unwrap_or_default();
    dist::init_process_group("ccl")?;
    let rank = dist::get_rank()?;
    let n = dist::get_world_size()?;
    let evens: Vec<u32> = (0..n).step_by(2).collect();
    let odds: Vec<u32> = (1..n).step_by(2).collect();
    let (even_group, odd_group) = (dist::new_group(&evens)?, dist::new_group(&odds)?);
    let opts = TensorOptions::new(DType::F32).dp(DpPolicy::Single { cube: 0, pe: 0 });
    let mut t = Tensor::full(&[4 << 20], f64::from(rank), opts)?;
    dist::barrier()?;
    if rank % 2 == 0 {
        even_group.all_reduce(&mut t, ReduceOp::Sum)?;
    } else if case != "evens-only" {
        odd_group.all_reduce(&mut t, ReduceOp::Sum)?;
    }
    let want: u32 = if rank % 2 == 0 {
        evens.iter().sum()
    } else {
        odds.iter().sum()
    };
    let got = t.to_vec_f32()?[0];
    println!("sum {got} (group sum {want})");
    Ok(())
}
