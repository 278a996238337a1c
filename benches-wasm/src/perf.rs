//! An nccl-tests style sweep: for each size from `-b` to `-e` (times `-f`), time `-n` calls of
//! one collective on the simulated clock, check the data of one more call, and print
//! nccl-tests' table (size, count, type, redop, root, time, algbw, busbw, #wrong).
//!
//! Sizes up to `--check-max` use real data and are checked exactly; larger ones use meta
//! tensors (time and HBM only), so a sweep to 1 GiB runs in seconds.

use crate::args::{self, Args, Long, Short};
use crate::check::{mismatches, reduced, round_to, value};
use kernbench::torch::{self, DType, ReduceOp, Tensor, TensorOptions, distributed as dist};
use kernbench::{Error, ErrorKind, clock, metrics};

/// The collective a sweep measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collective {
    /// `all_reduce`.
    AllReduce,
    /// `broadcast` from rank 0.
    Broadcast,
    /// `reduce` into rank 0.
    Reduce,
    /// `all_gather_into_tensor`.
    AllGather,
    /// `reduce_scatter_tensor`.
    ReduceScatter,
    /// `all_to_all_single`.
    AllToAll,
    /// `send`/`recv` around a ring (rank r sends to r+1).
    SendRecv,
}

impl Collective {
    fn name(self) -> &'static str {
        match self {
            Collective::AllReduce => "all_reduce",
            Collective::Broadcast => "broadcast",
            Collective::Reduce => "reduce",
            Collective::AllGather => "all_gather",
            Collective::ReduceScatter => "reduce_scatter",
            Collective::AllToAll => "all_to_all",
            Collective::SendRecv => "sendrecv",
        }
    }

    fn reduces(self) -> bool {
        matches!(
            self,
            Collective::AllReduce | Collective::Reduce | Collective::ReduceScatter
        )
    }

    fn rooted(self) -> bool {
        matches!(self, Collective::Broadcast | Collective::Reduce)
    }

    /// nccl-tests' bus bandwidth factor.
    fn busbw_factor(self, n: u32) -> f64 {
        let n = f64::from(n);
        match self {
            Collective::AllReduce => 2.0 * (n - 1.0) / n,
            Collective::AllGather | Collective::ReduceScatter | Collective::AllToAll => {
                (n - 1.0) / n
            }
            _ => 1.0,
        }
    }
}

/// Sweep settings, from the bench's arguments.
#[derive(Debug, Clone)]
struct Sweep {
    min_bytes: u64,
    max_bytes: u64,
    factor: u64,
    iters: u64,
    warmup: u64,
    check_max: u64,
    op: ReduceOp,
    dtype: DType,
}

fn parse_op(name: &str) -> Result<ReduceOp, Error> {
    Ok(match name {
        "sum" => ReduceOp::Sum,
        "avg" => ReduceOp::Avg,
        "prod" => ReduceOp::Product,
        "min" => ReduceOp::Min,
        "max" => ReduceOp::Max,
        other => {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("-o {other}: use sum, avg, prod, min or max"),
            ));
        }
    })
}

fn parse_dtype(name: &str) -> Result<DType, Error> {
    Ok(match name {
        "float" | "float32" | "f32" => DType::F32,
        "bfloat16" | "bf16" => DType::BF16,
        "half" | "float16" | "f16" => DType::F16,
        "int32" | "int" | "i32" => DType::I32,
        "int8" | "i8" => DType::I8,
        other => {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("-d {other}: use float, bfloat16, half, int32 or int8"),
            ));
        }
    })
}

fn nccl_type(dtype: DType) -> &'static str {
    match dtype {
        DType::F32 => "float",
        DType::BF16 => "bfloat16",
        DType::F16 => "half",
        DType::I32 => "int32",
        DType::I8 => "int8",
    }
}

impl Sweep {
    /// nccl-tests' flags (short and long names); anything else is an error.
    fn from_args() -> Result<Sweep, Error> {
        let mut s = Sweep {
            min_bytes: 8,
            max_bytes: 1 << 30,
            factor: 2,
            iters: 5,
            warmup: 1,
            check_max: 1 << 20,
            op: ReduceOp::Sum,
            dtype: DType::F32,
        };
        let mut argv = Args::from_env();
        while let Some(arg) = argv.next_arg()? {
            match arg {
                Short('b') | Long("minbytes") => s.min_bytes = argv.bytes()?,
                Short('e') | Long("maxbytes") => s.max_bytes = argv.bytes()?,
                Short('f') | Long("stepfactor") => s.factor = argv.value()?,
                Short('n') | Long("iters") => s.iters = argv.value()?,
                Short('w') | Long("warmup_iters") => s.warmup = argv.value()?,
                Long("check-max") => s.check_max = argv.bytes()?,
                Short('o') | Long("op") => s.op = parse_op(&argv.value::<String>()?)?,
                Short('d') | Long("datatype") => s.dtype = parse_dtype(&argv.value::<String>()?)?,
                other => return Err(args::unexpected(other)),
            }
        }
        args::at_least("-b", s.min_bytes, 1)?;
        args::at_least("-f", s.factor, 2)?;
        args::at_least("-n", s.iters, 1)?;
        if s.min_bytes > s.max_bytes {
            return Err(args::usage(format!(
                "-b {} is above -e {}: no size to run",
                s.min_bytes, s.max_bytes
            )));
        }
        Ok(s)
    }
}

/// Tensors of one size: what each call reads and writes.
struct Buffers {
    input: Tensor,
    output: Option<Tensor>,
}

/// Run the sweep for `coll` and print the table on rank 0. Fails if any check fails.
pub fn run(coll: Collective) -> Result<(), Error> {
    let sweep = Sweep::from_args()?;
    dist::init_process_group("ccl")?;
    let rank = dist::get_rank()?;
    let n = dist::get_world_size()?;
    torch::ahbm::set_device(rank)?;
    let op = if coll.reduces() { Some(sweep.op) } else { None };
    if rank == 0 {
        println!(
            "# {}_perf: {n} ranks, {} iters, {} warmup, check up to {} B",
            coll.name(),
            sweep.iters,
            sweep.warmup,
            sweep.check_max
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
    let mut size = sweep.min_bytes;
    while size <= sweep.max_bytes {
        let count = elements(coll, size, sweep.dtype, n);
        let bytes = count * sweep.dtype.itemsize() as u64;
        let real = bytes <= sweep.check_max;
        let mut bufs = buffers(coll, count, n, sweep.dtype, real, rank, sweep.op)?;
        for _ in 0..sweep.warmup {
            call(coll, &mut bufs, sweep.op, rank, n)?;
        }
        dist::barrier()?;
        let t0 = clock::now_ns();
        for _ in 0..sweep.iters {
            call(coll, &mut bufs, sweep.op, rank, n)?;
        }
        let elapsed = clock::now_ns() - t0;
        let wrong = if real {
            check(coll, count, n, sweep.dtype, sweep.op, rank)?
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
        peak_busbw = peak_busbw.max(algbw * coll.busbw_factor(n));
        if rank == 0 {
            println!(
                " {:>12} {:>12} {:>9} {:>6} {:>5} {:>12.2} {:>8.2} {:>8.2} {:>6}",
                bytes,
                count,
                nccl_type(sweep.dtype),
                op.map_or("none", op_name),
                if coll.rooted() { 0 } else { -1 },
                time_ns / 1e3,
                algbw,
                algbw * coll.busbw_factor(n),
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
            format!(
                "{}: {wrong_total} wrong elements on rank {rank}",
                coll.name()
            ),
        ));
    }
    if rank == 0 {
        println!("# Out of bounds values : 0 OK");
        println!("# Peak bus bandwidth    : {peak_busbw:.2} GB/s");
        metrics::report_metric("peak_busbw", peak_busbw, "GB/s")?;
    }
    Ok(())
}

fn op_name(op: ReduceOp) -> &'static str {
    match op {
        ReduceOp::Sum => "sum",
        ReduceOp::Avg => "avg",
        ReduceOp::Product => "prod",
        ReduceOp::Min => "min",
        ReduceOp::Max => "max",
    }
}

/// Elements per call for nccl-tests' `size` (whole output for all_gather, whole input for
/// reduce_scatter and all_to_all), rounded down so blocks divide evenly (at least one block).
fn elements(coll: Collective, size: u64, dtype: DType, n: u32) -> u64 {
    let items = (size / dtype.itemsize() as u64).max(1);
    match coll {
        Collective::AllGather | Collective::ReduceScatter | Collective::AllToAll => {
            (items / u64::from(n)).max(1) * u64::from(n)
        }
        _ => items,
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

fn buffers(
    coll: Collective,
    count: u64,
    n: u32,
    dtype: DType,
    real: bool,
    rank: u32,
    op: ReduceOp,
) -> Result<Buffers, Error> {
    let n64 = u64::from(n);
    let input_len = match coll {
        Collective::AllGather => count / n64,
        _ => count,
    };
    let output_len = match coll {
        Collective::AllGather | Collective::AllToAll => Some(count),
        Collective::ReduceScatter => Some(count / n64),
        _ => None,
    };
    Ok(Buffers {
        input: filled(input_len, dtype, real, |i| value(op, rank, i))?,
        output: output_len
            .map(|len| filled(len, dtype, real, |_| 0.0))
            .transpose()?,
    })
}

fn call(coll: Collective, b: &mut Buffers, op: ReduceOp, rank: u32, n: u32) -> Result<(), Error> {
    match (coll, b.output.as_mut()) {
        (Collective::AllReduce, _) => dist::all_reduce(&mut b.input, op),
        (Collective::Broadcast, _) => dist::broadcast(&mut b.input, 0),
        (Collective::Reduce, _) => dist::reduce(&mut b.input, 0, op),
        (Collective::AllGather, Some(out)) => dist::all_gather_into_tensor(out, &b.input),
        (Collective::ReduceScatter, Some(out)) => dist::reduce_scatter_tensor(out, &b.input, op),
        (Collective::AllToAll, Some(out)) => dist::all_to_all_single(out, &b.input),
        (Collective::SendRecv, _) if n == 1 => Ok(()),
        (Collective::SendRecv, _) => ring_exchange(&b.input, rank, n).map(drop),
        _ => Err(Error::new(
            ErrorKind::InvalidArgument,
            "missing output buffer",
        )),
    }
}

/// Send `input` to the next rank and receive the previous rank's, with blocking calls: even
/// ranks send first and odd ranks receive first, so every send meets its recv.
fn ring_exchange(input: &Tensor, rank: u32, n: u32) -> Result<Tensor, Error> {
    let (next, prev) = ((rank + 1) % n, (rank + n - 1) % n);
    let mut incoming = if input.is_meta() {
        Tensor::meta(&input.shape(), input.dtype())?
    } else {
        Tensor::zeros(&input.shape(), input.dtype())?
    };
    if rank.is_multiple_of(2) {
        dist::send(input, next)?;
        dist::recv(&mut incoming, prev)?;
    } else {
        dist::recv(&mut incoming, prev)?;
        dist::send(input, next)?;
    }
    Ok(incoming)
}

/// One fresh call on real data, compared element by element with the reference.
fn check(
    coll: Collective,
    count: u64,
    n: u32,
    dtype: DType,
    op: ReduceOp,
    rank: u32,
) -> Result<u64, Error> {
    let mut b = buffers(coll, count, n, dtype, true, rank, op)?;
    let n64 = u64::from(n);
    let inp = |r: u32, i: u64| round_to(dtype, value(op, r, i));
    let got: Vec<f32>;
    let bad = match coll {
        Collective::AllReduce => {
            dist::all_reduce(&mut b.input, op)?;
            got = b.input.to_vec_f32()?;
            mismatches(&got, |i| reduced(dtype, op, n, i))
        }
        Collective::Broadcast => {
            dist::broadcast(&mut b.input, 0)?;
            got = b.input.to_vec_f32()?;
            mismatches(&got, |i| inp(0, i))
        }
        Collective::Reduce => {
            dist::reduce(&mut b.input, 0, op)?;
            got = b.input.to_vec_f32()?;
            if rank == 0 {
                mismatches(&got, |i| reduced(dtype, op, n, i))
            } else {
                mismatches(&got, |i| inp(rank, i))
            }
        }
        Collective::AllGather => {
            let out = b
                .output
                .as_mut()
                .ok_or_else(|| Error::new(ErrorKind::InvalidArgument, "no output"))?;
            dist::all_gather_into_tensor(out, &b.input)?;
            got = out.to_vec_f32()?;
            let block = count / n64;
            mismatches(&got, |i| inp((i / block) as u32, i % block))
        }
        Collective::ReduceScatter => {
            let out = b
                .output
                .as_mut()
                .ok_or_else(|| Error::new(ErrorKind::InvalidArgument, "no output"))?;
            dist::reduce_scatter_tensor(out, &b.input, op)?;
            got = out.to_vec_f32()?;
            let block = count / n64;
            mismatches(&got, |i| reduced(dtype, op, n, u64::from(rank) * block + i))
        }
        Collective::AllToAll => {
            let out = b
                .output
                .as_mut()
                .ok_or_else(|| Error::new(ErrorKind::InvalidArgument, "no output"))?;
            dist::all_to_all_single(out, &b.input)?;
            got = out.to_vec_f32()?;
            let block = count / n64;
            // Block j of my output is block `rank` of rank j's input.
            mismatches(&got, |i| {
                inp((i / block) as u32, u64::from(rank) * block + i % block)
            })
        }
        Collective::SendRecv => {
            if n == 1 {
                return Ok(0);
            }
            let prev = (rank + n - 1) % n;
            got = ring_exchange(&b.input, rank, n)?.to_vec_f32()?;
            mismatches(&got, |i| inp(prev, i))
        }
    };
    if bad.count > 0 {
        println!(
            "rank {rank}: {} wrong at {count} elements: {}",
            coll.name(),
            bad.samples.join("; ")
        );
    }
    Ok(bad.count)
}
