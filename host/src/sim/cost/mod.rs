//! The cost model: how many simulated nanoseconds a transfer, a collective or a local op
//! takes on a [`Topology`]. Pure integer results, so reports are reproducible and tests can
//! compare against closed forms.
//!
//! # Units and rounding
//! Times are integer nanoseconds. A bandwidth in GB/s is bytes per ns, a throughput in
//! GFLOP/s is flops per ns. Every division of an amount by a rate is rounded **up**, and is
//! exact: an f64 rate is exactly `mant · 2^exp` (integer `mant`), so `ceil(x / rate)` is
//! computed as `ceil(x · div / (mant · 2^exp))` in integer arithmetic (`div` is the PE count
//! when a cube's HBM bandwidth is shared, else 1); no float rounding ever enters a time.
//! Results saturate at `u64::MAX` instead of overflowing.
//!
//! # Transfers
//! `transfer(link, b, chunk) = chunks · α + ceil(b / β)` where
//! `chunks = max(1, ceil(b / chunk))` (`chunk = None`: one chunk), `α` is the link's
//! `latency_ns` (plus `io_cpu.transfer_overhead_ns` for `InterSip`) and `β` its
//! `bandwidth_gbytes_per_s`. A zero-byte transfer costs `α`: the message still goes.
//!
//! # Collectives
//! `N` ranks, one per SIP, so rank-to-rank traffic is `InterSip`. `S` is the per-rank message
//! size as nccl-tests defines it: all_reduce, broadcast, reduce, all_to_all, send/recv: the
//! tensor's bytes; all_gather: the OUTPUT bytes; reduce_scatter: the INPUT bytes. `k ≥ 1` is
//! the number of distinct cubes the rank's tensor occupies, `L = ceil(log2 N)`, and every
//! transfer uses the collective's `chunk_bytes`. `N ≤ 1` costs 0 for every collective.
//!
//! - flat step of `b` bytes (ring, tree): each cube's part goes through the IO_CPU as its own
//!   transfer, one after another: `F(b) = k · transfer(InterSip, ceil(b / k))`.
//! - intercube: the k cube parts are first combined at the IO_CPU's cube, then the ring
//!   schedule runs with ONE transfer per step, `T(b) = transfer(InterSip, b)`, then results go
//!   back: `I = 2 · transfer(InterCube, ceil(S / k))` when `k > 1`, else 0.
//!
//! | collective | ring | tree | intercube |
//! |---|---|---|---|
//! | all_reduce | `2(N−1) · F(ceil(S/N))` | `L · F(S)` (recursive doubling) | `I + 2(N−1) · T(ceil(S/N))` |
//! | reduce_scatter, all_gather | `(N−1) · F(ceil(S/N))` | `Σ_{i=0}^{L−1} F(ceil(S / 2^(i+1)))` | `I + (N−1) · T(ceil(S/N))` |
//! | broadcast, reduce | `(N−1 + P−1) · F(ceil(S/P))` | `L · F(S)` (binomial tree) | `I + (N−1 + P−1) · T(ceil(S/P))` |
//! | all_to_all | `(N−1) · F(ceil(S/N))` | same as ring | `I + (N−1) · T(ceil(S/N))` |
//! | barrier | `2(N−1) · α_InterSip` | `L · α_InterSip` | same as tree |
//! | send/recv | `F(S)` | `F(S)` | `F(S)` |
//!
//! Broadcast and reduce pipeline the message along a chain in `P = max(1, ceil(S / c))`
//! pieces, `c = chunk_bytes` or [`DEFAULT_PIPELINE_CHUNK_BYTES`] when none is set. A barrier
//! moves zero bytes with `k = 1`. When a config names no algorithm, [`DEFAULT_ALGORITHM`]
//! (ring) applies to every collective.
//!
//! Bandwidth figures follow nccl-tests: `algbw = S / time` (GB/s = bytes/ns) and
//! `busbw = algbw · factor` with factor `2(N−1)/N` for all_reduce, `(N−1)/N` for
//! reduce_scatter, all_gather and all_to_all, and 1 for broadcast, reduce and send/recv.
//!
//! # Local ops
//! A rank's op runs on its own SIP; shards work in parallel, so an op costs the max over its
//! shards. A shard is served by its PE's share of its cube's HBM bandwidth,
//! `H = hbm_gbytes_per_s_per_cube / pes_per_cube`. A shard of `e = rows · cols` elements:
//!
//! - elementwise: `max(ceil(f · e / vector_gflops), ceil(m · e · itemsize / H))` with
//!   `(m, f)` = (3, 1) for a binary op (2 reads, 1 write, one flop per element), (2, 1) for
//!   scale, (1, 0) for a fill at creation;
//! - matmul `(M×K)·(K×N)`, per result shard of `r × c`:
//!   `max(ceil(2·r·c·K / matmul_gflops), ceil((r·K + K·c + r·c) · itemsize / H))`;
//! - copy of `b` bytes to another SIP: `F(b)` (k transfers over `InterSip`, no chunking);
//!   within one SIP: `transfer(InterCube, b)`.

use super::ccl::{Algorithm, CollectiveKind};
use super::topology::{LinkSpec, Topology};
use serde::Serialize;

mod bandwidth;
mod local;
mod rate;
mod shards;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

pub use bandwidth::algbw_gbytes_per_s;
pub use shards::{ceil_log2, distinct_cubes};

use rate::Rate;

/// The algorithm of every collective whose CCL settings name none.
pub const DEFAULT_ALGORITHM: Algorithm = Algorithm::Ring;

/// Pipeline chunk of broadcast and reduce when `chunk_bytes` is not set: 1 MiB.
pub const DEFAULT_PIPELINE_CHUNK_BYTES: u64 = 1 << 20;

/// The link classes of the alpha-beta model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkClass {
    /// Within one PE's memory.
    PeLocal,
    /// Between PEs of one cube.
    IntraCube,
    /// Between cubes of one SIP.
    InterCube,
    /// Between SIPs, through the IO_CPUs (pays the IO_CPU overhead on top of the latency).
    InterSip,
}

/// A collective's modelled time with the schedule behind it, for reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CollectiveCost {
    /// Total time.
    pub total_ns: u64,
    /// Inter-SIP steps of the schedule (0 for `N ≤ 1`).
    pub steps: u64,
    /// Bytes one rank moves in its largest inter-SIP step.
    pub bytes_per_step: u64,
    /// Time of the intercube algorithm's two intra-SIP phases (0 for the others).
    pub intra_ns: u64,
}

/// One link class's exact parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Link {
    alpha_ns: u64,
    beta: Rate,
}

impl Link {
    fn new(spec: &LinkSpec, overhead_ns: u64) -> Link {
        Link {
            alpha_ns: spec.latency_ns.saturating_add(overhead_ns),
            beta: Rate::new(spec.bandwidth_gbytes_per_s, 1),
        }
    }
}

/// The cost model of one topology. See the module doc for every formula.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CostModel {
    pe_local: Link,
    intra_cube: Link,
    inter_cube: Link,
    inter_sip: Link,
    pe_hbm: Rate,
    vector: Rate,
    matmul: Rate,
}

impl CostModel {
    /// The model of `topology`.
    pub fn new(topology: &Topology) -> Self {
        let spec = topology.spec();
        let links = &spec.links;
        CostModel {
            pe_local: Link::new(&links.pe_local, 0),
            intra_cube: Link::new(&links.intra_cube, 0),
            inter_cube: Link::new(&links.inter_cube, 0),
            inter_sip: Link::new(&links.inter_sip, spec.io_cpu.transfer_overhead_ns),
            pe_hbm: Rate::new(
                spec.system.hbm_gbytes_per_s_per_cube,
                u64::from(spec.system.pes_per_cube),
            ),
            vector: Rate::new(spec.pe.vector_gflops, 1),
            matmul: Rate::new(spec.pe.matmul_gflops, 1),
        }
    }

    fn link(&self, class: LinkClass) -> Link {
        match class {
            LinkClass::PeLocal => self.pe_local,
            LinkClass::IntraCube => self.intra_cube,
            LinkClass::InterCube => self.inter_cube,
            LinkClass::InterSip => self.inter_sip,
        }
    }

    /// The fixed cost `α` of one transfer (one chunk) on `class`.
    pub fn alpha_ns(&self, class: LinkClass) -> u64 {
        self.link(class).alpha_ns
    }

    /// `chunks · α + ceil(bytes / β)`, `chunks = max(1, ceil(bytes / chunk_bytes))`;
    /// `None` (or 0) means one chunk.
    pub fn transfer_ns(&self, class: LinkClass, bytes: u64, chunk_bytes: Option<u64>) -> u64 {
        let link = self.link(class);
        let chunks = match chunk_bytes {
            Some(c) if c > 0 => bytes.div_ceil(c).max(1),
            _ => 1,
        };
        chunks
            .saturating_mul(link.alpha_ns)
            .saturating_add(link.beta.ns(u128::from(bytes)))
    }

    /// A flat step: `k · transfer(InterSip, ceil(bytes / k))`.
    fn flat_ns(&self, bytes: u64, k: u64, chunk_bytes: Option<u64>) -> u64 {
        k.saturating_mul(self.transfer_ns(LinkClass::InterSip, bytes.div_ceil(k), chunk_bytes))
    }

    /// Time of `kind` over `n` ranks with `algorithm`; see [`collective_cost`](Self::collective_cost).
    pub fn collective_ns(
        &self,
        kind: CollectiveKind,
        algorithm: Algorithm,
        n: u32,
        bytes: u64,
        cubes: u32,
        chunk_bytes: Option<u64>,
    ) -> u64 {
        self.collective_cost(kind, algorithm, n, bytes, cubes, chunk_bytes)
            .total_ns
    }

    /// Cost and schedule of `kind` over `n` ranks: `bytes` is nccl-tests' per-rank size `S`,
    /// `cubes` is `k` (0 is taken as 1), `chunk_bytes` the collective's CCL chunk setting.
    pub fn collective_cost(
        &self,
        kind: CollectiveKind,
        algorithm: Algorithm,
        n: u32,
        bytes: u64,
        cubes: u32,
        chunk_bytes: Option<u64>,
    ) -> CollectiveCost {
        if n <= 1 {
            return CollectiveCost::default();
        }
        let s = bytes;
        let k = u64::from(cubes.max(1));
        let nn = u64::from(n);
        let l = u64::from(ceil_log2(n));
        let flat = |b: u64| self.flat_ns(b, k, chunk_bytes);
        let one = |b: u64| self.transfer_ns(LinkClass::InterSip, b, chunk_bytes);
        let intra = if k > 1 {
            2u64.saturating_mul(self.transfer_ns(LinkClass::InterCube, s.div_ceil(k), chunk_bytes))
        } else {
            0
        };
        // `steps` equal steps of `b` bytes costing `per_step` each, after `intra_ns`.
        let uniform = |steps: u64, b: u64, per_step: u64, intra_ns: u64| CollectiveCost {
            total_ns: steps.saturating_mul(per_step).saturating_add(intra_ns),
            steps,
            bytes_per_step: b,
            intra_ns,
        };
        let pipeline = || {
            let c = chunk_bytes
                .filter(|&c| c > 0)
                .unwrap_or(DEFAULT_PIPELINE_CHUNK_BYTES);
            let p = s.div_ceil(c).max(1);
            ((nn - 1).saturating_add(p - 1), s.div_ceil(p))
        };
        let per_n = s.div_ceil(nn);
        match (kind, algorithm) {
            (CollectiveKind::AllReduce, Algorithm::Ring) => {
                uniform(2 * (nn - 1), per_n, flat(per_n), 0)
            }
            (CollectiveKind::AllReduce, Algorithm::Tree) => uniform(l, s, flat(s), 0),
            (CollectiveKind::AllReduce, Algorithm::Intercube) => {
                uniform(2 * (nn - 1), per_n, one(per_n), intra)
            }
            (CollectiveKind::ReduceScatter | CollectiveKind::AllGather, Algorithm::Ring)
            | (CollectiveKind::AllToAll, Algorithm::Ring | Algorithm::Tree) => {
                uniform(nn - 1, per_n, flat(per_n), 0)
            }
            (CollectiveKind::ReduceScatter | CollectiveKind::AllGather, Algorithm::Tree) => {
                let total = (0..l).fold(0u64, |acc, i| {
                    acc.saturating_add(flat(s.div_ceil(1u64 << (i + 1))))
                });
                CollectiveCost {
                    total_ns: total,
                    steps: l,
                    bytes_per_step: s.div_ceil(2),
                    intra_ns: 0,
                }
            }
            (
                CollectiveKind::ReduceScatter
                | CollectiveKind::AllGather
                | CollectiveKind::AllToAll,
                Algorithm::Intercube,
            ) => uniform(nn - 1, per_n, one(per_n), intra),
            (CollectiveKind::Broadcast | CollectiveKind::Reduce, Algorithm::Ring) => {
                let (steps, b) = pipeline();
                uniform(steps, b, flat(b), 0)
            }
            (CollectiveKind::Broadcast | CollectiveKind::Reduce, Algorithm::Tree) => {
                uniform(l, s, flat(s), 0)
            }
            (CollectiveKind::Broadcast | CollectiveKind::Reduce, Algorithm::Intercube) => {
                let (steps, b) = pipeline();
                uniform(steps, b, one(b), intra)
            }
            (CollectiveKind::Barrier, Algorithm::Ring) => {
                uniform(2 * (nn - 1), 0, self.inter_sip.alpha_ns, 0)
            }
            (CollectiveKind::Barrier, Algorithm::Tree | Algorithm::Intercube) => {
                uniform(l, 0, self.inter_sip.alpha_ns, 0)
            }
            (CollectiveKind::SendRecv, _) => uniform(1, s, flat(s), 0),
        }
    }
}
