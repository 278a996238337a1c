//! The schedules of the collectives: which group member sends how many bytes to which, step
//! by step, as the textbook algorithms do. Each step becomes a stage of a [`Plan`]; the
//! formulas these plans take alone on their links are in ADR-0008 and checked against the
//! papers' closed forms by the fidelity tests (`cost/tests.rs`).
//!
//! `n` members, `S` the nccl-tests size, `B = ceil(S / n)` one block, `p = 2^floor(log2 n)`,
//! positions relative to the root where a root matters.

use super::plan::{Loads, Plan, Resource};
use super::{CostModel, DEFAULT_PIPELINE_CHUNK_BYTES, LinkClass, ceil_log2};
use crate::sim::ccl::{Algorithm, CollectiveKind};
use crate::sim::error::SimError;

/// Most work (messages and resource loads) building one plan may take, so a collective over
/// a huge group (all-to-all over 65,536 ranks, routes around a ring fabric) is refused by
/// name instead of building for minutes inside one host call and holding gigabytes.
pub const MAX_PLAN_WORK: u64 = 1 << 22;

/// What a collective is, as far as its schedule goes.
pub(super) struct Collective<'a> {
    pub kind: CollectiveKind,
    pub algorithm: Algorithm,
    pub members: &'a [u32],
    pub root: usize,
    pub bytes: u64,
    pub cubes: &'a [u32],
    pub chunk_bytes: Option<u64>,
}

/// The plan of one collective, or a named error when building it would exceed
/// [`MAX_PLAN_WORK`].
pub(super) fn plan(model: &CostModel, c: Collective<'_>) -> Result<Plan, SimError> {
    let n = c.members.len();
    let mut b = Builder::new(model, &c);
    if n <= 1 {
        return Ok(b.plan);
    }
    let s = c.bytes;
    let block = s.div_ceil(n as u64);
    let all = 0..n;
    let ring = |shift: usize| -> Vec<usize> { (0..n).map(|i| (i + shift) % n).collect() };
    use Algorithm::{DoubleBinaryTree as Dbt, Intercube, RecursiveDoubling, Ring};
    let flat = c.algorithm != Intercube;
    let rel = |i: usize| (c.root + i) % n;
    use CollectiveKind as K;
    match (c.kind, c.algorithm) {
        (K::Barrier, Ring | Dbt) => {
            b.repeat(2 * (n - 1), &pairs(&ring(1), 0), false);
        }
        (K::Barrier, RecursiveDoubling | Intercube) => {
            // Dissemination (Hensgen, Finkel and Manber 1988): ceil(log2 n) rounds.
            for i in 0..ceil_log2(n as u32) {
                b.step(&pairs(&ring(1 << i), 0), false);
            }
        }
        (K::SendRecv, _) => {
            let (src, dst) = (c.root, 1 - c.root.min(1));
            b.intra([src], s, true);
            b.step(&[(src, dst, s)], flat);
            b.intra([dst], s, false);
        }
        (K::AllReduce, Dbt) => b.two_trees(n, s),
        (K::AllReduce, Ring | Intercube) => {
            b.intra(all.clone(), s, true);
            b.repeat(2 * (n - 1), &pairs(&ring(1), block), flat);
            b.intra(all, s, false);
        }
        (K::AllGather, Ring | Dbt | Intercube) => {
            b.intra(all.clone(), block, true);
            b.repeat(n - 1, &pairs(&ring(1), block), flat);
            b.intra(all, s, false);
        }
        (K::ReduceScatter, Ring | Dbt | Intercube) => {
            b.intra(all.clone(), s, true);
            b.repeat(n - 1, &pairs(&ring(1), block), flat);
            b.intra(all, block, false);
        }
        (K::AllToAll, Ring | Dbt | Intercube) => {
            // Pairwise exchange (Thakur et al. 2005 §4.5): step k sends block i+k.
            b.intra(all.clone(), s, true);
            for k in 1..n {
                b.step(&pairs(&ring(k), block), flat);
            }
            b.intra(all, s, false);
        }
        (K::Broadcast, Ring | Dbt | Intercube) => {
            b.intra([c.root], s, true);
            b.chain(&(0..n).map(rel).collect::<Vec<_>>(), s, flat);
            b.intra((1..n).map(rel), s, false);
        }
        (K::Reduce, Ring | Dbt | Intercube) => {
            b.intra((1..n).map(rel), s, true);
            b.chain(&(1..=n).map(rel).collect::<Vec<_>>(), s, flat);
            b.intra([c.root], s, false);
        }
        (K::AllReduce, RecursiveDoubling) => {
            // Thakur et al. 2005 §4.4: the n - p extra ranks fold into the first p, p
            // exchange by recursive doubling, and the extras get the result back.
            let p = 1usize << (usize::BITS - 1 - n.leading_zeros());
            let extras: Vec<_> = (p..n).map(|i| (i, i - p, s)).collect();
            b.step(&extras, true);
            let mut d = 1;
            while d < p {
                let t: Vec<_> = (0..p).map(|i| (i, i ^ d, s)).collect();
                b.step(&t, true);
                d <<= 1;
            }
            let back: Vec<_> = (p..n).map(|i| (i - p, i, s)).collect();
            b.step(&back, true);
        }
        (K::AllGather, RecursiveDoubling) => {
            // Bruck et al. 1997 (Thakur et al. 2005 §4.2 for any n): round i sends
            // min(2^i, n - 2^i) blocks to the member 2^i below.
            let mut d = 1;
            while d < n {
                let blocks = d.min(n - d) as u64;
                b.step(&pairs(&ring(n - d), blocks.saturating_mul(block)), true);
                d <<= 1;
            }
        }
        (K::ReduceScatter, RecursiveDoubling) => {
            // Recursive halving (Thakur et al. 2005 §4.3), the extra ranks folded in first
            // and served their block last, as for all_reduce.
            let p = 1usize << (usize::BITS - 1 - n.leading_zeros());
            let extras: Vec<_> = (p..n).map(|i| (i, i - p, s)).collect();
            b.step(&extras, true);
            let mut d = p / 2;
            let mut part = s;
            while d >= 1 {
                part = part.div_ceil(2);
                let t: Vec<_> = (0..p).map(|i| (i, i ^ d, part)).collect();
                b.step(&t, true);
                d /= 2;
            }
            let back: Vec<_> = (p..n).map(|i| (i - p, i, block)).collect();
            b.step(&back, true);
        }
        (K::AllToAll, RecursiveDoubling) => {
            // Bruck et al. 1997: round i sends the blocks whose index has bit i set.
            let mut d = 1;
            while d < n {
                let blocks = (1..n).filter(|j| j & d != 0).count() as u64;
                b.step(&pairs(&ring(d), blocks.saturating_mul(block)), true);
                d <<= 1;
            }
        }
        (K::Broadcast, RecursiveDoubling) => {
            // Binomial tree (Thakur et al. 2005 §4.1): round i doubles the holders.
            let mut d = 1;
            while d < n {
                let t: Vec<_> = (0..d.min(n - d)).map(|i| (rel(i), rel(i + d), s)).collect();
                b.step(&t, true);
                d <<= 1;
            }
        }
        (K::Reduce, RecursiveDoubling) => {
            let mut d = 1usize << ceil_log2(n as u32);
            while d > 1 {
                d /= 2;
                let t: Vec<_> = (d..n.min(2 * d)).map(|i| (rel(i), rel(i - d), s)).collect();
                b.step(&t, true);
            }
        }
    }
    if b.work > MAX_PLAN_WORK {
        return Err(SimError::LimitExceeded(format!(
            "{} over {n} ranks ({}) would take more than the cost model's {MAX_PLAN_WORK} messages and link loads to plan; use fewer ranks, another algorithm, or a full-mesh fabric",
            c.kind, c.algorithm
        )));
    }
    Ok(b.plan)
}

/// Member `i` sends `bytes` to `to[i]`, for every member.
fn pairs(to: &[usize], bytes: u64) -> Vec<(usize, usize, u64)> {
    to.iter().enumerate().map(|(i, &j)| (i, j, bytes)).collect()
}

struct Builder<'a> {
    model: &'a CostModel,
    members: &'a [u32],
    chunk_bytes: Option<u64>,
    /// Whether this is `intercube` (the only algorithm with intra-SIP phases).
    hierarchical: bool,
    /// Cubes of the tensor other than the IO_CPU's: their data crosses their port.
    off: Vec<u32>,
    /// Cubes the tensor spans (`k ≥ 1`).
    k: u64,
    plan: Plan,
    /// Messages and loads visited so far; past [`MAX_PLAN_WORK`] the builder stops adding.
    work: u64,
}

impl<'a> Builder<'a> {
    fn new(model: &'a CostModel, c: &Collective<'a>) -> Self {
        let io = model.io_cube();
        let mut cubes = c.cubes.to_vec();
        cubes.sort_unstable();
        cubes.dedup();
        Builder {
            model,
            members: c.members,
            chunk_bytes: c.chunk_bytes,
            hierarchical: c.algorithm == Algorithm::Intercube,
            off: cubes.iter().copied().filter(|&j| j != io).collect(),
            k: cubes.len().max(1) as u64,
            plan: Plan::default(),
            work: 0,
        }
    }

    /// Route latency of one message: `h · α_s`, plus `2 α_c` when a flat message's data sits
    /// off the IO_CPU's cube (its port on both sides).
    fn latency(&self, from: usize, to: usize, bytes: u64, flat: bool) -> u64 {
        let hops = self.model.hops(self.members[from], self.members[to]);
        let mut ns = hops.saturating_mul(self.model.alpha_ns(LinkClass::InterSip));
        if flat && bytes > 0 && !self.off.is_empty() {
            ns = ns.saturating_add(2 * self.model.alpha_ns(LinkClass::InterCube));
        }
        ns
    }

    /// The loads of one message: `bytes` on each fabric link of its route; flat, each cube
    /// part `ceil(bytes / k)` also on its cube's port on both sides.
    fn message(&mut self, loads: &mut Loads, from: usize, to: usize, bytes: u64, flat: bool) {
        self.work += 1;
        if bytes == 0 || self.work > MAX_PLAN_WORK {
            return; // a zero-byte message pays its latency and loads no link
        }
        let (a, b) = (self.members[from], self.members[to]);
        if self.model.fabric_links_matter() {
            let hops = self.model.hops(a, b);
            self.work = self.work.saturating_add(hops);
            if self.work > MAX_PLAN_WORK {
                return;
            }
            self.model.for_each_hop(a, b, |link| loads.add(link, bytes));
        }
        if self.model.io_cpu_limited() {
            loads.add(
                Resource::IoCpu {
                    sip: a,
                    inbound: false,
                },
                bytes,
            );
            loads.add(
                Resource::IoCpu {
                    sip: b,
                    inbound: true,
                },
                bytes,
            );
        }
        if flat {
            self.work = self.work.saturating_add(2 * self.off.len() as u64);
            let part = bytes.div_ceil(self.k);
            for &cube in &self.off {
                loads.add(port(a, cube, false), part);
                loads.add(port(b, cube, true), part);
            }
        }
    }

    /// One step: every `(from, to, bytes)` at once; the step's latency is its slowest route's.
    fn step(&mut self, transfers: &[(usize, usize, u64)], flat: bool) {
        self.repeat(1, transfers, flat);
    }

    /// `times` identical steps in a row (a ring's): built once, its latency and loads
    /// multiplied, which is what merging them one by one would give.
    fn repeat(&mut self, times: usize, transfers: &[(usize, usize, u64)], flat: bool) {
        if transfers.is_empty() || times == 0 {
            return;
        }
        let mut loads = Loads::default();
        let mut latency = 0;
        for &(from, to, bytes) in transfers {
            latency = latency.max(self.latency(from, to, bytes, flat));
            self.message(&mut loads, from, to, bytes, flat);
        }
        let times = times as u64;
        let loads = loads
            .into_vec()
            .into_iter()
            .map(|(r, b)| (r, b.saturating_mul(times)))
            .collect();
        self.plan.push(latency.saturating_mul(times), loads);
    }

    /// A pipelined chain through `order` (Pješivac-Grbović et al. 2007, the segmented chain;
    /// latency overlapped, LogP-style): `S` in `P = ceil(S / c)` pieces of `c' = ceil(S / P)`;
    /// every hop pays its latency once, the pipeline fills in `n − 2` piece times, and each
    /// link carries `S`: `(n−1) α + (n−2) · t(c') + t(S)`.
    fn chain(&mut self, order: &[usize], s: u64, flat: bool) {
        let piece = self.piece(s);
        let hops: Vec<(usize, usize)> = order.windows(2).map(|w| (w[0], w[1])).collect();
        let Some(&(a, z)) = hops.first() else {
            return;
        };
        let piece_ns = self.message_ns(a, z, piece, flat);
        let mut loads = Loads::default();
        let mut latency = 0u64;
        for &(from, to) in &hops {
            latency = latency.saturating_add(self.latency(from, to, s, flat));
            self.message(&mut loads, from, to, s, flat);
        }
        let fill = (hops.len() as u64 - 1).saturating_mul(piece_ns);
        self.plan
            .push(latency.saturating_add(fill), loads.into_vec());
    }

    /// NCCL's double binary tree all-reduce (Sanders, Speck and Träff 2009): tree A is the
    /// heap on positions (children of `i`: `2i + 1`, `2i + 2`), tree B the same heap on the
    /// positions mirrored (`n − 1 − i`), so no member is interior in both. Each tree reduces
    /// half of `S` up to its root and broadcasts it back down, both pipelined in pieces, so a
    /// piece crosses `2d` hops (`d = floor(log2 n)`, the heap's depth): every hop pays `α`
    /// once, the pipeline fills in `2d − 1` piece times, and each resource carries what its
    /// messages put on it (an interior member's IO_CPU moves 4 halves: `2S`).
    fn two_trees(&mut self, n: usize, s: u64) {
        let half = s.div_ceil(2);
        let mut messages = Vec::new();
        for mirrored in [false, true] {
            let at = |i: usize| if mirrored { n - 1 - i } else { i };
            for i in 1..n {
                let (child, parent) = (at(i), at((i - 1) / 2));
                messages.push((child, parent));
                messages.push((parent, child));
            }
        }
        let depth = u64::from(usize::BITS - 1 - n.leading_zeros());
        let piece = self.piece(half);
        let (a, z) = messages[0];
        let piece_ns = self.message_ns(a, z, piece, true);
        let mut loads = Loads::default();
        let mut hop = 0u64;
        for &(from, to) in &messages {
            hop = hop.max(self.latency(from, to, half, true));
            self.message(&mut loads, from, to, half, true);
        }
        let latency = (2 * depth)
            .saturating_mul(hop)
            .saturating_add((2 * depth - 1).saturating_mul(piece_ns));
        self.plan.push(latency, loads.into_vec());
    }

    /// The pipeline piece for `bytes`: `c′ = ceil(bytes / P)`, `P = ceil(bytes / c)` pieces
    /// of at most the CCL chunk `c` (128 KiB by default).
    fn piece(&self, bytes: u64) -> u64 {
        let c = self
            .chunk_bytes
            .filter(|&c| c > 0)
            .unwrap_or(DEFAULT_PIPELINE_CHUNK_BYTES);
        bytes.div_ceil(bytes.div_ceil(c).max(1))
    }

    /// Time of one message of `bytes` alone, without its latency.
    fn message_ns(&mut self, from: usize, to: usize, bytes: u64, flat: bool) -> u64 {
        let mut one = Loads::default();
        self.message(&mut one, from, to, bytes, flat);
        one.into_vec()
            .iter()
            .map(|(r, b)| self.model.load_ns(*r, *b))
            .max()
            .unwrap_or(0)
    }

    /// An intra-SIP phase of `intercube` at each of `at`: gather moves the `bytes` held off
    /// the IO_CPU's cube to it, scatter moves them back (`ceil(bytes / k)` per cube part,
    /// through each part's port and the IO_CPU cube's port); nothing when no part is off it.
    fn intra(&mut self, at: impl IntoIterator<Item = usize>, bytes: u64, gather: bool) {
        if !self.hierarchical || self.off.is_empty() || bytes == 0 {
            return;
        }
        let io = self.model.io_cube();
        let part = bytes.div_ceil(self.k);
        let mut loads = Loads::default();
        let mut any = false;
        for i in at {
            any = true;
            let sip = self.members[i];
            for &cube in &self.off {
                loads.add(port(sip, cube, !gather), part);
            }
            loads.add(
                port(sip, io, gather),
                part.saturating_mul(self.off.len() as u64),
            );
        }
        if any {
            let latency = self.model.alpha_ns(LinkClass::InterCube);
            self.plan.push(latency, loads.into_vec());
        }
    }
}

fn port(sip: u32, cube: u32, inbound: bool) -> Resource {
    Resource::CubePort { sip, cube, inbound }
}
