//! Reliability: restarts, killed workers, many workers, draining. Each ends with every
//! submission finished exactly once.

use crate::support::*;
use kernbench_test_artifacts as artifacts;
use serde_json::Value;
use std::time::Duration;

const SLOW: &str = r#"{"sips": 2, "args": ["3000"]}"#;

async fn restart_keeps_queued_and_reruns_running(test: &str, db: Database) {
    let dir = data_dir(test);
    let mut server = serve(&dir, &db, &["--workers", "1", "--lease-secs", "2"]);
    let alice = token(&server, "alice").await;
    let running = submit(&server, &alice, SLOW, artifacts::SLOW_OK).await;
    let queued = submit(&server, &alice, r#"{"sips": 2}"#, artifacts::HELLO).await;
    wait_for(
        &server,
        &alice,
        &running,
        &["running"],
        Duration::from_secs(60),
    )
    .await;
    server.process.kill9();

    let server = serve(&dir, &db, &["--workers", "1", "--lease-secs", "2"]);
    for id in [&running, &queued] {
        let view = wait_final(&server, &alice, id).await;
        assert_eq!(view["status"], "ok", "{view}");
        assert!(view["report"].is_object());
    }
    let view = wait_final(&server, &alice, &running).await;
    assert_eq!(
        view["attempts"], 2,
        "run again after the lease expired: {view}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_loses_nothing_on_sqlite() {
    restart_keeps_queued_and_reruns_running("restart_sqlite", Database::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_loses_nothing_on_postgres() {
    restart_keeps_queued_and_reruns_running("restart_pg", postgres()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_mid_run_leaves_its_job_to_another() {
    let db = postgres();
    let dir = data_dir("kill9_worker");
    let server = serve(&dir, &db, &["--workers", "0"]);
    let alice = token(&server, "alice").await;
    let mut first = worker(&dir, &db, &["--lease-secs", "2"]);
    let id = submit(&server, &alice, SLOW, artifacts::SLOW_OK).await;
    wait_for(&server, &alice, &id, &["running"], Duration::from_secs(60)).await;
    first.kill9();
    let _second = worker(&dir, &db, &["--lease-secs", "2"]);
    let view = wait_final(&server, &alice, &id).await;
    assert_eq!(view["status"], "ok", "{view}");
    assert_eq!(view["attempts"], 2, "{view}");
    assert_eq!(
        view["report"]["ranks"][0]["stdout"],
        "rank 0 slept 3000 ms\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_workers_take_100_jobs_and_run_each_once() {
    let db = postgres();
    let dir = data_dir("hundred_jobs");
    let server = serve(
        &dir,
        &db,
        &["--workers", "0", "--max-active-per-token", "1000"],
    );
    let alice = token(&server, "alice").await;
    let mut ids = Vec::new();
    for _ in 0..100 {
        ids.push(submit(&server, &alice, r#"{"sips": 1}"#, artifacts::HELLO).await);
    }
    let _a = worker(&dir, &db, &["--workers", "2"]);
    let _b = worker(&dir, &db, &["--workers", "2"]);
    for id in &ids {
        let view = wait_final(&server, &alice, id).await;
        assert_eq!(view["status"], "ok", "{view}");
        assert_eq!(view["attempts"], 1, "claimed once: {view}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_the_running_job_finish_and_exits_0() {
    let dir = data_dir("sigterm");
    let mut server = serve(&dir, &Database::Sqlite, &["--workers", "1"]);
    let alice = token(&server, "alice").await;
    let id = submit(&server, &alice, SLOW, artifacts::SLOW_OK).await;
    wait_for(&server, &alice, &id, &["running"], Duration::from_secs(60)).await;
    let status = server.process.terminate(Duration::from_secs(60));
    assert_eq!(status.code(), Some(0));
    let server = serve(&dir, &Database::Sqlite, &["--workers", "0"]);
    let (_, view) = get(&server, &alice, &id).await;
    assert_eq!(view["status"], "ok", "finished during the drain: {view}");
    assert_eq!(view["attempts"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_that_exhausts_its_process_memory_fails_and_the_service_goes_on() {
    let dir = data_dir("child_oom");
    let server = serve(
        &dir,
        &Database::Sqlite,
        &["--workers", "1", "--job-memory", "96M"],
    );
    let alice = token(&server, "alice").await;
    let bomb = submit(&server, &alice, r#"{"sips": 8}"#, artifacts::MEMORY_BOMB).await;
    let view: Value = wait_final(&server, &alice, &bomb).await;
    assert_eq!(view["status"], "failed", "{view}");
    // The process bound held: 8 ranks may take 64 MiB each under the policy, the process
    // had 96 MiB of data segment, and its peak stayed inside it.
    let report = &view["report"];
    assert!(
        report["failure"]["message"]
            .as_str()
            .unwrap()
            .contains("memory allocation"),
        "{report}"
    );
    let peak = report["host"]["peak_rss_bytes"].as_u64().unwrap();
    assert!(peak < 96 << 20, "peak RSS {peak}");
    let after = submit(&server, &alice, r#"{"sips": 2}"#, artifacts::HELLO).await;
    let view = wait_final(&server, &alice, &after).await;
    assert_eq!(view["status"], "ok", "the next job runs: {view}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_past_its_memory_cgroup_is_killed_and_named_and_the_service_goes_on() {
    // RLIMIT_DATA far away (16 GiB), the cgroup at 200 MiB of resident memory, and a suite
    // whose policy lets one rank's linear memory reach 256 MiB (the engine pool's most), more
    // than the whole cgroup: only the cgroup can stop the bomb (under strict's 64 MiB per
    // rank the policy can win the race, as it should).
    // `required`: these machines allow a memory cgroup (v1 or v2), and a worker that could
    // not make one would refuse to start.
    let dir = data_dir("cgroup_oom");
    let server = serve(
        &dir,
        &Database::Sqlite,
        &[
            "--workers",
            "1",
            "--memory-cgroup",
            "required",
            "--job-memory",
            "16G",
            "--job-cgroup-memory",
            "200M",
        ],
    );
    let alice = token(&server, "alice").await;
    let roomy = serde_json::json!({
        "name": "roomy",
        "policy": {"name": "roomy", "extends": "strict",
                   "limits": {"memory_bytes_per_rank": 268_435_456_u64}},
        "runs": [{"name": "one", "sips": 1}],
        "rank": [{"name": "time", "source": "sim_time_ns", "better": "lower"}],
    });
    let (status, body) = post_suite(&server, &server.admin, &roomy).await;
    assert_eq!(status, 201, "{body}");
    let bomb = submit(
        &server,
        &alice,
        r#"{"suite": "roomy"}"#,
        artifacts::MEMORY_BOMB,
    )
    .await;
    let view: Value = wait_final(&server, &alice, &bomb).await;
    assert_eq!(view["status"], "failed", "{view}");
    let error = view["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("killed at its memory cgroup's limit of 209715200 bytes"),
        "{view}"
    );
    let after = submit(&server, &alice, r#"{"sips": 2}"#, artifacts::HELLO).await;
    let view = wait_final(&server, &alice, &after).await;
    assert_eq!(view["status"], "ok", "the next job runs: {view}");
    // Nothing of a run is left behind in the scratch space.
    for worker in std::fs::read_dir(dir.join("scratch")).unwrap() {
        let worker = worker.unwrap().path();
        let left: Vec<_> = std::fs::read_dir(&worker).unwrap().collect();
        assert!(left.is_empty(), "{}: {left:?}", worker.display());
    }
}
