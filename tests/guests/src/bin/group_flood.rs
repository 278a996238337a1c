//! Hostile guest: creates process groups in a loop until the host refuses, then reports how
//! many it got and the error.

use kernbench::torch::distributed as dist;

fn main() -> Result<(), kernbench::Error> {
    dist::init_process_group("ccl")?;
    let mut made = 0u64;
    loop {
        match dist::new_group(&[0]) {
            Ok(_) => made += 1,
            Err(e) => {
                println!("made {made} groups, then: {e}");
                return Ok(());
            }
        }
    }
}
