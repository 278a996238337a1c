//! Test guest: the list forms of the collectives (all_gather, reduce_scatter, all_to_all,
//! gather, scatter) over the world and over a group, each result checked against its closed
//! form, and the wrong uses' errors.

use kernbench::torch::distributed::{self as dist};
use kernbench::torch::{DType, ReduceOp, Tensor};

fn vals(t: &Tensor) -> Result<Vec<f32>, kernbench::Error> {
    t.to_vec_f32()
}

fn zeros(n: u32, len: u64) -> Result<Vec<Tensor>, kernbench::Error> {
    (0..n).map(|_| Tensor::zeros(&[len], DType::F32)).collect()
}

fn main() -> Result<(), kernbench::Error> {
    dist::init_process_group("ccl")?;
    let r = dist::get_rank()?;
    let n = dist::get_world_size()?;
    let rf = r as f32;

    let input = Tensor::from_f32(&[2], &[rf, rf + 0.5], DType::F32)?;
    let mut gathered = zeros(n, 2)?;
    dist::all_gather(&mut gathered, &input)?;
    let ok = gathered
        .iter()
        .enumerate()
        .all(|(i, t)| vals(t).is_ok_and(|v| v == [i as f32, i as f32 + 0.5]));
    println!("all_gather: {ok}");

    // The same with async_op: the copies into the list happen at wait; compute overlaps.
    let mut later = zeros(n, 2)?;
    let work = dist::all_gather_async(&mut later, &input)?;
    let _busy =
        Tensor::ones(&[64, 64], DType::F32)?.matmul(&Tensor::ones(&[64, 64], DType::F32)?)?;
    work.wait()?;
    let same = later
        .iter()
        .zip(&gathered)
        .all(|(a, b)| vals(a).ok() == vals(b).ok());
    println!("all_gather_async: {same}");

    let inputs = (0..n)
        .map(|i| Tensor::full(&[2], f64::from(r * 10 + i), DType::F32))
        .collect::<Result<Vec<_>, _>>()?;
    let mut mine = Tensor::zeros(&[2], DType::F32)?;
    dist::reduce_scatter_async(&mut mine, &inputs, ReduceOp::Sum)?.wait()?;
    let expected = (10 * (0..n).sum::<u32>() + n * r) as f32;
    println!("reduce_scatter: {}", vals(&mine)? == [expected, expected]);

    let sends = (0..n)
        .map(|j| Tensor::full(&[1], f64::from(100 * r + j), DType::F32))
        .collect::<Result<Vec<_>, _>>()?;
    let mut received = zeros(n, 1)?;
    dist::all_to_all_async(&mut received, &sends)?.wait()?;
    let ok = received
        .iter()
        .enumerate()
        .all(|(i, t)| vals(t).is_ok_and(|v| v == [(100 * i as u32 + r) as f32]));
    println!("all_to_all: {ok}");

    let mine = Tensor::full(&[1], f64::from(r), DType::F32)?;
    if r == 1 {
        let mut list = zeros(n, 1)?;
        dist::gather(&mine, Some(&mut list), 1)?;
        let got: Vec<f32> = list
            .iter()
            .flat_map(|t| vals(t).unwrap_or_default())
            .collect();
        println!("gather at 1: {got:?}");
    } else {
        dist::gather(&mine, None, 1)?;
    }

    let mut piece = Tensor::zeros(&[1], DType::F32)?;
    if r == 0 {
        let list = (0..n)
            .map(|i| Tensor::full(&[1], f64::from(7 * i), DType::F32))
            .collect::<Result<Vec<_>, _>>()?;
        dist::scatter(&mut piece, Some(&list), 0)?;
    } else {
        dist::scatter(&mut piece, None, 0)?;
    }
    println!("scatter: {:?}", vals(&piece)?);

    // Over a group of the even ranks: list index = group rank, roots are global ranks.
    let evens: Vec<u32> = (0..n).filter(|x| x % 2 == 0).collect();
    let g = dist::new_group(&evens)?;
    if let Some(gr) = g.rank()? {
        let mut out = zeros(g.size()?, 2)?;
        g.all_gather(&mut out, &input)?;
        let firsts: Vec<f32> = out.iter().map(|t| vals(t).map_or(-1.0, |v| v[0])).collect();
        println!("group all_gather (group rank {gr}): {firsts:?}");
    }

    let mut short = zeros(n - 1, 2)?;
    let err = dist::all_gather(&mut short, &input).err();
    println!("{}", err.map_or("no error".into(), |e| e.to_string()));
    Ok(())
}
