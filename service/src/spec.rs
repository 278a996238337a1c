//! The run spec a submitter sends: what `kernbench run`'s flags say, as strict JSON. The same
//! function turns it into run options in the server (to refuse a bad spec before it is
//! queued) and in the child process (to run it), so the two can never disagree.

use crate::error::ServiceError;
use kernbench_host::model::{Policy, RunOptions};
use kernbench_host::sim::ccl::resolve_world_size;
use kernbench_host::sim::{CclConfig, TopologySpec};
use serde::{Deserialize, Serialize};

/// The longest argument list a spec may carry, and the longest argument.
pub const MAX_ARGS: usize = 256;
/// See [`MAX_ARGS`].
pub const MAX_ARG_BYTES: usize = 4096;
/// The longest spec accepted, in bytes of JSON.
pub const MAX_SPEC_BYTES: usize = 1 << 20;

/// A submission's run configuration (`spec` part of `POST /submissions`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    /// Number of SIPs (ranks); the topology's own count when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sips: Option<u32>,
    /// A topology spec (the JSON `kernbench topology` prints); the embedded default when
    /// omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topology: Option<serde_json::Value>,
    /// A CCL config; defaults when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ccl: Option<serde_json::Value>,
    /// The bench's arguments (`kernbench run ... -- ARGS`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Seed of the ranks' random numbers.
    #[serde(default)]
    pub seed: u64,
    /// Run the suite of this name instead: it sets everything above.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite: Option<String>,
}

impl RunSpec {
    /// Parse a spec, naming the field at fault.
    pub fn parse(bytes: &[u8]) -> Result<RunSpec, ServiceError> {
        if bytes.len() > MAX_SPEC_BYTES {
            return Err(ServiceError::bad(
                "spec",
                format!("longer than {MAX_SPEC_BYTES} bytes"),
            ));
        }
        let spec: RunSpec = serde_json::from_slice(bytes)
            .map_err(|e| ServiceError::bad("spec", format!("not a valid run spec: {e}")))?;
        if spec.args.len() > MAX_ARGS {
            return Err(ServiceError::bad(
                "spec.args",
                format!("more than {MAX_ARGS} arguments"),
            ));
        }
        if let Some(i) = spec.args.iter().position(|a| a.len() > MAX_ARG_BYTES) {
            return Err(ServiceError::bad(
                format!("spec.args[{i}]"),
                format!("longer than {MAX_ARG_BYTES} bytes"),
            ));
        }
        if spec.suite.is_some() {
            let set = [
                ("sips", spec.sips.is_some()),
                ("topology", spec.topology.is_some()),
                ("ccl", spec.ccl.is_some()),
                ("args", !spec.args.is_empty()),
                ("seed", spec.seed != 0),
            ];
            if let Some((field, _)) = set.iter().find(|(_, set)| *set) {
                return Err(ServiceError::bad(
                    format!("spec.{field}"),
                    "not allowed with a suite: the suite sets it",
                ));
            }
        }
        Ok(spec)
    }

    /// The run options under `policy`: topology and CCL config validated, world size checked
    /// against the policy.
    pub fn options(&self, policy: Policy) -> Result<RunOptions, ServiceError> {
        let topology = match &self.topology {
            Some(value) => TopologySpec::from_json(&value.to_string(), "spec.topology")
                .map_err(|e| unprocessable("spec.topology", e))?,
            None => TopologySpec::embedded_default(),
        };
        let topology = match self.sips {
            Some(n) => topology.with_sips(n),
            None => topology,
        };
        let field = if self.sips.is_some() {
            "spec.sips"
        } else {
            "spec.topology"
        };
        let topology = topology
            .validate(field)
            .map_err(|e| unprocessable(field, e))?;
        let ccl = match &self.ccl {
            Some(value) => CclConfig::from_json(&value.to_string(), "spec.ccl")
                .map_err(|e| unprocessable("spec.ccl", e))?,
            None => CclConfig::default(),
        };
        let world =
            resolve_world_size(&topology, &ccl).map_err(|e| unprocessable("spec.ccl", e))?;
        let max = policy.limits.max_world_size;
        if world.world_size > max {
            return Err(ServiceError::Unprocessable {
                field: field.to_owned(),
                message: format!(
                    "world size {} exceeds the {} policy's max_world_size of {max}",
                    world.world_size, policy.name
                ),
            });
        }
        let mut options = RunOptions::new(topology);
        options.ccl = ccl;
        options.policy = policy;
        options.args = self.args.clone();
        options.seed = self.seed;
        Ok(options)
    }
}

fn unprocessable(field: &str, e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Unprocessable {
        field: field.to_owned(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_unknown_field_is_named() {
        let err = RunSpec::parse(br#"{"sips": 8, "sipz": 4}"#).unwrap_err();
        assert!(err.to_string().contains("sipz"), "{err}");
        assert_eq!(err.kind(), "bad-request");
    }

    #[test]
    fn a_world_above_the_policy_is_refused_naming_sips() {
        let spec = RunSpec::parse(br#"{"sips": 100000}"#).unwrap();
        let err = spec.options(Policy::strict()).unwrap_err();
        assert_eq!(err.kind(), "unprocessable");
        assert!(err.to_string().starts_with("spec.sips"), "{err}");
    }

    #[test]
    fn a_suite_spec_sets_nothing_else() {
        let err = RunSpec::parse(br#"{"suite": "ar-8", "sips": 8}"#).unwrap_err();
        assert!(err.to_string().starts_with("spec.sips"), "{err}");
        assert!(RunSpec::parse(br#"{"suite": "ar-8"}"#).is_ok());
    }

    #[test]
    fn the_default_spec_runs_on_the_embedded_topology() {
        let options = RunSpec::default().options(Policy::strict()).unwrap();
        assert_eq!(
            options.topology.sips(),
            TopologySpec::embedded_default().system.sips.count
        );
    }
}
