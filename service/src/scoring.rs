//! Scoring a suite submission (ADR-0014): the runs' ends and reports become one submission
//! outcome, the per-run results kept in the store, and, when every run passed and every
//! ranking metric could be read, the sort keys of the leaderboard. Nothing a hidden run
//! produced reaches the parts a submitter sees: only whether it passed.

use crate::db::{Outcome, Status};
use crate::error::ServiceError;
use crate::store::BlobStore;
use crate::suite::{MetricError, Suite};
use crate::worker::ChildRun;
use serde::{Deserialize, Serialize};

/// One run of a suite submission, as stored (hidden runs included).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    /// The suite run's name.
    pub name: String,
    /// Whether its values are hidden from the submitter.
    pub hidden: bool,
    /// How it ended.
    pub status: Status,
    /// `kernbench run`'s exit status for it.
    pub exit_code: Option<i64>,
    /// Its JSON report, text report and trace in the store.
    pub report_sha: Option<String>,
    /// See `report_sha`.
    pub text_sha: Option<String>,
    /// See `report_sha`.
    pub trace_sha: Option<String>,
    /// Why it has no report, if it has none.
    pub error: Option<String>,
    /// Each ranking metric's value in this run (`None`: not readable, see `metric_errors`).
    pub values: Vec<Option<f64>>,
    /// Why a metric could not be read.
    pub metric_errors: Vec<String>,
}

/// The stored result of a suite submission.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuiteResult {
    /// The suite.
    pub suite: String,
    /// The runs, in the suite's order (fewer when cancelled).
    pub runs: Vec<RunResult>,
    /// The scores.
    pub scores: Scores,
}

/// A suite submission's scores: what the leaderboard ranks and shows.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Scores {
    /// Whether it is ranked: every run passed and every metric was read.
    pub valid: bool,
    /// Why not, in words a submitter may read (a hidden run is named, never described).
    pub reason: Option<String>,
    /// Each metric aggregated over the visible runs (what everyone sees).
    pub visible: Vec<Option<f64>>,
    /// Each metric aggregated over every run, hidden ones included (what ranks; admins see
    /// it).
    pub all: Vec<Option<f64>>,
}

/// Score a suite submission's runs and store the result.
pub(crate) fn score(
    suite: &Suite,
    runs: Vec<ChildRun>,
    store: &BlobStore,
) -> Result<Outcome, ServiceError> {
    let results: Vec<RunResult> = suite
        .runs
        .iter()
        .zip(runs)
        .map(|(run, child)| run_result(suite, &run.name, run.hidden, child))
        .collect();
    let scores = scores(suite, &results);
    let failed = results.iter().find(|r| r.status != Status::Ok);
    let first_visible = results.iter().find(|r| !r.hidden);
    let cancelled =
        results.len() < suite.runs.len() || results.iter().any(|r| r.status == Status::Cancelled);
    let status = match failed {
        _ if cancelled => Status::Cancelled,
        // How a hidden run failed (crash, refusal, wall kill) is itself a value: just failed.
        Some(run) if run.hidden => Status::Failed,
        Some(run) => run.status,
        None => Status::Ok,
    };
    let error = match failed {
        _ if status == Status::Cancelled => Some("cancelled while it ran".to_owned()),
        Some(run) if run.hidden => Some(format!("hidden run {} did not pass", run.name)),
        Some(run) => Some(format!(
            "run {} ended {}{}",
            run.name,
            run.status.as_str(),
            run.error
                .as_ref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        )),
        None => None,
    };
    let mut rank = [None; 3];
    if scores.valid {
        for ((slot, metric), score) in rank.iter_mut().zip(&suite.rank).zip(&scores.all) {
            *slot = score.map(|s| metric.sort_key(s));
        }
    }
    let result = SuiteResult {
        suite: suite.name.clone(),
        runs: results.clone(),
        scores: scores.clone(),
    };
    let json = serde_json::to_vec(&result)
        .map_err(|e| ServiceError::Corrupt(format!("suite result: {e}")))?;
    let scores_json = serde_json::to_string(&scores)
        .map_err(|e| ServiceError::Corrupt(format!("scores: {e}")))?;
    Ok(Outcome {
        status,
        report_sha: first_visible.and_then(|r| r.report_sha.clone()),
        text_sha: first_visible.and_then(|r| r.text_sha.clone()),
        trace_sha: first_visible.and_then(|r| r.trace_sha.clone()),
        exit_code: match failed {
            None => Some(0),
            Some(run) if run.hidden => Some(1),
            Some(run) => run.exit_code,
        },
        error,
        suite_result_sha: Some(store.put(&json)?),
        scores: Some(scores_json),
        rank,
    })
}

fn run_result(suite: &Suite, name: &str, hidden: bool, child: ChildRun) -> RunResult {
    let report: Option<serde_json::Value> = child
        .report
        .as_deref()
        .and_then(|bytes| serde_json::from_slice(bytes).ok());
    let outcome = child.outcome;
    let mut values = Vec::with_capacity(suite.rank.len());
    let mut metric_errors = Vec::new();
    for metric in &suite.rank {
        // Each value is checked here, per run, so that a hidden run's unrankable value
        // makes that run "not passed" instead of showing in the reason.
        let value = match report.as_ref() {
            Some(report) => metric
                .source
                .value(report)
                .and_then(|v| metric.check(v).map(|()| v)),
            None => Err(MetricError::NoReport),
        };
        match value {
            Ok(value) => values.push(Some(value)),
            Err(e) => {
                // A run that failed has its failure; only an `ok` run's missing values matter.
                if outcome.status == Status::Ok {
                    metric_errors.push(format!("{}: {e}", metric.name));
                }
                values.push(None);
            }
        }
    }
    RunResult {
        name: name.to_owned(),
        hidden,
        status: outcome.status,
        exit_code: outcome.exit_code,
        report_sha: outcome.report_sha,
        text_sha: outcome.text_sha,
        trace_sha: outcome.trace_sha,
        error: outcome.error,
        values,
        metric_errors,
    }
}

fn scores(suite: &Suite, runs: &[RunResult]) -> Scores {
    let mut scores = Scores {
        valid: true,
        ..Scores::default()
    };
    let public = |run: &RunResult, what: &str| {
        if run.hidden {
            format!("hidden run {} did not pass", run.name)
        } else {
            format!("run {}: {what}", run.name)
        }
    };
    if runs.len() < suite.runs.len() {
        scores.valid = false;
        scores.reason = Some("cancelled before every run ran".to_owned());
    } else if let Some(run) = runs.iter().find(|r| r.status != Status::Ok) {
        scores.valid = false;
        scores.reason = Some(public(run, &format!("ended {}", run.status.as_str())));
    } else if let Some(run) = runs.iter().find(|r| !r.metric_errors.is_empty()) {
        scores.valid = false;
        scores.reason = Some(public(run, &run.metric_errors.join("; ")));
    }
    for (i, metric) in suite.rank.iter().enumerate() {
        let values = |visible_only: bool| -> Vec<f64> {
            runs.iter()
                .filter(|r| !(visible_only && r.hidden))
                .filter_map(|r| r.values.get(i).copied().flatten())
                .collect()
        };
        scores
            .visible
            .push(metric.aggregate(&values(true)).ok().flatten());
        match metric.aggregate(&values(false)) {
            Ok(all) => scores.all.push(all),
            Err(_) => {
                // Only a non-finite aggregate of finite values gets here; it may involve a
                // hidden run's value, so the reason names the metric, not the value.
                scores.all.push(None);
                if scores.valid {
                    scores.valid = false;
                    scores.reason =
                        Some(format!("{}: the score is not a finite number", metric.name));
                }
            }
        }
    }
    scores
}

impl SuiteResult {
    /// What a submitter may see: hidden runs reduced to their name and whether they passed,
    /// and only the visible scores.
    pub fn public_view(&self) -> serde_json::Value {
        let runs: Vec<serde_json::Value> = self
            .runs
            .iter()
            .map(|run| {
                if run.hidden {
                    serde_json::json!({
                        "name": run.name, "hidden": true, "passed": run.status == Status::Ok
                            && run.metric_errors.is_empty(),
                    })
                } else {
                    serde_json::json!({
                        "name": run.name, "hidden": false, "status": run.status,
                        "exit_code": run.exit_code, "error": run.error,
                        "values": run.values, "metric_errors": run.metric_errors,
                    })
                }
            })
            .collect();
        serde_json::json!({
            "suite": self.suite,
            "runs": runs,
            "scores": {
                "valid": self.scores.valid,
                "reason": self.scores.reason,
                "visible": self.scores.visible,
            },
        })
    }
}
