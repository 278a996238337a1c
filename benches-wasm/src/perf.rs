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

use crate::args::{self, Args, Long, Short};
use crate::check::{mismatches, reduced, round_to, value};
use kernbench::torch::{self, DType, ReduceOp, Tensor, TensorOptions, distributed as dist};
use kernbench::{Error, ErrorKind, clock, metrics};

/// One collective a sweep can measure.
#[derive(Debug)]
pub struct Collective {
    /// The name in the table header and errors (`all_reduce` prints `# all_reduce_perf`).
    pub name: &'static str,
    /// Whether it takes a reduce op (`-o`); the others print `none`.
    pub reduces: bool,
    /// Whether it has a root (always rank 0); the others print root -1.
    pub rooted: bool,
    /// Whether nccl-tests' size covers all n blocks of the buffer (gather, scatter, all-to-all):
    /// the element count is then rounded down to a multiple of n.
    pub blocked: bool,
    /// Length of the input buffer.
    pub input: Len,
    /// Length of the output buffer, when the result is not written in place.
    pub output: Option<Len>,
    /// nccl-tests' bus bandwidth factor for n ranks.
    pub busbw: fn(f64) -> f64,
    /// One call.
    pub call: fn(&mut Buffers, &Ctx) -> Result<(), Error>,
    /// Element `i` of this rank's result (the output buffer if any, else the input), in
    /// closed form.
    pub expected: fn(&Ctx, u64) -> f32,
}

/// A buffer length, from the call's element count.
#[derive(Debug, Clone, Copy)]
pub enum Len {
    /// The element count.
    Count,
    /// One of the n blocks: count / n.
    Block,
}

/// What one call of a size knows: the settings, this rank, the world and the block size.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    /// The data type.
    pub dtype: DType,
    /// The reduce op (also chooses the input values, see [`crate::check`]).
    pub op: ReduceOp,
    /// This rank.
    pub rank: u32,
    /// The world size.
    pub n: u32,
    /// count / n: the elements of one block.
    pub block: u64,
}

impl Ctx {
    /// Input element `i` of rank `r`, as the host holds it.
    fn inp(&self, r: u32, i: u64) -> f32 {
        round_to(self.dtype, value(self.op, self.n, r, i))
    }

    /// Element `i` of the reduction over every rank.
    fn reduced(&self, i: u64) -> f32 {
        reduced(self.dtype, self.op, self.n, i)
    }

    /// The rank this one receives from in a ring.
    fn prev(&self) -> u32 {
        (self.rank + self.n - 1) % self.n
    }
}

/// Every collective a sweep measures; a new one is a row here and a two-line bench.
pub const COLLECTIVES: [Collective; 7] = [
    Collective {
        name: "all_reduce",
        reduces: true,
        rooted: false,
        blocked: false,
        input: Len::Count,
        output: None,
        busbw: |n| 2.0 * (n - 1.0) / n,
        call: |b, c| dist::all_reduce(&mut b.input, c.op),
        expected: |c, i| c.reduced(i),
    },
    Collective {
        name: "broadcast",
        reduces: false,
        rooted: true,
        blocked: false,
        input: Len::Count,
        output: None,
        busbw: |_| 1.0,
        call: |b, _| dist::broadcast(&mut b.input, 0),
        expected: |c, i| c.inp(0, i),
    },
    Collective {
        name: "reduce",
        reduces: true,
        rooted: true,
        blocked: false,
        input: Len::Count,
        output: None,
        busbw: |_| 1.0,
        call: |b, c| dist::reduce(&mut b.input, 0, c.op),
        // Only the root's buffer changes.
        expected: |c, i| {
            if c.rank == 0 {
                c.reduced(i)
            } else {
                c.inp(c.rank, i)
            }
        },
    },
    Collective {
        name: "all_gather",
        reduces: false,
        rooted: false,
        blocked: true,
        input: Len::Block,
        output: Some(Len::Count),
        busbw: |n| (n - 1.0) / n,
        call: |b, _| {
            let (input, out) = b.split()?;
            dist::all_gather_into_tensor(out, input)
        },
        expected: |c, i| c.inp((i / c.block) as u32, i % c.block),
    },
    Collective {
        name: "reduce_scatter",
        reduces: true,
        rooted: false,
        blocked: true,
        input: Len::Count,
        output: Some(Len::Block),
        busbw: |n| (n - 1.0) / n,
        call: |b, c| {
            let (input, out) = b.split()?;
            dist::reduce_scatter_tensor(out, input, c.op)
        },
        expected: |c, i| c.reduced(u64::from(c.rank) * c.block + i),
    },
    Collective {
        name: "all_to_all",
        reduces: false,
        rooted: false,
        blocked: true,
        input: Len::Count,
        output: Some(Len::Count),
        busbw: |n| (n - 1.0) / n,
        call: |b, _| {
            let (input, out) = b.split()?;
            dist::all_to_all_single(out, input)
        },
        // Block j of my output is block `rank` of rank j's input.
        expected: |c, i| {
            c.inp(
                (i / c.block) as u32,
                u64::from(c.rank) * c.block + i % c.block,
            )
        },
    },
    Collective {
        name: "sendrecv",
        reduces: false,
        rooted: false,
        blocked: false,
        input: Len::Count,
        output: Some(Len::Count),
        busbw: |_| 1.0,
        call: |b, c| {
            let (input, out) = b.split()?;
            ring_exchange(input, out, c.rank, c.n)
        },
        expected: |c, i| c.inp(c.prev(), i),
    },
];

/// The row of [`COLLECTIVES`] named `name`.
pub fn collective(name: &str) -> Result<&'static Collective, Error> {
    COLLECTIVES
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| Error::new(ErrorKind::Unsupported, format!("no collective {name}")))
}

impl Len {
    fn of(self, count: u64, n: u32) -> u64 {
        match self {
            Len::Count => count,
            Len::Block => count / u64::from(n),
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
    corrupt_rank: Option<u32>,
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
            corrupt_rank: None,
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
                Long("corrupt-rank") => s.corrupt_rank = Some(argv.value()?),
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
#[derive(Debug)]
pub struct Buffers {
    input: Tensor,
    output: Option<Tensor>,
}

impl Buffers {
    /// The input, and the output buffer of a collective that has one.
    fn split(&mut self) -> Result<(&Tensor, &mut Tensor), Error> {
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
    let busbw_factor = (coll.busbw)(f64::from(n));
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
        let bytes = count * sweep.dtype.itemsize() as u64;
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
                nccl_type(sweep.dtype),
                op.map_or("none", op_name),
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
fn elements(coll: &Collective, size: u64, dtype: DType, n: u32) -> u64 {
    let items = (size / dtype.itemsize() as u64).max(1);
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

/// Send `input` to the next rank and receive the previous rank's, with blocking calls: even
/// ranks send first and odd ranks receive first, so every send meets its recv.
fn ring_exchange(input: &Tensor, incoming: &mut Tensor, rank: u32, n: u32) -> Result<(), Error> {
    if n == 1 {
        // The ring is this rank alone: what it sends is what it receives.
        return incoming.copy_(input);
    }
    let (next, prev) = ((rank + 1) % n, (rank + n - 1) % n);
    if rank.is_multiple_of(2) {
        dist::send(input, next)?;
        dist::recv(incoming, prev)
    } else {
        dist::recv(incoming, prev)?;
        dist::send(input, next)
    }
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
