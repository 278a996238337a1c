//! The API's contract: what a submitter gets back, and the named error of each bad input.

use crate::support::*;
use kernbench_test_artifacts as artifacts;
use reqwest::Method;
use serde_json::Value;
use std::io::{Read, Write};
use std::process::Command;

/// `kernbench run --policy strict` of the same component, for comparison.
fn run_locally(artifact: &str, extra: &[&str]) -> std::process::Output {
    Command::new(KERNBENCH)
        .args(["run", artifact, "--policy", "strict", "--no-cache"])
        .args(extra)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

/// The report without the host's own timings (which differ run to run).
fn without_host_text(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("host"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn without_host_json(bytes: &[u8]) -> Value {
    let mut v: Value = serde_json::from_slice(bytes).unwrap();
    v.as_object_mut().unwrap().remove("host");
    v
}

async fn sqlite_server(test: &str, extra: &[&str]) -> (Server, String) {
    let server = serve(&data_dir(test), &Database::Sqlite, extra);
    let alice = token(&server, "alice").await;
    (server, alice)
}

#[tokio::test(flavor = "multi_thread")]
async fn submit_prints_what_run_prints_with_its_exit_status() {
    let (server, alice) = sqlite_server("submit_prints", &[]).await;
    let submit = |json: bool| {
        let mut cmd = Command::new(KERNBENCH);
        cmd.args([
            "submit",
            artifacts::HELLO,
            "--server",
            &server.url,
            "--token",
            &alice,
        ]);
        cmd.args(["--sips", "4"]);
        if json {
            cmd.arg("--json");
        }
        cmd.env_remove("RUST_LOG").output().unwrap()
    };
    let remote = submit(false);
    let local = run_locally(artifacts::HELLO, &["--sips", "4"]);
    assert_eq!(
        remote.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&remote.stderr)
    );
    assert_eq!(
        without_host_text(&String::from_utf8_lossy(&remote.stdout)),
        without_host_text(&String::from_utf8_lossy(&local.stdout))
    );
    let remote = submit(true);
    let local = run_locally(artifacts::HELLO, &["--sips", "4", "--json"]);
    assert_eq!(remote.status.code(), Some(0));
    assert_eq!(
        without_host_json(&remote.stdout),
        without_host_json(&local.stdout)
    );

    // A failing run exits 1, as `run` does.
    let out = Command::new(KERNBENCH)
        .args([
            "submit",
            artifacts::PANIC_RANK,
            "--server",
            &server.url,
            "--token",
            &alice,
        ])
        .args(["--sips", "2"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // --no-wait prints the id; status and report fetch it later.
    let out = Command::new(KERNBENCH)
        .args([
            "submit",
            artifacts::HELLO,
            "--server",
            &server.url,
            "--token",
            &alice,
            "--no-wait",
        ])
        .output()
        .unwrap();
    let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(id.starts_with("sub_"), "{id}");
    wait_final(&server, &alice, &id).await;
    let trace = data_dir("submit_prints_trace").join("t.json");
    let out = Command::new(KERNBENCH)
        .args([
            "report",
            &id,
            "--server",
            &server.url,
            "--token",
            &alice,
            "--trace",
        ])
        .arg(&trace)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("status    ok"));
    let trace: Value = serde_json::from_slice(&std::fs::read(&trace).unwrap()).unwrap();
    assert!(
        trace.to_string().contains("traceEvents") || trace.is_array(),
        "{trace}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_submitter_sees_only_their_own_and_an_admin_sees_all() {
    let (server, alice) = sqlite_server("scoping", &["--workers", "0"]).await;
    let bob = token(&server, "bob").await;
    let id = submit(&server, &alice, "{}", artifacts::HELLO).await;
    assert_eq!(get(&server, &alice, &id).await.0, 200);
    let (code, body) = get(&server, &bob, &id).await;
    assert_eq!(
        code, 404,
        "another's id is not found, not forbidden: {body}"
    );
    assert_eq!(body["error"], "not-found");
    for path in ["report", "trace"] {
        let path = format!("/api/v1/submissions/{id}/{path}");
        let answer = call(&server, &bob, Method::GET, &path).await;
        assert_eq!(answer.status(), 404, "{path}");
    }
    let submission = format!("/api/v1/submissions/{id}");
    let cancel = call(&server, &bob, Method::DELETE, &submission).await;
    assert_eq!(cancel.status(), 404);
    let listed = get_json(&server, &bob, "/api/v1/submissions").await;
    assert_eq!(listed["submissions"].as_array().unwrap().len(), 0);
    assert_eq!(get(&server, &server.admin, &id).await.0, 200);
    // Bob cannot make tokens; a revoked token is refused.
    let forbidden = http()
        .post(format!("{}/api/v1/tokens", server.url))
        .bearer_auth(&bob)
        .json(&serde_json::json!({ "name": "mallory" }))
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), 403);
    let me = get_json(&server, &bob, "/api/v1/whoami").await;
    let token_path = format!("/api/v1/tokens/{}", me["id"].as_str().unwrap());
    let revoke = call(&server, &server.admin, Method::DELETE, &token_path).await;
    assert_eq!(revoke.status(), 200);
    assert_eq!(get(&server, &bob, &id).await.0, 401);
    // Alice cancels her queued submission.
    let cancel: Value = call(&server, &alice, Method::DELETE, &submission)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cancel["status"], "cancelled");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_bad_input_gets_its_named_error_before_anything_is_queued() {
    let (server, alice) = sqlite_server("bad_inputs", &["--workers", "0"]).await;
    let hello = component(artifacts::HELLO);
    let cases: Vec<(&str, Vec<u8>, u16, &str, &str)> = vec![
        ("not json", hello.clone(), 400, "bad-request", "spec"),
        (r#"{"sipz": 4}"#, hello.clone(), 400, "bad-request", "sipz"),
        (
            r#"{"sips": 2000}"#,
            hello.clone(),
            422,
            "unprocessable",
            "max_world_size",
        ),
        (
            r#"{"sips": 0}"#,
            hello.clone(),
            422,
            "unprocessable",
            "spec.sips",
        ),
        (
            "{}",
            b"\0asm garbage".to_vec(),
            422,
            "invalid-component",
            "",
        ),
        (
            "{}",
            component(artifacts::WRONG_WIT_VERSION),
            422,
            "incompatible-wit-version",
            "",
        ),
        (
            "{}",
            component(artifacts::UNKNOWN_IMPORT),
            422,
            "import-denied",
            "",
        ),
    ];
    for (spec, bytes, status, kind, mentions) in cases {
        let answer = post(&server, &alice, spec, "x.wasm", bytes).await;
        assert_eq!(answer.status().as_u16(), status, "{spec}");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"], kind, "{spec}: {body}");
        assert!(body.to_string().contains(mentions), "{spec}: {body}");
    }
    // Every other thing a client can grow has its named bound.
    let many_args = serde_json::json!({ "args": vec!["x"; 257] }).to_string();
    let answer = post(&server, &alice, &many_args, "x.wasm", hello.clone()).await;
    assert_eq!(answer.status(), 400);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["field"], "spec.args", "{body}");
    let long_name = format!("{}.wasm", "n".repeat(300));
    let answer = post(&server, &alice, "{}", &long_name, hello.clone()).await;
    assert_eq!(answer.status(), 400);
    let body: Value = answer.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("file name longer than 200"),
        "{body}"
    );
    let big_spec = format!(r#"{{"args": ["{}"]}}"#, "a".repeat(2 << 20));
    let answer = post(&server, &alice, &big_spec, "x.wasm", hello.clone()).await;
    assert_eq!(answer.status(), 413, "a spec part past its cap");
    let page = call(
        &server,
        &alice,
        Method::GET,
        "/api/v1/submissions?limit=1000",
    )
    .await;
    assert_eq!(page.status(), 400);
    let long_token = http()
        .post(format!("{}/api/v1/tokens", server.url))
        .bearer_auth(&server.admin)
        .json(&serde_json::json!({ "name": "t".repeat(201) }))
        .send()
        .await
        .unwrap();
    assert_eq!(long_token.status(), 400);
    let listed = get_json(&server, &alice, "/api/v1/submissions").await;
    assert_eq!(
        listed["submissions"],
        serde_json::json!([]),
        "nothing was queued"
    );
    let no_token = http()
        .get(format!("{}/api/v1/submissions", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_over_the_limit_is_413_before_the_body_is_read() {
    let (server, alice) =
        sqlite_server("too_large", &["--workers", "0", "--max-upload", "1M"]).await;
    // Claim 1 GiB, send 64 KiB, and wait for the answer: it comes without the rest.
    let addr = server.url.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "POST /api/v1/submissions HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {alice}\r\n\
         Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: 1073741824\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let _ = stream.write_all(&vec![b'a'; 64 << 10]);
    let mut answer = [0_u8; 256];
    let n = stream.read(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // And a real multipart upload past the limit with no declared length (chunked): the cap
    // is checked while streaming. The body is written from another thread, since the server
    // answers (and closes) before it has read it all.
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut body = b"--XX\r\nContent-Disposition: form-data; name=\"spec\"\r\n\r\n{}\r\n--XX\r\n\
Content-Disposition: form-data; name=\"component\"; filename=\"big.wasm\"\r\n\r\n"
        .to_vec();
    body.extend(vec![0_u8; 2 << 20]);
    body.extend(b"\r\n--XX--\r\n");
    let head = format!(
        "POST /api/v1/submissions HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {alice}\r\n\
         Content-Type: multipart/form-data; boundary=XX\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let mut writer = stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(head.as_bytes());
        for chunk in body.chunks(64 << 10) {
            let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
            if writer.write_all(&framed).is_err() {
                return;
            }
        }
        let _ = writer.write_all(b"0\r\n\r\n");
    });
    let mut answer = [0_u8; 256];
    let n = stream.read(&mut answer).unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    drop(stream);
    let _ = sender.join();

    // `kernbench submit` of a component past the limit says so, naming the limit, instead of
    // the broken pipe it would meet when the server closes mid-upload.
    let big = data_dir("too_large_file").join("big.wasm");
    std::fs::write(&big, vec![0_u8; 2 << 20]).unwrap();
    let out = Command::new(KERNBENCH)
        .arg("submit")
        .arg(&big)
        .args(["--server", &server.url, "--token", &alice])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the upload is 2098186 bytes; this server accepts at most 1048576 bytes (max_upload_bytes)"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_quota_is_429_with_retry_after() {
    let (server, alice) =
        sqlite_server("quota", &["--workers", "0", "--max-active-per-token", "2"]).await;
    submit(&server, &alice, "{}", artifacts::HELLO).await;
    submit(&server, &alice, "{}", artifacts::HELLO).await;
    let third = post(
        &server,
        &alice,
        "{}",
        "hello.wasm",
        component(artifacts::HELLO),
    )
    .await;
    assert_eq!(third.status(), 429);
    let retry: u64 = third.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    let body: Value = third.json().await.unwrap();
    assert_eq!(body["error"], "quota-exceeded");
    // Another submitter's quota is their own.
    let bob = token(&server, "bob").await;
    submit(&server, &bob, "{}", artifacts::HELLO).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_hourly_quota_is_429_until_the_hour_frees_a_slot() {
    let (server, alice) =
        sqlite_server("hourly_quota", &["--workers", "0", "--max-per-hour", "1"]).await;
    let first = submit(&server, &alice, "{}", artifacts::HELLO).await;
    // Cancelled, it no longer counts as active, but it still counts in the hour.
    let first = format!("/api/v1/submissions/{first}");
    call(&server, &alice, Method::DELETE, &first).await;
    let second = post(
        &server,
        &alice,
        "{}",
        "hello.wasm",
        component(artifacts::HELLO),
    )
    .await;
    assert_eq!(second.status(), 429);
    let retry: u64 = second.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3500..=3600).contains(&retry), "retry after {retry} s");
    let body: Value = second.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("max_per_hour 1"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_is_in_the_openapi_document_and_answers() {
    let (server, _) = sqlite_server("openapi", &["--workers", "0"]).await;
    let doc: Value = http()
        .get(format!("{}/api/v1/openapi.json", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (method, path) in kernbench_service::api::ROUTES {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is not in openapi.json"
        );
        let url = format!(
            "{}{}",
            server.url,
            path.replace("{id}", "x").replace("{name}", "x")
        );
        let request = match *method {
            "get" => http().get(&url),
            "post" => http().post(&url),
            "delete" => http().delete(&url),
            other => panic!("method {other}"),
        };
        let answer = request.send().await.unwrap();
        // The router knows the route: a named JSON answer (401 without a token), never an
        // empty "no such route".
        let status = answer.status().as_u16();
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        assert!(
            (status == 401 && body["error"] == "unauthorized") || status == 200,
            "{method} {path}: {status} {body}"
        );
    }
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|p| {
            p.as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "parameters")
                .count()
        })
        .sum();
    assert_eq!(
        documented,
        kernbench_service::api::ROUTES.len(),
        "no undocumented extras"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn names_and_guest_text_are_escaped_on_the_pages() {
    let (server, _) = sqlite_server("escaping", &[]).await;
    let evil = token(&server, "<script>alert(\"name\")</script>'").await;
    let answer = post(
        &server,
        &evil,
        r#"{"sips": 2}"#,
        "<script>x</script>\".wasm",
        component(artifacts::HELLO),
    )
    .await;
    let body: Value = answer.json().await.unwrap();
    let id = body["id"].as_str().unwrap().to_owned();
    let view = wait_final(&server, &evil, &id).await;
    assert_eq!(view["name"], "<script>x</script>\".wasm", "stored verbatim");
    for path in ["/submissions".to_owned(), format!("/submissions/{id}")] {
        let html = page(&server, &evil, path.as_ref()).await;
        assert!(
            !html.contains("<script>"),
            "{path}: raw markup from a name:\n{html}"
        );
        assert!(
            html.contains("&lt;script&gt;"),
            "{path}: the name is shown escaped:\n{html}"
        );
    }
    // Without a session the pages send you to sign in.
    let no_session = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/submissions", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(no_session.status(), 303);
}

#[test]
fn an_https_server_is_spoken_to_over_tls() {
    // A server that answers in plain HTTP: a client that speaks TLS to it fails in the
    // handshake (a client built without TLS would refuse the scheme before connecting).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let plain = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut hello = [0_u8; 512];
        let n = conn.read(&mut hello).unwrap();
        let _ = conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        hello[..n].to_vec()
    });
    let out = Command::new(KERNBENCH)
        .args(["status", "sub_x", "--server", &format!("https://{addr}")])
        .args(["--token", "kbt_x"])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    let hello = plain.join().unwrap();
    assert_eq!(
        hello.first(),
        Some(&0x16),
        "a TLS handshake record: {hello:?}"
    );
    assert!(stderr.contains("corrupt message"), "{stderr}");
}
