//! Suites, the service's leaderboards (ADR-0014): a named set of run configurations on one
//! topology, CCL config and policy, the metrics that rank a submission, and hidden runs whose
//! values a submitter never sees. A suite file is strict JSON (`docs/suites.md` is its
//! schema); a suite is immutable once registered, so every entry of a leaderboard was run
//! the same way.

use crate::error::ServiceError;
use crate::spec::{MAX_ARG_BYTES, MAX_ARGS, RunSpec};
use kernbench_host::model::Policy;
use kernbench_host::sim::{CclConfig, TopologySpec};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The most run configurations a suite may have (each is one child process per submission).
pub const MAX_SUITE_RUNS: usize = 16;
/// The most ranking metrics: the first orders the leaderboard, the others break ties.
pub const MAX_RANK_METRICS: usize = 3;
/// The longest suite, run or metric name, in bytes.
pub const MAX_NAME_BYTES: usize = 64;
/// The longest description.
pub const MAX_DESCRIPTION_BYTES: usize = 4096;
/// The longest suite file.
pub const MAX_SUITE_BYTES: usize = 1 << 20;

/// A suite file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suite {
    /// Its name, in URLs and `kernbench submit --suite NAME`: ASCII letters, digits, `.`,
    /// `_` and `-`.
    pub name: String,
    /// What it measures, shown on its page.
    #[serde(default)]
    pub description: String,
    /// The topology of every run (the JSON `kernbench topology` prints); the embedded default
    /// when omitted. A run's `sips` resizes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology: Option<Value>,
    /// The CCL config of every run; defaults when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ccl: Option<Value>,
    /// `"strict"` (default), `"trusted"`, or a policy file's object.
    #[serde(default = "strict_policy")]
    pub policy: Value,
    /// The run configurations, each run once per submission.
    pub runs: Vec<SuiteRun>,
    /// The metrics that rank, in order.
    pub rank: Vec<RankMetric>,
}

fn strict_policy() -> Value {
    Value::String("strict".to_owned())
}

/// One run configuration of a suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteRun {
    /// Its name, unique in the suite.
    pub name: String,
    /// The world size; the topology's own when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sips: Option<u32>,
    /// The bench's arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Seed of the ranks' random numbers.
    #[serde(default)]
    pub seed: u64,
    /// Run and ranked, but a submitter sees only whether it passed.
    #[serde(default)]
    pub hidden: bool,
}

/// A metric that ranks submissions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RankMetric {
    /// The leaderboard's column title.
    pub name: String,
    /// Where each run's value comes from.
    pub source: MetricSource,
    /// Which way is better.
    pub better: Better,
    /// How the runs' values combine into one score (default `geomean`).
    #[serde(default)]
    pub aggregate: Aggregate,
}

/// Where a run's value of a metric comes from in its report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum MetricSource {
    /// A value the bench reported with `report-metric`: each rank's mean, combined across
    /// ranks by `ranks`.
    ReportMetric {
        /// The metric's name.
        name: String,
        /// How ranks combine (default `max`: the slowest rank decides a time).
        #[serde(default)]
        ranks: AcrossRanks,
    },
    /// A collective's bus bandwidth (GB/s) in the nccl-tests summary.
    Busbw {
        /// The collective as the report names it (`all_reduce`, `all_gather`, ...).
        op: String,
        /// The message size; the largest size the run measured when omitted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        size_bytes: Option<u64>,
    },
    /// The simulated time of the slowest rank, in nanoseconds.
    SimTimeNs,
}

/// How per-rank values of a metric combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AcrossRanks {
    /// The largest.
    #[default]
    Max,
    /// The smallest.
    Min,
    /// The mean.
    Mean,
}

/// Which way a metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    /// Smaller is better (times).
    Lower,
    /// Larger is better (bandwidths).
    Higher,
}

/// How a metric's values over the runs combine into a score.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Aggregate {
    /// Geometric mean (every value must be positive): no one size dominates.
    #[default]
    Geomean,
    /// Arithmetic mean.
    Mean,
}

impl Suite {
    /// Parse and check a suite file, naming the field at fault.
    pub fn parse(bytes: &[u8]) -> Result<Suite, ServiceError> {
        if bytes.len() > MAX_SUITE_BYTES {
            return Err(ServiceError::bad(
                "suite",
                format!("longer than {MAX_SUITE_BYTES} bytes"),
            ));
        }
        let suite: Suite = serde_json::from_slice(bytes)
            .map_err(|e| ServiceError::bad("suite", format!("not a valid suite: {e}")))?;
        suite.check()?;
        suite.pinned()
    }

    /// The suite with every default written out (topology, CCL config, the policy's every
    /// limit), so that a later host with other defaults runs it exactly as registered.
    fn pinned(mut self) -> Result<Suite, ServiceError> {
        let json = |what: &str, v: Result<Value, serde_json::Error>| {
            v.map_err(|e| ServiceError::Corrupt(format!("pinning {what}: {e}")))
        };
        if self.topology.is_none() {
            self.topology = Some(json(
                "topology",
                serde_json::to_value(TopologySpec::embedded_default()),
            )?);
        }
        if self.ccl.is_none() {
            self.ccl = Some(json("ccl", serde_json::to_value(CclConfig::default()))?);
        }
        let policy = self.policy()?;
        let limits = json("policy", serde_json::to_value(&policy.limits))?;
        self.policy = serde_json::json!({ "name": policy.name, "limits": limits });
        if self.policy()? != policy {
            return Err(ServiceError::Corrupt(
                "the pinned policy does not read back as the same limits".to_owned(),
            ));
        }
        Ok(self)
    }

    fn check(&self) -> Result<(), ServiceError> {
        check_name("suite.name", &self.name)?;
        if self.description.len() > MAX_DESCRIPTION_BYTES {
            return Err(ServiceError::bad(
                "suite.description",
                format!("longer than {MAX_DESCRIPTION_BYTES} bytes"),
            ));
        }
        self.policy()?;
        if self.runs.is_empty() || self.runs.len() > MAX_SUITE_RUNS {
            return Err(ServiceError::bad(
                "suite.runs",
                format!("must have 1 to {MAX_SUITE_RUNS} runs"),
            ));
        }
        for (i, run) in self.runs.iter().enumerate() {
            check_name(&format!("suite.runs[{i}].name"), &run.name)?;
            if self.runs[..i].iter().any(|r| r.name == run.name) {
                return Err(ServiceError::bad(
                    format!("suite.runs[{i}].name"),
                    format!("{:?} names two runs", run.name),
                ));
            }
            if run.args.len() > MAX_ARGS || run.args.iter().any(|a| a.len() > MAX_ARG_BYTES) {
                return Err(ServiceError::bad(
                    format!("suite.runs[{i}].args"),
                    format!("at most {MAX_ARGS} arguments of {MAX_ARG_BYTES} bytes"),
                ));
            }
            self.run_spec(run)
                .options(self.policy()?)
                .map_err(|e| ServiceError::bad(format!("suite.runs[{i}]"), e.to_string()))?;
        }
        if self.rank.is_empty() || self.rank.len() > MAX_RANK_METRICS {
            return Err(ServiceError::bad(
                "suite.rank",
                format!("must have 1 to {MAX_RANK_METRICS} metrics"),
            ));
        }
        for (i, metric) in self.rank.iter().enumerate() {
            // A column title: free text (escaped where shown), short, one line.
            let name = &metric.name;
            if name.is_empty() || name.len() > MAX_NAME_BYTES || name.chars().any(char::is_control)
            {
                return Err(ServiceError::bad(
                    format!("suite.rank[{i}].name"),
                    format!("{name:?}: 1 to {MAX_NAME_BYTES} bytes, no control characters"),
                ));
            }
        }
        Ok(())
    }

    /// The policy every run of the suite gets.
    pub fn policy(&self) -> Result<Policy, ServiceError> {
        match &self.policy {
            Value::String(name) => Policy::builtin(name).ok_or_else(|| {
                ServiceError::bad(
                    "suite.policy",
                    format!("{name:?}: use strict, trusted, or a policy object"),
                )
            }),
            object @ Value::Object(_) => Policy::from_json(&object.to_string(), "suite.policy")
                .map_err(|e| ServiceError::bad("suite.policy", e.to_string())),
            _ => Err(ServiceError::bad(
                "suite.policy",
                "a profile name or a policy object",
            )),
        }
    }

    /// The run spec of one of the suite's runs.
    pub fn run_spec(&self, run: &SuiteRun) -> RunSpec {
        RunSpec {
            sips: run.sips,
            topology: self.topology.clone(),
            ccl: self.ccl.clone(),
            args: run.args.clone(),
            seed: run.seed,
            suite: None,
        }
    }

    /// What any signed-in caller may see of the suite: hidden runs by name only.
    pub fn public_view(&self) -> Value {
        let runs: Vec<Value> = self
            .runs
            .iter()
            .map(|run| {
                if run.hidden {
                    serde_json::json!({ "name": run.name, "hidden": true })
                } else {
                    serde_json::json!({
                        "name": run.name, "hidden": false, "sips": run.sips,
                        "args": run.args, "seed": run.seed,
                    })
                }
            })
            .collect();
        serde_json::json!({
            "name": self.name,
            "description": self.description,
            "topology": self.topology,
            "ccl": self.ccl,
            "policy": self.policy,
            "runs": runs,
            "rank": self.rank,
        })
    }
}

fn check_name(field: &str, name: &str) -> Result<(), ServiceError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ServiceError::bad(
            field,
            format!("{name:?}: 1 to {MAX_NAME_BYTES} ASCII letters, digits, `.`, `_` or `-`"),
        ))
    }
}

/// Why a run's value of a metric could not be read (the submission is then not ranked).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricError {
    /// The bench never reported the metric.
    #[error("the run reported no metric {0:?}")]
    NoReportMetric(String),
    /// The run has no such collective in its summary.
    #[error("the run's collective summary has no {op} row{}", size.map(|s| format!(" of {s} bytes")).unwrap_or_default())]
    NoCollective {
        /// The collective.
        op: String,
        /// The size asked for.
        size: Option<u64>,
    },
    /// The run wrote no report to read it from.
    #[error("the run wrote no report")]
    NoReport,
    /// The report has no ranks.
    #[error("the run's report has no ranks")]
    NoRanks,
    /// A value that cannot be aggregated (not finite, or not positive under `geomean`).
    #[error("value {value} cannot be ranked by {how}")]
    Unrankable {
        /// The metric.
        metric: String,
        /// The value.
        value: f64,
        /// The aggregate.
        how: &'static str,
    },
}

impl MetricSource {
    /// This metric's value in one run's JSON report (as `kernbench run --json` prints it).
    pub fn value(&self, report: &Value) -> Result<f64, MetricError> {
        let list = |key: &str| report[key].as_array().map_or(&[][..], Vec::as_slice);
        match self {
            MetricSource::ReportMetric { name, ranks } => {
                let values: Vec<f64> = list("metrics")
                    .iter()
                    .filter(|m| m["name"].as_str() == Some(name))
                    .filter_map(|m| m["mean"].as_f64())
                    .collect();
                if values.is_empty() {
                    return Err(MetricError::NoReportMetric(name.clone()));
                }
                Ok(match ranks {
                    AcrossRanks::Max => values.iter().copied().fold(f64::MIN, f64::max),
                    AcrossRanks::Min => values.iter().copied().fold(f64::MAX, f64::min),
                    AcrossRanks::Mean => values.iter().sum::<f64>() / values.len() as f64,
                })
            }
            MetricSource::Busbw { op, size_bytes } => {
                let rows: Vec<&Value> = list("collective_summary")
                    .iter()
                    .filter(|row| row["op"].as_str() == Some(op))
                    .collect();
                let size = match size_bytes {
                    Some(size) => Some(*size),
                    None => rows.iter().filter_map(|r| r["size_bytes"].as_u64()).max(),
                };
                rows.iter()
                    .filter(|row| size.is_some() && row["size_bytes"].as_u64() == size)
                    .filter_map(|row| row["busbw_gbytes_per_s"].as_f64())
                    .reduce(f64::max)
                    .ok_or_else(|| MetricError::NoCollective {
                        op: op.clone(),
                        size: *size_bytes,
                    })
            }
            MetricSource::SimTimeNs => list("ranks")
                .iter()
                .filter_map(|r| r["sim_time_ns"].as_u64())
                .max()
                .map(|ns| ns as f64)
                .ok_or(MetricError::NoRanks),
        }
    }
}

impl RankMetric {
    /// Whether one run's value can take part in the score (finite; positive under
    /// `geomean`).
    pub fn check(&self, value: f64) -> Result<(), MetricError> {
        let how = match self.aggregate {
            Aggregate::Geomean if !(value.is_finite() && value > 0.0) => {
                "geomean (it needs positive values)"
            }
            Aggregate::Mean if !value.is_finite() => "mean",
            _ => return Ok(()),
        };
        Err(MetricError::Unrankable {
            metric: self.name.clone(),
            value,
            how,
        })
    }

    /// Combine the runs' values into this metric's score.
    pub fn aggregate(&self, values: &[f64]) -> Result<Option<f64>, MetricError> {
        if values.is_empty() {
            return Ok(None);
        }
        let bad = |value: f64, how| MetricError::Unrankable {
            metric: self.name.clone(),
            value,
            how,
        };
        match self.aggregate {
            Aggregate::Geomean => {
                if let Some(&v) = values.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
                    return Err(bad(v, "geomean (it needs positive values)"));
                }
                if let [one] = values {
                    // Exactly the value: exp(ln(x)) is not always x.
                    return Ok(Some(*one));
                }
                let log_mean = values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64;
                Ok(Some(log_mean.exp()))
            }
            Aggregate::Mean => {
                if let Some(&v) = values.iter().find(|v| !v.is_finite()) {
                    return Err(bad(v, "mean"));
                }
                let mean = values.iter().sum::<f64>() / values.len() as f64;
                // Finite values can still sum past f64's range.
                if !mean.is_finite() {
                    return Err(bad(mean, "mean (the sum overflows)"));
                }
                Ok(Some(mean))
            }
        }
    }

    /// The score as a key that sorts ascending from best to worst.
    pub fn sort_key(&self, score: f64) -> f64 {
        match self.better {
            Better::Lower => score,
            Better::Higher => -score,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn suite(extra: Value) -> Vec<u8> {
        let mut base = json!({
            "name": "ar-8",
            "runs": [{"name": "small", "sips": 8, "args": ["-b", "8"]},
                     {"name": "secret", "sips": 4, "hidden": true}],
            "rank": [{"name": "busbw", "source": {"busbw": {"op": "all_reduce"}},
                      "better": "higher"}],
        });
        if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                base.insert(k.clone(), v.clone());
            }
        }
        serde_json::to_vec(&base).unwrap()
    }

    #[test]
    fn a_suite_file_parses_and_hides_its_hidden_runs() {
        let suite = Suite::parse(&suite(json!({}))).unwrap();
        assert_eq!(suite.policy().unwrap().name, "strict");
        let view = suite.public_view();
        assert_eq!(view["runs"][1], json!({"name": "secret", "hidden": true}));
        assert_eq!(view["runs"][0]["args"], json!(["-b", "8"]));
    }

    #[test]
    fn a_registered_suite_pins_every_default() {
        for profile in ["strict", "trusted"] {
            let suite = Suite::parse(&suite(json!({ "policy": profile }))).unwrap();
            assert_eq!(suite.policy().unwrap(), Policy::builtin(profile).unwrap());
            assert!(suite.policy["limits"].is_object(), "{}", suite.policy);
            assert!(suite.topology.is_some() && suite.ccl.is_some());
            // Pinning is idempotent: the stored file parses to itself.
            let again = Suite::parse(&serde_json::to_vec(&suite).unwrap()).unwrap();
            assert_eq!(again, suite);
        }
    }

    #[test]
    fn every_mistake_names_its_field() {
        for (extra, field) in [
            (json!({"name": "a b"}), "suite.name"),
            (json!({"policy": "lenient"}), "suite.policy"),
            (json!({"runs": []}), "suite.runs"),
            (
                json!({"runs": [{"name": "x"}, {"name": "x"}]}),
                "suite.runs[1].name",
            ),
            (
                json!({"runs": [{"name": "x", "sips": 100000}]}),
                "suite.runs[0]",
            ),
            (json!({"rank": []}), "suite.rank"),
            (json!({"colour": 1}), "colour"),
        ] {
            let err = Suite::parse(&suite(extra.clone())).unwrap_err();
            assert!(err.to_string().contains(field), "{extra}: {err}");
        }
    }

    #[test]
    fn metrics_read_the_report_and_refuse_what_is_missing() {
        let report = json!({
            "metrics": [{"rank": 0, "name": "step_ns", "mean": 10.0},
                        {"rank": 1, "name": "step_ns", "mean": 30.0}],
            "collective_summary": [
                {"op": "all_reduce", "size_bytes": 8, "busbw_gbytes_per_s": 1.0},
                {"op": "all_reduce", "size_bytes": 1024, "busbw_gbytes_per_s": 5.0}],
            "ranks": [{"sim_time_ns": 7}, {"sim_time_ns": 9}],
        });
        let metric = |name: &str, ranks| MetricSource::ReportMetric {
            name: name.to_owned(),
            ranks,
        };
        assert_eq!(metric("step_ns", AcrossRanks::Max).value(&report), Ok(30.0));
        assert_eq!(
            metric("step_ns", AcrossRanks::Mean).value(&report),
            Ok(20.0)
        );
        assert!(metric("nope", AcrossRanks::Max).value(&report).is_err());
        let busbw = |size_bytes| MetricSource::Busbw {
            op: "all_reduce".to_owned(),
            size_bytes,
        };
        assert_eq!(busbw(None).value(&report), Ok(5.0));
        assert_eq!(busbw(Some(8)).value(&report), Ok(1.0));
        assert!(busbw(Some(9)).value(&report).is_err());
        assert_eq!(MetricSource::SimTimeNs.value(&report), Ok(9.0));
    }

    #[test]
    fn scores_aggregate_and_sort_best_first() {
        let metric = RankMetric {
            name: "busbw".to_owned(),
            source: MetricSource::SimTimeNs,
            better: Better::Higher,
            aggregate: Aggregate::Geomean,
        };
        let score = metric.aggregate(&[2.0, 8.0]).unwrap().unwrap();
        assert!((score - 4.0).abs() < 1e-12);
        assert!(metric.sort_key(8.0) < metric.sort_key(4.0));
        assert!(metric.aggregate(&[0.0]).is_err());
        assert_eq!(metric.aggregate(&[]), Ok(None));
    }
}
