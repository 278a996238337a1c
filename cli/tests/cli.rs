//! The `kernbench` binary as a user runs it (STYLE #12): exit statuses, text and JSON output.
#![allow(clippy::unwrap_used)]

use kernbench_test_artifacts as artifacts;
use std::path::PathBuf;
use std::process::{Command, Output};

fn kernbench_command(args: &[&str]) -> Command {
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-component-cache");
    let mut command = Command::new(env!("CARGO_BIN_EXE_kernbench"));
    command
        .args(args)
        .env("KERNBENCH_CACHE_DIR", cache)
        .env_remove("RUST_LOG");
    command
}

fn kernbench(args: &[&str]) -> Output {
    kernbench_command(args).output().unwrap()
}

/// [`kernbench`], failing the test (and killing the process) if it has not ended after
/// `seconds`: for inputs that once made it wait forever.
fn kernbench_within(args: &[&str], seconds: u64) -> Output {
    use std::process::Stdio;
    let mut child = kernbench_command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kernbench {args:?} had not ended after {seconds} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn run_on_8_sips_prints_a_table_and_exits_0() {
    let out = kernbench(&["run", artifacts::HELLO, "--sips", "8"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("world     8 ranks (from topology system.sips.count), launch spawn"),
        "{text}"
    );
    assert!(
        text.contains("status    ok (8 ok, 0 failed, 0 cancelled)"),
        "{text}"
    );
    assert!(
        text.contains("[7] hello from rank 7 of 8 on SIP 7 (8 SIPs visible)"),
        "{text}"
    );
}

#[test]
fn json_report_has_the_documented_fields() {
    let out = kernbench(&["run", artifacts::HELLO, "--sips", "4", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "ok");
    let ranks = report["ranks"].as_array().unwrap();
    assert_eq!(ranks.len(), 4);
    for (i, r) in ranks.iter().enumerate() {
        assert_eq!(r["rank"], i);
        assert_eq!(r["status"], "ok");
        assert!(r["error"].is_null());
        assert_eq!(
            r["stdout"],
            format!("hello from rank {i} of 4 on SIP {i} (4 SIPs visible)\n")
        );
    }
}

#[test]
fn a_failed_run_exits_1_and_names_the_rank() {
    let out = kernbench(&[
        "run",
        artifacts::PANIC_RANK,
        "--sips",
        "4",
        "--json",
        "--",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "failed");
    assert_eq!(report["failure"]["rank"], 2);
    assert_eq!(report["failure"]["kind"], "trap");
    assert_eq!(report["ranks"][2]["status"], "failed");
    assert_eq!(report["ranks"][0]["status"], "cancelled");
}

#[test]
fn bad_input_exits_2_with_a_message() {
    let out = kernbench(&["run", "no/such/bench.wasm"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("bench component no/such/bench.wasm does not exist"),
        "{}",
        stderr(&out)
    );

    let out = kernbench(&["run", artifacts::HELLO, "--sips", "8", "--world-size", "32"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "world size 32 (from CCL defaults.world_size, set by --world-size or the --ccl file) differs from the topology's 8 SIPs"
        ),
        "{}",
        stderr(&out)
    );

    // The flag is named, not the embedded default it changed.
    let out = kernbench(&["run", artifacts::HELLO, "--sips", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("embedded default with --sips 0"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("system.sips.count must be between 1 and 65536 (got 0)"),
        "{}",
        stderr(&out)
    );

    let out = kernbench(&[
        "run",
        artifacts::HELLO,
        "--limit",
        "memory_bytes_per_rank=none",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("this limit cannot be lifted"),
        "{}",
        stderr(&out)
    );

    // Worker threads are bounded (MAX_THREADS) before any thread starts.
    for threads in ["0", "257"] {
        let out = kernbench(&["run", artifacts::HELLO, "--threads", threads]);
        assert_eq!(out.status.code(), Some(2), "--threads {threads}");
        assert!(
            stderr(&out).contains("expected a number of threads from 1 to 256"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn config_files_that_are_devices_are_refused_not_read() {
    for flag in ["--topology", "--ccl"] {
        let out = kernbench(&["run", artifacts::HELLO, flag, "/dev/zero"]);
        assert_eq!(out.status.code(), Some(2), "{flag}");
        assert!(
            stderr(&out).contains("/dev/zero: not a regular file"),
            "{flag}: {}",
            stderr(&out)
        );
    }
}

/// A FIFO given as a config or as the bench is refused at once, by name: opening one to
/// read it waits for a writer, and a config path that was a FIFO used to hang the run.
#[cfg(unix)]
#[test]
fn fifos_given_as_files_are_refused_without_waiting() {
    use rustix::fs::{CWD, FileType, Mode, mknodat};
    let dir = tempfile::tempdir().unwrap();
    let fifo = |name: &str| {
        let path = dir.path().join(name);
        mknodat(CWD, &path, FileType::Fifo, Mode::from_raw_mode(0o600), 0).unwrap();
        path.to_string_lossy().into_owned()
    };
    let (config, bench) = (fifo("topology.json"), fifo("bench.wasm"));
    // Each command, and what its error must say.
    let cases: [(&[&str], &[&str]); 3] = [
        (
            &["run", artifacts::HELLO, "--topology", &config],
            &["topology.json: not a regular file"],
        ),
        (&["run", &bench], &["bench.wasm is not a regular file"]),
        (&["validate", &bench], &["bench.wasm", "not a regular file"]),
    ];
    for (args, expected) in cases {
        let out = kernbench_within(args, 60);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(expected.iter().all(|e| err.contains(e)), "{args:?}: {err}");
    }
}

#[test]
fn an_unwritable_trace_path_fails_before_the_run() {
    let out = kernbench(&[
        "run",
        artifacts::HELLO,
        "--sips",
        "2",
        "--trace",
        "/no/such/dir/t.json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--trace /no/such/dir/t.json: cannot create the file"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), "", "nothing ran, so no report");
}

#[test]
fn the_header_says_when_sips_changed_the_topology() {
    let out = kernbench(&["run", artifacts::HELLO, "--sips", "3"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("topology  kernbench-default-8sip with --sips 3: 3 SIPs x 4 cubes"),
        "{text}"
    );
}

#[test]
fn build_takes_relative_crate_paths_and_names_missing_ones() {
    // A relative path from another directory: cargo runs elsewhere, so it must be resolved.
    let tests_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-component-cache");
    let out = Command::new(env!("CARGO_BIN_EXE_kernbench"))
        .args(["build", "../benches-wasm", "--target-dir"])
        .arg(artifacts::GUEST_TARGET_DIR)
        .current_dir(&tests_dir)
        .env("KERNBENCH_CACHE_DIR", cache)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).lines().any(|l| l.ends_with("/hello.wasm")),
        "{}",
        stdout(&out)
    );

    let out = kernbench(&["build", "/no/such/dir"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("/no/such/dir does not exist"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn help_lists_the_exit_statuses() {
    let out = kernbench(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("Exit status: 0 the run succeeded; 1 the run failed"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn driver_launch_answers_rank_0_and_warns_with_kernbench_debug() {
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-component-cache");
    let out = Command::new(env!("CARGO_BIN_EXE_kernbench"))
        .args(["run", artifacts::HELLO, "--launch", "driver"])
        .env("KERNBENCH_CACHE_DIR", cache)
        .env("KERNBENCH_DEBUG", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("[0] hello from rank 0 of 1 on SIP 0 (8 SIPs visible)"));
    assert!(
        // The SDK answers get_rank from init_process_group's identity, so init warns.
        stderr(&out)
            .contains("init_process_group in driver mode: this instance is not bound to a rank"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn topology_command_prints_the_embedded_default() {
    let out = kernbench(&["topology"]);
    assert_eq!(out.status.code(), Some(0));
    let spec: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(spec["system"]["sips"]["count"], 8);
}

#[test]
fn a_topology_file_and_a_ccl_file_are_read() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-configs");
    std::fs::create_dir_all(&dir).unwrap();
    let topo = dir.join("topo.json");
    let spec = stdout(&kernbench(&["topology"])).replace("\"count\": 8", "\"count\": 2");
    std::fs::write(&topo, spec).unwrap();
    let ccl = dir.join("ccl.json");
    std::fs::write(
        &ccl,
        r#"{"defaults": {"world_size": 2, "algorithm": "ring"}}"#,
    )
    .unwrap();
    let out = kernbench(&[
        "run",
        artifacts::HELLO,
        "--topology",
        topo.to_str().unwrap(),
        "--ccl",
        ccl.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("world     2 ranks (from CCL defaults.world_size, set by"),
        "{}",
        stdout(&out)
    );

    std::fs::write(&ccl, r#"{"defaults": {"wrold_size": 2}}"#).unwrap();
    let out = kernbench(&["run", artifacts::HELLO, "--ccl", ccl.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown field `wrold_size`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn build_prints_where_the_component_is() {
    let out = kernbench(&["build", "hello"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "target/wasm32-wasip2/release/hello.wasm\n");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    assert!(
        root.join("target/wasm32-wasip2/release/hello.wasm")
            .is_file()
    );

    let out = kernbench(&["build", "no_such_bench"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no bundled bench named \"no_such_bench\"; bundled benches: "),
        "{}",
        stderr(&out)
    );
}

#[test]
fn validate_prints_world_imports_and_sdk_version() {
    let out = kernbench(&["validate", artifacts::HELLO]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("world     kernbench:bench@0.2.0 (bench)"),
        "{text}"
    );
    assert!(text.contains("sdk       kernbench 0.1.0"), "{text}");
    assert!(
        text.contains("  kernbench:bench/distributed@0.2.0"),
        "{text}"
    );
    assert!(text.contains("  wasi:cli/run@0.2."), "{text}");

    let out = kernbench(&["validate", artifacts::UNKNOWN_IMPORT, "--json"]);
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "refused");
    assert_eq!(v["kind"], "import-denied");
}

#[test]
fn a_refused_component_gets_a_report_and_exit_3() {
    let out = kernbench(&["run", artifacts::WRONG_WIT_VERSION, "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "failed");
    assert!(report["failure"]["rank"].is_null());
    assert_eq!(report["failure"]["kind"], "incompatible-wit-version");
    assert_eq!(report["ranks"].as_array().map(Vec::len), Some(0));
}

#[test]
fn components_from_outside_the_repository_run_under_the_strict_policy() {
    // What `kernbench build` produces in this checkout is trusted; test guests are not.
    let built = kernbench(&["build", "hello"]);
    assert_eq!(built.status.code(), Some(0), "{}", stderr(&built));
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let bundled = root.join(stdout(&built).trim());
    let inside = kernbench(&["run", bundled.to_str().unwrap(), "--sips", "2", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&inside.stdout).unwrap();
    assert_eq!(report["policy"]["name"], "trusted");
    let guest = kernbench(&["run", artifacts::HELLO, "--sips", "2", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&guest.stdout).unwrap();
    assert_eq!(report["policy"]["name"], "strict");

    let dir = std::env::temp_dir().join(format!("kernbench-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let outside = dir.join("submitted.wasm");
    std::fs::copy(artifacts::HELLO, &outside).unwrap();
    let out = kernbench(&[
        "run",
        outside.to_str().unwrap(),
        "--sips",
        "2",
        "--json",
        "--limit",
        "fuel_per_rank=1G",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["policy"]["name"], "strict");
    assert_eq!(report["policy"]["limits"]["fuel_per_rank"], 1u64 << 30);
    assert_eq!(
        report["policy"]["limits"]["memory_bytes_per_rank"],
        64u64 << 20
    );

    let out = kernbench(&["run", artifacts::HELLO, "--limit", "fuel=1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown limit \"fuel\"; limits are: memory_bytes_per_rank,"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn trace_file_is_chrome_trace_json() {
    let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-trace.json");
    let out = kernbench(&[
        "run",
        artifacts::DDP_STEP,
        "--sips",
        "2",
        "--trace",
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let trace: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e["ph"] == "X" && e["name"] == "all_reduce" && e["tid"] == 1)
    );
    assert!(
        events
            .iter()
            .any(|e| e["ph"] == "M" && e["args"]["name"] == "rank 1")
    );
}

/// Run `kernbench ARGS` on a pseudo-terminal (util-linux `script`), as a user at a terminal
/// does; returns everything the terminal showed.
fn on_a_terminal(args: &[&str]) -> String {
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-component-cache");
    let command = std::iter::once(env!("CARGO_BIN_EXE_kernbench"))
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    let out = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .env("KERNBENCH_CACHE_DIR", cache)
        .env_remove("RUST_LOG")
        .output()
        .expect("util-linux `script` runs a command on a pseudo-terminal");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_long_run_shows_progress_on_a_terminal_and_never_in_json() {
    // `spin` runs until the deadline: long enough for the progress line to draw.
    let args = ["run", artifacts::SPIN, "--sips", "2", "--deadline", "0.6"];
    let screen = on_a_terminal(&args);
    assert!(
        screen.contains("spin: 0/2 ranks done, 0 collectives"),
        "{screen}"
    );
    assert!(
        screen.contains("deadline-exceeded"),
        "the report follows: {screen}"
    );

    let mut json = args.to_vec();
    json.push("--json");
    let screen = on_a_terminal(&json);
    assert!(!screen.contains("ranks done"), "{screen}");
    // Piped (not a terminal): no progress either.
    let out = kernbench(&args);
    assert!(!stderr(&out).contains("ranks done"), "{}", stderr(&out));
}

#[test]
fn meta_tensors_with_huge_shard_lists_are_bounded() {
    // On one SIP of 1024 cubes x 1024 PEs, every split meta tensor holds a 56 MiB shard list:
    // strict's 4096 tensors would be 224 GiB. `shards_per_rank` refuses the second tensor
    // before it is built. Peak RSS is this child process's own.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-configs");
    std::fs::create_dir_all(&dir).unwrap();
    let topo = dir.join("many-pes.json");
    let default = stdout(&kernbench(&["topology"]));
    let spec = default
        .replace("\"count\": 8", "\"count\": 1")
        .replace("\"cubes_per_sip\": 4", "\"cubes_per_sip\": 1024")
        .replace("\"pes_per_cube\": 8", "\"pes_per_cube\": 1024");
    assert!(
        spec.contains("\"cubes_per_sip\": 1024") && spec.contains("\"pes_per_cube\": 1024"),
        "{default}"
    );
    std::fs::write(&topo, spec).unwrap();
    let out = kernbench(&[
        "run",
        artifacts::SHARD_FLOOD,
        "--topology",
        topo.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["failure"]["kind"], "limit-exceeded");
    let message = report["failure"]["message"].as_str().unwrap();
    assert!(message.contains("(shards_per_rank)"), "{message}");
    let peak = report["host"]["peak_rss_bytes"].as_u64().unwrap();
    assert!(peak < 512 << 20, "peak RSS {peak} bytes");
}

#[test]
fn a_small_matmul_call_with_a_huge_result_never_allocates_it() {
    // [32768, 1] @ [1, 32768] f32 is a 4 GiB product from 256 KiB of operands: the real-data
    // budget refuses it before the host allocates it. Peak RSS is this child process's own.
    let out = kernbench(&[
        "run",
        artifacts::HOST_MATMUL,
        "--json",
        "--",
        "32768",
        "1",
        "32768",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["failure"]["kind"], "limit-exceeded");
    let peak = report["host"]["peak_rss_bytes"].as_u64().unwrap();
    assert!(peak < 512 << 20, "peak RSS {peak} bytes");
}

/// Peak RSS a hostile run may reach in the host process (this debug build, wasmtime and the
/// compiled component included). Before the bounds each of these floods took GiBs.
const FLOOD_PEAK_BOUND: u64 = 256 << 20;

/// Run a hostile guest under the strict defaults in a child process; its report and the
/// host's peak RSS (the child's own `VmHWM`, not a timer or this process's).
fn flood(artifact: &str, sips: &str, args: &[&str]) -> (serde_json::Value, u64) {
    let mut argv = vec![
        "run", artifact, "--policy", "strict", "--sips", sips, "--json", "--",
    ];
    argv.extend_from_slice(args);
    let out = kernbench(&argv);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let peak = report["host"]["peak_rss_bytes"].as_u64().unwrap();
    assert!(
        peak < FLOOD_PEAK_BOUND,
        "{artifact} {args:?}: peak RSS {peak} bytes"
    );
    (report, peak)
}

fn warned(report: &serde_json::Value, prefix: &str) -> bool {
    report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap_or("").starts_with(prefix))
}

#[test]
fn a_group_flood_stops_at_groups_per_run_and_the_host_stays_small() {
    let (report, _) = flood(artifacts::GROUP_FLOOD, "1", &[]);
    let out = report["ranks"][0]["stdout"].as_str().unwrap();
    assert!(out.starts_with("made 1024 groups, then: "), "{out}");
    assert!(out.contains("(groups_per_run)"), "{out}");
}

#[test]
fn a_metric_flood_of_long_names_stops_at_the_series_limit_and_the_host_stays_small() {
    let (report, _) = flood(artifacts::RECORD_FLOOD, "1", &["metrics-flood"]);
    assert_eq!(report["metrics"].as_array().unwrap().len(), 4096);
    let out = report["ranks"][0]["stdout"].as_str().unwrap();
    assert_eq!(out, "195904 reports refused\n");
}

#[test]
fn a_region_flood_is_counted_past_the_limit_and_the_host_stays_small() {
    let (report, _) = flood(artifacts::RECORD_FLOOD, "1", &["regions-flood"]);
    assert_eq!(report["regions"].as_array().unwrap().len(), 65_536);
    assert!(
        warned(&report, "regions-dropped: 134464 closed regions"),
        "{}",
        report["warnings"]
    );
}

#[test]
fn a_collective_flood_is_aggregated_with_exact_counts_and_the_host_stays_small() {
    let (report, _) = flood(artifacts::RECORD_FLOOD, "8", &["collectives-flood"]);
    assert_eq!(report["collectives"].as_array().unwrap().len(), 65_536);
    assert_eq!(report["collectives_run"], 100_000);
    let calls: u64 = report["collective_summary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["calls"].as_u64().unwrap())
        .sum();
    assert_eq!(calls, 100_000, "the summary counts every call");
    assert!(
        warned(&report, "collectives-aggregated: 100000 collectives ran"),
        "{}",
        report["warnings"]
    );
}

#[test]
fn an_output_flood_keeps_the_head_and_tail_and_the_host_stays_small() {
    let (report, _) = flood(artifacts::OUTPUT_FLOOD, "1", &[]);
    let rank = &report["ranks"][0];
    assert!(rank["stdout"].as_str().unwrap().len() < 80 << 10);
    assert!(rank["output_truncated_bytes"].as_u64().unwrap() > 10 << 20);
}

/// `kernbench` with the test artifacts' Python cache as its kernbench cache: the
/// componentize-py environment is installed there once for every test that builds Python.
fn kernbench_python(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kernbench"))
        .args(args)
        .current_dir(dir)
        .env("KERNBENCH_CACHE_DIR", artifacts::python_cache())
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

#[test]
fn a_python_bench_builds_to_a_component_and_runs_under_the_strict_policy() {
    let dir = tempfile::tempdir().unwrap();
    let bench = dir.path().join("my_bench");
    std::fs::create_dir(&bench).unwrap();
    // Top-level code, a helper module and a package: all there when each rank runs it.
    std::fs::write(
        bench.join("bench.py"),
        "import torch.distributed as dist\nimport helper\nfrom pkg.sub import twice\n\
         dist.init_process_group('nccl')\nprint(helper.greet(dist.get_rank()), twice(21), __name__)\n",
    )
    .unwrap();
    std::fs::write(
        bench.join("helper.py"),
        "def greet(r):\n    return f'rank {r} here'\n",
    )
    .unwrap();
    std::fs::create_dir(bench.join("pkg")).unwrap();
    std::fs::write(bench.join("pkg/__init__.py"), "").unwrap();
    std::fs::write(
        bench.join("pkg/sub.py"),
        "def twice(x):\n    return 2 * x\n",
    )
    .unwrap();
    let wasm = dir.path().join("out/my_bench.wasm");

    let out = kernbench_python(
        &["build", "my_bench", "-o", "out/my_bench.wasm"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "out/my_bench.wasm");
    assert!(wasm.is_file());

    // Built again unchanged: nothing to do, the same path.
    let out = kernbench_python(
        &["build", "my_bench", "-o", "out/my_bench.wasm"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("building"), "{}", stderr(&out));

    let out = kernbench_python(&["validate", "out/my_bench.wasm"], dir.path());
    assert!(
        stdout(&out).contains("sdk       kernbench 0.1.0 (python, componentize-py 0.25.1)"),
        "{}",
        stdout(&out)
    );
    let out = kernbench_python(&["run", "out/my_bench.wasm", "--sips", "3"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("policy    strict (seed 0)"), "{text}");
    assert!(text.contains("[2] rank 2 here 42 __main__"), "{text}");
}

#[test]
fn a_python_syntax_error_fails_the_build_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.py"),
        "import torch\nx = (1,\nprint(x)\n",
    )
    .unwrap();
    let out = kernbench_python(&["build", "broken.py"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("File \"broken.py\", line 2"), "{err}");
    assert!(err.contains("SyntaxError: '(' was never closed"), "{err}");
}
