//! Moving a local op's data between where it is and where it is needed: each piece goes over
//! the links its two places imply (same PE: `pe_local`; same cube: `intra_cube`; same SIP:
//! both cubes' `inter_cube` ports; another SIP: the ports off the IO_CPU's cube and the
//! fabric route). Pieces move in parallel: a movement takes the longest latency of the
//! classes it uses plus the longest `ceil(bytes / β)` over its resources.

use super::{CostModel, LinkClass};
use crate::sim::error::SimError;
use crate::sim::placement::{ShardSpec, Span};
use std::collections::BTreeMap;

/// Most (destination shard, source region) pairs one movement compares: beyond it, an op
/// between two differently laid-out tensors of very many shards is refused rather than
/// priced for minutes inside one host call.
pub const MAX_MOVEMENT_PAIRS: usize = 1 << 22;

/// A named error when comparing `sources` regions with `destinations` shards is too much.
pub fn check_pairs(sources: usize, destinations: usize) -> Result<(), SimError> {
    if sources.saturating_mul(destinations) > MAX_MOVEMENT_PAIRS {
        return Err(SimError::LimitExceeded(format!(
            "moving data between layouts of {sources} and {destinations} shards would compare {} pairs, more than the cost model's {MAX_MOVEMENT_PAIRS}; use the same layout for both tensors, or fewer shards",
            sources.saturating_mul(destinations)
        )));
    }
    Ok(())
}

/// Of the places holding a region, the one nearest `to`: the same PE, else the same cube,
/// else the same SIP, else the first.
pub fn nearest(places: &[Place], to: Place) -> Place {
    let distance = |p: &Place| {
        if *p == to {
            0
        } else if (p.0, p.1) == (to.0, to.1) {
            1
        } else if p.0 == to.0 {
            2
        } else {
            3
        }
    };
    places.iter().copied().min_by_key(distance).unwrap_or(to)
}

/// Where a piece of data sits: (SIP, cube, PE).
pub type Place = (u32, u32, u32);

/// A resource a local movement uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Local {
    Pe(Place),
    Crossbar(u32, u32),
    Port(u32, u32, bool),
    Io(u32, bool),
    Fabric(u32, u32),
}

/// The pieces of one movement, added one by one.
#[derive(Debug, Default)]
pub struct Movement {
    loads: BTreeMap<Local, u64>,
    latency_ns: u64,
    /// A copy writes every piece anew, even on its own PE (`pe_local`); operands already on
    /// the PE that computes need not move.
    copy: bool,
}

impl Movement {
    /// A copy: every piece is written, on its own PE over `pe_local`.
    pub fn copy() -> Self {
        Movement {
            copy: true,
            ..Movement::default()
        }
    }

    /// Operands brought to where an op computes: a piece already there costs nothing.
    pub fn operands() -> Self {
        Movement::default()
    }

    fn load(&mut self, resource: Local, bytes: u64) {
        let slot = self.loads.entry(resource).or_insert(0);
        *slot = slot.saturating_add(bytes);
    }

    /// Move `bytes` from `from` to `to`.
    pub fn add(&mut self, model: &CostModel, from: Place, to: Place, bytes: u64) {
        if bytes == 0 || (from == to && !self.copy) {
            return;
        }
        let alpha = |c| model.alpha_ns(c);
        let latency = if from == to {
            self.load(Local::Pe(from), bytes);
            alpha(LinkClass::PeLocal)
        } else if (from.0, from.1) == (to.0, to.1) {
            self.load(Local::Crossbar(from.0, from.1), bytes);
            alpha(LinkClass::IntraCube)
        } else if from.0 == to.0 {
            self.load(Local::Port(from.0, from.1, false), bytes);
            self.load(Local::Port(to.0, to.1, true), bytes);
            alpha(LinkClass::InterCube)
        } else {
            let io = model.io_cube();
            let mut ns = 0u64;
            for (place, inbound) in [(from, false), (to, true)] {
                if place.1 != io {
                    self.load(Local::Port(place.0, place.1, inbound), bytes);
                    ns = ns.saturating_add(alpha(LinkClass::InterCube));
                }
            }
            if model.io_cpu_limited() {
                self.load(Local::Io(from.0, false), bytes);
                self.load(Local::Io(to.0, true), bytes);
            }
            model.for_each_hop(from.0, to.0, |link| {
                if let super::Resource::SipLink { from, to } = link {
                    self.load(Local::Fabric(from, to), bytes);
                }
            });
            let hops = model.hops(from.0, to.0);
            ns.saturating_add(hops.saturating_mul(alpha(LinkClass::InterSip)))
        };
        self.latency_ns = self.latency_ns.max(latency);
    }

    /// Move, for each shard of `to`, the part of its 2-D region (`rows` x `cols` of the
    /// result's view) that the shards of `from` hold, `itemsize` bytes per element. Where
    /// several shards hold the same region (replicas), the piece comes from the nearest one.
    /// Identical layouts move shard to shard; other layouts compare every destination with
    /// every distinct source region, at most [`MAX_MOVEMENT_PAIRS`] comparisons.
    pub fn regions(
        &mut self,
        model: &CostModel,
        from: &[ShardSpec],
        to: &[ShardSpec],
        itemsize: u64,
    ) -> Result<(), SimError> {
        let same_layout = from.len() == to.len()
            && from
                .iter()
                .zip(to)
                .all(|(s, d)| (s.rows, s.cols) == (d.rows, d.cols));
        if same_layout {
            for (s, d) in from.iter().zip(to) {
                let elems = s.rows.len().saturating_mul(s.cols.len());
                self.add(model, place(s), place(d), elems.saturating_mul(itemsize));
            }
            return Ok(());
        }
        let holders = holders(from);
        check_pairs(holders.len(), to.len())?;
        for d in to {
            for ((rows, cols), places) in &holders {
                let elems = overlap(*rows, d.rows).saturating_mul(overlap(*cols, d.cols));
                if elems > 0 {
                    let near = nearest(places, place(d));
                    self.add(model, near, place(d), elems.saturating_mul(itemsize));
                }
            }
        }
        Ok(())
    }

    /// The time: `max latency + max_r ceil(load_r / β_r)`; 0 when nothing moves.
    pub fn ns(&self, model: &CostModel) -> u64 {
        let bytes = self
            .loads
            .iter()
            .map(|(r, b)| {
                let class = match r {
                    Local::Pe(_) => LinkClass::PeLocal,
                    Local::Crossbar(..) => LinkClass::IntraCube,
                    Local::Port(..) => LinkClass::InterCube,
                    Local::Io(..) => LinkClass::IoCpu,
                    Local::Fabric(..) => LinkClass::InterSip,
                };
                model.bytes_ns(class, *b)
            })
            .max()
            .unwrap_or(0);
        self.latency_ns.saturating_add(bytes)
    }
}

/// The places holding each distinct region of `shards` (replicas hold the same region).
pub fn holders(shards: &[ShardSpec]) -> BTreeMap<(Span, Span), Vec<Place>> {
    let mut out: BTreeMap<(Span, Span), Vec<Place>> = BTreeMap::new();
    for s in shards {
        out.entry((s.rows, s.cols)).or_default().push(place(s));
    }
    out
}

/// Where a shard lives.
pub fn place(s: &ShardSpec) -> Place {
    (s.sip, s.cube, s.pe)
}

/// Indices two spans share.
pub fn overlap(a: Span, b: Span) -> u64 {
    a.end.min(b.end).saturating_sub(a.start.max(b.start))
}
