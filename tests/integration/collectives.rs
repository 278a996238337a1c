//! Collectives on real data, their rendezvous checks, and their simulated time against the
//! cost model's closed forms on the embedded default topology (ADR-0008):
//! inter-SIP alpha = 2000 ns latency + 1000 ns IO_CPU = 3000 ns, beta = 50 B/ns;
//! inter-cube alpha = 500 ns, beta = 100 B/ns; N = 8, S = 1 MiB, k = cubes holding the tensor.

use kernbench_host::model::{FailureKind, RunOptions};
use kernbench_host::report::{RankStatus, RunReport, RunStatus};
use kernbench_host::sim::CclConfig;
use kernbench_tests::{artifacts, assert_ok, run, run_with, topology};

fn durations(report: &RunReport) -> Vec<(String, u64)> {
    report
        .collectives
        .iter()
        .map(|c| (c.name.to_owned(), c.end_ns - c.start_ns))
        .collect()
}

fn timed(ccl: &str) -> RunReport {
    let mut options = RunOptions::new(topology(8));
    options.ccl = CclConfig::from_json(ccl, "test").unwrap();
    let report = run_with(artifacts::TIMED_COLLECTIVES, options).unwrap();
    assert_ok(&report);
    report
}

#[test]
pub fn timed_collectives() {
    let report = timed("{}");
    let d = |name: &str| {
        durations(&report)
            .into_iter()
            .filter(|(n, _)| n == name)
            .map(|(_, t)| t)
            .collect::<Vec<_>>()
    };
    // barrier, ring: 2(N-1) x alpha = 14 x 3000
    assert_eq!(d("barrier"), [42_000]);
    // all_reduce, ring, k=1: 2(N-1) x (alpha + ceil(S/N / beta)) = 14 x (3000 + ceil(131072/50)=2622) = 14 x 5622
    // then k=4 (split-rows over 4 cubes): 2(N-1) x k x (alpha + ceil(S/N/k / beta)) = 56 x (3000 + ceil(32768/50)=656)
    assert_eq!(d("all_reduce"), [78_708, 204_736]);
    // broadcast and reduce, ring = pipelined chain, P = ceil(S / 1 MiB) = 1 chunk:
    // (N-1+P-1) x (alpha + ceil(S/P / beta)) = 7 x (3000 + ceil(1048576/50)=20972) = 7 x 23972
    assert_eq!(d("broadcast"), [167_804]);
    assert_eq!(d("reduce"), [167_804]);
    // all_gather (S = 8 MiB output), reduce_scatter (S = 8 MiB input), all_to_all (S = 8 MiB):
    // (N-1) x (alpha + ceil(S/N / beta)) = 7 x (3000 + 20972)
    assert_eq!(d("all_gather_into_tensor"), [167_804]);
    assert_eq!(d("reduce_scatter_tensor"), [167_804]);
    assert_eq!(d("all_to_all_single"), [167_804]);
    // send/recv, k=1: alpha + ceil(S / beta) = 3000 + 20972
    assert_eq!(d("send_recv"), [23_972]);
    // A collective starts at the latest member's clock and every member leaves at its end.
    for c in &report.collectives {
        assert_eq!(c.start_ns, *c.arrivals_ns.iter().max().unwrap());
    }
    let end = report.ranks[2].sim_time_ns;
    assert!(
        report.ranks[2..].iter().all(|r| r.sim_time_ns == end),
        "ranks 2..8 end together"
    );
    assert_eq!(
        report.ranks[0].sim_time_ns,
        end + 23_972,
        "ranks 0 and 1 also did the send/recv"
    );
}

#[test]
fn tree_and_intercube_follow_their_closed_forms() {
    let report = timed(r#"{"defaults": {"algorithm": "tree"}}"#);
    let d = durations(&report);
    let get = |name: &str| {
        d.iter()
            .filter(|(n, _)| n == name)
            .map(|(_, t)| *t)
            .collect::<Vec<_>>()
    };
    // barrier, tree: L x alpha with L = ceil(log2 8) = 3: 3 x 3000
    assert_eq!(get("barrier"), [9_000]);
    // all_reduce, tree (recursive doubling), k=1: L x (alpha + ceil(S/beta)) = 3 x 23972;
    // k=4: L x k x (alpha + ceil(S/k / beta)) = 12 x (3000 + ceil(262144/50)=5243) = 12 x 8243
    assert_eq!(get("all_reduce"), [71_916, 98_916]);
    // broadcast, tree (binomial): L x (alpha + ceil(S/beta)) = 3 x 23972
    assert_eq!(get("broadcast"), [71_916]);

    let report = timed(r#"{"overrides": {"all_reduce": {"algorithm": "intercube"}}}"#);
    let d = durations(&report);
    let ar: Vec<u64> = d
        .iter()
        .filter(|(n, _)| n == "all_reduce")
        .map(|(_, t)| *t)
        .collect();
    // intercube, k=1: no intra-SIP phase; 2(N-1) x (alpha + ceil(S/N / beta)) = 14 x 5622.
    // k=4: I = 2 x (500 + ceil(262144/100)=2622) = 6244, plus 14 x 5622 = 78708 -> 84952.
    assert_eq!(ar, [78_708, 84_952]);
    assert!(
        report
            .collectives
            .iter()
            .filter(|c| c.name == "all_reduce")
            .all(|c| c.algorithm.name() == "intercube")
    );
    assert!(
        report
            .collectives
            .iter()
            .filter(|c| c.name == "barrier")
            .all(|c| c.algorithm.name() == "ring")
    );
}

fn expect_mismatch(case: &str, needles: &[&str]) {
    let mut options = RunOptions::new(topology(2));
    options.args = vec![case.to_owned()];
    let report = run_with(artifacts::MISMATCH, options).unwrap();
    assert_eq!(report.status, RunStatus::Failed, "{case}");
    let failure = report.failure.unwrap();
    assert_eq!(
        failure.kind,
        FailureKind::CollectiveMismatch.name(),
        "{case}: {}",
        failure.message
    );
    for needle in needles {
        assert!(
            failure.message.contains(needle),
            "{case}: {needle:?} not in {}",
            failure.message
        );
    }
}

#[test]
pub fn mismatch() {
    expect_mismatch(
        "op",
        &[
            "rank 1 called broadcast(tensor [4, 4] float32, src 0) but rank 0 called all_reduce(tensor [4, 4] float32, op sum)",
            "call #1 in the world group",
        ],
    );
    expect_mismatch("redop", &["reduce ops differ (sum vs max)"]);
    expect_mismatch(
        "shape",
        &[
            "input element counts differ (16 vs 12)",
            "tensor [3, 4] float32",
        ],
    );
    expect_mismatch("dtype", &["input dtypes differ (float32 vs bfloat16)"]);
    expect_mismatch("root", &["roots differ (0 vs 1)"]);
    expect_mismatch(
        "group",
        &[
            "rank 1 called new_group([0, 1]) as its call #1, but another rank's call #1 was new_group([0])",
        ],
    );
    expect_mismatch(
        "sendsend",
        &["ranks 0 and 1 both send and neither receives"],
    );
}

#[test]
pub fn group_deadlock() {
    let report = run(artifacts::GROUP_DEADLOCK, 3);
    let failure = report.failure.unwrap();
    assert_eq!(failure.kind, "deadlock");
    for needle in [
        "every live rank is waiting",
        "rank 0 waits in barrier() (call #1 in group 1)",
        "rank 1 waits in barrier() (call #1 in group 2)",
        "rank 2 waits in barrier() (call #1 in group 2)",
    ] {
        assert!(
            failure.message.contains(needle),
            "{needle:?} not in {}",
            failure.message
        );
    }
    assert!(
        report
            .ranks
            .iter()
            .all(|r| r.status == RankStatus::Failed && r.error_kind == Some(FailureKind::Deadlock))
    );
}

/// Checks the Chrome trace-event format: metadata names each rank's track, complete events
/// have non-negative times, and slices on one track nest or are disjoint.
fn check_trace(trace: &serde_json::Value, ranks: u32) {
    let events = trace["traceEvents"].as_array().unwrap();
    for r in 0..ranks {
        assert!(events.iter().any(|e| e["ph"] == "M"
            && e["name"] == "thread_name"
            && e["tid"] == r
            && e["args"]["name"] == format!("rank {r}")));
    }
    let mut per_track: std::collections::BTreeMap<u64, Vec<(f64, f64)>> = Default::default();
    for e in events.iter().filter(|e| e["ph"] == "X") {
        let (ts, dur) = (e["ts"].as_f64().unwrap(), e["dur"].as_f64().unwrap());
        assert!(ts >= 0.0 && dur >= 0.0 && e["name"].is_string() && e["pid"].is_number());
        per_track
            .entry(e["tid"].as_u64().unwrap())
            .or_default()
            .push((ts, ts + dur));
    }
    for (tid, mut slices) in per_track {
        slices.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        let mut open: Vec<f64> = Vec::new();
        for (start, end) in slices {
            while open.last().is_some_and(|&e| e <= start + 1e-6) {
                open.pop();
            }
            if let Some(&parent_end) = open.last() {
                assert!(
                    end <= parent_end + 1e-6,
                    "track {tid}: slice {start}..{end} overlaps its parent ending at {parent_end}"
                );
            }
            open.push(end);
        }
    }
}

#[test]
fn trace_has_a_track_per_rank_with_collectives_and_regions() {
    let report = run(artifacts::DDP_STEP, 4);
    assert_ok(&report);
    let trace = kernbench_host::report::trace_events(&report);
    check_trace(&trace, 4);
    let events = trace["traceEvents"].as_array().unwrap();
    for name in ["forward", "backward", "allreduce_buckets", "all_reduce"] {
        assert!(
            events
                .iter()
                .any(|e| e["ph"] == "X" && e["name"] == name && e["tid"] == 3),
            "{name} on rank 3"
        );
    }
}
