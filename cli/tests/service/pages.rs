//! The web pages in a real headless Chromium (Debian's `chromium` and `chromium-driver`,
//! driven over WebDriver with fantoccini): sign in, watch a submission go live to `ok`, read a
//! report with its chart and trace link, a suite's leaderboard, sign out. Every page is
//! checked in the DOM the browser built and saved as a screenshot under
//! `target/tmp/pages/` (the CI's artifacts). No browser is a failure, never a skip.

use crate::support::*;
use fantoccini::{Client, ClientBuilder, Locator};
use kernbench_test_artifacts as artifacts;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The browser and its driver, as the CI machine has them (`.ci/run` installs both).
fn executable(env: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(env)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    assert!(
        path.is_file(),
        "{} not found: install Debian's chromium and chromium-driver (`bash tools/test` and \
         .ci/run do), or point {env} at it",
        path.display()
    );
    path
}

struct Browser {
    client: Client,
    _driver: Process,
    shots: PathBuf,
    /// Size of this browser's screenshot of an empty page: a page that rendered shows
    /// more than that. A fixed byte count is not a test of that; an empty 1280x1200 page
    /// alone is about 7 KB and a short form about 10 KB, depending on fonts and version.
    blank_png_bytes: usize,
}

async fn browser(test: &str) -> Browser {
    let chromium = executable("KERNBENCH_CHROMIUM", "/usr/bin/chromium");
    let driver = executable("KERNBENCH_CHROMEDRIVER", "/usr/bin/chromedriver");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Process { child };
    let profile = data_dir(&format!("{test}_profile"));
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,1200",
                format!("--user-data-dir={}", profile.display()),
            ],
        },
    });
    let capabilities = capabilities.as_object().unwrap().clone();
    let url = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    let client = loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&url)
            .await
        {
            Ok(client) => break client,
            Err(e) if start.elapsed() < Duration::from_secs(30) => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("no WebDriver session with chromium after 30 s: {e}"),
        }
    };
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pages");
    std::fs::create_dir_all(&shots).unwrap();
    client.goto("about:blank").await.unwrap();
    let blank = client.screenshot().await.unwrap();
    assert!(blank.starts_with(b"\x89PNG\r\n\x1a\n"), "blank: not a PNG");
    Browser {
        client,
        _driver: driver,
        shots,
        blank_png_bytes: blank.len(),
    }
}

impl Browser {
    /// Save what the browser shows as `NAME.png` and check it is a real picture.
    async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}: not a PNG");
        // Rendered text and boxes add at least a kilobyte over the empty page's PNG.
        assert!(
            png.len() > self.blank_png_bytes + 1_000,
            "{name}: a {} byte screenshot, against {} bytes for an empty page",
            png.len(),
            self.blank_png_bytes
        );
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    async fn count(&self, css: &str) -> usize {
        self.client.find_all(Locator::Css(css)).await.unwrap().len()
    }

    async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    async fn click(&self, locator: Locator<'_>) {
        self.client
            .find(locator)
            .await
            .unwrap_or_else(|e| panic!("{locator:?}: {e}"))
            .click()
            .await
            .unwrap();
    }

    async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }
}

fn is_png(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| b.starts_with(b"\x89PNG"))
}

#[tokio::test(flavor = "multi_thread")]
async fn every_page_in_a_real_browser() {
    let server = serve(&data_dir("pages"), &Database::Sqlite, &["--workers", "1"]);
    let evil_name = "<script>document.title='owned'</script>\"quoted\" & 'single'";
    let evil = token(&server, evil_name).await;
    let suite = json!({
        "name": "page-suite",
        "description": "<b>not bold</b> & done",
        "runs": [{"name": "visible", "sips": 2, "args": ["3"]},
                 {"name": "secret", "sips": 4, "args": ["3"], "hidden": true}],
        "rank": [{"name": "time", "source": "sim_time_ns", "better": "lower"}],
    });
    let (status, body) = post_suite(&server, &server.admin, &suite).await;
    assert_eq!(status, 201, "{body}");
    let sweep = submit(
        &server,
        &evil,
        r#"{"sips": 4, "args": ["-b", "1K", "-e", "64K"]}"#,
        artifacts::ALL_REDUCE_PERF,
    )
    .await;
    let ranked = submit(
        &server,
        &evil,
        r#"{"suite": "page-suite"}"#,
        artifacts::SLOW_OK,
    )
    .await;
    wait_final(&server, &evil, &sweep).await;
    wait_final(&server, &evil, &ranked).await;
    // Still running when the browser first sees it: the page must follow it to `ok`.
    let live = submit(
        &server,
        &evil,
        r#"{"sips": 2, "args": ["2500"]}"#,
        artifacts::SLOW_OK,
    )
    .await;

    let b = browser("pages").await;

    // Signed out, every page sends you to the sign-in form.
    b.client
        .goto(&format!("{}/submissions", server.url))
        .await
        .unwrap();
    assert_eq!(b.path().await, "/login");
    b.screenshot("login").await;
    let field = b.client.find(Locator::Css("#token")).await.unwrap();
    field.send_keys("kbt_not_a_token").await.unwrap();
    b.click(Locator::Css("#sign-in")).await;
    assert!(b.text("#login-error").await.contains("not valid"));
    let field = b.client.find(Locator::Css("#token")).await.unwrap();
    field.send_keys(&evil).await.unwrap();
    b.click(Locator::Css("#sign-in")).await;
    assert_eq!(b.path().await, "/submissions");
    // The session cookie is HttpOnly: the page's scripts cannot read it.
    assert_eq!(b.js("return document.cookie").await, json!(""));

    // My submissions: the name is text, not markup (no script ran, no element was made).
    assert_eq!(
        b.text("h1").await,
        format!("Submissions of {evil_name}"),
        "the name is shown verbatim"
    );
    assert_eq!(b.js("return document.scripts.length").await, json!(0));
    assert_ne!(b.js("return document.title").await, json!("owned"));
    assert_eq!(b.count("#submissions tr").await, 4, "a header and 3 rows");
    b.screenshot("submissions").await;

    // Live status: the page refreshes itself until the running submission is ok.
    let start = Instant::now();
    let cell = format!("#submissions a[href='/submissions/{live}']");
    loop {
        let status = b
            .js(&format!(
                "const a = document.querySelector(\"{cell}\"); \
                 return a ? a.closest('tr').children[2].textContent : null"
            ))
            .await;
        if status == json!("ok") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "{live} still {status} on the page after 90 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    b.screenshot("submissions_live_done").await;

    // A report: ranks, the nccl-tests columns, the busbw chart, the trace link.
    b.client
        .goto(&format!("{}/submissions/{sweep}", server.url))
        .await
        .unwrap();
    assert_eq!(b.text("#status").await, "ok");
    assert_eq!(b.count("#ranks tr").await, 5, "a header and 4 ranks");
    let header = b.text("#collectives tr").await;
    for column in [
        "op",
        "size (B)",
        "count",
        "type",
        "redop",
        "algbw (GB/s)",
        "busbw (GB/s)",
    ] {
        assert!(header.contains(column), "{column} in {header}");
    }
    assert!(b.count("#collectives tr").await > 2, "several sizes");
    assert!(b.count("#busbw-chart polyline.series").await >= 1);
    let points = b
        .js("return document.querySelector('#busbw-chart polyline.series').getAttribute('points').split(' ').length")
        .await;
    assert!(
        points.as_u64().unwrap() >= 2,
        "one point per size: {points}"
    );
    let href = b
        .client
        .find(Locator::Css("#trace"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(href, format!("/api/v1/submissions/{sweep}/trace"));
    // The browser downloads it with its session: a Chrome trace Perfetto opens.
    let trace = b
        .client
        .execute_async(
            "const done = arguments[0]; fetch(document.querySelector('#trace').href) \
             .then(r => r.json()).then(j => done(Array.isArray(j.traceEvents) ? j.traceEvents.length : -1))",
            vec![],
        )
        .await
        .unwrap();
    assert!(trace.as_i64().unwrap() > 0, "trace events: {trace}");
    assert!(b.text("pre.stdout").await.contains("all_reduce_perf"));
    b.screenshot("report").await;

    // A suite submission: the hidden run is pass/fail only.
    b.client
        .goto(&format!("{}/submissions/{ranked}", server.url))
        .await
        .unwrap();
    let runs = b.text("#suite-runs").await;
    assert!(
        runs.contains("secret (hidden)") && runs.contains("passed"),
        "{runs}"
    );
    assert!(b.text("#validity").await.starts_with("Ranked."));
    b.screenshot("suite_submission").await;

    // The suites and the leaderboard.
    b.client
        .goto(&format!("{}/suites", server.url))
        .await
        .unwrap();
    assert!(b.text("#suites").await.contains("page-suite"));
    b.click(Locator::LinkText("page-suite")).await;
    assert_eq!(b.path().await, "/suites/page-suite");
    assert_eq!(b.text("#description").await, "<b>not bold</b> & done");
    assert_eq!(b.count("#description b").await, 0, "text, not markup");
    assert_eq!(
        b.count("#leaderboard tr").await,
        2,
        "a header and one entry"
    );
    assert_eq!(b.text("#leaderboard td.submitter").await, evil_name);
    assert_eq!(b.count("#leaderboard tr.mine").await, 1);
    assert_eq!(b.js("return document.scripts.length").await, json!(0));
    b.screenshot("leaderboard").await;

    // Sign out: the cookie is gone, the pages send you back to sign in.
    b.click(Locator::Css("nav button")).await;
    assert_eq!(b.path().await, "/login");
    b.client
        .goto(&format!("{}/submissions/{sweep}", server.url))
        .await
        .unwrap();
    assert_eq!(b.path().await, "/login");
    b.client.close().await.unwrap();

    for name in ["login", "submissions", "report", "leaderboard"] {
        assert!(is_png(&b.shots.join(format!("{name}.png"))), "{name}.png");
    }
}
