//! Test guest: rank `EXIT_RANK` (argv[1], default the last rank) returns at once; every other
//! rank waits in a barrier it never joins.

use kernbench::torch::distributed as dist;

fn main() -> Result<(), kernbench::Error> {
    dist::init_process_group("ccl")?;
    let world = dist::get_world_size()?;
    let exit_rank = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(world - 1);
    if dist::get_rank()? == exit_rank {
        return Ok(());
    }
    dist::barrier()?;
    Ok(())
}
