//! The network: communication plans in flight, sharing link bandwidth max-min fairly, in
//! simulated time. A flow runs its plan's stages one after another: a stage waits out its
//! latency, then moves its loads at a common rate, each flow's rate set by progressive
//! filling over every resource it loads (the fluid model of SimGrid's LV08, without its
//! correction factors). Shares change only when a flow starts or ends moving bytes, so time
//! advances from event to event.
//!
//! Exactness: a flow that never shared a link ends exactly when the cost model says
//! (`CostModel::plan_ns`, integer); a flow whose share changed is integrated in f64 and its end
//! rounded up to the next nanosecond. Flows are kept and visited in key order, so the same
//! flows give the same times whatever order the host issued them in.

use super::cost::{CostModel, Plan, Resource, Stage};
use super::error::SimError;
use std::collections::BTreeMap;

/// Most resource loads the plans in flight may hold together (about 100 MiB): a run that
/// keeps issuing asynchronous collectives over large groups without waiting is refused by
/// name when the next one would pass it.
pub const MAX_LOADS_IN_FLIGHT: usize = 1 << 22;

/// Where one flow is in its plan.
#[derive(Debug, Clone)]
enum Phase {
    /// Waiting out the stage's latency until the given time.
    Latency { until: u64 },
    /// Moving the stage's bytes.
    Bytes(Moving),
}

#[derive(Debug, Clone)]
struct Moving {
    /// When the stage started moving bytes.
    since: u64,
    /// Fraction of the stage's bytes still to move, as of the network's `now`.
    left: f64,
    /// Bytes on the stage's most loaded resource (`L`).
    most: f64,
    /// Current rate on the most loaded resource (bytes per ns).
    rate: f64,
    /// Its rate alone on its links.
    solo_rate: f64,
    /// Its exact time alone on its links.
    solo_ns: u64,
    /// Whether it has moved at `solo_rate` all along (then it ends at `since + solo_ns`).
    alone: bool,
    /// When it ends at its current rate.
    ends: u64,
}

#[derive(Debug, Clone)]
struct Flow {
    /// Resource loads over all its stages, counted against [`MAX_LOADS_IN_FLIGHT`].
    loads: usize,
    stages: Vec<Stage>,
    stage: usize,
    phase: Phase,
}

impl Flow {
    fn next_event(&self) -> u64 {
        match &self.phase {
            Phase::Latency { until } => *until,
            Phase::Bytes(m) => m.ends,
        }
    }
}

/// Plans in flight, keyed by `K` (whose order breaks every tie).
#[derive(Debug, Clone)]
pub struct Network<K> {
    now: u64,
    flows: BTreeMap<K, Flow>,
    loads: usize,
}

impl<K> Default for Network<K> {
    fn default() -> Self {
        Network {
            now: 0,
            flows: BTreeMap::new(),
            loads: 0,
        }
    }
}

impl<K: Ord + Clone> Network<K> {
    /// An idle network at time 0.
    pub fn new() -> Self {
        Network::default()
    }

    /// The time up to which the network has run.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Whether no plan is in flight.
    pub fn is_idle(&self) -> bool {
        self.flows.is_empty()
    }

    /// A named error when `plan` would take the loads in flight past
    /// [`MAX_LOADS_IN_FLIGHT`].
    pub fn check_room(&self, plan: &Plan) -> Result<(), SimError> {
        let loads = plan.loads();
        if self.loads.saturating_add(loads) > MAX_LOADS_IN_FLIGHT {
            return Err(SimError::LimitExceeded(format!(
                "the collectives in flight hold {} link loads and this one needs {loads}, more than the {MAX_LOADS_IN_FLIGHT} the network holds; wait for some before issuing more",
                self.loads
            )));
        }
        Ok(())
    }

    /// Start `plan` at `start_ns` (not before [`now`](Self::now): a flow never starts in
    /// the network's past, which the scheduler guarantees; an earlier start is taken as now).
    /// Returns the end at once when the plan is empty.
    pub fn start(&mut self, key: K, start_ns: u64, plan: Plan) -> Option<u64> {
        debug_assert!(start_ns >= self.now, "a flow starts in the network's past");
        let start = start_ns.max(self.now);
        let loads = plan.loads();
        let Some(first) = plan.stages.first() else {
            return Some(start);
        };
        let until = start.saturating_add(first.latency_ns);
        self.loads = self.loads.saturating_add(loads);
        self.flows.insert(
            key,
            Flow {
                loads,
                stages: plan.stages,
                stage: 0,
                phase: Phase::Latency { until },
            },
        );
        None
    }

    /// The next time a flow changes phase, if any is in flight.
    pub fn next_event(&self) -> Option<u64> {
        self.flows.values().map(Flow::next_event).min()
    }

    /// Run to the next event and return the flows that ended then, with that time.
    pub fn advance(&mut self, model: &CostModel) -> Vec<(K, u64)> {
        let Some(t) = self.next_event() else {
            return Vec::new();
        };
        let dt = t.saturating_sub(self.now) as f64;
        for flow in self.flows.values_mut() {
            if let Phase::Bytes(m) = &mut flow.phase {
                m.left = (m.left - dt * m.rate / m.most).max(0.0);
            }
        }
        self.now = t;
        let mut done = Vec::new();
        let mut changed = false;
        for (key, flow) in self.flows.iter_mut() {
            while flow.next_event() <= t {
                changed = true;
                match flow.phase {
                    Phase::Latency { .. } => {
                        let stage = &flow.stages[flow.stage];
                        let most = stage.loads.iter().map(|l| l.1).max().unwrap_or(0);
                        if most == 0 {
                            flow.stage += 1;
                            if !enter(flow, t) {
                                break;
                            }
                            continue;
                        }
                        let solo_ns = model.stage_ns(stage) - stage.latency_ns;
                        let solo_rate = solo_rate(model, stage, most);
                        flow.phase = Phase::Bytes(Moving {
                            since: t,
                            left: 1.0,
                            most: most as f64,
                            rate: solo_rate,
                            solo_rate,
                            solo_ns,
                            alone: true,
                            ends: t.saturating_add(solo_ns),
                        });
                    }
                    Phase::Bytes(_) => {
                        flow.stage += 1;
                        if !enter(flow, t) {
                            break;
                        }
                    }
                }
            }
            if flow.stage >= flow.stages.len() {
                done.push((key.clone(), t));
            }
        }
        for (key, _) in &done {
            if let Some(flow) = self.flows.remove(key) {
                self.loads = self.loads.saturating_sub(flow.loads);
            }
        }
        if changed {
            self.share(model);
        }
        done
    }

    /// Max-min fair rates by progressive filling, then each moving flow's end.
    fn share(&mut self, model: &CostModel) {
        // Each moving flow with its weight on each resource (its load there over its load
        // on its most loaded one), computed once for every round of the filling.
        let mut free: BTreeMap<Resource, f64> = BTreeMap::new();
        let mut open: Vec<(&K, Vec<(Resource, f64)>)> = Vec::new();
        for (key, flow) in &self.flows {
            if let Phase::Bytes(_) = flow.phase {
                let loads = &flow.stages[flow.stage].loads;
                let most = loads.iter().map(|l| l.1).max().unwrap_or(1).max(1) as f64;
                for (r, _) in loads {
                    free.entry(*r).or_insert_with(|| model.capacity(*r));
                }
                open.push((
                    key,
                    loads.iter().map(|(r, b)| (*r, *b as f64 / most)).collect(),
                ));
            }
        }
        let mut rates: BTreeMap<&K, f64> = BTreeMap::new();
        while !open.is_empty() {
            let mut demand: BTreeMap<Resource, f64> = BTreeMap::new();
            for (_, weights) in &open {
                for (r, w) in weights {
                    *demand.entry(*r).or_insert(0.0) += w;
                }
            }
            let Some((tight, level)) = demand
                .iter()
                .filter(|(_, w)| **w > 0.0)
                .map(|(r, w)| (*r, free[r].max(0.0) / w))
                .min_by(|a, b| a.1.total_cmp(&b.1))
            else {
                break;
            };
            let (fixed, rest): (Vec<_>, Vec<_>) = open
                .into_iter()
                .partition(|(_, weights)| weights.iter().any(|(r, w)| *r == tight && *w > 0.0));
            for (key, weights) in fixed {
                for (r, w) in weights {
                    if let Some(f) = free.get_mut(&r) {
                        *f -= level * w;
                    }
                }
                rates.insert(key, level);
            }
            open = rest;
        }
        let rates: Vec<(K, f64)> = rates.into_iter().map(|(k, r)| (k.clone(), r)).collect();
        let now = self.now;
        for (key, rate) in rates {
            let Some(flow) = self.flows.get_mut(&key) else {
                continue;
            };
            if let Phase::Bytes(m) = &mut flow.phase {
                // Within a rounding of its solo rate, a flow is still alone.
                m.alone = m.alone && (rate - m.solo_rate).abs() <= m.solo_rate * 1e-12;
                m.rate = if m.alone { m.solo_rate } else { rate };
                m.ends = if m.alone {
                    m.since.saturating_add(m.solo_ns)
                } else {
                    let ns = round_up(m.left * m.most / m.rate.max(f64::MIN_POSITIVE));
                    now.saturating_add(ns)
                };
            }
        }
    }
}

/// `ceil(ns)`, but a value within a millionth of a nanosecond of a whole number is that
/// number: f64 integration leaves such crumbs (100 000 bytes at 25 B/ns is 4000.0000001).
fn round_up(ns: f64) -> u64 {
    let near = ns.round();
    let ns = if (ns - near).abs() < 1e-6 {
        near
    } else {
        ns.ceil()
    };
    if ns >= u64::MAX as f64 {
        u64::MAX
    } else {
        ns.max(0.0) as u64
    }
}

/// Put `flow` at the start of its current stage at `t`; false when it has no stage left.
fn enter(flow: &mut Flow, t: u64) -> bool {
    match flow.stages.get(flow.stage) {
        Some(stage) => {
            flow.phase = Phase::Latency {
                until: t.saturating_add(stage.latency_ns),
            };
            true
        }
        None => false,
    }
}

/// Bytes per ns on the most loaded resource when the stage is alone: the slowest resource
/// sets the pace, `most / max_r(load_r / β_r)`.
fn solo_rate(model: &CostModel, stage: &Stage, most: u64) -> f64 {
    let slowest = stage
        .loads
        .iter()
        .map(|(r, b)| *b as f64 / model.capacity(*r))
        .fold(0.0f64, f64::max);
    if slowest > 0.0 {
        most as f64 / slowest
    } else {
        f64::INFINITY
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
