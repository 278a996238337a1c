//! Python benches (componentize-py components) on the same host, sandbox and reports as the
//! Rust ones: each bundled Python bench against its Rust twin, and the hostile cases that
//! make sense in Python with their named errors.

use kernbench_host::model::{FailureKind, Policy, RunOptions};
use kernbench_host::report::{RankStatus, RunReport, RunStatus};
use kernbench_host::runtime::{BenchEngine, LoadedBench};
use kernbench_tests::{
    artifacts, assert_failure, assert_ok, assert_output_flood_contained, engine, load, strict,
};
use std::sync::OnceLock;

/// One engine and the Python components loaded on it once: a componentize-py component is
/// about 19 MB of CPython, and compiling it once per test would cost minutes.
struct Python {
    engine: BenchEngine,
    hello: LoadedBench,
    all_reduce_perf: LoadedBench,
    ddp_step: LoadedBench,
    tp_mlp: LoadedBench,
    placement: LoadedBench,
    hostile: LoadedBench,
}

fn python() -> &'static Python {
    static PYTHON: OnceLock<Python> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let engine = engine(64);
        let policy = Policy::strict();
        let sources = [
            "benches-py/hello.py",
            "benches-py/all_reduce_perf.py",
            "benches-py/ddp_step.py",
            "benches-py/tp_mlp.py",
            "benches-py/placement.py",
            "tests/guests-py/hostile.py",
        ];
        // Built and compiled two at a time (the machine's cores): each is seconds of work.
        let mut loaded: Vec<Option<LoadedBench>> = Vec::new();
        for pair in sources.chunks(2) {
            let done: Vec<LoadedBench> = std::thread::scope(|scope| {
                let jobs: Vec<_> = pair
                    .iter()
                    .map(|source| {
                        let (engine, policy) = (&engine, &policy);
                        scope.spawn(move || {
                            load(engine, &artifacts::python(source), policy)
                                .unwrap_or_else(|e| panic!("loading {source}: {e:#}"))
                        })
                    })
                    .collect();
                jobs.into_iter().map(|j| j.join().unwrap()).collect()
            });
            loaded.extend(done.into_iter().map(Some));
        }
        let mut next = || loaded.remove(0).unwrap();
        Python {
            hello: next(),
            all_reduce_perf: next(),
            ddp_step: next(),
            tp_mlp: next(),
            placement: next(),
            hostile: next(),
            engine,
        }
    })
}

fn run(bench: &LoadedBench, options: RunOptions) -> RunReport {
    let outcome = kernbench_host::runtime::run(&python().engine, bench, options)
        .unwrap_or_else(|e| panic!("run: {e:#}"));
    RunReport::from_outcome(outcome)
}

/// The report as JSON without what legitimately differs between twins: the bench's name,
/// the host's own figures (wall time, RSS) and, unless `keep_output`, the output text.
fn comparable(report: &RunReport, keep_output: bool) -> serde_json::Value {
    let mut value: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    let object = value.as_object_mut().unwrap();
    object.remove("bench");
    object.remove("host");
    if !keep_output {
        for rank in object["ranks"].as_array_mut().unwrap() {
            let rank = rank.as_object_mut().unwrap();
            rank.remove("stdout");
            rank.remove("stderr");
        }
    }
    value
}

/// Every bundled Python bench has its twin test here.
#[test]
fn every_bundled_python_bench_is_compared_with_its_rust_twin() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches-py");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let path = e.ok()?.path();
            (path.extension()? == "py").then(|| path.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "all_reduce_perf",
            "ddp_step",
            "hello",
            "placement",
            "tp_mlp"
        ],
        "add a twin test for each new Python bench"
    );
}

#[test]
fn hello_py_reports_what_hello_rs_reports() {
    let py = python();
    let python_report = run(&py.hello, strict(8, &[]));
    assert_ok(&python_report);
    let rust = load(&py.engine, artifacts::HELLO, &Policy::strict()).unwrap();
    let rust_report = run(&rust, strict(8, &[]));
    assert_ok(&rust_report);
    // Same simulated times, collectives, devices and even the same output text.
    assert_eq!(
        comparable(&python_report, true),
        comparable(&rust_report, true)
    );
    assert_eq!(
        python_report.ranks[7].stdout,
        "hello from rank 7 of 8 on SIP 7 (8 SIPs visible)\n"
    );
}

/// The sweep with its default flags (8 B to 1 GiB, real data checked up to 1 MiB) and with
/// another dtype and op: the same table, times, records and metric as the Rust sweep.
#[test]
fn all_reduce_perf_py_reports_what_all_reduce_perf_rs_reports() {
    let py = python();
    let rust = load(&py.engine, artifacts::ALL_REDUCE_PERF, &Policy::strict()).unwrap();
    for args in [
        &[][..],
        &["-b", "1K", "-e", "64K", "-d", "bfloat16", "-o", "avg"][..],
    ] {
        let python_report = run(&py.all_reduce_perf, strict(8, args));
        assert_ok(&python_report);
        let rust_report = run(&rust, strict(8, args));
        assert_ok(&rust_report);
        assert_eq!(
            comparable(&python_report, true),
            comparable(&rust_report, true),
            "{args:?}"
        );
        assert!(
            python_report.ranks[0]
                .stdout
                .contains("# Out of bounds values : 0 OK")
        );
    }
}

/// A bench and its Rust twin under the same arguments: equal reports, output text included.
fn assert_twins(python: &LoadedBench, rust_path: &str, sips: u32, args: &[&str]) {
    let py = self::python();
    let rust = load(&py.engine, rust_path, &Policy::strict()).unwrap();
    let python_report = run(python, strict(sips, args));
    assert_ok(&python_report);
    let rust_report = run(&rust, strict(sips, args));
    assert_ok(&rust_report);
    assert_eq!(
        comparable(&python_report, true),
        comparable(&rust_report, true),
        "{args:?}"
    );
}

/// The DDP step with its reference gradients checked in Python, and timed on meta tensors.
#[test]
fn ddp_step_py_reports_what_ddp_step_rs_reports() {
    let py = python();
    assert_twins(&py.ddp_step, artifacts::DDP_STEP, 8, &[]);
    assert_twins(
        &py.ddp_step,
        artifacts::DDP_STEP,
        4,
        &["--meta", "--hidden", "4096", "--batch", "512"],
    );
}

/// The TP MLP on a [dp, tp] device mesh, for two mesh shapes.
#[test]
fn tp_mlp_py_reports_what_tp_mlp_rs_reports() {
    let py = python();
    assert_twins(&py.tp_mlp, artifacts::TP_MLP, 8, &[]);
    assert_twins(
        &py.tp_mlp,
        artifacts::TP_MLP,
        8,
        &["--tp", "4", "--hidden", "16"],
    );
}

/// ADR-0024's rank = SIP (D2-D4): the binding checks pass and rank 0 prints the same shard
/// maps as the Rust bench (whose text `benches::placement` checks by hand).
#[test]
fn placement_py_reports_what_placement_rs_reports() {
    let py = python();
    assert_twins(&py.placement, artifacts::PLACEMENT, 8, &[]);
}

/// Run one case of the hostile guest, then check the engine still runs hello cleanly.
fn hostile(case: &str, sips: u32, limits: &[(&str, &str)]) -> RunReport {
    let py = python();
    let mut options = strict(sips, &[case]);
    for (key, value) in limits {
        options.policy.limits.set(key, value).unwrap();
    }
    let report = run(&py.hostile, options);
    assert_ok(&run(&py.hello, strict(4, &[])));
    report
}

#[test]
fn an_infinite_loop_runs_out_of_fuel() {
    let report = hostile("spin", 1, &[("fuel_per_rank", "200M")]);
    assert_failure(
        &report,
        0,
        "fuel-exhausted",
        "fuel (instruction budget) ran out",
    );
}

#[test]
fn a_growing_list_hits_the_memory_limit() {
    let report = hostile("memory_bomb", 1, &[]);
    assert_failure(
        &report,
        0,
        "memory-limit",
        "beyond the per-rank limit of 67108864",
    );
}

#[test]
fn recursion_ends_in_recursion_error_and_past_its_limit_in_the_memory_limit() {
    let report = hostile("recursion", 1, &[]);
    assert_failure(
        &report,
        0,
        "exit-status",
        "RecursionError: maximum recursion depth exceeded",
    );
    let report = hostile("deep_recursion", 1, &[]);
    assert_failure(
        &report,
        0,
        "memory-limit",
        "beyond the per-rank limit of 67108864",
    );
}

#[test]
fn files_and_sockets_are_denied() {
    let report = hostile("open_files", 1, &[]);
    assert_ok(&report);
    let out = &report.ranks[0].stdout;
    assert_eq!(out.matches(": denied (").count(), 4, "{out}");
    assert!(!std::path::Path::new("/tmp/kernbench-escape").exists());
    let report = hostile("sockets", 1, &[]);
    assert_ok(&report);
    let out = &report.ranks[0].stdout;
    assert_eq!(out.matches(": denied (").count(), 2, "{out}");
}

#[test]
fn the_environment_holds_only_the_rank_variables() {
    let report = hostile("environ", 2, &[]);
    assert_ok(&report);
    assert_eq!(
        report.ranks[1].stdout,
        "env LOCAL_RANK=1\nenv LOCAL_WORLD_SIZE=2\nenv RANK=1\nenv WORLD_SIZE=2\n"
    );
}

#[test]
fn an_output_flood_is_truncated_keeping_its_tail() {
    let report = hostile("output_flood", 1, &[]);
    assert_output_flood_contained(&report);
}

#[test]
fn an_exception_before_a_collective_ends_the_run_with_its_traceback() {
    let report = hostile("raise_mid_collective", 2, &[]);
    assert_failure(
        &report,
        1,
        "exit-status",
        "ValueError: rank 1 gives up before the all_reduce",
    );
    let f = report.failure.as_ref().unwrap();
    assert!(
        f.message.contains(", in raise_mid_collective"),
        "{}",
        f.message
    );
    assert_eq!(report.ranks[0].status, RankStatus::Cancelled);
    let stderr = &report.ranks[1].stderr;
    assert!(
        stderr.starts_with("Traceback (most recent call last):\n"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("kernbench_app"),
        "the wrapper's frames are hidden: {stderr}"
    );
}

#[test]
fn mismatched_collectives_name_both_calls() {
    let report = hostile("mismatch", 2, &[]);
    assert_eq!(report.status, RunStatus::Failed);
    // Either rank may be the one that finds the mismatch; the message names both calls.
    let f = report.failure.as_ref().unwrap();
    assert_eq!(f.kind, "collective-mismatch", "{}", f.message);
    assert!(
        f.message.contains(
            "rank 0 called all_reduce(tensor [4] float32, op sum) but rank 1 called broadcast(tensor [4] float32, src 0)"
        ),
        "{}",
        f.message
    );
}

#[test]
fn host_errors_are_python_exceptions_a_bench_can_catch() {
    let report = hostile("caught_errors", 2, &[]);
    assert_ok(&report);
    let out = &report.ranks[1].stdout;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[0].starts_with("InvalidDeviceError: device 2 is out of range"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("OutOfMemoryError (a RuntimeError: True): placing tensor"),
        "{out}"
    );
    assert!(
        lines[2].starts_with(
            "InvalidArgumentError (a ValueError: True): matmul: inner dimensions differ"
        ),
        "{out}"
    );
    assert!(
        lines[3].starts_with("LimitExceededError: tensor [1099511627776] float32 needs 4.0 TiB"),
        "{out}"
    );
}

#[test]
fn an_uncaught_host_error_names_its_kind_and_keeps_the_traceback() {
    let report = hostile("uncaught", 2, &[]);
    let f = report.failure.as_ref().unwrap();
    assert_eq!(f.kind, "invalid-device", "{}", f.message);
    assert!(
        f.message
            .contains("kernbench.errors.InvalidDeviceError: device 99 is out of range"),
        "{}",
        f.message
    );
    let failed = &report.ranks[f.rank.unwrap() as usize];
    assert_eq!(failed.error_kind, Some(FailureKind::InvalidDevice));
}
