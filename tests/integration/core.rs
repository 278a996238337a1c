//! The core contract: ranks, world size (D1), device registry (D3), failure handling,
//! launch modes and the sandboxed WASI context.

use kernbench_host::model::{FailureKind, LaunchMode, RunOptions};
use kernbench_host::report::{RankStatus, RunStatus};
use kernbench_host::sched::executor::MAX_THREADS;
use kernbench_host::sim::CclConfig;
use kernbench_tests::{artifacts, assert_ok, run, run_with, topology};

fn ccl(json: &str) -> CclConfig {
    CclConfig::from_json(json, "test").unwrap()
}

#[test]
fn world_size_comes_from_the_topology_by_default() {
    let report = run(artifacts::HELLO, 4);
    assert_eq!(
        (
            report.world_size,
            report.world_size_source.as_deref().unwrap_or_default()
        ),
        (4, "topology system.sips.count")
    );
}

#[test]
fn ccl_defaults_world_size_wins_over_the_topology() {
    let mut options = RunOptions::new(topology(4));
    options.ccl = ccl(r#"{"defaults": {"world_size": 4}}"#);
    let report = run_with(artifacts::HELLO, options).unwrap();
    assert_ok(&report);
    assert_eq!(
        (
            report.world_size,
            report.world_size_source.as_deref().unwrap_or_default()
        ),
        (
            4,
            "CCL defaults.world_size, set by --world-size or the --ccl file"
        )
    );
}

#[test]
fn ccl_override_world_size_wins_over_defaults() {
    let mut options = RunOptions::new(topology(4));
    options.ccl =
        ccl(r#"{"defaults": {"world_size": 8}, "overrides": {"all_reduce": {"world_size": 4}}}"#);
    let report = run_with(artifacts::HELLO, options).unwrap();
    assert_ok(&report);
    assert_eq!(
        (
            report.world_size,
            report.world_size_source.as_deref().unwrap_or_default()
        ),
        (4, "CCL overrides.all_reduce.world_size")
    );
}

#[test]
fn a_world_size_other_than_the_sip_count_is_refused_before_any_rank_runs() {
    let mut options = RunOptions::new(topology(8));
    options.ccl = ccl(r#"{"defaults": {"world_size": 256}}"#);
    let err = run_with(artifacts::HELLO, options).unwrap_err().to_string();
    assert!(
        err.contains(
            "world size 256 (from CCL defaults.world_size, set by --world-size or the --ccl file) differs from the topology's 8 SIPs"
        ),
        "{err}"
    );
    assert!(
        err.contains("legacy rank = PE mapping is not supported"),
        "{err}"
    );
}

#[test]
pub fn devices() {
    let report = run(artifacts::DEVICES, 4);
    assert_ok(&report);
    for r in &report.ranks {
        let next = (r.rank + 1) % 4;
        let expected = format!(
            "before: ahbm=None accelerator=None\n\
             after ahbm::set_device({rank}): accelerator=Some({rank})\n\
             after accelerator::set_device_index({next}): ahbm=Some({next})\n\
             set_device(4): invalid device: device 4 is out of range: the system has 4 SIPs (0..=3)\n\
             set_device_index(max): refused\n\
             still bound: Some({next})\n",
            rank = r.rank
        );
        assert_eq!(r.stdout, expected);
        assert_eq!(
            r.device,
            Some(next),
            "the report shows the device bound at the end"
        );
    }
}

#[test]
pub fn panic_rank() {
    for (sips, fail) in [(8u32, 3u32), (8, 0), (8, 7), (1, 0)] {
        let mut options = RunOptions::new(topology(sips));
        options.args = vec![fail.to_string()];
        let report = run_with(artifacts::PANIC_RANK, options).unwrap();
        assert_eq!(report.status, RunStatus::Failed);
        let failure = report.failure.clone().unwrap();
        assert_eq!((failure.rank, failure.kind.as_str()), (Some(fail), "trap"));
        assert!(
            failure
                .message
                .contains(&format!("rank {fail} gives up on purpose")),
            "{}",
            failure.message
        );
        assert!(
            failure.message.contains("panicked at"),
            "{}",
            failure.message
        );
        // Advice a bench cannot follow is not printed (the SDK's panic hook).
        let stderr = &report.ranks[fail as usize].stderr;
        assert!(stderr.contains("gives up on purpose"), "{stderr}");
        assert!(!stderr.contains("RUST_BACKTRACE"), "{stderr}");
        for r in &report.ranks {
            let note = r.error.as_deref().unwrap_or_default();
            if r.rank == fail {
                assert_eq!(r.status, RankStatus::Failed);
            } else {
                assert_eq!(r.status, RankStatus::Cancelled, "rank {}: {note}", r.rank);
            }
            // A cancelled rank says where it was: waiting in the second barrier, or running.
            if r.rank != fail {
                assert!(
                    note == "cancelled while waiting in barrier() (call #2 in the world group) because another rank failed"
                        || note == "cancelled because another rank failed",
                    "{note}"
                );
            }
        }
    }
}

#[test]
pub fn early_exit() {
    // The last rank exits after the others already wait: each waiting rank is named. A rank
    // the host had not yet run to the barrier when the last one exited fails on arrival
    // (naming the exited rank the other way) or is cancelled if the run already ended.
    for sips in [4u32, 64] {
        let report = run(artifacts::EARLY_EXIT, sips);
        assert_eq!(report.status, RunStatus::Failed);
        assert_eq!(
            report.failure.as_ref().map(|f| f.kind.as_str()),
            Some("deadlock")
        );
        let last = sips - 1;
        assert_eq!(report.ranks[last as usize].status, RankStatus::Ok);
        for r in &report.ranks[..last as usize] {
            if r.status == RankStatus::Cancelled {
                assert_eq!(
                    r.error.as_deref(),
                    Some("cancelled because another rank failed")
                );
                continue;
            }
            assert_eq!(
                (r.status, r.error_kind),
                (RankStatus::Failed, Some(FailureKind::Deadlock)),
                "rank {}",
                r.rank
            );
            let msg = r.error.as_deref().unwrap_or_default();
            let waited = format!(
                "rank {} waits in barrier() (call #1 in the world group) but member rank {last} exited without making that call; it can never complete",
                r.rank
            );
            let arrived_after = format!(
                "rank {} waits in barrier() (call #1 in the world group) but member rank {last} has already exited; it can never complete",
                r.rank
            );
            assert!(msg == waited || msg == arrived_after, "{msg}");
        }
    }
}

#[test]
fn a_barrier_after_a_rank_exited_fails_on_arrival() {
    // Rank 0 exits before anyone reaches the barrier. On one thread the ranks run in rank
    // order: rank 1 arrives first and fails at once, naming the exited rank; the rest are
    // cancelled.
    let mut options = RunOptions::new(topology(4));
    options.args = vec!["0".into()];
    options.threads = 1;
    let report = run_with(artifacts::EARLY_EXIT, options).unwrap();
    let failure = report.failure.unwrap();
    assert_eq!((failure.rank, failure.kind.as_str()), (Some(1), "deadlock"));
    assert_eq!(
        failure.message,
        "rank 1 waits in barrier() (call #1 in the world group) but member rank 0 has already exited; it can never complete"
    );
    let statuses: Vec<RankStatus> = report.ranks.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            RankStatus::Ok,
            RankStatus::Failed,
            RankStatus::Cancelled,
            RankStatus::Cancelled
        ]
    );
}

#[test]
fn a_run_refuses_a_thread_count_outside_its_bound_before_any_rank_starts() {
    for threads in [0, MAX_THREADS + 1] {
        let mut options = RunOptions::new(topology(2));
        options.threads = threads;
        let err = run_with(artifacts::HELLO, options).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{threads} worker threads asked for: a run uses 1 to {MAX_THREADS}")
        );
    }
}

#[test]
fn on_two_threads_a_rank_exited_before_a_barrier_still_fails_the_ranks_that_wait_for_it() {
    // On two threads ranks 1 and 2 run at once, so either (or both) may reach the barrier
    // first, and rank 0 may exit before or after they arrive: each rank that arrived fails
    // naming rank 0, the others are cancelled; rank 0 itself ended well.
    for _ in 0..5 {
        let mut options = RunOptions::new(topology(4));
        options.args = vec!["0".into()];
        options.threads = 2;
        let report = run_with(artifacts::EARLY_EXIT, options).unwrap();
        let failure = report.failure.unwrap();
        assert_eq!(failure.kind, "deadlock");
        assert_eq!(report.ranks[0].status, RankStatus::Ok);
        let mut failed = 0;
        for r in &report.ranks[1..] {
            if r.status == RankStatus::Cancelled {
                continue;
            }
            failed += 1;
            assert_eq!(r.error_kind, Some(FailureKind::Deadlock), "rank {}", r.rank);
            let arrived_late = format!(
                "rank {} waits in barrier() (call #1 in the world group) but member rank 0 has already exited; it can never complete",
                r.rank
            );
            let arrived_early = format!(
                "rank {} waits in barrier() (call #1 in the world group) but member rank 0 exited without making that call; it can never complete",
                r.rank
            );
            let msg = r.error.as_deref().unwrap_or_default();
            assert!(msg == arrived_late || msg == arrived_early, "{msg}");
        }
        assert!(failed >= 1, "no rank failed: {:?}", report.ranks);
        assert_eq!(
            failure.rank,
            report.ranks[1..]
                .iter()
                .find(|r| r.status == RankStatus::Failed)
                .map(|r| r.rank)
        );
    }
}

#[test]
pub fn rank_before_init() {
    let report = run(artifacts::RANK_BEFORE_INIT, 2);
    assert_ok(&report);
    assert_eq!(
        report.ranks[1].stdout,
        "before init: not initialized: get_rank called before init_process_group: call init_process_group(\"ccl\") first\n\
         after init: rank 1 of 2\n"
    );
    let mut options = RunOptions::new(topology(8));
    options.launch = LaunchMode::Driver;
    let report = run_with(artifacts::RANK_BEFORE_INIT, options).unwrap();
    assert_ok(&report);
    assert_eq!((report.instances, report.ranks.len()), (1, 1));
    assert_eq!(
        report.ranks[0].stdout,
        "before init: rank 0\nafter init: rank 0 of 1\n"
    );
}

#[test]
fn driver_mode_runs_one_instance_on_sip_0_unless_told_otherwise() {
    let mut options = RunOptions::new(topology(8));
    options.launch = LaunchMode::Driver;
    let report = run_with(artifacts::PLACEMENT, options).unwrap();
    assert_ok(&report);
    assert!(
        report.ranks[0].stdout.contains("(sip 0, cube 1, pe 3)"),
        "{}",
        report.ranks[0].stdout
    );
}

#[test]
pub fn env_probe() {
    let mut options = RunOptions::new(topology(2));
    options.args = vec!["--size".into(), "64".into()];
    let report = run_with(artifacts::ENV_PROBE, options).unwrap();
    assert_ok(&report);
    assert_eq!(
        report.ranks[1].stdout,
        "env LOCAL_RANK=1\nenv LOCAL_WORLD_SIZE=2\nenv RANK=1\nenv WORLD_SIZE=2\n\
         arg 0=env_probe\narg 1=--size\narg 2=64\n",
        "only the rank variables, never the host's environment"
    );
}

#[test]
pub fn slow_ok() {
    let mut options = RunOptions::new(topology(2));
    options.args = vec!["50".to_owned()];
    let report = run_with(artifacts::SLOW_OK, options).unwrap();
    assert_ok(&report);
    assert_eq!(report.ranks[1].stdout, "rank 1 slept 50 ms\n");
}

#[test]
/// A component built from source against the frozen 0.1.0 WIT runs on this host with the
/// report a 0.1.0 host gave it: `golden/wit_v0_1_bench-4sips.json` is the JSON report of the
/// host at 5c93096 (the last that spoke only 0.1.0) for `kernbench run wit_v0_1_bench.wasm
/// --sips 4 --policy strict --json`, minus its `host` (wall time, RSS). It was re-recorded
/// once, when ADR-0008's second version changed the cost model: the re-recording changed
/// only simulated times (and the throughputs derived from them) and added the topology's new
/// optional fields; every other field is as the 0.1.0 host wrote it, except one policy value
/// a later decision changed (strict `instances_per_rank` 8 -> 16, ADR-0018). Limits this host
/// added since are the only keys it may report beyond the golden's.
pub fn wit_v0_1_bench() {
    let spec = kernbench_host::sim::TopologySpec::embedded_default().with_sips(4);
    let mut options = RunOptions::new(spec.validate("test").unwrap());
    options.policy = kernbench_host::model::Policy::strict();
    let report = run_with(artifacts::WIT_V0_1_BENCH, options).unwrap();
    assert_ok(&report);
    let mut now = serde_json::to_value(&report).unwrap();
    let golden: serde_json::Value =
        serde_json::from_str(include_str!("golden/wit_v0_1_bench-4sips.json")).unwrap();
    now.as_object_mut().unwrap().remove("host");
    let limits = now["policy"]["limits"].as_object_mut().unwrap();
    let known = golden["policy"]["limits"].as_object().unwrap();
    limits.retain(|k, _| known.contains_key(k));
    for (key, value) in golden.as_object().unwrap() {
        assert_eq!(
            &now[key], value,
            "report field {key} changed for a 0.1.0 component"
        );
    }
    assert_eq!(now, golden);
    assert_eq!(report.ranks[1].stdout.lines().nth(3), Some("from 0: 0"));
}

/// The WIT 0.2 tensor API gives PyTorch's values, shapes and dtypes (worked out by hand from
/// PyTorch's rules), the same on every run, and random tensors that differ per rank.
#[test]
pub fn tensor_api() {
    let report = run(artifacts::TENSOR_API, 2);
    assert_ok(&report);
    let expected = [
        "a+row [2, 3] float32 [11.0, 22.0, 33.0, 14.0, 25.0, 36.0]",
        "a-row [2, 3] float32 [-9.0, -18.0, -27.0, -6.0, -15.0, -24.0]",
        "a/2 [2, 3] float32 [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]",
        "relu [2, 3] float32 [0.0, 0.0, 0.0, 1.0, 2.0, 3.0]",
        "neg [2, 3] float32 [-1.0, -2.0, -3.0, -4.0, -5.0, -6.0]",
        "sum [] float32 [21.0]",
        "sum0 [3] float32 [5.0, 7.0, 9.0]",
        "mean1k [2, 1] float32 [2.0, 5.0]",
        "max1 [2] float32 [3.0, 6.0]",
        "min0 [3] float32 [1.0, 2.0, 3.0]",
        "softmax [2] float32 [0.5, 0.5]",
        "reshape [3, 2] float32 [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]",
        "narrow [2, 2] float32 [2.0, 3.0, 5.0, 6.0]",
        "cat [3, 3] float32 [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 1.0, 2.0, 3.0]",
        "to_i64 [2, 3] int64 [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]",
        "isum [] int64 [6.0]",
        "idiv [3] float32 [0.5, 1.0, 1.5]",
        "bmm [2, 2, 2] float32 [2.0, 3.0, 6.0, 11.0, 46.0, 55.0, 66.0, 79.0]",
        "randn differs per draw: true",
    ];
    let tail = [
        "rand in [0, 1): true",
        "f64 all_reduce [2] float64 [2.0, 2.0]",
        "i64 all_reduce [1] int64 [2.0]",
        "bool all (min) [2] bool [0.0, 1.0]",
        "invalid argument: add: shapes [2, 3] float32 and [2] float32 cannot be broadcast (dimension -1 is 3 and 2)",
        "invalid argument: reshape: shape [4, -1] is invalid for [2, 3] float32 (6 elements)",
        "invalid argument: matmul: inner dimensions differ ([2, 3] float32 @ [2, 3] float32)",
        "invalid argument: mean needs a floating-point tensor, got [3] int32; convert it with to(dtype)",
        "invalid argument: rand/randn need a floating-point dtype, got int32",
    ];
    let mut randn = Vec::new();
    for r in &report.ranks {
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert_eq!(&lines[..expected.len()], expected, "rank {}", r.rank);
        assert_eq!(&lines[expected.len() + 1..], tail, "rank {}", r.rank);
        randn.push(
            lines[expected.len()]
                .split_once(" randn ")
                .unwrap()
                .1
                .to_owned(),
        );
    }
    assert_ne!(randn[0], randn[1], "ranks draw different random tensors");
    let again = run(artifacts::TENSOR_API, 2);
    let stdout = |rep: &kernbench_host::report::RunReport| -> Vec<String> {
        rep.ranks.iter().map(|r| r.stdout.clone()).collect()
    };
    assert_eq!(stdout(&again), stdout(&report), "a run is reproducible");
    let times: Vec<u64> = report.ranks.iter().map(|r| r.sim_time_ns).collect();
    assert_eq!(
        times,
        again
            .ranks
            .iter()
            .map(|r| r.sim_time_ns)
            .collect::<Vec<_>>()
    );
}

/// The report as JSON without its `host` section (wall time, peak memory, thread count):
/// everything a run's threads must not change.
fn simulated_part(report: &kernbench_host::report::RunReport) -> String {
    let mut value = serde_json::to_value(report).unwrap();
    if let Some(object) = value.as_object_mut() {
        object.remove("host");
    }
    serde_json::to_string_pretty(&value).unwrap()
}

#[test]
fn reports_are_the_same_on_one_and_on_two_threads() {
    // Benches with collectives (blocking, asynchronous, in subgroups, contending for links),
    // randomness, clocks and output, each run on 1 thread and 5 times on 2: the reports
    // must match byte for byte, minus the host section.
    let ring = {
        let mut spec = kernbench_host::sim::TopologySpec::embedded_default();
        spec.system.sips.fabric = kernbench_host::sim::topology::Fabric::Ring;
        spec.validate("test").unwrap()
    };
    let cases: [(&str, _, &[&str]); 6] = [
        (artifacts::RANDOM_PROBE, topology(8), &[]),
        (artifacts::DDP_STEP, topology(8), &[]),
        (
            artifacts::TP_MLP,
            topology(8),
            &["--tp", "4", "--ffn", "48"],
        ),
        (
            artifacts::ALL_REDUCE_PERF,
            topology(8),
            &["-b", "8", "-e", "4M", "-f", "4"],
        ),
        (artifacts::ASYNC_OPS, topology(4), &["overlap"]),
        (artifacts::LINK_CONTENTION, ring, &["both"]),
    ];
    for (path, topology, args) in cases {
        let run_on = |threads: usize| {
            let mut options = RunOptions::new(topology.clone());
            options.args = args.iter().map(|a| (*a).to_owned()).collect();
            options.threads = threads;
            let report = run_with(path, options).unwrap();
            assert_ok(&report);
            assert_eq!(report.host.threads, threads);
            simulated_part(&report)
        };
        let one = run_on(1);
        for attempt in 0..5 {
            let two = run_on(2);
            if two != one {
                let line = one
                    .lines()
                    .zip(two.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                panic!(
                    "{path} {args:?}: run {attempt} on 2 threads differs from 1 thread at line {line}:\n  1: {}\n  2: {}",
                    one.lines().nth(line).unwrap_or(""),
                    two.lines().nth(line).unwrap_or("")
                );
            }
        }
    }
}

/// The component cache keeps to a subdirectory of its own: wasmtime's cache worker deletes
/// files it does not recognise, and the kernbench cache beside it holds bench builds (the
/// shared `guest-target`, the Python environment) that it once deleted part of.
#[test]
fn the_component_cache_leaves_the_rest_of_its_directory_alone() {
    use kernbench_host::runtime::{BenchEngine, EngineOptions, WASMTIME_CACHE_SUBDIR};
    let dir = std::path::PathBuf::from(artifacts::GUEST_TARGET_DIR).join("cache-layout-test");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("guest-target")).unwrap();
    std::fs::write(dir.join("guest-target/keep.txt"), "a bench build").unwrap();
    let engine = BenchEngine::new(EngineOptions {
        max_ranks: 2,
        cache_dir: Some(dir.clone()),
        ..EngineOptions::default()
    })
    .unwrap();
    let report =
        kernbench_tests::run_on(&engine, artifacts::HELLO, RunOptions::new(topology(2))).unwrap();
    assert_ok(&report);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [WASMTIME_CACHE_SUBDIR, "guest-target"]);
    assert!(
        std::fs::read_dir(dir.join(WASMTIME_CACHE_SUBDIR))
            .unwrap()
            .next()
            .is_some()
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("guest-target/keep.txt")).unwrap(),
        "a bench build"
    );
}
