//! Perf guest: `get_rank` called argv[1] times in a loop (the trivial host call).

use kernbench::torch::distributed as dist;

fn main() -> Result<(), kernbench::Error> {
    dist::init_process_group("ccl")?;
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let mut acc = 0u64;
    for _ in 0..n {
        acc = acc.wrapping_add(u64::from(dist::get_rank()?));
    }
    std::hint::black_box(acc);
    Ok(())
}
