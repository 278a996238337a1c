//! Hostile guest: rank 1 sleeps far past any deadline while every other rank waits for it in
//! a barrier. The deadline must name rank 1, and the others must say where they waited.

use kernbench::torch::distributed as dist;

fn main() -> Result<(), kernbench::Error> {
    dist::init_process_group("ccl")?;
    if dist::get_rank()? == 1 {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
    dist::barrier()?;
    Ok(())
}
