//! Perf guest: argv[1] iterations of a loop. argv[2] = `identity` (the default): each
//! iteration asks `get_rank`, `get_world_size` and `device_count`, as a bench's inner loop
//! does (the SDK answers them from what `init_process_group` returned); `host`: each
//! iteration makes one trivial host call (`clock::now_ns`).

use kernbench::torch::{ahbm, distributed as dist};

fn main() -> Result<(), kernbench::Error> {
    dist::init_process_group("ccl")?;
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(0);
    let host = args.next().as_deref() == Some("host");
    let mut acc = 0u64;
    for _ in 0..n {
        if host {
            acc = acc.wrapping_add(kernbench::clock::now_ns());
        } else {
            let r = dist::get_rank()? + dist::get_world_size()? + ahbm::device_count();
            acc = acc.wrapping_add(u64::from(std::hint::black_box(r)));
        }
    }
    std::hint::black_box(acc);
    Ok(())
}
