//! The sweep's settings from the bench's arguments (nccl-tests' flags, unknown or
//! contradictory ones refused); the names nccl-tests prints for types and reduce ops are the
//! shared vocabulary's (`DType::nccl_name`, `ReduceOp::name`).

use kernbench::args::{self, Args, Long, Short};
use kernbench::torch::{DType, ReduceOp};
use kernbench::{Error, ErrorKind};

/// Sweep settings, from the bench's arguments.
#[derive(Debug, Clone)]
pub(super) struct Sweep {
    pub(super) min_bytes: u64,
    pub(super) max_bytes: u64,
    pub(super) factor: u64,
    pub(super) iters: u64,
    pub(super) warmup: u64,
    pub(super) check_max: u64,
    pub(super) op: ReduceOp,
    pub(super) dtype: DType,
    pub(super) corrupt_rank: Option<u32>,
}

fn parse_op(name: &str) -> Result<ReduceOp, Error> {
    ReduceOp::ALL
        .into_iter()
        .find(|op| op.name() == name)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("-o {name}: use sum, avg, prod, min or max"),
            )
        })
}

/// nccl-tests' `-d` names, and the report's and PyTorch's spellings too.
fn parse_dtype(name: &str) -> Result<DType, Error> {
    let alias = match name {
        "int" => Some(DType::I32),
        _ => None,
    };
    alias
        .or_else(|| {
            DType::ALL
                .into_iter()
                .filter(|d| *d != DType::Bool)
                .find(|d| [d.nccl_name(), d.name(), d.torch_name()].contains(&name))
        })
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!("-d {name}: use float, bfloat16, half, int32, int8, double or int64"),
            )
        })
}

impl Sweep {
    /// nccl-tests' flags (short and long names); anything else is an error.
    pub(super) fn from_args() -> Result<Sweep, Error> {
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
