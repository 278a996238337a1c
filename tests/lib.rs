//! Helpers for the host-level integration tests: run a built component on N SIPs and get its
//! report, with compiled components cached under the target directory.

use anyhow::{Context, Result};
use kernbench_host::model::{Policy, RunOptions};
use kernbench_host::report::{RankStatus, RunReport, RunStatus};
use kernbench_host::runtime::{BenchEngine, EngineOptions, LoadedBench};
use kernbench_host::sim::{Topology, TopologySpec};
use std::path::{Path, PathBuf};

pub use kernbench_test_artifacts as artifacts;

/// Where tests cache compiled components: inside the target directory, never `$HOME`.
pub fn cache_dir() -> PathBuf {
    PathBuf::from(artifacts::GUEST_TARGET_DIR).join("component-cache")
}

/// The embedded default topology with `sips` SIPs.
pub fn topology(sips: u32) -> Topology {
    let mut spec = TopologySpec::embedded_default();
    spec.system.sips.count = sips;
    spec.validate("test").unwrap_or_else(|e| panic!("{e}"))
}

/// An engine with room for `max_ranks`, counting fuel so strict policies can run on it.
pub fn engine(max_ranks: u32) -> BenchEngine {
    BenchEngine::new(EngineOptions {
        max_ranks,
        cache_dir: Some(cache_dir()),
        fuel: true,
        ..EngineOptions::default()
    })
    .unwrap_or_else(|e| panic!("engine: {e:#}"))
}

/// Load the component at `path` and run it with `options`.
pub fn run_with(path: &str, options: RunOptions) -> Result<RunReport> {
    let engine = engine(options.topology.sips());
    run_on(&engine, path, options)
}

/// Load and run on an existing engine (several runs in one process).
pub fn run_on(engine: &BenchEngine, path: &str, options: RunOptions) -> Result<RunReport> {
    let bench = load(engine, path, &options.policy)?;
    let outcome = kernbench_host::runtime::run(engine, &bench, options)?;
    Ok(RunReport::from_outcome(outcome))
}

/// Load (check, compile, link) the component at `path` under `policy`.
pub fn load(engine: &BenchEngine, path: &str, policy: &Policy) -> Result<LoadedBench> {
    let name = Path::new(path)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("bench");
    let bytes = std::fs::read(path).with_context(|| format!("reading {path}"))?;
    Ok(engine.load(name, &bytes, policy)?)
}

/// Options for `sips` SIPs under the `strict` policy with `args`.
pub fn strict(sips: u32, args: &[&str]) -> RunOptions {
    let mut options = RunOptions::new(topology(sips));
    options.policy = Policy::strict();
    options.args = args.iter().map(|a| (*a).to_owned()).collect();
    options
}

/// Run the component at `path` on `sips` SIPs with default options.
pub fn run(path: &str, sips: u32) -> RunReport {
    run_with(path, RunOptions::new(topology(sips))).unwrap_or_else(|e| panic!("run {path}: {e:#}"))
}

/// Panic with the whole report unless every rank ended ok.
pub fn assert_ok(report: &RunReport) {
    let bad: Vec<_> = report
        .ranks
        .iter()
        .filter(|r| r.status != RankStatus::Ok)
        .collect();
    assert!(
        bad.is_empty(),
        "ranks did not end ok: {bad:#?}\nfailure: {:?}",
        report.failure
    );
}

/// The run failed with `kind` on `rank`, with `needle` in the message.
pub fn assert_failure(report: &RunReport, rank: u32, kind: &str, needle: &str) {
    assert_eq!(report.status, RunStatus::Failed);
    let Some(f) = report.failure.as_ref() else {
        panic!("a failed run without a failure: {report:?}")
    };
    assert_eq!(
        (f.rank, f.kind.as_str()),
        (Some(rank), kind),
        "{}",
        f.message
    );
    assert!(
        f.message.contains(needle),
        "{needle:?} not in {:?}",
        f.message
    );
}

/// A single rank that wrote a line of 1023 `x`s thousands of times (more than 10 MiB), then
/// "last stdout line" and "last stderr line", ended ok with its output cut at the limit,
/// the head and tail kept, and one warning.
pub fn assert_output_flood_contained(report: &RunReport) {
    assert_ok(report);
    let r = &report.ranks[0];
    assert!(
        r.stdout.len() < 80 << 10,
        "stdout kept {} bytes",
        r.stdout.len()
    );
    assert!(r.stdout.starts_with(&"x".repeat(1023)));
    assert!(
        r.stdout
            .contains("bytes truncated: output limit reached ...]")
    );
    assert!(r.stdout.ends_with("last stdout line\n"), "the tail is kept");
    assert!(r.stderr.ends_with("last stderr line\n"));
    assert!(r.output_truncated_bytes > 10 << 20);
    assert_eq!(report.warnings.len(), 1);
    assert!(
        report.warnings[0].starts_with("output-truncated: rank 0 wrote "),
        "{}",
        report.warnings[0]
    );
}
