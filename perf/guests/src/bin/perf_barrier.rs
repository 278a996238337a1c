//! Perf guest: argv[1] world barriers in a row.

use kernbench::torch::distributed as dist;

fn main() -> Result<(), kernbench::Error> {
    dist::init_process_group("ccl")?;
    let rounds: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    for _ in 0..rounds {
        dist::barrier()?;
    }
    Ok(())
}
