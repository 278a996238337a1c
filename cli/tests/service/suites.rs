//! Suites and leaderboards as an operator registers them and submitters meet them: the best
//! valid submission per submitter, ranked over hidden runs whose values nobody but an admin
//! ever sees.

use crate::support::*;
use kernbench_test_artifacts as artifacts;
use reqwest::Method;
use serde_json::{Value, json};
use std::process::Command;

/// A visible run on 2 ranks and a hidden one on 4; both pass `3` to the bench, which some
/// test guests read as a rank number (`early_exit`: rank 3 leaves early, so it passes on 2
/// ranks and fails on 4). Ranked by the slowest rank's simulated time.
fn test_suite() -> Value {
    json!({
        "name": "t-suite",
        "description": "<b>bold</b> & \"quoted\"",
        "runs": [
            {"name": "visible", "sips": 2, "args": ["3"]},
            {"name": "secret", "sips": 4, "args": ["3"], "hidden": true},
        ],
        "rank": [{"name": "time", "source": "sim_time_ns", "better": "lower"}],
    })
}

async fn submit_to(server: &Server, token: &str, artifact: &str) -> Value {
    let id = submit(server, token, r#"{"suite": "t-suite"}"#, artifact).await;
    wait_final(server, token, &id).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_leaderboard_keeps_each_submitters_best_and_never_shows_a_hidden_run_on_sqlite() {
    leaderboard_keeps_the_best_and_hides_hidden_runs("suites_sqlite", Database::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_leaderboard_keeps_each_submitters_best_and_never_shows_a_hidden_run_on_postgres() {
    leaderboard_keeps_the_best_and_hides_hidden_runs("suites_postgres", postgres()).await;
}

async fn leaderboard_keeps_the_best_and_hides_hidden_runs(test: &str, db: Database) {
    let server = serve(&data_dir(test), &db, &["--workers", "2"]);
    let (alice, bob, carol) = (
        token(&server, "alice").await,
        token(&server, "bob").await,
        token(&server, "<i>carol</i>").await,
    );

    // Registering: admin only, strict, immutable.
    assert_eq!(post_suite(&server, &alice, &test_suite()).await.0, 403);
    let (status, body) = post_suite(&server, &server.admin, &test_suite()).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = post_suite(&server, &server.admin, &test_suite()).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("conflict")));
    let mut bad = test_suite();
    bad["name"] = json!("other");
    bad["runs"][1]["sipz"] = json!(4);
    let (status, body) = post_suite(&server, &server.admin, &bad).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("sipz"), "{body}");

    // What a submitter sees of the suite: the hidden run by name only.
    let suite = get_json(&server, &alice, "/api/v1/suites/t-suite").await;
    assert_eq!(suite["runs"][1], json!({"name": "secret", "hidden": true}));
    let listed = get_json(&server, &alice, "/api/v1/suites").await;
    assert_eq!(listed["suites"][0]["name"], "t-suite");

    // alice: two valid submissions, the second better; bob: one valid, one that fails only
    // the hidden run; carol: one whose metric cannot be ranked (no simulated time at all).
    let slow = submit_to(&server, &alice, artifacts::TIMED_COLLECTIVES).await;
    let fast = submit_to(&server, &alice, artifacts::SLOW_OK).await;
    let middle = submit_to(&server, &bob, artifacts::RANDOM_PROBE).await;
    let hidden_fail = submit_to(&server, &bob, artifacts::EARLY_EXIT).await;
    let unrankable = submit_to(&server, &carol, artifacts::DEVICES).await;
    for view in [&slow, &fast, &middle] {
        assert_eq!(view["status"], "ok", "{view}");
        assert_eq!(view["suite_result"]["scores"]["valid"], true, "{view}");
        assert_eq!(
            view["suite_result"]["runs"][1],
            json!({"name": "secret", "hidden": true, "passed": true})
        );
        // The main report is the visible run's: 2 ranks.
        assert_eq!(view["report"]["world_size"], 2, "{view}");
    }

    // A hidden failure: named, never described.
    assert_eq!(hidden_fail["status"], "failed", "{hidden_fail}");
    assert_eq!(hidden_fail["error"], "hidden run secret did not pass");
    assert_eq!(
        hidden_fail["suite_result"]["runs"][1],
        json!({"name": "secret", "hidden": true, "passed": false})
    );
    assert_eq!(hidden_fail["suite_result"]["runs"][0]["status"], "ok");
    assert_eq!(hidden_fail["suite_result"]["scores"]["valid"], false);
    let id = hidden_fail["id"].as_str().unwrap();
    let path = format!("/api/v1/submissions/{id}/report?run=secret");
    assert_eq!(call(&server, &bob, Method::GET, &path).await.status(), 404);
    let admin_view = call(&server, &server.admin, Method::GET, &path).await;
    assert_eq!(admin_view.status(), 200, "an admin reads the hidden report");
    let hidden_report: Value = admin_view.json().await.unwrap();
    assert_eq!(hidden_report["world_size"], 4);
    assert_eq!(hidden_report["status"], "failed");
    let seen_by_bob = get(&server, &bob, id).await.1.to_string();
    assert!(
        !seen_by_bob.contains("\"world_size\":4"),
        "nothing of the hidden run reaches its submitter: {seen_by_bob}"
    );

    assert_eq!(unrankable["status"], "ok", "{unrankable}");
    let reason = unrankable["suite_result"]["scores"]["reason"]
        .as_str()
        .unwrap();
    assert!(reason.contains("geomean"), "{reason}");

    // The leaderboard: alice's best (slow_ok) first, then bob's only valid one; carol is not
    // ranked. Visible scores are the visible run's values (one run: its own value).
    let board = get_json(&server, &bob, "/api/v1/suites/t-suite/leaderboard").await;
    let entries = board["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{board}");
    assert_eq!(entries[0]["submitter"], "alice");
    assert_eq!(entries[1]["submitter"], "bob");
    let visible_time = |view: &Value| view["suite_result"]["runs"][0]["values"][0].clone();
    assert_eq!(entries[0]["scores"][0], visible_time(&fast));
    assert_eq!(entries[1]["scores"][0], visible_time(&middle));
    assert!(
        entries[0]["submission_id"].is_null(),
        "bob does not learn alice's ids"
    );
    assert_eq!(entries[1]["submission_id"], middle["id"]);
    assert_eq!(entries[1]["mine"], true);
    assert!(entries[0].get("ranked_scores").is_none());
    let as_admin = get_json(&server, &server.admin, "/api/v1/suites/t-suite/leaderboard").await;
    assert_eq!(as_admin["entries"][0]["submission_id"], fast["id"]);
    assert!(as_admin["entries"][0]["ranked_scores"][0].as_f64().unwrap() > 0.0);

    // The pages show the same board, every name and the description escaped.
    for path in ["/suites", "/suites/t-suite"] {
        let html = page(&server, &bob, path).await;
        assert!(!html.contains("<b>bold"), "{path}: raw markup:\n{html}");
        assert!(html.contains("&lt;b&gt;bold"), "{path}: escaped:\n{html}");
    }

    // A revoked submitter leaves the board.
    let tokens = get_json(&server, &server.admin, "/api/v1/tokens").await;
    let alice_id = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "alice")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoke = call(
        &server,
        &server.admin,
        Method::DELETE,
        &format!("/api/v1/tokens/{alice_id}"),
    )
    .await;
    assert_eq!(revoke.status(), 200);
    let board = get_json(&server, &bob, "/api/v1/suites/t-suite/leaderboard").await;
    assert_eq!(board["entries"][0]["submitter"], "bob", "{board}");

    // Unknown suite: a named 422 before anything is queued; a suite with run settings: 400.
    let answer = post(
        &server,
        &bob,
        r#"{"suite": "nope"}"#,
        "x.wasm",
        component(artifacts::HELLO),
    )
    .await;
    assert_eq!(answer.status(), 422);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(
        (body["error"].as_str(), body["field"].as_str()),
        (Some("unknown-suite"), Some("spec.suite"))
    );
    let answer = post(
        &server,
        &bob,
        r#"{"suite": "t-suite", "sips": 8}"#,
        "x.wasm",
        component(artifacts::HELLO),
    )
    .await;
    assert_eq!(answer.status(), 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_example_suite_registers_from_the_cli_and_submit_prints_its_runs() {
    let dir = data_dir("suite_cli");
    let server = serve(&dir, &Database::Sqlite, &[]);
    let alice = token(&server, "alice").await;
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/suites/all-reduce-busbw.json"
    );
    let add = Command::new(KERNBENCH)
        .args(["suite", "add", example, "--data-dir"])
        .arg(&dir)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(add.status.success(), "{add:?}");
    assert_eq!(
        String::from_utf8_lossy(&add.stdout).trim(),
        "registered suite all-reduce-busbw (2 runs, 1 hidden)"
    );

    let client = |args: &[&str]| {
        Command::new(KERNBENCH)
            .args(args)
            .args(["--server", &server.url, "--token", &alice])
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    };
    let submit = client(&[
        "submit",
        artifacts::ALL_REDUCE_PERF,
        "--suite",
        "all-reduce-busbw",
    ]);
    let out = String::from_utf8_lossy(&submit.stdout);
    assert_eq!(submit.status.code(), Some(0), "{out}\n{submit:?}");
    assert!(out.starts_with("== suite run sweep-8\n"), "{out}");
    assert!(
        out.contains("status    ok (8 ok, 0 failed, 0 cancelled)"),
        "{out}"
    );
    assert!(
        out.contains("suite     all-reduce-busbw: ranked, visible scores "),
        "{out}"
    );
    assert!(out.contains("  run hidden-4: hidden, passed\n"), "{out}");
    assert!(!out.contains("== suite run hidden-4"), "{out}");

    let board = client(&["leaderboard", "all-reduce-busbw"]);
    let text = String::from_utf8_lossy(&board.stdout);
    assert!(board.status.success(), "{board:?}");
    assert!(
        text.starts_with(
            "leaderboard of all-reduce-busbw by busbw (higher is better), sim time (lower is better)\n"
        ),
        "{text}"
    );
    let line = text.lines().nth(1).unwrap();
    assert!(line.trim_start().starts_with("1  alice"), "{text}");
    assert!(line.contains("sub_"), "alice sees her own id: {text}");

    // A suite submission does not take run settings on the command line.
    let mixed = client(&[
        "submit",
        artifacts::HELLO,
        "--suite",
        "all-reduce-busbw",
        "--sips",
        "4",
    ]);
    assert_eq!(mixed.status.code(), Some(2), "{mixed:?}");
}
