//! Turning what the runtime saw ([`RunOutcome`]) into the report: which failure ended the
//! run, report order, warnings, aggregated metrics and the nccl-tests summary.

use super::{
    HostTimings, RankReport, RankStatus, RunFailure, RunReport, RunStatus, TopologySummary,
    peak_rss_bytes, summarize,
};
use crate::model::{FailureKind, Finished, RankEnd, RankOutcome, Refusal, RunOutcome};
use crate::sim::error::human_bytes;

impl RunReport {
    /// The report of a finished request: a run, or a refusal.
    pub fn from_finished(finished: Finished) -> RunReport {
        match finished {
            Finished::Ran(outcome) => RunReport::from_outcome(outcome),
            Finished::Refused(refusal) => RunReport::refused(refusal),
        }
    }

    /// The report of a run.
    pub fn from_outcome(outcome: RunOutcome) -> RunReport {
        let output_limit = outcome.options.policy.limits.output_bytes_per_stream;
        let ranks: Vec<RankReport> = outcome.ranks.into_iter().map(rank_report).collect();
        let failure = run_failure(&ranks);
        let mut warnings: Vec<String> = ranks
            .iter()
            .filter(|r| r.output_truncated_bytes > 0)
            .map(|r| {
                format!(
                    "output-truncated: rank {} wrote {} more than its {} per-stream output limit (output_bytes_per_stream); the middle was dropped",
                    r.rank,
                    human_bytes(r.output_truncated_bytes),
                    human_bytes(output_limit)
                )
            })
            .collect();
        if outcome.regions_dropped > 0 {
            warnings.push(format!(
                "regions-dropped: {} closed regions beyond the {} the report keeps (regions_per_run) were counted, not kept",
                outcome.regions_dropped,
                outcome.regions.len()
            ));
        }
        if outcome.collectives_run > outcome.collectives.len() as u64 {
            warnings.push(format!(
                "collectives-aggregated: {} collectives ran; the report keeps the first {} records (collective_records_per_run), and the summary counts every call",
                outcome.collectives_run,
                outcome.collectives.len()
            ));
        }
        // Metric series in rank order, each rank's in the order they first arrived.
        let mut metrics = outcome.metrics;
        metrics.sort_by_key(|m| m.rank);
        // Report order follows simulated time and rank, never the host's interleaving.
        let mut regions = outcome.regions;
        regions.sort_by_key(|g| g.rank);
        let threads = outcome.options.threads.min(outcome.instances as usize);
        let options = outcome.options;
        RunReport {
            status: if failure.is_some() {
                RunStatus::Failed
            } else {
                RunStatus::Ok
            },
            bench: outcome.bench,
            launch: options.launch,
            world_size: outcome.world_size.world_size,
            world_size_source: Some(outcome.world_size.source.to_string()),
            instances: outcome.instances,
            topology: TopologySummary::from(&options.topology),
            ccl: options.ccl,
            args: options.args,
            policy: options.policy,
            seed: options.seed,
            failure,
            warnings,
            ranks,
            collective_summary: summarize(&outcome.collective_summary),
            collectives: outcome.collectives,
            collectives_run: outcome.collectives_run,
            regions,
            metrics,
            backend_aliases: outcome.backend_aliases,
            host: HostTimings {
                wall_ms: outcome.wall_ms,
                peak_rss_bytes: peak_rss_bytes(),
                threads,
            },
        }
    }

    /// The report of a component refused at load: no rank ran, `failure.rank` is null.
    pub fn refused(refusal: Refusal) -> RunReport {
        let options = refusal.options;
        RunReport {
            status: RunStatus::Failed,
            bench: refusal.bench,
            launch: options.launch,
            world_size: options.topology.sips(),
            world_size_source: None,
            instances: 0,
            topology: TopologySummary::from(&options.topology),
            ccl: options.ccl,
            args: options.args,
            policy: options.policy,
            seed: options.seed,
            failure: Some(RunFailure {
                rank: None,
                kind: refusal.error.kind().to_owned(),
                message: refusal.error.to_string(),
            }),
            warnings: Vec::new(),
            ranks: Vec::new(),
            collectives: Vec::new(),
            collectives_run: 0,
            collective_summary: Vec::new(),
            regions: Vec::new(),
            metrics: Vec::new(),
            backend_aliases: Vec::new(),
            host: HostTimings {
                wall_ms: 0.0,
                peak_rss_bytes: None,
                threads: 0,
            },
        }
    }
}

fn rank_report(r: RankOutcome) -> RankReport {
    let (status, error, error_kind, error_details) = match r.end {
        RankEnd::Ok => (RankStatus::Ok, None, None, None),
        RankEnd::Failed(f) => (RankStatus::Failed, Some(f.message), Some(f.kind), f.details),
        RankEnd::Cancelled { waiting_in } => {
            let note = match waiting_in {
                Some(call) => {
                    format!("cancelled while waiting in {call} because another rank failed")
                }
                None => "cancelled because another rank failed".to_owned(),
            };
            (RankStatus::Cancelled, Some(note), None, None)
        }
    };
    RankReport {
        rank: r.rank,
        status,
        error,
        error_kind,
        error_details,
        output_truncated_bytes: r.stdout.truncated_bytes + r.stderr.truncated_bytes,
        stdout: r.stdout.text,
        stderr: r.stderr.text,
        device: r.device,
        sim_time_ns: r.sim_time_ns,
    }
}

/// Failures arrive within one scheduling step (a deadlock fails every waiter at once), so
/// the run's failure is the lowest failed rank, except that a cause other than a deadlock
/// (say, the panic that left others waiting) is preferred over the deadlock it caused.
fn run_failure(ranks: &[RankReport]) -> Option<RunFailure> {
    let failed = || {
        ranks.iter().filter_map(|r| match (r.error_kind, &r.error) {
            (Some(kind), Some(message)) => Some((r.rank, kind, message)),
            _ => None,
        })
    };
    let (rank, kind, message) = failed()
        .find(|(_, kind, _)| *kind != FailureKind::Deadlock)
        .or_else(|| failed().next())?;
    // A deadlock is the state of several ranks: the run's failure says it once, with every
    // waiting rank's own wait; each rank's row keeps only its own.
    let message = if kind == FailureKind::Deadlock {
        let waits: Vec<&str> = failed()
            .filter(|(_, kind, _)| *kind == FailureKind::Deadlock)
            .map(|(_, _, message)| message.as_str())
            .collect();
        waits.join("; ")
    } else {
        message.clone()
    };
    Some(RunFailure {
        rank: Some(rank),
        kind: kind.name().to_owned(),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FailureKind;

    fn failed(rank: u32, kind: FailureKind, message: &str) -> RankReport {
        RankReport {
            rank,
            status: RankStatus::Failed,
            error: Some(message.to_owned()),
            error_kind: Some(kind),
            error_details: None,
            stdout: String::new(),
            stderr: String::new(),
            output_truncated_bytes: 0,
            device: None,
            sim_time_ns: 0,
        }
    }

    #[test]
    fn a_json_line_is_one_line_that_parses_back() {
        // `demo --json` prints one report per line (JSON Lines), whatever the guest wrote.
        let options = crate::model::RunOptions::new(crate::sim::Topology::embedded_default());
        let report = RunReport::refused(Refusal {
            bench: "two\nlines".into(),
            options,
            error: crate::model::LoadError::InvalidComponent("bad\nthing".into()),
        });
        let line = report.to_json_line();
        assert!(!line.contains('\n'), "{line}");
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back["bench"], "two\nlines");
        assert!(
            report.to_json().contains('\n'),
            "pretty JSON stays multi-line"
        );
    }

    #[test]
    fn a_deadlock_is_told_once_in_the_failure_and_a_cause_wins_over_it() {
        let ranks = [
            failed(0, FailureKind::Deadlock, "rank 0 waits in barrier"),
            failed(1, FailureKind::Deadlock, "rank 1 waits in barrier"),
        ];
        let f = run_failure(&ranks).unwrap();
        assert_eq!(
            (f.rank, f.kind.as_str(), f.message.as_str()),
            (
                Some(0),
                "deadlock",
                "rank 0 waits in barrier; rank 1 waits in barrier"
            )
        );
        let ranks = [
            failed(0, FailureKind::Deadlock, "rank 0 waits in barrier"),
            failed(2, FailureKind::Trap, "panicked at x.rs:1:1: boom"),
        ];
        let f = run_failure(&ranks).unwrap();
        assert_eq!((f.rank, f.kind.as_str()), (Some(2), "trap"));
    }
}
