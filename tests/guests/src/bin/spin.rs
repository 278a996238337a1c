//! Hostile guest: an infinite loop after joining the group. Stopped by fuel or the deadline.

fn main() -> Result<(), kernbench::Error> {
    kernbench::torch::distributed::init_process_group("ccl")?;
    let mut x = 0u64;
    loop {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}
