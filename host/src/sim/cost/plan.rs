//! What a communication needs from the links: a [`Plan`] of stages, each a latency and the
//! bytes it puts on each link resource. The cost model writes plans; the network
//! ([`crate::sim::network`]) runs them, sharing links between the plans in flight.

use serde::Serialize;

/// A link resource with its own bandwidth, shared max-min fairly by the flows on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Resource {
    /// One direction of the inter-SIP link from SIP `from` to its neighbour `to`.
    SipLink {
        /// Sending SIP.
        from: u32,
        /// Receiving SIP.
        to: u32,
    },
    /// One direction of a SIP's IO_CPU, which every inter-SIP message of the SIP crosses.
    IoCpu {
        /// SIP.
        sip: u32,
        /// Into the SIP (else out of it).
        inbound: bool,
    },
    /// One direction of a cube's port onto its SIP's cube fabric (towards the IO_CPU's
    /// cube or another cube).
    CubePort {
        /// SIP.
        sip: u32,
        /// Cube.
        cube: u32,
        /// Into the cube (else out of it).
        inbound: bool,
    },
}

/// One stage of a plan: after `latency_ns`, `loads` move together, at the rate of the link
/// that needs longest; a stage starts when the one before it ends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stage {
    /// Latency paid before the bytes move (once per step, summed over merged steps).
    pub latency_ns: u64,
    /// Bytes on each resource, sorted by resource, each resource once.
    pub loads: Vec<(Resource, u64)>,
}

/// The stages of one communication, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Stages in order; an empty plan takes no time.
    pub stages: Vec<Stage>,
}

impl Plan {
    /// Append a step; a step that loads the same resources in the same proportions as the
    /// stage before it merges into it (then the merged stage takes exactly the two steps'
    /// time alone, up to rounding), so a ring of any length is one stage.
    pub(super) fn push(&mut self, latency_ns: u64, loads: Vec<(Resource, u64)>) {
        let proportional = |a: &[(Resource, u64)], b: &[(Resource, u64)]| {
            let (Some(a0), Some(b0)) = (a.first(), b.first()) else {
                return a.is_empty() && b.is_empty();
            };
            a.len() == b.len()
                && a.iter().zip(b).all(|(x, y)| {
                    x.0 == y.0
                        && u128::from(x.1) * u128::from(b0.1) == u128::from(y.1) * u128::from(a0.1)
                })
        };
        if let Some(last) = self.stages.last_mut()
            && proportional(&last.loads, &loads)
        {
            last.latency_ns = last.latency_ns.saturating_add(latency_ns);
            for (a, b) in last.loads.iter_mut().zip(&loads) {
                a.1 = a.1.saturating_add(b.1);
            }
            return;
        }
        self.stages.push(Stage { latency_ns, loads });
    }

    /// Stages of the plan.
    pub fn len(&self) -> usize {
        self.stages.len()
    }

    /// Resource loads over all its stages (what it costs the network to hold).
    pub fn loads(&self) -> usize {
        self.stages.iter().map(|s| s.loads.len()).sum()
    }

    /// Whether the plan has no stage.
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }
}

/// Bytes per resource, gathered step by step before they become a stage.
#[derive(Debug, Default)]
pub(super) struct Loads(std::collections::BTreeMap<Resource, u64>);

impl Loads {
    pub(super) fn add(&mut self, resource: Resource, bytes: u64) {
        let slot = self.0.entry(resource).or_insert(0);
        *slot = slot.saturating_add(bytes);
    }

    pub(super) fn into_vec(self) -> Vec<(Resource, u64)> {
        self.0.into_iter().collect()
    }
}
