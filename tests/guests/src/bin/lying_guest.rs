//! Hostile guest: tries to choose how its failure is named and to draw on the user's
//! terminal. argv[1] picks the trick:
//! - `fake-sdk-error`: main returns an SDK-looking `limit exceeded` error the host never gave;
//! - `partial-line`: the host refuses a device (`invalid-device`), then the guest prints a
//!   partial line without a newline and gives up with that error;
//! - `fake-panic-then-spin`: prints a fake panic, then spins until its fuel runs out;
//! - `terminal`: prints escape sequences, a fake status line, and reports a metric and a
//!   region whose names hold control characters.

use kernbench::torch::{self, distributed as dist};
use kernbench::{Error, ErrorKind, metrics};

#[allow(clippy::print_stderr)] // Lying on stderr is the point.
fn main() -> Result<(), Error> {
    dist::init_process_group("ccl")?;
    let trick = std::env::args().nth(1).unwrap_or_default();
    match trick.as_str() {
        "fake-sdk-error" => Err(Error::new(
            ErrorKind::LimitExceeded,
            "tensors_per_rank, made up",
        )),
        "partial-line" => {
            let refused = torch::ahbm::set_device(9999);
            eprint!("Error: limit exceeded: this line has no newline");
            refused
        }
        "fake-panic-then-spin" => {
            eprintln!("thread 'main' panicked at src/fake.rs:1:1:\nI am a fake panic");
            let mut x = 0u64;
            loop {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        }
        "terminal" => {
            println!("\x1b[2J\x1b[31mred\x07 bell\0nul\rcarriage");
            println!("status    ok (forged)");
            metrics::report_metric("bw\nstatus    ok", 1.0, "GB/s\x1b[0m")?;
            let _region = torch::profiler::record_function("region\x1b]0;title\x07")?;
            Ok(())
        }
        other => Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("unknown trick {other:?}"),
        )),
    }
}
