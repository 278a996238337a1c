//! The collectives a run has executed, kept for the report. Records are bounded (past the
//! limit they are counted, not kept); the nccl-tests summary is aggregated as calls arrive,
//! so its counts stay exact however many calls a guest makes.

use super::ccl::{Algorithm, CollectiveKind};
use super::dtype::DType;
use super::reduce::ReduceOp;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// Most collective records a log keeps unless told otherwise (the rest are counted).
pub const MAX_COLLECTIVE_RECORDS: usize = 1 << 20;

/// Most distinct rows of the summary; further distinct calls share one overflow row, so the
/// calls of all rows still add up to every call run.
pub const MAX_SUMMARY_ROWS: usize = 4096;

/// What makes two calls one row of the nccl-tests summary.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SummaryKey {
    /// What the user called.
    pub name: &'static str,
    /// The collective kind (for the busbw factor).
    pub kind: CollectiveKind,
    /// Ranks in the group.
    pub ranks: u32,
    /// nccl-tests' size in bytes.
    pub bytes: u64,
    /// Elements in that size.
    pub count: u64,
    /// Element type.
    pub dtype: Option<DType>,
    /// Reduction.
    pub op: Option<ReduceOp>,
    /// Root.
    pub root: Option<u32>,
    /// Algorithm.
    pub algorithm: Algorithm,
}

/// One summary row: its key (`None` for the overflow row) and the calls it aggregates.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryEntry {
    /// The distinct call, or `None` for calls past [`MAX_SUMMARY_ROWS`] distinct ones.
    pub key: Option<SummaryKey>,
    /// Calls aggregated.
    pub calls: u64,
    /// Their simulated time, summed.
    pub total_ns: u128,
    /// The earliest of its calls in report order (see [`CollectiveLog::in_order`]): rows are
    /// listed by it, so their order does not depend on which rank the host ran first.
    pub first: RecordOrder,
}

/// Where a record sits in report order: start time, group, members, sequence.
pub type RecordOrder = (u64, u32, Arc<[u32]>, u64);

/// [`RecordOrder`] borrowed: what sorting and comparing need, without cloning the members.
type OrderKey<'a> = (u64, u32, &'a [u32], u64);

fn borrowed(order: &RecordOrder) -> OrderKey<'_> {
    (order.0, order.1, &order.2, order.3)
}

impl CollectiveRecord {
    /// This record's place in report order.
    pub fn order(&self) -> RecordOrder {
        (self.start_ns, self.group, self.ranks.clone(), self.seq)
    }

    fn order_key(&self) -> OrderKey<'_> {
        (self.start_ns, self.group, &self.ranks, self.seq)
    }
}

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
    pub ranks: Arc<[u32]>,
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

/// Every collective record of a run (at most its limit), the total count, and the summary.
#[derive(Debug)]
pub struct CollectiveLog {
    records: Vec<CollectiveRecord>,
    max_records: usize,
    run: u64,
    summary: Vec<SummaryEntry>,
    rows: HashMap<SummaryKey, usize>,
    overflow: Option<usize>,
}

impl Default for CollectiveLog {
    fn default() -> Self {
        CollectiveLog::with_limit(MAX_COLLECTIVE_RECORDS)
    }
}

impl CollectiveLog {
    /// A log keeping at most `max_records` records.
    pub fn with_limit(max_records: usize) -> Self {
        CollectiveLog {
            records: Vec::new(),
            max_records,
            run: 0,
            summary: Vec::new(),
            rows: HashMap::new(),
            overflow: None,
        }
    }

    /// Log one executed collective: always counted in the summary, kept as a record while
    /// fewer than the limit are.
    pub fn push(&mut self, mut record: CollectiveRecord) {
        record.index = self.run;
        self.run += 1;
        self.summarize(&record);
        if self.records.len() < self.max_records {
            self.records.push(record);
        }
    }

    fn summarize(&mut self, r: &CollectiveRecord) {
        let key = SummaryKey {
            name: r.name,
            kind: r.kind,
            ranks: r.ranks.len() as u32,
            bytes: r.bytes,
            count: r.count,
            dtype: r.dtype,
            op: r.op,
            root: r.root,
            algorithm: r.algorithm,
        };
        let ns = u128::from(r.end_ns.saturating_sub(r.start_ns));
        let row = match self.rows.get(&key) {
            Some(&i) => i,
            None if self.rows.len() < MAX_SUMMARY_ROWS => {
                self.rows.insert(key.clone(), self.summary.len());
                self.summary.push(SummaryEntry {
                    key: Some(key),
                    calls: 0,
                    total_ns: 0,
                    first: r.order(),
                });
                self.summary.len() - 1
            }
            None => *self.overflow.get_or_insert_with(|| {
                self.summary.push(SummaryEntry {
                    key: None,
                    calls: 0,
                    total_ns: 0,
                    first: r.order(),
                });
                self.summary.len() - 1
            }),
        };
        let entry = &mut self.summary[row];
        entry.calls += 1;
        entry.total_ns += ns;
        if r.order_key() < borrowed(&entry.first) {
            entry.first = r.order();
        }
    }

    /// The summary rows in report order of their earliest call.
    pub fn summary(&self) -> Vec<SummaryEntry> {
        let mut rows = self.summary.clone();
        rows.sort_by(|a, b| borrowed(&a.first).cmp(&borrowed(&b.first)));
        rows
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
        records.sort_by(|a, b| a.order_key().cmp(&b.order_key()));
        for (i, r) in records.iter_mut().enumerate() {
            r.index = i as u64;
        }
        records
    }
}
