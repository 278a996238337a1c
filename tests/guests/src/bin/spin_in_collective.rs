//! Hostile guest: rank 0 spins forever while every other rank waits for it in a barrier.

use kernbench::torch::distributed as dist;

fn main() -> Result<(), kernbench::Error> {
    dist::init_process_group("ccl")?;
    if dist::get_rank()? == 0 {
        let mut x = 0u64;
        loop {
            x = std::hint::black_box(x.wrapping_add(1));
        }
    }
    dist::barrier()?;
    Ok(())
}
