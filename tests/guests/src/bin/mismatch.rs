//! Test guest: ranks make collective calls that cannot meet. argv[1] picks the mismatch:
//! `op` (all_reduce vs broadcast), `redop` (sum vs max), `shape`, `dtype`, `root`,
//! `group` (different new_group lists), `sendsend` (two ranks send to each other); and one
//! whose calls match but cannot run: `bool-avg` (every rank averages a bool tensor).

use kernbench::torch::{DType, ReduceOp, Tensor, distributed as dist};

fn main() -> Result<(), kernbench::Error> {
    dist::init_process_group("ccl")?;
    let rank = dist::get_rank()?;
    let odd = rank % 2 == 1;
    let case = std::env::args().nth(1).unwrap_or_default();
    let mut t = Tensor::ones(&[4, 4], DType::F32)?;
    match case.as_str() {
        "op" if odd => dist::broadcast(&mut t, 0)?,
        "op" => dist::all_reduce(&mut t, ReduceOp::Sum)?,
        "redop" => dist::all_reduce(&mut t, if odd { ReduceOp::Max } else { ReduceOp::Sum })?,
        "shape" => {
            let mut u = Tensor::ones(&[if odd { 3 } else { 4 }, 4], DType::F32)?;
            dist::all_reduce(&mut u, ReduceOp::Sum)?;
        }
        "dtype" => {
            let mut u = Tensor::ones(&[4, 4], if odd { DType::BF16 } else { DType::F32 })?;
            dist::all_reduce(&mut u, ReduceOp::Sum)?;
        }
        "root" => dist::broadcast(&mut t, if odd { 1 } else { 0 })?,
        "group" => {
            let ranks: &[u32] = if odd { &[0, 1] } else { &[0] };
            dist::new_group(ranks)?;
        }
        "sendsend" => dist::send(&t, 1 - rank)?,
        "bool-avg" => {
            let mut mask = Tensor::ones(&[4], DType::Bool)?;
            dist::all_reduce(&mut mask, ReduceOp::Avg)?;
        }
        other => panic!("unknown mismatch case {other:?}"),
    }
    dist::barrier()?;
    Ok(())
}
