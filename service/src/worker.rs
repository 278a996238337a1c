//! A worker: claims a job with a lease, runs it in a child process (the `kernbench` binary's
//! run mode: strict policy, empty environment, rlimits, killed at a wall-clock limit), keeps
//! the lease alive with heartbeats, and writes the result once, naming its lease. Whatever
//! the child does (crash, OOM, hang), the worker survives and the submission gets an end.

use crate::cgroup::{MemoryCgroups, RunCgroup};
use crate::db::{Claim, Db, Outcome, Status};
use crate::error::ServiceError;
use crate::sandbox::ChildLimits;
use crate::store::BlobStore;
use kernbench_host::model::Policy;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::process::Command;
use tokio::sync::watch;

/// The file names of a job directory, shared with the child's run mode.
pub mod job_files {
    /// The run spec (JSON).
    pub const SPEC: &str = "spec.json";
    /// The component.
    pub const COMPONENT: &str = "component.wasm";
    /// The report `kernbench run --json` prints.
    pub const REPORT_JSON: &str = "report.json";
    /// The report `kernbench run` prints.
    pub const REPORT_TEXT: &str = "report.txt";
    /// The Chrome/Perfetto trace.
    pub const TRACE: &str = "trace.json";
    /// The policy of the run (JSON of `kernbench_host::model::Policy`).
    pub const POLICY: &str = "policy.json";
}

/// How a worker runs jobs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Shown in the database as the lease holder.
    pub name: String,
    /// The `kernbench` binary (its `run-job` mode runs one job).
    pub exe: PathBuf,
    /// Where job directories are made (removed after each job).
    pub scratch: PathBuf,
    /// A lease lasts this long without a heartbeat.
    pub lease: Duration,
    /// Heartbeat period (well under `lease`).
    pub heartbeat: Duration,
    /// Claims per job before it fails for good (a job whose worker keeps dying).
    pub max_attempts: i64,
    /// How long to sleep when the queue is empty.
    pub poll: Duration,
    /// The child's own bounds.
    pub limits: ChildLimits,
    /// The wall-clock kill: the policy's deadline plus start-up and report writing.
    pub wall: Duration,
    /// Where each run gets a memory cgroup, if the machine allows it.
    pub cgroups: Option<MemoryCgroups>,
    /// The memory limit of a run's cgroup, in bytes.
    pub cgroup_memory: u64,
    /// Whether a run whose cgroup cannot be made fails (else it runs on its rlimits).
    pub cgroup_required: bool,
}

impl WorkerConfig {
    /// Defaults for `exe`, scratch space under `scratch`.
    pub fn new(name: String, exe: PathBuf, scratch: PathBuf) -> WorkerConfig {
        WorkerConfig {
            name,
            exe,
            scratch,
            lease: Duration::from_secs(15),
            heartbeat: Duration::from_secs(3),
            max_attempts: 3,
            poll: Duration::from_millis(200),
            limits: ChildLimits::default(),
            wall: Duration::from_secs(90),
            cgroups: None,
            cgroup_memory: ChildLimits::default().memory_bytes,
            cgroup_required: false,
        }
    }
}

/// The most of a child's stderr kept for the failure message.
const STDERR_TAIL_BYTES: usize = 2000;

/// Run jobs until `stop` turns true; a job already running is finished first (the caller
/// bounds how long it waits), then the loop returns.
pub async fn run(
    db: Db,
    store: BlobStore,
    config: WorkerConfig,
    mut stop: watch::Receiver<bool>,
) -> Result<(), ServiceError> {
    std::fs::create_dir_all(&config.scratch).map_err(|e| {
        ServiceError::Config(format!("scratch dir {}: {e}", config.scratch.display()))
    })?;
    tracing::info!(worker = %config.name, "worker started");
    loop {
        if *stop.borrow() {
            break;
        }
        if let Err(e) = db.requeue_expired(config.max_attempts).await {
            tracing::warn!(error = %e, "taking back expired leases failed");
        }
        let claim = match db.claim(&config.name, config.lease).await {
            Ok(claim) => claim,
            Err(e) => {
                tracing::warn!(error = %e, "claiming a job failed; retrying");
                None
            }
        };
        match claim {
            Some(claim) => run_claim(&db, &store, &config, claim).await,
            None => {
                tokio::select! {
                    _ = tokio::time::sleep(config.poll) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }
    tracing::info!(worker = %config.name, "worker stopped");
    Ok(())
}

/// Run one claimed job to its end and write the outcome (logging, never failing: the
/// worker goes on with the next job whatever happened).
async fn run_claim(db: &Db, store: &BlobStore, config: &WorkerConfig, claim: Claim) {
    tracing::info!(id = %claim.id, attempt = claim.attempt, "running");
    let outcome = match attempt(db, store, config, &claim).await {
        Ok(Some(outcome)) => outcome,
        Ok(None) => {
            tracing::warn!(id = %claim.id, "lease lost while running; the result is dropped");
            return;
        }
        Err(e) => {
            tracing::error!(id = %claim.id, error = %e, "the job could not be run");
            Outcome::failed(format!("the service could not run it: {e}"))
        }
    };
    match db.finish(&claim, &outcome).await {
        Ok(true) => tracing::info!(id = %claim.id, status = outcome.status.as_str(), "done"),
        Ok(false) => tracing::warn!(id = %claim.id, "lease lost before the write; dropped"),
        Err(e) => tracing::error!(id = %claim.id, error = %e, "writing the result failed"),
    }
}

impl Outcome {
    pub(crate) fn failed(error: String) -> Outcome {
        Outcome {
            status: Status::Failed,
            report_sha: None,
            text_sha: None,
            trace_sha: None,
            exit_code: None,
            error: Some(error),
            suite_result_sha: None,
            scores: None,
            rank: [None; 3],
        }
    }
}

/// How the child ended, seen from the worker.
enum ChildEnd {
    Exited(std::process::ExitStatus),
    WallKilled,
    Cancelled,
    LeaseLost,
}

/// One attempt. `Ok(None)` when the lease was lost (someone else owns the job now).
async fn attempt(
    db: &Db,
    store: &BlobStore,
    config: &WorkerConfig,
    claim: &Claim,
) -> Result<Option<Outcome>, ServiceError> {
    let Some(name) = &claim.suite else {
        let run = run_child(db, store, config, claim, &claim.spec, &Policy::strict()).await?;
        return Ok(run.map(|run| run.outcome));
    };
    let suite = db
        .suite(name)
        .await?
        .ok_or_else(|| ServiceError::Corrupt(format!("{} names no suite {name:?}", claim.id)))?
        .suite;
    let policy = suite.policy()?;
    let mut runs = Vec::with_capacity(suite.runs.len());
    for run in &suite.runs {
        // A beat before each run: a suite of runs shorter than the heartbeat period keeps
        // its lease, and a cancel between runs is seen before the next one starts.
        match db.heartbeat(claim, config.lease).await {
            Ok(Some(true)) => {
                runs.push(ChildRun {
                    outcome: Outcome {
                        status: Status::Cancelled,
                        error: Some("cancelled while it ran".to_owned()),
                        ..Outcome::failed(String::new())
                    },
                    report: None,
                });
                break;
            }
            Ok(Some(false)) => {}
            Ok(None) => return Ok(None),
            Err(e) => tracing::warn!(id = %claim.id, error = %e, "heartbeat failed"),
        }
        let spec = serde_json::to_string(&suite.run_spec(run))
            .map_err(|e| ServiceError::Corrupt(format!("suite run spec: {e}")))?;
        let Some(child) = run_child(db, store, config, claim, &spec, &policy).await? else {
            return Ok(None);
        };
        let cancelled = child.outcome.status == Status::Cancelled;
        runs.push(child);
        if cancelled {
            break;
        }
    }
    Ok(Some(crate::scoring::score(&suite, runs, store)?))
}

/// One child process's end: its outcome and, if it wrote one, its JSON report.
pub(crate) struct ChildRun {
    /// What the run ended as.
    pub outcome: Outcome,
    /// The report `kernbench run --json` would print.
    pub report: Option<Vec<u8>>,
}

/// Run one spec in a child process. `Ok(None)` when the lease was lost.
async fn run_child(
    db: &Db,
    store: &BlobStore,
    config: &WorkerConfig,
    claim: &Claim,
    spec: &str,
    policy: &Policy,
) -> Result<Option<ChildRun>, ServiceError> {
    let dir = tempfile::Builder::new()
        .prefix("job-")
        .tempdir_in(&config.scratch)
        .map_err(|e| ServiceError::Store(format!("job dir: {e}")))?;
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(dir.path().join(name), bytes)
            .map_err(|e| ServiceError::Store(format!("writing {name}: {e}")))
    };
    write(job_files::SPEC, spec.as_bytes())?;
    let policy =
        serde_json::to_vec(policy).map_err(|e| ServiceError::Corrupt(format!("policy: {e}")))?;
    write(job_files::POLICY, &policy)?;
    write(job_files::COMPONENT, &store.get(&claim.component_sha)?)?;

    let cgroup = match &config.cgroups {
        Some(groups) => {
            let name = dir
                .path()
                .file_name()
                .map_or_else(|| claim.id.clone(), |n| n.to_string_lossy().into_owned());
            match groups.create(&name, config.cgroup_memory) {
                Ok(group) => Some(group),
                Err(e) if !config.cgroup_required => {
                    tracing::warn!(error = %e, "no cgroup for this run; RLIMIT_DATA only");
                    None
                }
                Err(e) => {
                    return Err(ServiceError::Config(format!(
                        "making the run's cgroup: {e}"
                    )));
                }
            }
        }
        None => None,
    };
    let mut command = Command::new(&config.exe);
    command
        .arg("run-job")
        .arg(dir.path())
        .arg("--bench-name")
        .arg(&claim.name)
        .args(config.limits.to_args());
    if let Some(group) = &cgroup {
        command.arg("--cgroup-procs").arg(group.procs_file());
    }
    let mut child = command
        .env_clear()
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| ServiceError::Config(format!("starting {}: {e}", config.exe.display())))?;
    let mut stderr = child.stderr.take();
    let stderr_task = tokio::spawn(async move {
        let mut tail = Vec::new();
        if let Some(pipe) = stderr.as_mut() {
            let mut buf = [0_u8; 4096];
            while let Ok(n) = pipe.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                tail.extend_from_slice(&buf[..n]);
                if tail.len() > 2 * STDERR_TAIL_BYTES {
                    tail.drain(..tail.len() - STDERR_TAIL_BYTES);
                }
            }
        }
        tail
    });

    let wall = tokio::time::sleep(config.wall);
    tokio::pin!(wall);
    let mut beat = tokio::time::interval(config.heartbeat);
    beat.tick().await;
    let end = loop {
        tokio::select! {
            status = child.wait() => match status {
                Ok(status) => break ChildEnd::Exited(status),
                Err(e) => {
                    // Kill and reap it before its cgroup and job directory go.
                    let _ = child.kill().await;
                    return Err(ServiceError::Store(format!("waiting for the run: {e}")));
                }
            },
            _ = &mut wall => break ChildEnd::WallKilled,
            _ = beat.tick() => match db.heartbeat(claim, config.lease).await {
                Ok(Some(true)) => break ChildEnd::Cancelled,
                Ok(Some(false)) => {}
                Ok(None) => break ChildEnd::LeaseLost,
                // The database may be back by the next beat; the lease outlives a few misses.
                Err(e) => tracing::warn!(id = %claim.id, error = %e, "heartbeat failed"),
            },
        }
    };
    if !matches!(end, ChildEnd::Exited(_)) {
        // Already exited is fine: kill only fails then.
        let _ = child.kill().await;
    }
    // Gone now (waited for or killed and reaped): its group can be read and removed.
    let cgroup = cgroup.as_ref();
    let tail = stderr_task.await.unwrap_or_default();
    let no_report = |outcome| ChildRun {
        outcome,
        report: None,
    };
    let run = match end {
        ChildEnd::LeaseLost => return Ok(None),
        ChildEnd::Cancelled => no_report(Outcome {
            status: Status::Cancelled,
            error: Some("cancelled while it ran".to_owned()),
            ..Outcome::failed(String::new())
        }),
        ChildEnd::WallKilled => no_report(Outcome::failed(format!(
            "the run's process was killed at the wall-clock limit of {} s",
            config.wall.as_secs()
        ))),
        ChildEnd::Exited(status) => collect(store, dir.path(), status, &tail, cgroup)?,
    };
    Ok(Some(run))
}

/// The outcome of a child that exited: its report if it wrote one, else why not.
fn collect(
    store: &BlobStore,
    dir: &Path,
    status: std::process::ExitStatus,
    stderr_tail: &[u8],
    cgroup: Option<&RunCgroup>,
) -> Result<ChildRun, ServiceError> {
    let code = status.code();
    let report_status = match code {
        Some(0) => Some(Status::Ok),
        Some(1) => Some(Status::Failed),
        Some(3) => Some(Status::Refused),
        _ => None,
    };
    let read = |name: &str| std::fs::read(dir.join(name)).ok();
    match (report_status, read(job_files::REPORT_JSON)) {
        (Some(status), Some(report)) => Ok(ChildRun {
            outcome: Outcome {
                status,
                report_sha: Some(store.put(&report)?),
                text_sha: read(job_files::REPORT_TEXT)
                    .map(|t| store.put(&t))
                    .transpose()?,
                trace_sha: read(job_files::TRACE).map(|t| store.put(&t)).transpose()?,
                exit_code: code.map(i64::from),
                error: None,
                ..Outcome::failed(String::new())
            },
            report: Some(report),
        }),
        _ => Ok(ChildRun {
            outcome: Outcome::failed(describe_death(status, stderr_tail, cgroup)),
            report: None,
        }),
    }
}

/// Why a child ended without a report, in words (its stderr is the host's, not the guest's:
/// the guest's output is captured inside the run).
fn describe_death(
    status: std::process::ExitStatus,
    stderr_tail: &[u8],
    cgroup: Option<&RunCgroup>,
) -> String {
    use std::os::unix::process::ExitStatusExt;
    let how = match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code} without a report"),
        (None, Some(9)) if cgroup.is_some_and(RunCgroup::hit_limit) => format!(
            "was killed at its memory cgroup's limit of {} bytes (the kernel's OOM killer)",
            cgroup.map_or(0, RunCgroup::limit)
        ),
        (None, Some(9)) => {
            "was killed (SIGKILL: its CPU or memory limit, or the OOM killer)".to_owned()
        }
        (None, Some(24)) => "exceeded its CPU-time limit (SIGXCPU)".to_owned(),
        (None, Some(6)) => {
            "aborted (SIGABRT, often an allocation over its memory limit)".to_owned()
        }
        (None, Some(11)) => "crashed (SIGSEGV)".to_owned(),
        (None, Some(sig)) => format!("was killed by signal {sig}"),
        (None, None) => "ended in an unknown way".to_owned(),
    };
    let tail = String::from_utf8_lossy(stderr_tail);
    let tail = tail.trim();
    if tail.is_empty() {
        format!("the run's process {how}")
    } else {
        let start = tail
            .char_indices()
            .rev()
            .nth(STDERR_TAIL_BYTES / 4)
            .map_or(0, |(i, _)| i);
        format!(
            "the run's process {how}; its last output: {}",
            &tail[start..]
        )
    }
}
