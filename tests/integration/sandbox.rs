//! Hostile guests: each ends with its exact named error, nothing escapes the sandbox, and the
//! host stays healthy: after every hostile run the same engine runs `hello` cleanly.

use kernbench_host::model::{FailureKind, LoadError, RunOptions};
use kernbench_host::report::{RankStatus, RunReport};
use kernbench_host::runtime::BenchEngine;
use kernbench_host::sim::{Topology, TopologySpec};
use kernbench_tests::{
    artifacts, assert_failure, assert_ok, assert_output_flood_contained, engine, load, run_on,
    strict, topology,
};

/// Run a hostile guest under `options` and check the engine still runs a good bench after it.
fn hostile(path: &str, options: RunOptions) -> RunReport {
    let engine = engine(options.topology.sips().max(4));
    let report = run_on(&engine, path, options).unwrap();
    assert_healthy(&engine);
    report
}

fn assert_healthy(engine: &BenchEngine) {
    let report = run_on(engine, artifacts::HELLO, RunOptions::new(topology(4))).unwrap();
    assert_ok(&report);
    assert_eq!(
        report.ranks[3].stdout,
        "hello from rank 3 of 4 on SIP 3 (4 SIPs visible)\n"
    );
}

fn limit(options: &mut RunOptions, key: &str, value: &str) {
    options.policy.limits.set(key, value).unwrap();
}

#[test]
pub fn spin() {
    let mut options = strict(2, &[]);
    limit(&mut options, "fuel_per_rank", "50M");
    let report = hostile(artifacts::SPIN, options);
    // Both ranks spin the same loop, in time slices on one thread or at once on two, so which
    // one crosses its budget first depends on how the OS schedules the host's threads: the
    // property is that one rank fails with fuel-exhausted and the other is cancelled, or (on
    // two threads) ran out of fuel at the same moment.
    let f = report.failure.clone().unwrap();
    assert_eq!(f.kind, "fuel-exhausted", "{}", f.message);
    assert_eq!(f.message, "the rank's fuel (instruction budget) ran out");
    let failed = f.rank.unwrap() as usize;
    assert_eq!(report.ranks[failed].status, RankStatus::Failed);
    let other = &report.ranks[1 - failed];
    assert!(
        other.status == RankStatus::Cancelled
            || (other.status == RankStatus::Failed
                && other.error_kind == Some(FailureKind::FuelExhausted)),
        "{other:?}"
    );

    let mut options = strict(2, &[]);
    limit(&mut options, "fuel_per_rank", "none");
    limit(&mut options, "deadline_ms", "300");
    let report = hostile(artifacts::SPIN, options);
    let f = report.failure.unwrap();
    assert_eq!(f.kind, "deadline-exceeded", "{}", f.message);
    assert!(report.ranks.iter().all(|r| r.status != RankStatus::Ok));
}

#[test]
pub fn spin_in_collective() {
    // Rank 0 spins while ranks 1..3 wait in a barrier: the spinner is stopped by the deadline
    // and the waiters never hang.
    let mut options = strict(4, &[]);
    limit(&mut options, "fuel_per_rank", "none");
    limit(&mut options, "deadline_ms", "300");
    let report = hostile(artifacts::SPIN_IN_COLLECTIVE, options);
    assert_eq!(
        report.ranks[0].error_kind.map(|k| k.name()),
        Some("deadline-exceeded")
    );
    for r in &report.ranks[1..] {
        assert!(
            matches!(r.status, RankStatus::Cancelled | RankStatus::Failed),
            "rank {}: {:?}",
            r.rank,
            r.status
        );
    }
    // With a fuel budget instead, the spinner runs out of fuel and the waiters are cancelled.
    let mut options = strict(4, &[]);
    limit(&mut options, "fuel_per_rank", "50M");
    let report = hostile(artifacts::SPIN_IN_COLLECTIVE, options);
    assert_failure(&report, 0, "fuel-exhausted", "fuel");
    assert!(
        report.ranks[1..]
            .iter()
            .all(|r| r.status == RankStatus::Cancelled)
    );
}

#[test]
pub fn memory_bomb() {
    let report = hostile(artifacts::MEMORY_BOMB, strict(1, &[]));
    assert_failure(
        &report,
        0,
        "memory-limit",
        "beyond the per-rank limit of 67108864",
    );
}

#[test]
pub fn stack_overflow() {
    let report = hostile(artifacts::STACK_OVERFLOW, strict(1, &[]));
    assert_failure(&report, 0, "trap", "call stack exhausted");
}

#[test]
pub fn huge_shape() {
    let report = hostile(artifacts::HUGE_SHAPE, strict(1, &[]));
    assert_failure(
        &report,
        0,
        "invalid-argument",
        "shape [18446744073709551615, 2, 3] float32 overflows",
    );
}

#[test]
pub fn tensor_flood() {
    let report = hostile(artifacts::TENSOR_FLOOD, strict(1, &[]));
    assert_failure(
        &report,
        0,
        "limit-exceeded",
        "rank 0 already holds 4096 live tensors",
    );
}

/// One SIP of the largest shape a topology may have: 1024 cubes x 1024 PEs.
fn many_pes() -> Topology {
    let mut spec = TopologySpec::embedded_default();
    spec.system.sips.count = 1;
    spec.system.cubes_per_sip = 1024;
    spec.system.pes_per_cube = 1024;
    spec.validate("many-pes").unwrap()
}

#[test]
pub fn shard_flood() {
    // Each split meta tensor holds one 56-byte shard entry per PE, 56 MiB on this SIP, and
    // no data: strict's 4096 tensors would have been 224 GiB of shard lists. The first
    // tensor takes the whole shard quota, the second is refused before it is built.
    let mut options = strict(1, &[]);
    options.topology = many_pes();
    let report = hostile(artifacts::SHARD_FLOOD, options);
    assert_failure(
        &report,
        0,
        "limit-exceeded",
        "has 1048576 shards on SIPs of 1024 cubes x 1024 PEs; rank 0's live tensors already hold 1048576 of the 1048576 shard entries a rank may hold (shards_per_rank)",
    );
}

#[test]
pub fn hbm_exhaust() {
    let report = hostile(artifacts::HBM_EXHAUST, strict(1, &[]));
    assert_failure(
        &report,
        0,
        "hbm-out-of-memory",
        "SIP 0 cube 0 needs 1.0 GiB, has 0 B free of 16.0 GiB",
    );
}

#[test]
pub fn bad_handles() {
    for case in ["forged", "dropped"] {
        let report = hostile(artifacts::BAD_HANDLES, strict(1, &[case]));
        let f = report.failure.unwrap();
        assert_eq!(
            (f.rank, f.kind.as_str()),
            (Some(0), "trap"),
            "{case}: {}",
            f.message
        );
        assert!(
            f.message.contains("unknown handle index"),
            "{case}: {}",
            f.message
        );
        assert!(
            !report.ranks[0].stdout.contains("shape of a tensor"),
            "{case}: the call must not succeed"
        );
    }
}

#[test]
pub fn big_buffer() {
    let report = hostile(artifacts::BIG_BUFFER, strict(1, &["write"]));
    assert_failure(
        &report,
        0,
        "limit-exceeded",
        "write_bytes of 33554432 bytes exceeds the 16777216 byte limit",
    );
    let report = hostile(artifacts::BIG_BUFFER, strict(1, &["read"]));
    assert_failure(
        &report,
        0,
        "limit-exceeded",
        "read_bytes of 1099511627776 bytes exceeds the 16777216 byte limit",
    );
}

#[test]
pub fn file_open() {
    let report = hostile(artifacts::FILE_OPEN, strict(1, &[]));
    assert_ok(&report);
    let out = &report.ranks[0].stdout;
    assert_eq!(out.matches(": denied (").count(), 4, "{out}");
    assert!(!std::path::Path::new("/tmp/kernbench-escape").exists());
}

#[test]
pub fn socket_connect() {
    let report = hostile(artifacts::SOCKET_CONNECT, strict(1, &[]));
    assert_ok(&report);
    assert_eq!(
        report.ranks[0].stdout.matches(": denied (").count(),
        3,
        "{}",
        report.ranks[0].stdout
    );
}

#[test]
pub fn output_flood() {
    let report = hostile(artifacts::OUTPUT_FLOOD, strict(1, &[]));
    assert_output_flood_contained(&report);
}

#[test]
pub fn collective_before_init() {
    let report = hostile(artifacts::COLLECTIVE_BEFORE_INIT, strict(2, &[]));
    assert_failure(
        &report,
        0,
        "not-initialized",
        "barrier called before init_process_group",
    );
}

fn refused(path: &str) -> LoadError {
    let engine = engine(4);
    let err = match load(&engine, path, &kernbench_host::model::Policy::strict()) {
        Ok(_) => panic!("{path} should be refused at load"),
        Err(e) => e.downcast::<LoadError>().unwrap(),
    };
    assert_healthy(&engine);
    err
}

#[test]
pub fn unknown_import() {
    let err = refused(artifacts::UNKNOWN_IMPORT);
    assert_eq!(err.kind(), "import-denied");
    assert_eq!(
        err.to_string(),
        "the component imports 1 interface(s) outside the bench world: evil:sandbox/escape"
    );
}

#[test]
pub fn wrong_wit_version() {
    let err = refused(artifacts::WRONG_WIT_VERSION);
    assert_eq!(err.kind(), "incompatible-wit-version");
    assert_eq!(
        err.to_string(),
        "the component was built for kernbench:bench@0.3.0; this host speaks kernbench:bench@0.1.0 and kernbench:bench@0.2.0: rebuild it with a matching SDK"
    );
}

#[test]
fn core_modules_and_truncated_files_are_invalid_components() {
    let dir = std::path::PathBuf::from(artifacts::GUEST_TARGET_DIR).join("bad-components");
    std::fs::create_dir_all(&dir).unwrap();
    let core = dir.join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let err = refused(core.to_str().unwrap());
    assert_eq!(err.kind(), "invalid-component");
    assert!(
        err.to_string()
            .contains("core WebAssembly module, not a component"),
        "{err}"
    );

    let hello = std::fs::read(artifacts::HELLO).unwrap();
    let truncated = dir.join("truncated.wasm");
    std::fs::write(&truncated, &hello[..hello.len() / 2]).unwrap();
    let err = refused(truncated.to_str().unwrap());
    assert_eq!(err.kind(), "invalid-component");
    assert!(
        err.to_string().contains("truncated") || err.to_string().contains("malformed"),
        "{err}"
    );

    let garbage = dir.join("garbage.wasm");
    std::fs::write(&garbage, b"#!/bin/sh\nrm -rf /\n").unwrap();
    assert!(
        refused(garbage.to_str().unwrap())
            .to_string()
            .contains("not a WebAssembly binary")
    );
}

#[test]
pub fn random_probe() {
    // Same bench, topology, config and seed: byte-identical JSON apart from host timings.
    let json = |seed: u64| {
        let mut options = RunOptions::new(topology(4));
        options.seed = seed;
        let mut report = kernbench_tests::run_with(artifacts::RANDOM_PROBE, options).unwrap();
        assert_ok(&report);
        report.host.wall_ms = 0.0;
        report.host.peak_rss_bytes = None;
        report.to_json()
    };
    let first = json(7);
    assert_eq!(first, json(7));
    assert_eq!(first, json(7));
    let other = json(8);
    assert_ne!(first, other, "another seed draws other random numbers");
    assert!(first.contains("\"seed\": 7"));
    // The clocks a guest reads are simulated time, never the host's.
    let report: serde_json::Value = serde_json::from_str(&first).unwrap();
    let stdout = report["ranks"][0]["stdout"].as_str().unwrap();
    let sim_ns = report["ranks"][0]["sim_time_ns"].as_u64().unwrap();
    assert!(
        stdout.contains(&format!("clock {sim_ns} ns wall {sim_ns} ns")),
        "{stdout} vs {sim_ns}"
    );
}

#[test]
pub fn lying_guest() {
    // What main printed never names the failure: an SDK-looking error the host never
    // returned is `exit-status`, quoted as the guest's words.
    let report = hostile(artifacts::LYING_GUEST, strict(2, &["fake-sdk-error"]));
    assert_failure(
        &report,
        0,
        "exit-status",
        "main returned an error (the host had returned none to this rank)",
    );

    // A partial line without a newline cannot hide the real error the host returned.
    let report = hostile(artifacts::LYING_GUEST, strict(2, &["partial-line"]));
    assert_failure(
        &report,
        0,
        "invalid-device",
        "the last error the host returned to this rank was invalid-device: device 9999",
    );

    // A fake panic printed before running out of fuel stays out of the fuel message.
    let mut options = strict(2, &["fake-panic-then-spin"]);
    limit(&mut options, "fuel_per_rank", "20M");
    let report = hostile(artifacts::LYING_GUEST, options);
    assert_failure(&report, 0, "fuel-exhausted", "ran out");
    let f = report.failure.as_ref().unwrap();
    assert!(!f.message.contains("fake panic"), "{}", f.message);
}

#[test]
fn guest_text_cannot_drive_the_terminal_or_leave_its_field() {
    let report = hostile(artifacts::LYING_GUEST, strict(2, &["terminal"]));
    assert_ok(&report);
    let text = kernbench_host::report::render_text(&report);
    for raw in ['\x1b', '\x07', '\0', '\r'] {
        assert!(
            !text.contains(raw),
            "{raw:?} reached the text report:\n{text}"
        );
    }
    // Every line the guest could shape stays inside its field: the only status line is ours.
    let status_lines: Vec<&str> = text.lines().filter(|l| l.starts_with("status")).collect();
    assert_eq!(
        status_lines,
        ["status    ok (2 ok, 0 failed, 0 cancelled)"],
        "{text}"
    );
    assert!(
        text.contains("[0] \\x1b[2J\\x1b[31mred\\x07 bell\\0nul\\rcarriage"),
        "{text}"
    );
    assert!(
        text.contains("[0] bw\\nstatus    ok = 1 GB/s\\x1b[0m"),
        "{text}"
    );
    // JSON keeps the guest's bytes as they were (escaped by JSON itself).
    let json = report.to_json();
    assert!(
        !json.contains('\x1b') && json.contains("\\u001b[2J"),
        "{json}"
    );
}

#[test]
pub fn sleep_in_rank() {
    let mut options = strict(3, &[]);
    limit(&mut options, "deadline_ms", "400");
    let report = hostile(artifacts::SLEEP_IN_RANK, options);
    assert_failure(
        &report,
        1,
        "deadline-exceeded",
        "passed while this rank was running or sleeping",
    );
    for r in [0, 2] {
        let rank = &report.ranks[r];
        assert_eq!(
            rank.status,
            RankStatus::Cancelled,
            "rank {r}: {:?}",
            rank.error
        );
        assert_eq!(
            rank.error.as_deref(),
            Some(
                "cancelled while waiting in barrier() (call #1 in the world group) because another rank failed"
            )
        );
    }
}

#[test]
pub fn matmul_dtype() {
    let report = hostile(artifacts::MATMUL_DTYPE, strict(1, &[]));
    assert_ok(&report);
    assert_eq!(
        report.ranks[0].stdout,
        "refused: invalid argument: matmul: the options ask for a bfloat16 result, but the operands are float32; matmul does not convert (convert an operand first, or pass float32)\nsame dtype: 4 x 4\n"
    );
}

#[test]
pub fn group_flood() {
    let mut options = strict(1, &[]);
    limit(&mut options, "groups_per_run", "100");
    let report = hostile(artifacts::GROUP_FLOOD, options);
    assert_ok(&report);
    assert_eq!(
        report.ranks[0].stdout,
        "made 100 groups, then: limit exceeded: new_group: the run already has 100 groups, the most it may create (groups_per_run)\n"
    );
}

#[test]
pub fn host_matmul() {
    // 2 x 4096^3 FLOPs is above strict's per-op budget: refused before any work.
    let report = hostile(artifacts::HOST_MATMUL, strict(1, &["4096", "4096", "4096"]));
    assert_failure(&report, 0, "limit-exceeded", "(host_flops_per_op)");

    // Small operands, huge result: the real-data budget refuses it before the host
    // allocates the 4 GiB product (peak memory is measured from a child process in the
    // CLI tests).
    let report = hostile(artifacts::HOST_MATMUL, strict(1, &["32768", "1", "32768"]));
    assert_failure(&report, 0, "limit-exceeded", "real-data budget");

    // A long host op observes the deadline: a matmul of many seconds (tens in this debug
    // build), with the FLOP budget lifted, stops at the deadline between rows.
    let mut options = strict(1, &["2048", "2048", "2048"]);
    limit(&mut options, "host_flops_per_op", "none");
    limit(&mut options, "host_flops_per_run", "none");
    limit(&mut options, "deadline_ms", "1000");
    let report = hostile(artifacts::HOST_MATMUL, options);
    assert_failure(&report, 0, "deadline-exceeded", "during a host matmul");
    assert!(
        report.host.wall_ms < 10_000.0,
        "the run ended {} ms after it started, long past its 1000 ms deadline",
        report.host.wall_ms
    );
}

#[test]
pub fn record_flood() {
    // A metric reported in a loop is one series; new series stop at the limit.
    let mut options = strict(1, &["metrics"]);
    limit(&mut options, "metric_series_per_run", "10");
    let report = hostile(artifacts::RECORD_FLOOD, options);
    assert_ok(&report);
    assert!(
        report.ranks[0].stdout.starts_with(
            "series m9 refused: limit exceeded: this run already holds 10 metric series"
        ),
        "{}",
        report.ranks[0].stdout
    );
    let step = &report.metrics[0];
    assert_eq!(
        (step.name.as_str(), step.count, step.min, step.max),
        ("step_time", 100_000, 0.0, 9.0)
    );
    assert_eq!(step.mean, 4.5);
    assert_eq!(report.metrics.len(), 10);

    // Regions past the limit are counted, and the report says so.
    let mut options = strict(1, &["regions"]);
    limit(&mut options, "regions_per_run", "5");
    let report = hostile(artifacts::RECORD_FLOOD, options);
    assert_ok(&report);
    assert_eq!(report.regions.len(), 5);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.starts_with("regions-dropped: 15 closed regions")),
        "{:?}",
        report.warnings
    );

    // Collective records past the limit are counted, and the summary stays exact.
    let mut options = strict(2, &["collectives"]);
    limit(&mut options, "collective_records_per_run", "3");
    let report = hostile(artifacts::RECORD_FLOOD, options);
    assert_ok(&report);
    assert_eq!((report.collectives.len(), report.collectives_run), (3, 50));
    let calls: u64 = report.collective_summary.iter().map(|r| r.calls).sum();
    assert_eq!(calls, 50);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.starts_with("collectives-aggregated: 50 collectives ran")),
        "{:?}",
        report.warnings
    );
}
