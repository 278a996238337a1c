//! Test guest: the WIT 0.2 tensor API through the SDK, printing every result so a test can
//! check it against PyTorch's values: broadcasting arithmetic, activations, reductions,
//! softmax, reshape/narrow/cat, conversions, arange, seeded random tensors, batched matmul,
//! f64/i64/bool tensors in an all_reduce, and the shape errors.

use kernbench::torch::{self, DType, ReduceOp, Tensor, distributed as dist};

fn show(name: &str, t: &Tensor) -> Result<(), kernbench::Error> {
    println!("{name} {:?} {} {:?}", t.shape(), t.dtype(), t.to_vec_f64()?);
    Ok(())
}

fn main() -> Result<(), kernbench::Error> {
    dist::init_process_group("ccl")?;
    let rank = dist::get_rank()?;
    let f = DType::F32;
    let a = Tensor::from_f32(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], f)?;
    let row = Tensor::arange(10.0, 40.0, 10.0, f)?;
    show("a+row", &a.add(&row)?)?;
    show("a-row", &a.sub(&row)?)?;
    show("a/2", &a.div(&Tensor::full(&[1], 2.0, f)?)?)?;
    show("relu", &a.sub(&Tensor::full(&[1], 3.0, f)?)?.relu()?)?;
    show("neg", &a.neg()?)?;
    show("sum", &a.sum()?)?;
    show("sum0", &a.sum_dim(0, false)?)?;
    show("mean1k", &a.mean_dim(-1, true)?)?;
    show("max1", &a.max_dim(1, false)?)?;
    show("min0", &a.min_dim(0, false)?)?;
    show(
        "softmax",
        &Tensor::from_f32(&[2], &[0.0, 0.0], f)?.softmax(0)?,
    )?;
    show("reshape", &a.reshape(&[3, -1])?)?;
    show("narrow", &a.narrow(1, 1, 2)?)?;
    show("cat", &Tensor::cat(&[&a, &a.narrow(0, 0, 1)?], 0)?)?;
    show(
        "to_i64",
        &a.div(&Tensor::full(&[1], 4.0, f)?)?.to(DType::I64)?,
    )?;
    let ints = Tensor::from_i32(&[3], &[1, 2, 3], torch::int32)?;
    show("isum", &ints.sum()?)?;
    show(
        "idiv",
        &ints.div(&Tensor::from_i32(&[1], &[2], torch::int32)?)?,
    )?;
    let batch = Tensor::arange(0.0, 8.0, 1.0, f)?.reshape(&[2, 2, 2])?;
    show("bmm", &batch.matmul(&batch)?)?;
    let r1 = Tensor::randn(&[3], f)?.to_vec_f64()?;
    let r2 = Tensor::randn(&[3], f)?.to_vec_f64()?;
    println!("randn differs per draw: {}", r1 != r2);
    println!("rank {rank} randn {r1:?}");
    let u = Tensor::rand(&[1000], DType::F64)?.to_vec_f64()?;
    println!(
        "rand in [0, 1): {}",
        u.iter().all(|x| (0.0..1.0).contains(x))
    );

    let mut d = Tensor::full(&[2], 0.5 + f64::from(rank), torch::float64)?;
    dist::all_reduce(&mut d, ReduceOp::Sum)?;
    show("f64 all_reduce", &d)?;
    let mut i = Tensor::from_i32(&[1], &[1], torch::int64)?;
    dist::all_reduce(&mut i, ReduceOp::Sum)?;
    show("i64 all_reduce", &i)?;
    let mut m = Tensor::from_i32(&[2], &[i32::from(rank == 0), 1], torch::bool)?;
    dist::all_reduce(&mut m, ReduceOp::Min)?;
    show("bool all (min)", &m)?;

    for err in [
        a.add(&Tensor::zeros(&[2], f)?).err(),
        a.reshape(&[4, -1]).err(),
        a.matmul(&a).err(),
        ints.mean().err(),
        Tensor::rand(&[2], torch::int32).err(),
    ] {
        println!("{}", err.map_or("no error".into(), |e| e.to_string()));
    }
    Ok(())
}
