//! Test guest: asks for its rank before `init_process_group`, prints what it got, then
//! initialises and asks again.

use kernbench::torch::distributed as dist;

fn main() -> Result<(), kernbench::Error> {
    match dist::get_rank() {
        Ok(rank) => println!("before init: rank {rank}"),
        Err(e) => println!("before init: {e}"),
    }
    dist::init_process_group("ccl")?;
    println!(
        "after init: rank {} of {}",
        dist::get_rank()?,
        dist::get_world_size()?
    );
    Ok(())
}
