//! Load benchmark of the submission service (not a timed test): starts `kernbench serve` on
//! SQLite in a temporary directory, sends 200 submissions from 16 concurrent clients on
//! loopback, waits until every one is final, and prints submit latency p50/p99 and jobs per
//! second. `cargo bench -p kernbench-cli --bench service_load [-- SUBMISSIONS CLIENTS WORKERS]`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .filter(|a| !a.starts_with('-'))
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let (total, clients, workers) = (arg(1, 200), arg(2, 16), arg(3, 2));
    let dir = tempfile::tempdir().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_kernbench"))
        .arg("serve")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--listen", "127.0.0.1:0", "--workers", &workers.to_string()])
        .args([
            "--max-active-per-token",
            "100000",
            "--max-per-hour",
            "100000",
        ])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = server.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(url) = line.strip_prefix("listening on ") {
            break url.to_owned();
        }
    };
    let admin = std::fs::read_to_string(dir.path().join("admin-token")).unwrap();
    let http = reqwest::Client::new();
    let created: Value = http
        .post(format!("{url}/api/v1/tokens"))
        .bearer_auth(admin.trim())
        .json(&json!({ "name": "load" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["token"].as_str().unwrap().to_owned();
    let component = std::fs::read(kernbench_test_artifacts::HELLO).unwrap();

    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, url, token, component) =
            (http.clone(), url.clone(), token.clone(), component.clone());
        let mine = (c..total).step_by(clients).count();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for _ in 0..mine {
                let form = Form::new().part("spec", Part::text(r#"{"sips": 2}"#)).part(
                    "component",
                    Part::bytes(component.clone()).file_name("hello.wasm"),
                );
                let t = Instant::now();
                let answer = http
                    .post(format!("{url}/api/v1/submissions"))
                    .bearer_auth(&token)
                    .multipart(form)
                    .send()
                    .await
                    .unwrap();
                let latency = t.elapsed();
                assert_eq!(answer.status(), 201);
                let body: Value = answer.json().await.unwrap();
                out.push((body["id"].as_str().unwrap().to_owned(), latency));
            }
            out
        }));
    }
    let mut ids = Vec::new();
    let mut latencies = Vec::new();
    for task in tasks {
        for (id, latency) in task.await.unwrap() {
            ids.push(id);
            latencies.push(latency);
        }
    }
    let submitted = start.elapsed();
    let mut unfinished = ids.clone();
    while !unfinished.is_empty() {
        let mut still = Vec::new();
        for id in unfinished {
            let view: Value = http
                .get(format!("{url}/api/v1/submissions/{id}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            match view["status"].as_str().unwrap() {
                "queued" | "running" => still.push(id),
                "ok" => {}
                other => panic!("{id} ended {other}: {view}"),
            }
        }
        unfinished = still;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let all = start.elapsed();
    latencies.sort();
    let pct = |p: f64| {
        latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1]
    };
    println!("submissions {total}, clients {clients}, in-process workers {workers}");
    println!("all {} ok, none lost", ids.len());
    println!(
        "submit latency p50 {:.1} ms, p99 {:.1} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3
    );
    println!(
        "submitted in {:.2} s; all done in {:.2} s: {:.1} jobs/s",
        submitted.as_secs_f64(),
        all.as_secs_f64(),
        total as f64 / all.as_secs_f64()
    );
    let _ = server.kill();
    let _ = server.wait();
}
