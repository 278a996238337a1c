//! State shared by all ranks of one run: the simulator, the rendezvous and process groups,
//! and how a rank issues an operation and waits for it. Ranks reach it through
//! `Arc<Mutex<World>>`; everything runs on one thread, so the lock is never contended, only
//! required by wasmtime's `Send` bounds.

use super::error::Abort;
use crate::model::{FailureKind, LaunchMode, MetricSeries, RegionRecord, RunProgress};
use crate::sched::rendezvous::Pending;
use crate::sched::{Arrival, CallMatch, Mailbox, Rendezvous, RendezvousError, Scope};
use crate::sim::{
    CclConfig, CollectiveCall, CollectiveRecord, Network, Plan, SimError, Simulator, TensorId,
    ranks_excerpt,
};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

/// What a member of an operation is eventually told: the simulated time the operation ends
/// (its clock reaches it when it waits), or why it cannot run.
pub type Outcome = Result<u64, Abort>;

/// Where one member's outcome of one operation is posted.
pub type Ticket = Arc<Mailbox<Outcome>>;

/// A member's call as the rendezvous holds it: the checked call, the member's simulated time
/// when it issued it, and where its outcome goes.
#[derive(Debug, Clone)]
pub struct Arrived {
    /// The checked call.
    pub call: CollectiveCall,
    /// The member's clock at the call (an asynchronous member's clock moves on afterwards).
    pub at_ns: u64,
    /// Where the outcome goes.
    pub ticket: Ticket,
}

impl CallMatch for Arrived {
    fn check(&self, rank: u32, first: &Self, first_rank: u32) -> Result<(), String> {
        self.call.check_against(rank, &first.call, first_rank)
    }
}

impl fmt::Display for Arrived {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.call.fmt(f)
    }
}

/// An operation a rank has issued: where it met, and where its outcome will be.
#[derive(Debug, Clone)]
pub struct Issued {
    /// Where it meets.
    pub scope: Scope,
    /// Its sequence number there.
    pub seq: u64,
    /// Where its outcome is posted.
    pub ticket: Ticket,
    /// The call, kept by an asynchronous issuer for the deadlock message of a later wait.
    pub call: Option<Arrived>,
}

/// What a rank is doing, as far as simulated time goes: the network may run up to the
/// earliest time a running rank (or one asking about a time) could still start a flow.
#[derive(Debug, Clone)]
enum RankState {
    /// Running, or ready to run: it may issue at its clock or later.
    Running,
    /// Waiting for this operation's outcome; it issues nothing until released.
    Waiting(Ticket),
    /// Asking whether something is done by this time (`is_completed`): released once the
    /// network has run to it, posted here.
    Until(u64, Arc<Mailbox<()>>),
    /// Returned.
    Exited,
}

/// The network's key of a flow: (start, group, sender, receiver, sequence) — what the host
/// issued, never the order it issued in, so shares and ties do not depend on host order.
type FlowKey = (u64, u32, u32, u32, u64);

/// A collective whose data has moved and whose communication is in the network.
#[derive(Debug)]
struct InFlight {
    record: CollectiveRecord,
    tickets: Vec<(u32, Ticket)>,
}

/// Shared state of one run.
#[derive(Debug)]
pub struct World {
    /// The simulated system.
    pub sim: Simulator,
    /// The CCL config in force.
    pub ccl: CclConfig,
    /// Launch mode of the run.
    pub launch: LaunchMode,
    /// Open collective slots.
    pub rendezvous: Rendezvous<Arrived>,
    /// Members of each group (global ranks, in group-rank order); group 0 is the world.
    pub groups: Vec<Arc<[u32]>>,
    /// Closed named regions, in the order they closed (at most `max_regions`).
    pub regions: Vec<RegionRecord>,
    /// Regions closed past `max_regions`: counted for the report's warning.
    pub regions_dropped: u64,
    /// Metrics the ranks reported.
    pub metrics: Vec<MetricSeries>,
    /// Where each (rank, name, unit) series sits in `metrics`, and the sum of its values.
    metric_index: HashMap<(u32, String, String), (usize, f64)>,
    /// Each rank's bound device (mirrors the rank's registry for the report).
    pub devices: Vec<Option<u32>>,
    /// How many `new_group` calls each rank has made (the k-th call of every rank names
    /// the same group).
    pub group_calls: Vec<u32>,
    /// The rank whose call created each group (0 for the world), for mismatch messages.
    group_creators: Vec<u32>,
    /// Counters for a progress bar, if someone watches.
    pub progress: Option<Arc<RunProgress>>,
    /// Most groups the run may create besides the world (`groups_per_run`).
    pub max_groups: u64,
    /// Most regions the report keeps (`regions_per_run`); the rest are counted.
    pub max_regions: u64,
    /// Most metric series the run may hold (`metric_series_per_run`).
    pub max_metric_series: u64,
    /// Backend aliases ranks passed to `init_process_group` (`"nccl"`, `"gloo"`), for the
    /// report: at most the few names the host accepts.
    pub backend_aliases: Vec<String>,
    /// Point-to-point transfers completed between each pair of ranks of a group (both
    /// directions together), keyed by (group, lower rank, higher rank): the number a
    /// transfer's record shows.
    pair_transfers: HashMap<(u32, u32, u32), u64>,
    /// Communication in flight, sharing the links.
    network: Network<FlowKey>,
    /// The collectives behind the network's flows.
    in_flight: BTreeMap<FlowKey, InFlight>,
    /// Each rank's state, for how far the network may run.
    states: Vec<RankState>,
    /// How many ranks are in [`RankState::Until`].
    asking: usize,
    /// Each rank's ticket for its blocking calls, reused from call to call: a rank waits in
    /// at most one blocking call at a time, and a barrier round no longer allocates one.
    blocking_tickets: Vec<Ticket>,
}

/// Why `new_group` failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupError {
    /// A bad argument the guest can handle.
    Invalid(String),
    /// Ranks disagree on the k-th group: the run cannot go on.
    Mismatch(String),
    /// The run's group limit is reached.
    Limit(String),
}

/// The run's world, shared by every rank's store.
pub type SharedWorld = Arc<Mutex<World>>;

/// Lock the world; a poisoned lock only means a host import panicked, and the data it
/// guards stays consistent at each await point, so carry on.
pub fn lock(world: &SharedWorld) -> MutexGuard<'_, World> {
    world.lock().unwrap_or_else(|p| p.into_inner())
}

impl World {
    /// A world of `ranks` instances over `sim`.
    pub fn new(sim: Simulator, ccl: CclConfig, launch: LaunchMode, ranks: u32) -> Self {
        World {
            sim,
            ccl,
            launch,
            rendezvous: Rendezvous::new(ranks as usize),
            groups: vec![(0..ranks).collect::<Vec<_>>().into()],
            regions: Vec::new(),
            regions_dropped: 0,
            metrics: Vec::new(),
            metric_index: HashMap::new(),
            devices: vec![None; ranks as usize],
            group_calls: vec![0; ranks as usize],
            group_creators: vec![0],
            progress: None,
            max_groups: u64::MAX,
            max_regions: u64::MAX,
            max_metric_series: u64::MAX,
            backend_aliases: Vec::new(),
            pair_transfers: HashMap::new(),
            network: Network::new(),
            in_flight: BTreeMap::new(),
            states: vec![RankState::Running; ranks as usize],
            asking: 0,
            blocking_tickets: (0..ranks).map(|_| Ticket::default()).collect(),
        }
    }

    /// The ticket of `rank`'s next blocking call: its own one, emptied (an outcome of a wait
    /// dropped after its post may sit in it), unless something still holds it (a wait
    /// dropped unfinished), when it gets a new one.
    fn blocking_ticket(&mut self, rank: u32) -> Ticket {
        match self.blocking_tickets.get_mut(rank as usize) {
            Some(own) => {
                // Every clone is made here, under the world's lock: when this is the only
                // one, nobody else can post to it or wait on it.
                match Arc::get_mut(own) {
                    Some(mailbox) => mailbox.reset(),
                    None => *own = Ticket::default(),
                }
                own.clone()
            }
            None => Ticket::default(),
        }
    }

    /// Run the collective whose members' calls have all arrived (`Simulator::
    /// execute_collective`), refusing it before it moves data when the network has no room
    /// for its plan.
    pub fn execute_collective(
        &mut self,
        calls: &[(u32, CollectiveCall)],
        arrivals: Vec<u64>,
        seq: u64,
    ) -> Result<(CollectiveRecord, Plan), SimError> {
        let World {
            sim, ccl, network, ..
        } = self;
        sim.execute_collective(calls, arrivals, seq, ccl, &|plan| network.check_room(plan))
    }

    /// Start a collective's communication at its start time; it ends when the network says.
    fn start_flow(
        &mut self,
        key: FlowKey,
        record: CollectiveRecord,
        plan: Plan,
        tickets: Vec<(u32, Ticket)>,
    ) {
        // A plan of latencies only (a barrier) shares nothing: it ends when it says.
        if plan.stages.iter().all(|s| s.loads.is_empty()) {
            let latency = (plan.stages.iter()).fold(0u64, |t, s| t.saturating_add(s.latency_ns));
            let end = record.start_ns.saturating_add(latency);
            return self.finish(record, end, tickets);
        }
        match self.network.start(key, record.start_ns, plan) {
            Some(end) => self.finish(record, end, tickets),
            None => {
                self.in_flight.insert(key, InFlight { record, tickets });
            }
        }
    }

    /// A collective has ended at `end`: log it, tell its members, and let those waiting
    /// for it run again from `end`.
    fn finish(&mut self, mut record: CollectiveRecord, end: u64, tickets: Vec<(u32, Ticket)>) {
        record.end_ns = end;
        self.sim.log_collective(record);
        if let Some(progress) = &self.progress {
            progress.collective_done();
        }
        for (rank, ticket) in tickets {
            // The waiting rank's clock moves before its outcome is posted: the mailbox then
            // orders the two, and its `wait` returns without the world's lock.
            if self.release(rank, &ticket) {
                self.sim.clocks.reach(rank, end);
            }
            ticket.post(Ok(end));
        }
    }

    /// `rank` runs again if it was waiting for `ticket`; whether it was.
    fn release(&mut self, rank: u32, ticket: &Ticket) -> bool {
        let Some(state) = self.states.get_mut(rank as usize) else {
            return false;
        };
        let waiting = matches!(state, RankState::Waiting(t) if Arc::ptr_eq(t, ticket));
        if waiting {
            *state = RankState::Running;
        }
        waiting
    }

    /// Run the network as far as no rank can still change it: to the earliest clock of a
    /// running rank (a flow it starts begins no earlier), or of a rank asking about a time;
    /// past every clock when every rank waits. Releases the ranks whose operations end,
    /// one event at a time (a released rank runs from the event's time), and the ranks
    /// asking about a time the network has reached. (SimGrid's maestro, ADR-0008.)
    pub fn settle(&mut self) {
        loop {
            if self.asking == 0 && self.network.is_idle() {
                return; // nothing to run and nobody to answer: no need to look at clocks
            }
            let clock = |r: usize| self.sim.clocks.get(r as u32);
            let running = (self.states.iter().enumerate())
                .filter(|(_, s)| matches!(s, RankState::Running))
                .map(|(r, _)| clock(r))
                .min();
            let until = (self.states.iter())
                .filter_map(|s| match s {
                    RankState::Until(t, _) => Some(*t),
                    _ => None,
                })
                .min();
            let safe = match (running, until) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if let Some(event) = self.network.next_event()
                && safe.is_none_or(|s| event <= s)
            {
                for (key, end) in self.network.advance(self.sim.cost()) {
                    if let Some(done) = self.in_flight.remove(&key) {
                        self.finish(done.record, end, done.tickets);
                    }
                }
                continue;
            }
            // Strictly before every running clock: a rank at exactly `t` could still start a
            // flow that ends at `t` on a topology with zero latencies.
            let Some(t) = until.filter(|t| running.is_none_or(|r| *t < r)) else {
                break;
            };
            for state in &mut self.states {
                if let RankState::Until(at, mailbox) = state
                    && *at == t
                {
                    mailbox.post(());
                    *state = RankState::Running;
                    self.asking -= 1;
                }
            }
        }
    }

    /// Whether `rank` is held in host time for the others: waiting for an operation's
    /// outcome, or for the network to reach its clock.
    pub fn is_held(&self, rank: u32) -> bool {
        matches!(
            self.states.get(rank as usize),
            Some(RankState::Waiting(_) | RankState::Until(..))
        )
    }

    /// `rank` has returned: it no longer holds the network back.
    pub fn rank_exited(&mut self, rank: u32) {
        if let Some(state) = self.states.get_mut(rank as usize) {
            // A rank cancelled while asking about a time leaves no one to answer.
            if matches!(state, RankState::Until(..)) {
                self.asking -= 1;
            }
            *state = RankState::Exited;
        }
        self.settle();
    }

    /// The sequence number the record of the `seq`-th call completed in `scope` shows: `seq`
    /// for a group; for point-to-point, the transfer's number among those between the two
    /// ranks in both directions, as a 0.1.0 host (one channel per pair) numbered them, so a
    /// 0.1.0 component's report stays the same.
    pub fn record_seq(&mut self, scope: Scope, seq: u64) -> u64 {
        match scope {
            Scope::Group(_) => seq,
            Scope::Channel { group, src, dst } => {
                let count = self
                    .pair_transfers
                    .entry((group, src.min(dst), src.max(dst)))
                    .or_insert(0);
                *count += 1;
                *count - 1
            }
        }
    }

    /// Note that a rank asked for the default backend by an alias (one of the few the host
    /// accepts, so this list stays that short).
    pub fn note_backend_alias(&mut self, alias: &str) {
        if !self.backend_aliases.iter().any(|a| a == alias) {
            self.backend_aliases.push(alias.to_owned());
            self.backend_aliases.sort_unstable();
        }
    }

    /// Keep a closed region, or count it past `max_regions` (the report warns).
    pub fn record_region(&mut self, region: RegionRecord) {
        if (self.regions.len() as u64) < self.max_regions {
            self.regions.push(region);
        } else {
            self.regions_dropped += 1;
        }
    }

    /// Add one report of a metric to its series; a new series past `max_metric_series` is
    /// refused (a series reported again never is: it costs no memory).
    pub fn record_metric(
        &mut self,
        rank: u32,
        name: String,
        value: f64,
        unit: String,
    ) -> Result<(), SimError> {
        let key = (rank, name, unit);
        if let Some((i, sum)) = self.metric_index.get_mut(&key) {
            let series = &mut self.metrics[*i];
            *sum += value;
            series.count += 1;
            series.mean = *sum / series.count as f64;
            series.min = series.min.min(value);
            series.max = series.max.max(value);
            series.value = value;
            return Ok(());
        }
        if self.metrics.len() as u64 >= self.max_metric_series {
            return Err(SimError::LimitExceeded(format!(
                "this run already holds {} metric series (rank, name and unit), the most it may (metric_series_per_run); report under names it already used",
                self.max_metric_series
            )));
        }
        let (rank, name, unit) = key.clone();
        self.metric_index.insert(key, (self.metrics.len(), value));
        self.metrics.push(MetricSeries {
            rank,
            name,
            value,
            unit,
            count: 1,
            mean: value,
            min: value,
            max: value,
        });
        Ok(())
    }

    /// `rank`'s next `new_group(ranks)`: the k-th call of every rank must name the same
    /// members (as in PyTorch, where all ranks call `new_group` in the same order). Members
    /// are sorted, as `torch.distributed.new_group` orders group ranks.
    pub fn new_group(&mut self, rank: u32, ranks: &[u32]) -> Result<u32, GroupError> {
        let world_size = self.groups[0].len() as u32;
        let mut members = ranks.to_vec();
        members.sort_unstable();
        if members.is_empty() {
            return Err(GroupError::Invalid(
                "new_group needs at least one rank".into(),
            ));
        }
        if members.windows(2).any(|w| w[0] == w[1]) {
            return Err(GroupError::Invalid(format!(
                "new_group ranks {} contain a duplicate",
                ranks_excerpt(ranks)
            )));
        }
        if let Some(bad) = members.iter().find(|&&r| r >= world_size) {
            return Err(GroupError::Invalid(format!(
                "new_group: rank {bad} is outside the world of {world_size} ranks"
            )));
        }
        let k = self.group_calls[rank as usize];
        let id = k + 1;
        match self.groups.get(id as usize) {
            Some(existing) if **existing != *members => {
                // Told lower rank first, whichever called first (host order never shows).
                let creator = self.group_creators.get(id as usize).copied().unwrap_or(0);
                let mine = (rank, ranks_excerpt(&members));
                let theirs = (creator, ranks_excerpt(existing));
                let ((a, a_ranks), (b, b_ranks)) = if rank < creator {
                    (mine, theirs)
                } else {
                    (theirs, mine)
                };
                return Err(GroupError::Mismatch(format!(
                    "rank {a} called new_group({a_ranks}) as its call #{id}, but rank {b} called new_group({b_ranks}) as its call #{id}; every rank must create the same groups in the same order"
                )));
            }
            Some(_) => {}
            None if self.groups.len() as u64 > self.max_groups => {
                return Err(GroupError::Limit(format!(
                    "new_group: the run already has {} groups, the most it may create (groups_per_run)",
                    self.max_groups
                )));
            }
            None => {
                self.groups.push(members.into());
                self.group_creators.push(rank);
            }
        }
        self.group_calls[rank as usize] = id;
        Ok(id)
    }

    /// Members of group `id` (ascending global ranks), or an error naming the group.
    pub fn group(&self, id: u32) -> Result<&Arc<[u32]>, SimError> {
        self.groups.get(id as usize).ok_or_else(|| {
            SimError::InvalidArgument(format!(
                "group {id} does not exist (this run has {} groups)",
                self.groups.len()
            ))
        })
    }

    /// Members of group `g` (none = the world) if `rank` belongs to it.
    pub fn group_members(&self, g: Option<u32>, rank: u32) -> Result<&Arc<[u32]>, SimError> {
        let id = g.unwrap_or(0);
        let members = self.group(id)?;
        // Members are sorted (the world, new_group sorts), so membership is a binary search.
        if members.binary_search(&rank).is_err() {
            return Err(SimError::InvalidArgument(format!(
                "rank {rank} is not a member of group {id} (members {})",
                ranks_excerpt(members)
            )));
        }
        Ok(members)
    }
}

/// The tensors a call moves.
fn tensors_of(call: &CollectiveCall) -> impl Iterator<Item = TensorId> + '_ {
    call.op()
        .input()
        .into_iter()
        .chain(call.op().output())
        .map(|t| t.id)
}

/// Issue `call` in `scope` (whose members are `members`) for `rank`, at its current
/// simulated time. The last member to arrive runs `complete` on the world (moving data; it
/// returns the operation's end time) and posts the outcome to every member. A `blocking`
/// issuer waits from now on (its [`wait`] only receives the outcome); an asynchronous one
/// goes on running. The call's tensors stay alive until it has run, even if the guest drops
/// them meanwhile. The caller holds the world's lock (it looked up the group under it).
pub fn issue(
    w: &mut World,
    rank: u32,
    scope: Scope,
    members: &Arc<[u32]>,
    call: CollectiveCall,
    blocking: bool,
    complete: impl FnOnce(
        &mut World,
        &[(u32, CollectiveCall)],
        Vec<u64>,
        u64,
    ) -> Result<(CollectiveRecord, Plan), Abort>,
) -> Result<Issued, Abort> {
    let ticket = if blocking {
        w.blocking_ticket(rank)
    } else {
        Ticket::default()
    };
    // A blocking issuer waits from its arrival on, also when it completes the slot itself:
    // the collective's end then releases it like every other member (`finish`).
    if blocking && let Some(state) = w.states.get_mut(rank as usize) {
        *state = RankState::Waiting(ticket.clone());
    }
    let arrived = Arrived {
        call,
        at_ns: w.sim.clocks.get(rank),
        ticket: ticket.clone(),
    };
    let kept = (!blocking).then(|| arrived.clone());
    let pinned: Vec<TensorId> = tensors_of(&arrived.call).collect();
    for id in &pinned {
        w.sim.store.pin(*id);
    }
    let arrival = w.rendezvous.arrive(scope, members, rank, arrived, blocking);
    if arrival.is_err() {
        for id in &pinned {
            w.sim.store.unpin(*id);
        }
        w.release(rank, &ticket);
    }
    let seq = match arrival {
        Ok(Arrival::Complete { calls, seq }) => {
            let mut tickets = Vec::with_capacity(calls.len());
            let mut arrivals = Vec::with_capacity(calls.len());
            let calls: Vec<(u32, CollectiveCall)> = calls
                .into_iter()
                .map(|(r, a)| {
                    tickets.push((r, a.ticket));
                    arrivals.push(a.at_ns);
                    (r, a.call)
                })
                .collect();
            let started = complete(w, &calls, arrivals, seq);
            for (_, call) in &calls {
                for id in tensors_of(call) {
                    w.sim.store.unpin(id);
                }
            }
            match started {
                Ok((record, plan)) => {
                    let (group, src, dst) = match scope {
                        Scope::Group(g) => (g, u32::MAX, u32::MAX),
                        Scope::Channel { group, src, dst } => (group, src, dst),
                    };
                    let key = (record.start_ns, group, src, dst, seq);
                    w.start_flow(key, record, plan, tickets);
                }
                Err(abort) => {
                    if let Some(progress) = &w.progress {
                        progress.collective_done();
                    }
                    for (r, t) in tickets {
                        w.release(r, &t);
                        t.post(Err(abort.clone()));
                    }
                }
            }
            seq
        }
        Ok(Arrival::Wait { seq }) => seq,
        Err(RendezvousError::Mismatch(message)) => {
            return Err(Abort::new(FailureKind::CollectiveMismatch, message));
        }
        Err(RendezvousError::Deadlock(message)) => {
            return Err(Abort::new(FailureKind::Deadlock, message));
        }
    };
    // A blocking issuer not released yet (by `finish`, or a failed collective) waits for
    // the others to complete its slot or, if it completed it, for the network to end its
    // communication: the network may run meanwhile.
    if blocking && w.is_held(rank) {
        w.settle();
    }
    Ok(Issued {
        scope,
        seq,
        ticket,
        call: kept,
    })
}

/// Wait for an operation `rank` issued, then move its clock to the operation's end (unless
/// it is already later). A blocking issue already waits (see [`issue`]); an asynchronous
/// one starts waiting here, which may complete a deadlock.
pub async fn wait(world: &SharedWorld, rank: u32, issued: Issued) -> Result<(), Abort> {
    // Only an asynchronous issuer keeps its call.
    let blocking = issued.call.is_none();
    if let Some(call) = issued.call
        && !issued.ticket.is_ready()
    {
        let mut w = lock(world);
        let pending = Pending {
            scope: issued.scope,
            seq: issued.seq,
            call,
        };
        if let Err(e) = w.rendezvous.block(rank, pending) {
            return Err(Abort::new(FailureKind::Deadlock, e.to_string()));
        }
        if let Some(state) = w.states.get_mut(rank as usize) {
            *state = RankState::Waiting(issued.ticket.clone());
        }
        w.settle();
    }
    // Whoever posted the outcome released this rank first (`finish`, or a failed
    // collective), and `finish` moved a released rank's clock too: a blocking issuer, whose
    // barrier round so takes the world's lock once, in `issue`, is done. An asynchronous
    // one may not have been waiting yet when its operation ended.
    let end = issued.ticket.recv().await?;
    if !blocking {
        lock(world).sim.clocks.reach(rank, end);
    }
    Ok(())
}

/// Whether the operation behind `ticket` has ended by `rank`'s clock, exactly: the rank
/// waits (in host time) until the network has run to its clock, so a flow another rank,
/// behind in simulated time, has yet to start is counted (ADR-0008).
pub async fn done_by_now(world: &SharedWorld, rank: u32, ticket: &Ticket) -> bool {
    let ended_by = |now: u64| ticket.peek(|o| matches!(o, Some(Ok(end)) if *end <= now));
    let (now, asked) = {
        let mut w = lock(world);
        let now = w.sim.clocks.get(rank);
        if ticket.is_ready() {
            return ended_by(now);
        }
        let asked = Arc::new(Mailbox::default());
        if let Some(state) = w.states.get_mut(rank as usize) {
            *state = RankState::Until(now, asked.clone());
            w.asking += 1;
        }
        w.settle();
        (now, asked)
    };
    asked.recv().await;
    ended_by(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Op, SimLimits, Topology};
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    fn world(ranks: u32) -> SharedWorld {
        let sim = Simulator::new(Topology::embedded_default(), SimLimits::default(), ranks);
        Arc::new(Mutex::new(World::new(
            sim,
            CclConfig::default(),
            LaunchMode::Spawn,
            ranks,
        )))
    }

    fn barrier(world: &SharedWorld, rank: u32) -> impl Future<Output = Result<(), Abort>> + '_ {
        let members = [0, 1];
        let call = CollectiveCall::new(rank, 0, &members, Op::Barrier);
        let call = call.unwrap_or_else(|e| panic!("{e}"));
        async move {
            let scope = Scope::Group(0);
            let members: Arc<[u32]> = Arc::from(members);
            let issued = issue(
                &mut lock(world),
                rank,
                scope,
                &members,
                call,
                true,
                |w, calls, at, seq| {
                    let (mut record, _) = w
                        .sim
                        .execute_collective(calls, at, seq, &CclConfig::default(), &|_| Ok(()))
                        .map_err(|e| Abort::new(FailureKind::InvalidArgument, e.to_string()))?;
                    // A plan of one 7 ns stage stands for the collective's communication.
                    record.end_ns = 0;
                    let stage = crate::sim::cost::Stage {
                        latency_ns: 7,
                        loads: Vec::new(),
                    };
                    Ok((
                        record,
                        Plan {
                            stages: vec![stage],
                        },
                    ))
                },
            )?;
            wait(world, rank, issued).await
        }
    }

    fn poll<F: Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
        f.poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn a_blocking_ticket_is_reused_empty_and_never_while_held() {
        let w = world(2);
        let mut w = lock(&w);
        let first = w.blocking_ticket(0);
        // An outcome posted to a wait that was dropped afterwards stays in the mailbox.
        first.post(Ok(5));
        let first_ptr = Arc::as_ptr(&first);
        drop(first);
        let second = w.blocking_ticket(0);
        assert_eq!(Arc::as_ptr(&second), first_ptr, "reused");
        assert!(!second.is_ready(), "the stale outcome is gone");
        // Still held (a wait dropped unfinished): a new ticket, never a shared one.
        let third = w.blocking_ticket(0);
        assert!(!Arc::ptr_eq(&second, &third));
    }

    #[test]
    fn the_last_to_arrive_releases_the_waiting_rank() {
        let w = world(2);
        let mut first = pin!(barrier(&w, 0));
        assert!(poll(first.as_mut()).is_pending());
        assert_eq!(poll(pin!(barrier(&w, 1))), Poll::Ready(Ok(())));
        assert_eq!(poll(first), Poll::Ready(Ok(())));
        assert_eq!(
            lock(&w).sim.clocks.get(0),
            7,
            "waiting reached the end time"
        );
    }
}
