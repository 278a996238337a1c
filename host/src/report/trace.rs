//! A Chrome trace-event file of a run (opens in ui.perfetto.dev and chrome://tracing): one
//! track per rank, with its collectives (from its call to the collective's end, so waiting
//! shows) and its named regions as slices, on the simulated clock.

use super::RunReport;
use serde_json::{Value, json};

/// Simulated nanoseconds as trace-event microseconds.
fn us(ns: u64) -> f64 {
    ns as f64 / 1e3
}

/// The trace as a JSON value (`{"traceEvents": [...]}`).
pub fn trace_events(report: &RunReport) -> Value {
    let mut events = vec![json!({
        "name": "process_name", "ph": "M", "pid": 0, "tid": 0,
        "args": { "name": format!("kernbench {} (simulated time)", report.bench) }
    })];
    for r in &report.ranks {
        events.push(json!({
            "name": "thread_name", "ph": "M", "pid": 0, "tid": r.rank,
            "args": { "name": format!("rank {}", r.rank) }
        }));
        events.push(json!({
            "name": "thread_sort_index", "ph": "M", "pid": 0, "tid": r.rank,
            "args": { "sort_index": r.rank }
        }));
    }
    for c in &report.collectives {
        for (rank, arrival) in c.ranks.iter().zip(&c.arrivals_ns) {
            events.push(json!({
                "name": c.name, "cat": "collective", "ph": "X", "pid": 0, "tid": rank,
                "ts": us(*arrival), "dur": us(c.end_ns - arrival),
                "args": {
                    "bytes": c.bytes, "count": c.count,
                    "dtype": c.dtype.map(|d| d.torch_name()), "op": c.op.map(|o| o.name()),
                    "algorithm": c.algorithm.name(), "group": c.group, "ranks": c.ranks.len(),
                    "wait_ns": c.start_ns - arrival, "transfer_ns": c.end_ns - c.start_ns,
                    "meta": c.meta,
                }
            }));
        }
    }
    for g in &report.regions {
        events.push(json!({
            "name": g.name, "cat": "region", "ph": "X", "pid": 0, "tid": g.rank,
            "ts": us(g.start_ns), "dur": us(g.end_ns - g.start_ns),
            "args": { "depth": g.depth }
        }));
    }
    json!({ "traceEvents": events, "displayTimeUnit": "ns" })
}
