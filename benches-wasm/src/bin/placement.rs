//! placement: create a tensor under each DP policy and print its shard map, so a hardware
//! engineer can check how data lands on cubes and PEs.

use kernbench::torch::{self, DType, DpPolicy, Tensor, TensorOptions, distributed as dist};

fn main() -> Result<(), kernbench::Error> {
    kernbench::args::Args::none()?; // takes no arguments
    dist::init_process_group("ccl")?;
    let rank = dist::get_rank()?;
    torch::ahbm::set_device(rank)?;
    // Only rank 0 prints the maps; every rank places the same tensors on its own SIP.
    let shape = [10u64, 6];
    let policies = [
        DpPolicy::Replicate,
        DpPolicy::SplitRows,
        DpPolicy::SplitCols,
        DpPolicy::Blocks,
        DpPolicy::Single { cube: 1, pe: 3 },
    ];
    for dp in policies {
        let t = Tensor::zeros(&shape, TensorOptions::new(DType::F32).dp(dp))?;
        let shards = t.placement();
        assert!(
            shards.iter().all(|s| s.sip == rank),
            "every shard must be on this rank's SIP"
        );
        let elements: u64 = shards
            .iter()
            .map(|s| (s.rows.end - s.rows.start) * (s.cols.end - s.cols.start))
            .sum();
        if rank == 0 {
            println!(
                "{dp}: tensor {shape:?} float32 -> {} shards, {elements} elements placed",
                shards.len()
            );
            for s in &shards {
                println!("  {s}");
            }
        }
    }
    dist::barrier()?;
    Ok(())
}
