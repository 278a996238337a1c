//! Collectives on real data, their rendezvous checks, and their simulated time against the
//! cost model's closed forms on the embedded default topology (ADR-0008):
//! inter-SIP alpha = 2000 ns latency + 1000 ns IO_CPU = 3000 ns, beta = 50 B/ns; a message of
//! data off the IO_CPU's cube (cube 0) also crosses a cube port on each side, 2 x 500 ns;
//! inter-cube ports 100 B/ns; N = 8, S = 1 MiB.

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
    // all_reduce, ring, on cube 0: 2(N-1) alpha + ceil(2(N-1) S/N / beta)
    //   = 14 x 3000 + ceil(14 x 131072 / 50) = 42000 + 36701;
    // then split rows over 4 cubes: the latency once per step, 14 x (3000 + 2 x 500).
    assert_eq!(d("all_reduce"), [78_701, 92_701]);
    // broadcast and reduce, ring = pipelined chain of P = S / 128 KiB = 8 pieces:
    // (N-1) alpha + (N-2) ceil(131072 / 50) + ceil(S / 50) = 21000 + 6 x 2622 + 20972
    assert_eq!(d("broadcast"), [57_704]);
    assert_eq!(d("reduce"), [57_704]);
    // all_gather (S = 8 MiB output), reduce_scatter (S = 8 MiB input), all_to_all (S = 8 MiB):
    // (N-1) alpha + ceil((N-1) S/N / beta) = 21000 + ceil(7 x 1048576 / 50) = 21000 + 146801
    // (all_to_all's pairwise steps use other links each, but every step loads every
    // IO_CPU alike, and those bound the links on a full mesh: the same form)
    assert_eq!(d("all_gather_into_tensor"), [167_801]);
    assert_eq!(d("reduce_scatter_tensor"), [167_801]);
    assert_eq!(d("all_to_all_single"), [167_801]);
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
fn recursive_doubling_and_intercube_follow_their_closed_forms() {
    let report = timed(r#"{"defaults": {"algorithm": "recursive_doubling"}}"#);
    let d = durations(&report);
    let get = |name: &str| {
        d.iter()
            .filter(|(n, _)| n == name)
            .map(|(_, t)| *t)
            .collect::<Vec<_>>()
    };
    // barrier, dissemination: ceil(log2 8) = 3 rounds of alpha: 3 x 3000
    assert_eq!(get("barrier"), [9_000]);
    // all_reduce, recursive doubling, cube 0: 3 x alpha + ceil(3 S / beta) (every round
    // loads every IO_CPU with S) = 9000 + 62915; on 4 cubes: 3 x 4000 + 62915
    assert_eq!(get("all_reduce"), [71_915, 74_915]);
    // broadcast, binomial tree: 3 x (alpha + ceil(S / beta)) = 3 x 23972
    assert_eq!(get("broadcast"), [71_916]);

    let report = timed(r#"{"overrides": {"all_reduce": {"algorithm": "intercube"}}}"#);
    let d = durations(&report);
    let ar: Vec<u64> = d
        .iter()
        .filter(|(n, _)| n == "all_reduce")
        .map(|(_, t)| *t)
        .collect();
    // intercube on cube 0: nothing to gather, the ring of 78701.
    // On 4 cubes: gather the 3 off-cube quarters into cube 0's port, 500 + ceil(3 x 262144 /
    // 100) = 8365, the ring with one message per step and no cube ports (78701), and the
    // scatter back (8365): 95431. At 1 MiB the flat ring (92701) wins; intercube wins for
    // small messages, where it saves 2 x 500 ns per step.
    assert_eq!(ar, [78_701, 95_431]);
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

/// The guest at `path` on 2 SIPs with `case` as its argument.
fn two_ranks(path: &str, case: &str) -> RunReport {
    let mut options = RunOptions::new(topology(2));
    options.args = vec![case.to_owned()];
    run_with(path, options).unwrap()
}

fn expect_mismatch(case: &str, needles: &[&str]) {
    let report = two_ranks(artifacts::MISMATCH, case);
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
            "rank 0 called all_reduce(tensor [4, 4] float32, op sum) but rank 1 called broadcast(tensor [4, 4] float32, src 0)",
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
            "rank 0 called new_group([0]) as its call #1, but rank 1 called new_group([0, 1]) as its call #1",
        ],
    );
    // Calls that match but cannot run are named by what went wrong, not a mismatch.
    let report = two_ranks(artifacts::MISMATCH, "bool-avg");
    let failure = report.failure.unwrap();
    assert_eq!(failure.kind, FailureKind::InvalidArgument.name());
    assert_eq!(
        failure.message,
        "all_reduce could not run: avg of bool tensors is undefined: use sum (any) or min (all)"
    );

    // Two blocking sends to each other: each direction is its own channel (as MPI orders
    // messages), so neither send is matched and both ranks wait: a deadlock naming both.
    let report = two_ranks(artifacts::MISMATCH, "sendsend");
    let failure = report.failure.unwrap();
    assert_eq!(failure.kind, FailureKind::Deadlock.name());
    for needle in [
        "rank 0 waits in send(tensor [4, 4] float32, to rank 1) (call #1 in point-to-point 0->1 in the world group, still missing rank 1)",
        "rank 1 waits in send(tensor [4, 4] float32, to rank 0) (call #1 in point-to-point 1->0 in the world group, still missing rank 0)",
    ] {
        assert!(
            failure.message.contains(needle),
            "{needle:?} not in {}",
            failure.message
        );
    }
}

#[test]
pub fn group_deadlock() {
    let report = run(artifacts::GROUP_DEADLOCK, 3);
    let failure = report.failure.unwrap();
    assert_eq!(failure.kind, "deadlock");
    for needle in [
        "every live rank is waiting",
        "rank 0 waits in barrier() (call #1 in group 1, still missing ranks 1, 2)",
        "rank 1 waits in barrier() (call #1 in group 2, still missing rank 0)",
        "rank 2 waits in barrier() (call #1 in group 2, still missing rank 0)",
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

fn async_case(case: &str) -> RunReport {
    two_ranks(artifacts::ASYNC_OPS, case)
}

/// `label` at T ns printed by `rank`: T.
fn printed_at(report: &RunReport, rank: usize, label: &str) -> u64 {
    let out = &report.ranks[rank].stdout;
    let line = out
        .lines()
        .find(|l| l.starts_with(label))
        .unwrap_or_else(|| panic!("no {label:?} in {out}"));
    line[label.len()..]
        .split_whitespace()
        .next()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no time in {line:?}"))
}

/// 256 KiB on one PE (k = 1) over the inter-SIP link: 3000 + ceil(262144 / 50) ns.
const ONE_TRANSFER_NS: u64 = 3000 + 262_144_u64.div_ceil(50);

#[test]
pub fn async_ops() {
    // A two-way exchange with isend + irecv costs one transfer, as a one-way send does.
    let report = async_case("exchange");
    assert_ok(&report);
    for rank in 0..2 {
        let issued = printed_at(&report, rank, "issued at ");
        let exchanged = printed_at(&report, rank, "exchanged at ");
        let one_way = printed_at(&report, rank, "one-way at ");
        assert_eq!(exchanged - issued, ONE_TRANSFER_NS, "rank {rank}");
        assert_eq!(one_way - exchanged, ONE_TRANSFER_NS, "rank {rank}");
        assert!(report.ranks[rank].stdout.contains("everywhere: true"));
    }
    let records = &report.collectives;
    assert_eq!(records.len(), 3);
    assert!(
        records[..2]
            .iter()
            .all(|c| c.start_ns == records[0].start_ns)
    );
    assert_eq!(records.iter().map(|c| c.seq).collect::<Vec<_>>(), [0, 1, 2]);

    // An async all_reduce overlaps the matmul issued after it: the wait lands at the
    // collective's end, 2 (n - 1) alpha + ceil(2 (n - 1) (S / n) / beta) after the issue,
    // not after compute + collective.
    let report = async_case("overlap");
    assert_ok(&report);
    let all_reduce_ns = 2 * 3000 + (2 * 131_072_u64).div_ceil(50);
    for rank in 0..2 {
        let issued = printed_at(&report, rank, "issued at ");
        let computed = printed_at(&report, rank, "computed at ");
        let waited = printed_at(&report, rank, "waited at ");
        assert!(issued < computed && computed < waited);
        assert_eq!(waited - issued, all_reduce_ns, "rank {rank}");
        assert!(report.ranks[rank].stdout.contains("sum 3"));
    }

    // A receive posted early completes one transfer after the sender's late send.
    let report = async_case("compute-first");
    assert_ok(&report);
    let computed = printed_at(&report, 1, "computed at ");
    for rank in 0..2 {
        assert_eq!(
            printed_at(&report, rank, "received at "),
            computed + ONE_TRANSFER_NS
        );
    }

    // Polling is exact in simulated time, whichever rank the host runs first: rank 1 fills
    // 4 MiB on one PE (ceil(4194304 / 100) ns after its 256 KiB zeros, 2622 ns) and sends;
    // rank 0's irecv, posted at 2622, ends one transfer after the send, and rank 0's 100 ns
    // polls see it done at the first poll at or past that end.
    for _ in 0..3 {
        let report = async_case("poll");
        assert_ok(&report);
        let sent = printed_at(&report, 1, "sent at ");
        assert_eq!(sent, 2622 + 41_944);
        let end = sent + ONE_TRANSFER_NS;
        // Poll k ends at 2622 + 100 k; the first at or past the end says done, the ones
        // before it (counted by the guest) said not yet.
        let polls = (end - 2622).div_ceil(100);
        let line = format!("polled {} times, done at {}", polls - 1, 2622 + 100 * polls);
        assert_eq!(report.ranks[0].stdout.lines().next(), Some(line.as_str()));
    }

    // A rank that exits waits for what it left in flight: a send nobody receives is a
    // deadlock naming it, whichever rank the host happened to run first.
    let report = async_case("unfinished");
    let failure = report.failure.unwrap();
    assert_eq!((failure.kind.as_str(), failure.rank), ("deadlock", Some(0)));
    assert_eq!(
        failure.message,
        "rank 0 waits in send(tensor [4] float32, to rank 1) (call #1 in point-to-point 0->1 in the world group) but member rank 1 exited without making that call; it can never complete"
    );
    assert_eq!(report.ranks[0].stdout, "leaving with a send in flight\n");

    // A tensor dropped while its send is in flight stays alive until the send has run.
    let report = async_case("dropped-tensor");
    assert_ok(&report);
    assert_eq!(report.ranks[1].stdout, "received true\n");

    // Waiting on receives nobody sends is a deadlock naming each rank's pending receive.
    let report = async_case("deadlock");
    let failure = report.failure.unwrap();
    assert_eq!(failure.kind, "deadlock");
    for needle in [
        "rank 0 waits in recv(tensor [4] float32, from rank 1) (call #1 in point-to-point 1->0 in the world group, still missing rank 1)",
        "rank 1 waits in recv(tensor [4] float32, from rank 0) (call #1 in point-to-point 0->1 in the world group, still missing rank 0)",
    ] {
        assert!(
            report
                .ranks
                .iter()
                .any(|r| r.error.as_deref().is_some_and(|e| e.contains(needle))),
            "{needle}"
        );
    }

    // A send and a receive of different sizes are a mismatch naming both, async or not.
    let report = async_case("sizes");
    let failure = report.failure.unwrap();
    assert_eq!(failure.kind, "collective-mismatch");
    assert!(
        failure
            .message
            .contains("recv(tensor [8] float32, from rank 0)")
            && failure
                .message
                .contains("send(tensor [4] float32, to rank 1)"),
        "{}",
        failure.message
    );

    // monitored_barrier names the rank that never arrives.
    let report = async_case("monitored");
    let error = report.ranks[0].error.clone().unwrap_or_default();
    assert!(
        error.contains(
            "rank 0 waits in barrier() (call #1 in the world group, still missing rank 1)"
        ),
        "{error}"
    );

    // Operations in flight are bounded by ops_in_flight_per_rank, checked before issuing.
    let mut options = RunOptions::new(topology(2));
    options.args = vec!["flood".to_owned()];
    options
        .policy
        .limits
        .set("ops_in_flight_per_rank", "16")
        .unwrap();
    let report = run_with(artifacts::ASYNC_OPS, options).unwrap();
    assert_eq!(
        report.ranks[0].stdout,
        "issued 16, then: limit exceeded: recv: this rank already has 16 operations in flight, the most it may (ops_in_flight_per_rank); wait for some first\n"
    );
    // The dropped receives are still in flight when the ranks exit: nobody sends, a deadlock.
    let failure = report.failure.unwrap();
    assert_eq!(failure.kind, "deadlock");
    assert!(
        failure.message.contains("waits in recv(tensor [1] float32"),
        "{}",
        failure.message
    );
}

#[test]
pub fn work_misuse() {
    let report = two_ranks(artifacts::WORK_MISUSE, "wait-twice");
    assert_ok(&report);
    assert_eq!(report.backend_aliases, ["gloo"]);
    for r in &report.ranks {
        assert_eq!(
            r.stdout,
            "backend ccl\ncompleted: true\nsecond wait: Error::InvalidArgument(\"wait on a work that was already waited for: each operation is waited for once\")\n"
        );
    }
    // Leaving the group waits for the work in flight: rank 0's receive needs rank 1's send,
    // which comes after a barrier rank 0 never reaches, so the wait is a named deadlock.
    let report = two_ranks(artifacts::WORK_MISUSE, "destroy-busy");
    let failure = report.failure.unwrap();
    assert_eq!(failure.kind, "deadlock");
    let errors: Vec<String> = report
        .ranks
        .iter()
        .filter_map(|r| r.error.clone())
        .collect();
    let named = |needle: &str| errors.iter().any(|e| e.contains(needle));
    assert!(
        named(
            "rank 0 waits in recv(tensor [4] float32, from rank 1) (call #2 in point-to-point 1->0 in the world group, still missing rank 1)"
        ) && named("rank 1 waits in barrier() (call #1 in the world group, still missing rank 0)"),
        "{errors:?}"
    );
}

#[test]
pub fn object_collectives() {
    let report = run(artifacts::OBJECT_COLLECTIVES, 4);
    assert_ok(&report);
    for r in &report.ranks {
        let (dp, tp) = (r.rank / 2, r.rank % 2);
        let expected = format!(
            "broadcast: [102, 114, 111, 109, 32, 49] [1]\n\
             gathered lengths [0, 3, 6, 9], contents right: true\n\
             mesh [2, 2]: at ({dp}, {tp}), dp group [{tp}, {}], tp group [{}, {}]\n\
             invalid argument: init_device_mesh: mesh shape [3, 4] does not hold the world of 4 ranks (its product must be 4)\n\
             invalid argument: mesh dimension 2 does not exist: the mesh [2, 2] has 2 dimensions\n",
            tp + 2,
            dp * 2,
            dp * 2 + 1
        );
        assert_eq!(r.stdout, expected, "rank {}", r.rank);
    }
    // Objects move as tensors: lengths then bytes, as broadcasts and all-gathers.
    let names: Vec<&str> = report.collectives.iter().map(|c| c.name).collect();
    assert_eq!(
        &names[..4],
        [
            "broadcast",
            "broadcast",
            "all_gather_into_tensor",
            "all_gather_into_tensor"
        ]
    );
}

#[test]
pub fn list_collectives() {
    for n in [3u32, 4] {
        let report = run(artifacts::LIST_COLLECTIVES, n);
        assert_ok(&report);
        for r in &report.ranks {
            let mut expected = String::from(
                "all_gather: true\nall_gather_async: true\nreduce_scatter: true\nall_to_all: true\n",
            );
            if r.rank == 1 {
                let all: Vec<String> = (0..n).map(|i| format!("{}.0", i)).collect();
                expected += &format!("gather at 1: [{}]\n", all.join(", "));
            }
            expected += &format!("scatter: [{}.0]\n", 7 * r.rank);
            if r.rank % 2 == 0 {
                let evens: Vec<String> = (0..n)
                    .filter(|x| x % 2 == 0)
                    .map(|i| format!("{i}.0"))
                    .collect();
                expected += &format!(
                    "group all_gather (group rank {}): [{}]\n",
                    r.rank / 2,
                    evens.join(", ")
                );
            }
            expected += &format!(
                "invalid argument: all_gather: the list has {} tensors but the group has {n} members\n",
                n - 1
            );
            assert_eq!(r.stdout, expected, "n = {n}, rank {}", r.rank);
        }
    }
}

/// Two groups with no rank in common share the links their collectives cross (ADR-0008):
/// on a ring fabric of 8 SIPs the evens' logical ring 0 -> 2 -> 4 -> 6 -> 0 and the odds'
/// 1 -> 3 -> 5 -> 7 -> 1 both cross every ascending link, so each gets half of each link
/// while both move bytes. On the full mesh they share nothing.
#[test]
pub fn link_contention() {
    use kernbench_host::sim::topology::Fabric;
    let run_case = |fabric: Fabric, case: &str| {
        let mut spec = kernbench_host::sim::TopologySpec::embedded_default();
        spec.system.sips.fabric = fabric;
        let mut options = RunOptions::new(spec.validate("test").unwrap());
        options.args = vec![case.to_owned()];
        let report = run_with(artifacts::LINK_CONTENTION, options).unwrap();
        assert_ok(&report);
        for (rank, r) in report.ranks.iter().enumerate() {
            let want = if rank % 2 == 0 { 12 } else { 16 };
            if case == "both" || rank % 2 == 0 {
                assert!(
                    r.stdout.starts_with(&format!("sum {want} ")),
                    "{}",
                    r.stdout
                );
            }
        }
        let times: Vec<(Vec<u32>, u64)> = report
            .collectives
            .iter()
            .filter(|c| c.name == "all_reduce")
            .map(|c| (c.ranks.to_vec(), c.end_ns - c.start_ns))
            .collect();
        times
    };
    // 4 ranks, 16 MiB: 6 steps of 2 hops (2 x 3000 ns each); every ascending link carries
    // 6 blocks of 4 MiB: alone ceil(6 x 4194304 / 50) = 503317 ns, shared at 25 B/ns
    // ceil(6 x 4194304 / 25) = 1006633 ns.
    let latency = 6 * 2 * 3000;
    let alone = latency + (6 * 4_194_304_u64).div_ceil(50);
    let shared = latency + (6 * 4_194_304_u64).div_ceil(25);
    let evens = vec![0, 2, 4, 6];
    let odds = vec![1, 3, 5, 7];
    assert_eq!(
        run_case(Fabric::Ring, "evens-only"),
        [(evens.clone(), alone)]
    );
    let both = run_case(Fabric::Ring, "both");
    assert_eq!(both, [(evens.clone(), shared), (odds.clone(), shared)]);
    // The full mesh gives each its own links: one hop per step, alone.
    let mesh = 6 * 3000 + (6 * 4_194_304_u64).div_ceil(50);
    assert_eq!(
        run_case(Fabric::FullMesh, "both"),
        [(evens, mesh), (odds, mesh)]
    );
}
