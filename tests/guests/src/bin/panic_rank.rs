//! Test guest: rank `FAIL_RANK` (argv[1], default the last rank) panics after the first
//! barrier; the others wait in a second barrier that can never complete.

use kernbench::torch::distributed as dist;

fn main() -> Result<(), kernbench::Error> {
    dist::init_process_group("ccl")?;
    let rank = dist::get_rank()?;
    let world = dist::get_world_size()?;
    let fail_rank = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(world - 1);
    dist::barrier()?;
    if rank == fail_rank {
        panic!("rank {rank} gives up on purpose");
    }
    dist::barrier()?;
    Ok(())
}
