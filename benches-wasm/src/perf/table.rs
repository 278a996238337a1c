//! The table of collectives a sweep can measure: for each, what nccl-tests prints for it,
//! its buffers, its bus bandwidth factor, the call and the closed form of its result. A new
//! collective is one row here and a two-line bench.

use super::{Buffers, ring_exchange};
use crate::check::{reduced, round_to, value};
use kernbench::torch::{DType, ReduceOp, distributed as dist};
use kernbench::{CollectiveKind, Error, ErrorKind};

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
    /// The collective, for nccl-tests' bus bandwidth factor (the simulator's own).
    pub kind: CollectiveKind,
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
    pub(super) fn inp(&self, r: u32, i: u64) -> f32 {
        round_to(self.dtype, value(self.op, self.n, r, i))
    }

    /// Element `i` of the reduction over every rank.
    pub(super) fn reduced(&self, i: u64) -> f32 {
        reduced(self.dtype, self.op, self.n, i)
    }

    /// The rank this one receives from in a ring.
    pub(super) fn prev(&self) -> u32 {
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
        kind: CollectiveKind::AllReduce,
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
        kind: CollectiveKind::Broadcast,
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
        kind: CollectiveKind::Reduce,
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
        kind: CollectiveKind::AllGather,
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
        kind: CollectiveKind::ReduceScatter,
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
        kind: CollectiveKind::AllToAll,
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
        kind: CollectiveKind::SendRecv,
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
    pub(super) fn of(self, count: u64, n: u32) -> u64 {
        match self {
            Len::Count => count,
            Len::Block => count / u64::from(n),
        }
    }
}
