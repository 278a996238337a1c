//! The nccl-tests view of a run's collectives: one row per distinct call (op, size, type,
//! reduction, root, group size, algorithm), with simulated time and bus bandwidth as
//! nccl-tests defines them.

use crate::sim::cost::algbw_gbytes_per_s;
use crate::sim::{MAX_SUMMARY_ROWS, SummaryEntry};
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

/// The summary rows the log aggregated, in nccl-tests' columns. Rows are sorted by what
/// they describe (op, ranks, size, type, reduction, root, algorithm; the overflow row
/// last), never by the order the host happened to run independent groups in, so the
/// report stays deterministic.
pub fn summarize(entries: &[SummaryEntry]) -> Vec<SummaryRow> {
    let mut rows: Vec<SummaryRow> = entries.iter().map(row).collect();
    rows.sort_by(|a, b| {
        let order = |r: &SummaryRow| {
            (
                r.ranks == 0,
                r.op.clone(),
                r.ranks,
                r.size_bytes,
                r.dtype.clone(),
                r.redop.clone(),
                r.root,
                r.algorithm.clone(),
            )
        };
        order(a).cmp(&order(b))
    });
    rows
}

fn row(e: &SummaryEntry) -> SummaryRow {
    let mean_ns = u64::try_from(e.total_ns / u128::from(e.calls.max(1))).unwrap_or(u64::MAX);
    let Some(k) = &e.key else {
        return SummaryRow {
            op: format!("other (distinct calls past the first {MAX_SUMMARY_ROWS} rows)"),
            ranks: 0,
            size_bytes: 0,
            count: 0,
            dtype: "none".to_owned(),
            nccl_type: "none".to_owned(),
            redop: "none".to_owned(),
            root: -1,
            algorithm: "mixed".to_owned(),
            calls: e.calls,
            time_us: mean_ns as f64 / 1e3,
            algbw_gbytes_per_s: 0.0,
            busbw_gbytes_per_s: 0.0,
        };
    };
    let algbw = algbw_gbytes_per_s(k.bytes, mean_ns);
    SummaryRow {
        op: k.name.to_owned(),
        ranks: k.ranks,
        size_bytes: k.bytes,
        count: k.count,
        dtype: k.dtype.map_or("none".to_owned(), |d| d.name().to_owned()),
        nccl_type: k
            .dtype
            .map_or("none".to_owned(), |d| d.nccl_name().to_owned()),
        redop: k.op.map_or("none".to_owned(), |o| o.name().to_owned()),
        root: k.root.map_or(-1, i64::from),
        algorithm: k.algorithm.name().to_owned(),
        calls: e.calls,
        time_us: mean_ns as f64 / 1e3,
        algbw_gbytes_per_s: algbw,
        busbw_gbytes_per_s: algbw * k.kind.busbw_factor(k.ranks),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Algorithm, CollectiveKind, CollectiveLog, CollectiveRecord, DType, ReduceOp};

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
        let mut log = CollectiveLog::with_limit(1);
        for r in [
            record(1 << 20, 10_000),
            record(1 << 20, 20_000),
            record(64, 5_000),
        ] {
            log.push(r);
        }
        assert_eq!(
            (log.records().len(), log.run()),
            (1, 3),
            "one record kept, three run"
        );
        let rows = summarize(&log.summary());
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].size_bytes, 64, "rows are sorted by size");
        let r = &rows[1];
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

    #[test]
    fn past_its_row_limit_the_summary_still_counts_every_call() {
        let mut log = CollectiveLog::with_limit(0);
        let distinct = MAX_SUMMARY_ROWS as u64 + 10;
        for bytes in 1..=distinct {
            log.push(record(bytes * 4, 1_000));
        }
        log.push(record(4, 3_000));
        let rows = summarize(&log.summary());
        assert_eq!(rows.len(), MAX_SUMMARY_ROWS + 1);
        assert_eq!(rows.iter().map(|r| r.calls).sum::<u64>(), distinct + 1);
        let other = rows.last().unwrap();
        assert!(other.op.starts_with("other"), "{}", other.op);
        assert_eq!(other.calls, 10);
        assert_eq!(
            rows[0].calls, 2,
            "a repeated call joins its row (4 bytes, sorted first)"
        );
    }
}
