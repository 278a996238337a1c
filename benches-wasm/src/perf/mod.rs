//! An nccl-tests style sweep: for each size from `-b` to `-e` (times `-f`), time `-n` calls of
//! one collective on the simulated clock, check the data of one more call, and print
//! nccl-tests' table (size, count, type, redop, root, time, algbw, busbw, #wrong).
//!
//! Sizes up to `--check-max` use real data and are checked exactly against closed forms
//! ([`crate::check`]); larger ones use meta tensors (time and HBM only), so a sweep to 1 GiB
//! runs in seconds. `--corrupt-rank R` is a self-test of that check: rank R adds 1 to
//! element 0 of its input in each checked call, so the check must report wrong elements.
//!
//! Every collective is one row of [`COLLECTIVES`]: its name, whether it reduces or has a root,
//! its buffers, nccl-tests' bus bandwidth factor, the call, and the expected result.

mod sweep;
mod table;

pub use table::{COLLECTIVES, Collective, Ctx, Len, collective};

use crate::check::{mismatches, value};
use kernbench::torch::{self, DType, ReduceOp, Tensor, TensorOptions, distributed as dist};
use kernbench::{Error, ErrorKind, clock, metrics};
use sweep::Sweep;

/// Tensors of one size: what each call reads and writes.
#[derive(Debug)]
pub struct Buffers {
    input: Tensor,
    output: Option<Tensor>,
}

impl Buffers {
    /// The input, and the output buffer of a collective that has one.
    pub(super) fn split(&mut self) -> Result<(&Tensor, &mut Tensor), Error> {
        let out = self
            .output
            .as_mut()
            .ok_or_else(|| Error::new(ErrorKind::InvalidArgument, "missing output buffer"))?;
        Ok((&self.input, out))
    }

    /// The buffer holding the result.
    fn result(&self) -> &Tensor {
        self.output.as_ref().unwrap_or(&self.input)
    }
}

/// Run the sweep of the collective named `name` (a row of [`COLLECTIVES`]) and print the
/// table on rank 0. Fails if any check fails.
pub fn run(name: &str) -> Result<(), Error> {
    let coll = collective(name)?;
    let sweep = Sweep::from_args()?;
    dist::init_process_group("ccl")?;
    let rank = dist::get_rank()?;
    let n = dist::get_world_size()?;
    torch::ahbm::set_device(rank)?;
    let op = if coll.reduces { Some(sweep.op) } else { None };
    if rank == 0 {
        println!(
            "# {}_perf: {n} ranks, {} iters, {} warmup, check up to {} B",
            coll.name, sweep.iters, sweep.warmup, sweep.check_max
        );
        println!(
            "#{:>12} {:>12} {:>9} {:>6} {:>5} {:>12} {:>8} {:>8} {:>6}",
            "size", "count", "type", "redop", "root", "time", "algbw", "busbw", "#wrong"
        );
        println!(
            "#{:>12} {:>12} {:>9} {:>6} {:>5} {:>12} {:>8} {:>8} {:>6}",
            "(B)", "(elements)", "", "", "", "(us)", "(GB/s)", "(GB/s)", ""
        );
    }
    let mut wrong_total = 0u64;
    let mut peak_busbw = 0f64;
    let busbw_factor = coll.kind.busbw_factor(n);
    let mut size = sweep.min_bytes;
    while size <= sweep.max_bytes {
        let count = elements(coll, size, sweep.dtype, n);
        let ctx = Ctx {
            dtype: sweep.dtype,
            op: sweep.op,
            rank,
            n,
            block: count / u64::from(n),
        };
        let bytes = count * sweep.dtype.itemsize();
        let real = bytes <= sweep.check_max;
        let mut bufs = buffers(coll, count, &ctx, real, false)?;
        for _ in 0..sweep.warmup {
            (coll.call)(&mut bufs, &ctx)?;
        }
        dist::barrier()?;
        let t0 = clock::now_ns();
        for _ in 0..sweep.iters {
            (coll.call)(&mut bufs, &ctx)?;
        }
        let elapsed = clock::now_ns() - t0;
        let wrong = if real {
            check(coll, count, &ctx, sweep.corrupt_rank)?
        } else {
            0
        };
        wrong_total += wrong;
        let time_ns = elapsed as f64 / sweep.iters as f64;
        let algbw = if time_ns > 0.0 {
            bytes as f64 / time_ns
        } else {
            0.0
        };
        peak_busbw = peak_busbw.max(algbw * busbw_factor);
        if rank == 0 {
            println!(
                " {:>12} {:>12} {:>9} {:>6} {:>5} {:>12.2} {:>8.2} {:>8.2} {:>6}",
                bytes,
                count,
                sweep.dtype.nccl_name(),
                op.map_or("none", ReduceOp::name),
                if coll.rooted { 0 } else { -1 },
                time_ns / 1e3,
                algbw,
                algbw * busbw_factor,
                if real {
                    wrong.to_string()
                } else {
                    "N/A".into()
                },
            );
        }
        size = match size.checked_mul(sweep.factor) {
            Some(next) => next,
            None => break,
        };
    }
    dist::barrier()?;
    if wrong_total > 0 {
        return Err(Error::new(
            ErrorKind::InvalidArgument,
            format!("{}: {wrong_total} wrong elements on rank {rank}", coll.name),
        ));
    }
    if rank == 0 {
        println!("# Out of bounds values : 0 OK");
        println!("# Peak bus bandwidth    : {peak_busbw:.2} GB/s");
        metrics::report_metric("peak_busbw", peak_busbw, "GB/s")?;
    }
    Ok(())
}

/// Elements per call for nccl-tests' `size` (whole output for all_gather, whole input for
/// reduce_scatter and all_to_all), rounded down so blocks divide evenly (at least one block).
fn elements(coll: &Collective, size: u64, dtype: DType, n: u32) -> u64 {
    let items = (size / dtype.itemsize()).max(1);
    if coll.blocked {
        (items / u64::from(n)).max(1) * u64::from(n)
    } else {
        items
    }
}

fn filled(shape: u64, dtype: DType, real: bool, f: impl Fn(u64) -> f32) -> Result<Tensor, Error> {
    let opts = TensorOptions::new(dtype);
    if real {
        let values: Vec<f32> = (0..shape).map(f).collect();
        Tensor::from_f32(&[shape], &values, opts)
    } else {
        Tensor::meta(&[shape], opts)
    }
}

/// The buffers of one size; `corrupt` adds 1 to element 0 of the input (the check's
/// self-test).
fn buffers(
    coll: &Collective,
    count: u64,
    c: &Ctx,
    real: bool,
    corrupt: bool,
) -> Result<Buffers, Error> {
    let input = filled(coll.input.of(count, c.n), c.dtype, real, |i| {
        let off = if i == 0 && corrupt { 1.0 } else { 0.0 };
        value(c.op, c.n, c.rank, i) + off
    })?;
    let output = coll
        .output
        .map(|len| filled(len.of(count, c.n), c.dtype, real, |_| 0.0))
        .transpose()?;
    Ok(Buffers { input, output })
}

/// Send `input` to the next rank and receive the previous rank's at the same time, as
/// nccl-tests' sendrecv does (`isend` and `irecv`, then wait for both): each direction of a
/// link carries one transfer, so a step costs one transfer time, not two.
pub(super) fn ring_exchange(
    input: &Tensor,
    incoming: &mut Tensor,
    rank: u32,
    n: u32,
) -> Result<(), Error> {
    if n == 1 {
        // The ring is this rank alone: what it sends is what it receives.
        return incoming.copy_(input);
    }
    let (next, prev) = ((rank + 1) % n, (rank + n - 1) % n);
    let sent = dist::isend(input, next)?;
    let received = dist::irecv(incoming, prev)?;
    sent.wait()?;
    received.wait()
}

/// One fresh call on real data, compared element by element with the closed-form result.
fn check(coll: &Collective, count: u64, c: &Ctx, corrupt_rank: Option<u32>) -> Result<u64, Error> {
    let mut b = buffers(coll, count, c, true, corrupt_rank == Some(c.rank))?;
    (coll.call)(&mut b, c)?;
    let got = b.result().to_vec_f32()?;
    let bad = mismatches(&got, |i| (coll.expected)(c, i));
    if bad.count > 0 {
        println!(
            "rank {}: {} wrong at {count} elements: {}",
            c.rank,
            coll.name,
            bad.samples.join("; ")
        );
    }
    Ok(bad.count)
}
