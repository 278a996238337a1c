//! hbm_oom: fill one cube's HBM with meta tensors until the host refuses, and report where
//! and how much, as a bench author sees an out-of-memory error.

use kernbench::torch::{self, DType, DpPolicy, Tensor, TensorOptions, distributed as dist};
use kernbench::{ErrorKind, metrics};

/// Each allocation: 1 GiB of f32 on cube 0, PE 0.
const ROWS: u64 = 1 << 14;
const COLS: u64 = 1 << 14;

fn main() -> Result<(), kernbench::Error> {
    kernbench::args::Args::none()?; // takes no arguments
    dist::init_process_group("ccl")?;
    let rank = dist::get_rank()?;
    torch::ahbm::set_device(rank)?;
    let opts = TensorOptions::new(DType::F32).dp(DpPolicy::Single { cube: 0, pe: 0 });
    let mut held = Vec::new();
    loop {
        match Tensor::meta(&[ROWS, COLS], opts) {
            Ok(t) => held.push(t),
            Err(e) if e.kind() == ErrorKind::OutOfMemory => {
                let gib = held.len();
                if rank == 0 {
                    println!("placed {gib} GiB on SIP {rank} cube 0, then: {e}");
                }
                metrics::report_metric("hbm_filled", gib as f64, "GiB")?;
                break;
            }
            Err(e) => return Err(e),
        }
    }
    // Freeing one tensor makes room again: the ledger gives bytes back on drop.
    held.pop();
    let again = Tensor::meta(&[ROWS, COLS], opts)?;
    assert_eq!(again.nbytes(), ROWS * COLS * 4);
    dist::barrier()?;
    Ok(())
}
