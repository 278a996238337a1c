//! `kernbench run-job DIR`: the run mode of a worker's child process. It bounds itself
//! (rlimits) before it reads anything, runs the job's component under the policy its worker wrote (strict unless a suite says otherwise)
//! through the host library, and leaves the reports and the trace in DIR. Its exit status
//! is `kernbench run`'s; anything else tells the worker the run died.

use super::run::exit_status;
use anyhow::{Context, Result};
use clap::Args;
use kernbench_host::model::Policy;
use kernbench_host::report::{RunReport, render_text, trace_events};
use kernbench_service::sandbox::ChildLimits;
use kernbench_service::spec::RunSpec;
use kernbench_service::worker::job_files;
use std::path::PathBuf;

/// Arguments of `kernbench run-job` (started by a worker, not by hand).
#[derive(Debug, Args)]
pub struct JobArgs {
    /// The job directory (spec.json, component.wasm in; report.json, report.txt, trace.json out).
    dir: PathBuf,
    /// The bench's name in the report.
    #[arg(long)]
    bench_name: String,
    /// RLIMIT_DATA of this process.
    #[arg(long)]
    memory_bytes: u64,
    /// RLIMIT_CPU of this process.
    #[arg(long)]
    cpu_secs: u64,
    /// RLIMIT_NOFILE of this process.
    #[arg(long)]
    open_files: u64,
    /// The `cgroup.procs` of the run's memory cgroup, joined first.
    #[arg(long)]
    cgroup_procs: Option<PathBuf>,
}

/// Run one job.
pub fn run_job(args: JobArgs) -> Result<u8> {
    if let Some(procs) = &args.cgroup_procs {
        kernbench_service::cgroup::join(procs)
            .with_context(|| format!("joining the run's cgroup ({})", procs.display()))?;
    }
    ChildLimits {
        memory_bytes: args.memory_bytes,
        cpu_secs: args.cpu_secs,
        open_files: args.open_files,
    }
    .apply()
    .context("setting the run's resource limits")?;
    let path = |name: &str| args.dir.join(name);
    let spec = std::fs::read(path(job_files::SPEC)).context("reading the job's spec")?;
    let policy = std::fs::read(path(job_files::POLICY)).context("reading the job's policy")?;
    let policy: Policy = serde_json::from_slice(&policy).context("parsing the job's policy")?;
    let options = RunSpec::parse(&spec)?.options(policy)?;
    // As `kernbench run` names a component: its file stem.
    let name = std::path::Path::new(&args.bench_name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(&args.bench_name)
        .to_owned();
    let finished =
        kernbench_host::runtime::run_file(&name, &path(job_files::COMPONENT), options, None)?;
    let report = RunReport::from_finished(finished);
    let trace = serde_json::to_vec(&trace_events(&report)).context("serializing the trace")?;
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(path(name), bytes).with_context(|| format!("writing {name}"))
    };
    // The trace and the text first: report.json is what tells the worker the run finished.
    write(job_files::TRACE, &trace)?;
    write(job_files::REPORT_TEXT, render_text(&report).as_bytes())?;
    write(
        job_files::REPORT_JSON,
        format!("{}\n", report.to_json()).as_bytes(),
    )?;
    Ok(exit_status(&report))
}
