//! tp_mlp: a Megatron-style tensor-parallel MLP inside a data-parallel world.
//!
//! The world is a `[dp, tp]` device mesh (`init_device_mesh`): TP groups of `--tp` consecutive
//! ranks and DP groups of ranks with the same TP index. In each TP group, `W1 [H, F]` is split by columns (column-parallel
//! linear) and `W2 [F, H]` by rows (row-parallel linear): rank t computes `(X W1_t) W2_t`, and
//! an all_reduce over the TP group yields `X W1 W2`. A DP all_reduce (avg) then averages the
//! replicas' outputs. Both results are checked exactly against a guest-side reference.

use kernbench::args::{self, Args, Long};
use kernbench::torch::{
    self, DType, DpPolicy, ReduceOp, Tensor, TensorOptions, distributed as dist, profiler,
};
use kernbench::{Error, ErrorKind, clock, metrics};

fn x_value(dp: u32, i: u64, j: u64) -> f32 {
    ((u64::from(dp) + i + 2 * j) % 5) as f32 - 2.0
}

fn w_value(l: u64, i: u64, j: u64) -> f32 {
    ((l + 2 * i + j) % 3) as f32 - 1.0
}

fn mm(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; m * n];
    for i in 0..m {
        for p in 0..k {
            for j in 0..n {
                out[i * n + j] += a[i * k + p] * b[p * n + j];
            }
        }
    }
    out
}

fn fail(message: String) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}

fn main() -> Result<(), Error> {
    dist::init_process_group("ccl")?;
    let rank = dist::get_rank()?;
    let world = dist::get_world_size()?;
    torch::ahbm::set_device(rank)?;
    let (mut tp, mut batch, mut hidden, mut ffn) = (2.min(world), 8u64, 32u64, 64u64);
    let mut argv = Args::from_env();
    while let Some(arg) = argv.next_arg()? {
        match arg {
            Long("tp") => tp = argv.value()?,
            Long("batch") => batch = argv.value()?,
            Long("hidden") => hidden = argv.value()?,
            Long("ffn") => ffn = argv.value()?,
            other => return Err(args::unexpected(other)),
        }
    }
    args::at_least("--tp", tp, 1)?;
    args::at_least("--batch", batch, 1)?;
    args::at_least("--hidden", hidden, 1)?;
    args::at_least("--ffn", ffn, 1)?;
    if world % tp != 0 || ffn % u64::from(tp) != 0 {
        return Err(fail(format!(
            "--tp {tp} must divide the world size {world} and --ffn {ffn}"
        )));
    }
    // A [dp, tp] device mesh: TP groups of consecutive ranks, DP groups of equal TP index.
    let mesh = dist::init_device_mesh(&[world / tp, tp])?;
    let (dp_group, tp_group) = (mesh.get_group(0)?, mesh.get_group(1)?);
    let (t, d) = (mesh.get_local_rank(1)?, mesh.get_local_rank(0)?);
    let shard = ffn / u64::from(tp);
    let opts = TensorOptions::new(DType::F32).dp(DpPolicy::SplitRows);

    let x: Vec<f32> = (0..batch)
        .flat_map(|i| (0..hidden).map(move |j| x_value(d, i, j)))
        .collect();
    let w1_t: Vec<f32> = (0..hidden)
        .flat_map(|i| (0..shard).map(move |j| w_value(1, i, u64::from(t) * shard + j)))
        .collect();
    let w2_t: Vec<f32> = (0..shard)
        .flat_map(|i| (0..hidden).map(move |j| w_value(2, u64::from(t) * shard + i, j)))
        .collect();
    let start = clock::now_ns();
    let mut z = {
        let _mlp = profiler::record_function("tp_mlp")?;
        let xt = Tensor::from_f32(&[batch, hidden], &x, opts)?;
        let y = xt.matmul_with(&Tensor::from_f32(&[hidden, shard], &w1_t, opts)?, opts)?; // column-parallel
        let mut z = y.matmul_with(&Tensor::from_f32(&[shard, hidden], &w2_t, opts)?, opts)?; // row-parallel
        tp_group.all_reduce(&mut z, ReduceOp::Sum)?;
        z
    };
    let tp_out = z.to_vec_f32()?;
    {
        let _dp = profiler::record_function("dp_allreduce")?;
        dp_group.all_reduce(&mut z, ReduceOp::Avg)?;
    }
    let elapsed = clock::now_ns() - start;
    metrics::report_metric("mlp_time", elapsed as f64 / 1e3, "us")?;

    // Reference: the unsharded MLP for this DP replica, then the mean over replicas.
    let (b, h, f) = (batch as usize, hidden as usize, ffn as usize);
    let full = |dp: u32| {
        let x: Vec<f32> = (0..batch)
            .flat_map(|i| (0..hidden).map(move |j| x_value(dp, i, j)))
            .collect();
        let w1: Vec<f32> = (0..hidden)
            .flat_map(|i| (0..ffn).map(move |j| w_value(1, i, j)))
            .collect();
        let w2: Vec<f32> = (0..ffn)
            .flat_map(|i| (0..hidden).map(move |j| w_value(2, i, j)))
            .collect();
        mm(&mm(&x, &w1, b, h, f), &w2, b, f, h)
    };
    let mine = full(d);
    if tp_out != mine {
        return Err(fail(format!(
            "rank {rank}: the TP all_reduce result differs from the unsharded MLP"
        )));
    }
    let replicas = world / tp;
    let mut mean = vec![0.0f32; b * h];
    for dp in 0..replicas {
        mean.iter_mut().zip(full(dp)).for_each(|(m, v)| *m += v);
    }
    mean.iter_mut().for_each(|m| *m /= replicas as f32);
    if z.to_vec_f32()? != mean {
        return Err(fail(format!(
            "rank {rank}: the DP all_reduce(avg) result differs from the mean of replicas"
        )));
    }
    if rank == 0 {
        println!(
            "tp_mlp: {world} ranks = {replicas} DP replicas x TP {tp}; X [{batch}, {hidden}] W1 [{hidden}, {ffn}] W2 [{ffn}, {hidden}]: {:.3} us, outputs match the unsharded MLP",
            elapsed as f64 / 1e3
        );
    }
    Ok(())
}
