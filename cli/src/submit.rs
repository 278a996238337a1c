//! `kernbench submit`, `status` and `report`: the submitter's side of the service. `submit`
//! waits for the run (with a status line on a terminal) and then prints exactly what
//! `kernbench run` prints, with its exit statuses.

use super::exit;
use super::progress;
use super::service::runtime;
use anyhow::{Context, Result};
use clap::Args;
use kernbench_host::model::Policy;
use kernbench_host::sim::config_file::{read_config, read_regular};
use kernbench_service::client::{Client, ClientError};
use kernbench_service::spec::RunSpec;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The server and the token (shared by submit, status and report).
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The service's URL, e.g. http://127.0.0.1:8080.
    #[arg(long, value_name = "URL", env = "KERNBENCH_SERVER")]
    server: String,
    /// Your token (or KERNBENCH_TOKEN).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "KERNBENCH_TOKEN",
        hide_env_values = true
    )]
    token: String,
}

impl ServerArgs {
    fn client(&self) -> Result<Client> {
        Ok(Client::new(&self.server, &self.token)?)
    }
}

/// Arguments of `kernbench submit`.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The bench component (.wasm).
    component: PathBuf,
    #[command(flatten)]
    server: ServerArgs,
    /// Run it on a suite's configurations and rank it on the suite's leaderboard.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["sips", "topology", "ccl", "seed", "args"])]
    suite: Option<String>,
    /// Number of SIPs (ranks).
    #[arg(long, value_name = "N")]
    sips: Option<u32>,
    /// Topology spec (JSON), sent with the submission.
    #[arg(long, value_name = "FILE")]
    topology: Option<PathBuf>,
    /// CCL config (JSON), sent with the submission.
    #[arg(long, value_name = "FILE")]
    ccl: Option<PathBuf>,
    /// Seed of the ranks' random numbers.
    #[arg(long)]
    seed: Option<u64>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Print the submission id and return without waiting.
    #[arg(long)]
    no_wait: bool,
    /// Arguments passed to the bench (after `--`).
    #[arg(last = true)]
    args: Vec<String>,
}

fn json_file(path: &Path, flag: &str) -> Result<Value> {
    let text = read_config(path).with_context(|| format!("{flag} {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{flag} {}: not JSON", path.display()))
}

/// Upload, wait, print the report.
pub fn submit(args: SubmitArgs) -> Result<u8> {
    let spec = RunSpec {
        sips: args.sips,
        topology: args
            .topology
            .as_deref()
            .map(|p| json_file(p, "--topology"))
            .transpose()?,
        ccl: args
            .ccl
            .as_deref()
            .map(|p| json_file(p, "--ccl"))
            .transpose()?,
        args: args.args.clone(),
        seed: args.seed.unwrap_or(0),
        suite: args.suite.clone(),
    };
    // Bounded by the largest component any built-in policy accepts (the server checks its
    // own limits); a FIFO or a device is refused, not waited on or read without end.
    let bytes = read_regular(&args.component, Policy::trusted().limits.component_bytes)
        .with_context(|| format!("reading {}", args.component.display()))?;
    let file_name = args.component.file_name().map_or_else(
        || "component.wasm".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    );
    let client = args.server.client()?;
    runtime()?.block_on(async {
        let id = match client.submit(&file_name, bytes, &spec).await {
            Ok(id) => id,
            Err(ClientError::Server {
                status: 422,
                kind,
                message,
                ..
            }) if !matches!(kind.as_str(), "unprocessable" | "unknown-suite") => {
                // Refused at load, as `kernbench run` would refuse it.
                println!("{}: refused ({kind})\n{message}", args.component.display());
                return Ok(exit::REFUSED);
            }
            Err(e) => return Err(e).context("submitting"),
        };
        if args.no_wait {
            println!("{id}");
            return Ok(exit::OK);
        }
        let view = wait(&client, &id, args.json).await?;
        print_result(&client, &id, &view, args.json, None).await
    })
}

/// Poll until the submission is final, drawing its state on a terminal.
async fn wait(client: &Client, id: &str, json: bool) -> Result<Value> {
    let bar = progress::wanted(json).then(|| {
        let bar = progress::spinner();
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    let mut delay = Duration::from_millis(100);
    let view = loop {
        let view = client
            .status(id)
            .await
            .context("following the submission")?;
        let status = view.get("status").and_then(Value::as_str).unwrap_or("");
        if let Some(bar) = &bar {
            let detail = match (status, view.get("position").and_then(Value::as_i64)) {
                ("queued", Some(p)) => format!("queued, {p} ahead"),
                ("running", _) => format!(
                    "running (attempt {})",
                    view.get("attempts").and_then(Value::as_i64).unwrap_or(1)
                ),
                (other, _) => other.to_owned(),
            };
            bar.set_message(format!("{id}: {detail}"));
        }
        if !matches!(status, "queued" | "running") {
            break view;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(view)
}

/// Print a final submission as `kernbench run` would, and return `run`'s exit status.
async fn print_result(
    client: &Client,
    id: &str,
    view: &Value,
    json: bool,
    trace: Option<&Path>,
) -> Result<u8> {
    let status = view.get("status").and_then(Value::as_str).unwrap_or("");
    let has_report = view.get("report").is_some_and(|r| !r.is_null());
    let suite_result = view.get("suite_result").filter(|r| !r.is_null());
    if !has_report && suite_result.is_none() {
        let error = view
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("no report");
        if json {
            println!("{view:#}");
        } else {
            println!(
                "{id}: {status}: {}",
                kernbench_host::model::text::escape_control(error)
            );
        }
        return Ok(exit::RUN_FAILED);
    }
    if suite_result.is_some() && json {
        // One document: the submission with its main report and the suite's runs.
        println!("{view:#}");
    } else {
        let visible: Vec<&str> = suite_result
            .map(|r| {
                r["runs"]
                    .as_array()
                    .map_or(&[][..], Vec::as_slice)
                    .iter()
                    // Visible runs that wrote a report (a crashed one has an error instead).
                    .filter(|run| run["hidden"] == Value::Bool(false) && run["error"].is_null())
                    .filter_map(|run| run["name"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        let format = if json { "json" } else { "text" };
        if suite_result.is_none() {
            let report = client
                .report(id, format, None)
                .await
                .context("fetching the report")?;
            std::io::stdout()
                .write_all(&report)
                .context("printing the report")?;
        }
        for run in &visible {
            println!("== suite run {run}");
            let report = client
                .report(id, format, Some(run))
                .await
                .with_context(|| format!("fetching the report of run {run}"))?;
            std::io::stdout()
                .write_all(&report)
                .context("printing the report")?;
        }
        if let Some(result) = suite_result {
            print!("{}", render_suite_result(result));
        }
    }
    if let Some(path) = trace {
        let bytes = client.trace(id).await.context("fetching the trace")?;
        std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(match view.get("exit_code").and_then(Value::as_i64) {
        Some(0) => exit::OK,
        Some(3) => exit::REFUSED,
        _ => exit::RUN_FAILED,
    })
}

/// A suite submission's runs and scores as text (names and reasons escaped: they are
/// submitted or produced text).
fn render_suite_result(result: &Value) -> String {
    use kernbench_host::model::text::escape_control;
    let scores = &result["scores"];
    let score = |v: &Value| {
        v.as_f64()
            .map_or_else(|| "-".to_owned(), |v| format!("{v:.4}"))
    };
    let list = |v: &Value| {
        v.as_array()
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(score)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = format!(
        "suite     {}: {}\n",
        escape_control(result["suite"].as_str().unwrap_or("")),
        if scores["valid"] == Value::Bool(true) {
            format!("ranked, visible scores {}", list(&scores["visible"]))
        } else {
            format!(
                "not ranked: {}",
                escape_control(scores["reason"].as_str().unwrap_or("unknown"))
            )
        }
    );
    for run in result["runs"].as_array().map_or(&[][..], Vec::as_slice) {
        let name = escape_control(run["name"].as_str().unwrap_or(""));
        let line = match run["passed"].as_bool() {
            Some(passed) => format!("hidden, {}", if passed { "passed" } else { "did not pass" }),
            None => format!(
                "{}, values {}",
                run["status"].as_str().unwrap_or(""),
                list(&run["values"])
            ),
        };
        out.push_str(&format!("  run {name}: {line}\n"));
    }
    out
}

/// Arguments of `kernbench leaderboard`.
#[derive(Debug, Args)]
pub struct LeaderboardArgs {
    /// The suite.
    suite: String,
    #[command(flatten)]
    server: ServerArgs,
    /// Print it as JSON.
    #[arg(long)]
    json: bool,
}

/// Print a suite's leaderboard.
pub fn leaderboard(args: LeaderboardArgs) -> Result<u8> {
    use kernbench_host::model::text::escape_control;
    let client = args.server.client()?;
    runtime()?.block_on(async {
        let board = client
            .leaderboard(&args.suite)
            .await
            .context("fetching the leaderboard")?;
        if args.json {
            println!("{board:#}");
            return Ok(exit::OK);
        }
        let items = |v: &Value| v.as_array().cloned().unwrap_or_default();
        let metrics: Vec<String> = items(&board["metrics"])
            .iter()
            .map(|m| {
                format!(
                    "{} ({} is better)",
                    escape_control(m["name"].as_str().unwrap_or("")),
                    m["better"].as_str().unwrap_or("")
                )
            })
            .collect();
        println!(
            "leaderboard of {} by {}",
            escape_control(&args.suite),
            metrics.join(", ")
        );
        let entries = items(&board["entries"]);
        if entries.is_empty() {
            println!("no valid submission yet");
        }
        for e in entries {
            let scores: Vec<String> = items(&e["scores"])
                .iter()
                .map(|v| {
                    v.as_f64()
                        .map_or_else(|| "-".to_owned(), |v| format!("{v:.4}"))
                })
                .collect();
            println!(
                "{:>3}  {:<24}  {}{}",
                e["position"].as_i64().unwrap_or(0),
                escape_control(e["submitter"].as_str().unwrap_or("")),
                scores.join("  "),
                e["submission_id"]
                    .as_str()
                    .map(|id| format!("  {id}"))
                    .unwrap_or_default()
            );
        }
        Ok(exit::OK)
    })
}

/// Arguments of `kernbench status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The submission id.
    id: String,
    #[command(flatten)]
    server: ServerArgs,
    /// Print the whole submission as JSON.
    #[arg(long)]
    json: bool,
}

/// Print where a submission is.
pub fn status(args: StatusArgs) -> Result<u8> {
    let client = args.server.client()?;
    runtime()?.block_on(async {
        let mut view = client
            .status(&args.id)
            .await
            .context("fetching the status")?;
        if args.json {
            if let Some(obj) = view.as_object_mut() {
                obj.remove("report");
            }
            println!("{view:#}");
        } else {
            let status = view.get("status").and_then(Value::as_str).unwrap_or("");
            let mut line = format!("{}: {status}", args.id);
            if let Some(p) = view.get("position").and_then(Value::as_i64) {
                line.push_str(&format!(" ({p} ahead)"));
            }
            if let Some(e) = view.get("error").and_then(Value::as_str) {
                line.push_str(&format!(
                    ": {}",
                    kernbench_host::model::text::escape_control(e)
                ));
            }
            println!("{line}");
        }
        Ok(exit::OK)
    })
}

/// Arguments of `kernbench report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The submission id.
    id: String,
    #[command(flatten)]
    server: ServerArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Also write the run's Chrome/Perfetto trace to FILE.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
}

/// Print a finished submission's report, with `run`'s exit status.
pub fn report(args: ReportArgs) -> Result<u8> {
    let client = args.server.client()?;
    runtime()?.block_on(async {
        let view = client
            .status(&args.id)
            .await
            .context("fetching the submission")?;
        let status = view.get("status").and_then(Value::as_str).unwrap_or("");
        if matches!(status, "queued" | "running") {
            anyhow::bail!(
                "{} is still {status}: try again later or use `kernbench status`",
                args.id
            );
        }
        print_result(&client, &args.id, &view, args.json, args.trace.as_deref()).await
    })
}
