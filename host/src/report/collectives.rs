//! The nccl-tests view of a run's collectives: one row per distinct call (op, size, type,
//! reduction, root, group size, algorithm), with simulated time and bus bandwidth as
//! nccl-tests defines them.

use crate::sim::CollectiveRecord;
use crate::sim::cost::{algbw_gbytes_per_s, busbw_factor};
use serde::Serialize;

/// One row of the summary table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SummaryRow {
    /// What the bench called (`all_reduce`, `broadcast` ...).
    pub op: String,
    /// Ranks in the group.
    pub ranks: u32,
    /// nccl-tests' size in bytes.
    pub size_bytes: u64,
    /// Elements in that size.
    pub count: u64,
    /// Element type as everywhere else in the report (`f32`, `bf16` ...), or `none`.
    pub dtype: String,
    /// Element type as nccl-tests names it (`float`, `bfloat16`, `half` ...).
    pub nccl_type: String,
    /// Reduction (`sum`, `prod` ...) or `none`.
    pub redop: String,
    /// Root rank, or -1 as nccl-tests prints it when there is none.
    pub root: i64,
    /// Algorithm the CCL config chose.
    pub algorithm: String,
    /// Calls aggregated in this row.
    pub calls: u64,
    /// Mean simulated time per call, microseconds.
    pub time_us: f64,
    /// Algorithm bandwidth: size / time (GB/s).
    pub algbw_gbytes_per_s: f64,
    /// Bus bandwidth: algbw x the collective's nccl-tests factor (GB/s).
    pub busbw_gbytes_per_s: f64,
}

/// Summarise records in first-appearance order.
pub fn summarize(records: &[CollectiveRecord]) -> Vec<SummaryRow> {
    let mut rows: Vec<(SummaryRow, u64)> = Vec::new();
    for r in records {
        let op = r.name.to_owned();
        let n = r.ranks.len() as u32;
        let dtype = r.dtype.map_or("none".to_owned(), |d| d.name().to_owned());
        let nccl_type = r
            .dtype
            .map_or("none".to_owned(), |d| d.nccl_name().to_owned());
        let redop = r.op.map_or("none".to_owned(), |o| o.name().to_owned());
        let root = r.root.map_or(-1, i64::from);
        let algorithm = r.algorithm.name().to_owned();
        let duration = r.end_ns - r.start_ns;
        let found = rows.iter_mut().find(|(row, _)| {
            row.op == op
                && row.ranks == n
                && row.size_bytes == r.bytes
                && row.dtype == dtype
                && row.redop == redop
                && row.root == root
                && row.algorithm == algorithm
        });
        match found {
            Some((row, total)) => {
                row.calls += 1;
                *total += duration;
            }
            None => rows.push((
                SummaryRow {
                    op,
                    ranks: n,
                    size_bytes: r.bytes,
                    count: r.count,
                    dtype,
                    nccl_type,
                    redop,
                    root,
                    algorithm,
                    calls: 1,
                    time_us: 0.0,
                    algbw_gbytes_per_s: 0.0,
                    busbw_gbytes_per_s: 0.0,
                },
                duration,
            )),
        }
    }
    let kinds: Vec<_> = records.iter().map(|r| (r.name, r.kind)).collect();
    rows.into_iter()
        .map(|(mut row, total_ns)| {
            let mean_ns = total_ns / row.calls.max(1);
            row.time_us = mean_ns as f64 / 1e3;
            row.algbw_gbytes_per_s = algbw_gbytes_per_s(row.size_bytes, mean_ns);
            let kind = kinds
                .iter()
                .find(|(name, _)| *name == row.op)
                .map(|(_, k)| *k);
            let factor = kind.map_or(1.0, |k| busbw_factor(k, row.ranks));
            row.busbw_gbytes_per_s = row.algbw_gbytes_per_s * factor;
            row
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Algorithm, CollectiveKind, DType, ReduceOp};

    fn record(bytes: u64, ns: u64) -> CollectiveRecord {
        CollectiveRecord {
            index: 0,
            seq: 0,
            name: "all_reduce",
            kind: CollectiveKind::AllReduce,
            group: 0,
            ranks: (0..8).collect(),
            dtype: Some(DType::F32),
            op: Some(ReduceOp::Sum),
            root: None,
            bytes,
            count: bytes / 4,
            algorithm: Algorithm::Ring,
            start_ns: 1000,
            end_ns: 1000 + ns,
            arrivals_ns: vec![1000; 8],
            meta: false,
        }
    }

    #[test]
    fn rows_aggregate_equal_calls_and_apply_the_busbw_factor() {
        let rows = summarize(&[
            record(1 << 20, 10_000),
            record(1 << 20, 20_000),
            record(64, 5_000),
        ]);
        assert_eq!(rows.len(), 2);
        let r = &rows[0];
        assert_eq!(
            (
                r.calls,
                r.count,
                r.dtype.as_str(),
                r.nccl_type.as_str(),
                r.redop.as_str(),
                r.root
            ),
            (2, 1 << 18, "f32", "float", "sum", -1)
        );
        assert_eq!(r.time_us, 15.0);
        // algbw = 1048576 B / 15000 ns = 69.905 GB/s; busbw = algbw x 2(8-1)/8 = x 1.75.
        assert!((r.algbw_gbytes_per_s - 1048576.0 / 15000.0).abs() < 1e-9);
        assert!((r.busbw_gbytes_per_s - r.algbw_gbytes_per_s * 1.75).abs() < 1e-9);
    }
}
