//! Test guest: `ahbm` and `accelerator` share one per-rank device registry, and out-of-range
//! devices are errors the guest can handle. Prints what it saw, one fact per line.

use kernbench::ErrorKind;
use kernbench::torch::{accelerator, ahbm, distributed as dist};

fn main() -> Result<(), kernbench::Error> {
    dist::init_process_group("ccl")?;
    let rank = dist::get_rank()?;
    let count = ahbm::device_count();
    assert_eq!(count, accelerator::device_count());
    println!(
        "before: ahbm={:?} accelerator={:?}",
        ahbm::current_device(),
        accelerator::current_device_index()
    );
    ahbm::set_device(rank)?;
    println!(
        "after ahbm::set_device({rank}): accelerator={:?}",
        accelerator::current_device_index()
    );
    let other = (rank + 1) % count;
    accelerator::set_device_index(other)?;
    println!(
        "after accelerator::set_device_index({other}): ahbm={:?}",
        ahbm::current_device()
    );
    match ahbm::set_device(count) {
        Err(e) if e.kind() == ErrorKind::InvalidDevice => println!("set_device({count}): {e}"),
        other => panic!("set_device({count}) should fail with invalid device, got {other:?}"),
    }
    match accelerator::set_device_index(u32::MAX) {
        Err(e) if e.kind() == ErrorKind::InvalidDevice => {
            println!("set_device_index(max): refused")
        }
        other => panic!("set_device_index(max) should fail, got {other:?}"),
    }
    println!("still bound: {:?}", ahbm::current_device());
    Ok(())
}
