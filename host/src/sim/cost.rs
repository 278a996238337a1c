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
use super::placement::ShardSpec;
use super::topology::{LinkSpec, Topology};
use serde::Serialize;
use std::collections::BTreeSet;

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

/// An exact rate of `mant · 2^exp / div` units per nanosecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rate {
    mant: u64,
    exp: i32,
    div: u64,
}

impl Rate {
    /// `value / div` units per ns, exactly. A non-positive or non-finite value (which a
    /// validated topology never holds) gives a zero rate: every amount takes `u64::MAX` ns.
    fn new(value: f64, div: u64) -> Rate {
        if !(value.is_finite() && value > 0.0) || div == 0 {
            return Rate {
                mant: 0,
                exp: 0,
                div: 1,
            };
        }
        let bits = value.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let fraction = bits & ((1u64 << 52) - 1);
        let (mut mant, mut exp) = if biased == 0 {
            (fraction, -1074)
        } else {
            (fraction | (1u64 << 52), biased - 1075)
        };
        let zeros = mant.trailing_zeros();
        mant >>= zeros;
        exp += zeros as i32;
        Rate { mant, exp, div }
    }

    /// `ceil(amount / rate)` ns, saturating.
    fn ns(self, amount: u128) -> u64 {
        if self.mant == 0 {
            return if amount == 0 { 0 } else { u64::MAX };
        }
        ceil_div_pow2(
            amount.saturating_mul(u128::from(self.div)),
            self.mant,
            self.exp,
        )
    }
}

/// `ceil(n / (d · 2^e))` for `d ≥ 1`, saturating at `u64::MAX`.
fn ceil_div_pow2(n: u128, d: u64, e: i32) -> u64 {
    let saturate = |q: u128| u64::try_from(q).unwrap_or(u64::MAX);
    if n == 0 {
        return 0;
    }
    let d = u128::from(d);
    if e >= 0 {
        let e = e.unsigned_abs();
        if e >= 128 || d.leading_zeros() < e {
            return 1; // the divisor is at least 2^128 > n >= 1
        }
        return saturate(n.div_ceil(d << e));
    }
    let s = e.unsigned_abs();
    if s < 128 && n.leading_zeros() >= s {
        return saturate((n << s).div_ceil(d));
    }
    // ceil(n · 2^s / d) by binary long division, stopping once past u64::MAX.
    let (mut q, mut r) = (n / d, n % d);
    for _ in 0..s {
        if q > u128::from(u64::MAX) {
            return u64::MAX;
        }
        q *= 2;
        r *= 2; // r < d < 2^64, no overflow
        if r >= d {
            r -= d;
            q += 1;
        }
    }
    saturate(q + u128::from(r != 0))
}

/// `ceil(log2 n)`; 0 for `n ≤ 1`.
pub fn ceil_log2(n: u32) -> u32 {
    if n <= 1 {
        0
    } else {
        u32::BITS - (n - 1).leading_zeros()
    }
}

/// Number of distinct cubes holding `shards`, at least 1 (the `k` of the model).
pub fn distinct_cubes(shards: &[ShardSpec]) -> u32 {
    let cubes: BTreeSet<(u32, u32)> = shards.iter().map(|s| (s.sip, s.cube)).collect();
    u32::try_from(cubes.len()).unwrap_or(u32::MAX).max(1)
}

/// The nccl-tests bus-bandwidth factor of a collective over `n` ranks (0 for `n = 0`;
/// barrier moves no data and gets 1).
pub fn busbw_factor(kind: CollectiveKind, n: u32) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let n = f64::from(n);
    match kind {
        CollectiveKind::AllReduce => 2.0 * (n - 1.0) / n,
        CollectiveKind::ReduceScatter | CollectiveKind::AllGather | CollectiveKind::AllToAll => {
            (n - 1.0) / n
        }
        CollectiveKind::Broadcast
        | CollectiveKind::Reduce
        | CollectiveKind::SendRecv
        | CollectiveKind::Barrier => 1.0,
    }
}

/// nccl-tests' algorithm bandwidth `S / time` in GB/s (bytes per ns); 0 when no time passed
/// (e.g. a collective over one rank), where the figure has no meaning.
pub fn algbw_gbytes_per_s(bytes: u64, time_ns: u64) -> f64 {
    if time_ns == 0 {
        0.0
    } else {
        bytes as f64 / time_ns as f64
    }
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

    /// Time of an elementwise op over `shards` of `itemsize`-byte elements that moves
    /// `bytes_factor` bytes of HBM and does `flops_per_elem` flops per element: the max over
    /// shards of `max(ceil(flops / vector_gflops), ceil(bytes_moved / H))`.
    pub fn elementwise_ns(
        &self,
        shards: &[ShardSpec],
        itemsize: u64,
        bytes_factor: u64,
        flops_per_elem: u64,
    ) -> u64 {
        shards
            .iter()
            .map(|s| {
                let elems = u128::from(s.rows.len()) * u128::from(s.cols.len());
                let flops = elems.saturating_mul(u128::from(flops_per_elem));
                let moved = elems
                    .saturating_mul(u128::from(itemsize))
                    .saturating_mul(u128::from(bytes_factor));
                self.vector.ns(flops).max(self.pe_hbm.ns(moved))
            })
            .max()
            .unwrap_or(0)
    }

    /// A binary op (add, mul): 2 reads and 1 write per element, one flop.
    pub fn binary_op_ns(&self, shards: &[ShardSpec], itemsize: u64) -> u64 {
        self.elementwise_ns(shards, itemsize, 3, 1)
    }

    /// Scale by a scalar: 1 read and 1 write per element, one flop.
    pub fn scale_ns(&self, shards: &[ShardSpec], itemsize: u64) -> u64 {
        self.elementwise_ns(shards, itemsize, 2, 1)
    }

    /// Filling a new tensor: 1 write per element, no flop.
    pub fn fill_ns(&self, shards: &[ShardSpec], itemsize: u64) -> u64 {
        self.elementwise_ns(shards, itemsize, 1, 0)
    }

    /// Matmul with inner dimension `k` whose result is placed in `result_shards`: the max
    /// over result shards `r × c` of
    /// `max(ceil(2·r·c·k / matmul_gflops), ceil((r·k + k·c + r·c) · itemsize / H))`.
    pub fn matmul_ns(&self, result_shards: &[ShardSpec], k: u64, itemsize: u64) -> u64 {
        let k = u128::from(k);
        result_shards
            .iter()
            .map(|s| {
                let (r, c) = (u128::from(s.rows.len()), u128::from(s.cols.len()));
                let flops = (2 * r * c).saturating_mul(k);
                let elems = r
                    .saturating_mul(k)
                    .saturating_add(k.saturating_mul(c))
                    .saturating_add(r * c);
                let bytes = elems.saturating_mul(u128::from(itemsize));
                self.matmul.ns(flops).max(self.pe_hbm.ns(bytes))
            })
            .max()
            .unwrap_or(0)
    }

    /// Copying a tensor of `bytes` held in `cubes` cubes from SIP `src_sip` to `dst_sip`:
    /// `k · transfer(InterSip, ceil(bytes / k))` between SIPs, `transfer(InterCube, bytes)`
    /// within one SIP; never chunked.
    pub fn copy_ns(&self, bytes: u64, cubes: u32, src_sip: u32, dst_sip: u32) -> u64 {
        if src_sip == dst_sip {
            self.transfer_ns(LinkClass::InterCube, bytes, None)
        } else {
            self.flat_ns(bytes, u64::from(cubes.max(1)), None)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::sim::placement::Span;
    use crate::sim::topology::TopologySpec;

    use Algorithm::{Intercube, Ring, Tree};
    use CollectiveKind::{
        AllGather, AllReduce, AllToAll, Barrier, Broadcast, Reduce, ReduceScatter, SendRecv,
    };

    const MIB: u64 = 1 << 20;

    fn model() -> CostModel {
        CostModel::new(&Topology::embedded_default())
    }

    fn shard(cube: u32, pe: u32, rows: u64, cols: u64, itemsize: u64) -> ShardSpec {
        ShardSpec {
            sip: 0,
            cube,
            pe,
            rows: Span {
                start: 0,
                end: rows,
            },
            cols: Span {
                start: 0,
                end: cols,
            },
            bytes: rows * cols * itemsize,
        }
    }

    #[test]
    fn exact_rates_round_up() {
        // 50 GB/s = 25 · 2^1; 1 MiB / 50 = 20971.52 -> 20972.
        assert_eq!(
            Rate::new(50.0, 1),
            Rate {
                mant: 25,
                exp: 1,
                div: 1
            }
        );
        assert_eq!(Rate::new(50.0, 1).ns(1_048_576), 20_972);
        assert_eq!(Rate::new(50.0, 1).ns(100), 2);
        assert_eq!(Rate::new(50.0, 1).ns(101), 3);
        // 0.1 is not 1/10 in binary: 10 bytes at "0.1 B/ns" takes ceil(10 / 0.1000000000000000055...) = 100.
        assert_eq!(Rate::new(0.1, 1).ns(10), 100);
        // 800 GB/s shared by 8 PEs = 100 B/ns per PE.
        assert_eq!(Rate::new(800.0, 8).ns(1000), 10);
        assert_eq!(Rate::new(800.0, 8).ns(1001), 11);
        // Tiny and huge rates stay exact or saturate instead of overflowing.
        assert_eq!(Rate::new(f64::MIN_POSITIVE, 1).ns(1), u64::MAX);
        assert_eq!(Rate::new(f64::MAX, 1).ns(u128::from(u64::MAX)), 1);
        assert_eq!(Rate::new(2f64.powi(-70), 1).ns(1), u64::MAX); // 2^70 ns
        assert_eq!(Rate::new(2f64.powi(-40), 1).ns(3), 3 << 40);
        assert_eq!(Rate::new(1.0, 1).ns(0), 0);
        assert_eq!(ceil_div_pow2(3, 1, -62), 3 << 62);
        assert_eq!(ceil_div_pow2(3, 3, -64), u64::MAX); // 2^64 does not fit
    }

    #[test]
    fn transfers_pay_alpha_per_chunk_plus_bytes_over_beta() {
        let m = model();
        // InterSip: α = 2000 + 1000 (IO_CPU) = 3000, β = 50: 3000 + ceil(1048576 / 50) = 3000 + 20972.
        assert_eq!(m.transfer_ns(LinkClass::InterSip, MIB, None), 23_972);
        // 4 chunks of 256 KiB: 4 × 3000 + 20972 = 32972.
        assert_eq!(
            m.transfer_ns(LinkClass::InterSip, MIB, Some(MIB / 4)),
            32_972
        );
        // chunk 300000 B: ceil(1048576 / 300000) = 4 chunks, same as above.
        assert_eq!(
            m.transfer_ns(LinkClass::InterSip, MIB, Some(300_000)),
            32_972
        );
        // Zero bytes still send one message: α.
        assert_eq!(m.transfer_ns(LinkClass::InterSip, 0, Some(1024)), 3000);
        // InterCube: 500 + ceil(1000 / 100) = 510; IntraCube: 100 + ceil(1000 / 200) = 105;
        // PeLocal: 10 + ceil(1000 / 400) = 13.
        assert_eq!(m.transfer_ns(LinkClass::InterCube, 1000, None), 510);
        assert_eq!(m.transfer_ns(LinkClass::IntraCube, 1000, None), 105);
        assert_eq!(m.transfer_ns(LinkClass::PeLocal, 1000, None), 13);
        assert_eq!(m.alpha_ns(LinkClass::InterSip), 3000);
    }

    #[test]
    fn all_reduce_ring() {
        let m = model();
        // N=8, S=8 MiB, k=1: 2(N-1)=14 steps × (3000 + ceil(1048576/50)) = 14 × 23972 = 335608 ns
        assert_eq!(
            m.collective_ns(AllReduce, Ring, 8, 8 * MIB, 1, None),
            335_608
        );
        // k=4: each step is 4 × transfer(ceil(1048576/4) = 262144) = 4 × (3000 + ceil(262144/50) = 5243)
        //      = 4 × 8243 = 32972; 14 × 32972 = 461608 ns
        assert_eq!(
            m.collective_ns(AllReduce, Ring, 8, 8 * MIB, 4, None),
            461_608
        );
        // chunk 256 KiB, k=1: per step 4 chunks: 4 × 3000 + 20972 = 32972; 14 × 32972 = 461608 ns
        assert_eq!(
            m.collective_ns(AllReduce, Ring, 8, 8 * MIB, 1, Some(MIB / 4)),
            461_608
        );
        // N=3, S=1000: b = ceil(1000/3) = 334; 4 steps × (3000 + ceil(334/50) = 7) = 4 × 3007 = 12028
        assert_eq!(m.collective_ns(AllReduce, Ring, 3, 1000, 1, None), 12_028);
        let c = m.collective_cost(AllReduce, Ring, 8, 8 * MIB, 1, None);
        assert_eq!(
            c,
            CollectiveCost {
                total_ns: 335_608,
                steps: 14,
                bytes_per_step: MIB,
                intra_ns: 0
            }
        );
    }

    #[test]
    fn all_reduce_tree_uses_ceil_log2() {
        let m = model();
        // N=8: L=3 steps of S = 8 MiB: 3 × (3000 + ceil(8388608/50) = 167773) = 3 × 170773 = 512319
        assert_eq!(
            m.collective_ns(AllReduce, Tree, 8, 8 * MIB, 1, None),
            512_319
        );
        // N=6 (not a power of two): L = ceil(log2 6) = 3, same as N=8.
        assert_eq!(
            m.collective_ns(AllReduce, Tree, 6, 8 * MIB, 1, None),
            512_319
        );
        // N=5, k=2, S=1001: L=3 steps × 2 × (3000 + ceil(501/50) = 11) = 3 × 6022 = 18066
        assert_eq!(m.collective_ns(AllReduce, Tree, 5, 1001, 2, None), 18_066);
        assert_eq!(
            (
                ceil_log2(1),
                ceil_log2(2),
                ceil_log2(3),
                ceil_log2(8),
                ceil_log2(9)
            ),
            (0, 1, 2, 3, 4)
        );
    }

    #[test]
    fn all_reduce_intercube() {
        let m = model();
        // N=8, S=8 MiB, k=4: intra I = 2 × transfer(InterCube, 2 MiB) = 2 × (500 + ceil(2097152/100) = 20972)
        //   = 2 × 21472 = 42944; ring 14 × (3000 + 20972) = 335608; total 378552 ns
        let c = m.collective_cost(AllReduce, Intercube, 8, 8 * MIB, 4, None);
        assert_eq!(
            c,
            CollectiveCost {
                total_ns: 378_552,
                steps: 14,
                bytes_per_step: MIB,
                intra_ns: 42_944
            }
        );
        // k=1: no intra phases, same as ring with k=1: 335608
        assert_eq!(
            m.collective_ns(AllReduce, Intercube, 8, 8 * MIB, 1, None),
            335_608
        );
    }

    #[test]
    fn reduce_scatter_and_all_gather() {
        let m = model();
        for kind in [ReduceScatter, AllGather] {
            // ring, N=8, S=8 MiB: 7 × 23972 = 167804
            assert_eq!(m.collective_ns(kind, Ring, 8, 8 * MIB, 1, None), 167_804);
            // tree, N=8: Σ_{i=0..2} (3000 + ceil(S/2^(i+1)/50)):
            //   S/2 = 4194304 -> 83887; S/4 = 2097152 -> 41944; S/8 = 1048576 -> 20972
            //   = 86887 + 44944 + 23972 = 155803
            let c = m.collective_cost(kind, Tree, 8, 8 * MIB, 1, None);
            assert_eq!(
                c,
                CollectiveCost {
                    total_ns: 155_803,
                    steps: 3,
                    bytes_per_step: 4 * MIB,
                    intra_ns: 0
                }
            );
            // tree, N=3 (L=2), S=999, k=2: step 0: b=500 -> 2 × (3000 + ceil(250/50)=5) = 6010;
            //   step 1: b=ceil(999/4)=250 -> 2 × (3000 + ceil(125/50)=3) = 6006; total 12016
            assert_eq!(m.collective_ns(kind, Tree, 3, 999, 2, None), 12_016);
            // intercube, N=8, k=4: 42944 + 7 × 23972 = 42944 + 167804 = 210748
            assert_eq!(
                m.collective_ns(kind, Intercube, 8, 8 * MIB, 4, None),
                210_748
            );
        }
    }

    #[test]
    fn broadcast_and_reduce_pipeline() {
        let m = model();
        for kind in [Broadcast, Reduce] {
            // ring, N=8, S=8 MiB, default chunk 1 MiB: P=8, (7 + 7) = 14 steps × 23972 = 335608
            assert_eq!(m.collective_ns(kind, Ring, 8, 8 * MIB, 1, None), 335_608);
            // chunk 4 MiB: P=2, 8 steps × transfer(4 MiB, chunk 4 MiB) = 8 × (3000 + 83887) = 695096
            assert_eq!(
                m.collective_ns(kind, Ring, 8, 8 * MIB, 1, Some(4 * MIB)),
                695_096
            );
            // S=1000 < chunk: P=1, 7 steps × (3000 + 20) = 21140
            assert_eq!(m.collective_ns(kind, Ring, 8, 1000, 1, None), 21_140);
            // tree, N=8: 3 × (3000 + 167773) = 512319
            assert_eq!(m.collective_ns(kind, Tree, 8, 8 * MIB, 1, None), 512_319);
            // intercube, k=2: I = 2 × (500 + ceil(4194304/100) = 41944) = 84888; + 14 × 23972 = 335608
            //   -> 420496
            let c = m.collective_cost(kind, Intercube, 8, 8 * MIB, 2, None);
            assert_eq!(
                c,
                CollectiveCost {
                    total_ns: 420_496,
                    steps: 14,
                    bytes_per_step: MIB,
                    intra_ns: 84_888
                }
            );
        }
    }

    #[test]
    fn all_to_all_is_pairwise_for_every_algorithm() {
        let m = model();
        // N=8, S=8 MiB, k=1: 7 × 23972 = 167804 for ring and tree
        assert_eq!(
            m.collective_ns(AllToAll, Ring, 8, 8 * MIB, 1, None),
            167_804
        );
        assert_eq!(
            m.collective_ns(AllToAll, Tree, 8, 8 * MIB, 1, None),
            167_804
        );
        // k=4 flat: 7 × 32972 = 230804; intercube k=4: 42944 + 167804 = 210748
        assert_eq!(
            m.collective_ns(AllToAll, Tree, 8, 8 * MIB, 4, None),
            230_804
        );
        assert_eq!(
            m.collective_ns(AllToAll, Intercube, 8, 8 * MIB, 4, None),
            210_748
        );
    }

    #[test]
    fn barrier_and_send_recv() {
        let m = model();
        // ring: 2(N-1) = 14 × α 3000 = 42000; tree and intercube: L=3 × 3000 = 9000
        assert_eq!(m.collective_ns(Barrier, Ring, 8, 0, 1, None), 42_000);
        assert_eq!(m.collective_ns(Barrier, Tree, 8, 0, 1, None), 9_000);
        assert_eq!(m.collective_ns(Barrier, Intercube, 8, 0, 4, None), 9_000);
        // send/recv of 1 MiB, k=1: 23972; k=4: 4 × (3000 + 5243) = 32972, for every algorithm
        for alg in [Ring, Tree, Intercube] {
            assert_eq!(m.collective_ns(SendRecv, alg, 2, MIB, 1, None), 23_972);
            assert_eq!(m.collective_ns(SendRecv, alg, 2, MIB, 4, None), 32_972);
        }
    }

    #[test]
    fn one_rank_is_free_and_zero_bytes_cost_latency() {
        let m = model();
        for kind in [
            AllReduce,
            Broadcast,
            Reduce,
            AllGather,
            ReduceScatter,
            AllToAll,
            Barrier,
            SendRecv,
        ] {
            for alg in [Ring, Tree, Intercube] {
                assert_eq!(
                    m.collective_cost(kind, alg, 1, 8 * MIB, 4, None),
                    CollectiveCost::default()
                );
                assert_eq!(m.collective_ns(kind, alg, 0, 8 * MIB, 4, None), 0);
            }
        }
        // zero-byte ring all_reduce, N=8, k=1: 14 × α = 42000
        assert_eq!(m.collective_ns(AllReduce, Ring, 8, 0, 1, None), 42_000);
        // zero-byte broadcast: P = 1, 7 × 3000 = 21000
        assert_eq!(m.collective_ns(Broadcast, Ring, 8, 0, 1, None), 21_000);
        // zero-byte intercube all_reduce, k=2: 2 × 500 + 14 × 3000 = 43000
        assert_eq!(m.collective_ns(AllReduce, Intercube, 8, 0, 2, None), 43_000);
        // cubes = 0 is taken as 1
        assert_eq!(
            m.collective_ns(AllReduce, Ring, 8, 8 * MIB, 0, None),
            335_608
        );
    }

    #[test]
    fn bandwidth_factors_follow_nccl_tests() {
        assert_eq!(busbw_factor(AllReduce, 8), 1.75);
        assert_eq!(busbw_factor(ReduceScatter, 8), 0.875);
        assert_eq!(busbw_factor(AllGather, 4), 0.75);
        assert_eq!(busbw_factor(AllToAll, 2), 0.5);
        assert_eq!(busbw_factor(Broadcast, 8), 1.0);
        assert_eq!(busbw_factor(SendRecv, 2), 1.0);
        assert_eq!(busbw_factor(AllReduce, 1), 0.0);
        assert_eq!(busbw_factor(AllReduce, 0), 0.0);
        // 8 MiB in 335608 ns = 24.995... GB/s
        assert_eq!(
            algbw_gbytes_per_s(8 * MIB, 335_608),
            8_388_608.0 / 335_608.0
        );
        assert_eq!(algbw_gbytes_per_s(8 * MIB, 0), 0.0);
        assert_eq!(DEFAULT_ALGORITHM, Ring);
    }

    #[test]
    fn local_ops_take_the_slowest_shard() {
        let m = model();
        // H = 800 / 8 = 100 B/ns per PE; vector 512 flop/ns.
        // binary op on a 1024 x 256 f32 shard: e = 262144; flops ceil(262144/512) = 512;
        //   bytes 3 × 262144 × 4 = 3145728 -> ceil(/100) = 31458; max = 31458
        let big = shard(0, 0, 1024, 256, 4);
        let small = shard(0, 1, 10, 256, 4);
        assert_eq!(m.binary_op_ns(&[small, big], 4), 31_458);
        // scale: 2 × 1048576 / 100 = 20971.52 -> 20972
        assert_eq!(m.scale_ns(&[big], 4), 20_972);
        // fill: 1048576 / 100 -> 10486
        assert_eq!(m.fill_ns(&[big], 4), 10_486);
        // compute-bound: 100 flops per element, 1 byte moved: ceil(26214400/512) = 51200 vs
        //   ceil(1048576/100) = 10486
        assert_eq!(m.elementwise_ns(&[big], 4, 1, 100), 51_200);
        assert_eq!(m.elementwise_ns(&[], 4, 3, 1), 0);
    }

    #[test]
    fn matmul_is_compute_or_memory_bound_per_shard() {
        let m = model();
        // result shard 128 x 128, K = 4096, bf16: flops 2·128·128·4096 = 134217728 / 4096 = 32768;
        //   bytes (128·4096 + 4096·128 + 128·128) × 2 = 1064960 × 2 = 2129920 -> ceil(/100) = 21300;
        //   max = 32768
        let s = shard(1, 3, 128, 128, 2);
        assert_eq!(m.matmul_ns(&[s], 4096, 2), 32_768);
        // skinny 1 x 1, K = 1000, f32: flops 2000 / 4096 -> 1; bytes (1000 + 1000 + 1) × 4 = 8004 / 100 -> 81
        assert_eq!(m.matmul_ns(&[shard(0, 0, 1, 1, 4)], 1000, 4), 81);
        assert_eq!(m.matmul_ns(&[], 1000, 4), 0);
    }

    #[test]
    fn copies_between_and_within_sips() {
        let m = model();
        // other SIP, k=1: 3000 + 20972 = 23972; k=4: 32972
        assert_eq!(m.copy_ns(MIB, 1, 0, 3), 23_972);
        assert_eq!(m.copy_ns(MIB, 4, 0, 3), 32_972);
        // same SIP: InterCube 500 + ceil(1048576/100) = 500 + 10486 = 10986
        assert_eq!(m.copy_ns(MIB, 4, 2, 2), 10_986);
    }

    #[test]
    fn distinct_cubes_counts_cubes_not_pes() {
        let shards = [
            shard(0, 0, 1, 1, 4),
            shard(0, 1, 1, 1, 4),
            shard(2, 0, 1, 1, 4),
        ];
        assert_eq!(distinct_cubes(&shards), 2);
        assert_eq!(distinct_cubes(&[]), 1);
    }

    #[test]
    fn a_custom_topology_changes_alpha_and_beta() {
        let mut spec = TopologySpec::embedded_default();
        spec.links.inter_sip.latency_ns = 7;
        spec.links.inter_sip.bandwidth_gbytes_per_s = 3.0;
        spec.io_cpu.transfer_overhead_ns = 0;
        let m = CostModel::new(&spec.validate("test").unwrap());
        // 7 + ceil(10 / 3) = 7 + 4 = 11
        assert_eq!(m.transfer_ns(LinkClass::InterSip, 10, None), 11);
    }
}
