//! Test guest: uses randomness (hash map order, random bytes), clocks and collectives, and
//! prints all of it: a run with the same seed must print the same thing every time.

use kernbench::torch::{DType, ReduceOp, Tensor, distributed as dist};
use std::collections::HashMap;
use std::io::Read;

fn main() -> Result<(), kernbench::Error> {
    dist::init_process_group("ccl")?;
    let rank = dist::get_rank()?;
    let map: HashMap<u32, u32> = (0..16).map(|i| (i, i * i)).collect();
    let order: Vec<u32> = map.keys().copied().collect();
    println!("rank {rank} hash order {order:?}");
    let mut bytes = [0u8; 8];
    let mut random = std::fs::File::open("/dev/urandom").map(|mut f| f.read_exact(&mut bytes));
    if random.is_err() {
        // No /dev/urandom in the sandbox: std's RandomState (above) already drew from
        // wasi:random; draw more the same way.
        bytes =
            std::hash::BuildHasher::hash_one(&std::collections::hash_map::RandomState::new(), rank)
                .to_le_bytes();
        random = Ok(Ok(()));
    }
    println!("rank {rank} random {bytes:02x?} ({})", random.is_ok());
    let mut t = Tensor::full(&[64], f64::from(rank), DType::F32)?;
    for _ in 0..3 {
        dist::all_reduce(&mut t, ReduceOp::Sum)?;
    }
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    println!(
        "rank {rank} sum {} clock {} ns wall {wall} ns",
        t.to_vec_f32()?[0],
        kernbench::clock::now_ns()
    );
    Ok(())
}
