//! Service processes as an operator starts them (`kernbench serve`, `kernbench worker`) and
//! the HTTP calls a client makes, for the service tests.

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub const KERNBENCH: &str = env!("CARGO_BIN_EXE_kernbench");

/// Which database a test runs on.
#[derive(Debug, Clone)]
pub enum Database {
    Sqlite,
    Postgres(String),
}

impl Database {
    fn args(&self) -> Vec<String> {
        match self {
            Database::Sqlite => vec![],
            Database::Postgres(url) => vec!["--database".into(), url.clone()],
        }
    }
}

/// A fresh database on the test PostgreSQL cluster (`tools/test` starts one; CI runs it).
/// Fails, never skips, when there is none.
pub fn postgres() -> Database {
    let base = std::env::var("KERNBENCH_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "KERNBENCH_TEST_POSTGRES_URL is not set: run the tests with `bash tools/test` \
             (README), which starts a throwaway PostgreSQL cluster"
        )
    });
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "kbtest_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let out = Command::new("psql")
        .arg(&base)
        .args([
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-c",
            &format!("CREATE DATABASE {name}"),
        ])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "creating {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (prefix, _) = base.rsplit_once('/').expect("URL has a database");
    Database::Postgres(format!("{prefix}/{name}"))
}

/// A `kernbench serve` or `kernbench worker` process, killed when dropped.
pub struct Process {
    pub child: Child,
}

impl Process {
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait up to `within` for the exit status.
    pub fn terminate(&mut self, within: Duration) -> std::process::ExitStatus {
        let pid = rustix::process::Pid::from_child(&self.child);
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("SIGTERM");
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(start.elapsed() < within, "no exit {within:?} after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running server: its URL and the admin token it created.
pub struct Server {
    pub process: Process,
    pub url: String,
    pub admin: String,
}

/// Start `kernbench serve` on a free port; returns once it printed `listening on`.
pub fn serve(dir: &Path, db: &Database, extra: &[&str]) -> Server {
    let mut child = Command::new(KERNBENCH)
        .arg("serve")
        .arg("--data-dir")
        .arg(dir)
        .args(["--listen", "127.0.0.1:0"])
        .args(db.args())
        .args(extra)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("kernbench serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("listening on ") {
                let _ = tx.send(url.to_owned());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("`listening on` within 60 s");
    let admin = std::fs::read_to_string(dir.join("admin-token"))
        .expect("admin-token written")
        .trim()
        .to_owned();
    Server {
        process: Process { child },
        url,
        admin,
    }
}

/// Start `kernbench worker` processes' worth of workers on `db`.
pub fn worker(dir: &Path, db: &Database, extra: &[&str]) -> Process {
    let child = Command::new(KERNBENCH)
        .arg("worker")
        .arg("--data-dir")
        .arg(dir)
        .args(db.args())
        .args(extra)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("kernbench worker starts");
    Process { child }
}

/// A component file of the test artifacts.
pub fn component(path: &str) -> Vec<u8> {
    std::fs::read(path).expect("artifact built")
}

pub fn http() -> reqwest::Client {
    reqwest::Client::new()
}

/// Create a submitter token with the admin token; returns its secret.
pub async fn token(server: &Server, name: &str) -> String {
    let answer = http()
        .post(format!("{}/api/v1/tokens", server.url))
        .bearer_auth(&server.admin)
        .json(&json!({ "name": name }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
    let body: Value = answer.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

/// `POST /submissions` with a spec and component bytes.
pub async fn post(
    server: &Server,
    token: &str,
    spec: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let form = Form::new().part("spec", Part::text(spec.to_owned())).part(
        "component",
        Part::bytes(bytes).file_name(file_name.to_owned()),
    );
    http()
        .post(format!("{}/api/v1/submissions", server.url))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Submit and return the id (asserting 201).
pub async fn submit(server: &Server, token: &str, spec: &str, artifact: &str) -> String {
    let name = Path::new(artifact)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let answer = post(server, token, spec, &name, component(artifact)).await;
    let status = answer.status();
    let body: Value = answer.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// `GET /submissions/{id}` as JSON.
pub async fn get(server: &Server, token: &str, id: &str) -> (u16, Value) {
    let path = format!("/api/v1/submissions/{id}");
    let answer = call(server, token, reqwest::Method::GET, &path).await;
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

/// An authenticated request to `path` (under the server's URL).
pub async fn call(
    server: &Server,
    token: &str,
    method: reqwest::Method,
    path: &str,
) -> reqwest::Response {
    http()
        .request(method, format!("{}{path}", server.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// `GET path` as JSON.
pub async fn get_json(server: &Server, token: &str, path: &str) -> Value {
    call(server, token, reqwest::Method::GET, path)
        .await
        .json()
        .await
        .unwrap()
}

/// `POST /suites` with `token`: the status and the answer.
pub async fn post_suite(server: &Server, token: &str, body: &Value) -> (u16, Value) {
    let answer = http()
        .post(format!("{}/api/v1/suites", server.url))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

/// A web page as a signed-in browser gets it (the session cookie holds `token`).
pub async fn page(server: &Server, token: &str, path: &str) -> String {
    http()
        .get(format!("{}{path}", server.url))
        .header("cookie", format!("kb_session={token}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Poll until `id` is in one of `states`.
pub async fn wait_for(
    server: &Server,
    token: &str,
    id: &str,
    states: &[&str],
    within: Duration,
) -> Value {
    let start = Instant::now();
    loop {
        let (code, view) = get(server, token, id).await;
        assert_eq!(code, 200, "{view}");
        if states.contains(&view["status"].as_str().unwrap_or("")) {
            return view;
        }
        assert!(
            start.elapsed() < within,
            "{id} not in {states:?} after {within:?}: {view}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Poll until `id` is final.
pub async fn wait_final(server: &Server, token: &str, id: &str) -> Value {
    wait_for(
        server,
        token,
        id,
        &["ok", "failed", "refused", "cancelled"],
        Duration::from_secs(120),
    )
    .await
}

/// A data directory for one test, kept under the target dir for post-mortems.
pub fn data_dir(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("service")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
