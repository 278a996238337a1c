//! A bench built from source against the frozen `kernbench:bench@0.1.0` WIT
//! (`wit/since_v0.1.0/`), without the SDK, as a component built before 0.2.0 existed: the host
//! must keep running it unchanged, with the same report. It touches every 0.1.0 interface:
//! identity, devices, placement, tensor ops, collectives over the world and a group,
//! blocking send/recv, regions, metrics.

wit_bindgen::generate!({
    path: "../../wit/since_v0.1.0",
    world: "bench",
});

use self::kernbench::bench::{
    accelerator, ahbm, clock, distributed as dist, metrics, tensors, types,
};

fn f32s(t: &tensors::Tensor) -> Result<Vec<f32>, types::Error> {
    let bytes = t.read_bytes(0, t.nbytes())?;
    Ok(bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

fn run() -> Result<(), types::Error> {
    dist::init_process_group("ccl")?;
    let rank = dist::get_rank()?;
    let world = dist::get_world_size()?;
    ahbm::set_device(rank)?;
    let same = accelerator::current_device_index() == ahbm::current_device();
    println!(
        "rank {rank}/{world} on SIP {:?} of {} (registries agree: {same})",
        ahbm::current_device(),
        accelerator::device_count()
    );

    let split = tensors::TensorOptions {
        dp: types::DpPolicy::SplitRows,
        device: None,
    };
    clock::region_begin("all_reduce")?;
    let t = tensors::Tensor::full(&[64, 16], f64::from(rank + 1), types::Dtype::F32, split)?;
    println!("shards {} on {} bytes", t.placement().len(), t.nbytes());
    dist::all_reduce(&t, types::ReduceOp::Sum, None)?;
    clock::region_end()?;
    let expected = (1..=world).sum::<u32>() as f32;
    let sums = f32s(&t)?;
    println!("all_reduce ok: {}", sums.iter().all(|&x| x == expected));

    let evens: Vec<u32> = (0..world).filter(|r| r % 2 == 0).collect();
    let g = dist::new_group(&evens)?;
    if let Some(i) = dist::group_rank(g)? {
        let one = tensors::Tensor::ones(&[8], types::Dtype::Bf16, split)?;
        dist::all_reduce(&one, types::ReduceOp::Max, Some(g))?;
        println!("group rank {i} of {}", dist::group_size(g)?);
    }

    let peer = rank ^ 1;
    if peer < world {
        let msg = tensors::Tensor::full(&[256], f64::from(rank), types::Dtype::F32, split)?;
        let got = tensors::Tensor::zeros(&[256], types::Dtype::F32, split)?;
        if rank % 2 == 0 {
            dist::send(&msg, peer, None)?;
            dist::recv(&got, peer, None)?;
        } else {
            dist::recv(&got, peer, None)?;
            dist::send(&msg, peer, None)?;
        }
        println!("from {peer}: {}", f32s(&got)?[0]);
    }
    let x = t.matmul(&t.transpose()?, split)?;
    x.scale_assign(0.5)?;
    dist::barrier(None)?;
    metrics::report_metric("sim_ns", clock::now_ns() as f64, "ns")?;
    println!("done at {} ns", clock::now_ns());
    Ok(())
}

fn main() -> Result<(), types::Error> {
    run()
}
