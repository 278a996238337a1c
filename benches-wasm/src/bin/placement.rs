//! placement: rank = SIP as the hardware team's ADR-0024 decides it (DESIGN.md section 3),
//! in one bench. D2: a launched rank has its rank once it has joined the world, not before
//! (a single driver answers rank 0). D3: `ahbm::set_device(rank)` binds the rank's SIP,
//! `accelerator` reads the same binding, and a device outside the system is refused. D4: a
//! tensor's shards land on `(sip, cube, pe)` of the rank's device; rank 0 prints the map
//! under each DP policy, so a hardware engineer can check how data lands on cubes and PEs. `benches-py/placement.py` is its Python twin.

use kernbench::ErrorKind;
use kernbench::torch::{self, DType, DpPolicy, Tensor, TensorOptions, distributed as dist};

fn main() -> Result<(), kernbench::Error> {
    kernbench::args::Args::none()?; // takes no arguments
    // D2: a launched rank (`RANK` in its environment, as torchrun sets it) has no rank
    // before init_process_group; a single driver, bound to no rank, answers rank 0.
    let early = dist::get_rank().map_err(|e| e.kind());
    let launched = std::env::var_os("RANK").is_some();
    let expected = if launched {
        Err(ErrorKind::NotInitialized)
    } else {
        Ok(0)
    };
    assert_eq!(early, expected, "get_rank before init_process_group");
    dist::init_process_group("ccl")?;
    let rank = dist::get_rank()?;
    // D3: one binding per rank, under both spellings.
    assert_eq!(
        torch::ahbm::current_device(),
        None,
        "no device before set_device"
    );
    torch::ahbm::set_device(rank)?;
    assert_eq!(torch::accelerator::current_device_index(), Some(rank));
    let outside = torch::accelerator::set_device_index(torch::accelerator::device_count());
    assert_eq!(
        outside.map_err(|e| e.kind()),
        Err(ErrorKind::InvalidDevice),
        "a device outside the system must be refused"
    );
    assert_eq!(
        torch::ahbm::current_device(),
        Some(rank),
        "a refusal keeps the binding"
    );
    // D4: every shard on this rank's SIP.
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
