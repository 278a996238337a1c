//! The cost model: how many simulated nanoseconds a transfer, a collective or a local op
//! takes on a [`Topology`]. ADR-0008 is the reference for every formula; this doc is its
//! summary.
//!
//! # Units and rounding
//! Times are integer nanoseconds. A bandwidth in GB/s is bytes per ns, a throughput in
//! GFLOP/s is flops per ns. Every division of an amount by a rate is rounded **up** and is
//! exact (`rate.rs`): no float rounding enters a time computed here. Results saturate at
//! `u64::MAX`.
//!
//! # Links and routes
//! The links are resources: each direction of an inter-SIP link (`links.inter_sip`, one per
//! pair of SIPs on a full mesh, one per neighbour on a ring fabric), each direction of each
//! cube's port onto its SIP's cube fabric (`links.inter_cube`), each cube's crossbar
//! (`links.intra_cube`) and each PE's memory (`links.pe_local`). A message from SIP `a` to
//! SIP `b` crosses the fabric links of its route (`h` hops), each hop paying
//! `α_s = inter_sip.latency_ns + io_cpu.transfer_overhead_ns`; data on a cube other than the
//! IO_CPU's (`io_cpu.cube`) also crosses that cube's port, paying `α_c` once on each side.
//! A step's latency is paid **once**, however many cubes hold the data and however many
//! chunks it moves in (the chunks stream behind the first); its bytes take
//! `max over its resources of ceil(bytes on it / bandwidth)`.
//!
//! # Collectives
//! A collective is a [`Plan`]: stages of (latency, bytes per resource), built from the
//! textbook schedules in `schedule.rs` (ring and pipelined chain, recursive doubling and
//! halving, Bruck, binomial tree, dissemination, and the hierarchical `intercube`). Alone
//! on its links a plan takes `Σ_stages (latency + max_r ceil(load_r / β_r))`
//! ([`CostModel::plan_ns`]); with other plans in flight, the network shares each link's
//! bandwidth max-min fairly between them.
//!
//! Bandwidth figures follow nccl-tests: `algbw = S / time` (GB/s = bytes/ns) and
//! `busbw = algbw · factor` with factor `2(N−1)/N` for all_reduce, `(N−1)/N` for
//! reduce_scatter, all_gather and all_to_all, and 1 for broadcast, reduce and send/recv.
//!
//! # Local ops
//! A rank's op runs where its result lives; shards work in parallel, so an op costs the max
//! over its shards. Operands held elsewhere move first (`movement.rs`: PE-local, intra-cube,
//! inter-cube or inter-SIP, by where each piece is and where it goes). A shard is served by
//! its PE's share of its cube's HBM bandwidth, `H = hbm_gbytes_per_s_per_cube / pes_per_cube`,
//! and the dtype's throughput (`pe.*_gflops_by_dtype`, else `pe.*_gflops`).

use super::ccl::{Algorithm, CollectiveKind};
use super::dtype::DType;
use super::topology::{Fabric, LinkSpec, Topology};
use serde::Serialize;

mod bandwidth;
mod local;
mod movement;
mod plan;
mod rate;
mod schedule;
mod shards;
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

pub use bandwidth::algbw_gbytes_per_s;
pub use local::MatmulShape;
pub use movement::Movement;
pub use plan::{Plan, Resource, Stage};
pub use shards::{ceil_log2, cube_ids, distinct_cubes};

use rate::Rate;

/// The algorithm of every collective whose CCL settings name none.
pub const DEFAULT_ALGORITHM: Algorithm = Algorithm::Ring;

/// Piece size of the pipelined chain (ring broadcast and reduce) when `chunk_bytes` is not
/// set: 128 KiB, NCCL's order of magnitude.
pub const DEFAULT_PIPELINE_CHUNK_BYTES: u64 = 128 << 10;

/// The link classes of the topology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkClass {
    /// Within one PE's memory.
    PeLocal,
    /// Between PEs of one cube.
    IntraCube,
    /// Between cubes of one SIP (a cube's port).
    InterCube,
    /// One hop between SIPs, through the IO_CPUs (pays the IO_CPU overhead on top of the
    /// latency).
    InterSip,
    /// A SIP's IO_CPU, each direction (`io_cpu.bandwidth_gbytes_per_s`; its latency is in
    /// `InterSip`'s).
    IoCpu,
}

/// One link class's exact parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Link {
    alpha_ns: u64,
    beta: Rate,
    gbytes_per_s: f64,
}

impl Link {
    fn new(spec: &LinkSpec, overhead_ns: u64) -> Link {
        Link {
            alpha_ns: spec.latency_ns.saturating_add(overhead_ns),
            beta: Rate::new(spec.bandwidth_gbytes_per_s, 1),
            gbytes_per_s: spec.bandwidth_gbytes_per_s,
        }
    }
}

/// The cost model of one topology. See the module doc and ADR-0008 for every formula.
#[derive(Debug, Clone, PartialEq)]
pub struct CostModel {
    pe_local: Link,
    intra_cube: Link,
    inter_cube: Link,
    inter_sip: Link,
    io_cpu: Option<Link>,
    sips: u32,
    fabric: Fabric,
    io_cube: u32,
    pe_hbm: Rate,
    vector: Vec<(DType, Rate)>,
    matmul: Vec<(DType, Rate)>,
}

impl CostModel {
    /// The model of `topology`.
    pub fn new(topology: &Topology) -> Self {
        let spec = topology.spec();
        let links = &spec.links;
        let per_dtype = |default: f64, by: &std::collections::BTreeMap<String, f64>| {
            DType::ALL
                .iter()
                .map(|d| {
                    (
                        *d,
                        Rate::new(by.get(d.name()).copied().unwrap_or(default), 1),
                    )
                })
                .collect()
        };
        CostModel {
            pe_local: Link::new(&links.pe_local, 0),
            intra_cube: Link::new(&links.intra_cube, 0),
            inter_cube: Link::new(&links.inter_cube, 0),
            inter_sip: Link::new(&links.inter_sip, spec.io_cpu.transfer_overhead_ns),
            io_cpu: spec.io_cpu.bandwidth_gbytes_per_s.map(|rate| {
                let spec = LinkSpec {
                    latency_ns: 0,
                    bandwidth_gbytes_per_s: rate,
                };
                Link::new(&spec, 0)
            }),
            sips: spec.system.sips.count,
            fabric: spec.system.sips.fabric,
            io_cube: spec.io_cpu.cube,
            pe_hbm: Rate::new(
                spec.system.hbm_gbytes_per_s_per_cube,
                u64::from(spec.system.pes_per_cube),
            ),
            vector: per_dtype(spec.pe.vector_gflops, &spec.pe.vector_gflops_by_dtype),
            matmul: per_dtype(spec.pe.matmul_gflops, &spec.pe.matmul_gflops_by_dtype),
        }
    }

    fn link(&self, class: LinkClass) -> Link {
        match class {
            LinkClass::PeLocal => self.pe_local,
            LinkClass::IntraCube => self.intra_cube,
            LinkClass::InterCube => self.inter_cube,
            LinkClass::InterSip => self.inter_sip,
            // Without a limit the IO_CPU is as fast as the fastest rate a spec may give.
            LinkClass::IoCpu => self.io_cpu.unwrap_or(Link {
                alpha_ns: 0,
                beta: Rate::new(1e9, 1),
                gbytes_per_s: 1e9,
            }),
        }
    }

    /// Whether the IO_CPU limits bandwidth (then every inter-SIP message loads it).
    pub fn io_cpu_limited(&self) -> bool {
        self.io_cpu.is_some()
    }

    /// Whether plans must load the fabric's links. On a full mesh whose IO_CPUs are no
    /// faster than a link, no: a link from `a` to `b` only ever carries messages leaving
    /// `a`, which all cross `a`'s IO_CPU too, so the IO_CPU's share is the tighter bound and
    /// the link's is implied (and a plan over n SIPs holds O(n) loads, not O(n²)).
    pub fn fabric_links_matter(&self) -> bool {
        match (self.fabric, self.io_cpu) {
            (Fabric::FullMesh, Some(io)) => io.gbytes_per_s > self.inter_sip.gbytes_per_s,
            _ => true,
        }
    }

    /// The latency `α` of one hop on `class` (for `InterSip`, with the IO_CPU overhead).
    pub fn alpha_ns(&self, class: LinkClass) -> u64 {
        self.link(class).alpha_ns
    }

    /// `ceil(bytes / β)` on `class`.
    pub fn bytes_ns(&self, class: LinkClass, bytes: u64) -> u64 {
        self.link(class).beta.ns(u128::from(bytes))
    }

    /// The bandwidth of `class` in GB/s (bytes per ns), as the topology gives it.
    pub fn gbytes_per_s(&self, class: LinkClass) -> f64 {
        self.link(class).gbytes_per_s
    }

    /// The cube the IO_CPU sits at.
    pub fn io_cube(&self) -> u32 {
        self.io_cube
    }

    /// The link class of a resource.
    pub fn class_of(resource: Resource) -> LinkClass {
        match resource {
            Resource::SipLink { .. } => LinkClass::InterSip,
            Resource::IoCpu { .. } => LinkClass::IoCpu,
            Resource::CubePort { .. } => LinkClass::InterCube,
        }
    }

    /// `ceil(bytes / bandwidth of resource)`.
    pub fn load_ns(&self, resource: Resource, bytes: u64) -> u64 {
        self.bytes_ns(Self::class_of(resource), bytes)
    }

    /// A resource's bandwidth in bytes per ns, for the network's sharing.
    pub fn capacity(&self, resource: Resource) -> f64 {
        self.gbytes_per_s(Self::class_of(resource))
    }

    /// The fabric links a message from SIP `a` to SIP `b` crosses, in order (none when
    /// `a == b`).
    pub fn route(&self, a: u32, b: u32) -> Vec<Resource> {
        let mut links = Vec::new();
        self.for_each_hop(a, b, |link| links.push(link));
        links
    }

    /// Visit the fabric links from SIP `a` to SIP `b` in order, without allocating: plans
    /// of large groups visit millions.
    pub fn for_each_hop(&self, a: u32, b: u32, mut visit: impl FnMut(Resource)) {
        if a == b {
            return;
        }
        match self.fabric {
            Fabric::FullMesh => visit(Resource::SipLink { from: a, to: b }),
            Fabric::Ring => {
                let n = self.sips.max(1);
                let (up, hops) = self.ring_way(a, b);
                let mut at = a;
                for _ in 0..hops {
                    let next = if up { (at + 1) % n } else { (at + n - 1) % n };
                    visit(Resource::SipLink { from: at, to: next });
                    at = next;
                }
            }
        }
    }

    /// On a ring fabric: whether `a` to `b` goes up (ascending), and its hop count.
    fn ring_way(&self, a: u32, b: u32) -> (bool, u64) {
        let n = u64::from(self.sips.max(1));
        let up = (u64::from(b) + n - u64::from(a) % n) % n;
        if up <= n - up {
            (true, up)
        } else {
            (false, n - up)
        }
    }

    /// Hops from SIP `a` to SIP `b`.
    pub fn hops(&self, a: u32, b: u32) -> u64 {
        match self.fabric {
            _ if a == b => 0,
            Fabric::FullMesh => 1,
            Fabric::Ring => self.ring_way(a, b).1,
        }
    }

    /// Time of one stage alone on its links: `latency + max_r ceil(load_r / β_r)`.
    pub fn stage_ns(&self, stage: &Stage) -> u64 {
        let bytes = stage
            .loads
            .iter()
            .map(|(r, b)| self.load_ns(*r, *b))
            .max()
            .unwrap_or(0);
        stage.latency_ns.saturating_add(bytes)
    }

    /// Time of a plan alone on its links: the sum of its stages.
    pub fn plan_ns(&self, plan: &Plan) -> u64 {
        plan.stages
            .iter()
            .fold(0u64, |acc, s| acc.saturating_add(self.stage_ns(s)))
    }

    /// The plan of `kind` over the ranks on SIPs `members` (group order), `root` the group
    /// position of the root (broadcast, reduce; the sender of a send/recv), `bytes`
    /// nccl-tests' size `S`, `cubes` the cubes holding each member's tensor and
    /// `chunk_bytes` the collective's CCL chunk setting.
    #[allow(clippy::too_many_arguments)]
    pub fn collective_plan(
        &self,
        kind: CollectiveKind,
        algorithm: Algorithm,
        members: &[u32],
        root: usize,
        bytes: u64,
        cubes: &[u32],
        chunk_bytes: Option<u64>,
    ) -> Result<Plan, super::error::SimError> {
        schedule::plan(
            self,
            schedule::Collective {
                kind,
                algorithm,
                members,
                root,
                bytes,
                cubes,
                chunk_bytes,
            },
        )
    }

    /// Time of `kind` alone on its links over the first `n` SIPs (group rank = SIP), root 0,
    /// with the tensor on `cubes`.
    pub fn collective_ns(
        &self,
        kind: CollectiveKind,
        algorithm: Algorithm,
        n: u32,
        bytes: u64,
        cubes: &[u32],
        chunk_bytes: Option<u64>,
    ) -> Result<u64, super::error::SimError> {
        let members: Vec<u32> = (0..n).collect();
        let plan = self.collective_plan(kind, algorithm, &members, 0, bytes, cubes, chunk_bytes)?;
        Ok(self.plan_ns(&plan))
    }
}
