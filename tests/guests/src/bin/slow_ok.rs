//! A well-behaved guest that takes its time: every rank sleeps the milliseconds of its first
//! argument (default 2000), meets the others in a barrier and succeeds. The service's fault
//! tests need a run that is certainly still going when they kill or stop something.

use kernbench::torch::distributed as dist;

fn main() -> Result<(), kernbench::Error> {
    dist::init_process_group("ccl")?;
    let millis = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2000);
    std::thread::sleep(std::time::Duration::from_millis(millis));
    dist::barrier()?;
    println!("rank {} slept {millis} ms", dist::get_rank()?);
    Ok(())
}
