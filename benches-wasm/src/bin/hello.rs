//! hello: every rank says who it is, binds its SIP, and meets the others at a barrier.
//!
//! The smallest real bench: `torchrun`'s hello world, with rank = SIP.

use kernbench::torch::{self, distributed as dist};

fn main() -> Result<(), kernbench::Error> {
    kernbench::args::Args::none()?; // takes no arguments
    dist::init_process_group("ccl")?;
    let rank = dist::get_rank()?;
    let world_size = dist::get_world_size()?;
    torch::ahbm::set_device(rank)?;
    let device = torch::ahbm::current_device();
    println!(
        "hello from rank {rank} of {world_size} on SIP {} ({} SIPs visible)",
        device.map_or("none".to_owned(), |d| d.to_string()),
        torch::ahbm::device_count()
    );
    dist::barrier()?;
    Ok(())
}
