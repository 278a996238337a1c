//! ddp_step: one data-parallel training step of a 2-layer linear model, as PyTorch DDP runs it.
//!
//! Every rank holds the same weights and its own batch. Forward `y = (x W1) W2`, loss
//! `sum(y)`; backward `dW2 = h^T 1`, `dh = 1 W2^T`, `dW1 = x^T dh`; then each gradient bucket
//! is all-reduced with `ReduceOp::Avg` over the world. The bench recomputes every rank's
//! gradients in the guest and checks the averaged result exactly (small integer data keeps f32
//! exact), so a wrong collective fails loudly. `--batch`, `--hidden`, `--steps`; `--meta`
//! times a large model without data.

use kernbench::args::{self, Args, Long};
use kernbench::torch::{
    self, DType, DpPolicy, ReduceOp, Tensor, TensorOptions, distributed as dist, profiler,
};
use kernbench::{Error, ErrorKind, clock, metrics};

/// Input element (row i, col j) of rank r: a small integer, so every product and sum is exact.
fn x_value(r: u32, i: u64, j: u64) -> f32 {
    ((u64::from(r) + 2 * i + 3 * j) % 5) as f32 - 2.0
}

/// Weight element of layer `l`: identical on every rank (DDP starts from the same weights).
fn w_value(l: u64, i: u64, j: u64) -> f32 {
    ((l + i + 2 * j) % 3) as f32 - 1.0
}

fn matrix(rows: u64, cols: u64, f: impl Fn(u64, u64) -> f32) -> Vec<f32> {
    (0..rows)
        .flat_map(|i| (0..cols).map(move |j| (i, j)))
        .map(|(i, j)| f(i, j))
        .collect()
}

/// Naive row-major matmul for the reference.
fn mm(a: &[f32], b: &[f32], m: u64, k: u64, n: u64) -> Vec<f32> {
    let (m, k, n) = (m as usize, k as usize, n as usize);
    let mut out = vec![0.0f32; m * n];
    for i in 0..m {
        for p in 0..k {
            let av = a[i * k + p];
            for j in 0..n {
                out[i * n + j] += av * b[p * n + j];
            }
        }
    }
    out
}

fn transpose(a: &[f32], rows: u64, cols: u64) -> Vec<f32> {
    let (r, c) = (rows as usize, cols as usize);
    (0..c)
        .flat_map(|j| (0..r).map(move |i| a[i * c + j]))
        .collect()
}

/// Rank r's local gradients (dW1, dW2), computed in the guest.
fn local_grads(r: u32, batch: u64, hidden: u64) -> (Vec<f32>, Vec<f32>) {
    let x = matrix(batch, hidden, |i, j| x_value(r, i, j));
    let w1 = matrix(hidden, hidden, |i, j| w_value(1, i, j));
    let w2 = matrix(hidden, hidden, |i, j| w_value(2, i, j));
    let h = mm(&x, &w1, batch, hidden, hidden);
    let ones = vec![1.0f32; (batch * hidden) as usize];
    let dw2 = mm(&transpose(&h, batch, hidden), &ones, hidden, batch, hidden);
    let dh = mm(
        &ones,
        &transpose(&w2, hidden, hidden),
        batch,
        hidden,
        hidden,
    );
    let dw1 = mm(&transpose(&x, batch, hidden), &dh, hidden, batch, hidden);
    (dw1, dw2)
}

fn main() -> Result<(), Error> {
    dist::init_process_group("ccl")?;
    let rank = dist::get_rank()?;
    let world = dist::get_world_size()?;
    torch::ahbm::set_device(rank)?;
    let (mut batch, mut hidden, mut steps, mut meta) = (16u64, 64u64, 2u32, false);
    let mut argv = Args::from_env();
    while let Some(arg) = argv.next_arg()? {
        match arg {
            Long("batch") => batch = argv.value()?,
            Long("hidden") => hidden = argv.value()?,
            Long("steps") => steps = argv.value()?,
            Long("meta") => meta = true,
            other => return Err(args::unexpected(other)),
        }
    }
    args::at_least("--batch", batch, 1)?;
    args::at_least("--hidden", hidden, 1)?;
    args::at_least("--steps", steps, 1)?;
    let opts = TensorOptions::new(DType::F32).dp(DpPolicy::Blocks);
    // Meta tensors never materialise their values in the guest: a large model fits anywhere.
    let make = |rows: u64, cols: u64, f: &dyn Fn(u64, u64) -> f32| {
        if meta {
            Tensor::meta(&[rows, cols], opts)
        } else {
            Tensor::from_f32(&[rows, cols], &matrix(rows, cols, f), opts)
        }
    };

    let x = make(batch, hidden, &|i, j| x_value(rank, i, j))?;
    let w1 = make(hidden, hidden, &|i, j| w_value(1, i, j))?;
    let w2 = make(hidden, hidden, &|i, j| w_value(2, i, j))?;
    let ones = if meta {
        Tensor::meta(&[batch, hidden], opts)?
    } else {
        Tensor::ones(&[batch, hidden], opts)?
    };
    let start = clock::now_ns();
    let mut grads = Vec::new();
    for _ in 0..steps {
        let h = {
            let _fwd = profiler::record_function("forward")?;
            let h = x.matmul_with(&w1, opts)?;
            let _y = h.matmul_with(&w2, opts)?;
            h
        };
        let (dw1, dw2) = {
            let _bwd = profiler::record_function("backward")?;
            let dw2 = h.t()?.matmul_with(&ones, opts)?;
            let dh = ones.matmul_with(&w2.t()?, opts)?;
            let dw1 = x.t()?.matmul_with(&dh, opts)?;
            (dw1, dw2)
        };
        let _sync = profiler::record_function("allreduce_buckets")?;
        let mut buckets = [dw2, dw1]; // DDP reduces buckets in reverse order of the forward
        for g in &mut buckets {
            dist::all_reduce(g, ReduceOp::Avg)?;
        }
        grads = buckets.into();
    }
    let step_ns = (clock::now_ns() - start) / u64::from(steps);
    metrics::report_metric("step_time", step_ns as f64 / 1e3, "us")?;

    if !meta {
        // Expected: the mean over ranks of each rank's local gradient, in rank order in f32.
        let mut expect = (
            vec![0.0f32; (hidden * hidden) as usize],
            vec![0.0f32; (hidden * hidden) as usize],
        );
        for r in 0..world {
            let (g1, g2) = local_grads(r, batch, hidden);
            expect.0.iter_mut().zip(g1).for_each(|(a, b)| *a += b);
            expect.1.iter_mut().zip(g2).for_each(|(a, b)| *a += b);
        }
        let n = world as f32;
        let checks = [("dW2", &grads[0], expect.1), ("dW1", &grads[1], expect.0)];
        for (name, got, want) in checks {
            let got = got.to_vec_f32()?;
            let wrong = got
                .iter()
                .zip(&want)
                .filter(|(g, w)| **g != **w / n)
                .count();
            if wrong > 0 {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("rank {rank}: {name} has {wrong} wrong elements after all_reduce(avg)"),
                ));
            }
        }
    }
    if rank == 0 {
        println!(
            "ddp_step: {world} ranks, batch {batch}, hidden {hidden}, {steps} steps{}: {:.3} us per step, gradients {}",
            if meta { " (meta)" } else { "" },
            step_ns as f64 / 1e3,
            if meta {
                "not checked (meta)"
            } else {
                "identical on every rank and equal to the mean of local gradients"
            }
        );
    }
    Ok(())
}
