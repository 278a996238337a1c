//! The collectives a run has executed, kept for the report (bounded: past the limit they
//! are counted, not kept).

use super::ccl::{Algorithm, CollectiveKind};
use super::dtype::DType;
use super::reduce::ReduceOp;
use serde::Serialize;

/// Most collective records one run keeps for its report (the rest are counted, not kept).
pub const MAX_COLLECTIVE_RECORDS: usize = 1 << 20;

/// What one collective did, for reports and traces.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CollectiveRecord {
    /// Position among the run's collectives in report order (by start time, group, sequence).
    pub index: u64,
    /// Sequence number of this call in its scope (group, or pair for send/recv): the
    /// rendezvous's numbering, so it does not depend on scheduling.
    pub seq: u64,
    /// What the user called (`all_reduce`, `send` ...).
    pub name: &'static str,
    /// The collective kind.
    pub kind: CollectiveKind,
    /// The group (0 = world).
    pub group: u32,
    /// Members (global ranks) in group order.
    pub ranks: Vec<u32>,
    /// Element type (none for a barrier).
    pub dtype: Option<DType>,
    /// Reduction.
    pub op: Option<ReduceOp>,
    /// Root (broadcast / reduce).
    pub root: Option<u32>,
    /// nccl-tests' size in bytes.
    pub bytes: u64,
    /// Elements in that size.
    pub count: u64,
    /// The algorithm the CCL config chose.
    pub algorithm: Algorithm,
    /// Simulated start: the latest arrival.
    pub start_ns: u64,
    /// Simulated end; every member's clock moves here.
    pub end_ns: u64,
    /// Each member's clock when it called.
    pub arrivals_ns: Vec<u64>,
    /// Whether the tensors were meta (time only, no data).
    pub meta: bool,
}

/// Every collective record of a run, in execution order, plus the total count.
#[derive(Debug, Default)]
pub struct CollectiveLog {
    records: Vec<CollectiveRecord>,
    run: u64,
}

impl CollectiveLog {
    /// Log one executed collective (kept while fewer than [`MAX_COLLECTIVE_RECORDS`]).
    pub fn push(&mut self, mut record: CollectiveRecord) {
        record.index = self.run;
        self.run += 1;
        if self.records.len() < MAX_COLLECTIVE_RECORDS {
            self.records.push(record);
        }
    }

    /// Collectives run, including any not kept.
    pub fn run(&self) -> u64 {
        self.run
    }

    /// Records in execution order.
    pub fn records(&self) -> &[CollectiveRecord] {
        &self.records
    }

    /// Records in an order that depends only on simulated time and program order (start
    /// time, group, members, sequence), not on how the host interleaved ranks; `index`
    /// follows that order.
    pub fn in_order(&self) -> Vec<CollectiveRecord> {
        let mut records = self.records.clone();
        records.sort_by(|a, b| {
            (a.start_ns, a.group, &a.ranks, a.seq).cmp(&(b.start_ns, b.group, &b.ranks, b.seq))
        });
        for (i, r) in records.iter_mut().enumerate() {
            r.index = i as u64;
        }
        records
    }
}
