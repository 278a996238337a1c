//! custom_ring_allreduce: a user-written collective, as MSCCL-style benches write them: ring
//! all_reduce built from `isend`/`irecv` on chunks, checked against the built-in all_reduce.
//!
//! The tensor is `n` chunks of `--count` f32 elements (one chunk per rank, as the built-in ring
//! cuts it). Reduce-scatter: in step s, rank r sends chunk `r - s` to the next rank and
//! receives chunk `r - s - 1` from the previous one into a scratch tensor, then adds it in;
//! all-gather: in step s, rank r sends chunk `r + 1 - s` and receives chunk `r - s` in place.
//! Each step's send and receive are in flight together, so a step costs one transfer.
//!
//! The bench then runs the built-in `all_reduce` on the same data and checks both results
//! are bitwise equal (small integer data keeps f32 sums exact). It reports the simulated
//! times as metrics: `custom_ns`, `builtin_ns`, and `add_ns` (one chunk's `add_`), so a test
//! can check `custom_ns = builtin_ns + (n - 1) * add_ns` to the nanosecond: the transfers
//! cost exactly the built-in ring's, the reduction is the guest's own extra work.

use kernbench::args::{self, Args, Long};
use kernbench::torch::{self, DType, ReduceOp, Tensor, TensorOptions, distributed as dist};
use kernbench::{Error, ErrorKind, clock, metrics};

/// Element i of chunk c on rank r: a small integer.
fn value(r: u32, c: u32, i: u64) -> f32 {
    ((u64::from(r) * 7 + u64::from(c) * 3 + i) % 11) as f32
}

/// `(&v[send], &mut v[recv])` for two different indices.
fn pair(v: &mut [Tensor], send: usize, recv: usize) -> (&Tensor, &mut Tensor) {
    if send < recv {
        let (low, high) = v.split_at_mut(recv);
        (&low[send], &mut high[0])
    } else {
        let (low, high) = v.split_at_mut(send);
        (&high[0], &mut low[recv])
    }
}

/// Ring all_reduce (sum) over the world, in place on `chunks` (one per rank).
fn ring_all_reduce(
    chunks: &mut [Tensor],
    scratch: &mut Tensor,
    rank: u32,
    n: u32,
) -> Result<(), Error> {
    let (next, prev) = ((rank + 1) % n, (rank + n - 1) % n);
    let at = |k: i64| k.rem_euclid(i64::from(n)) as usize;
    let r = i64::from(rank);
    for s in 0..i64::from(n) - 1 {
        let sent = dist::isend(&chunks[at(r - s)], next)?;
        let received = dist::irecv(scratch, prev)?;
        sent.wait()?;
        received.wait()?;
        chunks[at(r - s - 1)].add_(scratch)?;
    }
    for s in 0..i64::from(n) - 1 {
        let (out, into) = pair(chunks, at(r + 1 - s), at(r - s));
        let sent = dist::isend(out, next)?;
        let received = dist::irecv(into, prev)?;
        sent.wait()?;
        received.wait()?;
    }
    Ok(())
}

fn main() -> Result<(), Error> {
    dist::init_process_group("nccl")?;
    let rank = dist::get_rank()?;
    let n = dist::get_world_size()?;
    torch::ahbm::set_device(rank)?;
    let mut count = 1024u64;
    let mut argv = Args::from_env();
    while let Some(arg) = argv.next_arg()? {
        match arg {
            Long("count") => count = argv.value()?,
            other => return Err(args::unexpected(other)),
        }
    }
    args::at_least("--count", count, 1)?;
    let opts = TensorOptions::new(DType::F32);
    let data = |c: u32| -> Vec<f32> { (0..count).map(|i| value(rank, c, i)).collect() };
    let mut chunks = (0..n)
        .map(|c| Tensor::from_f32(&[count], &data(c), opts))
        .collect::<Result<Vec<_>, _>>()?;
    let mut scratch = Tensor::zeros(&[count], opts)?;
    let whole: Vec<f32> = (0..n).flat_map(data).collect();
    let mut builtin = Tensor::from_f32(&[u64::from(n) * count], &whole, opts)?;

    // One chunk's add, timed on a throwaway pair: the reduction each reduce-scatter step does.
    let mut probe = Tensor::zeros(&[count], opts)?;
    let before = clock::now_ns();
    probe.add_(&scratch)?;
    let add_ns = clock::now_ns() - before;
    dist::barrier()?;

    let start = clock::now_ns();
    ring_all_reduce(&mut chunks, &mut scratch, rank, n)?;
    let custom_ns = clock::now_ns() - start;
    dist::barrier()?;
    let start = clock::now_ns();
    dist::all_reduce(&mut builtin, ReduceOp::Sum)?;
    let builtin_ns = clock::now_ns() - start;

    let expected = builtin.to_vec_f32()?;
    let mut got = Vec::with_capacity(expected.len());
    for c in &chunks {
        got.extend(c.to_vec_f32()?);
    }
    let bad = got
        .iter()
        .zip(&expected)
        .filter(|(a, b)| a.to_bits() != b.to_bits())
        .count();
    metrics::report_metric("custom_ns", custom_ns as f64, "ns")?;
    metrics::report_metric("builtin_ns", builtin_ns as f64, "ns")?;
    metrics::report_metric("add_ns", add_ns as f64, "ns")?;
    if rank == 0 {
        println!(
            "ring all_reduce of {n} x {count} f32 from isend/irecv: {custom_ns} ns; built-in ring: {builtin_ns} ns; one chunk's add: {add_ns} ns"
        );
    }
    if bad > 0 {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!(
                "rank {rank}: {bad} of {} elements differ from the built-in all_reduce",
                expected.len()
            ),
        ));
    }
    println!("rank {rank}: result equals the built-in all_reduce");
    Ok(())
}
