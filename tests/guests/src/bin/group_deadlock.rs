//! Test guest: two groups over the same ranks; rank 0 waits in a barrier of the first and
//! every other rank in a barrier of the second, so none can ever complete.

use kernbench::torch::distributed as dist;

fn main() -> Result<(), kernbench::Error> {
    dist::init_process_group("ccl")?;
    let world: Vec<u32> = (0..dist::get_world_size()?).collect();
    let first = dist::new_group(&world)?;
    let second = dist::new_group(&world)?;
    if dist::get_rank()? == 0 {
        first.barrier()?
    } else {
        second.barrier()?
    }
    Ok(())
}
