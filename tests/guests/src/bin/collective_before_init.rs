//! Hostile guest: calls a barrier before init_process_group and does not handle the error.

fn main() -> Result<(), kernbench::Error> {
    kernbench::torch::distributed::barrier()?;
    Ok(())
}
